"""The governance subcommands, run through a parser built the way facecue/cli.py will build it."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import pytest

from facecue.governance import (
    AuditLog,
    ConsentError,
    ConsentRecord,
    PolicyError,
    check_analysis_allowed,
    write_subject_manifest,
)
from facecue.governance.cli_commands import RUNNERS, add_parsers
from facecue.governance.consent import NOTICE_VERSION

from .conftest import NOW, SUBJECT


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="facecue")
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return RUNNERS[args.command](args)


def test_consent_given_before_the_notice_existed_is_refused(tmp_path):
    # Accepted before: --given-at 2019-01-01 made a record of consent to a notice published years later.
    out = tmp_path / "consent.json"
    argv = ["consent", "record", "--purpose", "research", "--jurisdiction", "US", "--controller", "Uni"]
    with pytest.raises(ConsentError, match=r"^the consent time 2019-01-01T00:00:00\+00:00 is before notice version "):
        run([*argv, "--subject", SUBJECT, "--given-at", "2019-01-01T00:00:00+00:00", "-o", str(out)])
    assert not out.exists()


def test_notice_prints_text_and_its_fingerprint(capsys):
    assert run(["notice", "--purpose", "practice", "--jurisdiction", "DE", "--controller", "Coach GmbH"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Notice: AI analysis of your video interview for practice by Coach GmbH")
    assert f"notice version {NOTICE_VERSION}, sha256 " in err
    assert run(["notice", "--purpose", "research", "--jurisdiction", "US", "--controller", "Uni", "--html"]) == 0
    assert capsys.readouterr().out.startswith('<article class="facecue-notice"')


def test_jurisdiction_help_asks_for_the_strictest_applicable_code(capsys):
    with pytest.raises(SystemExit):
        run(["notice", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert "ES for the Canary Islands" in helptext and "give the strictest" in helptext


def test_notice_for_a_prohibited_analysis_is_an_error():
    with pytest.raises(PolicyError, match=r"Art\. 5\(1\)\(f\)"):
        run(["notice", "--purpose", "assessment", "--jurisdiction", "FR", "--controller", "Acme"])


def test_consent_record_then_withdraw(tmp_path, capsys):
    out, log = tmp_path / "consent.json", tmp_path / "audit.jsonl"
    assert (
        run(
            [
                "consent",
                "record",
                "--purpose",
                "assessment",
                "--jurisdiction",
                "US-IL",
                "--controller",
                "Acme",
                "--subject",
                SUBJECT,
                "--scope",
                "analysis,share_with_reviewers",
                "--given-at",
                (NOW - timedelta(hours=2)).isoformat(),
                "-o",
                str(out),
                "--audit-log",
                str(log),
            ]
        )
        == 0
    )
    record = ConsentRecord.load(out)
    assert (record.subject_id, record.controller) == (SUBJECT, "Acme")
    assert record.scope == ("analysis", "share_with_reviewers")
    assert check_analysis_allowed("assessment", "US-IL", record, NOW).allowed
    assert (
        run(["consent", "withdraw", str(out), "--at", (NOW - timedelta(hours=1)).isoformat(), "--audit-log", str(log)])
        == 0
    )
    with pytest.raises(PolicyError, match="withdrawn"):
        check_analysis_allowed("assessment", "US-IL", ConsentRecord.load(out), NOW)
    entries = AuditLog(log).entries()
    assert [(e.actor, e.action) for e in entries] == [("self", "consented"), ("self", "withdrew")]
    assert SUBJECT not in log.read_text()


def test_consent_record_needs_a_time_zone(tmp_path):
    with pytest.raises(PolicyError, match="needs a time zone"):
        run(
            [
                "consent",
                "record",
                "--purpose",
                "research",
                "--jurisdiction",
                "US",
                "--controller",
                "Uni",
                "--subject",
                SUBJECT,
                "--given-at",
                "2025-06-01T09:00:00",
                "-o",
                str(tmp_path / "c.json"),
            ]
        )


def test_audit_log_verify_exit_codes(tmp_path, capsys):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append("admin-1", "viewed", subject=SUBJECT)
    log.append("admin-1", "exported", subject=SUBJECT)
    assert run(["audit-log", "verify", str(log.path)]) == 0
    assert "ok: 2 entries, chain intact; head entry 1 sha256" in capsys.readouterr().out
    entries = [json.loads(x) for x in log.path.read_text().splitlines()]
    entries[0]["actor"] = "someone-else"
    log.path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    assert run(["audit-log", "verify", str(log.path)]) == 1
    assert "TAMPERED: entry 0 was changed after it was written (first bad entry: 0)" in capsys.readouterr().out


def test_erase_reports_and_exit_codes(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    write_subject_manifest(a / "an-1", SUBJECT)
    write_subject_manifest(b / "an-2", SUBJECT)
    log = tmp_path / "audit.jsonl"
    assert run(["erase", "--subject", SUBJECT, "--root", str(a), "--root", str(b), "--audit-log", str(log)]) == 0
    assert "erased 2 analysis folder(s) and 2 file(s)" in capsys.readouterr().out
    (a / f"{SUBJECT}.txt").write_text("left behind")
    assert run(["erase", "--subject", SUBJECT, "--root", str(a), str(b), "--audit-log", str(log)]) == 1
    assert "NOT COMPLETE: 1 path(s)" in capsys.readouterr().out
