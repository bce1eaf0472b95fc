"""Group metrics of an audit: rates with bootstrap intervals, impact ratios, four-fifths flags, warnings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facecue.emotion.metrics import classification_report
from facecue.fairness.records import ImageRecords
from facecue.fairness.stats import (
    FOUR_FIFTHS,
    ece_replicates,
    equal_rates_p,
    impact_ratio,
    interval,
    macro_f1_replicates,
    parity_worst_ratios,
    ratio_replicates,
    resample_indices,
)
from facecue.labels import EMOTIONS


@dataclass(frozen=True)
class Metric:
    description: str
    denominator: str
    adverse: bool  # True: lower is better, so the reference (most favoured) group has the lowest value
    needs_truth: bool = False


METRICS: dict[str, Metric] = {
    "detection_rate": Metric("images in which the detector found a face", "images", adverse=False),
    "abstention_rate": Metric(
        "images with a face whose face the quality gate abstained on (not read)", "images with a face", adverse=True
    ),
    "angry_rate": Metric("usable faces whose most probable label is angry", "usable faces", adverse=True),
    "cue_rate": Metric("usable faces showing the visible stress/discomfort cue", "usable faces", adverse=True),
    "engagement_rate": Metric(
        "usable faces showing the visible positive-engagement cue", "usable faces", adverse=False
    ),
    "mean_p_angry": Metric("mean calibrated probability of angry", "usable faces", adverse=True),
    "accuracy": Metric(
        "usable faces whose most probable label is the true label",
        "usable faces with a label",
        adverse=False,
        needs_truth=True,
    ),
    "macro_f1": Metric(
        "macro-F1 over the labels present", "usable faces with a label", adverse=False, needs_truth=True
    ),
    "ece": Metric(
        "top-label expected calibration error (15 bins)", "usable faces with a label", adverse=True, needs_truth=True
    ),
}
GAP_METRICS = ("angry_rate", "cue_rate")  # the headline: how much angrier one group is read than another
# Metrics that count cases out of a denominator: for these a chi-square test of equal rates applies.
COUNT_METRICS = ("detection_rate", "abstention_rate", "angry_rate", "cue_rate", "engagement_rate", "accuracy")
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class AuditSettings:
    n_boot: int = 1000
    seed: int = 0
    level: float = 0.95
    min_n: int = 30  # fewer images (or usable faces) than this: a small-group warning
    max_ci_width: float = 0.2  # a rate interval wider than this: a too-uncertain warning

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _rate_columns(records: ImageRecords, truth: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """For each rate metric, per image (numerator, denominator): the rate is sum(num) / sum(den)."""
    usable = records.usable.astype(np.float64)
    probs = np.nan_to_num(records.probs.astype(np.float64))
    columns = {
        "detection_rate": (records.detected.astype(np.float64), np.ones(len(records))),
        "abstention_rate": (records.abstained.astype(np.float64), records.detected.astype(np.float64)),
        "angry_rate": (usable * (records.pred == EMOTIONS.index("angry")), usable),
        "cue_rate": (usable * records.cue, usable),
        "engagement_rate": (usable * records.engagement, usable),
        "mean_p_angry": (probs[:, EMOTIONS.index("angry")] * usable, usable),
        **{f"share_{label}": (usable * (records.pred == k), usable) for k, label in enumerate(EMOTIONS)},
    }
    if truth:
        labelled = usable * (records.truth >= 0)
        columns["accuracy"] = (labelled * (records.pred == records.truth), labelled)
    return columns


def _replicates(records: ImageRecords, rows: np.ndarray, idx: np.ndarray, truth: bool) -> dict[str, np.ndarray]:
    """Every metric of the images `rows`, over the resamples `idx` (indices into `rows`)."""
    out = {
        name: ratio_replicates(num[rows], den[rows], idx) for name, (num, den) in _rate_columns(records, truth).items()
    }
    if truth:
        weight = (records.usable & (records.truth >= 0))[rows].astype(np.float64)
        pred = np.clip(records.pred[rows], 0, None)
        truth_ = np.clip(records.truth[rows], 0, None)
        confidence = np.nan_to_num(records.probs[rows].max(axis=1)).astype(np.float64)
        out["macro_f1"] = macro_f1_replicates(truth_, pred, weight, idx)
        out["ece"] = ece_replicates(confidence, (pred == truth_).astype(np.float64), weight, idx)
    return out


def _point(records: ImageRecords, rows: np.ndarray, truth: bool) -> dict[str, float]:
    identity = np.arange(len(rows))[None]
    values = {name: float(v[0]) for name, v in _replicates(records, rows, identity, truth).items()}
    if truth:
        # The truth metrics' point estimates come from the library's own evaluation code.
        mask = records.usable[rows] & (records.truth[rows] >= 0)
        if mask.any():
            report = classification_report(records.probs[rows][mask].astype(np.float64), records.truth[rows][mask])
            values.update(accuracy=report["accuracy"], macro_f1=report["macro_f1"], ece=report["ece"])
    return values


def _denominators(records: ImageRecords, rows: np.ndarray) -> dict[str, int]:
    usable = records.usable[rows]
    return {
        "images": len(rows),
        "images with a face": int(records.detected[rows].sum()),
        "usable faces": int(usable.sum()),
        "usable faces with a label": int((usable & (records.truth[rows] >= 0)).sum()),
    }


def _number(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _span(ci: tuple[float, float] | None) -> list[float] | None:
    return None if ci is None else [round(ci[0], 6), round(ci[1], 6)]


def group_stats(
    records: ImageRecords, rows: np.ndarray, settings: AuditSettings, rng: np.random.Generator, truth: bool
) -> tuple[dict, dict[str, np.ndarray]]:
    """One group's metrics with intervals (no ratios yet) and its replicates, for the ratios' intervals."""
    reps = _replicates(records, rows, resample_indices(len(rows), settings.n_boot, rng), truth)
    point = _point(records, rows, truth)
    dens = _denominators(records, rows)
    metrics = {}
    for name, m in METRICS.items():
        if m.needs_truth and not truth:
            continue
        metrics[name] = {
            "value": _number(point[name]),
            "ci": _span(interval(reps[name], settings.level)),
            "n": dens[m.denominator],
        }
    shares = {
        label: {
            "value": _number(point[f"share_{label}"]),
            "ci": _span(interval(reps[f"share_{label}"], settings.level)),
        }
        for label in EMOTIONS
    }
    stats = {
        "n": len(rows),
        "n_detected": dens["images with a face"],
        "n_usable": dens["usable faces"],
        "metrics": metrics,
        "predicted_share": shares,
    }
    if truth:
        stats["n_labelled"] = dens["usable faces with a label"]
    return stats, reps


def _reference(groups: dict[str, dict], name: str, adverse: bool, min_n: int) -> str | None:
    """The most favoured group for a metric, among groups with at least min_n in its denominator (all groups
    when none has), so that a handful of images cannot set the bar for everyone."""
    valued = {g: s["metrics"][name] for g, s in groups.items() if s["metrics"][name]["value"] is not None}
    eligible = {g: m for g, m in valued.items() if m["n"] >= min_n} or valued
    if not eligible:
        return None
    pick = min if adverse else max
    return pick(eligible, key=lambda g: eligible[g]["value"])


def grouping_report(
    records: ImageRecords, columns: list[str], settings: AuditSettings, rng: np.random.Generator, truth: bool
) -> dict:
    """Metrics per group of one grouping (one column, or the intersection of several), with impact ratios
    against each metric's most favoured group, four-fifths flags, small-group warnings and the largest gaps."""
    keys = [" / ".join(parts) for parts in zip(*(records.groups[c] for c in columns), strict=False)]
    names = sorted(set(keys))
    key_array = np.array(keys, dtype=object)
    groups: dict[str, dict] = {}
    reps: dict[str, dict[str, np.ndarray]] = {}
    for g in names:
        groups[g], reps[g] = group_stats(records, np.flatnonzero(key_array == g), settings, rng, truth)
    references = {}
    for name, m in METRICS.items():
        if m.needs_truth and not truth:
            continue
        ref = references[name] = _reference(groups, name, m.adverse, settings.min_n)
        for g, stats in groups.items():
            entry = stats["metrics"][name]
            if ref is None or entry["value"] is None:
                entry.update(
                    impact_ratio=None, impact_ratio_ci=None, four_fifths_flag=False, difference=None, difference_ci=None
                )
                continue
            ref_value = groups[ref]["metrics"][name]["value"]
            ratio = impact_ratio(entry["value"], ref_value, m.adverse)
            ratio_reps = impact_ratio(reps[g][name], reps[ref][name], m.adverse)
            entry.update(
                impact_ratio=_number(ratio),
                impact_ratio_ci=_span(interval(ratio_reps, settings.level)),
                four_fifths_flag=bool(ratio < FOUR_FIFTHS),
                # the absolute gap beside the relative one: a ratio of two rare rates can be low while the
                # groups are a point apart, and it rises when one group is read worse, so read both
                difference=_number(entry["value"] - ref_value),
                difference_ci=_span(interval(reps[g][name] - reps[ref][name], settings.level)),
            )
    for stats in groups.values():
        stats["warnings"] = _warnings(stats, settings)
    return {
        "columns": columns,
        "groups": groups,
        "reference": references,
        "equal_rates_p": {
            name: _number(equal_rates_p(*_counts(_eligible(groups, name, settings.min_n))))
            for name in COUNT_METRICS
            if name in references and _eligible(groups, name, settings.min_n)
        },
        "notes": _zero_reference_notes(groups, references),
        "largest_gaps": {name: _largest_gap(groups, name, references[name], settings.min_n) for name in GAP_METRICS},
    }


def _warnings(stats: dict, settings: AuditSettings) -> list[str]:
    out = []
    if stats["n"] < settings.min_n or stats["n_usable"] < settings.min_n:
        out.append(
            f"small group: {stats['n']} images, {stats['n_usable']} usable faces (fewer than "
            f"{settings.min_n}); its rates and ratios are anecdotal"
        )
    wide = [
        f"{name} {entry['ci'][1] - entry['ci'][0]:.2f}"
        for name, entry in stats["metrics"].items()
        if name != "mean_p_angry" and entry["ci"] and entry["ci"][1] - entry["ci"][0] > settings.max_ci_width
    ]
    if wide:
        out.append(f"95% intervals wider than {settings.max_ci_width}: {', '.join(wide)}")
    return out


def _zero_reference_notes(groups: dict[str, dict], references: dict[str, str | None]) -> list[str]:
    """An adverse outcome's reference at 0 makes every other group's ratio 0, however small its own rate."""
    return [
        f"the reference group for {name}, {ref}, has a rate of 0: every group with any such case gets an "
        f"impact ratio of 0, so compare the rates and their intervals instead"
        for name, ref in references.items()
        if ref is not None and METRICS[name].adverse and groups[ref]["metrics"][name]["value"] == 0
    ]


def _largest_gap(groups: dict[str, dict], name: str, reference: str | None, min_n: int) -> dict | None:
    """The group with the lowest impact ratio for `name`, among groups large enough to set a reference."""
    eligible = _eligible(groups, name, min_n)
    if reference is None or not eligible:
        return None
    worst = min(eligible, key=lambda g: eligible[g]["impact_ratio"])
    entry = eligible[worst]
    return {
        "group": worst,
        "rate": entry["value"],
        "reference": reference,
        "reference_rate": groups[reference]["metrics"][name]["value"],
        "impact_ratio": entry["impact_ratio"],
        "impact_ratio_ci": entry["impact_ratio_ci"],
        "four_fifths_flag": entry["four_fifths_flag"],
        "difference": entry["difference"],
        "difference_ci": entry["difference_ci"],
        **_chance(eligible),
    }


def _eligible(groups: dict[str, dict], name: str, min_n: int) -> dict[str, dict]:
    """The groups whose `name` has an impact ratio, only those large enough to set a reference when there are."""
    rated = {g: s["metrics"][name] for g, s in groups.items() if s["metrics"][name]["impact_ratio"] is not None}
    return {g: m for g, m in rated.items() if m["n"] >= min_n} or rated


def _counts(rates: dict[str, dict]) -> tuple[np.ndarray, np.ndarray]:
    """(cases, denominators) per group of a count metric."""
    totals = np.array([m["n"] for m in rates.values()])
    return np.round(np.array([m["value"] for m in rates.values()]) * totals), totals


def _chance(rates: dict[str, dict]) -> dict:
    """How much of a worst ratio the counting alone gives: the worst ratio that groups of these sizes show when
    all share the pooled rate (median and 90% range), and the chi-square p-value of equal rates. A rare outcome
    (5% of faces) on a few hundred faces a group gives a worst ratio near 0.5 at exact parity."""
    flagged, totals = _counts(rates)
    null = parity_worst_ratios(totals, float(flagged.sum() / max(totals.sum(), 1)))
    low, median, high = np.quantile(null, [0.05, 0.5, 0.95])
    return {
        "at_parity": {"median": _number(median), "range_90": [_number(low), _number(high)]},
        "equal_rates_p": _number(equal_rates_p(flagged, totals)),
    }


def _flag(gname: str, grouping: dict, group: str, name: str) -> dict:
    """A four-fifths flag; conclusive when its whole interval lies below 0.8 against a non-zero reference and, for a
    count, the chi-square test rejects equal rates across the grouping. The second condition is needed because the
    reference is the group with the fewest cases: for a rare outcome the interval of the ratio to that chosen group
    can lie below 0.8 even when every group has the same true rate (see `_chance`)."""
    entry = grouping["groups"][group]["metrics"][name]
    ref = grouping["reference"][name]
    ci = entry["impact_ratio_ci"]
    zero_ref = METRICS[name].adverse and grouping["groups"][ref]["metrics"][name]["value"] == 0
    p = grouping["equal_rates_p"].get(name)
    return {
        "grouping": gname,
        "group": group,
        "metric": name,
        "impact_ratio": entry["impact_ratio"],
        "impact_ratio_ci": ci,
        "reference": ref,
        "equal_rates_p": p,
        "conclusive": ci is not None and ci[1] < FOUR_FIFTHS and not zero_ref and (p is None or p < SIGNIFICANCE),
        "small_group": any(w.startswith("small group") for w in grouping["groups"][group]["warnings"]),
    }


def fairness_metrics(records: ImageRecords, group_cols: list[str], settings: AuditSettings | None = None) -> dict:
    """Overall metrics, then one grouping per column and one for their intersection (when several)."""
    settings = settings or AuditSettings()
    rng = np.random.default_rng(settings.seed)
    truth = bool((records.truth >= 0).any())
    overall, _ = group_stats(records, np.arange(len(records)), settings, rng, truth)
    groupings = {c: grouping_report(records, [c], settings, rng, truth) for c in group_cols}
    if len(group_cols) > 1:
        groupings[" × ".join(group_cols)] = grouping_report(records, list(group_cols), settings, rng, truth)
    flags = [
        _flag(gname, grouping, g, name)
        for gname, grouping in groupings.items()
        for g, s in grouping["groups"].items()
        for name, e in s["metrics"].items()
        if e["four_fifths_flag"]
    ]
    warnings = [f"{gname}: {note}" for gname, grouping in groupings.items() for note in grouping["notes"]]
    warnings += [
        f"{gname} = {g}: {w}"
        for gname, grouping in groupings.items()
        for g, s in grouping["groups"].items()
        for w in s["warnings"]
    ]
    return {
        "truth": truth,
        "overall": overall,
        "groupings": groupings,
        "four_fifths_flags": flags,
        "warnings": warnings,
        "definitions": {
            name: {
                "description": m.description,
                "denominator": m.denominator,
                "direction": "lower is better" if m.adverse else "higher is better",
                "impact_ratio": (
                    "lowest group's value / this group's value"
                    if m.adverse
                    else "this group's value / highest group's value"
                ),
            }
            for name, m in METRICS.items()
            if truth or not m.needs_truth
        },
    }
