"""The training loop: seeded, checkpointed every epoch, resumable, selecting on validation."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from facecue.emotion.metrics import classification_report, crowd_majority, softmax
from facecue.train.batches import EpochBatches, epoch_loader
from facecue.train.data import FaceDataset
from facecue.train.distill import distill_loss, teacher_targets
from facecue.train.network import build_network, mixture, predict_heads, predict_logits
from facecue.train.parity import (
    ParitySet,
    RunningParity,
    anchor_rates,
    keep_close,
    parity_rates,
    sample_parity_batch,
    starting_logits,
)


@dataclass
class TrainOptions:
    epochs: int = 40
    batch_size: int = 128
    lr: float = 0.05
    weight_decay: float = 5e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # weights ∝ count^-power: 0 = none, 1 = fully balanced
    width: int = 32
    dropout: float = 0.4
    seed: int = 13
    device: str = "auto"
    threads: int = 0  # 0 = torch default
    init: str = ""  # start from these weights (a checkpoint) instead of random ones
    parity_weight: float = 0.0  # weight of the group-parity penalty (train/parity.py); 0 = off
    parity_per_group: int = 12  # parity faces per group in each step
    parity_targets: tuple[str, ...] = ("angry", "stress")  # the readings the penalty equalises (train/parity.py)
    as_used: bool = False  # fine-tune the network as it runs in use: batch norm on running statistics, no dropout
    teachers: tuple[str, ...] = ()  # checkpoints whose mirror-averaged readings are soft targets (train/distill.py)
    distill_weight: float = 0.0  # share of the loss given to the teachers' soft targets; the labels get the rest
    distill_temperature: float = 2.0
    arch: str = "v1"  # train/network.py ARCHITECTURES
    votes: str = ""  # FER+ vote file (v2): the votes head learns the crowd's distribution
    vote_weight: float = 1.0  # weight of the votes head's loss beside the label head's
    precision: str = "bf16"  # bf16 autocast + channels_last on CPU: 2x float32 on AVX-512 BF16 (docs/MODEL_CARD.md)
    loader_workers: int = 1  # augmentation runs in these processes, off the training thread


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def class_weights(counts: np.ndarray, power: float) -> torch.Tensor:
    counts = np.maximum(counts.astype(np.float64), 1.0)
    weights = counts**-power
    return torch.tensor(weights / (weights * counts).sum() * counts.sum(), dtype=torch.float32)


def lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    """Linear warm-up then cosine decay to zero."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def crowd_vote_loss(logits: torch.Tensor, votes: torch.Tensor) -> torch.Tensor:
    """Cross-entropy to the crowd's vote distribution (FER+), over the faces that have votes (rows of zeros: none)."""
    counts = votes.sum(1)
    has = counts > 0
    if not bool(has.any()):
        return logits.sum() * 0.0
    target = votes[has] / counts[has, None]
    return -(target * F.log_softmax(logits[has], 1)).sum(1).mean()


def vote_head_report(vote_logits: np.ndarray, labels: np.ndarray, votes: np.ndarray | None) -> dict:
    """Logged beside the label head: the votes head against FER2013's labels and against the crowd's majority."""
    pred = vote_logits.argmax(1)
    record = {"votes_val_acc": float((pred == labels).mean()), "votes_agree_ferplus": float("nan")}
    if votes is not None:
        majority = crowd_majority(votes)
        has = majority >= 0
        record["votes_agree_ferplus"] = float((pred[has] == majority[has]).mean())
    return record


def selection_score(report: dict) -> float:
    """Validation score used to pick the best epoch: mean of accuracy and macro-F1."""
    return (report["accuracy"] + report["macro_f1"]) / 2


def train(
    train_set: FaceDataset,
    val_set: FaceDataset,
    out_dir: Path,
    options: TrainOptions,
    resume: bool = True,
    log=print,
    parity: ParitySet | None = None,
    votes: np.ndarray | None = None,
    val_votes: np.ndarray | None = None,
) -> dict:
    """Train, writing out_dir/{last.pt, best.pt, metrics.jsonl}; returns the best validation report.

    With `parity` and a parity_weight, each step also pulls the groups' readings together (train/parity.py);
    the epoch is still chosen on the validation split alone.
    """
    if options.parity_weight > 0 and (parity is None or not options.init):
        raise ValueError("parity_weight needs a ParitySet and a trained model to start from (init)")
    if options.distill_weight > 0 and not options.teachers:
        raise ValueError("distill_weight needs at least one teacher checkpoint")
    out_dir.mkdir(parents=True, exist_ok=True)
    if options.threads:
        torch.set_num_threads(options.threads)
    device = pick_device(options.device)
    seed_everything(options.seed)
    model = build_network(asdict(options)).to(device)
    if options.precision == "bf16":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=options.lr, momentum=0.9, nesterov=True, weight_decay=options.weight_decay
    )
    weights = class_weights(train_set.class_counts(), options.class_weight_power).to(device)
    steps_per_epoch = math.ceil(len(train_set) / options.batch_size)
    total_steps = steps_per_epoch * options.epochs
    warmup_steps = steps_per_epoch * options.warmup_epochs
    start_epoch, best_score, best_report = 0, -1.0, None

    last_path, best_path = out_dir / "last.pt", out_dir / "best.pt"
    if options.init and not (resume and last_path.exists()):
        model.load_state_dict(torch.load(options.init, map_location=device, weights_only=False)["model"])
        log(f"starting from the weights in {options.init}")
    start_logits = running_parity = None
    if options.parity_weight > 0:  # from the starting weights, so a resumed run keeps the same anchor
        start = build_network(asdict(options))
        start.load_state_dict(torch.load(options.init, map_location="cpu", weights_only=False)["model"])
        start_logits = starting_logits(start, parity)  # one pass over the parity faces serves both
        # one running penalty per group column; each anchored at the starting model's mean over its own groups.
        # They restart from the starting model's rates on resume: the running rates are not checkpointed.
        running_parity = []
        for column, groups, names in parity.groupings():
            anchor = anchor_rates(start_logits, groups, len(names), options.parity_targets)
            log(f"parity anchor for {column} (the starting model's mean smooth rates): {anchor}")
            running_parity.append(
                (torch.from_numpy(groups), RunningParity(start_logits[0], torch.from_numpy(groups), len(names), anchor))
            )
    if resume and last_path.exists():
        state = torch.load(last_path, map_location=device, weights_only=False)
        if state["options"] != asdict(options):
            log("warning: resuming with options that differ from the checkpoint's")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, best_score, best_report = state["epoch"] + 1, state["best_score"], state["best_report"]
        torch.set_rng_state(state["rng"])
        np.random.set_state(state["np_rng"])
        log(f"resumed from {last_path} at epoch {start_epoch + 1}")

    images = torch.from_numpy(train_set.images)
    labels = torch.from_numpy(train_set.labels)
    soft = None
    if options.distill_weight > 0:  # computed anew on resume (deterministic): about a minute per teacher
        soft = torch.from_numpy(
            teacher_targets([Path(t) for t in options.teachers], train_set.images, options.distill_temperature, device)
        )
        agree = float((soft.argmax(1) == labels.long()).float().mean())
        log(f"soft targets from {len(options.teachers)} teacher(s): they agree with {agree:.1%} of the training labels")
    vote_targets = None
    if options.arch == "v2":
        if votes is None:
            raise ValueError("the v2 network needs the FER+ votes of the training faces")
        vote_targets = torch.from_numpy(votes)
    bf16 = options.precision == "bf16"
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)
    generator = torch.Generator().manual_seed(options.seed)
    for epoch in range(start_epoch, options.epochs):
        generator.manual_seed(options.seed * 1000 + epoch)  # resumable: each epoch's order depends only on its number
        order = torch.randperm(len(train_set), generator=generator)
        # as_used: train the network exactly as it runs in use (running batch-norm statistics, no dropout), so a
        # parity penalty scores the network the audit will see (docs/FAIRNESS.md: what each mode did).
        model.train(not options.as_used)
        started, seen, loss_sum, correct, penalty_sum = time.time(), 0, 0.0, 0, 0.0
        batches = epoch_loader(
            EpochBatches(images, labels, order, options.batch_size, options.seed, epoch), options.loader_workers
        )
        bar = tqdm(
            batches,
            desc=f"epoch {epoch + 1}/{options.epochs}",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            leave=False,
        )
        for step, (x, y, idx) in enumerate(bar):
            x, y = x.to(device), y.to(device)
            if bf16:
                x = x.contiguous(memory_format=torch.channels_last)
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch * steps_per_epoch + step, total_steps, warmup_steps, options.lr)
            penalty, penalty_value = torch.zeros((), device=device), 0.0
            vote_loss = torch.zeros((), device=device)
            with autocast:
                if options.parity_weight > 0:
                    px, _, pidx, pflip = sample_parity_batch(parity, options.parity_per_group, generator)
                    both = torch.cat([x, px.to(device)])
                    if vote_targets is not None:  # v2: the penalty reads the exported mixture of the two heads
                        all_logits, all_votes, _ = model.heads(both)
                        vote_loss = crowd_vote_loss(all_votes[: len(y)].float(), vote_targets[idx].to(device))
                        parity_logits = mixture(all_logits[len(y) :], all_votes[len(y) :], model.vote_share)
                    else:
                        all_logits, _ = model(both)
                        parity_logits = all_logits[len(y) :]
                    logits = all_logits[: len(y)]
                    steps = [
                        running.step(parity_logits.float(), column_groups[pidx].to(device))
                        for column_groups, running in running_parity
                    ]
                    penalty = torch.stack([loss for loss, _ in steps]).mean()
                    penalty_value = float(np.mean([value for _, value in steps]))
                    penalty = penalty + keep_close(parity_logits.float(), start_logits[pflip.long(), pidx].to(device))
                elif vote_targets is not None:
                    logits, vote_logits, _ = model.heads(x)
                    vote_loss = crowd_vote_loss(vote_logits.float(), vote_targets[idx].to(device))
                else:
                    logits, _ = model(x)
            logits = logits.float()
            ce = F.cross_entropy(logits, y, weight=weights, label_smoothing=options.label_smoothing)
            loss = ce + options.parity_weight * penalty + options.vote_weight * vote_loss
            if soft is not None:
                loss = (1 - options.distill_weight) * loss + options.distill_weight * distill_loss(
                    logits, soft[idx].to(device), options.distill_temperature
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if options.as_used:  # no batch statistics to damp the gradient
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            seen += len(y)
            loss_sum += ce.item() * len(y)
            penalty_sum += penalty_value * len(y)  # the population penalty, at the running rates
            correct += int((logits.argmax(1) == y).sum())
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}")

        if options.arch == "v2":  # the label head is selected on FER2013's labels; the votes head is logged
            val_logits, val_vote_logits = predict_heads(model, val_set.images, device)
        else:
            val_logits, val_vote_logits = predict_logits(model, val_set.images, device), None
        report = classification_report(softmax(val_logits), val_set.labels)
        score = selection_score(report)
        improved = score > best_score
        if improved:
            best_score, best_report = score, report
            torch.save(
                {"model": model.state_dict(), "options": asdict(options), "epoch": epoch, "val_report": report},
                best_path,
            )
        record = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / seen,
            "train_acc": correct / seen,
            "val_acc": report["accuracy"],
            "val_macro_f1": report["macro_f1"],
            "val_ece": report["ece"],
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.time() - started,
            "best": improved,
        }
        if val_vote_logits is not None:
            record.update(vote_head_report(val_vote_logits, val_set.labels, val_votes))
        if parity is not None:  # logged, not used for selection: these faces are training data
            fit_probs = softmax(predict_logits(model, parity.images, device))
            record["parity_penalty"] = penalty_sum / seen
            several = len(parity.groupings()) > 1  # then each ratio's key names its column: "gender.angry"
            record["fit_parity"], record["fit_rates"] = {}, {}
            for column, groups, names in parity.groupings():
                for k, v in parity_rates(fit_probs, groups, names).items():
                    record["fit_parity"][f"{column}.{k}" if several else k] = v["min_impact_ratio"]
                    record["fit_rates"][k] = v["overall"]  # of all fit faces: the same for every column
        with (out_dir / "metrics.jsonl").open("a") as handle:
            handle.write(json.dumps(record) + "\n")
        log(
            f"epoch {epoch + 1}/{options.epochs} loss {record['train_loss']:.3f} train_acc {record['train_acc']:.3f} "
            f"val_acc {report['accuracy']:.4f} val_f1 {report['macro_f1']:.4f} ({record['seconds']:.0f}s)"
            + (
                f" votes head: acc {record['votes_val_acc']:.4f} agrees with FER+ {record['votes_agree_ferplus']:.4f}"
                if val_vote_logits is not None
                else ""
            )
            + (f" fit parity {record['fit_parity']} rates {record['fit_rates']}" if parity is not None else "")
            + (" *" if improved else "")
        )
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "options": asdict(options),
                "epoch": epoch,
                "best_score": best_score,
                "best_report": best_report,
                "rng": torch.get_rng_state(),
                "np_rng": np.random.get_state(),
            },
            last_path.with_suffix(".tmp"),
        )
        last_path.with_suffix(".tmp").replace(last_path)  # atomic: a kill mid-save keeps the previous checkpoint
    return best_report
