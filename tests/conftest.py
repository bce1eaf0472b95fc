"""Shared fixtures: small data the tests make themselves (nothing from ../shared)."""

from __future__ import annotations

import gzip
from pathlib import Path

import cv2
import numpy as np
import pytest

from facecue.labels import EMOTIONS


def pattern_faces(n_per_class: int, seed: int = 0, side: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """A learnable stand-in for faces: class k is a bright bar at row band k on a noisy background."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(len(EMOTIONS)):
        for _ in range(n_per_class):
            img = rng.normal(90, 20, (side, side))
            top = 3 + k * 6 + int(rng.integers(-1, 2))
            img[top : top + 4, 6:42] += 120
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(k)
    return np.stack(images), np.array(labels)


def write_fer_csv(
    path: Path, images: np.ndarray, labels: np.ndarray, usages: list[str], bad_rows: dict[int, str] | None = None
) -> Path:
    lines = ["emotion,pixels,Usage"]
    for i, (img, lab, use) in enumerate(zip(images, labels, usages, strict=False)):
        pixels = " ".join(map(str, img.ravel().tolist()))
        if bad_rows and i in bad_rows:
            pixels = bad_rows[i]
        lines.append(f"{lab},{pixels},{use}")
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def model_files():
    """The MediaPipe model files: downloaded from PyPI on the first run, then taken from the user cache."""
    from facecue.vision.models import install_models

    return install_models()


@pytest.fixture(scope="session")
def practice_consent(tmp_path_factory) -> Path:
    """A valid consent record (JSON) of a subject's own practice run in a jurisdiction the table calls OTHER:
    every analysis of a person states its purpose and jurisdiction, and every row of the policy needs consent."""
    from facecue.governance import ConsentRecord, render_notice

    notice = render_notice("practice", "OTHER", "facecue tests")
    return ConsentRecord.for_notice(notice, "test-subject").save(tmp_path_factory.mktemp("consent") / "consent.json")


@pytest.fixture(scope="session")
def practice(practice_consent) -> dict:
    """Keyword arguments of Analyzer.analyze / facecue.analyze for a consented practice analysis."""
    return {"purpose": "practice", "jurisdiction": "OTHER", "consent": str(practice_consent)}


@pytest.fixture(scope="session")
def practice_args(practice_consent) -> list[str]:
    """The same as `facecue analyze` / `facecue live` / `facecue batch` flags."""
    return ["--purpose", "practice", "--jurisdiction", "OTHER", "--consent", str(practice_consent)]


@pytest.fixture(scope="session")
def pattern_data():
    train = pattern_faces(40, seed=1)
    val = pattern_faces(12, seed=2)
    return train, val


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, pattern_data):
    """A real model trained for a few epochs on pattern faces and exported to ONNX (needs torch)."""
    pytest.importorskip("torch")
    from facecue.train.data import FaceDataset
    from facecue.train.export import export_onnx
    from facecue.train.trainer import TrainOptions, train

    (xt, yt), (xv, yv) = pattern_data
    out = tmp_path_factory.mktemp("tiny_model")
    train_set = FaceDataset(xt, yt, [str(i) for i in range(len(yt))])
    val_set = FaceDataset(xv, yv, [str(i) for i in range(len(yv))])
    # float32: bf16 autocast is emulated (and rounds differently) on CPUs without AVX-512 BF16, and the tests
    # below compare this tiny model's readings closely.
    report = train(
        train_set,
        val_set,
        out,
        TrainOptions(epochs=4, batch_size=32, lr=0.02, width=8, warmup_epochs=1, seed=3, precision="fp32"),
        log=lambda line: None,
    )
    path = export_onnx(out / "best.pt", val_set, out / "model.onnx", {"path": "pattern-faces"}, name="tiny")
    return path, report


def save_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)
    return path
