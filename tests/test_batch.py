"""`facecue batch`: a real process pool over real videos, resumable, one bad file recorded."""

import csv
import json
import shutil
import sys

import pytest

from facecue.cli import main
from facecue.io.sample import make_sample_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory, model_files):
    root = tmp_path_factory.mktemp("batch")
    folder = root / "in"
    for i, seconds in enumerate((2.0, 3.0)):
        make_sample_video(folder / f"interview{i}.mp4", seconds=seconds, fps=10, size=(480, 270))
    (folder / "broken.mp4").write_bytes(b"not a video at all" * 20)
    return root, folder


def read_summary(out):
    with open(out / "summary.csv", newline="") as handle:
        return {row["path"].rsplit("/", 1)[-1]: row for row in csv.DictReader(handle)}


def test_batch_runs_resumes_and_records_failures(clips, capsys, practice_args):
    root, folder = clips
    out = root / "out"
    assert main(["batch", str(folder), "-o", str(out), "--workers", "2", *practice_args]) == 1  # one file failed
    rows = read_summary(out)
    assert rows["interview0.mp4"]["status"] == "done" and rows["interview1.mp4"]["status"] == "done"
    assert rows["broken.mp4"]["status"] == "failed" and rows["broken.mp4"]["error"]
    result = json.loads((out / rows["interview1.mp4"]["output"].rsplit("/", 1)[-1] / "result.json").read_text())
    assert len(result["frames"]["time_s"]) == 15 and result["source"]["sha256"] == rows["interview1.mp4"]["sha256"]
    assert (result["summary"]["policy"]["purpose"], result["summary"]["policy"]["region"]) == ("practice", "OTHER")
    assert float(rows["interview0.mp4"]["face_presence"]) >= 0.6  # the sample face leaves briefly near the end
    # Run again: finished interviews are skipped by content hash, the broken one is tried again.
    assert main(["batch", str(folder), "-o", str(out), "--workers", "2", *practice_args]) == 1
    again = read_summary(out)
    assert again["interview0.mp4"]["status"] == "skipped" and again["interview1.mp4"]["status"] == "skipped"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"done": 0, "skipped": 2, "failed": 1}
    # With another emotion model nothing done counts as done: a resumed batch is never a mix of two models.
    assert main(["batch", str(folder), "-o", str(out), "--workers", "1", "--model", "v1", *practice_args]) == 1
    redone = read_summary(out)
    assert redone["interview0.mp4"]["status"] == "done" and redone["interview1.mp4"]["status"] == "done"
    result = json.loads((out / redone["interview1.mp4"]["output"].rsplit("/", 1)[-1] / "result.json").read_text())
    assert result["models"]["emotion"]["version"] == "0.1.0"  # v1 replaced the default's result


def test_csv_manifest_and_bad_manifests(clips, tmp_path, capsys, practice_consent):
    root, _ = clips
    shutil.copy(practice_consent, root / "c1-consent.json")
    manifest = root / "manifest.csv"  # the consent path is relative to the CSV, like the video's
    manifest.write_text(
        "path,candidate,purpose,jurisdiction,consent\nin/interview0.mp4,c1,practice,OTHER,c1-consent.json\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "1"]) == 0
    row = read_summary(out)["interview0.mp4"]
    assert row["status"] == "done"
    policy = json.loads((out / row["output"].rsplit("/", 1)[-1] / "result.json").read_text())["summary"]["policy"]
    assert (policy["purpose"], policy["jurisdiction"]) == ("practice", "OTHER")
    bad = tmp_path / "bad.csv"
    bad.write_text("file\nx.mp4\n")
    assert main(["batch", str(bad), "-o", str(out)]) == 2
    assert "'path' column" in capsys.readouterr().err
    assert main(["batch", str(manifest), "-o", str(out), "--model", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "no model named 'nosuch'" in err and err.count("\n") == 1


def test_leftovers_of_a_killed_run_are_replaced_not_trusted(clips, tmp_path, practice_args):
    """A hidden partial folder and a result folder without result.json (what a kill mid-write would leave
    without atomic publishing) are cleared; the interview is analysed again and published whole."""
    from facecue.io.source import sha256_file

    _, folder = clips
    video = folder / "interview0.mp4"
    out = tmp_path / "out"
    half = out / f"interview0-{sha256_file(video)[:12]}"
    half.mkdir(parents=True)
    (half / "frames.csv").write_text("time_s\n0.0\n")  # cut short, and no result.json
    (out / ".partial-interview0-abc-999").mkdir()
    manifest = tmp_path / "one.csv"
    manifest.write_text(f"path\n{video}\n")
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "1", *practice_args]) == 0
    assert read_summary(out)["interview0.mp4"]["status"] == "done"
    assert sorted(p.name for p in out.iterdir()) == [half.name, "summary.csv", "summary.json"]
    assert json.loads((half / "result.json").read_text())["source"]["sha256"].startswith(half.name[-12:])
    assert (half / "frames.csv").read_text().count("\n") > 10 and (half / "report.html").exists()


def test_ray_option_without_ray_installed_is_one_clear_error(clips, tmp_path, capsys, monkeypatch, practice_args):
    _, folder = clips
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where the extra is not installed
    assert main(["batch", str(folder), "-o", str(tmp_path / "out"), "--ray", "local", *practice_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --ray needs Ray") and "pip install 'facecue[ray]'" in err


def _affinity(_: int) -> tuple[int, tuple[int, ...]]:
    import os
    import time

    time.sleep(0.2)  # keep this worker busy so the other one takes the next task
    return os.getpid(), tuple(sorted(os.sched_getaffinity(0)))


def test_a_worker_per_core_is_pinned_to_its_own_core(model_files):
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    from facecue.batch import _core_slots, _init_worker

    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("needs at least two cores")
    context = multiprocessing.get_context("forkserver")
    assert _core_slots(context, 1) is None and _core_slots(context, len(cores) + 1) is None
    options = {"fps": 5.0}
    with ProcessPoolExecutor(
        len(cores),
        mp_context=context,
        initializer=_init_worker,
        initargs=(options, len(cores), _core_slots(context, len(cores))),
    ) as pool:
        seen = dict(pool.map(_affinity, range(4 * len(cores))))
    assert len(seen) == len(cores)  # every worker answered
    assert sorted(c for affinity in seen.values() for c in affinity) == cores  # one distinct core each


def test_one_refused_row_stops_the_batch_before_anything_runs(clips, tmp_path, capsys, practice_consent):
    """Row 2 is an assessment in the EU (prohibited): not even row 1, which is allowed, is analysed."""
    root, _ = clips
    manifest = tmp_path / "mixed.csv"
    manifest.write_text(
        "path,purpose,jurisdiction\n"
        f"{root / 'in' / 'interview0.mp4'},practice,OTHER\n"
        f"{root / 'in' / 'interview1.mp4'},assessment,DE\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--consent", str(practice_consent)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: manifest row 2: refused: the EU AI Act, Art. 5(1)(f)") and err.count("\n") == 1
    assert not out.exists()  # nothing analysed, not even a summary


def test_a_row_without_consent_or_purpose_is_refused(clips, tmp_path, capsys, practice_consent):
    root, _ = clips
    manifest = tmp_path / "m.csv"
    manifest.write_text(
        "path,purpose,jurisdiction,consent\n"
        f"{root / 'in' / 'interview0.mp4'},practice,OTHER,{practice_consent}\n"
        f"{root / 'in' / 'interview1.mp4'},research,UK,\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out)]) == 2  # research needs the subject's consent
    assert capsys.readouterr().err.startswith(
        "error: manifest row 2: analysis for research needs the subject's recorded consent"
    )
    manifest.write_text(f"path\n{root / 'in' / 'interview0.mp4'}\n")
    assert (
        main(["batch", str(manifest), "-o", str(out), "--consent", str(practice_consent), "--jurisdiction", "OTHER"])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: manifest row 1: no purpose; say why and where") and "--purpose" in err
    assert main(["batch", str(root / "in"), "-o", str(out)]) == 2  # a folder takes the flags, and there are none
    assert "broken.mp4: no purpose or jurisdiction" in capsys.readouterr().err  # the first file, sorted
    assert not out.exists()


def test_each_worker_checks_its_row_again_before_decoding(clips, tmp_path, practice_consent):
    """A consent withdrawn after the driver decided (here: before the worker runs) is refused by the worker."""
    from facecue.batch import Job, analyse_one
    from facecue.governance import ConsentRecord

    root, _ = clips
    withdrawn = ConsentRecord.load(practice_consent).withdraw().save(tmp_path / "withdrawn.json")
    job = Job(str(root / "in" / "interview0.mp4"), purpose="practice", jurisdiction="OTHER", consent=str(withdrawn))
    outcome = analyse_one(job, str(tmp_path / "out"), {"fps": 5.0})
    assert outcome.status == "failed" and "the consent was withdrawn at" in outcome.error
    outcome = analyse_one(Job(job.path), str(tmp_path / "out"), {"fps": 5.0})  # no purpose: nothing runs either
    assert outcome.status == "failed" and "say why and where" in outcome.error
    assert not (tmp_path / "out").exists()


def test_a_row_with_a_questions_file_gets_the_interview_section(clips, tmp_path, practice_consent):
    root, _ = clips
    manifest = tmp_path / "manifest.csv"  # the questions' path is relative to the CSV, like the consent's
    shutil.copy(practice_consent, tmp_path / "consent.json")
    (tmp_path / "q.json").write_text('[{"start": 0, "end": 1, "text": "Hello"}, {"start": 1, "end": 2, "text": "Why"}]')
    video = root / "in" / "interview0.mp4"
    manifest.write_text(
        "path,purpose,jurisdiction,consent,questions\n"
        f"{video},practice,OTHER,consent.json,q.json\n"
        f"{root / 'in' / 'interview1.mp4'},practice,OTHER,consent.json,\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "1"]) == 0
    rows = read_summary(out)
    folder = out / rows["interview0.mp4"]["output"].rsplit("/", 1)[-1]
    report = json.loads((folder / "report.json").read_text())
    assert report["span_kind"] == "questions" and [s["text"] for s in report["spans"]] == ["Hello", "Why"]
    assert json.loads((folder / "result.json").read_text())["interview"] == report
    plain = out / rows["interview1.mp4"]["output"].rsplit("/", 1)[-1]  # a row without questions: no section
    assert not (plain / "report.json").exists() and "interview" not in json.loads((plain / "result.json").read_text())


def test_signals_per_row_and_for_the_batch(clips, tmp_path, capsys, practice_consent, practice_args):
    root, _ = clips
    first, second = root / "in" / "interview0.mp4", root / "in" / "interview1.mp4"
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"path,purpose,jurisdiction,consent,signals\n{first},practice,OTHER,{practice_consent},behaviour\n"
        f"{second},practice,OTHER,{practice_consent},\n"
    )
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "1"]) == 0
    rows = read_summary(out)
    read = {
        name: json.loads((out / rows[name]["output"].rsplit("/", 1)[-1] / "result.json").read_text())
        for name in ("interview0.mp4", "interview1.mp4")
    }
    assert read["interview0.mp4"]["options"]["signals"] == ["behaviour"]  # the row's own choice
    assert read["interview1.mp4"]["options"]["signals"] == ["emotions", "behaviour"]  # the batch's default
    assert rows["interview0.mp4"]["dominant"] == "" and rows["interview1.mp4"]["dominant"] != ""

    folder_out = tmp_path / "folder"  # --signals for every file of a folder
    assert main(["batch", str(root / "in"), "-o", str(folder_out), "--signals", "behaviour", *practice_args]) == 1
    done = [r for r in read_summary(folder_out).values() if r["status"] == "done"]
    assert len(done) == 2 and all(r["dominant"] == "" and r["abstained"] == "" for r in done)

    manifest.write_text(f"path,purpose,jurisdiction,consent,signals\n{first},practice,OTHER,{practice_consent},moods\n")
    capsys.readouterr()
    assert main(["batch", str(manifest), "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {manifest}, line 2: --signals must name") and err.count("\n") == 1


def test_a_result_made_with_other_options_or_interview_files_is_redone(clips, tmp_path, capsys, practice_consent):
    """Resuming compares everything that shapes a result, not only the content and the model: another --fps, a
    questions file added to a row, or the questions file's content changed, redo the row; the same again skips it."""
    root, _ = clips
    video = root / "in" / "interview0.mp4"
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"path,purpose,jurisdiction,consent\n{video},practice,OTHER,{practice_consent}\n")
    out = tmp_path / "out"

    def run(*flags):
        assert main(["batch", str(manifest), "-o", str(out), "--workers", "1", *flags]) == 0
        printed = capsys.readouterr().out
        row = read_summary(out)["interview0.mp4"]
        return row["status"], out / row["output"].rsplit("/", 1)[-1], printed

    status, folder, _ = run("--fps", "1")
    assert status == "done" and json.loads((folder / "result.json").read_text())["options"]["fps"] == 1.0
    assert run("--fps", "1")[0] == "skipped"
    status, folder, printed = run("--fps", "5")
    assert status == "done" and printed.startswith("1 analysed, 0 already done")
    assert json.loads((folder / "result.json").read_text())["options"]["fps"] == 5.0
    questions = tmp_path / "q.json"
    questions.write_text('[{"start": 0, "end": 2, "text": "Hello"}]')
    manifest.write_text(
        f"path,purpose,jurisdiction,consent,questions\n{video},practice,OTHER,{practice_consent},{questions}\n"
    )
    status, folder, _ = run()
    assert status == "done" and json.loads((folder / "report.json").read_text())["spans"][0]["text"] == "Hello"
    assert run()[0] == "skipped"
    questions.write_text('[{"start": 0, "end": 2, "text": "Why"}]')  # the same file, other questions
    status, folder, _ = run()
    assert status == "done" and json.loads((folder / "report.json").read_text())["spans"][0]["text"] == "Why"


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_analysis(clips, tmp_path, capsys, practice_args):
    import os

    _, folder = clips
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for out, why in ((afile, "is a file"), (afile / "x", "Not a directory")):
        assert main(["batch", str(folder), "-o", str(out), *practice_args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and f"output folder {out}" in err and why in err and err.count("\n") == 1
    assert afile.read_text() == "keep me"
    if os.geteuid() == 0:
        return  # root writes into read-only folders
    readonly = tmp_path / "ro"
    readonly.mkdir(mode=0o555)
    for out in (readonly, readonly / "out"):
        assert main(["batch", str(folder), "-o", str(out), *practice_args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: cannot write to the output folder") and "Permission denied" in err
    assert list(readonly.iterdir()) == []


def test_manifest_encodings(clips, tmp_path, capsys, practice_args):
    """A spreadsheet's "CSV UTF-8" (with a byte-order mark) is read; Latin-1, or a video given as the manifest,
    is one sentence."""
    root, _ = clips
    video = root / "in" / "interview0.mp4"
    manifest = tmp_path / "excel.csv"
    manifest.write_bytes(f"path,candidate\n{video},Müller\n".encode("utf-8-sig"))
    out = tmp_path / "out"
    assert main(["batch", str(manifest), "-o", str(out), "--workers", "1", *practice_args]) == 0
    assert read_summary(out)["interview0.mp4"]["status"] == "done"
    manifest.write_bytes(f"path,candidate\n{video},Müller\n".encode("latin-1"))
    renamed = tmp_path / "video.csv"
    shutil.copy(video, renamed)
    for bad, why in ((manifest, "is not a CSV in UTF-8"), (renamed, "is not a CSV in UTF-8"), (video, "is a video")):
        assert main(["batch", str(bad), "-o", str(tmp_path / "other"), *practice_args]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {bad} {why}") and err.count("\n") == 1
    assert not (tmp_path / "other").exists()
