"""The `facecue` command: one subcommand per user task, thin over the library."""

from __future__ import annotations

import argparse
import sys

from facecue.errors import FacecueError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facecue", description="Facial-expression analysis for video interviews.")
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train the emotion model and export it to ONNX (needs the train extra)")
    t.add_argument("--data", required=True, help="FER2013-layout CSV (gzip ok) or class-per-folder tree")
    t.add_argument("--train-split", default="Training", help="Usage value (CSV) or subfolder (tree)")
    t.add_argument("--val-data", help="validation data when it is a separate file or folder")
    t.add_argument("--val-split", default="PublicTest")
    t.add_argument("--label-map", help="JSON object mapping folder names to facecue labels")
    t.add_argument("--out", required=True, help="folder for checkpoints, metrics log and the exported model")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--width", type=int, default=32)
    t.add_argument("--seed", type=int, default=13)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--threads", type=int, default=0)
    t.add_argument("--restart", action="store_true", help="ignore an existing checkpoint instead of resuming")
    t.add_argument("--name", default="facecue-emotion")
    t.add_argument("--version", default="0.1.0")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            from facecue.train.command import run_train
            return run_train(args)
    except FacecueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
