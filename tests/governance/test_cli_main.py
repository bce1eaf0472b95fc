"""The governance commands through `facecue.cli.main`, as a user runs them: a mistake is one `error:` line and exit
2, and nothing already stored is changed or lost by a command that fails."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facecue.cli import main
from facecue.governance import AuditLog, ConsentRecord, write_subject_manifest

from .conftest import SUBJECT

RECORD = ["consent", "record", "--purpose", "research", "--jurisdiction", "US", "--controller", "Uni"]


def fails(capsys, argv: list[str], *words: str) -> str:
    """Run the command, expect exit 2 with one `error:` sentence holding `words`; return the message."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    return err


def bad_logs(tmp_path: Path) -> dict[str, Path]:
    """Audit logs that cannot take an entry: a damaged last line, a folder, a path under a file."""
    damaged = tmp_path / "damaged.jsonl"
    AuditLog(damaged).append("admin-1", "viewed")
    with damaged.open("a") as f:
        f.write("{not json\n")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("x")
    return {
        "last entry is unreadable": damaged,
        "is not a file": tmp_path / "a-folder",
        "not a writable folder": tmp_path / "a-file" / "audit.jsonl",
    }


def test_erase_checks_the_audit_log_before_deleting_anything(tmp_path, capsys):
    root = tmp_path / "store"
    write_subject_manifest(root / "an-1", SUBJECT)
    (root / "consent.json").write_text(json.dumps({"subject_id": SUBJECT}))
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    for problem, log in bad_logs(tmp_path).items():
        fails(capsys, ["erase", "--subject", SUBJECT, "--root", str(root), "--audit-log", str(log)], problem)
        assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    # an actor the log would refuse (it names the subject) is refused before the deletion, not after
    good = tmp_path / "audit.jsonl"
    argv = ["erase", "--subject", SUBJECT, "--root", str(root), "--audit-log", str(good)]
    fails(capsys, [*argv, "--actor", f"helpdesk-{SUBJECT}"], "names the subject")
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
    assert main(argv) == 0
    assert not any(root.iterdir()) and [e.action for e in AuditLog(good).entries()] == ["erased"]


def test_consent_changes_wait_for_an_appendable_audit_log(tmp_path, capsys):
    record = tmp_path / "consent.json"
    assert main([*RECORD, "--subject", SUBJECT, "-o", str(record)]) == 0
    original = record.read_bytes()
    for n, (problem, log) in enumerate(bad_logs(tmp_path).items()):
        fails(capsys, ["consent", "withdraw", str(record), "--audit-log", str(log)], problem)
        assert record.read_bytes() == original  # still consented, so a retry can withdraw it
        new = tmp_path / f"new-{n}.json"
        fails(capsys, [*RECORD, "--subject", SUBJECT, "-o", str(new), "--audit-log", str(log)], problem)
        assert not new.exists()
    good = tmp_path / "audit.jsonl"
    assert main(["consent", "withdraw", str(record), "--audit-log", str(good)]) == 0
    assert ConsentRecord.load(record).withdrawn_at is not None
    assert [e.action for e in AuditLog(good).entries()] == ["withdrew"]


def test_a_consent_change_the_audit_log_refuses_is_undone(tmp_path, capsys):
    # The log refuses an entry whose details name the subject: here the id is the word "research" itself, so the
    # entry for this record fails only at the append, after the record was written, and the record is rolled back.
    log = tmp_path / "audit.jsonl"
    new = tmp_path / "new.json"
    fails(capsys, [*RECORD, "--subject", "research", "-o", str(new), "--audit-log", str(log)], "was not made")
    assert not new.exists()
    record = tmp_path / "consent.json"
    assert main([*RECORD, "--subject", "research", "-o", str(record)]) == 0
    original = record.read_bytes()
    fails(capsys, ["consent", "withdraw", str(record), "--audit-log", str(log)], "was not made", str(record))
    assert record.read_bytes() == original


def test_consent_record_never_overwrites_a_file(tmp_path, capsys):
    record = tmp_path / "consent.json"
    assert main([*RECORD, "--subject", "cand-0001", "-o", str(record)]) == 0
    assert main(["consent", "withdraw", str(record)]) == 0
    withdrawn = record.read_bytes()
    fails(capsys, [*RECORD, "--subject", "cand-0009", "-o", str(record)], str(record), "already exists")
    assert record.read_bytes() == withdrawn  # the withdrawal is still on file
    assert not list(tmp_path.glob("*.tmp"))
    fails(capsys, [*RECORD, "--subject", "cand-0009", "-o", str(tmp_path)], "already exists")


def test_a_withdrawal_or_consent_dated_in_the_future_is_refused(tmp_path, capsys):
    record = tmp_path / "consent.json"
    fails(capsys, [*RECORD, "--subject", SUBJECT, "-o", str(record), "--given-at", "2099-01-01T00:00:00+00:00"],
          "in the future")  # fmt: skip
    assert not record.exists()
    assert main([*RECORD, "--subject", SUBJECT, "-o", str(record)]) == 0
    original = record.read_bytes()
    fails(capsys, ["consent", "withdraw", str(record), "--at", "2099-01-01T00:00:00+00:00"], "in the future")
    assert record.read_bytes() == original
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()  # within the clock-skew allowance
    assert main(["consent", "withdraw", str(record), "--at", soon]) == 0
    # ... and taken as now: the consent no longer holds (it held until the minute had passed).
    assert ConsentRecord.load(record).withdrawn_at <= datetime.now(UTC)
    analyze = ["analyze", str(tmp_path / "never-read.mp4"), "-o", str(tmp_path / "out"), "--consent", str(record)]
    fails(capsys, [*analyze, "--purpose", "research", "--jurisdiction", "US"], "consent was withdrawn")


def test_a_future_withdrawal_already_on_file_can_be_withdrawn_now(tmp_path, capsys):
    # Records written before future withdrawals were refused: the subject must still be able to withdraw now.
    record = tmp_path / "consent.json"
    assert main([*RECORD, "--subject", SUBJECT, "-o", str(record)]) == 0
    data = json.loads(record.read_text())
    data["withdrawn_at"] = "2099-01-01T00:00:00+00:00"
    record.write_text(json.dumps(data))
    analyze = ["analyze", str(tmp_path / "never-read.mp4"), "-o", str(tmp_path / "out"), "--consent", str(record)]
    fails(capsys, [*analyze, "--purpose", "research", "--jurisdiction", "US"], "consent was withdrawn")
    assert main(["consent", "withdraw", str(record)]) == 0
    assert ConsentRecord.load(record).withdrawn_at <= datetime.now(UTC)
    fails(capsys, ["consent", "withdraw", str(record)], "already withdrawn")


def test_a_malformed_consent_record_is_named(tmp_path, capsys):
    record = tmp_path / "consent.json"
    record.write_text(json.dumps({"schema": "facecue.consent/1", "controller": "Uni"}))
    fails(capsys, ["consent", "withdraw", str(record)], str(record), "'subject_id'")


@pytest.mark.parametrize("what", ["folder", "video"])
def test_verify_says_what_is_not_an_audit_log(tmp_path, capsys, what):
    path = tmp_path / what
    if what == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41\n\xff\xd8\xff" * 50)
    fails(capsys, ["audit-log", "verify", str(path)], str(path), "not an audit log")


def test_analyze_checks_its_audit_log_before_it_starts(tmp_path, capsys, practice_args):
    # The "analysed" entry is written after a long analysis: a log that cannot take it is refused first.
    (tmp_path / "a-folder").mkdir()
    out = tmp_path / "out"
    argv = ["analyze", str(tmp_path / "never-read.mp4"), "-o", str(out), *practice_args]
    fails(capsys, [*argv, "--audit-log", str(tmp_path / "a-folder")], "is not a file")
    assert not out.exists()


@pytest.mark.parametrize("code", ["US-IK", "US-ZZ", "US-EU"])
def test_a_us_state_typo_is_refused_not_the_generic_us_row(tmp_path, capsys, code):
    # US-IK is a typo for US-IL: the generic US notice would lack the Illinois Video Interview Act's terms.
    notice = ["notice", "--purpose", "assessment", "--jurisdiction", code, "--controller", "Acme"]
    fails(capsys, notice, f"unknown jurisdiction '{code}'", "IL, IN", "US-NY-NYC")
    out = tmp_path / "consent.json"
    fails(capsys, [*RECORD[:4], "--jurisdiction", code, *RECORD[6:], "--subject", SUBJECT, "-o", str(out)], code)
    assert not out.exists()
