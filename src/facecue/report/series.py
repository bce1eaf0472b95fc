"""The candidate's timeline shaped for drawing: per-frame status, a capped number of points, contiguous runs.

Downsampling: when there are more than `max_points` analysed frames, consecutive frames are grouped into
equal-sized buckets (ceil(F / max_points) frames each). A bucket's probabilities are the mean over its
*usable* frames only, so absent or abstained frames never pull the curve towards zero; a bucket with no
usable frame has no value and is drawn as a gap. Its status is the best status among its frames (usable >
abstained > absent), which keeps the presence strip consistent with where the chart has values. Below the
cap every frame is its own point, so short gaps are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ABSENT, ABSTAINED, USABLE = 0, 1, 2
MAX_POINTS = 2000
# A step between frames longer than this many typical frame intervals is a hole in the video (decode gap
# or dropped stretch): the frame before it covers one typical interval, not the whole hole.
GAP_FACTOR = 2.5


@dataclass(frozen=True)
class TimelinePoints:
    """What the chart draws: n <= max_points points, each covering the time span [start, end)."""

    time: np.ndarray  # (n,) seconds: mean time of the usable frames (of all frames when none is usable)
    start: np.ndarray  # (n,) seconds
    end: np.ndarray  # (n,) seconds
    probs: np.ndarray  # (n, 7) mean smoothed probabilities over usable frames; NaN when none
    status: np.ndarray  # (n,) int8: USABLE, ABSTAINED or ABSENT

    def __len__(self) -> int:
        return len(self.time)


def frame_status(present: np.ndarray, usable: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """USABLE where the face was seen and has probabilities, ABSTAINED where seen without them, else ABSENT."""
    status = np.full(len(present), ABSENT, np.int8)
    status[present] = ABSTAINED
    status[usable & present & ~np.isnan(probs).any(axis=1)] = USABLE
    return status


def frame_spans(times: np.ndarray, end_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each frame covers the time until the next frame, except across a hole (see GAP_FACTOR), and never past
    `end_s`, the recording's end when known (the last frame of a 6.4 s clip does not run to 6.6 s)."""
    if len(times) == 0:
        return times, times
    steps = np.diff(times)
    step = float(np.median(steps)) if steps.size and np.median(steps) > 0 else 1.0
    following = np.append(times[1:], times[-1] + step)
    ends = np.where(following - times <= GAP_FACTOR * step, following, times + step)
    if end_s:
        ends = np.maximum(np.minimum(ends, end_s), times)
    return times, ends


def downsample(
    times: np.ndarray, probs: np.ndarray, status: np.ndarray, max_points: int = MAX_POINTS, end_s: float | None = None
) -> TimelinePoints:
    """At most `max_points` points; see the module docstring for how buckets are averaged."""
    n = len(times)
    starts, ends = frame_spans(times, end_s)
    if n == 0:
        return TimelinePoints(times, starts, ends, probs.reshape(0, probs.shape[1]), status)
    first = np.arange(0, n, math.ceil(n / max_points))
    use = status == USABLE
    counts = np.add.reduceat(use.astype(np.float64), first)
    sums = np.add.reduceat(np.where(use[:, None], probs, 0.0), first, axis=0)
    has_value = counts > 0
    safe = np.maximum(counts, 1)
    mean_probs = np.where(has_value[:, None], sums / safe[:, None], np.nan)
    sizes = np.diff(np.append(first, n))
    all_time = np.add.reduceat(times, first) / sizes
    usable_time = np.add.reduceat(np.where(use, times, 0.0), first) / safe
    return TimelinePoints(
        time=np.where(has_value, usable_time, all_time),
        start=starts[first],
        end=np.maximum.reduceat(ends, first),
        probs=mean_probs,
        status=np.maximum.reduceat(status, first).astype(np.int8),
    )


def runs(start: np.ndarray, end: np.ndarray, status: np.ndarray) -> list[tuple[int, int, int]]:
    """Index runs (first, last, status) of equal status that touch in time; a hole starts a new run."""
    out: list[tuple[int, int, int]] = []
    for i, code in enumerate(status.tolist()):
        if out and out[-1][2] == code and start[i] <= end[i - 1] + 1e-6:
            out[-1] = (out[-1][0], i, code)
        else:
            out.append((i, i, code))
    return out


def time_runs(start: np.ndarray, end: np.ndarray, status: np.ndarray, code: int) -> list[tuple[float, float]]:
    """The time ranges (start, end) in seconds where `status` equals `code`."""
    return [(float(start[a]), float(end[b])) for a, b, c in runs(start, end, status) if c == code]
