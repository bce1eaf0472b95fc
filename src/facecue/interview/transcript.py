"""Transcripts (WebVTT, SRT) as timed utterances with speakers; which speaker is the candidate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from facecue.errors import InputError
from facecue.interview.inputs import parse_time, read_input_text

_ARROW = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+([^>]+)>")
_TAG = re.compile(r"<[^>]*>")
# "Name: words" — a short capitalised label before a colon; not "Note: 10:30" style times.
_PREFIX = re.compile(r"^\s*([A-Z][\w .'-]{0,30}?)\s*:\s+(.*)$")


@dataclass(frozen=True)
class Utterance:
    start_s: float
    end_s: float
    speaker: str | None
    text: str


def _cue_time(path: Path, line: int, text: str) -> float:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise InputError(f"{path}, line {line}: {exc}.") from None


def _speaker_and_text(lines: list[str]) -> tuple[str | None, str]:
    joined = " ".join(s.strip() for s in lines if s.strip())
    speaker = None
    voice = _VOICE.search(joined)
    if voice:
        speaker = voice.group(1).strip()
    text = _TAG.sub("", joined).strip()
    if speaker is None:
        prefix = _PREFIX.match(text)
        if prefix:
            speaker, text = prefix.group(1).strip(), prefix.group(2).strip()
    return speaker, re.sub(r"\s+", " ", text)


def parse_transcript(path: str | Path) -> list[Utterance]:
    """Utterances in time order from a .vtt or .srt file (format told by the header, else the suffix)."""
    p = Path(path)
    raw = read_input_text(p, "the transcript")
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_vtt = lines[0].startswith("WEBVTT")
    if not is_vtt and p.suffix.lower() == ".vtt":
        raise InputError(f"{p}, line 1: a WebVTT file must start with 'WEBVTT'.")
    utterances: list[Utterance] = []
    i = 1 if is_vtt else 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        if is_vtt and block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        arrow_at = next((k for k, s in enumerate(block[:2]) if "-->" in s), None)
        if arrow_at is None:
            raise InputError(f"{p}, line {block_start + 1}: expected a cue timing 'start --> end'.")
        line_no = block_start + arrow_at + 1
        match = _ARROW.match(block[arrow_at])
        if not match:
            raise InputError(f"{p}, line {line_no}: cannot read the cue timing '{block[arrow_at].strip()}'.")
        start, end = _cue_time(p, line_no, match.group(1)), _cue_time(p, line_no, match.group(2))
        if end <= start:
            raise InputError(f"{p}, line {line_no}: the cue ends ({end:g} s) before it starts ({start:g} s).")
        speaker, text = _speaker_and_text(block[arrow_at + 1 :])
        if text:
            utterances.append(Utterance(start, end, speaker, text))
    if not utterances:
        raise InputError(f"{p} holds no cues with text.")
    utterances.sort(key=lambda u: u.start_s)
    return utterances


def pick_candidate(utterances: list[Utterance], speaker: str | None = None) -> tuple[str | None, list[Utterance]]:
    """The candidate's utterances: the named speaker, else the one who speaks longest; all when unlabelled."""
    talk: dict[str, float] = {}
    for u in utterances:
        if u.speaker:
            talk[u.speaker] = talk.get(u.speaker, 0.0) + (u.end_s - u.start_s)
    if speaker is not None:
        matches = {name for name in talk if name.casefold() == speaker.casefold()}
        if not matches:
            known = ", ".join(sorted(talk)) or "none (the transcript has no speaker labels)"
            raise InputError(f"speaker '{speaker}' does not appear in the transcript; speakers: {known}.")
        name = matches.pop()
    elif talk:
        name = max(talk, key=talk.__getitem__)
    else:
        return None, list(utterances)
    return name, [u for u in utterances if u.speaker == name]
