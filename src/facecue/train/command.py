"""`facecue train`: load datasets, train, then export the best epoch to ONNX with its sidecar."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from facecue.errors import InputError, OutputError


def load_label_map(path: str | None) -> dict[str, str] | None:
    if not path:
        return None
    try:
        mapping = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the label map {path}: {exc}") from None
    if not isinstance(mapping, dict):
        raise InputError(f"the label map {path} must be a JSON object from folder name to emotion.")
    return {str(k): str(v) for k, v in mapping.items()}


def parity_targets(text: str) -> tuple[str, ...]:
    from facecue.train.parity import PARITY_TARGETS

    targets = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in targets if t not in PARITY_TARGETS]
    if unknown or not targets:
        raise InputError(f"--parity-targets takes {' and/or '.join(PARITY_TARGETS)}, not {text!r}.")
    return targets


def load_parity(args):
    """The parity faces (fit rows only) when --parity-labels is given; checks the flags that go with it."""
    if not args.parity_labels:
        if args.parity_images:
            raise InputError("--parity-images goes with --parity-labels.")
        return None
    if not args.parity_images or args.parity_weight <= 0 or not args.init:
        raise InputError(
            "--parity-labels needs --parity-images, a --parity-weight above 0 and the trained model to "
            "fine-tune (--init)."
        )
    from facecue.train.parity import load_parity_set

    parity = load_parity_set(Path(args.parity_images), Path(args.parity_labels), args.parity_col)
    print(
        f"parity: {len(parity.images)} faces of the fit rows ({parity.rows} rows, {parity.unusable} unusable), "
        f"per {args.parity_col}: {parity.describe()['per_group']}",
        flush=True,
    )
    return parity


def _is_share(text: str) -> bool:
    try:
        return 0 <= float(text) <= 1
    except ValueError:
        return False


def check_arguments(args) -> None:
    """The flags that need no data, checked before any loads: one sentence for each mistake."""
    import math

    import torch

    from facecue.train.network import read_checkpoint

    for flag, value, least in (
        ("--epochs", args.epochs, 1),
        ("--batch-size", args.batch_size, 1),
        ("--width", args.width, 1),
        ("--threads", args.threads, 0),
        ("--warmup-epochs", args.warmup_epochs, 0),
        ("--loader-workers", args.loader_workers, 0),
        ("--parity-per-group", args.parity_per_group, 1),
    ):
        if value < least:
            raise InputError(f"{flag} must be at least {least}, not {value}.")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise InputError(f"--lr must be a number above 0, not {args.lr}.")
    if not args.parity_weight >= 0:
        raise InputError(f"--parity-weight must be 0 or more, not {args.parity_weight}.")
    try:
        device = None if args.device == "auto" else torch.device(args.device)
    except RuntimeError:
        device = torch.device("meta")  # no device type at all: refused below
    if device is not None and device.type not in ("cpu", "cuda"):
        raise InputError(f"--device must be auto, cpu or cuda (or cuda:N), not {args.device!r}.")
    if device is not None and device.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"--device {args.device}: no CUDA GPU is available here.")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; name a folder for the run.")
    for teacher in args.teacher or []:
        read_checkpoint(Path(teacher), "--teacher")
    for member in args.average_with or []:
        if _network(read_checkpoint(Path(member), "--average-with"))[0] != "v2":
            raise InputError(f"the --average-with checkpoint {member} is not a v2 network; only v2 ones are averaged.")
    if args.init:
        arch, width = _network(read_checkpoint(Path(args.init), "--init"))
        if (arch, width) != (args.arch, args.width):
            raise InputError(
                f"the --init checkpoint {args.init} holds an --arch {arch} --width {width} network: train with those."
            )
    last = out / "last.pt"
    if not args.restart and last.exists():  # resuming: the network must be the one the checkpoint holds
        arch, width = _network(read_checkpoint(last, "resumed"))
        if (arch, width) != (args.arch, args.width):
            raise InputError(
                f"{out} holds a run of --arch {arch} --width {width}: resume it with those, or give another --out "
                "(--restart would overwrite it)."
            )


def _network(state: dict) -> tuple[str, int | None]:
    """A checkpoint's network: (arch, width)."""
    return state["options"].get("arch", "v1"), state["options"].get("width")


def run_train(args) -> int:
    from facecue.train.data import file_sha256, load_dataset
    from facecue.train.export import export_onnx
    from facecue.train.trainer import TrainOptions, train

    check_arguments(args)
    label_map = load_label_map(args.label_map)
    train_set = load_dataset(Path(args.data), args.train_split, label_map)
    val_set = load_dataset(Path(args.val_data or args.data), args.val_split, label_map)
    for name, ds in (("train", train_set), ("validation", val_set)):
        print(
            f"{name}: {len(ds)} faces, per class {ds.class_counts().tolist()}"
            + (f", skipped {dict(ds.skipped)}" if ds.skipped else ""),
            flush=True,
        )
    parity = load_parity(args)
    votes = val_votes = None
    if args.arch == "v2":
        if not args.ferplus_votes:
            raise InputError(
                "--arch v2 learns from the FER+ crowd votes: give their CSV with --ferplus-votes "
                "(or train the older network with --arch v1)."
            )
        from facecue.train.data import load_ferplus_votes

        votes = load_ferplus_votes(Path(args.ferplus_votes), train_set, args.train_split)
        val_votes = load_ferplus_votes(Path(args.ferplus_votes), val_set, args.val_split)
        print(
            f"FER+ votes: {int((votes.sum(1) > 0).sum())} of {len(train_set)} training faces, "
            f"{int((val_votes.sum(1) > 0).sum())} of {len(val_set)} validation faces",
            flush=True,
        )
    if args.vote_share != "auto" and not _is_share(args.vote_share):
        raise InputError(f"--vote-share must be 'auto' or a number from 0 to 1, got {args.vote_share}.")
    if args.vote_weight < 0:
        raise InputError(f"--vote-weight must be 0 or more, got {args.vote_weight}.")
    teachers = [Path(t) for t in args.teacher or []]
    if teachers and not 0 < args.distill_weight <= 1:
        raise InputError(f"--distill-weight must be above 0 and at most 1, got {args.distill_weight}.")
    members = [Path(c) for c in args.average_with or []]
    if (members or args.mirror) and args.arch != "v2":
        raise InputError("--average-with and --mirror export v2 networks (--arch v2).")
    if args.distill_temperature <= 0:
        raise InputError(f"--distill-temperature must be above 0, got {args.distill_temperature}.")
    options = TrainOptions(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        width=args.width,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        warmup_epochs=args.warmup_epochs,
        init=args.init or "",
        parity_weight=args.parity_weight if parity else 0.0,
        parity_per_group=args.parity_per_group,
        parity_targets=parity_targets(args.parity_targets),
        as_used=args.as_used,
        teachers=tuple(str(t) for t in teachers),
        distill_weight=args.distill_weight if teachers else 0.0,
        distill_temperature=args.distill_temperature,
        arch=args.arch,
        votes=Path(args.ferplus_votes).name if votes is not None else "",
        vote_weight=args.vote_weight,
        precision=args.precision,
        loader_workers=args.loader_workers,
    )
    out = Path(args.out)
    best = train(
        train_set,
        val_set,
        out,
        options,
        resume=not args.restart,
        log=lambda line: print(line, flush=True),
        parity=parity,
        votes=votes,
        val_votes=val_votes,
    )
    print(f"best validation: accuracy {best['accuracy']:.4f}, macro-F1 {best['macro_f1']:.4f}", flush=True)
    training_data = {
        "path": Path(args.data).name,
        "train_split": args.train_split,
        "sha256": train_set.sha256,
        "val_split": args.val_split,
        "val_sha256": val_set.sha256,
    }
    if teachers:
        from facecue.train.distill import describe_teachers

        training_data["teachers"] = describe_teachers(teachers)
    if parity is not None:
        training_data["parity"] = {"labels": Path(args.parity_labels).name, **parity.describe()}
    share, grid = None, None
    if args.arch == "v2":
        from facecue.train.export import vote_share_grid

        training_data["ferplus_votes"] = {
            "path": Path(args.ferplus_votes).name,
            "sha256": file_sha256(Path(args.ferplus_votes)),
        }
        if members:
            training_data["averaged_with"] = [
                {"checkpoint": str(member), "sha256": file_sha256(member)} for member in members
            ]
        grid = vote_share_grid([out / "best.pt", *members], val_set, val_votes, args.mirror)
        for row in grid:
            print(
                "vote share {vote_share:.1f}: accuracy {accuracy:.4f} macro-F1 {macro_f1:.4f} agrees with FER+ "
                "{agrees_with_ferplus:.4f} read neutral {read_neutral:.3f} score {score:.4f}".format(**row),
                flush=True,
            )
        share = (
            max(grid, key=lambda row: row["score"])["vote_share"]
            if args.vote_share == "auto"
            else float(args.vote_share)
        )
        print(f"exporting with vote share {share}", flush=True)
    rng = np.random.default_rng(options.seed)
    calibration = train_set.images[rng.choice(len(train_set), min(1024, len(train_set)), replace=False)]
    for file, quantize_with, kind in (("model.onnx", None, ""), ("model-int8.onnx", calibration, " (int8)")):
        path = export_onnx(
            [out / "best.pt", *members],
            val_set,
            out / file,
            training_data,
            name=args.name,
            version=args.version,
            quantize_with=quantize_with,
            vote_share=share,
            vote_grid=grid,
            mirror=args.mirror,
        )
        print(f"exported {path}{kind} and {path.with_suffix('.json')}", flush=True)
    return 0
