"""The shapes every frame source shares: what was opened (SourceInfo), what comes out (Frame)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from facecue.errors import InputError

SourceKind = Literal["video", "image", "images"]


@dataclass(frozen=True)
class SourceInfo:
    """What was opened. For stills, fps and duration_s are 0 and time_s counts images."""

    path: str
    kind: SourceKind
    duration_s: float
    fps: float  # average frame rate; 0 for images
    width: int  # after rotation, i.e. as the frames come out
    height: int
    rotation: int  # clockwise degrees applied to make frames upright (0, 90, 180, 270)
    frame_count: int  # from the container when it says so, else duration x fps
    codec: str
    has_audio: bool
    sha256: str
    files: tuple[str, ...] = ()  # stills: each image's file name in analysis order (frames.csv's source column)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["files"] = list(self.files)
        if not self.files:  # videos and older results have no such key
            del out["files"]
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceInfo:
        """As result.json records it. A hand-made or partial record reads as unknown where it is silent:
        empty text, zero sizes and rates, no audio, no rotation; keys this version does not know are ignored."""
        defaults: dict[str, Any] = {
            "path": "",
            "kind": "video",
            "duration_s": 0.0,
            "fps": 0.0,
            "width": 0,
            "height": 0,
            "rotation": 0,
            "frame_count": 0,
            "codec": "",
            "has_audio": False,
            "sha256": "",
        }
        return cls(
            **{name: d.get(name, default) for name, default in defaults.items()}, files=tuple(d.get("files") or ())
        )


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its number in the source, its presentation time and the upright BGR image."""

    index: int
    time_s: float
    image: np.ndarray  # (H, W, 3) uint8 BGR

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"Frame.image must be (H, W, 3) uint8, got {self.image.shape} {self.image.dtype}")


class FrameSource:
    """An opened source: iterate it for Frames; iterating again starts again from `start`.

    `gaps` and `decode_errors` describe the latest iteration: each gap is (time of the last good
    frame, time of the next good frame) around a stretch that did not decode. Stills that fail to
    decode count as decode errors and their paths are listed in `skipped`.
    """

    def __init__(self, info: SourceInfo) -> None:
        self.info = info
        self.gaps: list[tuple[float, float]] = []
        self.decode_errors = 0
        self.skipped: list[str] = []

    def __iter__(self) -> Iterator[Frame]:
        self.gaps, self.decode_errors, self.skipped = [], 0, []
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        raise NotImplementedError


def sha256_file(path: Path) -> str:
    """Read in chunks by hashlib, so an hour of video never sits in memory."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sha256_files(paths: list[Path]) -> str:
    """One digest for a folder of stills: each file's name and digest, in order."""
    total = hashlib.sha256()
    for p in paths:
        try:
            digest = bytes.fromhex(sha256_file(p))
        except OSError:
            digest = b"unreadable"  # skipped when iterating too; its name still counts
        total.update(p.name.encode() + b"\0" + digest)
    return total.hexdigest()


def check_readable_file(path: Path) -> None:
    """The checks every file input shares, so each failure gets its own sentence."""
    if not path.exists():
        raise InputError(f"{path} does not exist.")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file.")
    try:
        size = path.stat().st_size
        with open(path, "rb"):
            pass
    except OSError as e:
        raise InputError(f"{path} cannot be read ({e.strerror or e}).") from e
    if size == 0:
        raise InputError(f"{path} is empty (0 bytes).")
