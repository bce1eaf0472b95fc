"""Group metrics on synthetic records with known differences between groups."""

import numpy as np
import pytest

from facecue.fairness.metrics import AuditSettings, fairness_metrics
from facecue.fairness.records import ImageRecords, stress_cue
from facecue.labels import EMOTIONS

ANGRY = [0.8, 0.05, 0.05, 0.03, 0.03, 0.02, 0.02]
SAD = [0.05, 0.02, 0.03, 0.05, 0.6, 0.05, 0.2]  # cue (0.7 negative) but not angry
HAPPY = [0.02, 0.01, 0.02, 0.85, 0.02, 0.03, 0.05]


def near(value):
    return pytest.approx(value, abs=1e-6)  # the report rounds to 6 decimals


def group_rows(n: int, n_angry: int, n_sad: int, n_missed: int, n_abstained: int, n_wrong: int) -> dict:
    """n images: the first are missed by the detector, then abstained, then angry, sad, happy faces. Truth is
    each face's own label except for the last n_wrong usable faces (true label 'neutral')."""
    usable = n - n_missed - n_abstained
    probs = np.full((n, 7), np.nan)
    probs[n_missed + n_abstained :] = [ANGRY] * n_angry + [SAD] * n_sad + [HAPPY] * (usable - n_angry - n_sad)
    truth = np.where(np.isfinite(probs).all(axis=1), np.nan_to_num(probs, nan=-1).argmax(axis=1), -1)
    truth[n - n_wrong :] = EMOTIONS.index("neutral")
    detected = np.arange(n) >= n_missed
    abstain = ["too dark" if n_missed <= i < n_missed + n_abstained else "" for i in range(n)]
    return {"detected": detected, "probs": probs, "truth": truth, "abstain": abstain}


def make_records(spec: dict[str, dict]) -> ImageRecords:
    parts = {g: group_rows(**kw) for g, kw in spec.items()}
    group = [g for g, kw in spec.items() for _ in range(kw["n"])]
    sex = [("f", "m")[i % 2] for i in range(len(group))]
    detected = np.concatenate([p["detected"] for p in parts.values()])
    return ImageRecords(
        files=tuple(f"{i}.jpg" for i in range(len(group))),
        groups={"race": tuple(group), "sex": tuple(sex)},
        detected=detected,
        n_faces=detected.astype(int),
        det_score=np.where(detected, 0.9, np.nan).astype(np.float32),
        quality=np.where(detected, 0.8, np.nan).astype(np.float32),
        abstain=tuple(a for p in parts.values() for a in p["abstain"]),
        probs=np.concatenate([p["probs"] for p in parts.values()]).astype(np.float32),
        truth=np.concatenate([p["truth"] for p in parts.values()]).astype(np.int64),
    )


# A: angry 10%, accuracy 80%. B: 10% missed, angry 25% and accuracy 60% of its 360 faces. C: tiny, never angry.
SPEC = {
    "A": {"n": 400, "n_angry": 40, "n_sad": 20, "n_missed": 0, "n_abstained": 0, "n_wrong": 80},
    "B": {"n": 400, "n_angry": 90, "n_sad": 60, "n_missed": 40, "n_abstained": 0, "n_wrong": 144},
    "C": {"n": 12, "n_angry": 0, "n_sad": 0, "n_missed": 0, "n_abstained": 2, "n_wrong": 0},
}


@pytest.fixture(scope="module")
def doc():
    return fairness_metrics(make_records(SPEC), ["race", "sex"], AuditSettings(n_boot=500, seed=3))


def metric(doc, group, name, grouping="race"):
    return doc["groupings"][grouping]["groups"][group]["metrics"][name]


def test_rates_per_group_are_exact(doc):
    assert metric(doc, "A", "angry_rate")["value"] == near(0.10)
    assert metric(doc, "B", "angry_rate")["value"] == near(0.25)  # 90 of 360 usable faces
    assert metric(doc, "B", "detection_rate")["value"] == near(0.90)
    assert metric(doc, "C", "abstention_rate")["value"] == near(2 / 12)
    assert metric(doc, "A", "cue_rate")["value"] == near(0.15)
    assert metric(doc, "B", "cue_rate")["value"] == near(150 / 360)
    assert metric(doc, "A", "engagement_rate")["value"] == near(340 / 400)  # the happy faces
    assert metric(doc, "B", "engagement_rate")["value"] == near(210 / 360)
    assert metric(doc, "B", "engagement_rate")["impact_ratio"] == near(round((210 / 360) / (340 / 400), 6))
    assert metric(doc, "A", "accuracy")["value"] == near(0.80)
    assert metric(doc, "B", "accuracy")["value"] == near(216 / 360)
    assert metric(doc, "A", "mean_p_angry")["value"] == near((40 * 0.8 + 20 * 0.05 + 340 * 0.02) / 400)
    shares = doc["groupings"]["race"]["groups"]["A"]["predicted_share"]
    assert {e: shares[e]["value"] for e in ("angry", "sad", "happy", "fear")} == near(
        {"angry": 0.1, "sad": 0.05, "happy": 0.85, "fear": 0.0}
    )


def test_impact_ratios_use_the_most_favoured_large_group(doc):
    race = doc["groupings"]["race"]
    # C is never read as angry but has 12 images: it may not set the bar for everyone.
    assert race["reference"]["angry_rate"] == "A" and race["reference"]["detection_rate"] in ("A", "C")
    assert metric(doc, "B", "angry_rate")["impact_ratio"] == near(0.10 / 0.25)
    assert metric(doc, "A", "angry_rate")["impact_ratio"] == 1.0
    assert metric(doc, "B", "detection_rate")["impact_ratio"] == near(0.9)
    assert metric(doc, "B", "accuracy")["impact_ratio"] == near(0.6 / 0.8)
    assert metric(doc, "C", "angry_rate")["impact_ratio"] == 1.0  # below the reference: parity at best


def test_four_fifths_flags_and_largest_gaps(doc):
    assert metric(doc, "B", "angry_rate")["four_fifths_flag"] is True
    assert metric(doc, "B", "detection_rate")["four_fifths_flag"] is False  # 0.9 >= 0.8
    assert metric(doc, "B", "accuracy")["four_fifths_flag"] is True  # 0.75
    gap = doc["groupings"]["race"]["largest_gaps"]["angry_rate"]
    assert (gap["group"], gap["reference"]) == ("B", "A") and gap["impact_ratio"] == near(0.4)
    lo, hi = gap["impact_ratio_ci"]
    assert lo < 0.4 < hi < 0.8
    flagged = {(f["group"], f["metric"]): f for f in doc["four_fifths_flags"] if f["grouping"] == "race"}
    assert flagged[("B", "angry_rate")]["conclusive"] and not flagged[("B", "angry_rate")]["small_group"]


def test_each_largest_gap_comes_with_what_exact_parity_shows(doc):
    gap = doc["groupings"]["race"]["largest_gaps"]["angry_rate"]  # 10% of A against 25% of B (C is too small)
    low, high = gap["at_parity"]["range_90"]
    assert low < gap["at_parity"]["median"] < high <= 1
    assert gap["impact_ratio"] < low and gap["equal_rates_p"] < 1e-6
    # Nearly equal rates (10% and 9.4%): the measured ratio is one that exact parity gives, and the test agrees.
    even = {
        "A": {"n": 400, "n_angry": 40, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0},
        "B": {"n": 360, "n_angry": 34, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0},
    }
    gap = fairness_metrics(make_records(even), ["race"], AuditSettings(n_boot=200))["groupings"]["race"]
    gap = gap["largest_gaps"]["angry_rate"]
    low, high = gap["at_parity"]["range_90"]
    assert low <= gap["impact_ratio"] <= high and gap["equal_rates_p"] > 0.5


def test_each_gap_has_its_absolute_difference_beside_the_ratio(doc):
    b = metric(doc, "B", "angry_rate")  # 25% against the reference A's 10%
    assert b["difference"] == near(0.15) and b["difference_ci"][0] < 0.15 < b["difference_ci"][1]
    assert metric(doc, "A", "angry_rate")["difference"] == 0.0
    assert metric(doc, "B", "engagement_rate")["difference"] == near(round(210 / 360 - 340 / 400, 6))  # favourable
    gap = doc["groupings"]["race"]["largest_gaps"]["angry_rate"]
    assert gap["difference"] == near(0.15) and gap["difference_ci"] == b["difference_ci"]
    # A model that reads both groups as angry less often (10% -> 4%, 25% -> 12%) halves the difference while the
    # ratio falls (0.40 -> 0.33): the ratio alone would call it worse for the groups it reads better.
    fewer = {
        "A": {"n": 400, "n_angry": 16, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0},
        "B": {"n": 400, "n_angry": 48, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0},
    }
    after = fairness_metrics(make_records(fewer), ["race"], AuditSettings(n_boot=200))
    after = after["groupings"]["race"]["largest_gaps"]["angry_rate"]
    assert after["impact_ratio"] < gap["impact_ratio"] and after["difference"] == near(0.08)
    from facecue.fairness.html import _gaps

    assert "15.0 points" in _gaps(doc)  # the report's "Largest gaps" table shows it


def test_a_rare_outcome_below_four_fifths_by_chance_is_not_conclusive():
    # Ten groups of 400 with 2, 6 (x8) and 12 angry faces: no evidence that rates differ (chi-square p 0.49), yet
    # the last group's ratio to the group with the fewest, 0.17, has its whole interval below 0.8. Exact parity on
    # these sizes gives such ratios (median 0.27), so the flag stands but is not called conclusive.
    counts = [2] + [6] * 8 + [12]
    spec = {
        f"G{i}": {"n": 400, "n_angry": c, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0}
        for i, c in enumerate(counts)
    }
    rare = fairness_metrics(make_records(spec), ["race"], AuditSettings(n_boot=500, seed=3))
    flag = next(f for f in rare["four_fifths_flags"] if (f["group"], f["metric"]) == ("G9", "angry_rate"))
    assert flag["impact_ratio"] == near(1 / 6) and flag["impact_ratio_ci"][1] < 0.8
    assert flag["equal_rates_p"] > 0.3 and not flag["conclusive"]
    gap = rare["groupings"]["race"]["largest_gaps"]["angry_rate"]
    assert gap["at_parity"]["range_90"][0] <= gap["impact_ratio"] <= gap["at_parity"]["range_90"][1]


def test_intervals_contain_the_values_and_small_groups_are_warned(doc):
    for group in ("A", "B"):
        m = metric(doc, group, "angry_rate")
        assert m["ci"][0] < m["value"] < m["ci"][1]
    assert any(w.startswith("small group") for w in doc["groupings"]["race"]["groups"]["C"]["warnings"])
    assert not doc["groupings"]["race"]["groups"]["A"]["warnings"]
    assert any(w.startswith("race = C: small group") for w in doc["warnings"])


def test_intersections_and_overall(doc):
    cross = doc["groupings"]["race × sex"]["groups"]
    assert set(cross) == {"A / f", "A / m", "B / f", "B / m", "C / f", "C / m"}
    assert sum(g["n"] for g in cross.values()) == 812
    assert doc["overall"]["n"] == 812 and doc["truth"] is True
    assert doc["definitions"]["angry_rate"]["direction"] == "lower is better"


def test_same_seed_same_intervals():
    records = make_records(SPEC)
    one = fairness_metrics(records, ["race"], AuditSettings(n_boot=200, seed=9))
    two = fairness_metrics(records, ["race"], AuditSettings(n_boot=200, seed=9))
    assert one == two


def test_without_truth_there_are_no_truth_metrics():
    records = make_records(SPEC)
    unlabelled = ImageRecords(**{**records.__dict__, "truth": np.full(len(records), -1)})
    doc = fairness_metrics(unlabelled, ["race"], AuditSettings(n_boot=50))
    assert doc["truth"] is False and "accuracy" not in doc["definitions"]
    assert set(doc["groupings"]["race"]["groups"]["A"]["metrics"]) == {
        "detection_rate",
        "abstention_rate",
        "angry_rate",
        "cue_rate",
        "engagement_rate",
        "mean_p_angry",
    }


def test_stress_cue_is_the_interview_cues_per_frame_test():
    from facecue.interview.affect import discomfort
    from facecue.interview.cues import DISCOMFORT_P

    probs = np.array(
        [SAD, HAPPY, [0.2, 0.1, 0.1, 0.2, 0.05, 0.1, 0.25], [0.5, 0.0, 0.0, 0.0, 0.1, 0.2, 0.2], [np.nan] * 7]
    )
    assert stress_cue(probs).tolist() == [True, False, False, True, False]  # 0.45 is below one half, 0.5 reaches it
    usable = ~np.isnan(probs).any(axis=1)
    assert stress_cue(probs)[usable].tolist() == (discomfort(probs[usable]) >= DISCOMFORT_P).tolist()
