"""The emotion classifier at run time: an ONNX model plus its JSON sidecar, on onnxruntime."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facecue.emotion.metrics import softmax
from facecue.errors import ModelError
from facecue.labels import EMOTIONS

PACKAGED_MODELS = Path(__file__).parent / "models"
DEFAULT_MODEL = "default"
# Names that stand for a packaged file. `default` is v2 since 2026-12-05: it reads every group of FairFace's
# audit faces as angry or stressed less often than v1, and calm speech better (docs/MODEL_CARD.md); v1 stays
# loadable by name for comparison.
ALIASES = {"default": "v2"}


def list_models() -> list[str]:
    """Names of the models shipped inside the package, aliases included."""
    return sorted({p.stem for p in PACKAGED_MODELS.glob("*.onnx")} | set(ALIASES))


def resolve_model_path(name_or_path: str | Path | None) -> Path:
    """A packaged model name ('default') or a path to an exported .onnx with its .json sidecar."""
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    candidate = Path(name_or_path)
    # A packaged name wins over a file or folder of that name in the current folder (`train --out v2` made one).
    packaged = isinstance(name_or_path, str) and name_or_path in list_models()
    if not packaged and (candidate.suffix == ".onnx" or candidate.exists()):
        path = candidate
    else:
        path = PACKAGED_MODELS / f"{ALIASES.get(str(name_or_path), name_or_path)}.onnx"
        if not path.exists():
            raise ModelError(f"no model named '{name_or_path}'; packaged models: {', '.join(list_models()) or 'none'}.")
    if not path.is_file():
        raise ModelError(
            f"model file {path} " + ("is a folder, not an .onnx file." if path.is_dir() else "does not exist.")
        )
    if not path.with_suffix(".json").is_file():
        raise ModelError(f"model {path} has no sidecar {path.with_suffix('.json').name} beside it.")
    return path


def to_model_input(images: Sequence[np.ndarray] | np.ndarray, side: int = 48, equalize: bool = False) -> np.ndarray:
    """Face crops of any size, grey (H, W) or colour (H, W, 3 BGR) -> (N, 1, side, side) float32 0..255.

    With `equalize`, each crop's grey levels are histogram-equalised: most FER2013 faces were
    stored that way, so video crops are brought to the distribution the model learnt from.
    """
    if isinstance(images, np.ndarray) and images.ndim == 3 and images.shape[1:] == (side, side) and not equalize:
        return images.astype(np.float32)[:, None]
    batch = np.empty((len(images), 1, side, side), dtype=np.float32)
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        if image.shape != (side, side):
            shrink = image.shape[0] > side
            image = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        batch[i, 0] = cv2.equalizeHist(image) if equalize else image
    return batch


@dataclass(frozen=True)
class ModelValidation:
    """The sidecar's `validation`: how the calibrated model did on held-out faces."""

    split: str | None
    n: int
    accuracy: float
    macro_f1: float
    ece: float | None  # expected calibration error after calibration (older sidecars: the one `ece` they have)
    per_class_recall: dict[str, float]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelValidation:
        ece = d.get("ece_after_calibration", d.get("ece"))
        return cls(
            split=d.get("split"),
            n=int(d.get("n", 0)),
            accuracy=float(d.get("accuracy", math.nan)),
            macro_f1=float(d.get("macro_f1", math.nan)),
            ece=None if ece is None else float(ece),
            per_class_recall={str(k): float(v) for k, v in (d.get("per_class_recall") or {}).items()},
        )


@dataclass(frozen=True)
class ModelSidecar:
    """A model's JSON sidecar (written by `facecue train`, see train/export.py): the fields the runtime reads,
    typed, and the whole document in `raw` for records that quote it."""

    name: str
    version: str
    labels: tuple[str, ...]
    input_size: tuple[int, int]  # (height, width) of the grey face crop
    equalize: bool  # histogram-equalise each crop first (most FER2013 faces were stored that way)
    temperature: float  # the calibration's softmax temperature
    sha256: str | None  # of the .onnx file, when recorded
    validation: ModelValidation | None  # None before calibration (or for hand-made models)
    architecture: dict[str, Any]  # the network's class and sizes, as training recorded them
    training: dict[str, Any]  # the data (with hashes) and options it was trained with
    license: str | None
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any], default_name: str = "") -> ModelSidecar:
        """KeyError, TypeError or ValueError when a field the runtime needs is missing or malformed."""
        height, width = (int(v) for v in d["input"]["size"])
        return cls(
            name=str(d.get("name", default_name)),
            version=str(d.get("version", "")),
            labels=tuple(d.get("labels", ())),
            input_size=(height, width),
            equalize=bool(d["input"].get("equalize", False)),
            temperature=float(d.get("temperature", 1.0)),
            sha256=d.get("sha256"),
            validation=ModelValidation.from_dict(d["validation"]) if d.get("validation") else None,
            architecture=dict(d.get("architecture") or {}),
            training=dict(d.get("training") or {}),
            license=d.get("license"),
            raw=d,
        )

    @classmethod
    def read(cls, model_path: Path) -> ModelSidecar:
        """The sidecar beside an .onnx model; ModelError when it cannot be read or lacks what the runtime needs."""
        path = model_path.with_suffix(".json")
        try:
            return cls.from_dict(json.loads(path.read_text()), default_name=model_path.stem)
        except json.JSONDecodeError as exc:
            raise ModelError(f"the sidecar of {model_path} is not valid JSON: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the sidecar of {model_path} lacks a field or has a malformed one ({exc!r}).") from None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    path: Path
    sha256: str  # of the loaded file, checked against the sidecar's
    labels: tuple[str, ...]
    input_size: tuple[int, int]
    temperature: float
    equalize: bool
    sidecar: ModelSidecar


class EmotionModel:
    """Calibrated seven-emotion probabilities and embeddings for batches of face crops."""

    def __init__(self, session, info: ModelInfo, batch_size: int = 256) -> None:
        self.session = session
        self.info = info
        self.batch_size = batch_size

    @classmethod
    def load(cls, name_or_path: str | Path | None = None, threads: int = 1) -> EmotionModel:
        import onnxruntime as ort

        path = resolve_model_path(name_or_path)
        sidecar = ModelSidecar.read(path)
        if sidecar.labels != EMOTIONS:
            raise ModelError(f"model {path} has labels {list(sidecar.labels)}, expected {list(EMOTIONS)}.")
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if sidecar.sha256 not in (None, digest):
            raise ModelError(f"model {path} does not match the sha256 in its sidecar; the file is corrupt or replaced.")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
            raise ModelError(f"onnxruntime cannot load {path}: {exc}") from None
        info = ModelInfo(
            name=sidecar.name,
            version=sidecar.version,
            path=path,
            sha256=digest,
            labels=EMOTIONS,
            input_size=sidecar.input_size,
            temperature=sidecar.temperature,
            equalize=sidecar.equalize,
            sidecar=sidecar,
        )
        return cls(session, info)

    def _run(self, images) -> tuple[np.ndarray, np.ndarray]:
        x = to_model_input(images, self.info.input_size[0], self.info.equalize)
        logits, embeds = [], []
        for i in range(0, len(x), self.batch_size):
            lo, em = self.session.run(None, {"face": x[i : i + self.batch_size]})
            logits.append(lo)
            embeds.append(em)
        if not logits:
            return np.zeros((0, len(EMOTIONS)), np.float32), np.zeros((0, 0), np.float32)
        return np.concatenate(logits), np.concatenate(embeds)

    def logits(self, images) -> np.ndarray:
        return self._run(images)[0]

    def predict(self, images) -> np.ndarray:
        """(N, 7) float32 calibrated probabilities in EMOTIONS order."""
        return softmax(self.logits(images), self.info.temperature).astype(np.float32)

    def embed(self, images) -> np.ndarray:
        """(N, D) float32 penultimate features."""
        return self._run(images)[1].astype(np.float32)
