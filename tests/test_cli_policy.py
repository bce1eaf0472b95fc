"""`facecue analyze` and the library: purpose and jurisdiction are required, and the policy table decides before
any decoding (or model loading)."""

import json
import subprocess
import sys

from facecue.cli import main
from facecue.governance import AuditLog


def test_assessment_in_the_eu_is_refused_and_audited(tmp_path, capsys):
    log = tmp_path / "audit.jsonl"
    code = main(
        [
            "analyze",
            str(tmp_path / "never-read.mp4"),
            "-o",
            str(tmp_path / "out"),
            "--purpose",
            "assessment",
            "--jurisdiction",
            "DE",
            "--audit-log",
            str(log),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "5(1)(f)" in err
    assert not (tmp_path / "out").exists()  # refused before anything was written
    entries = AuditLog(log).entries()
    assert [e.action for e in entries] == ["refused"] and AuditLog(log).verify().ok


def test_assessment_without_consent_is_refused(tmp_path, capsys):
    code = main(
        [
            "analyze",
            str(tmp_path / "x.mp4"),
            "-o",
            str(tmp_path / "out"),
            "--purpose",
            "assessment",
            "--jurisdiction",
            "US-IL",
        ]
    )
    assert code == 2 and "consent" in capsys.readouterr().err.lower()


def test_purpose_needs_jurisdiction(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "x.mp4"), "-o", str(tmp_path / "o"), "--purpose", "practice"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: say why and where") and "(jurisdiction missing)" in err and "--jurisdiction" in err
    assert not (tmp_path / "o").exists()


def test_cli_without_purpose_or_jurisdiction_is_refused_audited_and_writes_nothing(
    tmp_path, model_files, practice_consent
):
    """Not even a consented practice run of a real video goes ahead without saying why and where."""
    from facecue.io.sample import make_sample_video

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    log = tmp_path / "audit.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facecue.cli",
            "analyze",
            str(clip),
            "-o",
            str(tmp_path / "out"),
            "--consent",
            str(practice_consent),
            "--audit-log",
            str(log),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: say why and where this analysis runs (purpose and jurisdiction missing)")
    assert "--purpose (practice, research, assessment, staff_practice or student_practice)" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    assert [e.action for e in AuditLog(log).entries()] == ["refused"]
    code = main(
        [
            "analyze",
            str(clip),
            "-o",
            str(tmp_path / "out"),
            "--jurisdiction",
            "OTHER",
            "--consent",
            str(practice_consent),
        ]
    )
    assert code == 2 and not (tmp_path / "out").exists()


def test_the_library_refuses_without_purpose_or_jurisdiction(tmp_path, model_files, practice_consent):
    import pytest

    import facecue
    from facecue.governance import PolicyError
    from facecue.io.sample import make_sample_video
    from facecue.pipeline import Analyzer

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    analyzer = Analyzer()
    for kwargs, missing in [
        ({}, "purpose and jurisdiction"),
        ({"jurisdiction": "OTHER"}, "purpose"),
        ({"purpose": "practice"}, "jurisdiction"),
        ({"purpose": "", "jurisdiction": ""}, "purpose and jurisdiction"),
    ]:
        for analyse in (analyzer.analyze, facecue.analyze):
            with pytest.raises(PolicyError, match=rf"say why and where this analysis runs \({missing} missing\)"):
                analyse(clip, consent=str(practice_consent), **kwargs)
    with pytest.raises(PolicyError, match="say why and where"):  # the live form too, before any frame
        analyzer.stream(iter(()), consent=str(practice_consent))
    with pytest.raises(PolicyError, match="needs the subject's recorded consent"):
        analyzer.stream(iter(()), purpose="practice", jurisdiction="OTHER")


def test_consented_practice_analysis_records_the_policy(tmp_path, model_files):
    from facecue.io.sample import make_sample_video

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=2.0, fps=10, size=(480, 270))
    consent = tmp_path / "consent.json"
    assert (
        main(
            [
                "consent",
                "record",
                "--subject",
                "cand-1",
                "--purpose",
                "practice",
                "--jurisdiction",
                "FR",
                "--controller",
                "cand-1-self",
                "-o",
                str(consent),
            ]
        )
        == 0
    )
    log = tmp_path / "audit.jsonl"
    assert (
        main(
            [
                "analyze",
                str(clip),
                "-o",
                str(tmp_path / "out"),
                "--quiet",
                "--purpose",
                "practice",
                "--jurisdiction",
                "FR",
                "--consent",
                str(consent),
                "--audit-log",
                str(log),
            ]
        )
        == 0
    )
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
    with pytest.raises(PolicyError, match="jurisdiction missing"):
        facecue.analyze(never_read, purpose="practice")
    with pytest.raises(PolicyError, match="needs the subject's recorded consent"):  # practice needs consent too
        facecue.analyze(never_read, purpose="practice", jurisdiction="OTHER")

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    consent = tmp_path / "consent.json"
    assert (
        main(
            [
                "consent",
                "record",
                "--subject",
                "cand-1",
                "--purpose",
                "practice",
                "--jurisdiction",
                "FR",
                "--controller",
                "cand-1-self",
                "-o",
                str(consent),
            ]
        )
        == 0
    )
    result = facecue.analyze(clip, purpose="practice", jurisdiction="FR", consent=str(consent))
    policy = result.summary.policy
    assert policy is not None and policy["allowed"] is True and policy["purpose"] == "practice"
    assert policy["region"] == "EU/EEA" and policy["jurisdiction"] == "FR"


def test_employer_practice_in_the_eu_runs_behaviour_only(tmp_path, model_files, capsys):
    from facecue.io.sample import make_sample_video

    clip = make_sample_video(tmp_path / "clip.mp4", seconds=2.0, fps=10, size=(480, 270))
    consent = tmp_path / "consent.json"
    assert (
        main(
            [
                "consent",
                "record",
                "--subject",
                "staff-0001",
                "--purpose",
                "staff_practice",
                "--jurisdiction",
                "DE",
                "--controller",
                "Acme GmbH",
                "-o",
                str(consent),
            ]
        )
        == 0
    )
    capsys.readouterr()
    flags = ["--purpose", "staff_practice", "--jurisdiction", "DE", "--consent", str(consent), "--quiet"]
    # With emotions (the default) it is refused before anything is written, with the way out in the sentence.
    assert main(["analyze", str(clip), "-o", str(tmp_path / "refused"), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refused") and "--signals behaviour" in err and err.count("\n") == 1
    assert not (tmp_path / "refused").exists()
    assert main(["analyze", str(clip), "-o", str(tmp_path / "out"), "--signals", "behaviour", *flags]) == 0
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    policy = doc["summary"]["policy"]
    assert policy["allowed"] and policy["signals"] == ["behaviour"] and policy["emotions_allowed"] is False
    assert "probs" not in doc["faces"]


def test_the_library_takes_the_signals_into_the_decision(tmp_path, model_files):
    import pytest

    import facecue
    from facecue.governance import PolicyError

    with pytest.raises(PolicyError, match="--signals behaviour"):
        facecue.analyze(tmp_path / "never-read.mp4", purpose="student_practice", jurisdiction="FR")
    with pytest.raises(PolicyError, match=r"5\(1\)\(f\)"):
        facecue.analyze(tmp_path / "never-read.mp4", purpose="assessment", jurisdiction="FR", signals=("behaviour",))
