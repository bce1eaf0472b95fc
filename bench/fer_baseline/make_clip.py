"""Writes a synthetic 1280x720 30 fps H.264 test clip with one real face in it.

Moving colour gradient + drifting boxes as background, scikit-image's astronaut photo
(a frontal face, shipped inside scikit-image: no download) pasted in and drifting slowly.
Run with the project's venv (needs av, numpy, scikit-image):

    .venv/bin/python bench/fer_baseline/make_clip.py /tmp/astronaut_720p30.mp4 --seconds 20
"""

from __future__ import annotations

import argparse
from fractions import Fraction

import av
import numpy as np
from skimage import data


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    args = ap.parse_args()
    w, h, fps = args.width, args.height, args.fps
    face = data.astronaut()  # 512x512x3 RGB, face near the top centre
    fh, fw = face.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    with av.open(args.out, "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"preset": "medium", "crf": "23"}  # libx264 defaults otherwise (keyint 250)
        for i in range(round(args.seconds * fps)):
            t = i / fps
            img = np.empty((h, w, 3), np.uint8)
            img[..., 0] = (127 + 100 * np.sin(xx / 180 + t)).astype(np.uint8)
            img[..., 1] = (127 + 100 * np.sin(yy / 140 - 0.7 * t)).astype(np.uint8)
            img[..., 2] = (127 + 100 * np.sin((xx + yy) / 260 + 0.3 * t)).astype(np.uint8)
            for k in range(4):  # a few moving boxes
                bx = int((w - 120) * (0.5 + 0.45 * np.sin(0.4 * t + k * 1.7)))
                by = int((h - 120) * (0.5 + 0.45 * np.cos(0.3 * t + k * 2.3)))
                img[by : by + 120, bx : bx + 120] = (40 * k + 60, 200 - 40 * k, 90)
            x0 = int((w - fw) / 2 + 300 * np.sin(2 * np.pi * t / 10))
            y0 = int((h - fh) / 2 + 60 * np.sin(2 * np.pi * t / 7))
            img[y0 : y0 + fh, x0 : x0 + fw] = face
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


if __name__ == "__main__":
    main()
