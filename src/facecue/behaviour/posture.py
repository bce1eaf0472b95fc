"""Posture: lean, shoulder tilt, body motion and hand near the face, from the 33-point body landmarks.

Per frame the pipeline keeps each face's upper-body points (vision/pose.py); the four columns are computed once
the analysis ends, per track, because two of them compare a reading with others of the same person (lean with
the person's own median, motion with the previous reading). A body that is not seen gives empty cells and a
reason, never a guess. Definitions and their validation: docs/SIGNALS.md, "Behaviour signals".
"""

from __future__ import annotations

import itertools

import numpy as np

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS, POSTURE_COLUMNS
from facecue.behaviour.figures import figure
from facecue.vision.pose import HAND_POINTS, LEFT_SHOULDER, RIGHT_SHOULDER, UPPER_BODY, BodyLandmarks

# The body model is the costliest one we run (10-17 ms a crop on one core here, more than the face detector
# and mesh together), so it reads one analysed frame in every pose_stride(): about once every POSE_EVERY_S.
# On the 60 s 720p benchmark, reading it 2.5 times a second took the default analysis from 2.8 s to 4.8 s
# (21x to 12x real time); once a second costs about 0.8 s. Posture changes slowly; hand-to-face episodes
# shorter than MIN_HAND_S are not counted anyway.
POSE_EVERY_S = 1.0
MIN_BODY_SCORE = 0.5  # the model's own confidence that its crop holds a body
SEEN_AT = 0.5  # a point counts as seen when both its visibility and its in-image presence reach this
HAND_REACH = 0.5  # hand_near_face falls from 1 (a hand point on the face box) to 0 at this many box widths away
MIN_BASELINE_READINGS = 5  # lean needs this many readings of the person to know their usual shoulder width
MAX_MOTION = 20.0  # shoulder widths per second
NOT_SAMPLED = "not sampled"  # the body model did not run on this frame (see POSE_EVERY_S); no reason is written

_SHOULDERS = (UPPER_BODY.index(LEFT_SHOULDER), UPPER_BODY.index(RIGHT_SHOULDER))
_HANDS = [UPPER_BODY.index(p) for p in HAND_POINTS]
_FIRST = BEHAVIOUR_COLUMNS.index(POSTURE_COLUMNS[0])
POSTURE_SLICE = slice(_FIRST, _FIRST + len(POSTURE_COLUMNS))


def pose_stride(step: float) -> int:
    """Read the body on every n-th analysed frame, for frames `step` seconds apart."""
    return max(1, round(POSE_EVERY_S / step)) if step > 0 else 1


def upper_body(body: BodyLandmarks, read: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per face of a frame: (N, len(UPPER_BODY), 2) points, NaN where not seen, and why the body was not read
    ("" when it was, NOT_SAMPLED for faces it was not read for).

    read: (N,) bool, the faces whose body was read; body holds their landmarks, in order."""
    n = len(read)
    points = np.full((n, len(UPPER_BODY), 2), np.nan, np.float32)
    reasons = [NOT_SAMPLED] * n
    seen = body.seen(SEEN_AT)[:, UPPER_BODY]
    for k, i in enumerate(np.flatnonzero(read)):
        if body.score[k] < MIN_BODY_SCORE:
            reasons[i] = f"body not visible (pose score {body.score[k]:.2f})"
        elif not seen[k, list(_SHOULDERS)].all():
            reasons[i] = "shoulders not in view"
        else:
            reasons[i] = ""
            points[i][seen[k]] = body.points[k, UPPER_BODY][seen[k]]
    return points, tuple(reasons)


def _hand_near_face(points: np.ndarray, box: np.ndarray) -> float:
    """1 when a seen hand point lies on the face box, falling to 0 at HAND_REACH box widths from it; 0 when
    the shoulders are in view but no hand is (the hands are down or out of view, not at the face)."""
    hands = points[_HANDS]
    hands = hands[~np.isnan(hands).any(axis=1)]
    if not len(hands):
        return 0.0
    lo, hi = box[:2], box[:2] + box[2:]
    outside = np.maximum(np.maximum(lo - hands, hands - hi), 0.0)  # per axis, 0 inside the box
    distance = float(np.linalg.norm(outside, axis=1).min()) / max(float(box[2]), 1e-6)
    return float(np.clip(1.0 - distance / HAND_REACH, 0.0, 1.0))


def posture_columns(
    times: np.ndarray,
    frame_pos: np.ndarray,
    face_id: np.ndarray,
    boxes: np.ndarray,
    points: np.ndarray,
    reasons: tuple[str, ...],
    gap: float,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The posture columns of M face rows: ((M, len(POSTURE_COLUMNS)) float32, NaN where not read; per row why
    not, "" when read or when the body was not sampled on that frame).

    times: (F,) analysed frames; frame_pos, face_id, boxes: the rows' frame, track and face box; points and
    reasons from upper_body(); gap: a longer pause between two readings of a track breaks its motion series.

    lean = ln(shoulder width / the track's median shoulder width): > 0 nearer the camera than usual (leaning
    in), 0.1 is about 10 % nearer. shoulder_tilt: degrees of the line from the person's right to left shoulder,
    > 0 clockwise on screen like roll. body_motion: mean displacement of the upper-body points seen in both of
    two successive readings, in shoulder widths per second. hand_near_face: see _hand_near_face.
    """
    m = len(frame_pos)
    out = np.full((m, len(POSTURE_COLUMNS)), np.nan, np.float32)
    why = ["" if r == NOT_SAMPLED else r for r in reasons]
    read = np.array([r == "" for r in reasons], bool)
    left, right = points[:, _SHOULDERS[0]], points[:, _SHOULDERS[1]]
    width = np.linalg.norm(left - right, axis=1)
    tilt = np.degrees(np.arctan2(left[:, 1] - right[:, 1], left[:, 0] - right[:, 0]))
    lean, tilt_col, motion, hand = range(len(POSTURE_COLUMNS))
    for i in np.flatnonzero(read):
        out[i, tilt_col] = tilt[i]
        out[i, hand] = _hand_near_face(points[i], boxes[i])
    for track in np.unique(face_id[read]):
        rows = np.flatnonzero(read & (face_id == track))
        rows = rows[np.argsort(times[frame_pos[rows]], kind="stable")]
        if len(rows) >= MIN_BASELINE_READINGS:
            out[rows, lean] = np.log(width[rows] / np.median(width[rows]))
        else:
            for i in rows:
                why[i] = f"too few body readings of this person ({len(rows)}) to know their usual lean"
        for prev, i in itertools.pairwise(rows):
            dt = times[frame_pos[i]] - times[frame_pos[prev]]
            both = ~np.isnan(points[i, :, 0]) & ~np.isnan(points[prev, :, 0])
            if 0 < dt <= gap:
                shift = np.linalg.norm(points[i, both] - points[prev, both], axis=1).mean()
                # Capped: a landmark that jumps across the frame is a model slip, not a movement to average.
                out[i, motion] = min(shift / ((width[i] + width[prev]) / 2) / dt, MAX_MOTION)
    return out, tuple(why)


def join_reasons(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """Per row, both reasons ("; " between them), or whichever is not empty."""
    return tuple("; ".join(r for r in pair if r) for pair in zip(first, second, strict=True))


# Summary thresholds.
LEAN_AT = 0.1  # leaning in (out) from 10 % nearer (farther) than the person's median
MOVING_AT = 0.15  # body_motion from which a reading counts as moving (still: about 0.02-0.05 of landmark jitter)
HAND_AT = 0.5  # hand_near_face from which a hand counts as at the face
MIN_HAND_S = 2.0  # a hand-to-face episode lasts at least this long: two readings in a row (a scratch is not one)


def _column(behaviour: np.ndarray, name: str) -> np.ndarray:
    return behaviour[:, BEHAVIOUR_COLUMNS.index(name)]


def hand_episodes(times: np.ndarray, near: np.ndarray, every: float, gap: float) -> list[tuple[float, float]]:
    """(start_s, seconds) of each run of readings with hand_near_face >= HAND_AT lasting at least MIN_HAND_S;
    each reading stands for `every` seconds, and a pause longer than `gap` between readings ends a run."""
    idx = np.flatnonzero(~np.isnan(near))
    episodes: list[tuple[float, float]] = []
    start = last = None
    for i in [*idx, None]:
        at_face = i is not None and near[i] >= HAND_AT
        if start is not None and (not at_face or times[i] - times[last] > gap):
            length = times[last] - times[start] + every
            if length >= MIN_HAND_S - 1e-6:
                episodes.append((float(times[start]), float(length)))
            start = None
        if at_face:
            start = i if start is None else start
            last = i
    return episodes


def summarise_posture(times: np.ndarray, present: np.ndarray, behaviour: np.ndarray, step: float) -> dict:
    """summary.behaviour["posture"] for F analysed frames: mean lean, fidgeting, hand-to-face episodes and the time
    the face was in view but the body was not, each with the seconds of body readings behind it."""
    every = pose_stride(step) * step  # the seconds one body reading stands for
    lean, motion = _column(behaviour, "lean"), _column(behaviour, "body_motion")
    near = np.where(present, _column(behaviour, "hand_near_face"), np.nan)
    readable = present & ~np.isnan(near)
    in_view_s = float(present.sum() * step)
    read_s = min(float(readable.sum() * every), in_view_s)  # the last reading may stand for less than `every`
    leaning = lean[readable & ~np.isnan(lean)]
    moving = motion[present & ~np.isnan(motion)]
    gap = max(1.0, 2.5 * every)
    episodes = hand_episodes(times, near, every, gap)
    lean_s = len(leaning) * every
    return {
        "readable_s": round(read_s, 2),
        "lean": figure(
            leaning.mean() if len(leaning) else None,
            lean_s,
            towards_s=float((leaning >= LEAN_AT).sum() * every),
            away_s=float((leaning <= -LEAN_AT).sum() * every),
        ),
        "fidgeting": figure(
            moving.mean() if len(moving) else None,
            len(moving) * every,
            moving_s=float((moving >= MOVING_AT).sum() * every),
        ),
        "hand_to_face": figure(len(episodes) if read_s else None, read_s, at_face_s=float(sum(s for _, s in episodes))),
        "body_out_of_view": figure(
            max(0.0, 1.0 - read_s / in_view_s) if in_view_s else None,
            in_view_s,
            out_s=max(0.0, in_view_s - read_s),
        ),
    }
