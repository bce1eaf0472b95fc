"""The audit log: every kind of tampering is caught, appends from many processes keep one chain, and no entry
names a subject."""

from __future__ import annotations

import itertools
import json
import multiprocessing
from datetime import timedelta

import pytest

from facecue.errors import FacecueError
from facecue.governance import ACTIONS, AuditError, AuditLog
from facecue.governance.audit import GENESIS, entry_hash

from .conftest import NOW, SUBJECT


@pytest.fixture
def log(tmp_path) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl")
    for i, action in enumerate(["consented", "analysed", "viewed", "exported", "changed"]):
        log.append("reviewer-7", action, subject=SUBJECT, details={"analysis": f"an-{i}"}, time=NOW + timedelta(i))
    return log


def lines(log: AuditLog) -> list[dict]:
    return [json.loads(x) for x in log.path.read_text().splitlines()]


def write(log: AuditLog, entries: list[dict]) -> None:
    log.path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))


def rehash(entry: dict) -> dict:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return {**body, "hash": entry_hash(body)}


def test_entries_form_a_chain(log):
    entries = log.entries()
    assert [e.seq for e in entries] == [0, 1, 2, 3, 4]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert all(entry_hash(e.body()) == e.hash for e in entries)
    assert entries[2].time == (NOW + timedelta(2)).isoformat() and entries[2].action == "viewed"
    assert log.verify() == (True, None, "5 entries, chain intact")
    assert log.head() == (4, entries[4].hash)


def test_the_log_never_holds_the_raw_subject_id(log):
    assert SUBJECT not in log.path.read_text()
    assert {e.subject for e in log.entries()} == {log.subject_ref(SUBJECT)}
    assert log.subject_ref(SUBJECT).startswith("subj-") and log.subject_ref("cand-0043") != log.subject_ref(SUBJECT)


def test_edited_entry_is_detected(log):
    entries = lines(log)
    entries[2]["details"]["analysis"] = "an-99"
    write(log, entries)
    assert log.verify()[:2] == (False, 2)
    assert "changed after it was written" in log.verify().reason


def test_forged_entry_with_its_own_valid_hash_is_detected(log):
    entries = lines(log)
    entries[2] = rehash({**entries[2], "actor": "admin"})  # hash recomputed, so the break shows in the next entry
    write(log, entries)
    assert log.verify()[:2] == (False, 3)


def test_rewriting_the_whole_chain_is_caught_by_the_head(log):
    entries = lines(log)
    entries[1]["action"] = "viewed"
    prev = entries[0]["hash"]
    for i in range(1, 5):
        entries[i] = rehash({**entries[i], "prev_hash": prev})
        prev = entries[i]["hash"]
    write(log, entries)
    ok, bad, reason = log.verify()
    assert (ok, bad) == (False, 4) and "head file records" in reason


def test_rewrite_is_caught_by_a_head_kept_elsewhere(log):
    kept = log.head()
    entries = lines(log)
    entries[4] = rehash({**entries[4], "action": "viewed"})
    write(log, entries)
    log.head_path.write_text(json.dumps({"seq": 4, "hash": entries[4]["hash"]}))
    assert log.verify().ok is True  # the attacker fixed the head file too...
    assert log.verify(expected_head=kept)[:2] == (False, 4)  # ...but not the copy kept elsewhere


def test_deleted_entry_is_detected(log):
    entries = lines(log)
    del entries[1]
    write(log, entries)
    ok, bad, reason = log.verify()
    assert (ok, bad) == (False, 1) and "deleted, inserted or moved" in reason


def test_deleted_last_entry_is_detected(log):
    write(log, lines(log)[:-1])
    ok, bad, reason = log.verify()
    assert (ok, bad) == (False, 4) and "cut off" in reason


def test_entry_appended_without_the_log_is_detected(log):
    entries = lines(log)
    entries.append(rehash({**entries[-1], "seq": 5, "prev_hash": entries[-1]["hash"], "action": "erased"}))
    write(log, entries)
    assert log.verify()[:2] == (False, 5)


def test_reordered_entries_are_detected(log):
    entries = lines(log)
    entries[1], entries[2] = entries[2], entries[1]
    write(log, entries)
    assert log.verify()[:2] == (False, 1)


def test_inserted_entry_is_detected(log):
    entries = lines(log)
    entries.insert(2, rehash({**entries[1], "action": "exported"}))
    write(log, entries)
    assert log.verify()[:2] == (False, 2)


def test_garbage_line_is_detected_and_blocks_appends(log):
    with open(log.path, "a") as f:
        f.write('{"seq": 5, "half an entry\n')
    assert log.verify()[:2] == (False, 5)
    with pytest.raises(AuditError, match="last entry is unreadable"):
        log.append("reviewer-7", "viewed")


def test_missing_head_file_is_detected(log):
    log.head_path.unlink()
    assert log.verify()[:2] == (False, 0)


def test_missing_key_blocks_appends_to_a_non_empty_log(log):
    log.key_path.unlink()
    with pytest.raises(AuditError, match=r"key .* is missing"):
        log.append("reviewer-7", "viewed", subject=SUBJECT)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"action": "deleted"}, "unknown audit action"),
        ({"actor": ""}, "audit actor"),
        ({"actor": "a\nb"}, "audit actor"),
        ({"actor": f"user-{SUBJECT}"}, "names the subject"),
        ({"details": {"note": f"asked by {SUBJECT.upper()}"}}, "names the subject"),
        ({"details": {"face": [1, 2]}}, "ids and counts"),
        ({"details": {"n": float("nan")}}, "ids and counts"),
        ({"details": {"text": "x" * 201}}, "ids and counts"),
        ({"subject": "jane@example.com"}, "pseudonymous id"),
    ],
)
def test_bad_entries_are_refused(tmp_path, kwargs, message):
    log = AuditLog(tmp_path / "a.jsonl")
    args = {"actor": "reviewer-7", "action": "viewed", "subject": SUBJECT, **kwargs}
    with pytest.raises(FacecueError, match=message):
        log.append(**args)
    assert not log.path.exists() or log.path.read_text() == ""


def test_every_action_can_be_logged(tmp_path):
    log = AuditLog(tmp_path / "a.jsonl")
    for action in ACTIONS:
        log.append("self", action, subject=SUBJECT)
    assert [e.action for e in log.entries()] == list(ACTIONS) and log.verify().ok


def test_missing_log_is_a_user_error(tmp_path):
    with pytest.raises(AuditError, match="no audit log"):
        AuditLog(tmp_path / "none.jsonl").verify()


def _append_many(path: str, worker: int, n: int) -> None:
    log = AuditLog(path)
    for i in range(n):
        log.append(f"worker-{worker}", "viewed", subject=SUBJECT, details={"i": i})


def _verify_many(path: str, n: int) -> None:
    log = AuditLog(path)
    for _ in range(n):
        ok, bad, reason = log.verify()
        if not ok:
            raise SystemExit(f"verify during appends: {bad} {reason}")


def test_concurrent_appends_from_processes_keep_one_chain(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    AuditLog(path).append("setup", "changed")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(path, w, 25)) for w in range(4)]
    procs.append(ctx.Process(target=_verify_many, args=(path, 40)))  # never sees a half-done append
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0, 0]
    log = AuditLog(path)
    assert log.verify() == (True, None, "101 entries, chain intact")
    per_worker = {}
    for e in log.entries()[1:]:
        per_worker.setdefault(e.actor, []).append(e.details["i"])
    assert per_worker == {f"worker-{w}": list(range(25)) for w in range(4)}
