"""Derived cues that describe the face — visible discomfort, positive engagement, composure — with confidence.

Each cue is a share or a spread over the span's readable frames, a level word, a sentence about
the face ("the face showed ..."), never about the person, and a confidence built from:
  quantity    = min(1, readable seconds / FULL_DATA_S)
  reliability = (1 - ECE) x mean validation recall of the labels the cue relies on (model sidecar)
  agreement   = 1 - |value in the first half - value in the second half| (split-half consistency)
confidence = quantity x reliability x agreement. See docs/SIGNALS.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from facecue.interview.affect import DISCOMFORT_LABELS
from facecue.interview.frames import InterviewFrames

if TYPE_CHECKING:
    from facecue.emotion.model import ModelValidation

FULL_DATA_S = 20.0  # readable seconds at which data quantity stops limiting confidence
DISCOMFORT_P = 0.5  # a frame shows discomfort when angry+disgust+fear+sad >= this...
DISCOMFORT_RISE = 0.2  # ...and at least this much above the person's own baseline (when there is one)
SMILE_P = 0.5  # a frame shows a smile / happy expression when p(happy) >= this
COMPOSURE_SPREAD = 0.4  # valence standard deviation at which composure reaches 0
SHARE_LEVELS = ((0.10, "little"), (0.30, "some"), (1.01, "marked"))
COMPOSURE_LEVELS = ((0.4, "variable"), (0.7, "mostly steady"), (1.01, "steady"))
CONFIDENCE_LEVELS = ((0.35, "low"), (0.6, "moderate"), (1.01, "high"))
STRESS_NOT_MEASURED_TEXT = (
    "Not measured: there was too little readable face to learn this person's usual expression, and without it "
    "a steady reading may be nothing more than their resting face."
)
SUPPORT_N = 5  # supporting frame times per cue
SUPPORT_SPACING_S = 1.0
NO_VALIDATION_RELIABILITY = 0.5
CUE_LABELS = {
    "stress": DISCOMFORT_LABELS,
    "engagement": ("happy",),
    "composure": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
}


def level(value: float, table: tuple[tuple[float, str], ...]) -> str:
    return next(name for bound, name in table if value < bound)


def reliability(validation: ModelValidation | None, cue: str) -> float:
    """How far the model can be trusted on the labels a cue uses, from its validation record."""
    if validation is None or not validation.per_class_recall:
        return NO_VALIDATION_RELIABILITY
    recall = np.mean([validation.per_class_recall.get(e, 0.0) for e in CUE_LABELS[cue]])
    ece = validation.ece if validation.ece is not None else 0.1
    return float(np.clip((1 - ece) * recall, 0, 1))


def support_times(fr: InterviewFrames, idx: np.ndarray, score: np.ndarray) -> list[float]:
    """Up to SUPPORT_N frame times with the highest score, at least SUPPORT_SPACING_S apart."""
    picked: list[float] = []
    for k in np.argsort(-score, kind="stable"):
        t = float(fr.times[idx[k]])
        if all(abs(t - p) >= SUPPORT_SPACING_S for p in picked):
            picked.append(round(t, 2))
            if len(picked) == SUPPORT_N:
                break
    return sorted(picked)


def _share(flags: np.ndarray) -> float:
    return float(flags.mean()) if len(flags) else 0.0


def _composure(valence: np.ndarray) -> float:
    return float(np.clip(1 - valence.std() / COMPOSURE_SPREAD, 0, 1)) if len(valence) > 1 else 1.0


def _confidence(fr: InterviewFrames, n: int, halves: tuple[float, float], cue: str, validation) -> dict:
    quantity = min(1.0, n * fr.step_s / FULL_DATA_S)
    agreement = 1 - abs(halves[0] - halves[1])
    value = round(quantity * reliability(validation, cue) * agreement, 3)
    lvl = level(value, CONFIDENCE_LEVELS)
    if quantity < 1 and lvl == "high":
        lvl = "moderate"  # under FULL_DATA_S of readable face every cue is tentative (the notes say so): never "high"
    return {
        "confidence": value,
        "confidence_level": lvl,
        "confidence_parts": {
            "quantity": round(quantity, 3),
            "reliability": round(reliability(validation, cue), 3),
            "agreement": round(agreement, 3),
        },
    }


def derive_cues(fr: InterviewFrames, m: np.ndarray, validation: ModelValidation | None = None) -> dict:
    """stress, engagement and composure for the frames in mask m (None for each when nothing is readable)."""
    idx = np.flatnonzero(m & fr.usable)
    if len(idx) < 2:
        return {"stress": None, "engagement": None, "composure": None}
    first, second = np.array_split(np.arange(len(idx)), 2)
    out: dict[str, dict | None] = {}

    # A resting face the model reads as stern is the person's baseline, not stress: only rises above it count.
    # Without a baseline (too little readable face to learn it) a steady stern reading cannot be told from a
    # tense moment, so the cue is not measured rather than read from absolute probabilities.
    if fr.baseline is None:
        out["stress"] = {
            "value": None,
            "level": "not measured",
            "relative_to_baseline": False,
            "text": STRESS_NOT_MEASURED_TEXT,
            "support_s": [],
            "confidence": None,
            "confidence_level": None,
        }
    else:
        dis = fr.discomfort[idx]
        flags = (dis >= DISCOMFORT_P) & (dis - fr.baseline_discomfort >= DISCOMFORT_RISE)
        value = _share(flags)
        lvl = level(value, SHARE_LEVELS)
        out["stress"] = {
            "value": round(value, 3),
            "level": lvl,
            "relative_to_baseline": True,
            "text": "The face showed expressions read as anger, disgust, fear or sadness more than its own usual "
            f"reading in {value:.0%} of readable moments ({lvl}).",
            "support_s": support_times(fr, idx[flags], dis[flags]),
            **_confidence(fr, len(idx), (_share(flags[first]), _share(flags[second])), "stress", validation),
        }

    happy = fr.happy[idx]
    flags = happy >= SMILE_P
    value = _share(flags)
    lvl = level(value, SHARE_LEVELS)
    out["engagement"] = {
        "value": round(value, 3),
        "level": lvl,
        # Named as the expression model's reading: the behaviour panel's smile share measures the mouth's shape,
        # and "smiles … in 0%" beside "Smiled in 33%" read as a contradiction.
        "text": f"The expression model read the face as happy in {value:.0%} of readable moments ({lvl}).",
        "support_s": support_times(fr, idx[flags], happy[flags]),
        **_confidence(fr, len(idx), (_share(flags[first]), _share(flags[second])), "engagement", validation),
    }

    val = fr.valence[idx]
    value = _composure(val)
    lvl = level(value, COMPOSURE_LEVELS)
    jumps = np.abs(np.diff(val, prepend=val[0]))
    out["composure"] = {
        "value": round(value, 3),
        "level": lvl,
        "text": f"The face's expression was {lvl} (valence varied with a spread of {val.std():.2f} on a -1..1 scale).",
        "support_s": support_times(fr, idx, jumps) if lvl != "steady" else [],
        **_confidence(fr, len(idx), (_composure(val[first]), _composure(val[second])), "composure", validation),
    }
    return out
