"""The candidate's behaviour over an interview or one part of it: shares, counts and the seconds behind each.

Every figure is reported with the readable seconds it rests on, and is None (with the reason) when there is
nothing readable to base it on. Nothing here names an emotion or a trait: a smile is a smile.
"""

from __future__ import annotations

import numpy as np

from facecue.behaviour.columns import ACTION_COLUMNS, BEHAVIOUR_COLUMNS
from facecue.behaviour.figures import figure
from facecue.behaviour.gaze_summary import gaze_figures
from facecue.behaviour.posture import summarise_posture

SMILE_AT = 0.5  # a frame counts as smiling from this smile score on
CLOSED_AT = 0.5  # and as eyes closed from this eyes_closed score on
BLINK_MIN_FPS = 10.0  # blinks last 0.1-0.4 s: sparser sampling misses many of them
TURN_DEG = 6.0  # a nod or shake swings the head at least this far each way
SWING_MAX_S = 0.8  # ... and each swing takes at most this long (slower turns are looking elsewhere)


def _col(name: str) -> int:
    return BEHAVIOUR_COLUMNS.index(name)


def turning_points(values: np.ndarray, threshold: float) -> list[int]:
    """Indices where a series turns, keeping only swings of at least `threshold` (a zigzag filter: noise
    smaller than the threshold never makes a turn). Consecutive indices alternate between lows and highs."""
    points: list[int] = []
    lo = hi = extreme = 0
    direction = 0  # +1 rising, -1 falling, 0 not yet known
    for i in range(1, len(values)):
        v = values[i]
        if direction == 0:
            lo, hi = (i if v < values[lo] else lo), (i if v > values[hi] else hi)
            if values[hi] - values[lo] >= threshold:  # the first real swing: it started at the earlier extreme
                points.append(min(lo, hi))
                direction, extreme = (1, hi) if hi > lo else (-1, lo)
        elif direction * (v - values[extreme]) > 0:
            extreme = i
        elif direction * (values[extreme] - v) >= threshold:
            points.append(extreme)
            direction, extreme = -direction, i
    if direction:
        points.append(extreme)
    return points


def count_oscillations(times: np.ndarray, main: np.ndarray, other: np.ndarray, gap: float) -> int:
    """Back-and-forth movements of `main` (pitch for nods, yaw for shakes): two swings in a row, each at least
    TURN_DEG and at most SWING_MAX_S, with `other` moving less than `main` (a nod is not a look to the side).
    Runs are split where readings are missing for more than `gap` seconds."""
    count = 0
    ok = ~np.isnan(main) & ~np.isnan(other)
    idx = np.flatnonzero(ok)
    if len(idx) < 3:
        return 0
    breaks = np.flatnonzero(np.diff(times[idx]) > gap) + 1
    for run in np.split(idx, breaks):
        turns = run[turning_points(main[run], TURN_DEG)]
        k = 0
        while k + 2 < len(turns):
            a, b, c = turns[k], turns[k + 1], turns[k + 2]
            swings_fast = times[b] - times[a] <= SWING_MAX_S and times[c] - times[b] <= SWING_MAX_S
            span = slice(a, c + 1)
            mostly_main = np.ptp(other[span]) < np.ptp(main[span])
            if swings_fast and mostly_main:
                count += 1
                k += 2
            else:
                k += 1
    return count


def _mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return round(float(values.mean()), 4) if values.size else None


def smiling_frames(behaviour: np.ndarray, where: np.ndarray, distressed: np.ndarray | None = None) -> np.ndarray:
    """Frames in `where` whose smile score reaches SMILE_AT, except those the expression model read as discomfort:
    lips stretched wide in crying read as a smile to the geometry (a crying clip had "Smiled for 3 s")."""
    smiling = where & (np.nan_to_num(behaviour[:, _col("smile")]) >= SMILE_AT)
    return smiling & ~distressed if distressed is not None else smiling


def summarise(
    times: np.ndarray,
    present: np.ndarray,
    pose: np.ndarray,
    behaviour: np.ndarray,
    step: float,
    fps: float | None,
    speaking: np.ndarray | None = None,
    distressed: np.ndarray | None = None,
) -> dict:
    """summary.behaviour for the frames given (F of them): present (F,) the candidate in view; pose (F, 3) and
    behaviour (F, len(BEHAVIOUR_COLUMNS)) the candidate's readings, NaN where absent or unreadable; step the
    seconds one analysed frame stands for; fps the sampling rate of the analysis (None: every frame);
    speaking (F,) voice activity per frame, or None; distressed (F,) frames the expression model read as
    discomfort, where a wide mouth is not counted as a smile (None: expressions not read)."""
    f = len(times)
    gap = max(1.0, 2.5 * step)
    posed = present & ~np.isnan(pose).any(axis=1)
    readable = present & ~np.isnan(behaviour[:, _col("smile")]) if f else np.zeros(0, bool)
    read_s = float(readable.sum() * step)
    pose_s = float(posed.sum() * step)
    out: dict = {
        "analysed_s": round(f * step, 2),
        "in_view_s": round(float(present.sum() * step), 2),
        "out_of_frame": figure(
            1 - present.mean() if f else None, f * step, out_s=round(float((~present).sum() * step), 2)
        ),
        "readable_s": round(read_s, 2),
    }
    smiling = smiling_frames(behaviour, readable, distressed)
    out["smile_share"] = figure(
        smiling.sum() / readable.sum() if readable.any() else None,
        read_s,
        smiling_s=round(float(smiling.sum() * step), 2),
    )
    out["mean_actions"] = {c: _mean(behaviour[readable, _col(c)]) for c in ACTION_COLUMNS}
    rate = fps if fps else (1.0 / step if step > 0 else 0.0)
    closed = np.nan_to_num(behaviour[:, _col("eyes_closed")]) >= CLOSED_AT
    onsets = int((readable[1:] & readable[:-1] & closed[1:] & ~closed[:-1]).sum()) if f > 1 else 0
    if rate < BLINK_MIN_FPS:
        out["blinks_per_minute"] = figure(
            None,
            read_s,
            reason=(
                f"blinks last 0.1-0.4 s: counting them needs --fps {BLINK_MIN_FPS:g} or more; this analysis sampled "
                f"{rate:g} frames/s"
            ),
        )
    else:
        out["blinks_per_minute"] = figure(onsets / (read_s / 60) if read_s > 0 else None, read_s, blinks=onsets)
    pitch = np.where(posed, pose[:, 1], np.nan)
    yaw = np.where(posed, pose[:, 0], np.nan)
    out["nods"] = figure(count_oscillations(times, pitch, yaw, gap) if pose_s else None, pose_s)
    out["head_shakes"] = figure(count_oscillations(times, yaw, pitch, gap) if pose_s else None, pose_s)
    out.update(gaze_figures(times, present, behaviour[:, _col("eye_contact")], step, speaking))
    out["posture"] = summarise_posture(times, present, behaviour, step)
    return out


def summarise_parts(
    times: np.ndarray,
    present: np.ndarray,
    pose: np.ndarray,
    behaviour: np.ndarray,
    step: float,
    fps: float | None,
    spans: list[tuple[float, float, str]],
    speaking: np.ndarray | None = None,
    distressed: np.ndarray | None = None,
) -> list[dict]:
    """summarise() for each (start_s, end_s, label) span: questions, or fixed windows."""
    parts = []
    for start, end, label in spans:
        inside = (times >= start) & (times < end)
        talk = speaking[inside] if speaking is not None else None
        sad = distressed[inside] if distressed is not None else None
        figures = summarise(times[inside], present[inside], pose[inside], behaviour[inside], step, fps, talk, sad)
        parts.append({"label": label, "start_s": round(float(start), 3), "end_s": round(float(end), 3), **figures})
    return parts
