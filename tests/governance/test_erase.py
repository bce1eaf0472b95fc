"""Erasure: everything a manifest claims goes, nothing of others does, the search proves it, the log keeps counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facecue.governance import (
    AuditLog,
    ConsentError,
    ConsentRecord,
    ErasureError,
    check_analysis_allowed,
    erase_subject,
    find_subject,
    write_subject_manifest,
)

from .conftest import NOW, SUBJECT, consent_for

OTHER = "cand-0043"


def make_analysis(root: Path, name: str, subject: str) -> Path:
    folder = root / name
    write_subject_manifest(folder, subject)
    (folder / "media.mp4").write_bytes(b"\x00\x01fake video " * 100)
    (folder / "result.json").write_text(json.dumps({"schema": "facecue.result/1", "frames": 3}))
    (folder / "thumbs").mkdir()
    (folder / "thumbs" / "0001.jpg").write_bytes(b"\xff\xd8jpeg")
    (folder / "notes.txt").write_text(f"reviewer note about {subject}\n")
    return folder


@pytest.fixture
def store(tmp_path) -> dict:
    media, results = tmp_path / "media", tmp_path / "results"
    make_analysis(media, "an-1", SUBJECT)
    make_analysis(media, "an-2", SUBJECT)
    make_analysis(media, "an-3", OTHER)
    consent_for("assessment", "US").save(results / "consent-1.json")
    consent_for("assessment", "US", subject=OTHER).save(results / "consent-2.json")
    (results / "clip-7.mp4").write_bytes(b"clip")
    (results / "clip-7.json").write_text(json.dumps({"subject_id": SUBJECT, "files": ["clip-7.mp4"]}))
    log = AuditLog(tmp_path / "audit" / "audit.jsonl")
    log.append("reviewer-7", "analysed", subject=SUBJECT)
    return {"roots": [media, results, log.path.parent], "log": log, "tmp": tmp_path}


def test_erasure_leaves_nothing_that_names_the_subject(store):
    assert len(find_subject(SUBJECT, store["roots"])) > 0
    report = erase_subject(SUBJECT, store["roots"], store["log"], actor="admin-1")
    assert report.complete and report.remaining == ()
    # two folders of five files each, then a consent record, a clip and its manifest
    assert (report.folders_removed, report.files_removed) == (2, 2 * 5 + 3)
    assert find_subject(SUBJECT, store["roots"]) == []
    files = {p.relative_to(store["tmp"]).as_posix() for p in store["tmp"].rglob("*") if p.is_file()}
    assert not any(SUBJECT in f for f in files)
    assert all(SUBJECT.encode() not in p.read_bytes() for p in store["tmp"].rglob("*") if p.is_file())


def test_erasure_keeps_other_subjects(store):
    erase_subject(SUBJECT, store["roots"], store["log"])
    media, results = store["roots"][:2]
    assert sorted(p.name for p in (media / "an-3").iterdir()) == [
        "media.mp4",
        "notes.txt",
        "result.json",
        "subject.json",
        "thumbs",
    ]
    assert ConsentRecord.load(results / "consent-2.json").subject_id == OTHER
    assert find_subject(OTHER, store["roots"]) != []


def test_erasure_is_audited_with_counts_only(store):
    log = store["log"]
    report = erase_subject(SUBJECT, store["roots"], log, actor="admin-1")
    last = log.entries()[-1]
    assert (last.actor, last.action, last.subject) == ("admin-1", "erased", log.subject_ref(SUBJECT))
    assert last.details == {"folders": 2, "files": 13, "bytes": report.bytes_removed, "remaining": 0}
    assert report.subject_ref == last.subject
    assert SUBJECT not in log.path.read_text() and log.verify().ok


def test_an_erased_candidate_cannot_be_analysed(store):
    results = store["roots"][1]
    consent = ConsentRecord.load(results / "consent-1.json")
    check_analysis_allowed("assessment", "US", consent, NOW)
    erase_subject(SUBJECT, store["roots"], store["log"])
    with pytest.raises(ConsentError, match="cannot read the consent record"):
        ConsentRecord.load(results / "consent-1.json")
    with pytest.raises(ConsentError, match="needs the subject's recorded consent"):
        check_analysis_allowed("assessment", "US", None, NOW)


def test_leftovers_outside_the_convention_are_reported_not_deleted(store):
    media = store["roots"][0]
    stray_name = media / "exports" / f"{SUBJECT.upper()}-summary.csv"
    stray_name.parent.mkdir()
    stray_name.write_text("angry,0.1\n")
    shared = media / "exports" / "all.csv"
    shared.write_text(f"subject,score\n{OTHER},1\n{SUBJECT},2\n")
    lookalike = media / "exports" / "cand.csv"
    lookalike.write_text(f"{SUBJECT}9,1\nx{SUBJECT}\n")  # other ids that merely contain it
    report = erase_subject(SUBJECT, store["roots"], store["log"])
    assert not report.complete and set(report.remaining) == {shared, stray_name}
    assert shared.exists() and stray_name.exists() and lookalike.exists()
    assert store["log"].entries()[-1].details["remaining"] == 2


def test_id_split_across_read_chunks_is_found(tmp_path, monkeypatch):
    from facecue.governance import erase

    monkeypatch.setattr(erase, "_CHUNK", 16)
    (tmp_path / "a.bin").write_bytes(b"x" * 12 + b" " + SUBJECT.encode() + b" y")  # spans the 16-byte boundary
    (tmp_path / "b.bin").write_bytes(b"x" * 6 + b" " + SUBJECT.encode() + b"7")  # ends at the boundary, then goes on
    assert find_subject(SUBJECT, [tmp_path]) == [tmp_path / "a.bin"]


def test_manifest_pointing_outside_the_roots_deletes_nothing(tmp_path):
    root = tmp_path / "root"
    make_analysis(root, "an-1", SUBJECT)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("keep")
    (root / "evil.json").write_text(json.dumps({"subject_id": SUBJECT, "files": ["../elsewhere.txt"]}))
    with pytest.raises(ErasureError, match="outside the erasure roots"):
        erase_subject(SUBJECT, [root], AuditLog(tmp_path / "a.jsonl"))
    assert outside.exists() and (root / "an-1" / "media.mp4").exists()


def test_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(ErasureError, match="is not a folder"):
        erase_subject(SUBJECT, [tmp_path / "nope"], AuditLog(tmp_path / "a.jsonl"))


def test_nested_and_repeated_roots_are_walked_once(store):
    media = store["roots"][0]
    report = erase_subject(SUBJECT, [media, media / "an-1", media, store["tmp"]], store["log"])
    assert report.complete and (report.folders_removed, report.files_removed) == (2, 13)
