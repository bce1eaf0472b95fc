"""Uploaded media on disk: limits, content sniffing, generated names.

Every interview gets its own folder `<media>/interviews/<interview id>/` named by the service; uploaded files
inside it get fixed names (`video.<ext>`, `questions.<ext>`, `transcript.<ext>`) where the extension comes from
what the bytes are, never from the client's file name, so no upload can choose where it lands. The folder
holds a governance subject manifest (`subject.json`), so an erasure claims all of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import BinaryIO

from facecue.errors import InputError

CHUNK = 1 << 20
TEXT_LIMIT = 2 * 1024 * 1024
TEXT_SUFFIXES = (".txt", ".json", ".srt", ".vtt", ".csv")


class UploadTooLarge(InputError):
    """The upload is over the size limit (HTTP 413)."""


class UnsupportedMedia(InputError):
    """The upload is not a kind of file the service accepts (HTTP 415)."""


def sniff_container(head: bytes) -> str | None:
    """The container a file's first bytes show (its magic number), as the extension to store it under."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return ".mov" if head[8:10] == b"qt" else ".mp4"  # ISO base media: mp4, m4v, 3gp, mov
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return ".webm" if b"webm" in head[:64] else ".mkv"  # Matroska / WebM (EBML header)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ".avi"
    if head[:3] == b"FLV":
        return ".flv"
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return ".ts"  # MPEG transport stream: sync byte every 188 bytes
    return None


def private_folder(folder: Path) -> Path:
    """Make `folder` (and its missing parents) with mode 700: uploads and results are personal data."""
    for parent in reversed([folder, *folder.parents]):
        if not parent.exists():
            parent.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    return folder


def interview_folder(media_dir: Path, interview_id: str) -> Path:
    if not interview_id.isalnum():  # ids are generated hex; anything else is a bug, never a path
        raise ValueError("bad interview id")
    return Path(media_dir) / "interviews" / interview_id


def _copy_limited(src: BinaryIO, dest: Path, limit: int, what: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with os.fdopen(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        while chunk := src.read(CHUNK):
            size += len(chunk)
            if size > limit:
                out.close()
                dest.unlink()
                raise UploadTooLarge(f"the {what} is larger than the limit of {limit // (1024 * 1024)} MB.")
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def save_video(src: BinaryIO, folder: Path, limit: int) -> tuple[Path, str, int]:
    """Check and store an uploaded video: magic bytes first, then PyAV must find a decodable video stream.

    Returns (path, sha256, size). Raises UnsupportedMedia / UploadTooLarge with the reason.
    """
    head = src.read(512)
    suffix = sniff_container(head)
    if suffix is None:
        raise UnsupportedMedia(
            "the upload is not a video file this service accepts (MP4, MOV, MKV, WebM, AVI, FLV "
            "or MPEG-TS, recognised by its content, not its name)."
        )
    private_folder(folder)
    path = folder / f"video{suffix}"
    tmp = folder / f".upload{suffix}"

    class _Prefixed:  # the bytes already read for sniffing, then the rest
        def __init__(self) -> None:
            self.first = head

        def read(self, n: int) -> bytes:
            if self.first:
                out, self.first = self.first, b""
                return out
            return src.read(n)

    sha, size = _copy_limited(_Prefixed(), tmp, limit, "video")
    try:
        _probe(tmp)
    except UnsupportedMedia:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path, sha, size


def _probe(path: Path) -> None:
    import av

    try:
        with av.open(str(path)) as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise UnsupportedMedia("the upload has no video stream.")
            for frame in container.decode(stream):  # one decodable frame proves more than a header
                if frame.width and frame.height:
                    return
                break
    except UnsupportedMedia:
        raise
    except (av.error.FFmpegError, OSError, ValueError, StopIteration):
        pass
    raise UnsupportedMedia(
        "the upload looks like a video container, but no video frame in it can be decoded (damaged or cut short?)."
    )


def save_text(src: BinaryIO, folder: Path, stem: str, client_name: str | None) -> Path:
    """Store a questions or transcript file: UTF-8 text up to 2 MB, under a fixed name."""
    suffix = Path(client_name or "").suffix.lower()
    suffix = suffix if suffix in TEXT_SUFFIXES else ".txt"
    private_folder(folder)
    path = folder / f"{stem}{suffix}"
    _copy_limited(src, path, TEXT_LIMIT, f"{stem} file")
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        path.unlink()
        raise UnsupportedMedia(f"the {stem} file must be UTF-8 text.") from None
    return path


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
