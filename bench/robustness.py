"""How the shipped model holds up when faces are not framed like FER2013.

Takes a labelled split (e.g. FER2013 PublicTest), then re-presents each face the way another
dataset might, in a 3-channel image: a loose photo (enlarged to 192 px and surrounded by a 30%
margin of replicated edges) and a tight one (enlarged to 96 px, framed as FER2013 frames it).
Prints accuracy and macro-F1 for the original crops, and for each photo classified as it is
(resized, classify --align never) and re-framed by face alignment (classify --align auto).
Usage: python bench/robustness.py --data fer2013.csv.gz --split PublicTest [--limit 1000] [--models default v1]
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from facecue.emotion.metrics import classification_report
from facecue.emotion.model import EmotionModel
from facecue.train.data import load_dataset
from facecue.vision.crops import PhotoAligner


def loose_photo(face: np.ndarray) -> np.ndarray:
    big = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    m = int(192 * 0.3)
    return cv2.cvtColor(cv2.copyMakeBorder(big, m, m, m, m, cv2.BORDER_REPLICATE), cv2.COLOR_GRAY2BGR)


def tight_photo(face: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.resize(face, (96, 96), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--models", nargs="+", default=["default"], help="each is scored on the same photos")
    args = parser.parse_args()
    data = load_dataset(args.data, args.split)
    pick = np.random.default_rng(0).permutation(len(data))[: args.limit]
    faces, truth = data.images[pick], data.labels[pick]
    models = {name: EmotionModel.load(name) for name in args.models}
    aligner = PhotoAligner()

    def report(name: str, images) -> None:
        for model_name, model in models.items():
            r = classification_report(model.predict(images), truth)
            print(
                f"{name:48s} {model_name:8s} accuracy {r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  "
                f"ECE {r['ece']:.4f}"
            )

    report("original 48 px crops", faces)
    for kind, present in (("loose 307 px", loose_photo), ("tight 96 px", tight_photo)):
        photos = [present(f) for f in faces]
        aligned = [aligner(p) for p in photos]
        found = np.array([a is not None for a in aligned])
        reframed = [a if a is not None else p for a, p in zip(aligned, photos, strict=True)]
        report(f"{kind} photos, resized (--align never)", photos)
        report(f"{kind} photos, aligned (--align auto)", reframed)
        print(f"{kind}: faces confirmed by detector + mesh {found.mean():.1%} of {len(truth)} (the rest are resized)")


if __name__ == "__main__":
    main()
