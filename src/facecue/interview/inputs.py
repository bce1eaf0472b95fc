"""Question timelines beside the video: JSON [{start, end, text}] or CSV start,end,question."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from facecue.errors import InputError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:[.,]\d+)?)$")


@dataclass(frozen=True)
class Question:
    start_s: float
    end_s: float
    text: str


def parse_time(value: object) -> float:
    """Seconds from a number, "12.5", "MM:SS(.mmm)" or "HH:MM:SS(.mmm)" (comma decimals allowed, as in SRT)."""
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip()
        match = _CLOCK.match(text)
        if match:
            hours, minutes, secs = match.groups()
            if int(minutes) >= 60 and hours is not None:
                raise ValueError(f"minutes out of range in {text!r}")
            seconds = int(hours or 0) * 3600 + int(minutes) * 60 + float(secs.replace(",", "."))
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(f"not a time: {text!r} (use seconds or HH:MM:SS.mmm)") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"time must be zero or more seconds, not {value!r}")
    return seconds


def _question(path: Path, line: int, start: object, end: object, text: object) -> Question:
    try:
        s, e = parse_time(start), parse_time(end)
    except ValueError as exc:
        raise InputError(f"{path}, line {line}: {exc}.") from None
    if e <= s:
        raise InputError(f"{path}, line {line}: the end ({e:g} s) must come after the start ({s:g} s).")
    return Question(s, e, str(text or "").strip())


def _json_line_of(raw: str, index: int) -> int:
    """The line where the index-th top-level object of a JSON list starts (for error messages)."""
    depth, count = 0, -1
    for pos, ch in enumerate(raw):
        if ch == "{":
            depth += 1
            if depth == 1:
                count += 1
                if count == index:
                    return raw.count("\n", 0, pos) + 1
        elif ch == "}":
            depth -= 1
    return 1


def _from_json(path: Path, raw: str) -> list[Question]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}).") from None
    if isinstance(data, dict) and isinstance(data.get("questions"), list):
        data = data["questions"]
    if not isinstance(data, list):
        raise InputError(f"{path}, line 1: expected a JSON list of {{start, end, text}} objects.")
    out = []
    for i, item in enumerate(data):
        line = _json_line_of(raw, i)
        if not isinstance(item, dict) or "start" not in item or "end" not in item:
            raise InputError(f"{path}, line {line}: question {i + 1} needs 'start' and 'end'.")
        text = item.get("text", item.get("question", ""))
        out.append(_question(path, line, item["start"], item["end"], text))
    return out


def _from_csv(path: Path, raw: str) -> list[Question]:
    rows = list(csv.reader(io.StringIO(raw)))
    out = []
    for line, row in enumerate(rows, start=1):
        if not row or all(not c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if line == 1 and row[0].strip().lower() in ("start", "start_s", "begin"):
            continue  # header
        if len(row) < 2:
            raise InputError(f"{path}, line {line}: expected start,end,question.")
        out.append(_question(path, line, row[0], row[1], ",".join(row[2:])))
    return out


def read_input_text(p: Path, what: str) -> str:
    """A small text input (BOM tolerated), or InputError naming it: `what` is e.g. "the transcript"."""
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} {p} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {p}: {exc}.") from None


def load_questions(path: str | Path) -> list[Question]:
    """Questions sorted by start time; overlapping questions are an error (a moment belongs to one question)."""
    p = Path(path)
    raw = read_input_text(p, "the question timeline")
    stripped = raw.lstrip()
    questions = (
        _from_json(p, raw) if p.suffix.lower() == ".json" or stripped.startswith(("[", "{")) else _from_csv(p, raw)
    )
    if not questions:
        raise InputError(f"{p} lists no questions.")
    questions.sort(key=lambda q: q.start_s)
    for a, b in itertools.pairwise(questions):
        if b.start_s < a.end_s - 1e-6:
            raise InputError(
                f"{p}: question '{b.text or b.start_s}' starts at {b.start_s:g} s, before the previous "
                f"one ends ({a.end_s:g} s); questions must not overlap."
            )
    return questions
