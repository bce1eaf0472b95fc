"""`facecue evaluate`: accuracy, macro-F1, per-class results, confusion matrix and calibration."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from facecue.emotion.metrics import classification_report, crowd_agreement, reliability_bins, softmax
from facecue.emotion.model import EmotionModel
from facecue.errors import OutputError
from facecue.labels import EMOTIONS


def evaluate(
    model: EmotionModel,
    images: np.ndarray,
    labels: np.ndarray,
    tta: bool = False,
    crowd_votes: np.ndarray | None = None,
) -> dict:
    """Metrics of calibrated probabilities; with tta the logits of the mirrored faces are averaged in. With
    `crowd_votes` (N, 7 FER+ vote counts) the readings are also scored against the crowd's majority."""
    started = time.perf_counter()
    logits = model.logits(images)
    plain_s = time.perf_counter() - started
    seconds = round(plain_s, 3)
    report_extra: dict[str, float | str] = {"seconds": seconds}
    if tta:
        started = time.perf_counter()
        logits = (logits + model.logits(images[:, :, ::-1].copy())) / 2
        report_extra["tta_cost"] = "horizontal-flip averaging: 2 forward passes per face"
        seconds = round(plain_s + time.perf_counter() - started, 3)
        report_extra["seconds"] = seconds
    probs = softmax(logits, model.info.temperature)
    report = classification_report(probs, labels)
    report["ece_uncalibrated"] = classification_report(softmax(logits), labels)["ece"]
    report["reliability"] = reliability_bins(probs, labels)
    report["model"] = {
        "name": model.info.name,
        "version": model.info.version,
        "sha256": model.info.sha256,
        "temperature": model.info.temperature,
    }
    report["tta"] = tta
    if crowd_votes is not None:
        report["ferplus"] = crowd_agreement(probs, crowd_votes, labels)
    report["faces_per_s"] = round(len(labels) / max(seconds, 1e-9), 1)
    report.update(report_extra)
    return report


def confusion_png(report: dict, path: Path) -> None:
    """Row-normalised confusion matrix as a PNG (drawn with OpenCV: no plotting dependency)."""
    cm = np.array(report["confusion_matrix"], dtype=np.float64)
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    cell, left, top = 70, 110, 40
    k = len(EMOTIONS)
    img = np.full((top + cell * k + 90, left + cell * k + 20, 3), 255, np.uint8)
    for i in range(k):
        for j in range(k):
            shade = int(255 * (1 - norm[i, j]))
            x, y = left + j * cell, top + i * cell
            cv2.rectangle(img, (x, y), (x + cell, y + cell), (255, shade, shade) if i != j else (shade, 255, shade), -1)
            cv2.rectangle(img, (x, y), (x + cell, y + cell), (200, 200, 200), 1)
            cv2.putText(
                img, f"{norm[i, j]:.2f}", (x + 12, y + 30), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
            )
            cv2.putText(
                img, f"{int(cm[i, j])}", (x + 12, y + 52), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1, cv2.LINE_AA
            )
        cv2.putText(
            img, EMOTIONS[i], (8, top + i * cell + 40), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
        )
        cv2.putText(
            img,
            EMOTIONS[i][:7],
            (left + i * cell + 6, top + k * cell + 22),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    cv2.putText(
        img,
        "rows: true label, columns: predicted (row-normalised)",
        (left, top + k * cell + 60),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.45,
        (60, 60, 60),
        1,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        f"{_model_name(report)}: accuracy {report['accuracy']:.3f}  macro-F1 {report['macro_f1']:.3f}",
        (8, 25),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.55,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.imwrite(str(path), img)


def _model_name(report: dict) -> str:
    """The model a plot is of, so two evaluations' pictures are never mistaken for each other."""
    model = report.get("model") or {}
    return f"{model.get('name', 'model')} {model.get('version', '')}".strip()


def reliability_png(report: dict, path: Path) -> None:
    """Reliability diagram: accuracy against confidence per bin, the diagonal is perfect calibration."""
    size, pad = 400, 50
    img = np.full((size + 2 * pad, size + 2 * pad, 3), 255, np.uint8)
    cv2.rectangle(img, (pad, pad), (pad + size, pad + size), (0, 0, 0), 1)
    cv2.line(img, (pad, pad + size), (pad + size, pad), (160, 160, 160), 1, cv2.LINE_AA)
    for b in report["reliability"]:
        if not b["count"]:
            continue
        x0, x1 = int(pad + b["lo"] * size), int(pad + b["hi"] * size)
        y = int(pad + size - b["accuracy"] * size)
        cv2.rectangle(img, (x0 + 1, y), (x1 - 1, pad + size), (200, 120, 40), -1)
        yc = int(pad + size - b["confidence"] * size)
        cv2.line(img, (x0 + 1, yc), (x1 - 1, yc), (0, 0, 200), 2)
    for tick in (0.0, 0.5, 1.0):  # both axes run 0..1: confidence across, accuracy up
        x, y = int(pad + tick * size), int(pad + size - tick * size)
        cv2.putText(img, f"{tick:g}", (x - 8, pad + size + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (60, 60, 60), 1)
        cv2.putText(img, f"{tick:g}", (pad - 24, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (60, 60, 60), 1)
    cv2.putText(img, _model_name(report), (pad, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(
        img,
        f"ECE {report['ece']:.3f} (before calibration {report['ece_uncalibrated']:.3f})",
        (pad, 38),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        "confidence",
        (pad + size // 2 - 40, pad + size + 46),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        "bars: accuracy, red: mean confidence",
        (pad + size - 230, pad + size + 30),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.4,
        (60, 60, 60),
        1,
        cv2.LINE_AA,
    )
    cv2.imwrite(str(path), img)


def write_evaluation(report: dict, out_dir: Path) -> dict[str, Path]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {
            "json": out_dir / "evaluation.json",
            "confusion": out_dir / "confusion_matrix.png",
            "reliability": out_dir / "reliability.png",
        }
        paths["json"].write_text(json.dumps(report, indent=2))
    except OSError as exc:
        raise OutputError(f"cannot write to {out_dir}: {exc.strerror or exc}.") from None
    confusion_png(report, paths["confusion"])
    reliability_png(report, paths["reliability"])
    return paths
