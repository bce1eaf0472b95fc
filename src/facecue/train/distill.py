"""Distillation: train a new network on the readings of trained ones (the teachers) as well as on the labels.

FER2013's labels are noisy (people agree with them only about 65-70% of the time). A soft target such
as "55% sad, 35% neutral" from an ensemble of trained networks says which faces are ambiguous, which a
single hard label cannot. The teachers read each training face once, as it is and mirrored, before
training starts; the averaged reading is the face's soft target for every augmented copy of it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecue.emotion.metrics import softmax
from facecue.errors import InputError
from facecue.train.network import build_network, predict_logits, read_checkpoint


def load_teacher(path: Path) -> nn.Module:
    state = read_checkpoint(Path(path), "--teacher")
    try:
        model = build_network(state["options"])
        model.load_state_dict(state["model"])
    except (KeyError, RuntimeError, TypeError) as exc:
        raise InputError(f"cannot load the teacher checkpoint {path}: {exc}") from None
    return model.eval()


def teacher_targets(
    paths: list[Path], images: np.ndarray, temperature: float, device: torch.device | None = None
) -> np.ndarray:
    """(N, 7) float32: the teachers' mean probabilities at `temperature` over each face and its mirror image."""
    device = device or torch.device("cpu")
    total = np.zeros((len(images), 7), np.float64)
    for path in paths:
        model = load_teacher(path).to(device)
        for faces in (images, np.ascontiguousarray(images[:, :, ::-1])):
            total += softmax(predict_logits(model, faces, device), temperature)
    return (total / (2 * len(paths))).astype(np.float32)


def distill_loss(logits: torch.Tensor, targets: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher || student) at `temperature`, scaled by its square so the gradient keeps the size it has
    at temperature 1 (Hinton et al. 2015)."""
    log_p = F.log_softmax(logits / temperature, 1)
    return F.kl_div(log_p, targets, reduction="batchmean") * temperature**2


def describe_teachers(paths: list[Path]) -> list[dict]:
    """For the sidecar: which checkpoints taught the model."""
    return [{"checkpoint": str(p), "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()} for p in paths]
