"""Per-face observable behaviour in one frame, measured from the face mesh: no emotion is inferred here.

Each facial action is a 0..1 scale of one raw geometric quantity (behaviour/geometry.py): 0 at the median
of FER2013 training faces labelled neutral, 1 at a strong version of the movement (about the 95th percentile
of the faces labelled with the expression that shows it most). The anchors were read from FER2013 Training
faces (`bench/behaviour_fer.py --split Training --limit 6000 --calibrate` prints the percentiles); the
validation in docs/SIGNALS.md uses the PublicTest split only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from facecue.behaviour.columns import ACTION_COLUMNS, BEHAVIOUR_COLUMNS, GAZE_COLUMNS
from facecue.behaviour.gaze import measure_gaze
from facecue.behaviour.geometry import raw_features
from facecue.vision.iris import Irises
from facecue.vision.landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER, FaceLandmarks

# Beyond these head angles the far half of the face is foreshortened or hidden and the mesh guesses it.
MAX_YAW, MAX_PITCH = 35.0, 30.0
# Below this eye span (outer corners, pixels) eyelids and lip edges are a pixel or two thick.
MIN_EYE_SPAN_PX = 24.0


def _scale(value: np.ndarray, zero: float, one: float) -> np.ndarray:
    return np.clip((value - zero) / (one - zero), 0.0, 1.0)


def smile_score(mouth_width: np.ndarray, corner_lift: np.ndarray) -> np.ndarray:
    """0..1. The corners must rise (AU12): a mouth stretched wide with level corners (AU20, crying or fear) scored a
    half smile when width and lift were averaged, so width now scales the lift instead of adding to it."""
    return _scale(corner_lift, -0.01, 0.05) * (0.5 + 0.5 * _scale(mouth_width, 0.54, 0.70))


def facial_actions(points: np.ndarray) -> np.ndarray:
    """(N, 468, 3) mesh points -> (N, len(ACTION_COLUMNS)) values in 0..1 (formulas in docs/SIGNALS.md)."""
    f = raw_features(points)
    closed_mouth = f["mouth_gap"] < 0.05
    actions = {
        "eyes_closed": _scale(f["ear"], 0.22, 0.10),
        "smile": smile_score(f["mouth_width"], f["corner_lift"]),
        "brow_raise": _scale(f["brow_height"], 0.26, 0.34),
        "brow_lower": 0.5 * _scale(f["brow_height"], 0.26, 0.206) + 0.5 * _scale(f["inner_brow_gap"], 0.332, 0.303),
        "mouth_open": _scale(f["mouth_gap"], 0.03, 0.30),
        "lip_press": np.where(closed_mouth, _scale(f["lip_thickness"], 0.195, 0.14), 0.0),
        "eye_widen": _scale(f["ear"], 0.29, 0.40),
    }
    return np.stack([actions[c] for c in ACTION_COLUMNS], axis=1).astype(np.float32)


def measure_behaviour(
    landmarks: FaceLandmarks, unreadable: list[str], irises_of: Callable[[np.ndarray], Irises] | None = None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Behaviour of N faces: ((N, len(BEHAVIOUR_COLUMNS)) float32, NaN where not read; per face the reason
    its facial actions (then nothing is read) or else its gaze could not be read, "" when everything was).

    unreadable: per face, a reason the whole face cannot be read (e.g. the mesh did not confirm a face), or "".
    irises_of: the iris model on the given (K, 468, 3) meshes; called only for faces whose mesh is readable,
    since the iris model is the costly part. Without it the gaze columns stay empty.
    """
    n = len(landmarks)
    values = np.full((n, len(BEHAVIOUR_COLUMNS)), np.nan, np.float32)
    reasons = list(unreadable)
    if n == 0:
        return values, ()
    span = np.linalg.norm(landmarks.points[:, LEFT_EYE_OUTER, :2] - landmarks.points[:, RIGHT_EYE_OUTER, :2], axis=1)
    yaw, pitch = landmarks.pose[:, 0], landmarks.pose[:, 1]
    for i in range(n):
        if reasons[i]:
            continue
        if abs(yaw[i]) > MAX_YAW or abs(pitch[i]) > MAX_PITCH:
            reasons[i] = f"head turned too far to read facial actions (yaw {yaw[i]:.0f}°, pitch {pitch[i]:.0f}°)"
        elif span[i] < MIN_EYE_SPAN_PX:
            reasons[i] = f"face too small to read facial actions (eyes {span[i]:.0f} px apart)"
    readable = np.array([not r for r in reasons], bool)
    if readable.any():
        first = len(GAZE_COLUMNS)
        actions = facial_actions(landmarks.points[readable])
        values[readable, first : first + len(ACTION_COLUMNS)] = actions
        if irises_of is not None:
            points = landmarks.points[readable]
            gaze, why = measure_gaze(points, irises_of(points), actions[:, ACTION_COLUMNS.index("eyes_closed")])
            values[readable, :first] = gaze
            for i, r in zip(np.flatnonzero(readable), why, strict=True):
                reasons[i] = r
    return values, tuple(reasons)
