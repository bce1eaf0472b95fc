"""The emotion CNN: a compact VGG-style network sized for >2,000 faces/s on one CPU core."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from facecue.errors import InputError
from facecue.labels import NUM_EMOTIONS


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class EmotionNet(nn.Module):
    """Grey 48x48 face (raw 0..255 levels) -> (logits, embedding).

    Per-image standardisation happens inside the network, so the exported model is
    robust to the brightness and contrast of any source and needs no caller-side
    normalisation. A stride-2 stem keeps the cost near 40 M multiply-adds per face.
    """

    def __init__(
        self, width: int = 32, embed_dim: int = 256, dropout: float = 0.4, num_classes: int = NUM_EMOTIONS
    ) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            conv_bn_relu(1, w, stride=2),  # 24x24
            conv_bn_relu(w, w),
            conv_bn_relu(w, w),
            nn.MaxPool2d(2),  # 12x12
            conv_bn_relu(w, 2 * w),
            conv_bn_relu(2 * w, 2 * w),
            nn.MaxPool2d(2),  # 6x6
            conv_bn_relu(2 * w, 4 * w),
            conv_bn_relu(4 * w, 4 * w),
            nn.MaxPool2d(2),  # 3x3
            conv_bn_relu(4 * w, 8 * w),
            conv_bn_relu(8 * w, 8 * w),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(8 * w, embed_dim), nn.BatchNorm1d(embed_dim), nn.ReLU(inplace=True)
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed_dim, num_classes))

    @staticmethod
    def standardise(x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        std = x.std(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / (std + 8.0)  # +8 grey levels keeps flat crops from blowing up noise

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedding = self.embed(self.features(self.standardise(x)))
        return self.classifier(embedding), embedding


def mixture(label_logits: torch.Tensor, vote_logits: torch.Tensor, share: torch.Tensor | float) -> torch.Tensor:
    """v2's reading: log p = (1 - m) log p_label + m log p_votes, m the vote share (renormalised by a softmax)."""
    return (1 - share) * F.log_softmax(label_logits, 1) + share * F.log_softmax(vote_logits, 1)


class EmotionNetV2(nn.Module):
    """v2: full 48x48 resolution in the first block, and two heads on one trunk.

    The `label` head learns FER2013's single labels; the `votes` head learns the FER+ crowd's vote
    distribution (Barsoum et al. 2016), which calls many of FER2013's "angry" faces neutral. The exported
    reading is a geometric mixture of the two, log p = (1 - m) log p_label + m log p_votes (renormalised by
    the softmax), with the share m chosen after training on validation data against both targets, so one
    training run serves every weighting instead of one run per weight. About 118 M multiply-adds per face.
    """

    def __init__(
        self, width: int = 32, embed_dim: int = 256, dropout: float = 0.4, num_classes: int = NUM_EMOTIONS
    ) -> None:
        super().__init__()
        w = width

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [conv_bn_relu(c_in, c_out), conv_bn_relu(c_out, c_out), nn.MaxPool2d(2)]

        self.features = nn.Sequential(
            *block(1, w),  # 48 -> 24
            *block(w, 2 * w),  # 24 -> 12
            *block(2 * w, 4 * w),  # 12 -> 6
            *block(4 * w, 8 * w),  # 6 -> 3
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.embed = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(8 * w, embed_dim), nn.BatchNorm1d(embed_dim), nn.ReLU(inplace=True)
        )
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed_dim, num_classes))
        self.vote_head = nn.Sequential(nn.Dropout(dropout), nn.Linear(embed_dim, num_classes))
        self.register_buffer("vote_share", torch.tensor(0.5))

    standardise = staticmethod(EmotionNet.standardise)

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        embedding = self.embed(self.features(self.standardise(x)))
        return self.classifier(embedding), self.vote_head(embedding), embedding

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        label_logits, vote_logits, embedding = self.heads(x)
        return mixture(label_logits, vote_logits, self.vote_share), embedding


class AveragedNet(nn.Module):
    """Several trained v2 networks read as one, each face optionally also read mirrored.

    Each head's log-probabilities are averaged over members and views (a geometric mean, renormalised by the
    mixture's softmax), so the exported graph keeps v2's interface: `heads` for the vote-share grid, `forward`
    mixing the heads at `vote_share`. The embedding is the members' embeddings of the unmirrored face, side by
    side. Independent seeds disagree on FER2013's ambiguous faces, and averaging them is the cheapest accuracy
    there is at 0.3 ms a face (docs/MODEL_CARD.md).
    """

    def __init__(self, members: list[EmotionNetV2], mirror: bool = False) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.mirror = mirror
        self.register_buffer("vote_share", torch.tensor(0.5))
        # An index gather rather than torch.flip: one plain Gather in ONNX, which the int8 quantiser passes through.
        self.register_buffer("reversed_columns", torch.arange(47, -1, -1))

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        views = 2 if self.mirror else 1  # chunks, not sizes: the batch size stays dynamic in the exported graph
        x = torch.cat([x, x.index_select(3, self.reversed_columns)]) if self.mirror else x
        label_lp, vote_lp, embeddings = [], [], []
        for member in self.members:
            label_logits, vote_logits, embedding = member.heads(x)
            label_lp.extend(F.log_softmax(label_logits, 1).chunk(views))
            vote_lp.extend(F.log_softmax(vote_logits, 1).chunk(views))
            embeddings.append(embedding.chunk(views)[0])
        return torch.stack(label_lp).mean(0), torch.stack(vote_lp).mean(0), torch.cat(embeddings, 1)

    forward = EmotionNetV2.forward


ARCHITECTURES = {"v1": EmotionNet, "v2": EmotionNetV2}


def build_network(options: dict) -> nn.Module:
    """The network a checkpoint's options describe (checkpoints before v2 carry no 'arch': they are v1)."""
    return ARCHITECTURES[options.get("arch", "v1")](width=options["width"], dropout=options["dropout"])


@torch.no_grad()
def predict_logits(model: nn.Module, images: np.ndarray, device: torch.device, batch: int = 512) -> np.ndarray:
    """(N, 7) logits for (N, H, W) grey faces, in batches, with the network in eval mode."""
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().unsqueeze(1).to(device)
        out.append(model(x)[0].float().cpu().numpy())
    return np.concatenate(out)


@torch.no_grad()
def predict_heads(
    model: EmotionNetV2, images: np.ndarray, device: torch.device, batch: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """(label logits, vote logits), each (N, 7), for (N, H, W) grey faces, with the network in eval mode."""
    model.eval()
    labels, votes = [], []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().unsqueeze(1).to(device)
        label_logits, vote_logits, _ = model.heads(x)
        labels.append(label_logits.float().cpu().numpy())
        votes.append(vote_logits.float().cpu().numpy())
    return np.concatenate(labels), np.concatenate(votes)


def read_checkpoint(path: Path, what: str) -> dict:
    """A checkpoint of `facecue train` (best.pt, last.pt), or InputError naming the flag that gave it."""
    if not path.is_file():
        raise InputError(f"the {what} checkpoint {path} does not exist.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except (OSError, EOFError, RuntimeError, ValueError, pickle.UnpicklingError, AttributeError, ImportError):
        state = None
    if not isinstance(state, dict) or "model" not in state or not isinstance(state.get("options"), dict):
        raise InputError(f"the {what} checkpoint {path} is not a checkpoint of facecue train (best.pt or last.pt).")
    return state
