"""The candidate's per-frame signals, computed once for the whole interview (vectorised)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecue.interview.affect import HAPPY, discomfort, expressivity, valence_arousal
from facecue.result import Result
from facecue.timeline.baseline import baseline_probs


@dataclass(frozen=True)
class InterviewFrames:
    times: np.ndarray  # (F,) seconds
    probs: np.ndarray  # (F, 7) smoothed probabilities, NaN where not usable
    present: np.ndarray  # (F,) bool
    usable: np.ndarray  # (F,) bool
    valence: np.ndarray  # (F,) NaN where not usable
    arousal: np.ndarray  # (F,)
    expressivity: np.ndarray  # (F,)
    discomfort: np.ndarray  # (F,)
    happy: np.ndarray  # (F,)
    top2: np.ndarray  # (F, 2) indices of the two most probable labels
    top2_p: np.ndarray  # (F, 2) their probabilities (-1 where not usable)
    step_s: float  # typical time between analysed frames
    max_gap_s: float  # frames further apart than this are not one continuous stretch
    baseline: np.ndarray | None = None  # (7,) the person's own baseline reading (timeline/baseline.py)

    @property
    def baseline_valence(self) -> float:
        return float(valence_arousal(self.baseline[None])[0, 0]) if self.baseline is not None else 0.0

    @property
    def baseline_discomfort(self) -> float:
        return float(discomfort(self.baseline[None])[0]) if self.baseline is not None else 0.0

    @classmethod
    def from_result(cls, result: Result) -> InterviewFrames:
        tl = result.timeline
        return cls.from_arrays(result.times, tl.smoothed, tl.present, tl.usable)

    @classmethod
    def from_arrays(
        cls, times: np.ndarray, probs: np.ndarray, present: np.ndarray, usable: np.ndarray
    ) -> InterviewFrames:
        times = np.asarray(times, np.float64)
        usable = np.asarray(usable, bool) & ~np.isnan(probs).any(axis=1)
        probs = np.where(usable[:, None], probs, np.nan)
        va = valence_arousal(probs)
        step = float(np.median(np.diff(times))) if len(times) > 1 else 0.2
        filled = np.where(usable[:, None], probs, -1.0)
        top2 = np.argsort(-filled, axis=1, kind="stable")[:, :2]
        return cls(
            times,
            probs,
            np.asarray(present, bool),
            usable,
            va[:, 0],
            va[:, 1],
            expressivity(probs),
            discomfort(probs),
            probs[:, HAPPY].astype(np.float64),
            top2,
            np.take_along_axis(filled, top2, axis=1),
            step,
            max(1.0, 2.5 * step),
            baseline_probs(probs, usable, step),
        )

    def mask(self, start_s: float, end_s: float) -> np.ndarray:
        """Frames with start_s <= time < end_s."""
        lo, hi = np.searchsorted(self.times, [start_s, end_s], side="left")
        out = np.zeros(len(self.times), bool)
        out[lo:hi] = True
        return out

    @property
    def duration_s(self) -> float:
        return float(self.times[-1] - self.times[0] + self.step_s) if len(self.times) else 0.0
