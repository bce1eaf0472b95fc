"""Stable face ids across frames: box overlap plus appearance, with re-identification after gaps."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


def appearance(image_bgr: np.ndarray, box: np.ndarray, aligned_grey: np.ndarray) -> np.ndarray:
    """A unit-norm descriptor: the aligned face at 16x16 (identity-ish shape) and a hue/saturation
    histogram of the face box (skin, hair), so two people with similar positions stay apart."""
    thumb = cv2.resize(aligned_grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    thumb -= thumb.mean()
    thumb /= np.linalg.norm(thumb) + 1e-6
    x, y, w, h = (round(float(v)) for v in box)
    patch = image_bgr[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)]
    if patch.size == 0:
        hist: np.ndarray = np.zeros(64, np.float32)
    else:
        hsv = cv2.cvtColor(cv2.resize(patch, (32, 32), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [8, 8], [0, 180, 0, 256]).ravel()
        hist = np.sqrt(hist / (hist.sum() + 1e-6))  # Hellinger: cosine of sqrt-histograms
    return np.concatenate([thumb * np.sqrt(0.5), hist * np.sqrt(0.5)]).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between (A,4) and (B,4) x,y,w,h boxes -> (A,B)."""
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2) - np.maximum(a[:, None, 0], b[:, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2) - np.maximum(a[:, None, 1], b[:, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + b[:, 2] * b[:, 3] - inter
    return inter / np.maximum(union, 1e-6)


@dataclass
class _Track:
    face_id: int
    box: np.ndarray
    look: np.ndarray
    last_t: float
    hits: int = 1
    times: list[float] = field(default_factory=list)


class FaceTracker:
    """Assigns a face_id to each detection, frame by frame (online, so live streams can use it).

    A detection joins the active track with the best combined score of overlap, centre
    distance and appearance; a track unseen for up to `reid_s` can be re-identified by
    appearance alone (someone who looked away, or left and came back).
    """

    def __init__(
        self, max_gap_s: float = 1.5, reid_s: float = 30.0, min_appearance: float = 0.6, reid_appearance: float = 0.8
    ) -> None:
        self.max_gap_s, self.reid_s = max_gap_s, reid_s
        self.min_appearance, self.reid_appearance = min_appearance, reid_appearance
        self.tracks: list[_Track] = []
        self.next_id = 0

    def update(self, t: float, boxes: np.ndarray, looks: np.ndarray) -> np.ndarray:
        """boxes (N,4), looks (N,D) unit-norm -> (N,) int64 face ids."""
        ids = np.full(len(boxes), -1, dtype=np.int64)
        if len(boxes) == 0:
            return ids
        active = [k for k in self.tracks if t - k.last_t <= self.max_gap_s]
        if active:
            tb = np.stack([k.box for k in active])
            iou = box_iou(tb, boxes)
            centres_t = tb[:, :2] + tb[:, 2:] / 2
            centres_d = boxes[:, :2] + boxes[:, 2:] / 2
            dist = np.linalg.norm(centres_t[:, None] - centres_d[None], axis=2) / np.maximum(tb[:, None, 2], 1)
            scale = boxes[None, :, 2] / np.maximum(tb[:, None, 2], 1)
            sim = np.stack([k.look for k in active]) @ looks.T
            similar_size = (scale > 0.6) & (scale < 1.6)
            # Overlap; or nearby and alike; or, for a fast move between sampled frames, very alike.
            plausible = (iou > 0.3) | (
                similar_size & (((dist < 1.0) & (sim > self.min_appearance)) | (sim > self.reid_appearance))
            )
            score = np.where(plausible, iou + 0.5 * sim - 0.2 * dist, -np.inf)
            self._greedy(score, active, ids, t, boxes, looks)
        lost = [k for k in self.tracks if self.max_gap_s < t - k.last_t <= self.reid_s]
        todo = np.flatnonzero(ids < 0)
        if lost and todo.size:
            sim = np.stack([k.look for k in lost]) @ looks[todo].T
            score = np.where(sim > self.reid_appearance, sim, -np.inf)
            sub = np.full(todo.size, -1, dtype=np.int64)
            self._greedy(score, lost, sub, t, boxes[todo], looks[todo])
            ids[todo] = sub
        for i in np.flatnonzero(ids < 0):
            track = _Track(self.next_id, boxes[i].copy(), looks[i].copy(), t, times=[t])
            self.tracks.append(track)
            ids[i] = self.next_id
            self.next_id += 1
        return ids

    @staticmethod
    def _greedy(
        score: np.ndarray, tracks: list[_Track], ids: np.ndarray, t: float, boxes: np.ndarray, looks: np.ndarray
    ) -> None:
        score = score.copy()
        while np.isfinite(score).any():
            ti, di = np.unravel_index(np.argmax(score), score.shape)
            track = tracks[ti]
            ids[di] = track.face_id
            track.box = boxes[di].copy()
            look = 0.8 * track.look + 0.2 * looks[di]  # slow update: robust to one odd frame
            track.look = look / (np.linalg.norm(look) + 1e-6)
            track.last_t = t
            track.hits += 1
            track.times.append(t)
            score[ti, :] = -np.inf
            score[:, di] = -np.inf


def time_ranges(times: list[float] | np.ndarray, max_gap_s: float) -> list[tuple[float, float]]:
    """Sorted times -> merged (start, end) ranges, split where consecutive times are > max_gap_s apart."""
    times = np.sort(np.asarray(times, dtype=np.float64))
    if times.size == 0:
        return []
    cuts = np.flatnonzero(np.diff(times) > max_gap_s) + 1
    return [(round(float(p[0]), 3), round(float(p[-1]), 3)) for p in np.split(times, cuts)]
