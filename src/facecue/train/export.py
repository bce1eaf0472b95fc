"""Export a trained checkpoint to ONNX with a JSON sidecar, calibrated on validation data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import torch

from facecue.emotion.metrics import classification_report, crowd_majority, fit_temperature, softmax
from facecue.labels import EMOTIONS
from facecue.train.data import FaceDataset
from facecue.train.network import AveragedNet, build_network, predict_heads


def quantize_int8(fp32_path: Path, out_path: Path, calibration_images: np.ndarray) -> None:
    """Static int8 quantisation (per-channel weights, uint8 activations): about 2x faster on CPU.

    Activation ranges are calibrated on training faces, never on the validation split.
    """
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            batches = np.array_split(
                calibration_images.astype(np.float32)[:, None], max(1, len(calibration_images) // 64)
            )
            self.batches = iter({"face": b} for b in batches)

        def get_next(self):
            return next(self.batches, None)

    prepared = out_path.with_suffix(".prep.onnx")
    quant_pre_process(str(fp32_path), str(prepared))
    # The first convolution (one per member of an averaged network) reads the standardised image itself through
    # one input channel; in int8 it cost up to 0.7 points of PublicTest accuracy and 1.8 of macro-F1
    # (docs/MODEL_CARD_V1.md); in float it costs 0.5% of the multiply-adds.
    graph = onnx.load(str(prepared)).graph
    one_channel = {i.name for i in graph.initializer if len(i.dims) == 4 and i.dims[1] == 1}
    image_convs = [node.name for node in graph.node if node.op_type == "Conv" and node.input[1] in one_channel]
    try:
        quantize_static(
            str(prepared),
            str(out_path),
            Reader(),
            quant_format=QuantFormat.QOperator,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=image_convs,
        )
    finally:
        prepared.unlink(missing_ok=True)


def load_network(checkpoints: Path | list[Path], mirror: bool = False) -> tuple[torch.nn.Module, list[dict]]:
    """The network to export and its checkpoints' states: one checkpoint's network as trained, or several v2
    networks (and/or each face's mirror image) averaged into one (train/network.py AveragedNet)."""
    paths = [checkpoints] if isinstance(checkpoints, Path) else list(checkpoints)
    states = [torch.load(path, map_location="cpu", weights_only=False) for path in paths]
    networks = []
    for state in states:
        network = build_network(state["options"])
        network.load_state_dict(state["model"])
        networks.append(network.eval())
    if len(networks) == 1 and not mirror:
        return networks[0], states
    if any(state["options"].get("arch", "v1") != "v2" for state in states):
        raise ValueError("only v2 networks are averaged (members or mirror images)")
    return AveragedNet(networks, mirror).eval(), states


def vote_share_grid(
    checkpoints: Path | list[Path], val_set: FaceDataset, val_votes: np.ndarray, mirror: bool = False
) -> list[dict]:
    """For v2 checkpoint(s): how each share of the votes head in the exported reading scores on validation.

    Per share: FER2013-label accuracy and macro-F1, agreement with the FER+ crowd's majority, the share of
    faces read neutral, and `score`, the mean of the label score ((accuracy + macro-F1) / 2) and the agreement.
    """
    model, _ = load_network(checkpoints, mirror)
    label_logits, vote_logits = predict_heads(model, val_set.images, torch.device("cpu"))
    log_label = np.log(softmax(label_logits) + 1e-12)
    log_votes = np.log(softmax(vote_logits) + 1e-12)
    majority = crowd_majority(val_votes)
    has = majority >= 0
    rows = []
    for share in np.round(np.linspace(0, 1, 11), 2):
        pred = ((1 - share) * log_label + share * log_votes).argmax(1)
        report = classification_report(np.eye(len(EMOTIONS))[pred], val_set.labels)
        agree = float((pred[has] == majority[has]).mean())
        rows.append(
            {
                "vote_share": float(share),
                "accuracy": report["accuracy"],
                "macro_f1": report["macro_f1"],
                "agrees_with_ferplus": agree,
                "read_neutral": float((pred == EMOTIONS.index("neutral")).mean()),
                "score": ((report["accuracy"] + report["macro_f1"]) / 2 + agree) / 2,
            }
        )
    return rows


def export_onnx(
    checkpoint: Path | list[Path],
    val_set: FaceDataset,
    out_path: Path,
    training_data: dict,
    name: str = "facecue-emotion",
    version: str = "0.0.0",
    license: str = "MIT",
    quantize_with: np.ndarray | None = None,
    equalize: bool = True,
    vote_share: float | None = None,
    vote_grid: list[dict] | None = None,
    mirror: bool = False,
) -> Path:
    """Write out_path (ONNX: 'face' (N,1,48,48) grey 0..255 -> 'logits', 'embedding') and its .json sidecar.

    With `quantize_with` (training faces), the model is stored as static int8. A v2 network's 'logits' are its
    two heads mixed at `vote_share` (train/network.py); several checkpoints, or `mirror`, export their average.
    """
    from facecue.emotion.model import EmotionModel  # runtime path: calibration is fitted on the exported graph

    model, states = load_network(checkpoint, mirror)
    state, options = states[0], states[0]["options"]
    arch = options.get("arch", "v1")
    if arch == "v2":
        if vote_share is None or not 0 <= vote_share <= 1:
            raise ValueError("a v2 network is exported with a vote_share between 0 and 1")
        model.vote_share.fill_(vote_share)
    model.eval()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fp32_path = out_path if quantize_with is None else out_path.with_suffix(".fp32.onnx")
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 48, 48),
        str(fp32_path),
        input_names=["face"],
        output_names=["logits", "embedding"],
        dynamic_axes={"face": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    if quantize_with is not None:
        quantize_int8(fp32_path, out_path, quantize_with)
        fp32_path.unlink()

    sidecar = {
        "name": name,
        "version": version,
        "labels": list(EMOTIONS),
        "input": {
            "name": "face",
            "size": [48, 48],
            "colour": "grey",
            "range": [0, 255],
            "equalize": equalize,
            "normalisation": "per-image standardisation inside the graph",
            "crop": "aligned face, eye line level, see facecue.vision.align",
        },
        "outputs": {"logits": "pre-softmax scores", "embedding": "penultimate features"},
        "architecture": {
            "class": type(model).__name__,
            "arch": arch,
            **{k: options[k] for k in ("width", "dropout")},
            **({"vote_share": vote_share, "vote_share_grid": vote_grid} if arch == "v2" else {}),
            **({"averaged": _averaged(checkpoint, states, mirror)} if isinstance(model, AveragedNet) else {}),
        },
        "training": {"data": training_data, "options": options, "best_epoch": state["epoch"] + 1},
        "precision": "float32"
        if quantize_with is None
        else f"int8 (static, per-channel weights; activations calibrated on {len(quantize_with)} training faces)",
        "temperature": 1.0,
        "license": license,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(out_path.read_bytes()).hexdigest(),
    }
    sidecar_path = out_path.with_suffix(".json")
    sidecar_path.write_text(json.dumps(sidecar, indent=2))

    runtime = EmotionModel.load(out_path)
    logits = runtime.logits(val_set.images)
    temperature = fit_temperature(logits, val_set.labels)
    before = classification_report(softmax(logits), val_set.labels)
    after = classification_report(softmax(logits, temperature), val_set.labels)
    sidecar["temperature"] = temperature
    sidecar["validation"] = {
        "split": training_data.get("val_split"),
        "n": after["n"],
        "accuracy": after["accuracy"],
        "macro_f1": after["macro_f1"],
        "ece_before_calibration": before["ece"],
        "ece_after_calibration": after["ece"],
        "nll_before_calibration": before["nll"],
        "nll_after_calibration": after["nll"],
        "per_class_recall": {k: v["recall"] for k, v in after["per_class"].items()},
    }
    sidecar_path.write_text(json.dumps(sidecar, indent=2))
    return out_path


def _averaged(checkpoints: Path | list[Path], states: list[dict], mirror: bool) -> dict:
    paths = [checkpoints] if isinstance(checkpoints, Path) else list(checkpoints)
    return {
        "mirror": mirror,
        "members": [
            {
                "checkpoint": str(path),
                "seed": state["options"]["seed"],
                "best_epoch": state["epoch"] + 1,
                # a fine-tuned member names what it started from and its parity weight (0: none)
                "init": state["options"].get("init", ""),
                "parity_weight": state["options"].get("parity_weight", 0.0),
            }
            for path, state in zip(paths, states, strict=True)
        ],
    }
