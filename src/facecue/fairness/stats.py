"""Bootstrap replicates and impact ratios, vectorised over resamples (plain numpy).

Every replicate function takes `idx`, a (B, n) array of row indices drawn with replacement from one group,
and returns (B,) values, so all of a group's metrics come from the same resamples. Row 0 of `idx` may be the
identity to get the point estimate through the same code.
"""

from __future__ import annotations

import numpy as np

from facecue.labels import NUM_EMOTIONS

FOUR_FIFTHS = 0.8


def resample_indices(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) indices drawn with replacement from range(n)."""
    return rng.integers(0, n, size=(n_boot, n)) if n else np.zeros((n_boot, 0), np.int64)


def ratio_replicates(num: np.ndarray, den: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """sum(num) / sum(den) per resample; NaN where a resample has no denominator (e.g. no usable face)."""
    top = num[idx].sum(axis=1, dtype=np.float64)
    bottom = den[idx].sum(axis=1, dtype=np.float64)
    return np.divide(top, bottom, out=np.full(len(idx), np.nan), where=bottom > 0)


def macro_f1_replicates(truth: np.ndarray, pred: np.ndarray, weight: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Macro-F1 over the classes present in each resample's truth, as `classification_report` computes it.
    Rows with weight 0 (no truth, or no usable face) do not count; their truth/pred may be any valid label."""
    k = NUM_EMOTIONS
    b = len(idx)
    codes = (np.arange(b)[:, None] * k * k + truth[idx] * k + pred[idx]).ravel()
    cm = np.bincount(codes, weights=weight[idx].ravel().astype(np.float64), minlength=b * k * k).reshape(b, k, k)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    predicted, actual = cm.sum(axis=1), cm.sum(axis=2)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    present = actual > 0
    n_present = present.sum(axis=1)
    return np.divide((f1 * present).sum(axis=1), n_present, out=np.full(b, np.nan), where=n_present > 0)


def ece_replicates(
    confidence: np.ndarray, correct: np.ndarray, weight: np.ndarray, idx: np.ndarray, bins: int = 15
) -> np.ndarray:
    """Top-label ECE with the equal-width (lo, hi] bins of `expected_calibration_error`, per resample."""
    edges = np.linspace(0, 1, bins + 1)
    bin_of = np.searchsorted(edges, confidence, side="left") - 1  # (lo, hi] -> bin; confidence 0 -> -1
    inside = (bin_of >= 0) & (bin_of < bins)
    b = len(idx)
    codes = (np.arange(b)[:, None] * bins + np.where(inside, bin_of, 0)[idx]).ravel()
    w = (weight * inside)[idx].ravel().astype(np.float64)
    conf_sum = np.bincount(codes, weights=w * confidence[idx].ravel(), minlength=b * bins).reshape(b, bins)
    hit_sum = np.bincount(codes, weights=w * correct[idx].ravel(), minlength=b * bins).reshape(b, bins)
    total = weight[idx].sum(axis=1, dtype=np.float64)
    return np.divide(np.abs(hit_sum - conf_sum).sum(axis=1), total, out=np.full(b, np.nan), where=total > 0)


def interval(replicates: np.ndarray, level: float = 0.95) -> tuple[float, float] | None:
    """Percentile bootstrap interval, or None when no resample gave a value."""
    finite = replicates[np.isfinite(replicates)]
    if not len(finite):
        return None
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(finite, [tail, 100 - tail])
    return float(lo), float(hi)


def impact_ratio(rate, reference, adverse: bool):
    """NYC LL144-style impact ratio, 1 for the most favoured group and lower for worse-off ones.

    Favourable outcomes (detection, accuracy): rate / reference, reference = the highest rate.
    Adverse outcomes (read as angry, abstained, ECE): reference / rate, reference = the lowest rate, so that
    a group read as angrier than the least-angry group gets a ratio below 1 (below 0.8 fails four-fifths).
    A zero denominator counts as parity (1): the group is not worse off than the reference. Works on scalars
    and on arrays of replicates.
    """
    rate, reference = np.asarray(rate, np.float64), np.asarray(reference, np.float64)
    top, bottom = (reference, rate) if adverse else (rate, reference)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1), 1.0)
    ratio = np.where(np.isnan(rate) | np.isnan(reference), np.nan, ratio)
    return float(ratio) if ratio.ndim == 0 else ratio


def worst_ratio_of(rates: np.ndarray) -> np.ndarray:
    """(groups, ...) rates -> lowest rate / highest rate over the groups (1 where no group has any case)."""
    rates = np.asarray(rates, dtype=np.float64)
    top = rates.max(axis=0)
    return np.divide(rates.min(axis=0), top, out=np.ones_like(top), where=top > 0)


def worst_ratio(flags: np.ndarray, groups: np.ndarray) -> float:
    """Lowest group rate / highest group rate of an adverse flag (1 when no group has it)."""
    return float(worst_ratio_of(np.array([flags[groups == g].mean() for g in np.unique(groups)])))


def parity_worst_ratios(sizes: np.ndarray, rate: float, n_sim: int = 4000, seed: int = 0) -> np.ndarray:
    """(n_sim,) worst-group ratios that groups of these sizes show when every face has the same chance `rate`.

    What exact parity looks like on a finite sample: the lowest of several noisy rates over the highest is
    well below 1 when the outcome is rare, so a model that reads fewer faces as angry gets a lower worst ratio
    from the counting alone. Compare a measured ratio with this before reading it as a disparity."""
    rng = np.random.default_rng(seed)
    sizes = np.asarray(sizes)[:, None]
    return worst_ratio_of(rng.binomial(sizes, rate, size=(len(sizes), n_sim)) / sizes)


def homogeneity_p(flags: np.ndarray, groups: np.ndarray) -> float:
    """p-value of the chi-square test that every group has the same rate of `flags` (1.0: no flag at all)."""
    members = [groups == g for g in np.unique(groups)]
    return equal_rates_p(np.array([flags[m].sum() for m in members]), np.array([m.sum() for m in members]))


def equal_rates_p(flagged: np.ndarray, totals: np.ndarray) -> float:
    """The same test from each group's count of flagged cases out of its total."""
    from scipy.stats import chi2_contingency

    flagged, totals = np.asarray(flagged), np.asarray(totals)
    if flagged.sum() == 0 or flagged.sum() == totals.sum():
        return 1.0
    return float(chi2_contingency(np.stack([flagged, totals - flagged], axis=1))[1])


def top_share(scores: np.ndarray, share: float) -> np.ndarray:
    """Flags for the `share` of faces with the highest scores: two models compared at the same rate, so that a
    model which reads the outcome less often is not judged on rarer, noisier counts (see parity_worst_ratios)."""
    order = np.argsort(-scores, kind="stable")
    flags = np.zeros(len(scores), bool)
    flags[order[: round(share * len(scores))]] = True
    return flags
