"""The few moments most worth a reviewer's second look: change points, peaks and sustained shifts."""

from __future__ import annotations

import numpy as np

from facecue.interview.affect import ADJECTIVE
from facecue.interview.frames import InterviewFrames
from facecue.labels import EMOTIONS
from facecue.result import Segment

CHANGE_WINDOW_S = 3.0  # mean valence over this long before vs after a moment
CHANGE_MIN = 0.3  # |after - before| that makes a change point
PEAK_MIN_P = 0.6  # a non-neutral label at least this probable makes a peak
SHIFT_MIN_S = 5.0  # a non-neutral segment this long, unlike the interview's dominant label, is a shift
MAX_HIGHLIGHTS = 6
SPACING_S = 3.0  # highlights closer than this are one moment


def _window_means(t: np.ndarray, v: np.ndarray, w: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean of v over [t_i - w, t_i) and [t_i, t_i + w) for every i, and the frame counts (cumulative sums)."""
    c = np.concatenate([[0.0], np.cumsum(v)])
    i = np.arange(len(t))
    lo = np.searchsorted(t, t - w, side="left")
    hi = np.searchsorted(t, t + w, side="left")
    n_before, n_after = i - lo, hi - i
    with np.errstate(invalid="ignore", divide="ignore"):
        before = (c[i] - c[lo]) / n_before
        after = (c[hi] - c[i]) / n_after
    return before, after, n_before, n_after


def change_points(fr: InterviewFrames) -> list[dict]:
    idx = np.flatnonzero(fr.usable)
    if len(idx) < 6:
        return []
    t, v = fr.times[idx], fr.valence[idx]
    before, after, nb, na = _window_means(t, v, CHANGE_WINDOW_S)
    need = max(3, int(0.5 * CHANGE_WINDOW_S / fr.step_s))  # enough readable frames on both sides
    score = np.where((nb >= need) & (na >= need), np.abs(after - before), 0.0)
    # Only local maxima (over about one window of frames) are candidates, so a long interview with many
    # frames above the threshold costs a few array passes, not a Python loop per frame.
    reach = max(1, round(CHANGE_WINDOW_S / fr.step_s))
    local = score.copy()
    for k in range(1, min(reach, len(score) - 1) + 1):
        np.maximum(local[k:], score[:-k], out=local[k:])
        np.maximum(local[:-k], score[k:], out=local[:-k])
    candidates = np.flatnonzero((score >= local) & (score >= CHANGE_MIN))
    out: list[dict] = []
    for k in candidates[np.argsort(-score[candidates], kind="stable")]:
        if any(abs(t[k] - h["time_s"]) < CHANGE_WINDOW_S for h in out):
            continue
        win_b = idx[(t >= t[k] - CHANGE_WINDOW_S) & (t < t[k])]
        win_a = idx[(t >= t[k]) & (t < t[k] + CHANGE_WINDOW_S)]
        lab_b = EMOTIONS[int(fr.probs[win_b].mean(axis=0).argmax())]
        lab_a = EMOTIONS[int(fr.probs[win_a].mean(axis=0).argmax())]
        delta = float(after[k] - before[k])
        what = (
            f"from mostly {ADJECTIVE[lab_b]} to mostly {ADJECTIVE[lab_a]}"
            if lab_a != lab_b
            else f"while mostly {ADJECTIVE[lab_a]}"
        )
        out.append(
            {
                "time_s": round(float(t[k]), 2),
                "kind": "change",
                "label": lab_a,
                "score": round(float(score[k]), 3),
                "reason": f"The face changed {what} (valence {delta:+.2f} over {CHANGE_WINDOW_S:g} s).",
            }
        )
    return out


def peaks(fr: InterviewFrames, spans: list[tuple[float, float]]) -> list[dict]:
    """The strongest non-neutral reading within each span, when it is clear."""
    out = []
    non_neutral = np.where(np.isnan(fr.probs), 0.0, fr.probs).copy()
    non_neutral[:, EMOTIONS.index("neutral")] = 0.0
    best_p = non_neutral.max(axis=1)
    for n, (start, end) in enumerate(spans):
        idx = np.flatnonzero(fr.mask(start, end) & fr.usable)
        if len(idx) == 0:
            continue
        k = idx[int(np.argmax(best_p[idx]))]
        if best_p[k] < PEAK_MIN_P:
            continue
        label = EMOTIONS[int(non_neutral[k].argmax())]
        out.append(
            {
                "time_s": round(float(fr.times[k]), 2),
                "kind": "peak",
                "label": label,
                "score": round(0.8 * float(best_p[k]), 3),
                "span_index": n,
                "reason": f"The clearest {label} expression in this part (p={best_p[k]:.2f}).",
            }
        )
    return out


def shifts(segments: tuple[Segment, ...] | list[Segment], dominant: str | None) -> list[dict]:
    """Long stretches of one non-neutral expression other than the interview's most common one."""
    out = []
    for s in segments:
        length = s.end_s - s.start_s
        if s.label in ("neutral", dominant) or length < SHIFT_MIN_S:
            continue
        out.append(
            {
                "time_s": round(s.start_s, 2),
                "kind": "shift",
                "label": s.label,
                "score": round(min(1.0, length / 15.0) * s.confidence, 3),
                "reason": f"A sustained stretch of {ADJECTIVE[s.label]} expression ({length:.0f} s, "
                f"mean p={s.confidence:.2f}).",
            }
        )
    return out


def select_highlights(
    candidates: list[dict], spans: list[tuple[float, float]], limit: int = MAX_HIGHLIGHTS
) -> list[dict]:
    """The best-scoring moments, at least SPACING_S apart, in time order, each tagged with its span."""
    picked: list[dict] = []
    for h in sorted(candidates, key=lambda h: -h["score"]):
        if all(abs(h["time_s"] - p["time_s"]) >= SPACING_S for p in picked):
            picked.append(dict(h))
        if len(picked) == limit:
            break
    for h in picked:
        h["span_index"] = next((n for n, (a, b) in enumerate(spans) if a <= h["time_s"] < b), None)
        h.setdefault("thumbnail", None)
    return sorted(picked, key=lambda h: h["time_s"])
