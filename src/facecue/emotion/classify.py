"""`facecue classify`: emotion probabilities for images that are already face crops."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import numpy as np
from tqdm import tqdm

from facecue.emotion.model import EmotionModel
from facecue.errors import InputError, OutputError
from facecue.labels import EMOTIONS
from facecue.train.data import iter_fer_rows, list_images, read_image

COLUMNS = ["id", *EMOTIONS, "label"]


def iter_crops(source: Path) -> Iterator[tuple[str, np.ndarray | None, str | None]]:
    """(id, image or None, error) in input order, from a FER-layout CSV (grey) or an image folder (BGR)."""
    if source.is_dir():
        for path in list_images(source):
            image = read_image(path, colour=True)
            yield path.relative_to(source).as_posix(), image, None if image is not None else "cannot decode image"
    elif source.is_file():
        for index, image, _, error in iter_fer_rows(source):
            yield str(index), image, error
    else:
        raise InputError(f"{source} does not exist.")


def count_inputs(source: Path) -> int | None:
    return len(list_images(source)) if source.is_dir() else None


ALIGN_MODES = ("auto", "always", "never")
ALIGN_MIN_SIDE = 64  # smaller crops (FER2013's 48 px) are already framed as the model expects


def classify_to_csv(
    source: Path,
    out_csv: Path,
    model: EmotionModel,
    batch: int = 256,
    progress: bool | None = None,
    align: str = "auto",
) -> dict:
    """Write one row per input (in input order); unreadable inputs get empty probability cells.

    align: 'auto' re-frames photos of at least 64 px like the video pipeline (detect, mesh, align)
    and falls back to the whole image when no face is confirmed; 'always' does so for every
    image; 'never' classifies each image as it is, resized.
    """
    source, out_csv = Path(source), Path(out_csv)
    if not source.exists():
        raise InputError(f"{source} does not exist.")
    if out_csv.resolve() == source.resolve():
        raise InputError(f"the predictions CSV {out_csv} would overwrite the input; choose another -o.")
    if batch < 1:
        raise InputError(f"--batch-size must be at least 1, not {batch}.")
    # Written beside the target and moved over it only when complete: a bad input or a crash leaves an earlier
    # predictions file as it was (it was emptied before the input was even read).
    partial = out_csv.with_name(f".{out_csv.name}.tmp")
    try:
        out_csv.parent.mkdir(parents=True, exist_ok=True)
        handle = partial.open("w", newline="")
    except OSError as exc:
        raise OutputError(f"cannot write {out_csv}: {exc.strerror or exc}.") from None
    try:
        counts = _classify_into(handle, source, model, batch, progress, align)
    except BaseException:
        handle.close()
        partial.unlink(missing_ok=True)
        raise
    try:
        os.replace(partial, out_csv)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputError(f"cannot write {out_csv}: {exc.strerror or exc}.") from None
    return counts


def _classify_into(
    handle: TextIO, source: Path, model: EmotionModel, batch: int, progress: bool | None, align: str
) -> dict:
    counts = {"classified": 0, "unreadable": 0, "aligned": 0}
    aligner = None
    if align != "never":
        from facecue.vision.crops import PhotoAligner

        aligner = PhotoAligner(side=model.info.input_size[0])
    with handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        chunk: list[tuple[str, np.ndarray | None]] = []

        def flush() -> None:
            good = [img for _, img in chunk if img is not None]
            probs = iter(model.predict(good)) if good else iter(())
            for ident, image in chunk:
                if image is None:
                    writer.writerow([ident, *[""] * len(EMOTIONS), ""])
                    continue
                p = next(probs)
                writer.writerow([ident, *(f"{v:.5f}" for v in p), EMOTIONS[int(p.argmax())]])
            chunk.clear()

        show = sys.stderr.isatty() if progress is None else progress
        bar = tqdm(total=count_inputs(source), unit="face", desc="classifying", disable=not show, file=sys.stderr)
        for ident, image, error in iter_crops(source):
            if error is not None:
                counts["unreadable"] += 1
                print(f"warning: skipped {ident}: {error}", file=sys.stderr)
            else:
                assert image is not None  # iter_crops gives an image whenever there is no error
                counts["classified"] += 1
                if aligner is not None and (align == "always" or min(image.shape[:2]) >= ALIGN_MIN_SIDE):
                    face = aligner(image)
                    if face is not None:
                        image = face
                        counts["aligned"] += 1
            chunk.append((ident, image))
            if len(chunk) >= batch:
                flush()
            bar.update(1)
        flush()
        bar.close()
    if counts["classified"] == 0 and counts["unreadable"] == 0:
        raise InputError(f"{source} holds no images to classify.")
    return counts
