"""Bootstrap replicates and impact ratios against the library's own metrics and known truths."""

import numpy as np
import pytest

from facecue.emotion.metrics import classification_report, expected_calibration_error
from facecue.fairness.stats import (
    ece_replicates,
    homogeneity_p,
    impact_ratio,
    interval,
    macro_f1_replicates,
    parity_worst_ratios,
    ratio_replicates,
    resample_indices,
    top_share,
    worst_ratio,
)


def random_probs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(7) * 0.7, size=n)
    truth = np.where(rng.random(n) < 0.6, probs.argmax(axis=1), rng.integers(0, 7, n))
    return probs, truth


def test_identity_resample_reproduces_the_library_metrics():
    probs, truth = random_probs(500, seed=1)
    identity = np.arange(500)[None]
    pred = probs.argmax(axis=1)
    weight = np.ones(500)
    report = classification_report(probs, truth)
    assert macro_f1_replicates(truth, pred, weight, identity)[0] == pytest.approx(report["macro_f1"], abs=1e-12)
    ece = ece_replicates(probs.max(axis=1), (pred == truth).astype(float), weight, identity)[0]
    assert ece == pytest.approx(expected_calibration_error(probs, truth), abs=1e-12)
    assert ratio_replicates((pred == truth).astype(float), weight, identity)[0] == pytest.approx(report["accuracy"])


def test_zero_weight_rows_do_not_count():
    probs, truth = random_probs(400, seed=2)
    pred = probs.argmax(axis=1)
    keep = np.arange(400) % 3 != 0
    identity = np.arange(400)[None]
    sub = classification_report(probs[keep], truth[keep])
    assert macro_f1_replicates(truth, pred, keep.astype(float), identity)[0] == pytest.approx(sub["macro_f1"])
    ece = ece_replicates(probs.max(axis=1), (pred == truth).astype(float), keep.astype(float), identity)[0]
    assert ece == pytest.approx(sub["ece"])


def test_bootstrap_interval_contains_the_true_rate_with_the_expected_width():
    p, n = 0.3, 2000
    outcome = (np.random.default_rng(5).random(n) < p).astype(float)
    reps = ratio_replicates(outcome, np.ones(n), resample_indices(n, 1000, np.random.default_rng(0)))
    lo, hi = interval(reps)
    assert lo < p < hi
    assert hi - lo == pytest.approx(2 * 1.96 * np.sqrt(p * (1 - p) / n), rel=0.15)  # normal-theory width


def test_interval_coverage_is_close_to_95_percent():
    p, n, trials = 0.2, 300, 200
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(trials):
        outcome = (rng.random(n) < p).astype(float)
        lo, hi = interval(ratio_replicates(outcome, np.ones(n), resample_indices(n, 400, rng)))
        covered += lo <= p <= hi
    assert 0.88 <= covered / trials <= 0.99


def test_resamples_without_a_denominator_are_nan_and_skipped():
    reps = ratio_replicates(np.array([1.0, 0.0]), np.array([1.0, 0.0]), np.array([[1, 1], [0, 1]]))
    assert np.isnan(reps[0]) and reps[1] == 1.0
    assert interval(reps) == (1.0, 1.0)
    assert interval(np.array([np.nan, np.nan])) is None


def test_impact_ratio_directions_and_edge_cases():
    assert impact_ratio(0.4, 0.5, adverse=False) == pytest.approx(0.8)  # favourable: group / highest
    assert impact_ratio(0.2, 0.1, adverse=True) == pytest.approx(0.5)  # adverse: lowest / group
    assert impact_ratio(0.0, 0.0, adverse=True) == 1.0  # parity when nobody is read as angry
    assert impact_ratio(0.1, 0.0, adverse=True) == 0.0  # any case against a zero reference
    reps = impact_ratio(np.array([0.2, 0.0, np.nan]), np.array([0.1, 0.0, 0.1]), adverse=True)
    assert reps[:2].tolist() == [0.5, 1.0] and np.isnan(reps[2])


def test_exact_parity_shows_a_low_worst_ratio_when_the_outcome_is_rare():
    sizes = np.array([350] * 7)
    rare, common = parity_worst_ratios(sizes, 0.03), parity_worst_ratios(sizes, 0.35)
    # Seven groups at one true rate: the noisy lowest over the noisy highest is far below 1 for a 3% outcome
    # (about 10 faces a group), and near the four-fifths line for a 35% one.
    assert 0.3 < np.median(rare) < 0.6
    assert 0.75 < np.median(common) < 0.9
    assert np.all(parity_worst_ratios(sizes, 0.0) == 1.0)


def test_worst_ratio_and_homogeneity_on_known_groups():
    groups = np.repeat(np.array(["a", "b"]), 1000)
    even = np.tile(np.arange(1000) < 100, 2)  # 10% in both groups
    uneven = np.concatenate([np.arange(1000) < 50, np.arange(1000) < 150])  # 5% vs 15%
    assert worst_ratio(even, groups) == pytest.approx(1.0)
    assert worst_ratio(uneven, groups) == pytest.approx(1 / 3)
    assert homogeneity_p(even, groups) > 0.9
    assert homogeneity_p(uneven, groups) < 1e-6
    assert homogeneity_p(np.zeros(2000, bool), groups) == 1.0


def test_top_share_flags_the_highest_scores():
    scores = np.array([0.1, 0.9, 0.3, 0.8, 0.2, 0.7, 0.4, 0.6])
    assert np.flatnonzero(top_share(scores, 0.25)).tolist() == [1, 3]
    assert top_share(scores, 0.0).sum() == 0
