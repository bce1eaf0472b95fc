"""Stills as a frame source: one image file, or a folder of them in natural name order."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from facecue.errors import InputError
from facecue.io.source import (
    Frame,
    FrameSource,
    SourceInfo,
    SourceKind,
    check_readable_file,
    sha256_file,
    sha256_files,
)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def read_image(path: Path) -> np.ndarray | None:
    """BGR uint8, upright (cv2 applies EXIF orientation), or None when it does not decode."""
    # Bytes + imdecode rather than imread(path): the same result, and no path-encoding surprises.
    try:
        data = np.fromfile(path, np.uint8)
    except OSError:
        return None  # unreadable counts as undecodable: in a folder it is skipped, not fatal
    return cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None


def _natural_key(path: Path) -> list:
    # "img2" before "img10", as a person numbering files expects.
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class ImageSource(FrameSource):
    """Yields one Frame per decodable image; time_s and index are the image's position in the list."""

    def __init__(self, paths: list[Path], info: SourceInfo, start: float | None, end: float | None) -> None:
        super().__init__(info)
        self._paths = paths
        self.files = [p.name for p in paths]  # each image's file name, by frame index (frames.csv's `source`)
        self._start = start
        self._end = end

    def _frames(self) -> Iterator[Frame]:
        for i, path in enumerate(self._paths):
            if self._start is not None and i < self._start:
                continue
            if self._end is not None and i >= self._end:
                break
            image = read_image(path)
            if image is None:
                self.decode_errors += 1
                self.skipped.append(str(path))
                continue
            yield Frame(index=i, time_s=float(i), image=image)


def open_image(path: Path, start: float | None, end: float | None) -> ImageSource:
    check_readable_file(path)
    image = read_image(path)
    if image is None:
        raise InputError(f"{path} could not be decoded as an image.")
    info = _info(path, "image", [path], image)
    return ImageSource([path], info, start, end)


def open_image_folder(folder: Path, start: float | None, end: float | None) -> ImageSource:
    paths = sorted((p for p in folder.iterdir() if p.is_file() and is_image_path(p)), key=_natural_key)
    if not paths:
        raise InputError(f"{folder} contains no images ({', '.join(IMAGE_SUFFIXES)}).")
    # The first image that decodes gives the size; a folder where none decodes is an input error.
    first = next((img for img in map(read_image, paths) if img is not None), None)
    if first is None:
        raise InputError(f"None of the {len(paths)} images in {folder} could be decoded.")
    return ImageSource(paths, _info(folder, "images", paths, first), start, end)


def _info(path: Path, kind: SourceKind, paths: list[Path], first: np.ndarray) -> SourceInfo:
    codecs = sorted({p.suffix.lower().lstrip(".").replace("jpg", "jpeg") for p in paths})
    return SourceInfo(
        path=str(path),
        kind=kind,
        duration_s=0.0,
        fps=0.0,
        width=int(first.shape[1]),
        height=int(first.shape[0]),
        rotation=0,
        frame_count=len(paths),
        codec=",".join(codecs),
        has_audio=False,
        sha256=sha256_file(paths[0]) if kind == "image" else sha256_files(paths),
    )
