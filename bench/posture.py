"""Posture checks on real frames (docs/SIGNALS.md, Behaviour signals > Validation).

  1. rotation: each frame turned by known angles; shoulder_tilt should change by the opposite angle;
  2. mirror: tilt + mirrored tilt should be about 0 (|tilt| kept);
  3. zoom: each frame scaled about the face; lean should be about ln(scale);
  4. with --clips: every clip analysed (behaviour only); per clip the body readings, lean range, |tilt|,
     body_motion, hand_near_face >= 0.5 readings and hand-to-face episodes, for checking by eye.

Usage: python bench/posture.py [--videos DIR] [--clips DIR ...]
Frames come from the sample (always) and, with --videos, from the development clips named in FRAMES.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import av
import cv2
import numpy as np

from facecue.behaviour.posture import POSTURE_SLICE, posture_columns, upper_body
from facecue.io.sample import sample_frame
from facecue.pipeline import Analyzer
from facecue.vision.detect import BlazeFaceDetector, FaceBoxes
from facecue.vision.pose import BodyPose

FRAMES = [
    ("liveportrait_s18.mp4", 1.0),
    ("liveportrait_s32.mp4", 4.0),
    ("pyfeat_single_face.mp4", 1.0),
    ("retalking_face1.mp4", 2.0),
    ("retalking_face4.mp4", 2.0),
]
ANGLES = (-30, -20, -10, 10, 20, 30)
ZOOMS = (0.8, 0.9, 1.1, 1.2)


def frame_at(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as box:
        stream = box.streams.video[0]
        box.seek(int(t / stream.time_base), stream=stream)
        for f in box.decode(stream):
            if f.time is not None and f.time >= t - 0.05:
                return f.to_ndarray(format="bgr24")
    raise SystemExit(f"{path} has no frame at {t} s")


class Reader:
    def __init__(self) -> None:
        self.detector, self.pose = BlazeFaceDetector(), BodyPose()

    def read(self, image: np.ndarray) -> tuple[float, float, np.ndarray]:
        """(shoulder_tilt, shoulder width, face centre) of the biggest face's body; NaN when not read."""
        faces = self.detector.detect(image)
        if not len(faces):
            return np.nan, np.nan, np.full(2, np.nan)
        b = int(np.argmax(faces.boxes[:, 2]))
        face = FaceBoxes(faces.boxes[b : b + 1], faces.scores[b : b + 1], faces.keypoints[b : b + 1])
        points, reasons = upper_body(self.pose(image, face), np.array([True]))
        centre = face.boxes[0, :2] + face.boxes[0, 2:] / 2
        if reasons[0]:
            return np.nan, np.nan, centre
        values, _ = posture_columns(
            np.zeros(1), np.zeros(1, np.int64), np.zeros(1, np.int64), face.boxes, points, reasons, 1.0
        )
        return float(values[0, 1]), float(np.linalg.norm(points[0, 0] - points[0, 1])), centre


def frame_checks(frames: dict[str, np.ndarray]) -> None:
    reader = Reader()
    tilt_errors, zoom_errors = [], []
    for name, image in frames.items():
        h, w = image.shape[:2]
        tilt, width, centre = reader.read(image)
        turned = []
        for a in ANGLES:
            m = cv2.getRotationMatrix2D((w * 0.5, h * 0.6), a, 1.0)
            turned.append(reader.read(cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REPLICATE))[0] - tilt + a)
        mirrored = reader.read(image[:, ::-1].copy())[0]
        leans = []
        for k in ZOOMS:
            m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), 0.0, k)
            leans.append(np.log(reader.read(cv2.warpAffine(image, m, (w, h)))[1] / width))
        tilt_errors += turned
        zoom_errors += [lean - np.log(k) for lean, k in zip(leans, ZOOMS, strict=True)]
        print(
            f"{name:26s} tilt {tilt:6.1f}°, mirrored {mirrored:6.1f}° (sum {tilt + mirrored:5.1f}); "
            f"rotation errors {np.round(turned, 1).tolist()}°; lean at zoom {ZOOMS}: {np.round(leans, 3).tolist()}"
        )
    t, z = np.abs(tilt_errors), np.abs(zoom_errors)
    print(
        f"rotation ({ANGLES}°): median |error| {np.nanmedian(t):.1f}°, largest {np.nanmax(t):.1f}°, "
        f"{np.sum(~np.isnan(t))}/{len(t)} read"
    )
    print(
        f"zoom (true ln: {np.round(np.log(ZOOMS), 3).tolist()}): median |error| {np.nanmedian(z):.3f}, largest "
        f"{np.nanmax(z):.3f}"
    )


def clip_table(folders: list[Path], consent: str) -> None:
    analyzer = Analyzer(signals=("behaviour",))
    clips = sorted(p for d in folders for p in d.iterdir() if p.suffix.lower() in (".mp4", ".mov"))
    for clip in clips:
        r = analyzer.analyze(clip, purpose="practice", jurisdiction="OTHER", consent=consent)
        if r.candidate_id is None:
            print(f"{clip.name:34s} no face")
            continue
        mine = r.faces.face_id == r.candidate_id
        p = r.faces.behaviour[mine][:, POSTURE_SLICE]
        times = r.times[r.faces.frame_pos[mine]]
        read = ~np.isnan(p[:, 1])
        posture = r.summary["behaviour"]["posture"]
        with warnings.catch_warnings():  # all-empty columns: nanmin and friends warn, and print nan
            warnings.simplefilter("ignore", RuntimeWarning)
            print(
                f"{clip.name:34s} readings {read.sum():3d}; body out of view {posture['body_out_of_view']['value']}; "
                f"lean {np.nanmin(p[:, 0]):+.2f}..{np.nanmax(p[:, 0]):+.2f}; |tilt| median "
                f"{np.nanmedian(np.abs(p[:, 1])):.1f}°; body_motion median {np.nanmedian(p[:, 2]):.3f}; "
                f"hand_near_face >= 0.5 at {np.round(times[p[:, 3] >= 0.5], 1).tolist()} s; "
                f"episodes {posture['hand_to_face']['value']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=Path, help="folder holding the FRAMES clips (development clips)")
    parser.add_argument("--clips", type=Path, nargs="*", default=[], help="folders of clips for the per-clip table")
    args = parser.parse_args()
    frames = {"sample 1 s": sample_frame(1.0, size=(1280, 720))}
    if args.videos:
        frames |= {name: frame_at(args.videos / name, t) for name, t in FRAMES}
    frame_checks(frames)
    if args.clips:
        sys.path.insert(0, str(Path(__file__).parent))
        from batch_tools import practice_args

        clip_table(args.clips, practice_args(Path("build") / "bench")[-1])


if __name__ == "__main__":
    main()
