"""Per-image audit records: what the face pipeline found in each labelled image, as one batch of arrays."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecue.interview.affect import discomfort
from facecue.interview.cues import CUE_LABELS as CUES_LABELS
from facecue.interview.cues import DISCOMFORT_P, SMILE_P
from facecue.labels import EMOTIONS, NUM_EMOTIONS

# The interview's visible stress/discomfort cue, per face (facecue.interview.cues): a usable face whose
# probabilities for the four negative expressions reach one half. It reads the face, not the person's state.
CUE_NAME = "visible stress/discomfort"
CUE_LABELS: tuple[str, ...] = CUES_LABELS["stress"]
CUE_THRESHOLD = DISCOMFORT_P


def stress_cue(probs: np.ndarray) -> np.ndarray:
    """(N, 7) probabilities -> (N,) bool, the stress cue's per-frame test; False where the face was not usable."""
    return np.nan_to_num(discomfort(np.asarray(probs, np.float64)), nan=0.0) >= CUE_THRESHOLD


@dataclass(frozen=True)
class ImageRecords:
    """N images. `abstain` is "" for a usable face and for an image without a face; `probs` is NaN unless
    the chosen face was usable; `truth` is -1 where there is no true label (all -1 without a truth column)."""

    files: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    detected: np.ndarray  # (N,) bool
    n_faces: np.ndarray  # (N,) int
    det_score: np.ndarray  # (N,) float32, NaN without a face
    quality: np.ndarray  # (N,) float32, NaN without a face
    abstain: tuple[str, ...]
    probs: np.ndarray  # (N, 7) float32
    truth: np.ndarray  # (N,) int64

    def __post_init__(self) -> None:
        n = len(self.files)
        arrays = (self.detected, self.n_faces, self.det_score, self.quality, self.truth)
        if any(len(a) != n for a in arrays) or len(self.abstain) != n or self.probs.shape != (n, NUM_EMOTIONS):
            raise ValueError(f"every field needs one entry per image ({n})")
        if any(len(v) != n for v in self.groups.values()):
            raise ValueError(f"every group column needs one value per image ({n})")
        if ((self.truth < -1) | (self.truth >= NUM_EMOTIONS)).any():
            raise ValueError("truth must be -1 or a label index")
        if (~self.detected & (self.n_faces > 0)).any() or np.isfinite(self.probs[~self.usable]).any():
            raise ValueError("probabilities belong only to usable faces of images with a detected face")

    def __len__(self) -> int:
        return len(self.files)

    @property
    def usable(self) -> np.ndarray:
        return self.detected & np.isfinite(self.probs).all(axis=1)

    @property
    def abstained(self) -> np.ndarray:
        return self.detected & ~self.usable

    @property
    def pred(self) -> np.ndarray:
        """(N,) label index of the usable face, -1 otherwise."""
        return np.where(self.usable, np.argmax(np.nan_to_num(self.probs, nan=-1.0), axis=1), -1)

    @property
    def cue(self) -> np.ndarray:
        return stress_cue(self.probs)

    @property
    def engagement(self) -> np.ndarray:
        """The interview's positive-engagement cue per face: P(happy) reaches SMILE_P on a usable face."""
        happy = np.nan_to_num(self.probs[:, EMOTIONS.index("happy")].astype(np.float64), nan=0.0)
        return happy >= SMILE_P

    def write_csv(self, path: Path) -> None:
        """One row per image, no image data: file, group columns, detection, abstention, label, the 7
        probabilities, the cue and, where known, the true label and whether the prediction was correct."""
        pred, usable, cue = self.pred, self.usable, self.cue
        has_truth = (self.truth >= 0).any()
        header = [
            "file",
            *self.groups,
            "detected",
            "n_faces",
            "det_score",
            "quality",
            "abstained",
            "abstain_reason",
            "label",
            *EMOTIONS,
            "cue",
        ] + (["truth", "correct"] if has_truth else [])
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for i, name in enumerate(self.files):
                row = [
                    name,
                    *(values[i] for values in self.groups.values()),
                    int(self.detected[i]),
                    int(self.n_faces[i]),
                    _num(self.det_score[i]),
                    _num(self.quality[i]),
                    int(self.abstained[i]),
                    self.abstain[i],
                    EMOTIONS[pred[i]] if usable[i] else "",
                    *(_num(p) for p in self.probs[i]),
                    int(cue[i]) if usable[i] else "",
                ]
                if has_truth:
                    known = self.truth[i] >= 0
                    row += [
                        EMOTIONS[self.truth[i]] if known else "",
                        int(pred[i] == self.truth[i]) if known and usable[i] else "",
                    ]
                writer.writerow(row)


def _num(value: float) -> str:
    return "" if not np.isfinite(value) else f"{value:.4f}"
