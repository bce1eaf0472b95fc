"""Parity by retraining only the heads (docs/FAIRNESS.md run 14): does a last-layer fix carry to unseen faces?

Last-layer retraining on a group-balanced set is a cheap published remedy for a network that leans on a spurious
feature (Kirichenko et al., "Last Layer Re-Training is Sufficient for Robustness to Spurious Correlations", 2023).
Here each v2 member's trunk is frozen; its two heads are refitted with (a) the KL divergence to the member's own
heads on FER2013's training faces (as they are and mirrored), which keeps its readings, plus (b) `weight` times the
parity penalty of facecue.train.parity, computed exactly on all FairFace fit faces at every step (the whole set
fits in one batch once the trunk is frozen, so no estimator is involved). The members' refitted heads are then read
as the shipped v2 reads them (mirror, member average, vote share 0.5) on PublicTest and on the audit rows.

    python bench/parity_heads.py --data ../shared/data/fer2013/fer2013_train_publictest.csv.gz \
        --images ../shared/data/fairface --labels ../shared/data/fairface/labels.csv \
        --members runs/v2/best.pt runs/v2s3/best.pt --weights 0 1 3 [--vote-shares 0 0.5 1]

`--weights 0` with several `--vote-shares` reads the members' heads as trained at other mixtures: the trade-off
between FER2013 accuracy (the label head) and the race ratios, on the same faces.

The face stages come from bench/fairness_models.py's cache; embeddings are cached in build/ per checkpoint.
Float32 throughout (the shipped model is int8), so compare rows with each other, not with the audit's tables.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from fairness_models import FLAGS, cached_faces, only_split

from facecue.fairness.split import split_of
from facecue.fairness.stats import worst_ratio
from facecue.train.data import load_fer_csv
from facecue.train.export import load_network
from facecue.train.parity import group_means, parity_penalty, soft_rates

VIEWS = ("faces", "mirrored")


@torch.no_grad()
def embeddings(network, images: np.ndarray) -> dict[str, torch.Tensor]:
    """The trunk's embedding of every face, as it is and mirrored."""
    out = {}
    for view, batch in zip(VIEWS, (images, images[:, :, ::-1].copy()), strict=True):
        parts = []
        for i in range(0, len(batch), 512):
            x = torch.from_numpy(batch[i : i + 512]).float().unsqueeze(1)
            parts.append(network.embed(network.features(network.standardise(x))))
        out[view] = torch.cat(parts)
    return out


def head_log_probs(heads, embedded: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each head's log-probabilities averaged over the two views, as the exported v2 averages them."""
    label, votes = (torch.stack([F.log_softmax(head(embedded[view]), 1) for view in VIEWS]).mean(0) for head in heads)
    return label, votes


def refit(heads, train: dict, fit: dict, groups: torch.Tensor, n_groups: int, weight: float, steps: int):
    """Copies of (label head, votes head) refitted on frozen embeddings: KL to their own readings of the training
    faces plus `weight` x the parity penalty of the fit faces' mixture at 0.5, anchored at its starting mean rates."""
    start = [[head(train[view]).detach() for view in VIEWS] for head in heads]
    label, votes = head_log_probs(heads, fit)
    rates = soft_rates(0.5 * label + 0.5 * votes)
    anchor = {name: float(group_means(r, groups, n_groups).mean().detach()) for name, r in rates.items()}
    heads = [copy.deepcopy(head) for head in heads]
    if weight == 0:
        return heads
    generator = torch.Generator().manual_seed(0)
    optimiser = torch.optim.Adam([p for head in heads for p in head.parameters()], lr=1e-3)
    for _ in range(steps):
        pick = torch.randint(len(train["faces"]), (2048,), generator=generator)
        keep = sum(
            F.kl_div(
                F.log_softmax(head(train[view][pick]), 1),
                F.log_softmax(start[h][v][pick], 1),
                log_target=True,
                reduction="batchmean",
            )
            for h, head in enumerate(heads)
            for v, view in enumerate(VIEWS)
        )
        label, votes = head_log_probs(heads, fit)
        penalty = parity_penalty(0.5 * label + 0.5 * votes, groups, n_groups, anchor)
        optimiser.zero_grad()
        (keep / 4 + weight * penalty).backward()
        optimiser.step()
    return heads


def cached_embeddings(checkpoint: Path, images: dict[str, np.ndarray], cache: Path) -> tuple[dict, tuple]:
    network, _ = load_network(checkpoint)
    digest = hashlib.sha256(checkpoint.read_bytes())
    for faces in images.values():
        digest.update(faces.tobytes())
    key = digest.hexdigest()[:16]
    path = cache / f"parity-heads-{key}.pt"
    if path.exists():
        embedded = torch.load(path)
    else:
        embedded = {name: embeddings(network, faces) for name, faces in images.items()}
        torch.save(embedded, path)
    return embedded, (network.classifier[1], network.vote_head[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="the FER2013 CSV (Training and PublicTest rows)")
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="v2 checkpoints, read as one")
    parser.add_argument("--weights", type=float, nargs="+", default=[0, 1, 3])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument(
        "--vote-shares", type=float, nargs="+", default=[0.5], help="read the heads at these shares (0.5 shipped)"
    )
    parser.add_argument("--cache", type=Path, default=Path("build"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    _, records, crops, rows = cached_faces(args.images, args.labels, ["race", "gender"], args.cache)
    train, val = load_fer_csv(args.data, "Training"), load_fer_csv(args.data, "PublicTest")
    faces = np.stack([cv2.equalizeHist(c) for c in crops])  # the runtime model equalises every crop
    fit_rows = np.array([split_of(records.files[r]) == "fit" for r in rows])
    images = {"train": train.images, "val": val.images, "fit": faces[fit_rows]}
    members = [cached_embeddings(path, images, args.cache) for path in args.members]
    race = np.array(records.groups["race"])[rows]
    names = sorted(set(race))
    groups = torch.tensor([names.index(r) for r in race[fit_rows]])
    audit_embedded = [embeddings(load_network(path)[0], faces[~fit_rows]) for path in args.members]
    for weight in args.weights:
        heads = [refit(h, e["train"], e["fit"], groups, len(names), weight, args.steps) for e, h in members]
        for share in args.vote_shares:
            accuracy = (mixed(heads, [e["val"] for e, _ in members], share).argmax(1) == val.labels).mean()
            probs = np.full(records.probs.shape, np.nan, np.float32)
            probs[rows[~fit_rows]] = mixed(heads, audit_embedded, share)
            ratios = race_ratios(only_split(replace(records, probs=probs), "audit"))
            print(
                f"weight {weight:g}, vote share {share:g}: PublicTest {accuracy:.3f} (float32) | audit, race: {ratios}"
            )


def race_ratios(audit) -> str:
    usable, race = audit.usable, np.array(audit.groups["race"])[audit.usable]
    return "  ".join(
        f"{metric} {flag(audit)[usable].mean():.3f} worst {worst_ratio(flag(audit)[usable], race):.2f}"
        for metric, flag in FLAGS.items()
    )


@torch.no_grad()
def mixed(heads: list, embedded_per_member: list[dict], share: float) -> np.ndarray:
    """Probabilities of the members read as one: views and members averaged per head, heads mixed at `share`."""
    read = [head_log_probs(h, e) for h, e in zip(heads, embedded_per_member, strict=True)]
    label, votes = (torch.stack([r[i] for r in read]).mean(0) for i in (0, 1))
    return F.softmax((1 - share) * label + share * votes, 1).numpy()


if __name__ == "__main__":
    main()
