"""The person's own baseline: what the model reads on this face when nothing in particular is happening.

Resting faces differ, and a photo-trained model reads some of them as stern or sad all the time. A steady
reading says more about the face and the model than about a moment, so cues, feedback and the
verbal/non-verbal check speak of changes from the person's baseline, never of the steady reading itself.
The baseline is the per-label median of the readable (smoothed) readings over the whole recording,
renormalised to sum to 1: robust to the expressive moments, which are by definition the minority.
"""

from __future__ import annotations

import numpy as np

from facecue.labels import EMOTIONS

BASELINE_MIN_S = 10.0  # readable seconds below which no baseline is given: too little to know a face's rest
METHOD = "per-label median of the readable readings over the recording, renormalised"


def baseline_probs(probs: np.ndarray, usable: np.ndarray, step_s: float) -> np.ndarray | None:
    """(7,) baseline probabilities from (F, 7) readings, or None with under BASELINE_MIN_S readable seconds."""
    readable = probs[np.asarray(usable, bool)]
    readable = readable[~np.isnan(readable).any(axis=1)]
    if len(readable) == 0 or len(readable) * step_s < BASELINE_MIN_S:
        return None
    median = np.median(readable.astype(np.float64), axis=0)
    return median / median.sum() if median.sum() > 0 else readable.mean(axis=0)


def describe(baseline: np.ndarray | None, readable_s: float) -> dict | None:
    """The baseline as result.json and the interview section record it."""
    if baseline is None:
        return None
    return {
        "method": METHOD,
        "readable_s": round(float(readable_s), 2),
        "probs": {e: round(float(v), 4) for e, v in zip(EMOTIONS, baseline, strict=True)},
        "dominant": EMOTIONS[int(np.argmax(baseline))],
    }


def relative(mean: np.ndarray, baseline: np.ndarray) -> dict:
    """Mean readings minus the baseline, per label (probability points, -1..1)."""
    return {e: round(float(m - b), 4) for e, m, b in zip(EMOTIONS, mean, baseline, strict=True)}
