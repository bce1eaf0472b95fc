"""JPEG crops of the candidate's face at a handful of times, re-decoded with PyAV seeking (cheap for a few)."""

from __future__ import annotations

import base64
from pathlib import Path

import av
import cv2
import numpy as np

from facecue.result import Result

THUMB_HEIGHT = 160
MARGIN = 0.35  # extra context around the face box, as a share of its size
JPEG_QUALITY = 80
ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


NEAR_S = 1.0  # a box read this close in time still frames the candidate's face at that moment


def candidate_box(result: Result, time_s: float) -> np.ndarray | None:
    """The candidate's face box at the analysed frame nearest time_s, or None when the candidate was not in view
    then (another person in view must not end up in the candidate's report as a picture)."""
    faces = result.faces
    if result.candidate_id is None or len(faces) == 0:
        return None
    mine = np.flatnonzero(faces.face_id == result.candidate_id)
    if len(mine) == 0:
        return None
    t = result.times[faces.frame_pos[mine]]
    nearest = int(np.argmin(np.abs(t - time_s)))
    return faces.boxes[mine[nearest]] if abs(t[nearest] - time_s) <= NEAR_S else None


def crop_face(image: np.ndarray, box: np.ndarray, blur: bool) -> np.ndarray:
    h, w = image.shape[:2]
    x, y, bw, bh = (float(v) for v in box)
    mx, my = MARGIN * bw, MARGIN * bh
    x0, y0 = int(max(0, x - mx)), int(max(0, y - my))
    x1, y1 = int(min(w, x + bw + mx)), int(min(h, y + bh + my))
    crop = image[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image
    scale = THUMB_HEIGHT / crop.shape[0]
    crop = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), THUMB_HEIGHT), interpolation=cv2.INTER_AREA)
    if blur:
        # Pixelate then smooth: identity is not recoverable, the overall expression shape stays visible.
        small = cv2.resize(
            crop, (max(1, crop.shape[1] // 12), max(1, THUMB_HEIGHT // 12)), interpolation=cv2.INTER_AREA
        )
        crop = cv2.GaussianBlur(
            cv2.resize(small, (crop.shape[1], THUMB_HEIGHT), interpolation=cv2.INTER_LINEAR), (0, 0), 3
        )
    return crop


def frames_at(path: str | Path, times: list[float], rotation: int = 0) -> dict[float, np.ndarray]:
    """BGR frames at (or just after) each time, one seek per time; times that cannot be decoded are left out."""
    out: dict[float, np.ndarray] = {}
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError):
        return out
    with container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tb = float(stream.time_base)  # type: ignore[arg-type]  # PyAV: Optional, but a demuxed stream has one
        origin = (stream.start_time or 0) * tb
        for t in sorted(times):
            try:
                container.seek(int((t + origin) / tb), stream=stream, backward=True)
                for frame in container.decode(stream):
                    if frame.pts is None or (frame.pts * tb - origin) >= t - 1e-3:
                        image = frame.to_ndarray(format="bgr24")
                        out[t] = cv2.rotate(image, ROTATE[rotation]) if rotation in ROTATE else image
                        break
            except av.FFmpegError:
                continue  # a damaged stretch: that highlight goes without a thumbnail
    return out


def thumbnails(result: Result, path: str | Path, times: list[float], blur: bool = False) -> dict[float, str]:
    """time -> "data:image/jpeg;base64,..." of the candidate's face; no picture where the candidate was not in view
    (the whole frame was shown, with whoever else was there)."""
    boxes = {t: candidate_box(result, t) for t in times}
    images = frames_at(path, [t for t, box in boxes.items() if box is not None], result.source.rotation)
    out = {}
    for t, image in images.items():
        box = boxes[t]
        assert box is not None  # only times with a box were decoded
        ok, jpeg = cv2.imencode(".jpg", crop_face(image, box, blur), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if ok:
            out[t] = "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")
    return out
