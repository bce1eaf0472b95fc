"""Trends across interviews of the same candidate: expressivity, positive engagement and composure over time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facecue.errors import InputError
from facecue.interview.affect import DISCOMFORT_LABELS

METRICS = ("expressivity", "engagement", "composure", "discomfort")
# Trends compare absolute readings: the stress cue counts rises above each recording's own baseline, which is ~0 by
# construction for a face that is steadily tense, so it showed "about the same (0.00 -> 0.00)" while the mean
# discomfort reading rose from 0.22 to 0.52.
NOISE = 0.1  # changes smaller than this are within what lighting, camera and model noise produce
MIN_READABLE_S = 20.0  # interviews with less readable face than this are listed but not compared


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a readable result.json: {exc}.") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a facecue result.json.")
    interview = data.get("interview") if data.get("schema", "").startswith("facecue.result/") else data
    if not isinstance(interview, dict) or not str(interview.get("schema", "")).startswith("facecue.interview/"):
        raise InputError(f"{path} has no interview analysis (run facecue analyze on the video again).")
    if "emotions" not in interview.get("signals", ["emotions"]):
        raise InputError(f"{path} is a behaviour-only analysis: trends compare expression cues, which it did not read.")
    return {"data": data, "interview": interview}


def _recorded(doc: dict, key: str) -> str | None:
    value = doc["interview"].get(key)
    if value is None and key == "purpose":
        value = (doc["data"].get("summary") or {}).get("policy", {}).get("purpose")
    return value or None


def _only_value(paths: list[Path], values: list[str | None], what: str, advice: str) -> str | None:
    """The one value the results record (None when none does); different ones are refused, naming each."""
    known = {v for v in values if v is not None}
    if len(known) > 1:
        listing = ", ".join(f"{p}: {v}" for p, v in zip(paths, values, strict=True) if v is not None)
        raise InputError(f"these results {what} ({listing}); {advice}")
    return known.pop() if known else None


def _emotion_model(doc: dict) -> str | None:
    """The emotion model that read a result ('facecue-emotion 2.3.0 (a989540d)'), or None where none is recorded."""
    model = (doc["data"].get("models") or {}).get("emotion") or {}
    if not model.get("name"):
        return None
    return f"{model['name']} {model.get('version', '?')} ({str(model.get('sha256') or '?')[:8]})"


def _row(path: Path, doc: dict) -> dict:
    overall = doc["interview"]["overall"]
    cues = overall.get("cues") or {}
    row = {
        "path": str(path),
        "analysed_at": (doc["data"].get("summary") or {}).get("analysed_at"),
        "source_sha256": (doc["data"].get("source") or {}).get("sha256"),
        "usable_s": overall.get("usable_s"),
        "expressivity": overall.get("expressivity"),
    }
    for name in ("engagement", "composure"):
        row[name] = cues[name]["value"] if cues.get(name) else None
        row[f"{name}_confidence"] = cues[name]["confidence"] if cues.get(name) else None
    probs = overall.get("mean_probs") or {}
    row["discomfort"] = round(sum(probs[k] for k in DISCOMFORT_LABELS), 3) if probs else None
    row["compared"] = bool(row["usable_s"] and row["usable_s"] >= MIN_READABLE_S)
    return row


def _describe(metric: str, values: list[float]) -> dict:
    arr = np.array(values, np.float64)
    change = float(arr[-1] - arr[0])
    slope = float(np.polyfit(np.arange(len(arr)), arr, 1)[0]) if len(arr) > 1 else 0.0
    spread = float(arr.std())
    direction = "about the same" if abs(change) < NOISE else "higher" if change > 0 else "lower"
    consistency = "consistent" if spread < NOISE else "varied"
    label = {
        "expressivity": "expressivity",
        "engagement": "visible positive engagement",
        "composure": "composure",
        "discomfort": "mean discomfort",
    }[metric]
    # Every interview's value, so a middle one is not hidden behind the first and the last.
    values_text = " -> ".join(f"{v:.2f}" for v in arr)
    than = "as" if direction == "about the same" else "than"
    text = (
        f"The {label} reading was {direction} in the last interview {than} in the first ({values_text}); "
        f"across interviews it was {consistency} (spread {spread:.2f})."
    )
    return {
        "first": round(float(arr[0]), 3),
        "last": round(float(arr[-1]), 3),
        "change": round(change, 3),
        "slope_per_interview": round(slope, 3),
        "spread": round(spread, 3),
        "direction": direction,
        "consistency": consistency,
        "text": text,
    }


def compare_interviews(paths: list[str | Path]) -> dict:
    """Interviews in the order given (oldest first); refuses different recorded candidates, purposes or emotion
    models."""
    if len(paths) < 2:
        raise InputError("trends need at least two result.json files of the same candidate.")
    ps = [Path(p) for p in paths]
    docs = [_load(p) for p in ps]
    same = "trends compare one candidate's interviews for one purpose."
    subject = _only_value(ps, [_recorded(d, "subject_id") for d in docs], "belong to different candidates", same)
    purpose = _only_value(ps, [_recorded(d, "purpose") for d in docs], "belong to different purposes", same)
    # Results read by different emotion models do not compare: a model change moves every cue (v2 reads the stress
    # cue on about half as many faces as v1), so a trend would show the model, not the candidate.
    emotion_model = _only_value(
        ps,
        [_emotion_model(d) for d in docs],
        "were read by different emotion models",
        "analyse the older recordings again with the same --model before comparing them.",
    )
    rows = [_row(p, d) for p, d in zip(ps, docs, strict=False)]
    compared = [r for r in rows if r["compared"]]
    trends = {}
    if len(compared) >= 2:
        for metric in METRICS:
            values = [r[metric] for r in compared if r[metric] is not None]
            if len(values) >= 2:
                trends[metric] = _describe(metric, values)
    caveats = [
        "Interviews are compared in the order given; put the oldest first.",
        f"Changes smaller than {NOISE} are within what lighting, camera, framing and model noise produce.",
        (
            "These numbers describe what the face showed in each recording, not confidence, ability or character; "
            "a different question set alone can change them."
        ),
    ]
    if subject is None:
        caveats.append(
            "No candidate id is recorded in these results, so facecue cannot check that they are the "
            "same person; that is the user's responsibility."
        )
    skipped = [r["path"] for r in rows if not r["compared"]]
    if skipped:
        caveats.append(
            f"{len(skipped)} interview(s) had under {MIN_READABLE_S:g} s of readable face and were not "
            "compared: " + ", ".join(skipped) + "."
        )
    if len(compared) < 2:
        caveats.append("Fewer than two interviews had enough readable face: no trend is reported.")
    return {
        "schema": "facecue.trends/2",  # /2: `discomfort` (absolute) replaced `stress`
        "subject_id": subject,
        "purpose": purpose,
        "emotion_model": emotion_model,
        "interviews": rows,
        "trends": trends,
        "caveats": caveats,
    }
