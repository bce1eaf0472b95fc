"""The fairness audit: run the face pipeline on every labelled still image, then measure group disparities.

Images go through the same detector, face mesh, quality gate and calibrated classifier as a video frame
(`Analyzer.find_faces`), so a group's detection and abstention rates are those a candidate would meet.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tqdm import tqdm

from facecue import __version__
from facecue.errors import InputError
from facecue.fairness.metrics import AuditSettings, fairness_metrics
from facecue.fairness.records import CUE_LABELS, CUE_NAME, CUE_THRESHOLD, ImageRecords
from facecue.fairness.split import SPLITS, image_fingerprint, split_of
from facecue.io.images import read_image
from facecue.labels import EMOTIONS, NUM_EMOTIONS
from facecue.result import ModelRef

if TYPE_CHECKING:  # the pipeline loads onnxruntime and the face models; import it only to run
    from facecue.pipeline import Analyzer, FrameFaces

SCHEMA = "facecue.fairness/1"
FAIRFACE_CREDIT = "FairFace (Kärkkäinen and Joo, WACV 2021), CC BY 4.0"
FAIRFACE_COLUMNS = ("file", "age", "gender", "race", "service_test")
BATCH = 256  # aligned crops per classifier call
MISSING = "(missing)"  # the group value of a row whose group cell is empty


@dataclass(frozen=True)
class LabelTable:
    """The labels CSV, checked: image paths (relative to the image folder), group values and true labels."""

    files: tuple[str, ...]
    groups: dict[str, tuple[str, ...]]
    truth: np.ndarray  # (N,) int64, -1 where the cell is empty or there is no truth column
    columns: tuple[str, ...]
    sha256: str


def load_labels(images: Path, labels: Path, group_cols: list[str], truth_col: str | None = None) -> LabelTable:
    """Read and check the labels CSV; every problem is an InputError with one sentence."""
    if not images.is_dir():
        raise InputError(f"the image folder {images} does not exist or is not a folder.")
    if not labels.is_file():
        raise InputError(
            f"the labels file {labels} " + ("is a folder, not a CSV file." if labels.is_dir() else "does not exist.")
        )
    if not group_cols:
        raise InputError("--group-cols needs at least one column name, e.g. race,gender.")
    data = labels.read_bytes()
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        header = tuple(reader.fieldnames or ())
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{labels} is not a readable UTF-8 CSV file: {exc}.") from None
    needed = ["file", *group_cols] + ([truth_col] if truth_col else [])
    missing = [c for c in needed if c not in header]
    if missing:
        raise InputError(
            f"{labels} has no column {', '.join(repr(c) for c in missing)} (it has {', '.join(header) or 'none'})."
        )
    if not rows:
        raise InputError(f"{labels} has a header but no rows.")
    truth = np.array([_label_index(r[truth_col], labels) for r in rows] if truth_col else [-1] * len(rows), np.int64)
    return LabelTable(
        files=tuple(r["file"] for r in rows),
        groups={c: tuple(r[c].strip() or MISSING for r in rows) for c in group_cols},
        truth=truth,
        columns=header,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def select_split(table: LabelTable, split: str) -> LabelTable:
    """The rows of one split: 'all', or the 'fit' / 'audit' rows of fairness/split.py."""
    if split == "all":
        return table
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}: use all, {' or '.join(SPLITS)}.")
    keep = [i for i, name in enumerate(table.files) if split_of(name) == split]
    if not keep:
        raise InputError(f"no row of the labels falls in the {split} split.")
    return _rows(table, keep)


def _rows(table: LabelTable, keep: list[int]) -> LabelTable:
    return replace(
        table,
        files=tuple(table.files[i] for i in keep),
        groups={c: tuple(v[i] for i in keep) for c, v in table.groups.items()},
        truth=table.truth[keep],
    )


def check_not_trained_on(sidecar: dict, table: LabelTable, split: str, images: Path | None = None) -> frozenset[str]:
    """A model trained for group parity is audited only on faces it never saw.

    Its sidecar lists the fit images by content. On any split but `audit`, one of them among the rows is refused,
    whatever the labels file (a subset or re-saved copy of FairFace's labels passed the old check of the file's
    hash). On `audit`, the rows whose image is an exact copy of a fit image (FairFace holds such a pair) are
    returned, to be left out. A sidecar from before that list falls back to the hash of the labels file."""
    parity = sidecar.get("training", {}).get("data", {}).get("parity")
    if not parity:
        return frozenset()
    seen = set(parity.get("fit_images_sha256") or ())
    if not seen or images is None:
        if parity.get("labels_sha256") == table.sha256 and split != "audit":
            raise InputError(
                f"this model was trained on the '{parity['split']}' rows of these labels (group parity); "
                "audit it with --split audit, the rows it never saw."
            )
        return frozenset()
    rows = select_split(table, split).files
    copies = frozenset(n for n in rows if (images / n).is_file() and image_fingerprint(images / n) in seen)
    if copies and split != "audit":
        raise InputError(
            f"{len(copies)} of the images to audit are ones this model was fine-tuned on for group parity; audit it "
            f"on the others (for {parity.get('labels', 'its labels file')}: --split audit)."
        )
    return copies


def without_rows(table: LabelTable, names: frozenset[str]) -> LabelTable:
    """The table less the rows of these files."""
    return _rows(table, [i for i, name in enumerate(table.files) if name not in names])


def _label_index(text: str | None, labels: Path) -> int:
    """An emotion name (any case) or its FER2013 index 0-6; an empty cell means 'no true label'."""
    value = (text or "").strip().lower()
    if not value:
        return -1
    if value in EMOTIONS:
        return EMOTIONS.index(value)
    if value.isdigit() and int(value) < NUM_EMOTIONS:
        return int(value)
    raise InputError(
        f"{labels} has the true label '{text}', which is neither one of {', '.join(EMOTIONS)} "
        f"nor an index 0-{NUM_EMOTIONS - 1}."
    )


def pad_image(image: np.ndarray, pad: float) -> np.ndarray:
    """Add `pad` x the image's size of replicated border on every side. Dataset crops that the face fills are
    far from the framing the full-range detector is built for (a face in a webcam view), so padding makes a
    tight crop look like a frame, and detection rates then compare faces rather than crop margins."""
    if pad <= 0:
        return image
    top, side = round(pad * image.shape[0]), round(pad * image.shape[1])
    return cv2.copyMakeBorder(image, top, top, side, side, cv2.BORDER_REPLICATE)


def chosen_face(faces: FrameFaces) -> int | None:
    """The image's subject: the most confident usable face, else the most confident face (None: no face)."""
    if not len(faces.boxes):
        return None
    usable = np.array([not r for r in faces.abstain])
    return int(np.lexsort((faces.scores, usable))[-1])


def classify_crops(records: ImageRecords, crops: np.ndarray, crop_rows: np.ndarray, model) -> ImageRecords:
    """The records with `model`'s calibrated probabilities for the usable crops (rows `crop_rows`): one run of
    the face stages serves the audit of several models (bench/fairness_models.py)."""
    probs = np.full((len(records), NUM_EMOTIONS), np.nan, np.float32)
    for start in range(0, len(crops), BATCH):
        probs[crop_rows[start : start + BATCH]] = model.predict(crops[start : start + BATCH])
    return replace(records, probs=probs)


def audit_faces(
    analyzer: Analyzer, table: LabelTable, images: Path, pad: float = 0.5, progress: bool = False
) -> tuple[ImageRecords, np.ndarray, np.ndarray, list[str]]:
    """The face stages of the audit: records without probabilities, the usable aligned crops (M, 48, 48), the
    record row of each crop, and the files that did not decode."""
    keep, unreadable = [], []
    n_faces, det_score, quality, abstain = [], [], [], []
    crops, crop_rows = [], []
    for i, name in enumerate(tqdm(table.files, unit="image", desc="auditing", disable=not progress)):
        image = read_image(images / name)
        if image is None:
            unreadable.append(name)
            continue
        faces = analyzer.find_faces(pad_image(image, pad))
        n_faces.append(len(faces.boxes))
        best = chosen_face(faces)
        det_score.append(faces.scores[best] if best is not None else np.nan)
        quality.append(faces.quality[best] if best is not None else np.nan)
        abstain.append(faces.abstain[best] if best is not None else "")
        if best is not None and not faces.abstain[best]:
            crops.append(faces.aligned[best])
            crop_rows.append(len(keep))
        keep.append(i)
    if not keep:
        raise InputError(f"none of the {len(table.files)} images listed could be read from {images}.")
    rows = np.array(keep)
    n_faces_arr = np.array(n_faces, np.int64)
    records = ImageRecords(
        files=tuple(table.files[i] for i in keep),
        groups={c: tuple(v[i] for i in keep) for c, v in table.groups.items()},
        detected=n_faces_arr > 0,
        n_faces=n_faces_arr,
        det_score=np.array(det_score, np.float32),
        quality=np.array(quality, np.float32),
        abstain=tuple(abstain),
        probs=np.full((len(keep), NUM_EMOTIONS), np.nan, np.float32),
        truth=table.truth[rows],
    )
    stacked = np.stack(crops) if crops else np.zeros((0, 48, 48), np.uint8)  # no usable face: nothing to classify
    return records, stacked, np.array(crop_rows, np.int64), unreadable


def run_audit(
    images: Path,
    labels: Path,
    group_cols: list[str],
    truth_col: str | None = None,
    *,
    pad: float = 0.5,
    model: str = "default",
    settings: AuditSettings | None = None,
    attribution: str | None = None,
    progress: bool = False,
    split: str = "all",
    against: str | None = None,
) -> tuple[ImageRecords, dict]:
    """The whole audit: (per-image records, the report document written to fairness.json). With `against` (a
    model name or path), the same faces are also read by that reference model and compared group by group
    (facecue.fairness.compare), in the document's `against`."""
    from facecue.emotion.model import EmotionModel
    from facecue.pipeline import Analyzer

    settings = settings or AuditSettings()
    table = load_labels(Path(images), Path(labels), group_cols, truth_col)
    if pad < 0:
        raise InputError(f"--pad must be zero or more, not {pad}.")
    analyzer = Analyzer(fps=None, model=model)
    reference = EmotionModel.load(against) if against else None
    trained_on: frozenset[str] = frozenset()
    for checked in (analyzer.model, reference):  # neither model may be audited on faces it trained on
        if checked is not None:
            trained_on |= check_not_trained_on(checked.info.sidecar.raw, table, split, Path(images))
    table = without_rows(select_split(table, split), trained_on)
    bare, crops, crop_rows, unreadable = audit_faces(analyzer, table, Path(images), pad, progress)
    records = classify_crops(bare, crops, crop_rows, analyzer.model)
    if attribution is None and set(FAIRFACE_COLUMNS) <= set(table.columns):
        attribution = FAIRFACE_CREDIT  # FairFace's licence asks every report that uses it to credit it
    doc = {
        "schema": SCHEMA,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "facecue_version": __version__,
        "models": analyzer.models_info().to_dict(),
        "data": {
            "images": str(images),
            "labels": str(labels),
            "labels_sha256": table.sha256,
            "rows": len(table.files),
            "images_read": len(records),
            "unreadable": unreadable,
            "left_out_as_trained_on": sorted(trained_on),  # exact copies of images a model was fine-tuned on
            "attribution": attribution,
        },
        "options": {
            "group_cols": list(group_cols),
            "truth_col": truth_col,
            "pad": pad,
            "split": split,
            **settings.to_dict(),
        },
        "cue": {
            "name": CUE_NAME,
            "labels": list(CUE_LABELS),
            "threshold": CUE_THRESHOLD,
            "definition": f"P({') + P('.join(CUE_LABELS)}) >= {CUE_THRESHOLD} on a usable face",
            "note": "the per-frame test behind the interview's visible stress/discomfort cue (docs/SIGNALS.md); "
            "it reads the face, not the person's state, and is not validated against any ground truth",
        },
        **fairness_metrics(records, list(group_cols), settings),
    }
    if reference is not None:
        from facecue.fairness.compare import compare_models

        compared = compare_models(
            records,
            classify_crops(bare, crops, crop_rows, reference),
            list(group_cols),
            n_boot=settings.n_boot,
            seed=settings.seed,
            level=settings.level,
            min_n=settings.min_n,
        )
        info = reference.info
        doc["against"] = {"model": ModelRef(info.name, info.version, info.sha256).to_dict(), **compared}
    return records, doc
