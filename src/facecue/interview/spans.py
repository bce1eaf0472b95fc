"""What the face showed over one span of time: shares, valence/arousal, expressivity, arc, mixed emotions."""

from __future__ import annotations

import itertools

import numpy as np

from facecue.interview.frames import InterviewFrames
from facecue.labels import EMOTIONS, NUM_EMOTIONS
from facecue.result import Result
from facecue.timeline.smoothing import contiguous_runs

MIN_SHARE = 0.05  # labels below this share of readable frames are not listed as dominant
ARC_CHANGE = 0.15  # valence change between the first and last third that makes an arc rise or fall
ARC_PEAK = 0.3  # how far the peak must stand out from both ends for "peaked" / "dipped"
MIXED_MIN_P = 0.30  # both labels at least this probable...
MIXED_MARGIN = 0.15  # ...and within this margin of each other...
MIXED_MIN_S = 1.0  # ...for at least this long
CHANGE_MIN = 0.10  # a label's mean this many points above the person's baseline is a change worth naming


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


def span_windows(duration_s: float, window_s: float, start_s: float = 0.0) -> list[tuple[float, float]]:
    """Fixed windows covering start..duration; a last sliver shorter than a third of a window joins the previous."""
    edges = [*np.arange(start_s, duration_s, window_s), duration_s]
    if len(edges) > 2 and edges[-1] - edges[-2] < window_s / 3:
        edges.pop(-2)
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges) if b > a]


def window_spans(result: Result, step_s: float, window_s: float) -> list[tuple[float, float, str]]:
    """The labelled fixed windows of a recording without a question timeline: the interview's parts and the
    behaviour table's parts (pipeline.attach_behaviour_parts), so that both sections of a report name the same
    windows. They run from the analysed start to the end of the video (or of the analysed range)."""
    start = float(result.options.start or 0.0)
    end = float(result.times[-1] + step_s) if len(result.times) else start
    if result.source.duration_s and not result.options.end:
        end = max(end, float(result.source.duration_s))
    windows = span_windows(end, window_s, start)
    return [(a, b, f"window {n + 1} ({a:.0f}-{b:.0f} s)") for n, (a, b) in enumerate(windows)]


def presence_stats(fr: InterviewFrames, m: np.ndarray) -> dict:
    n = int(m.sum())
    present = int(fr.present[m].sum())
    usable = int(fr.usable[m].sum())
    return {
        "frames": n,
        "presence": _r(present / n) if n else None,
        "abstained": _r(1 - usable / present) if present else None,
        "usable_s": round(usable * fr.step_s, 2),
    }


def dominant_shares(probs: np.ndarray) -> list[dict]:
    """Labels by their share of readable frames (argmax of the smoothed probabilities)."""
    if len(probs) == 0:
        return []
    shares = np.bincount(probs.argmax(axis=1), minlength=NUM_EMOTIONS) / len(probs)
    order = np.argsort(-shares, kind="stable")
    return [{"label": EMOTIONS[i], "share": round(float(shares[i]), 3)} for i in order[:3] if shares[i] >= MIN_SHARE]


def _moment(fr: InterviewFrames, idx: np.ndarray, time_s: float | None = None) -> dict:
    mean = fr.probs[idx].mean(axis=0)
    t = float(fr.times[idx].mean()) if time_s is None else time_s
    return {
        "time_s": round(t, 2),
        "label": EMOTIONS[int(mean.argmax())],
        "valence": _r(fr.valence[idx].mean()),
        "arousal": _r(fr.arousal[idx].mean()),
    }


def arc(fr: InterviewFrames, m: np.ndarray) -> dict | None:
    """Start (first third), peak (most expressive frame) and end (last third) of a span, with its shape."""
    idx = np.flatnonzero(m & fr.usable)
    if len(idx) < 3:
        return None
    thirds = np.array_split(idx, 3)
    start, end = _moment(fr, thirds[0]), _moment(fr, thirds[-1])
    k = idx[int(np.argmax(fr.expressivity[idx]))]
    peak = _moment(fr, np.array([k]), float(fr.times[k]))
    change = end["valence"] - start["valence"]
    above = min(peak["valence"] - start["valence"], peak["valence"] - end["valence"])
    below = min(start["valence"] - peak["valence"], end["valence"] - peak["valence"])
    if change > ARC_CHANGE:
        shape = "rising"
    elif change < -ARC_CHANGE:
        shape = "falling"
    elif above > ARC_PEAK:
        shape = "peaked"
    elif below > ARC_PEAK:
        shape = "dipped"
    else:
        shape = "steady"
    return {"start": start, "peak": peak, "end": end, "shape": shape}


def mixed_emotions(fr: InterviewFrames, m: np.ndarray) -> list[dict]:
    """Sustained stretches where the two most probable labels are both likely and close together."""
    top, p1, p2 = fr.top2, fr.top2_p[:, 0], fr.top2_p[:, 1]
    mixed = m & fr.usable & (p2 >= MIXED_MIN_P) & (p1 - p2 <= MIXED_MARGIN)
    out = []
    for run in contiguous_runs(fr.times, mixed, fr.max_gap_s):
        start, end = float(fr.times[run[0]]), float(fr.times[run[-1]] + fr.step_s)
        if end - start < MIXED_MIN_S:
            continue
        pairs = np.sort(top[run], axis=1)
        keys, counts = np.unique(pairs, axis=0, return_counts=True)
        a, b = keys[int(counts.argmax())]
        out.append({"labels": [EMOTIONS[a], EMOTIONS[b]], "start_s": round(start, 2), "end_s": round(end, 2)})
    return out


def baseline_change(fr: InterviewFrames, probs: np.ndarray) -> tuple[dict, dict | None]:
    """The span's mean reading minus the person's baseline per label, and the label that rose most above it
    (None when none rose by CHANGE_MIN, or without a baseline or readable frames)."""
    if fr.baseline is None or len(probs) == 0:
        return {}, None
    delta = probs.mean(axis=0) - fr.baseline
    k = int(np.argmax(delta))
    change = {"label": EMOTIONS[k], "delta": _r(delta[k])} if delta[k] >= CHANGE_MIN else None
    return {e: _r(d) for e, d in zip(EMOTIONS, delta, strict=False)}, change


def span_stats(fr: InterviewFrames, m: np.ndarray, with_arc: bool = True) -> dict:
    """Everything the span summary reports about the face (cues are added by cues.py)."""
    u = m & fr.usable
    probs = fr.probs[u]
    out = presence_stats(fr, m)
    out["dominant"] = dominant_shares(probs)
    has = len(probs) > 0
    out["mean_probs"] = (
        {e: round(float(v), 3) for e, v in zip(EMOTIONS, probs.mean(axis=0), strict=False)} if has else {}
    )
    out["valence"] = _r(fr.valence[u].mean()) if has else None
    out["arousal"] = _r(fr.arousal[u].mean()) if has else None
    out["expressivity"] = _r(fr.expressivity[u].mean()) if has else None
    out["relative_to_baseline"], out["change"] = baseline_change(fr, probs)
    if with_arc:
        out["arc"] = arc(fr, m)
    out["mixed"] = mixed_emotions(fr, m)
    return out
