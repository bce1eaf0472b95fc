"""`facecue fairness`: the audit from one command (wired into facecue.cli by add_parser / run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facecue.errors import InputError


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "fairness",
        help="fairness audit: detection, abstention and predicted-expression "
        "rates per demographic group, with impact ratios -> fairness.json/.csv/.html",
    )
    p.add_argument("--images", required=True, help="image folder; the labels' file column is relative to it")
    p.add_argument("--labels", required=True, help="CSV with a file column and the group (and truth) columns")
    p.add_argument("--group-cols", required=True, help="comma-separated group columns, e.g. race,gender")
    p.add_argument("--truth-col", help="column with true emotion labels (names or FER2013 indices 0-6)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--model", default="default", help="packaged model name or path to an exported .onnx")
    p.add_argument(
        "--against",
        metavar="MODEL",
        help="also read every face with this reference model (e.g. v1) and say, group by group, whether --model "
        "leaves any group worse off",
    )
    p.add_argument(
        "--pad",
        type=float,
        default=0.5,
        help="border added on each side, as a fraction of the image size, so tight face crops look "
        "like frames to the detector (default 0.5; 0 = images as they are)",
    )
    p.add_argument(
        "--split",
        default="all",
        choices=["all", "fit", "audit"],
        help="rows to audit: all, or the 'audit' rows a parity-trained model never saw (see facecue train "
        "--parity-labels)",
    )
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples per group (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-n", type=int, default=30, help="groups smaller than this get a warning (default 30)")
    p.add_argument("--attribution", help="data credit printed in the report (FairFace is credited automatically)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    return p


def run(args) -> int:
    from facecue.fairness.audit import run_audit
    from facecue.fairness.metrics import AuditSettings
    from facecue.fairness.output import write_audit

    group_cols = [c.strip() for c in args.group_cols.split(",") if c.strip()]
    if args.bootstrap < 1 or args.min_n < 1:
        raise InputError("--bootstrap and --min-n must be at least 1.")
    settings = AuditSettings(n_boot=args.bootstrap, seed=args.seed, min_n=args.min_n)
    records, doc = run_audit(
        Path(args.images),
        Path(args.labels),
        group_cols,
        args.truth_col,
        pad=args.pad,
        model=args.model,
        settings=settings,
        attribution=args.attribution,
        progress=not args.quiet and sys.stderr.isatty(),
        split=args.split,
        against=args.against,
    )
    paths = write_audit(records, doc, Path(args.out))
    if not args.quiet:
        _print_summary(doc)
        print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


def _print_summary(doc: dict) -> None:
    overall = doc["overall"]
    print(
        f"{doc['data']['images_read']} images: face detected in {overall['metrics']['detection_rate']['value']:.1%},"
        f" {overall['n_usable']} usable faces"
    )
    for name, grouping in doc["groupings"].items():
        for metric, gap in grouping["largest_gaps"].items():
            if gap:
                flag = "  below four-fifths" if gap["four_fifths_flag"] else ""
                chance = (
                    f"; exact parity would show {gap['at_parity']['median']:.2f}, p of equal rates "
                    f"{gap['equal_rates_p']:.3f}"
                    if gap["at_parity"]["median"] is not None
                    else ""
                )
                difference = gap.get("difference")
                apart = f", {abs(difference) * 100:.1f} points apart" if difference is not None else ""
                print(
                    f"{name}: lowest {metric} impact ratio {gap['impact_ratio']:.2f} ({gap['group']} vs "
                    f"{gap['reference']}{apart}){flag}{chance}"
                )
    if "against" in doc:
        against = doc["against"]
        reference = f"{against['model']['name']} {against['model']['version']}"
        if against["no_worse"]:
            print(f"against {reference}: no group worse off (ratios, each group's rate and the largest gaps)")
        else:
            print(f"against {reference}: worse by " + "; ".join(against["failures"]))
    if doc["warnings"]:
        print(f"{len(doc['warnings'])} small-group or uncertainty warning(s): see the report")
