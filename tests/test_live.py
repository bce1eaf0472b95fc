"""`facecue live` on a file played at its own pace, as a camera would deliver it."""

import subprocess
import sys

import pytest

from facecue.io.sample import make_sample_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory, model_files):
    return make_sample_video(tmp_path_factory.mktemp("live") / "clip.mp4", seconds=3.0, fps=25, size=(640, 360))


def test_live_reads_faces_in_real_time_and_writes_csv(clip, tmp_path, practice_args):
    out_csv = tmp_path / "live.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facecue.cli",
            "live",
            "--source",
            str(clip),
            "--fps",
            "5",
            "--csv",
            str(out_csv),
            *practice_args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert 5 <= len(lines) <= 16  # about 5 per second of a 3 s clip, never every frame
    # The sample's main face is in view except for about a second near 80% of the clip.
    assert sum("face 0: " in line and "%" in line for line in lines) >= 0.6 * len(lines)
    assert any(line.endswith("no face") for line in lines)
    assert "dropped" in proc.stderr
    rows = out_csv.read_text().splitlines()
    assert rows[0].startswith("time_s,frame,face_id") and len(rows) > 5


def test_live_bad_source_is_one_line(tmp_path, practice_args):
    proc = subprocess.run(
        [sys.executable, "-m", "facecue.cli", "live", "--source", str(tmp_path / "none.mp4"), *practice_args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: cannot open the live source")
    assert "Traceback" not in proc.stderr


def test_live_without_purpose_or_consent_never_opens_the_stream(clip, tmp_path, practice_consent):
    out_csv = tmp_path / "live.csv"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facecue.cli",
            "live",
            "--source",
            str(clip),
            "--seconds",
            "1",
            "--csv",
            str(out_csv),
            "--jurisdiction",
            "OTHER",
            "--consent",
            str(practice_consent),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stdout == ""
    assert proc.stderr.startswith("error: say why and where this analysis runs (purpose missing): --purpose")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "facecue.cli",
            "live",
            "--source",
            str(clip),
            "--seconds",
            "1",
            "--csv",
            str(out_csv),
            "--purpose",
            "research",
            "--jurisdiction",
            "US-IL",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: analysis for research needs the subject's recorded consent")
    assert not out_csv.exists()


def test_live_behaviour_only_names_no_emotion(clip, tmp_path, practice_args):
    from facecue.labels import EMOTIONS

    out_csv = tmp_path / "live.csv"
    command = ["live", "--source", str(clip), "--fps", "5", "--csv", str(out_csv), "--signals", "behaviour"]
    proc = subprocess.run(
        [sys.executable, "-m", "facecue.cli", *command, *practice_args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert any("face 0: yaw" in line and "smile" in line for line in proc.stdout.splitlines())
    everything = (proc.stdout + out_csv.read_text()).lower()
    assert not any(label in everything for label in EMOTIONS) and "%" not in proc.stdout
    header = out_csv.read_text().splitlines()[0].split(",")
    assert header[8:11] == ["yaw", "pitch", "roll"] and "smile" in header and "label" not in header


def test_live_appends_to_its_csv_and_never_writes_over_the_video(clip, tmp_path, practice_args):
    """--csv says "append": a second session overwrote the first, and `--csv` naming the source emptied the video."""
    out_csv = tmp_path / "live.csv"
    live = [sys.executable, "-m", "facecue.cli", "live", "--source", str(clip), "--fps", "5", *practice_args]
    for _ in range(2):
        proc = subprocess.run([*live, "--seconds", "1", "--csv", str(out_csv)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    rows = out_csv.read_text().splitlines()
    assert sum(r.startswith("time_s,") for r in rows) == 1  # one header, both sessions' rows
    times = [float(r.split(",")[0]) for r in rows[1:]]
    assert times != sorted(times)  # the clock restarts where the second session's rows follow the first's

    before = clip.read_bytes()
    for csv_path, message in (
        (clip, "is the video being read"),
        (tmp_path / "other.csv", "holds other columns"),
    ):
        if csv_path.name == "other.csv":
            csv_path.write_text("a,b\n1,2\n")
        proc = subprocess.run([*live, "--csv", str(csv_path)], capture_output=True, text=True)
        assert proc.returncode == 2 and proc.stderr.startswith("error: ") and message in proc.stderr
    assert clip.read_bytes() == before and (tmp_path / "other.csv").read_text() == "a,b\n1,2\n"
    for value in ("0", "nan", "-1"):
        proc = subprocess.run([*live, "--seconds", value], capture_output=True, text=True)
        assert proc.returncode == 2 and "--seconds must be a positive number" in proc.stderr
