"""`facecue erase` finds and deletes everything `facecue analyze` and `facecue batch` write about a subject: their
outputs name the subject in a manifest (subject-files.json) beside them."""

from __future__ import annotations

import json

import pytest

from facecue.cli import main
from facecue.governance import AuditLog
from facecue.io.sample import make_sample_video

SUBJECT = "cand-0077"


@pytest.fixture
def consented(tmp_path, model_files):
    """A short interview and its subject's consent to a practice run, both inside the store to erase from."""
    store = tmp_path / "store"
    clip = make_sample_video(store / "videos" / "clip.mp4", seconds=1.0, fps=10, size=(320, 180))
    consent = store / "consents" / f"{SUBJECT}.json"
    record = ["consent", "record", "--purpose", "practice", "--jurisdiction", "OTHER", "--controller", "Coach"]
    assert main([*record, "--subject", SUBJECT, "-o", str(consent)]) == 0
    return store, clip, ["--purpose", "practice", "--jurisdiction", "OTHER", "--consent", str(consent)]


def erase(store, tmp_path, capsys) -> str:
    log = tmp_path / "audit.jsonl"
    assert main(["erase", "--subject", SUBJECT, "--root", str(store), "--audit-log", str(log)]) == 0
    assert AuditLog(log).verify().ok
    return capsys.readouterr().out


def test_erase_deletes_every_file_analyze_wrote_and_nothing_else(consented, tmp_path, capsys):
    store, clip, policy = consented
    out = store / "results"
    out.mkdir()
    (out / "other-notes.txt").write_text("someone else's file in the chosen output folder")
    assert main(["analyze", str(clip), "-o", str(out), "--quiet", *policy]) == 0
    manifest = json.loads((out / "subject-files.json").read_text())
    assert manifest["subject_id"] == SUBJECT
    assert {"result.json", "frames.csv", "report.html"} <= set(manifest["files"])
    assert "verified: nothing under the roots names the subject" in erase(store, tmp_path, capsys)
    # the outputs (the report's face thumbnails included) and the consent are gone; the other file stays
    assert sorted(p.name for p in out.iterdir()) == ["other-notes.txt"]
    assert not (store / "consents" / f"{SUBJECT}.json").exists()


def test_erase_deletes_a_batch_output_folder(consented, tmp_path, capsys):
    store, clip, policy = consented
    out = store / "batch"
    assert main(["batch", str(clip.parent), "-o", str(out), "--workers", "1", *policy]) == 0
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert json.loads((folder / "subject-files.json").read_text())["subject_id"] == SUBJECT
    assert "erased 1 analysis folder(s)" in erase(store, tmp_path, capsys)
    assert not folder.exists()  # emptied by the erasure, so the folder went too
    assert (out / "summary.csv").exists()  # the batch's summary holds other interviews: it stays


def test_outputs_written_without_a_subject_drop_an_earlier_manifest(consented, tmp_path, capsys, practice):
    # Otherwise erasing the earlier subject would delete the new, unrelated results that took their files' names.
    import facecue
    from facecue.outputs import write_outputs

    store, clip, policy = consented
    out = store / "results"
    assert main(["analyze", str(clip), "-o", str(out), "--quiet", *policy]) == 0
    write_outputs(facecue.analyze(clip, **practice), out)
    assert not (out / "subject-files.json").exists()
    erase(store, tmp_path, capsys)
    assert (out / "result.json").exists() and (out / "report.html").exists()
