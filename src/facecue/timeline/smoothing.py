"""Temporal smoothing of per-frame probabilities and their cut into labelled segments."""

from __future__ import annotations

import numpy as np

from facecue.labels import EMOTIONS


def contiguous_runs(times: np.ndarray, usable: np.ndarray, max_gap_s: float) -> list[np.ndarray]:
    """Indices of usable frames grouped into runs whose neighbours are at most max_gap_s apart."""
    idx = np.flatnonzero(usable)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(times[idx]) > max_gap_s) + 1
    return np.split(idx, breaks)


def smooth_probs(
    times: np.ndarray, probs: np.ndarray, usable: np.ndarray, sigma_s: float = 0.5, max_gap_s: float = 1.0
) -> np.ndarray:
    """Gaussian-weighted average in time, within runs of usable frames; NaN elsewhere.

    Works on true timestamps (not frame counts) so variable frame rate and any sampling
    rate give the same time constant; never bridges a gap longer than max_gap_s, so an
    absence is not painted over with invented values.
    """
    out = np.full(probs.shape, np.nan, dtype=np.float32)
    if sigma_s <= 0:
        out[usable] = probs[usable]
        return out
    for run in contiguous_runs(times, usable, max_gap_s):
        t = times[run]
        p = probs[run].astype(np.float64)
        lo = np.searchsorted(t, t - 3 * sigma_s, side="left")
        hi = np.searchsorted(t, t + 3 * sigma_s, side="right")
        # Windows are short (a few dozen frames), so a direct loop over offsets is cheap and exact.
        width = int((hi - lo).max())
        acc = np.zeros_like(p)
        wsum = np.zeros(len(run))
        for k in range(-width, width + 1):
            j = np.arange(len(run)) + k
            ok = (j >= lo) & (j < hi)
            if not ok.any():
                continue
            jj = np.clip(j, 0, len(run) - 1)
            w = np.exp(-0.5 * ((t[jj] - t) / sigma_s) ** 2) * ok
            acc += w[:, None] * p[jj]
            wsum += w
        out[run] = (acc / wsum[:, None]).astype(np.float32)
    return out


class ExponentialSmoother:
    """Causal smoothing for live streams: an exponential moving average with a time constant."""

    def __init__(self, tau_s: float = 0.5, max_gap_s: float = 1.0) -> None:
        self.tau_s, self.max_gap_s = tau_s, max_gap_s
        self.state: np.ndarray | None = None
        self.last_t: float | None = None

    def update(self, t: float, probs: np.ndarray | None) -> np.ndarray | None:
        if probs is None:
            if self.last_t is not None and t - self.last_t > self.max_gap_s:
                self.state = None
            return None
        if self.state is None or self.last_t is None or t - self.last_t > self.max_gap_s:
            self.state = probs.astype(np.float64)
        else:
            alpha = 1 - np.exp(-(t - self.last_t) / self.tau_s)
            self.state = (1 - alpha) * self.state + alpha * probs
        self.last_t = t
        return self.state.astype(np.float32)


def segment_labels(
    times: np.ndarray, smoothed: np.ndarray, usable: np.ndarray, min_duration_s: float = 0.5, max_gap_s: float = 1.0
) -> list[tuple[float, float, str, float]]:
    """Runs of one dominant smoothed label: (start_s, end_s, label, mean probability of it).

    Runs shorter than min_duration_s are absorbed by the previous run in the same stretch
    of usable frames, so one flickering frame does not become a segment of its own.
    """
    segments: list[list] = []
    for run in contiguous_runs(times, usable, max_gap_s):
        labels = smoothed[run].argmax(axis=1)
        cuts = np.flatnonzero(np.diff(labels)) + 1
        pieces: list[list] = []
        for part in np.split(np.arange(len(run)), cuts):
            start, end = times[run[part[0]]], times[run[part[-1]]]
            label = int(labels[part[0]])
            if pieces and end - start < min_duration_s:
                pieces[-1][1] = end
                pieces[-1][4].extend(run[part].tolist())
                continue
            pieces.append([start, end, label, None, run[part].tolist()])
        if len(pieces) > 1 and pieces[0][1] - pieces[0][0] < min_duration_s:
            # A short first piece has no previous run to join: the next one takes it (a stretch that opened on
            # one flickering frame gave a segment "neutral 0:00.0-0:00.0").
            first = pieces.pop(0)
            pieces[0][0], pieces[0][4] = first[0], first[4] + pieces[0][4]
        segments.extend(pieces)
    out = []
    for start, end, label, _, members in segments:
        out.append((float(start), float(end), EMOTIONS[label], float(np.nanmean(smoothed[members, label]))))
    return out
