import dataclasses
import json

import pytest

from facecue.cli import main
from facecue.errors import InputError
from facecue.interview import analyze_interview
from facecue.interview.trends import compare_interviews
from facecue.result import ModelRef, ModelsInfo
from tests.interview.synthetic import synthetic_result, timeline


def write_result(path, parts, subject=None, purpose=None, model=None, p=0.9):
    result = synthetic_result(timeline(*parts, p=p))
    result = dataclasses.replace(result, interview=analyze_interview(result, subject_id=subject, purpose=purpose))
    if model is not None:  # the emotion model that read it, as a real analysis records it
        result = dataclasses.replace(result, models=ModelsInfo(emotion=ModelRef("facecue-emotion", *model)))
    path.write_text(result.to_json())
    return path


def test_more_smiling_over_three_interviews_is_a_rising_engagement_trend(tmp_path):
    paths = [
        write_result(tmp_path / f"r{i}.json", [("happy", 10 * i), ("neutral", 40 - 10 * i)], "cand-7", "practice")
        for i in (1, 2, 3)
    ]
    report = compare_interviews(paths)
    assert report["subject_id"] == "cand-7" and report["purpose"] == "practice"
    engagement = report["trends"]["engagement"]
    assert engagement["first"] == pytest.approx(0.25) and engagement["last"] == pytest.approx(0.75)
    assert engagement["direction"] == "higher" and engagement["slope_per_interview"] == pytest.approx(0.25)
    assert engagement["consistency"] == "varied"
    assert report["trends"]["discomfort"]["direction"] == "about the same"
    assert [r["compared"] for r in report["interviews"]] == [True, True, True]


def test_results_of_different_candidates_or_purposes_are_refused(tmp_path):
    a = write_result(tmp_path / "a.json", [("happy", 30)], "cand-1")
    b = write_result(tmp_path / "b.json", [("happy", 30)], "cand-2")
    with pytest.raises(InputError, match="different candidates"):
        compare_interviews([a, b])
    c = write_result(tmp_path / "c.json", [("happy", 30)], "cand-1", "practice")
    d = write_result(tmp_path / "d.json", [("happy", 30)], "cand-1", "assessment")
    with pytest.raises(InputError, match="different purposes"):
        compare_interviews([c, d])


def test_results_read_by_different_emotion_models_are_refused(tmp_path):
    """The default model changed from v1 to v2 on 2026-12-05: a practice history analysed across the change would
    show v2's lower stress readings as the candidate's progress."""
    v1 = ("0.1.0", "e019d6f2e686")
    v2 = ("2.3.0", "a989540daac4")
    old = write_result(tmp_path / "old.json", [("sad", 30)], "cand-1", "practice", model=v1)
    new = write_result(tmp_path / "new.json", [("neutral", 30)], "cand-1", "practice", model=v2)
    with pytest.raises(InputError, match=r"different emotion models .*0\.1\.0 \(e019d6f2\).*2\.3\.0 \(a989540d\)"):
        compare_interviews([old, new])
    again = write_result(tmp_path / "again.json", [("neutral", 30)], "cand-1", "practice", model=v2)
    report = compare_interviews([new, again])
    assert report["emotion_model"] == "facecue-emotion 2.3.0 (a989540d)"


def test_unrecorded_identity_is_allowed_with_a_caveat_and_short_interviews_are_not_compared(tmp_path):
    a = write_result(tmp_path / "a.json", [("happy", 30)])
    b = write_result(tmp_path / "b.json", [("neutral", 10)])
    report = compare_interviews([a, b])
    assert report["trends"] == {}
    assert any("cannot check that they are the same person" in c for c in report["caveats"])
    assert any("were not compared" in c for c in report["caveats"])


def test_trends_command_writes_json_and_reports_bad_input_in_one_line(tmp_path, capsys):
    a = write_result(tmp_path / "a.json", [("neutral", 30)])
    b = write_result(tmp_path / "b.json", [("happy", 30)])
    assert main(["trends", str(a), str(b), "-o", str(tmp_path / "out")]) == 0
    saved = json.loads((tmp_path / "out" / "trends.json").read_text())
    assert saved["schema"] == "facecue.trends/2"  # `discomfort` replaced /1's `stress`
    assert saved["trends"]["expressivity"]["direction"] == "higher"
    assert "The expressivity reading was higher in the last interview than in the first" in capsys.readouterr().out
    (tmp_path / "plain.json").write_text('{"schema": "facecue.result/1"}')
    assert main(["trends", str(a), str(tmp_path / "plain.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no interview analysis" in err and "Traceback" not in err
    before = a.read_text()
    assert main(["trends", str(a), str(b), "-o", str(a)]) == 2  # it was overwritten with the trends document
    assert "is one of the results being compared" in capsys.readouterr().err and a.read_text() == before


def test_a_behaviour_only_result_is_refused_in_one_sentence(tmp_path):
    doc = {"schema": "facecue.interview/1", "signals": ["behaviour"], "overall": {}, "spans": []}
    paths = []
    for n in range(2):
        paths.append(tmp_path / f"r{n}.json")
        paths[-1].write_text(json.dumps(doc))
    with pytest.raises(InputError, match="behaviour-only analysis: trends compare expression cues"):
        compare_interviews(paths)


def test_discomfort_is_compared_on_absolute_readings_and_every_interview_is_named(tmp_path):
    """QA: the mean discomfort reading rose 0.22 -> 0.52 while the trend (relative to each recording's own baseline,
    ~0 by construction for a steady face) said "about the same (0.00 -> 0.00)"; "about the same ... than" was
    ungrammatical; "Composure was higher" read like a trait; and with three interviews the middle one was hidden."""
    paths = [
        write_result(tmp_path / f"r{i}.json", [("sad", 30)], p=p, subject="cand-1", purpose="practice")
        for i, p in enumerate((0.2, 0.7, 0.5))
    ]
    report = compare_interviews(paths)
    discomfort = report["trends"]["discomfort"]
    assert [r["discomfort"] for r in report["interviews"]] == pytest.approx([0.6, 0.85, 0.75], abs=0.002)
    assert discomfort["direction"] == "higher" and "stress" not in report["trends"]
    assert discomfort["text"].startswith(
        "The mean discomfort reading was higher in the last interview than in the first (0.60 -> 0.85 -> 0.75)"
    )
    assert report["trends"]["composure"]["text"].startswith(
        "The composure reading was about the same in the last interview as in the first (1.00 -> 1.00 -> 1.00)"
    )
