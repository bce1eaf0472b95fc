"""Per-frame valence, arousal and expressivity from the seven calibrated probabilities.

Valence and arousal are expected values over a fixed placement of each label on Russell's
circumplex of affect (J. A. Russell, "A circumplex model of affect", J. Pers. Soc. Psychol. 39(6),
1980, Fig. 2). The coordinates are our reading of the nearest of his 28 affect words, scaled to
-1..1 (the same kind of placement AffectNet-style work uses to relate categories to valence and
arousal). They are a convention, not a measurement: see docs/SIGNALS.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from facecue.labels import EMOTIONS

if TYPE_CHECKING:
    from facecue.result import Result

# (valence, arousal) per label, in EMOTIONS order.
CIRCUMPLEX: dict[str, tuple[float, float]] = {
    "angry": (-0.40, 0.79),  # Russell's "angry"
    "disgust": (-0.67, 0.49),  # no "disgust" among the 28 words: placed between "distressed" and "annoyed"
    "fear": (-0.12, 0.79),  # "afraid"
    "happy": (0.89, 0.17),  # "happy"
    "sad": (-0.81, -0.40),  # "sad"
    "surprise": (0.16, 0.89),  # "astonished"
    "neutral": (0.0, 0.0),  # the centre of the circle
}
VA = np.array([CIRCUMPLEX[e] for e in EMOTIONS], np.float64)  # (7, 2)
NEUTRAL = EMOTIONS.index("neutral")
HAPPY = EMOTIONS.index("happy")
# How each label reads in a sentence ("the face looked ...").
ADJECTIVE = {
    "angry": "angry",
    "disgust": "disgusted",
    "fear": "fearful",
    "happy": "happy",
    "sad": "sad",
    "surprise": "surprised",
    "neutral": "neutral",
}
# Labels whose probability mass counts as visible discomfort (negative valence, not surprise).
DISCOMFORT_LABELS = ("angry", "disgust", "fear", "sad")
DISCOMFORT = tuple(EMOTIONS.index(e) for e in DISCOMFORT_LABELS)


def valence_arousal(probs: np.ndarray) -> np.ndarray:
    """(F, 7) probabilities -> (F, 2) expected valence and arousal (NaN rows stay NaN)."""
    return probs.astype(np.float64) @ VA


def expressivity(probs: np.ndarray) -> np.ndarray:
    """1 - p(neutral): how far the face is from a neutral reading, 0..1."""
    return 1.0 - probs[:, NEUTRAL].astype(np.float64)


def discomfort(probs: np.ndarray) -> np.ndarray:
    """p(angry) + p(disgust) + p(fear) + p(sad): mass on expressions read as discomfort."""
    return probs[:, DISCOMFORT].astype(np.float64).sum(axis=1)


def distressed(probs: np.ndarray, at: float = 0.7) -> np.ndarray:
    """(F, 7) -> (F,) bool: frames the expression model reads clearly as discomfort (>= at); False where not read.
    The behaviour summary does not count a geometric smile on these: a crying face's mouth widens too. At 0.5 the
    default model's misreadings of a smiling speaker (happyenglish_clip2) halved her smile share; at 0.7 a crying
    clip still counts none, and the smile measure stays mostly the mesh's own."""
    return np.nan_to_num(discomfort(probs), nan=0.0) >= at


def distressed_frames(result: Result) -> np.ndarray | None:
    """The candidate's frames read clearly as discomfort (no smile is counted there); None when emotions were not
    read."""
    return distressed(result.timeline.smoothed) if result.emotions else None
