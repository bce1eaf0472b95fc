"""Gaze and eye contact on development clips: the numbers behind docs/SIGNALS.md, "Gaze".

Per clip (the largest face in each sampled frame): frames read, the share whose irises were readable, the
median gaze yaw/pitch, the share of readable frames with eye_contact >= 0.5, and how the gaze follows the
head (the slope of gaze yaw on head yaw: 0 when the eyes stay on the camera while the head turns, 1 when they
turn with it). With --mirror each frame is also read mirrored: the gaze yaws of a frame and its mirror image
should cancel. --fit prints the eyeball-centre constants of behaviour/gaze.py fitted on the clips, assuming
the speakers look at the camera. --dump DIR writes the frames with the lowest and highest eye contact.

Usage: python bench/gaze_clips.py CLIP... [--fps 5] [--mirror] [--fit] [--dump DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from facecue.behaviour.gaze import measure_gaze
from facecue.behaviour.measures import facial_actions
from facecue.io.video import open_source
from facecue.vision.detect import create_detector
from facecue.vision.finder import FaceFinder
from facecue.vision.iris import EYE_CORNERS, IrisModel
from facecue.vision.landmarks import CHIN, FOREHEAD, LEFT_EYE_OUTER, RIGHT_EYE_OUTER, FaceLandmarks, FaceMesh


def read(image: np.ndarray, faces, landmarks: FaceLandmarks, iris: IrisModel) -> dict | None:
    if not len(landmarks):
        return None
    k = int(np.argmax(faces.boxes[:, 2] * faces.boxes[:, 3]))
    one = FaceLandmarks(landmarks.points[k : k + 1], landmarks.presence[k : k + 1], landmarks.pose[k : k + 1])
    irises = iris(image, one.points)
    closed = facial_actions(one.points)[:, 0]
    gaze, why = measure_gaze(one.points, irises, closed)
    return {"pose": one.pose[0], "gaze": gaze[0], "why": why[0], "points": one.points[0], "irises": irises}


def fit_rows(r: dict) -> tuple[np.ndarray, np.ndarray]:
    """Rows of (iris - corner midpoint) / eye width against the head's forward and down axes (image x, y)."""
    p = r["points"].astype(np.float64)
    x = p[LEFT_EYE_OUTER] - p[RIGHT_EYE_OUTER]
    x /= np.linalg.norm(x)
    down = p[CHIN] - p[FOREHEAD]
    down -= down @ x * x
    down /= np.linalg.norm(down)
    fwd = -np.cross(x, down)
    a, b = [], []
    for eye, (c0, c1) in enumerate(EYE_CORNERS):
        mid, width = (p[c0] + p[c1]) / 2, np.linalg.norm(p[c1] - p[c0])
        off = (r["irises"].centres[0, eye] - mid[:2]) / width
        for d in range(2):
            a.append([fwd[d], down[d]])
            b.append(off[d])
    return np.array(a), np.array(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("clips", nargs="+")
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--mirror", action="store_true")
    parser.add_argument("--fit", action="store_true")
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    detector, mesh, iris = create_detector("blazeface"), FaceMesh(), IrisModel()
    fit_a, fit_b, mirror_sums = [], [], []
    per_clip: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    print("clip | frames | readable | gaze yaw / pitch (median) | eye contact >= 0.5 | slope gaze~head yaw")
    for clip in args.clips:
        finder, mirror_finder = FaceFinder(detector, mesh), FaceFinder(detector, mesh)
        rows, kept = [], []
        for frame in open_source(clip, fps=args.fps):
            r = read(frame.image, *finder(frame.image, frame.time_s), iris)
            if r is None:
                continue
            rows.append(r)
            if args.mirror and not r["why"]:
                flipped = np.ascontiguousarray(frame.image[:, ::-1])
                m = read(flipped, *mirror_finder(flipped, frame.time_s), iris)
                if m is not None and not m["why"]:
                    mirror_sums.append((r["gaze"][0], m["gaze"][0]))
            if args.dump and not r["why"]:
                kept.append((r["gaze"][2], frame.time_s, frame.image))
                kept = sorted(kept, key=lambda t: t[0])
                kept = kept[:3] + kept[-3:] if len(kept) > 6 else kept
        ok = [r for r in rows if not r["why"]]
        if args.fit and ok:
            rows_ab = [fit_rows(r) for r in ok]
            a, b = np.concatenate([x for x, _ in rows_ab]), np.concatenate([y for _, y in rows_ab])
            fit_a.append(a)
            fit_b.append(b)
            per_clip[Path(clip).name] = (a, b)
        name = Path(clip).name
        if not ok:
            print(f"{name} | {len(rows)} | 0 | - | - | -")
            continue
        g = np.array([r["gaze"] for r in ok])
        head = np.array([r["pose"][0] for r in ok])
        slope = np.polyfit(head, g[:, 0], 1)[0] if np.ptp(head) > 3 else float("nan")
        print(
            f"{name} | {len(rows)} | {len(ok) / len(rows):.0%} | {np.median(g[:, 0]):+.1f}° / "
            f"{np.median(g[:, 1]):+.1f}° | {np.mean(g[:, 2] >= 0.5):.0%} | {slope:.2f} (head yaw {np.ptp(head):.0f}°)"
        )
        if args.dump:
            args.dump.mkdir(parents=True, exist_ok=True)
            for p, t, image in kept:
                cv2.imwrite(str(args.dump / f"{Path(clip).stem}_{t:06.2f}s_ec{p:.2f}.jpg"), image)
    if mirror_sums:
        s = np.array(mirror_sums)
        turned = s[np.abs(s[:, 0]) > 5]
        flips = np.mean(np.sign(turned[:, 0]) != np.sign(turned[:, 1]))
        print(
            f"mirror: {len(s)} frames; gaze yaw against minus its mirror image's: correlation "
            f"{np.corrcoef(s[:, 0], -s[:, 1])[0, 1]:.2f}, median |sum| {np.median(np.abs(s.sum(1))):.1f}°; "
            f"of {len(turned)} frames with |gaze yaw| > 5°, {flips:.0%} flip sign"
        )
    if fit_a:
        a, b = np.concatenate(fit_a), np.concatenate(fit_b)
        coef = np.linalg.lstsq(a, b, rcond=None)[0]
        print(f"fit over {len(b) // 4} frames: CENTRE_FORWARD = {coef[0]:.3f}, CENTRE_DOWN = {coef[1]:.3f}")
        for name, (a, b) in per_clip.items():
            if len(b) >= 80:  # 20 frames or more
                c = np.linalg.lstsq(a, b, rcond=None)[0]
                print(f"  {name}: {c[0]:.3f}, {c[1]:.3f}")


if __name__ == "__main__":
    main()
