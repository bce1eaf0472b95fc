"""Group-parity data and penalty for fairness-aware training.

Faces with group labels but no expression labels (FairFace: race, gender) teach the network to read
groups alike: during training, a batch of them goes through the network beside the expression batch and
a penalty pulls each group's (smoothed) rate of faces read as "angry", and of faces showing the stress cue,
towards the mean over groups (squared log-ratios, the scale impact ratios are judged on), while that mean stays
where the starting model had it: parity is a fine-tune of a trained model (--init). The penalty is of the
whole fit set's rates, followed from batch to batch (RunningParity), not of each small batch's.

Training and the fairness audit must never see the same faces, so the rows are split by a stable hash of
the file name (fairness/split.py): training uses the `fit` part, `facecue fairness --split audit` the rest.

Several group columns (race and gender) can be held at once: batches are balanced over the first column's
groups, and the penalty is the mean of each column's, so parity on one column cannot be bought by a new gap
in another (2.3.0's race-only fine-tune widened the gender gap on its own fit rows; docs/FAIRNESS.md run 15).

Status: the `v2` candidate 2.3.0 was fine-tuned with it; docs/FAIRNESS.md records what each run did.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from facecue.errors import InputError
from facecue.fairness.records import CUE_LABELS
from facecue.fairness.split import FIT_SHARE, image_fingerprint, split_of
from facecue.labels import EMOTIONS
from facecue.train.network import predict_logits

# Each target is a set of expressions whose summed probability should not depend on the group: "angry"
# and the stress cue's expressions, the two readings issue #6 audits. Happy is left alone on purpose:
# groups may really smile at different rates in portraits, and parity would teach the model to be wrong.
PARITY_TARGETS: dict[str, tuple[int, ...]] = {
    "angry": (EMOTIONS.index("angry"),),
    "stress": tuple(EMOTIONS.index(label) for label in CUE_LABELS),
}


@dataclass
class ParitySet:
    """Aligned faces of the fit rows, as the classifier sees them (48x48 grey, equalised), with their groups:
    `column` is the one batches are balanced over, `other_columns` any further column the penalty also holds."""

    images: np.ndarray  # (N, 48, 48) uint8
    groups: np.ndarray  # (N,) int64 index into group_names
    group_names: tuple[str, ...]
    column: str
    labels_sha256: str
    rows: int  # fit rows listed
    unusable: int  # of those: unreadable, no face, or a face the pipeline abstains on
    fingerprints: tuple[str, ...] = ()  # every fit row's image by content (fairness/split.py): never audit on them
    other_columns: dict[str, tuple[np.ndarray, tuple[str, ...]]] = field(default_factory=dict)

    def groupings(self) -> list[tuple[str, np.ndarray, tuple[str, ...]]]:
        """(column, group index per face, group names) for every column, the balanced one first."""
        return [(self.column, self.groups, self.group_names)] + [
            (column, groups, names) for column, (groups, names) in self.other_columns.items()
        ]

    def describe(self) -> dict:
        per_group = {
            column: dict(zip(names, np.bincount(groups, minlength=len(names)).tolist(), strict=True))
            for column, groups, names in self.groupings()
        }
        return {
            "column": ",".join(per_group),
            "split": "fit",
            "fit_share": FIT_SHARE,
            "labels_sha256": self.labels_sha256,
            "rows": self.rows,
            "faces": len(self.images),
            "unusable": self.unusable,
            # one column: its groups' counts, as 2.3.0's sidecar has them; several: the same per column
            "per_group": per_group[self.column] if len(per_group) == 1 else per_group,
            "fit_images_sha256": sorted(self.fingerprints),
        }


def load_parity_set(images: Path, labels: Path, column: str, pad: float = 0.5, progress: bool = False) -> ParitySet:
    """Run the face pipeline (detector, mesh, alignment, quality gate) on the fit rows of a labels CSV.
    `column` names one group column or several, comma-separated ("race,gender"); batches balance the first."""
    from facecue.fairness.audit import MISSING, chosen_face, load_labels, pad_image
    from facecue.io.images import read_image
    from facecue.pipeline import Analyzer

    columns = list(dict.fromkeys(c.strip() for c in column.split(",") if c.strip()))
    table = load_labels(Path(images), Path(labels), columns)
    rows = [i for i, name in enumerate(table.files) if split_of(name) == "fit"]
    analyzer = Analyzer(fps=None)
    crops, kept = [], []
    for i in tqdm(rows, unit="image", desc="parity faces", disable=not progress):
        image = read_image(Path(images) / table.files[i])
        if image is None or any(table.groups[c][i] == MISSING for c in columns):
            continue
        faces = analyzer.find_faces(pad_image(image, pad))
        best = chosen_face(faces)
        if best is None or faces.abstain[best]:
            continue
        crops.append(cv2.equalizeHist(faces.aligned[best]))  # the runtime model equalises every crop
        kept.append(i)
    encoded = {}
    for c in columns:
        values = [table.groups[c][i] for i in kept]
        names = tuple(sorted(set(values)))
        if len(names) < 2:
            raise InputError(
                f"{labels}: the fit rows give usable faces in {len(names)} '{c}' group(s); parity needs at least two."
            )
        encoded[c] = (np.array([names.index(v) for v in values], np.int64), names)
    first = encoded.pop(columns[0])
    return ParitySet(
        images=np.stack(crops),
        groups=first[0],
        group_names=first[1],
        column=columns[0],
        labels_sha256=table.sha256,
        rows=len(rows),
        unusable=len(rows) - len(crops),
        other_columns=encoded,
        fingerprints=tuple(
            image_fingerprint(Path(images) / table.files[i]) for i in rows if (Path(images) / table.files[i]).is_file()
        ),
    )


def sample_parity_batch(
    parity: ParitySet, per_group: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """per_group faces of every group (with replacement), mirrored at random:
    (x (M,1,48,48) float, groups (M,), row indices (M,), mirrored (M,) bool)."""
    picks = []
    for g in range(len(parity.group_names)):
        members = torch.from_numpy(np.flatnonzero(parity.groups == g))
        picks.append(members[torch.randint(len(members), (per_group,), generator=generator)])
    idx = torch.cat(picks)
    x = torch.from_numpy(parity.images[idx.numpy()]).float().unsqueeze(1)
    flip = torch.rand(len(idx), generator=generator) < 0.5
    x[flip] = x[flip].flip(-1)
    return x, torch.from_numpy(parity.groups[idx.numpy()]), idx, flip


@torch.no_grad()
def starting_logits(model: torch.nn.Module, parity: ParitySet) -> torch.Tensor:
    """(2, N, 7): the starting model's logits for every parity face, as it is and mirrored."""
    return torch.stack(
        [
            torch.from_numpy(predict_logits(model, images, torch.device("cpu")))
            for images in (parity.images, parity.images[:, :, ::-1].copy())
        ]
    )


def keep_close(logits: torch.Tensor, start_logits: torch.Tensor) -> torch.Tensor:
    """KL(start || now) per face: each face stays read as the starting model read it, except where parity needs
    a change. Anchoring only the mean rate was not enough: the top-label count of angry collapsed below 1%."""
    return torch.nn.functional.kl_div(
        torch.log_softmax(logits, 1), torch.log_softmax(start_logits, 1), log_target=True, reduction="batchmean"
    )


# Rates below 1% count as 1%: the log's gradient (1 / rate) explodes on a group with no angry face in a batch.
RATE_FLOOR = 0.01
SHARPNESS = 4.0  # sigmoid(4 x margin): near a count for clear faces, a useful gradient near the boundary


def soft_rates(logits: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per face, a smooth stand-in for each count the audit makes: "angry" is the top label (a sigmoid of its
    logit margin over the best other label), and the stress cue's summed probability is at least 0.5 (a sigmoid
    of that sum's log-odds). Parity of mean probabilities alone left the top-label counts apart."""
    out = {}
    for name, labels in PARITY_TARGETS.items():
        inside = torch.zeros(logits.shape[1], dtype=torch.bool, device=logits.device)
        inside[list(labels)] = True
        if len(labels) == 1:
            margin = logits[:, inside][:, 0] - logits[:, ~inside].max(dim=1).values
        else:
            margin = torch.logsumexp(logits[:, inside], dim=1) - torch.logsumexp(logits[:, ~inside], dim=1)
        out[name] = torch.sigmoid(SHARPNESS * margin)
    return out


def rates_penalty(group_rates: torch.Tensor, anchor: float) -> torch.Tensor:
    """One target's penalty from its (n_groups,) rates: the groups' spread, mean of (log group rate - log mean
    rate)^2, plus the drift of the mean rate from `anchor` (the starting model's), (log mean rate - log anchor)^2."""
    rates = group_rates.clamp_min(RATE_FLOOR)
    mean = rates.mean()
    return ((rates.log() - mean.log()) ** 2).mean() + (mean.log() - math.log(anchor)) ** 2


def group_means(values: torch.Tensor, groups: torch.Tensor, n_groups: int) -> torch.Tensor:
    return torch.stack([values[groups == g].mean() for g in range(n_groups)])


def parity_penalty(logits: torch.Tensor, groups: torch.Tensor, n_groups: int, anchor: dict[str, float]) -> torch.Tensor:
    """Mean over the targets `anchor` names of `rates_penalty` on these faces' smooth group rates.

    The anchor matters: without it, the cheapest parity was to read every group as angry (a first run went
    from 5% to 53% of FairFace faces read as angry, at parity). With it, groups meet near the old average."""
    rates = soft_rates(logits)
    return torch.stack(
        [rates_penalty(group_means(rates[name], groups, n_groups), anchor[name]) for name in anchor]
    ).mean()


class RunningParity:
    """The parity penalty of the whole parity set, followed through training from small batches.

    Each group's smooth rates are running averages over recent batches (starting from the starting model's rates
    on every parity face), and `step` returns a loss whose gradient is the penalty's slope at those rates times
    this batch's group means: a stochastic gradient of the penalty of the population rates. Differentiating the
    penalty of one batch's rates instead (12 faces a group) also penalised their batch-to-batch variance, which the
    few clearly angry faces drive; the cheapest way to lower it was to read nobody as angry (FAIRNESS.md runs 7, 9).
    """

    def __init__(
        self,
        start_logits: torch.Tensor,
        groups: torch.Tensor,
        n_groups: int,
        anchor: dict[str, float],
        momentum: float = 0.02,
    ) -> None:
        rates = soft_rates(start_logits)
        self.anchor, self.n_groups, self.momentum = anchor, n_groups, momentum
        self.rates = {name: group_means(rates[name], groups, n_groups) for name in anchor}

    def step(self, logits: torch.Tensor, groups: torch.Tensor) -> tuple[torch.Tensor, float]:
        """(surrogate loss, the penalty's value at the running rates). The slope is taken at the rates before this
        batch joins them: a slope that had seen the batch would lean against whatever the batch holds."""
        rates = soft_rates(logits)
        # a group with no face in this batch (possible for a column the batch is not balanced over) keeps its rate
        present = torch.bincount(groups, minlength=self.n_groups) > 0
        losses, values = [], []
        for name in self.anchor:
            batch = torch.stack(
                [rates[name][groups == g].mean() if present[g] else rates[name].sum() * 0 for g in range(self.n_groups)]
            )
            at = self.rates[name].clone().requires_grad_(True)
            value = rates_penalty(at, self.anchor[name])
            (slope,) = torch.autograd.grad(value, at)
            losses.append((slope * batch).sum())
            values.append(value.item())
            moved = (1 - self.momentum) * self.rates[name] + self.momentum * batch.detach()
            self.rates[name] = torch.where(present, moved, self.rates[name])
        return torch.stack(losses).mean(), float(np.mean(values))


def anchor_rates(
    start_logits: torch.Tensor, groups: np.ndarray, n_groups: int, targets: tuple[str, ...] = tuple(PARITY_TARGETS)
) -> dict[str, float]:
    """The mean over one column's groups of each target's smooth rate for the starting model (start_logits[0]: the
    faces as they are). Its keys are the targets the penalty then equalises."""
    rates = soft_rates(start_logits[0])
    index = torch.from_numpy(groups)
    return {name: float(group_means(rates[name], index, n_groups).mean()) for name in targets}


def parity_rates(probs: np.ndarray, groups: np.ndarray, group_names: tuple[str, ...]) -> dict:
    """What the audit measures, per target: each group's rate and the lowest impact ratio (min rate / max rate).
    "angry" is the top label; the stress target is the cue's test (summed probability >= 0.5)."""
    from facecue.fairness.records import stress_cue

    flags = {"angry": probs.argmax(1) == EMOTIONS.index("angry"), "stress": stress_cue(probs)}
    out = {}
    for name, flag in flags.items():
        rates = {g: float(flag[groups == i].mean()) for i, g in enumerate(group_names)}
        top = max(rates.values())
        out[name] = {
            "rates": rates,
            "overall": float(flag.mean()),
            "min_impact_ratio": min(rates.values()) / top if top > 0 else 1.0,
        }
    return out
