"""Compare emotion models' fairness on the same faces: the audit's face stages run once (cached), then each
model classifies the crops and gets the audit's metrics. Prints, per model and grouping, the lowest impact
ratio of the two headline rates (angry read, stress cue) and the overall rates.

    python bench/fairness_models.py --images ../shared/data/fairface \
        --labels ../shared/data/fairface/labels.csv --models v1 v2 runs/x/model-int8.onnx [--split audit]

`--split audit` keeps the rows no model may train on (fairness/split.py); a model fine-tuned on the fit rows
(`facecue train --parity-labels`) is refused on any other split, as `facecue fairness` refuses it.

The numbers match `facecue fairness` (same functions, bootstrap included); this only saves the repeated
face detection when choosing between candidate models.

Then, for each later model, the paired difference of its worst-group impact ratio from the first model's: every
bootstrap replicate resamples the same faces within each group for all models, so the interval is of the
difference itself ("no worse than v1" is a claim about it), not two overlapping intervals.

Two checks say how much of a worst ratio is the counting rather than the model. Under each model, the worst ratio
that exact parity gives on these group sizes at that model's own rate (a rare outcome gives a low ratio by chance
alone), and the chi-square p-value of "every group has the same rate". After the comparisons, each later model at
the first model's rate: its faces ranked by its own score (P(angry); the cue's summed probability) and the same
share flagged, so a model that reads "angry" less often is compared on equally many faces. With `--split audit`
the same checks on the fit rows follow, for the gap between the faces a parity fine-tune fitted and unseen ones.

And group by group against the first model: in how many groups each later model flags fewer faces, which groups
it flags measurably more or less often, and the largest difference between two groups' rates (percentage points)
with the paired interval of its change. The worst ratio is relative: a model that reads every group as angry less
often can lower it while narrowing every absolute gap, so the two are printed together.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from facecue.emotion.model import EmotionModel
from facecue.errors import InputError
from facecue.fairness.audit import audit_faces, check_not_trained_on, classify_crops, load_labels
from facecue.fairness.compare import compare_models
from facecue.fairness.metrics import AuditSettings, fairness_metrics
from facecue.fairness.records import ImageRecords
from facecue.fairness.split import split_of
from facecue.fairness.stats import (
    homogeneity_p,
    interval,
    parity_worst_ratios,
    top_share,
    worst_ratio,
    worst_ratio_of,
)
from facecue.interview.affect import discomfort
from facecue.labels import EMOTIONS
from facecue.pipeline import Analyzer

FLAGS = {"angry_rate": lambda r: r.pred == EMOTIONS.index("angry"), "cue_rate": lambda r: r.cue}
# The score each flag thresholds: the top label's probability for "angry", the cue's summed probability.
SCORES = {
    "angry_rate": lambda r: np.nan_to_num(r.probs[:, EMOTIONS.index("angry")]),
    "cue_rate": lambda r: np.nan_to_num(discomfort(r.probs.astype(np.float64))),
}


def cached_faces(images: Path, labels: Path, group_cols: list[str], cache: Path):
    table = load_labels(images, labels, group_cols)
    key = hashlib.sha256(f"{table.sha256}{group_cols}".encode()).hexdigest()[:16]
    path = cache / f"fairness-faces-{key}.npz"
    if path.exists():
        saved = np.load(path, allow_pickle=True)
        return table, ImageRecords(**saved["records"].item()), saved["crops"], saved["rows"]
    records, crops, rows, _ = audit_faces(Analyzer(fps=None), table, images, progress=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, records=np.array(records.__dict__, dtype=object), crops=crops, rows=rows)
    return table, records, crops, rows


def only_split(records: ImageRecords, split: str, left_out: frozenset[str] = frozenset()) -> ImageRecords:
    """The records of one split's rows ('all': every row), less the `left_out` files."""
    pick = [i for i, name in enumerate(records.files) if split in ("all", split_of(name)) and name not in left_out]
    arrays = {k: getattr(records, k)[pick] for k in ("detected", "n_faces", "det_score", "quality", "probs", "truth")}
    return ImageRecords(
        files=tuple(records.files[i] for i in pick),
        groups={k: tuple(v[i] for i in pick) for k, v in records.groups.items()},
        abstain=tuple(records.abstain[i] for i in pick),
        **arrays,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--group-cols", default="race,gender")
    parser.add_argument("--models", nargs="+", default=["v1", "v2"])
    parser.add_argument("--cache", type=Path, default=Path("build"))
    parser.add_argument("--split", choices=("all", "fit", "audit"), default="all")
    parser.add_argument("--json", type=Path, help="also write the per-model summaries here")
    args = parser.parse_args()
    group_cols = args.group_cols.split(",")
    table, records, crops, rows = cached_faces(args.images, args.labels, group_cols, args.cache)
    print(f"{len(records)} images, {len(crops)} usable faces; scoring the {args.split} rows")
    summaries, scored_by_model = {}, {}
    models = {name: EmotionModel.load(name) for name in args.models}
    # every model is scored on the same rows: none that any of them was fine-tuned on (as `facecue fairness`)
    trained_on = frozenset().union(
        *(check_not_trained_on(m.info.sidecar.raw, table, args.split, args.images) for m in models.values())
    )
    for name, model in models.items():
        every_row = classify_crops(records, crops, rows, model)
        scored = scored_by_model[name] = only_split(every_row, args.split, trained_on)
        doc = fairness_metrics(scored, group_cols, AuditSettings())
        summary = {"overall": {}, "min_impact_ratio": {}}
        counts = []
        for grouping in group_cols:
            per_group = doc["groupings"][grouping]["groups"]
            for metric in ("angry_rate", "cue_rate"):
                ratios = [g["metrics"][metric]["impact_ratio"] for g in per_group.values()]
                summary["min_impact_ratio"][f"{grouping}.{metric}"] = min(r for r in ratios if r is not None)
                counts.append(f"{grouping}.{metric}: " + extremes(scored_by_model[name], grouping, FLAGS[metric]))
        for metric in ("angry_rate", "cue_rate"):
            summary["overall"][metric] = float(doc["overall"]["metrics"][metric]["value"])
        summaries[name] = summary
        ratios = "  ".join(f"{k} {v:.2f}" for k, v in summary["min_impact_ratio"].items())
        rates = "  ".join(f"{k} {v:.3f}" for k, v in summary["overall"].items())
        print(f"{name:40s} {ratios}  |  {rates}")
        print("    lowest and highest group, faces flagged of usable faces: " + "; ".join(counts))
        chance = chance_check(scored, group_cols)
        print("    worst ratio vs what exact parity at this rate shows; chi-square p of equal rates: " + chance)
        if args.split == "audit":  # how far parity on the rows a model may have fitted carries to these
            fitted = chance_check(only_split(every_row, "fit"), group_cols)
            print("    the fit rows (training fit, not an audit): " + fitted)
    first, *others = args.models
    for grouping in group_cols:
        for metric, flag in FLAGS.items():
            gaps = paired_ratio_gaps(
                {m: flag(scored_by_model[m]) for m in args.models}, scored_by_model[first], grouping
            )
            for name in others:
                low, high = interval(gaps[name], 0.95)
                worse = float(np.mean(gaps[name] < 0))
                summaries[name].setdefault("paired_gap", {})[f"{grouping}.{metric}"] = [low, high, worse]
                print(
                    f"{grouping}.{metric}: worst impact ratio of {name} minus {first}: 95% interval "
                    f"{low:+.2f} to {high:+.2f}; lower in {worse:.0%} of replicates"
                )
    for name in others:
        for grouping in group_cols:
            for metric in FLAGS:
                comparison = group_by_group(scored_by_model[name], scored_by_model[first], grouping, metric)
                print(f"{grouping}.{metric}, {name} against {first}: {comparison}")
    for name in others:
        print(
            f"{name} at {first}'s rate, ranked by its own score (first model in brackets): "
            + at_rate(scored_by_model[name], scored_by_model[first], group_cols)
        )
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2))


def chance_check(records: ImageRecords, group_cols: list[str]) -> str:
    """Per grouping and flag: the worst ratio measured, the median (90% range) worst ratio of equal rates on these
    group sizes at this rate, and the p-value of the chi-square test of equal rates."""
    usable = records.usable
    parts = []
    for grouping in group_cols:
        groups = np.array(records.groups[grouping])[usable]
        sizes = np.array([(groups == g).sum() for g in np.unique(groups)])
        for metric, flag in FLAGS.items():
            flags = flag(records)[usable]
            null = parity_worst_ratios(sizes, float(flags.mean()))
            low, mid, high = np.quantile(null, [0.05, 0.5, 0.95])
            p = homogeneity_p(flags, groups)
            measured = worst_ratio(flags, groups)
            parts.append(f"{grouping}.{metric} {measured:.2f} vs {mid:.2f} ({low:.2f}-{high:.2f}), p={p:.3f}")
    return "; ".join(parts)


def at_rate(records: ImageRecords, reference: ImageRecords, group_cols: list[str]) -> str:
    """Worst ratios with as many faces flagged as `reference` flags, the highest-scoring ones, and the paired
    95% interval of the difference (the flagged share is fixed on all faces, not redrawn per replicate)."""
    usable = records.usable
    parts = []
    for grouping in group_cols:
        groups = np.array(records.groups[grouping])[usable]
        for metric, flag in FLAGS.items():
            share = float(flag(reference)[usable].mean())
            flags = {}
            for key, scored in (("reference", reference), ("model", records)):
                flags[key] = np.zeros(len(usable), bool)
                flags[key][usable] = top_share(SCORES[metric](scored)[usable], share)
            ours, theirs = (worst_ratio(flags[k][usable], groups) for k in ("model", "reference"))
            low, high = interval(paired_ratio_gaps(flags, records, grouping)["model"], 0.95)
            gap = f"difference {low:+.2f} to {high:+.2f}"
            parts.append(f"{grouping}.{metric} at {share:.1%}: {ours:.2f} ({theirs:.2f}), {gap}")
    return "; ".join(parts)


def extremes(records: ImageRecords, grouping: str, flag) -> str:
    """The lowest- and highest-rate groups with their counts: a ratio of rare events rests on a few faces."""
    groups, flagged = np.array(records.groups[grouping]), flag(records)
    rows = []
    for g in sorted(set(groups[records.usable])):
        members = records.usable & (groups == g)
        rows.append((flagged[members].mean(), g, int(flagged[members].sum()), int(members.sum())))
    (_, low, k_low, n_low), (_, high, k_high, n_high) = min(rows), max(rows)
    return f"{low} {k_low}/{n_low}, {high} {k_high}/{n_high}"


def paired_ratio_gaps(flags: dict[str, np.ndarray], records: ImageRecords, grouping: str, n_boot: int = 1000):
    """Per model after the first: (n_boot,) replicates of its worst-group impact ratio minus the first model's, with
    the same faces drawn for every model."""
    rng = np.random.default_rng(0)
    groups = np.array(records.groups[grouping])
    members = [np.flatnonzero(records.usable & (groups == g)) for g in sorted(set(groups[records.usable]))]
    draws = [rows[rng.integers(0, len(rows), size=(n_boot, len(rows)))] for rows in members]
    worst = {name: worst_ratio_of(np.stack([flag[d].mean(axis=1) for d in draws])) for name, flag in flags.items()}
    first, *others = worst
    return {name: worst[name] - worst[first] for name in others}


def group_by_group(records: ImageRecords, reference: ImageRecords, grouping: str, metric: str) -> str:
    """A later model against the first, group by group (facecue.fairness.compare, what `facecue fairness --against`
    reports): in how many groups it flags fewer faces, which measurably more or fewer, the largest gap between
    groups with the paired interval of its change, and the rule's verdict."""
    r = compare_models(records, reference, [grouping])["groupings"][grouping][metric]
    rates = r["groups"].values()
    fewer = sum(g["rate"] < g["reference_rate"] for g in rates)
    low, high = r["largest_gap_change_ci"]
    failed = [check for check, ok in r["checks"].items() if not ok]
    return (
        f"lower in {fewer} of {len(r['groups'])} groups (measurably: {', '.join(r['measurably_lower']) or 'none'}; "
        f"measurably higher: {', '.join(r['measurably_higher']) or 'none'}); largest gap between groups "
        f"{r['largest_gap'] * 100:.1f} points against {r['reference_largest_gap'] * 100:.1f}, change "
        f"{low * 100:+.1f} to {high * 100:+.1f}; {'no worse' if not failed else 'fails ' + ', '.join(failed)}"
    )


if __name__ == "__main__":
    try:
        main()
    except InputError as error:
        raise SystemExit(f"error: {error}") from None
