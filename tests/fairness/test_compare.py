"""A model against a reference on the same faces: the group-by-group rule of `facecue fairness --against`."""

import json

import cv2
import numpy as np
import pytest

from facecue.cli import main
from facecue.fairness.compare import compare_models
from tests.conftest import save_image
from tests.fairness.test_audit import LABELS, face_crop
from tests.fairness.test_metrics import make_records


def angry(counts: dict[str, int], n: int = 400):
    """Records of two groups of n usable faces, `counts[g]` of them read as angry (the rest happy)."""
    spec = {
        g: {"n": n, "n_angry": k, "n_sad": 0, "n_missed": 0, "n_abstained": 0, "n_wrong": 0} for g, k in counts.items()
    }
    return make_records(spec)


REFERENCE = angry({"A": 40, "B": 100})  # 10% and 25%: ratio 0.40, 15 points apart


def test_reading_every_group_less_often_is_no_worse_though_the_ratio_falls():
    fewer = angry({"A": 16, "B": 48})  # 4% and 12%: ratio 0.33, 8 points apart
    result = compare_models(fewer, REFERENCE, ["race"], n_boot=500)
    r = result["groupings"]["race"]["angry_rate"]
    assert r["worst_ratio"] < r["reference_worst_ratio"]
    assert r["worst_ratio_change_ci"][0] < 0 < r["worst_ratio_change_ci"][1]  # lower, not measurably
    assert r["largest_gap"] == pytest.approx(0.08) and r["reference_largest_gap"] == pytest.approx(0.15)
    assert r["measurably_lower"] == ["A", "B"] and r["measurably_higher"] == []
    assert r["groups"]["B"]["rate"] == pytest.approx(0.12) and r["groups"]["B"]["reference_rate"] == pytest.approx(0.25)
    assert all(r["checks"].values()) and result["no_worse"] and result["failures"] == []


def test_a_group_read_more_often_fails_and_says_where():
    more = angry({"A": 40, "B": 160})  # B: 25% -> 40%
    result = compare_models(more, REFERENCE, ["race"], n_boot=500)
    r = result["groupings"]["race"]["angry_rate"]
    assert r["measurably_higher"] == ["B"] and not result["no_worse"]
    assert "race.angry_rate: no_group_measurably_higher" in result["failures"]
    assert "race.angry_rate: largest_gap_no_wider" in result["failures"]  # 15 -> 30 points
    assert "race.angry_rate: ratio_not_measurably_lower" in result["failures"]  # 0.40 -> 0.25 on 400 a group


def test_the_same_readings_are_no_worse_and_other_images_are_refused():
    same = compare_models(REFERENCE, REFERENCE, ["race"], n_boot=200)
    assert same["no_worse"] and same["groupings"]["race"]["angry_rate"]["worst_ratio_change_ci"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="same images"):
        compare_models(angry({"A": 4, "B": 10}, n=40), REFERENCE, ["race"])


def test_fairness_against_v1_from_the_command_line(tmp_path, model_files, capsys):
    """The real pipeline reads four faces of two groups with the default and with v1; the report says which."""
    crop = face_crop()
    rows = []
    for i, (group, image) in enumerate(
        [("A", crop), ("A", crop[:, ::-1]), ("B", cv2.convertScaleAbs(crop, alpha=0.9)), ("B", crop[:, ::-1])]
    ):
        save_image(tmp_path / "images" / f"{i}.jpg", image)
        rows.append(f"images/{i}.jpg,30-39,female,{group},True,")
    (tmp_path / "labels.csv").write_text(LABELS + "\n".join(rows) + "\n")
    base = ["fairness", "--images", str(tmp_path), "--labels", str(tmp_path / "labels.csv"), "--group-cols", "race"]
    out = tmp_path / "out"
    assert main([*base, "-o", str(out), "--against", "v1", "--min-n", "1", "--bootstrap", "100"]) == 0
    doc = json.loads((out / "fairness.json").read_text())
    against = doc["against"]
    assert against["model"]["version"] == "0.1.0" and doc["models"]["emotion"]["version"] == "2.3.0"
    readings = against["groupings"]["race"]
    assert set(readings) == {"angry_rate", "cue_rate"} and set(readings["cue_rate"]["groups"]) == {"A", "B"}
    assert isinstance(against["no_worse"], bool)
    assert "Against facecue-emotion 0.1.0" in (out / "fairness.html").read_text()
    assert "against facecue-emotion 0.1.0: " in capsys.readouterr().out
    assert main([*base, "-o", str(out), "--against", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no model named 'nosuch'" in err and err.count("\n") == 1
    assert np.isfinite(readings["cue_rate"]["worst_ratio"])
