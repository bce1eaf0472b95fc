"""How the shipped model holds up when faces are not framed like FER2013.

Takes a labelled split (e.g. FER2013 PublicTest), then re-presents each face the way another
dataset might: enlarged to 192 px and surrounded by a 30% margin (replicated edges), in a
3-channel image. Prints accuracy and macro-F1 for the original crops, for the loose photos
classified as they are, and for the loose photos re-framed by face alignment (classify --align).
Usage: python bench/robustness.py --data fer2013.csv.gz --split PublicTest [--limit 1000]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--split", default="PublicTest")
    parser.add_argument("--limit", type=int, default=1000)
    args = parser.parse_args()
    data = load_dataset(args.data, args.split)
    pick = np.random.default_rng(0).permutation(len(data))[:args.limit]
    faces, truth = data.images[pick], data.labels[pick]
    model = EmotionModel.load()
    aligner = PhotoAligner()
    photos = [loose_photo(f) for f in faces]
    aligned = [aligner(p) for p in photos]
    found = np.array([a is not None for a in aligned])
    reframed = [a if a is not None else p for a, p in zip(aligned, photos)]
    for name, images in (("original 48 px crops", faces), ("loose 307 px photos, resized", photos),
                         ("loose photos, aligned (classify --align auto)", reframed)):
        r = classification_report(model.predict(images), truth)
        print(f"{name:48s} accuracy {r['accuracy']:.4f}  macro-F1 {r['macro_f1']:.4f}  ECE {r['ece']:.4f}")
    print(f"faces confirmed by detector + mesh: {found.mean():.1%} of {len(truth)} (the rest fall back to resizing)")


if __name__ == "__main__":
    main()
