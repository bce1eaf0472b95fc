"""A model against a reference model on the same faces: is any group of people worse off?

`facecue fairness --against v1` reads every face with both models and compares, per grouping (each column, not the
intersections: their groups are too small for a verdict) and per adverse reading ("angry", the stress cue):

- each group's rate under both, and the paired 95% interval of its change (the same faces drawn for both models in
  every bootstrap replicate, so the interval is of the change itself, not two overlapping intervals);
- the worst-group impact ratio (lowest rate / highest rate) under both, and the interval of its change;
- the largest gap between two groups' rates under both, and the interval of its change.

The verdict is the rule the default model had to pass on 2026-12-05 (docs/MODEL_CARD.md): the model is no worse than
the reference when, for every grouping and reading, (1) its worst ratio is not measurably lower (the interval of the
change does not lie wholly below 0), (2) no group is read measurably more often, and (3) the largest gap between
groups is no wider. A ratio alone would fail a model that reads every group less often, since a ratio of two rare
rates falls with the rate; the rule asks what happens to each group.
"""

from __future__ import annotations

import numpy as np

from facecue.fairness.records import ImageRecords
from facecue.fairness.stats import interval, worst_ratio_of
from facecue.labels import EMOTIONS

READINGS = {
    "angry_rate": lambda r: r.usable & (r.pred == EMOTIONS.index("angry")),
    "cue_rate": lambda r: r.usable & r.cue,
}


def largest_gap(rates: np.ndarray) -> np.ndarray:
    """(groups, B) rates -> (B,) highest rate minus lowest rate."""
    return rates.max(axis=0) - rates.min(axis=0)


def _span(values: np.ndarray, level: float) -> list[float] | None:
    found = interval(values, level)
    return None if found is None else [round(found[0], 6), round(found[1], 6)]


def paired_rates(
    flags: tuple[np.ndarray, np.ndarray], groups: np.ndarray, usable: np.ndarray, n_boot: int, rng, min_n: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(group names, rates of the model and of the reference, each (groups, 1 + n_boot): column 0 the point
    estimate, then replicates drawing the same usable faces for both). Groups under min_n usable faces are left out."""
    names, model_rates, ref_rates = [], [], []
    for g in sorted(set(groups[usable])):
        rows = np.flatnonzero(usable & (groups == g))
        if len(rows) < min_n:
            continue
        draws = np.vstack([np.arange(len(rows)), rng.integers(0, len(rows), size=(n_boot, len(rows)))])
        names.append(str(g))
        model_rates.append(flags[0][rows][draws].mean(axis=1))
        ref_rates.append(flags[1][rows][draws].mean(axis=1))
    return names, np.array(model_rates), np.array(ref_rates)


def compare_models(
    records: ImageRecords,
    reference: ImageRecords,
    group_cols: list[str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    min_n: int = 30,
) -> dict:
    """The comparison document: per grouping and reading, the groups, ratios and gaps with their paired intervals,
    the rule's three checks, and the verdict over all of them. `records` and `reference` hold the same images."""
    if records.files != reference.files:
        raise ValueError("the two models' records must hold the same images in the same order")
    rng = np.random.default_rng(seed)
    usable = records.usable & reference.usable  # the same faces are usable under both: the face stages are shared
    out: dict = {"groupings": {}, "failures": []}
    for column in group_cols:
        groups = np.array(records.groups[column], dtype=object)
        per_reading = {}
        for name, flag in READINGS.items():
            names, ours, theirs = paired_rates((flag(records), flag(reference)), groups, usable, n_boot, rng, min_n)
            if len(names) < 2:
                continue
            change = ours - theirs
            ratio = worst_ratio_of(ours) - worst_ratio_of(theirs)
            gap = largest_gap(ours) - largest_gap(theirs)
            spans = [_span(c[1:], level) for c in change]
            higher = [g for g, ci in zip(names, spans, strict=True) if ci is not None and ci[0] > 0]
            lower = [g for g, ci in zip(names, spans, strict=True) if ci is not None and ci[1] < 0]
            ratio_span = _span(ratio[1:], level)
            checks = {
                "ratio_not_measurably_lower": not (ratio_span is not None and ratio_span[1] < 0),
                "no_group_measurably_higher": not higher,
                "largest_gap_no_wider": bool(gap[0] <= 1e-12),
            }
            per_reading[name] = {
                "groups": {
                    g: {
                        "rate": round(float(ours[i, 0]), 6),
                        "reference_rate": round(float(theirs[i, 0]), 6),
                        "change_ci": spans[i],
                    }
                    for i, g in enumerate(names)
                },
                "worst_ratio": round(float(worst_ratio_of(ours[:, :1])[0]), 6),
                "reference_worst_ratio": round(float(worst_ratio_of(theirs[:, :1])[0]), 6),
                "worst_ratio_change_ci": ratio_span,
                "largest_gap": round(float(largest_gap(ours[:, :1])[0]), 6),
                "reference_largest_gap": round(float(largest_gap(theirs[:, :1])[0]), 6),
                "largest_gap_change_ci": _span(gap[1:], level),
                "measurably_lower": lower,
                "measurably_higher": higher,
                "checks": checks,
            }
            out["failures"] += [f"{column}.{name}: {check}" for check, ok in checks.items() if not ok]
        out["groupings"][column] = per_reading
    out["no_worse"] = not out["failures"]
    return out
