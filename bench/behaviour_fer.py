"""Facial actions against labelled expressions: ROC AUC of smile (happy vs rest), brow_raise and eye_widen
(surprise vs rest) and brow_lower (angry vs rest) on FER2013 faces.

The mesh runs on each 48x48 face upscaled 4x (bicubic) and padded by edge replication, with the detector's
box given as the face square (the detector is not run: FER2013 crops are already faces). That is far below
the resolution of a video interview, so the numbers are a floor for the measures, not their accuracy on video.
Faces the mesh does not confirm (presence < 0.5) are counted and left out.

Usage: python bench/behaviour_fer.py --data fer2013.csv.gz [--split PublicTest] [--limit N] [--calibrate]
--calibrate prints the raw geometry's percentiles per label on the split (use Training: the scales in
facecue/behaviour/measures.py were read from 150 Training faces per label, never from PublicTest).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import time

import cv2
import numpy as np

from facecue.behaviour.columns import ACTION_COLUMNS
from facecue.behaviour.geometry import raw_features
from facecue.behaviour.measures import facial_actions
from facecue.behaviour.summary import SMILE_AT
from facecue.labels import EMOTIONS
from facecue.vision.detect import FaceBoxes
from facecue.vision.landmarks import FaceMesh

UPSCALE, PAD = 4, 48
TESTS = (
    ("smile", "happy"),
    ("brow_raise", "surprise"),
    ("eye_widen", "surprise"),
    ("mouth_open", "surprise"),
    ("brow_lower", "angry"),
)


def read_faces(path: str, split: str, limit: int | None):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="") as handle:
        for n, row in enumerate(r for r in csv.DictReader(handle) if r["Usage"] == split):
            if limit is not None and n >= limit:
                return
            yield int(row["emotion"]), np.array(row["pixels"].split(), np.uint8).reshape(48, 48)


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="PublicTest")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--calibrate", action="store_true")
    args = ap.parse_args()
    mesh = FaceMesh()
    side = 48 * UPSCALE
    box = FaceBoxes(np.array([[PAD, PAD, side, side]], np.float32), np.ones(1, np.float32), np.zeros((1, 0, 2)))
    labels, points, dropped, started = [], [], 0, time.perf_counter()
    for label, face in read_faces(args.data, args.split, args.limit):
        big = cv2.copyMakeBorder(
            cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC), PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE
        )
        lm = mesh(cv2.cvtColor(big, cv2.COLOR_GRAY2BGR), box)
        if lm.presence[0] < 0.5:
            dropped += 1
            continue
        labels.append(label)
        points.append(lm.points[0])
    labels, points = np.array(labels), np.stack(points)
    print(
        f"{args.split}: {len(labels)} faces measured, {dropped} not confirmed by the mesh, "
        f"{time.perf_counter() - started:.0f} s"
    )
    if args.calibrate:
        raw = raw_features(points)
        for k, name in enumerate(EMOTIONS):
            rows = labels == k
            print(name, {f: np.round(np.percentile(v[rows], [5, 50, 95]), 3).tolist() for f, v in raw.items()})
        return
    actions = dict(zip(ACTION_COLUMNS, facial_actions(points).T, strict=True))
    for action, emotion in TESTS:
        positive = labels == EMOTIONS.index(emotion)
        print(
            f"{action:10s} vs {emotion:8s} (n+ {positive.sum():4d}, n- {(~positive).sum():4d}): "
            f"ROC AUC {auc(actions[action], positive):.3f}"
        )
    # A smile must not be a grimace: happy against the four negative expressions only, and how often each label's
    # faces reach the summary's smiling threshold.
    negative = np.isin(labels, [EMOTIONS.index(e) for e in ("angry", "disgust", "fear", "sad")])
    happy = labels == EMOTIONS.index("happy")
    both = happy | negative
    print(f"smile      vs angry, disgust, fear, sad: ROC AUC {auc(actions['smile'][both], happy[both]):.3f}")
    shares = {name: float(np.mean(actions["smile"][labels == k] >= SMILE_AT)) for k, name in enumerate(EMOTIONS)}
    print(f"share with smile >= {SMILE_AT}: " + ", ".join(f"{k} {v:.1%}" for k, v in shares.items()))


if __name__ == "__main__":
    main()
