"""The mesh's smile score across demographic groups: the share of faces reaching the smiling threshold per group
and the lowest-to-highest ratio, on labelled photos (FairFace). There is no smile label, so a gap may be in the
photos (FairFace's portraits of women smile more often) as much as in the measure; this only shows how large it is.

    python bench/smile_groups.py --images ../shared/data/fairface --labels ../shared/data/fairface/labels.csv

Each photo is padded (the faces fill FairFace's crops), the detector's most confident face is meshed, and faces the
mesh does not confirm are left out.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from facecue.behaviour.columns import ACTION_COLUMNS
from facecue.behaviour.measures import facial_actions
from facecue.behaviour.summary import SMILE_AT
from facecue.vision.detect import create_detector
from facecue.vision.landmarks import FaceMesh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--group-cols", default="race,gender")
    args = parser.parse_args()
    detector, mesh = create_detector(), FaceMesh()
    with args.labels.open() as handle:
        rows = list(csv.DictReader(handle))
    columns, smiles = args.group_cols.split(","), []
    for row in rows:
        image = cv2.imread(str(args.images / row["file"]))
        if image is None:
            continue
        image = cv2.copyMakeBorder(image, 112, 112, 112, 112, cv2.BORDER_CONSTANT)
        faces = detector.detect(image)
        if not len(faces):
            continue
        best = int(np.argmax(faces.scores))
        landmarks = mesh(image, faces)
        if landmarks.presence[best] < 0.5:
            continue
        score = facial_actions(landmarks.points[best : best + 1])[0, ACTION_COLUMNS.index("smile")]
        smiles.append((*(row[c] for c in columns), float(score)))
    print(f"{len(smiles)} of {len(rows)} photos meshed; share with smile >= {SMILE_AT}:")
    scores = np.array([s[-1] for s in smiles]) >= SMILE_AT
    for k, column in enumerate(columns):
        groups = np.array([s[k] for s in smiles])
        rates = {g: float(scores[groups == g].mean()) for g in sorted(set(groups))}
        ratio = min(rates.values()) / max(rates.values())
        print(f"{column}: lowest/highest {ratio:.2f}; " + ", ".join(f"{g} {v:.1%}" for g, v in rates.items()))


if __name__ == "__main__":
    main()
