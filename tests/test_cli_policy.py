"""`facecue analyze` with a purpose and jurisdiction: the policy table decides before any decoding."""

import json

from facecue.cli import main
from facecue.governance import AuditLog


def test_assessment_in_the_eu_is_refused_and_audited(tmp_path, capsys):
    log = tmp_path / "audit.jsonl"
    code = main(["analyze", str(tmp_path / "never-read.mp4"), "-o", str(tmp_path / "out"), "--purpose", "assessment",
                 "--jurisdiction", "DE", "--audit-log", str(log)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "5(1)(f)" in err
    assert not (tmp_path / "out").exists()  # refused before anything was written
    entries = AuditLog(log).entries()
    assert [e.action for e in entries] == ["refused"] and AuditLog(log).verify().ok


def test_assessment_without_consent_is_refused(tmp_path, capsys):
    code = main(["analyze", str(tmp_path / "x.mp4"), "-o", str(tmp_path / "out"), "--purpose", "assessment",
                 "--jurisdiction", "US-IL"])
    assert code == 2 and "consent" in capsys.readouterr().err.lower()


def test_purpose_needs_jurisdiction(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "x.mp4"), "-o", str(tmp_path / "o"), "--purpose", "practice"]) == 2
    assert "jurisdiction" in capsys.readouterr().err


def test_consented_practice_analysis_records_the_policy(tmp_path, model_files):
    from facecue.io.sample import make_sample_video

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=2.0, fps=10, size=(480, 270))
    consent = tmp_path / "consent.json"
    assert main(["consent", "record", "--subject", "cand-1", "--purpose", "practice", "--jurisdiction", "FR",
                 "--controller", "cand-1-self", "-o", str(consent)]) == 0
    log = tmp_path / "audit.jsonl"
    assert main(["analyze", str(clip), "-o", str(tmp_path / "out"), "--quiet", "--purpose", "practice",
                 "--jurisdiction", "FR", "--consent", str(consent), "--audit-log", str(log)]) == 0
    policy = json.loads((tmp_path / "out" / "result.json").read_text())["summary"]["policy"]
    assert policy["allowed"] is True and policy["share_with_reviewers"] is False
    assert [e.action for e in AuditLog(log).entries()][-1] == "analysed"


def test_the_library_applies_the_same_policy_before_decoding(tmp_path, model_files):
    import pytest

    import facecue
    from facecue.governance import PolicyError
    from facecue.io.sample import make_sample_video

    never_read = tmp_path / "never-read.mp4"  # refusals come before the file is opened
    with pytest.raises(PolicyError, match=r"5\(1\)\(f\)"):
        facecue.analyze(never_read, purpose="assessment", jurisdiction="DE")
    with pytest.raises(PolicyError, match="consent"):
        facecue.analyze(never_read, purpose="assessment", jurisdiction="US-IL")
    with pytest.raises(PolicyError, match="go together"):
        facecue.analyze(never_read, purpose="practice")

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    consent = tmp_path / "consent.json"
    assert main(["consent", "record", "--subject", "cand-1", "--purpose", "practice", "--jurisdiction", "FR",
                 "--controller", "cand-1-self", "-o", str(consent)]) == 0
    result = facecue.analyze(clip, purpose="practice", jurisdiction="FR", consent=str(consent))
    assert result.summary["policy"]["allowed"] is True and result.summary["policy"]["purpose"] == "practice"
    assert "policy" not in facecue.analyze(clip).summary  # a developer's own footage: no purpose, no decision
