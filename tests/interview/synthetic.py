"""Synthetic interview timelines: Result objects built from chosen per-frame probabilities."""

from __future__ import annotations

import numpy as np

from facecue.io.source import SourceInfo
from facecue.labels import EMOTIONS
from facecue.options import AnalyzeOptions
from facecue.result import FaceRows, ModelsInfo, Result, Segment, Summary, Timeline
from facecue.timeline.smoothing import segment_labels

FPS = 5.0


def probs_for(label: str, p: float = 0.9) -> np.ndarray:
    """A probability vector with `p` on one label and the rest spread evenly."""
    out = np.full(len(EMOTIONS), (1 - p) / (len(EMOTIONS) - 1), np.float32)
    out[EMOTIONS.index(label)] = p
    return out


def timeline(*parts: tuple[str, float], p: float = 0.9) -> np.ndarray:
    """(label, seconds) pieces one after another at FPS -> (F, 7) probabilities."""
    return np.concatenate([np.tile(probs_for(label, p), (round(seconds * FPS), 1)) for label, seconds in parts])


def synthetic_result(probs: np.ndarray, usable: np.ndarray | None = None, fps: float = FPS) -> Result:
    f = len(probs)
    times = np.arange(f) / fps
    usable = np.ones(f, bool) if usable is None else np.asarray(usable, bool)
    smoothed = np.where(usable[:, None], probs, np.nan).astype(np.float32)
    segments = tuple(Segment(*s) for s in segment_labels(times, smoothed, usable, 0.5, 1.0))
    source = SourceInfo.from_dict({"path": "synthetic", "kind": "video", "duration_s": f / fps, "fps": fps})
    return Result(
        source=source,
        models=ModelsInfo(),
        options=AnalyzeOptions(fps=fps),
        times=times,
        frame_index=np.arange(f),
        faces=FaceRows.empty(),
        tracks=(),
        candidate_id=None,
        timeline=Timeline(smoothed.copy(), smoothed, np.ones(f, bool), usable),
        segments=segments,
        summary=Summary(),
    )
