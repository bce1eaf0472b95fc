"""Face-expression datasets as uint8 grey arrays: FER2013 CSV and class-per-folder trees."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facecue.errors import InputError
from facecue.labels import EMOTIONS

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}
FER_SIDE = 48


@dataclass
class FaceDataset:
    """Face crops (N, H, W) uint8 grey, labels (N,) int64 in EMOTIONS order, ids (N,) str."""

    images: np.ndarray
    labels: np.ndarray
    ids: list[str]
    skipped: Counter = field(default_factory=Counter)
    sha256: str = ""

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise ValueError("images must be (N, H, W) uint8")
        if len(self.labels) != len(self.images) or len(self.ids) != len(self.images):
            raise ValueError("images, labels and ids must have the same length")

    def __len__(self) -> int:
        return len(self.images)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels[self.labels >= 0], minlength=len(EMOTIONS))


def _open_text(path: Path):
    raw = path.open("rb")
    head = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    return io.TextIOWrapper(stream, encoding="utf-8", newline="")


def parse_fer_pixels(text: str) -> np.ndarray:
    """One FER2013 `pixels` cell -> (48, 48) uint8; raises ValueError when malformed."""
    values = np.array(text.split(), dtype=np.int64)
    if values.size != FER_SIDE * FER_SIDE or values.min() < 0 or values.max() > 255:
        raise ValueError(f"expected {FER_SIDE * FER_SIDE} grey levels in 0..255, got {values.size}")
    return values.astype(np.uint8).reshape(FER_SIDE, FER_SIDE)


def iter_fer_rows(path: Path, usage: str | None = None):
    """Yield (row_index, image or None, label or -1, error or None) from a FER2013-layout CSV.

    Row index counts data rows from 0 in file order (all splits), so ids are stable.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file.")
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or "pixels" not in header:
                raise InputError(f"{path} is not a FER2013-layout CSV (no 'pixels' column in the header).")
            pix_col = header.index("pixels")
            emo_col = header.index("emotion") if "emotion" in header else None
            use_col = header.index("Usage") if "Usage" in header else None
            for index, row in enumerate(reader):
                if usage is not None and (use_col is None or use_col >= len(row) or row[use_col] != usage):
                    continue
                try:
                    image = parse_fer_pixels(row[pix_col])
                    label = int(row[emo_col]) if emo_col is not None and row[emo_col] != "" else -1
                    if label >= len(EMOTIONS):
                        raise ValueError(f"emotion {label} is outside 0..6")
                    yield index, image, label, None
                except (ValueError, IndexError) as exc:
                    yield index, None, -1, str(exc)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_fer_csv(path: Path, usage: str | None = None) -> FaceDataset:
    """Load a FER2013-layout CSV (gzip accepted); `usage` picks a split such as 'Training'."""
    images, labels, ids, skipped = [], [], [], Counter()
    for index, image, label, error in iter_fer_rows(path, usage):
        if error is not None:
            skipped["unreadable row"] += 1
            continue
        images.append(image)
        labels.append(label)
        ids.append(str(index))
    if not images:
        where = f" with Usage={usage}" if usage else ""
        raise InputError(f"{path} has no readable rows{where}.")
    return FaceDataset(np.stack(images), np.array(labels, dtype=np.int64), ids, skipped, file_sha256(path))


def read_image(path: Path, colour: bool = False) -> np.ndarray | None:
    """Any image file -> (H, W) uint8 grey or (H, W, 3) BGR, or None when it cannot be decoded."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)


def list_images(root: Path) -> list[Path]:
    """Image files under root, recursively, in a stable (sorted) order."""
    return sorted(p for p in Path(root).rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def resolve_label(folder: str, label_map: dict[str, str] | None) -> int | None:
    """Map a folder name to an EMOTIONS index, through label_map when given; None if unknown."""
    name = folder.strip().lower()
    if label_map is not None:
        mapped = label_map.get(folder, label_map.get(name))
        if mapped is None:
            return None
        name = str(mapped).strip().lower()
    aliases = {
        "anger": "angry",
        "happiness": "happy",
        "sadness": "sad",
        "surprised": "surprise",
        "fearful": "fear",
        "disgusted": "disgust",
        "contempt": None,
        "neutrality": "neutral",
    }
    name = aliases.get(name, name)
    return EMOTIONS.index(name) if name in EMOTIONS else None


def load_image_folder(root: Path, label_map: dict[str, str] | None = None, side: int = FER_SIDE) -> FaceDataset:
    """Load a class-per-folder tree (root/<label>/**/image); unknown labels are skipped and counted."""
    import cv2

    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root} is not a folder.")
    images, labels, ids, skipped = [], [], [], Counter()
    digest = hashlib.sha256()
    for path in list_images(root):
        rel = path.relative_to(root)
        if len(rel.parts) < 2:
            skipped["image outside a class folder"] += 1
            continue
        label = resolve_label(rel.parts[0], label_map)
        if label is None:
            skipped[f"unknown label '{rel.parts[0]}'"] += 1
            continue
        image = read_image(path)
        if image is None:
            skipped["unreadable image"] += 1
            continue
        images.append(cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA))
        labels.append(label)
        ids.append(rel.as_posix())
        digest.update(rel.as_posix().encode())
        digest.update(images[-1].tobytes())
    if not images:
        raise InputError(f"{root} holds no images in folders named after known labels ({', '.join(EMOTIONS)}).")
    return FaceDataset(np.stack(images), np.array(labels, dtype=np.int64), ids, skipped, digest.hexdigest())


def load_dataset(path: Path, split: str | None = None, label_map: dict[str, str] | None = None) -> FaceDataset:
    """A FER-layout CSV (split = Usage value) or a class-per-folder tree (split = subfolder name)."""
    path = Path(path)
    if path.is_dir():
        if split and (path / split).is_dir():
            path = path / split
        return load_image_folder(path, label_map)
    return load_fer_csv(path, usage=split)


FERPLUS_COLUMNS = EMOTIONS  # the vote columns we use; FER+'s contempt, unknown and not_face are left out


def load_ferplus_votes(path: Path, dataset: FaceDataset, usage: str | None = None) -> np.ndarray:
    """(N, 7) float32 FER+ crowd votes for a FER2013-layout dataset's faces, matched on the data-row index.

    Faces FER+ dropped, or whose votes all went to labels outside our seven, get a row of zeros (no votes).
    Where the vote file says which split (`usage`) and FER2013 label (`fer_label`) each row had, the matched rows
    must mostly agree with the data (its split `usage` and its labels): otherwise the data is not the CSV the
    votes were made for (a subset numbers its rows from 0 again) and InputError says so.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"the FER+ vote file {path} does not exist.")
    position = {row_id: i for i, row_id in enumerate(dataset.ids)}
    votes = np.zeros((len(dataset), len(EMOTIONS)), np.float32)
    matched = other_split = labelled = same_label = 0
    try:
        with _open_text(path) as handle:
            reader = csv.DictReader(handle)
            missing = {"row", *FERPLUS_COLUMNS} - set(reader.fieldnames or ())
            if missing:
                raise InputError(f"{path} is not a FER+ vote file (no column {', '.join(sorted(missing))}).")
            for record in reader:
                i = position.get(record["row"])
                if i is None:
                    continue
                votes[i] = [float(record[name]) for name in FERPLUS_COLUMNS]
                matched += 1
                split = (record.get("usage") or "").strip()
                other_split += bool(usage and split and split != usage)
                label = (record.get("fer_label") or "").strip()
                if label and dataset.labels[i] >= 0:
                    labelled += 1
                    same_label += int(label) == dataset.labels[i]
    except (OSError, ValueError, csv.Error) as exc:
        raise InputError(f"cannot read the FER+ vote file {path}: {exc}") from None
    if 2 * other_split > matched:
        raise InputError(
            f"the FER+ votes in {path} are for other faces: {other_split} of the {matched} rows matched by index "
            f"are not {usage} rows there (votes are matched on the full FER2013 CSV's row numbers, so give that "
            "CSV with --split rather than a subset of it)."
        )
    if 2 * same_label < labelled:
        raise InputError(
            f"the FER+ votes in {path} are for other faces: their fer_label agrees with the data's label on only "
            f"{same_label} of the {labelled} rows matched by index (votes are matched on the full FER2013 CSV's "
            "row numbers, so give that CSV rather than a subset of it)."
        )
    return votes
