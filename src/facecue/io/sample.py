"""The demo sample: an interview-like clip built from scikit-image's public-domain astronaut photo.

The main person drifts and zooms (face 160-250 px wide at 720p); during the middle third a
smaller, mirrored second head enters from the right; for about a second the main face leaves
the frame to the left. Every frame is a pure function of its time, so the frames are the same
on every run, and `sample_face_boxes` gives the ground truth for tests downstream.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import cv2
import numpy as np

# Where the face is in skimage.data.astronaut() (512x512): skin from brow to chin.
_FACE = (172, 66, 90, 110)  # x, y, w, h
_FACE_CENTRE = (_FACE[0] + _FACE[2] / 2, _FACE[1] + _FACE[3] / 2)
# The head with hair, copied (mirrored) as the second person.
_HEAD = (150, 10, 150, 190)
_SECOND_SCALE = 1.4  # of the 720p size: a face about 125 px wide, found by one detector pass
_AUDIO_RATE = 48000


@lru_cache(maxsize=1)
def _astronaut() -> np.ndarray:
    from skimage.data import astronaut  # imported here: only the sample needs scikit-image

    return cv2.cvtColor(astronaut(), cv2.COLOR_RGB2BGR)


@lru_cache(maxsize=4)
def _background(width: int, height: int) -> np.ndarray:
    # A plain wall, lighter at the top, so nothing in it looks like a face.
    ramp = np.linspace(200, 120, height, dtype=np.float32)[:, None, None]
    tint = np.array([1.0, 0.95, 0.85], np.float32)[None, None, :]
    return np.broadcast_to(ramp * tint, (height, width, 3)).astype(np.uint8)


@lru_cache(maxsize=4)
def _second_head(k: float) -> tuple[np.ndarray, np.ndarray]:
    """The mirrored head and its feathered oval mask (alpha 0..1), scaled by k."""
    x, y, w, h = _HEAD
    head = _astronaut()[y : y + h, x : x + w][:, ::-1]
    size = (round(w * _SECOND_SCALE * k), round(h * _SECOND_SCALE * k))
    head = cv2.resize(head, size, interpolation=cv2.INTER_AREA)
    mask: np.ndarray = np.zeros(head.shape[:2], np.float32)
    cv2.ellipse(mask, (size[0] // 2, size[1] // 2), (size[0] // 2 - 2, size[1] // 2 - 2), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 3 * k)[:, :, None]
    return head, mask


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _main_pose(t: float, seconds: float, width: int, height: int) -> tuple[float, float, float]:
    """Scale and face centre (x, y) of the main person at time t."""
    k = height / 720
    scale = k * (2.2 + 0.5 * math.sin(2 * math.pi * t / 7.0))
    cx = width * (0.45 + 0.12 * math.sin(2 * math.pi * t / 5.3))
    cy = height * (0.42 + 0.06 * math.sin(2 * math.pi * t / 4.1))
    # Leaving: slide left for 0.5 s, stay out for `away` seconds, come back in 0.5 s.
    away = min(1.0, 0.1 * seconds)
    leave = 0.8 * seconds - away / 2 - 0.5
    out = _smoothstep((t - leave) / 0.5) - _smoothstep((t - leave - 0.5 - away) / 0.5)
    cx -= out * (width * 0.6 + _FACE[2] * 2.7 * k)
    return scale, cx, cy


def _second_position(t: float, seconds: float, width: int, height: int) -> tuple[int, int] | None:
    """Top-left corner of the second head, or None outside the middle third."""
    t0, t1 = seconds / 3, 2 * seconds / 3
    if not t0 <= t < t1:
        return None
    k = height / 720
    w = round(_HEAD[2] * _SECOND_SCALE * k)
    walk = min(1.0, 0.15 * seconds)
    inside = _smoothstep((t - t0) / walk) - _smoothstep((t - t1 + walk) / walk)
    x = width - inside * (width * 0.22 + w)
    y = height * 0.25 + 10 * k * math.sin(2 * math.pi * t / 1.7)
    return round(x), round(y)


def sample_frame(t: float, seconds: float = 10.0, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """The sample's BGR frame at time t (what the encoder is given)."""
    width, height = size
    scale, cx, cy = _main_pose(t, seconds, width, height)
    m = np.array([[scale, 0, cx - scale * _FACE_CENTRE[0]], [0, scale, cy - scale * _FACE_CENTRE[1]]])
    frame = _background(width, height).copy()
    cv2.warpAffine(
        _astronaut(), m, (width, height), dst=frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
    )
    corner = _second_position(t, seconds, width, height)
    if corner is not None:
        head, mask = _second_head(height / 720)
        x, y = corner
        w = min(head.shape[1], width - x)
        if w > 0:
            region = frame[y : y + head.shape[0], x : x + w].astype(np.float32)
            blend = mask[:, :w] * head[:, :w] + (1 - mask[:, :w]) * region
            frame[y : y + head.shape[0], x : x + w] = blend.astype(np.uint8)
    return frame


def sample_face_boxes(
    t: float, seconds: float = 10.0, size: tuple[int, int] = (1280, 720)
) -> dict[str, tuple[int, int, int, int]]:
    """Ground truth: {"main" / "second": (x, y, w, h)} for faces at least half inside the frame."""
    width, height = size
    scale, cx, cy = _main_pose(t, seconds, width, height)
    fw, fh = _FACE[2] * scale, _FACE[3] * scale
    boxes = {"main": (cx - fw / 2, cy - fh / 2, fw, fh)}
    corner = _second_position(t, seconds, width, height)
    if corner is not None:
        s = _SECOND_SCALE * height / 720
        fx = _HEAD[0] + _HEAD[2] - (_FACE[0] + _FACE[2])  # the face's left edge once mirrored
        boxes["second"] = (corner[0] + fx * s, corner[1] + (_FACE[1] - _HEAD[1]) * s, _FACE[2] * s, _FACE[3] * s)
    out = {}
    for name, (x, y, w, h) in boxes.items():
        inside = max(0.0, min(x + w, width) - max(x, 0)) * max(0.0, min(y + h, height) - max(y, 0))
        if inside >= 0.5 * w * h:
            out[name] = (round(x), round(y), round(w), round(h))
    return out


def _speech(seconds: float, rate: int) -> np.ndarray:
    """Speech-like mono audio: voiced syllables (gliding pitch, harmonics) in phrases with pauses."""
    rng = np.random.default_rng(7)
    out = np.zeros(int(seconds * rate), np.float32)
    t = 0.4
    while t < seconds - 0.5:
        for _ in range(rng.integers(3, 8)):  # one phrase
            dur = float(rng.uniform(0.12, 0.3))
            n = int(dur * rate)
            start = int(t * rate)
            if start + n > out.size:
                break
            f0 = np.linspace(rng.uniform(110, 200), rng.uniform(100, 190), n)
            phase = 2 * np.pi * np.cumsum(f0) / rate
            voiced = sum(np.sin(h * phase) / h for h in range(1, 9))
            envelope = np.sin(np.linspace(0, np.pi, n)) ** 2
            out[start : start + n] = 0.25 * voiced * envelope
            t += dur + float(rng.uniform(0.03, 0.1))
        t += float(rng.uniform(0.4, 0.9))  # pause between phrases
    return out


def _x264_options(rate: Fraction) -> dict[str, str]:
    """Encoder settings that give the same bytes on every run and every machine.

    x264's AVX-512 code depends on memory outside the picture at some frame widths, so two encodes of the same
    frames in one process could differ from the first packet on (measured with PyAV 18 on an AVX-512 CPU: 320 px
    wide differed, 384, 640 and 1280 did not; `threads=1` alone did not fix it, x264 without AVX-512 did). x264
    takes no "all but AVX-512" setting, and its SIMD paths do not give the C code's bytes either (AVX2 and C
    outputs differed here), so `asm=0` keeps it on the portable C code: the same bytes whatever the CPU, at
    about 2.5x the time (the default 10 s 720p clip: 4 s -> 10 s on a busy 2-core machine), fine for a clip made
    once at set-up. One thread fixes the slice layout, which otherwise follows the core count.
    """
    return {"crf": "23", "preset": "veryfast", "g": str(round(2 * rate)), "threads": "1", "x264-params": "asm=0"}


def make_sample_video(
    path: str | Path, seconds: float = 10.0, fps: float = 25, size: tuple[int, int] = (1280, 720)
) -> Path:
    """Write the sample as H.264 (yuv420p) + AAC mono in an mp4 with its index at the front.

    The file is the same, byte for byte, on every run with the same PyAV build (see `_x264_options`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    n_frames = round(seconds * rate)
    audio = _speech(seconds, _AUDIO_RATE)
    # faststart puts the index first, so a copy cut short still plays up to the cut.
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=rate, options=_x264_options(rate))
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        sound = out.add_stream("aac", rate=_AUDIO_RATE, layout="mono")
        chunk = 1024
        next_audio = 0
        for i in range(n_frames):
            t = float(i / rate)
            frame = av.VideoFrame.from_ndarray(sample_frame(t, seconds, size), format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
            # Keep audio level with video so the muxer interleaves without buffering the clip.
            while next_audio < audio.size and next_audio < (i + 1) / rate * _AUDIO_RATE:
                samples = audio[next_audio : next_audio + chunk][None, :]
                block = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
                block.sample_rate, block.pts = _AUDIO_RATE, next_audio
                out.mux(sound.encode(block))
                next_audio += chunk
        out.mux(video.encode())
        out.mux(sound.encode())
    return path


def make_sample_images(folder: str | Path, seconds: float = 10.0) -> list[Path]:
    """A few stills in mixed formats: one face, two faces, no face, and the original photo."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    leave_mid = 0.8 * seconds
    stills = {
        "01_one_face.jpg": sample_frame(1.0, seconds),
        "02_two_faces.png": sample_frame(seconds / 2, seconds),
        "03_no_face.jpg": sample_frame(leave_mid, seconds),
        "04_astronaut.bmp": _astronaut(),
    }
    paths = []
    for name, image in stills.items():
        paths.append(folder / name)
        cv2.imwrite(str(paths[-1]), image)
    return paths
