"""End to end: real video decoding, real detector and mesh, the packaged ONNX model, real files."""

import csv
import json
import re
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.cli import main
from facecue.io.sample import make_sample_video, sample_face_boxes
from facecue.labels import EMOTIONS
from facecue.pipeline import Analyzer, analyze
from facecue.result import CSV_COLUMNS, SCHEMA, Result, csv_columns

REQUIRED_KEYS = {
    "schema",
    "labels",
    "source",
    "models",
    "options",
    "frames",
    "faces",
    "tracks",
    "candidate_id",
    "timeline",
    "segments",
    "summary",
    "gaps",
    "notes",
}
SOURCE_KEYS = {
    "path",
    "kind",
    "duration_s",
    "fps",
    "width",
    "height",
    "rotation",
    "frame_count",
    "codec",
    "has_audio",
    "sha256",
}
SUMMARY_KEYS = {
    "analysed_at",
    "frames_analysed",
    "faces_found",
    "face_presence",
    "abstained",
    "abstain_reasons",
    "mean_probs",
    "dominant",
    "other_people",
    "no_face",
    "processing_s",
    "realtime_factor",
    "decode_errors",
    "policy",
    "baseline",
    "relative_to_baseline",
}
SECONDS = 10.0


@pytest.fixture(scope="module")
def sample(tmp_path_factory, model_files):
    return make_sample_video(tmp_path_factory.mktemp("sample") / "sample.mp4", seconds=SECONDS, fps=25, size=(960, 540))


@pytest.fixture(scope="module")
def analysed(sample, tmp_path_factory, practice_args):
    out = tmp_path_factory.mktemp("out")
    assert main(["analyze", str(sample), "-o", str(out), "--quiet", *practice_args]) == 0
    return out, json.loads((out / "result.json").read_text())


def test_result_json_follows_the_documented_schema(analysed):
    _, doc = analysed
    assert doc.keys() >= REQUIRED_KEYS and doc["schema"] == SCHEMA
    assert doc["source"].keys() >= SOURCE_KEYS and doc["summary"].keys() >= SUMMARY_KEYS
    assert doc["labels"] == list(EMOTIONS)
    policy = doc["summary"]["policy"]
    assert (policy["purpose"], policy["region"], policy["allowed"]) == ("practice", "OTHER", True)
    assert policy["share_with_reviewers"] is False and policy["requires_consent"] is True
    assert {"emotion", "detector", "landmarks"} <= doc["models"].keys()
    result = Result.from_dict(doc)  # validates shapes on the way back in
    assert Result.from_dict(json.loads(result.to_json())).to_dict() == result.to_dict()
    assert result.to_json() == json.dumps(doc, allow_nan=False)  # the document itself back, key order included


def test_sampling_timestamps_and_source(analysed):
    _, doc = analysed
    times = np.array(doc["frames"]["time_s"])
    assert len(times) == 50  # 10 s at 5 fps
    # Non-reference frames are not decoded at 5 of 25 fps: each sample is within one frame of its tick.
    ticks = np.arange(50) * 0.2
    assert np.abs(times - ticks).max() <= 0.041 and len(set(np.round(times, 3))) == 50
    assert doc["source"]["width"] == 960 and doc["source"]["has_audio"] is True
    assert abs(doc["source"]["duration_s"] - SECONDS) < 0.2


def test_candidate_found_and_tracked_like_the_ground_truth(analysed):
    _, doc = analysed
    times = doc["frames"]["time_s"]
    faces = doc["faces"]
    cand = doc["candidate_id"]
    hits = 0
    expected = 0
    for pos, t in enumerate(times):
        truth = sample_face_boxes(t, SECONDS, (960, 540)).get("main")
        if truth is None or truth[0] < 0 or truth[0] + truth[2] > 960:
            continue  # leaving the frame
        expected += 1
        mine = [i for i, p in enumerate(faces["frame_pos"]) if p == pos and faces["face_id"][i] == cand]
        if mine:
            x, y, w, h = faces["box"][mine[0]]
            cx, cy = x + w / 2, y + h / 2
            tx, ty = truth[0] + truth[2] / 2, truth[1] + truth[3] / 2
            hits += abs(cx - tx) < truth[2] * 0.35 and abs(cy - ty) < truth[3] * 0.35
    assert expected >= 40 and hits / expected >= 0.98
    cand_tracks = [t for t in doc["tracks"] if t["role"] == "candidate"]
    assert len(cand_tracks) == 1 and cand_tracks[0]["face_id"] == cand


def test_second_person_reported_separately(analysed):
    _, doc = analysed
    others = [t for t in doc["tracks"] if t["role"] == "other"]
    assert others, "the second person in the middle third was not reported"
    main_other = max(others, key=lambda t: t["n_frames"])
    start, end = main_other["ranges"][0][0], main_other["ranges"][-1][1]
    assert start >= SECONDS / 3 - 0.5 and end <= 2 * SECONDS / 3 + 0.5
    assert len(others) == 1, f"the second person was split into {len(others)} tracks"
    # Only the candidate is read: the other person's rows keep their box but no emotion or facial action.
    faces = Result.from_dict(doc).faces
    theirs = faces.face_id == main_other["face_id"]
    assert theirs.any() and np.isnan(faces.probs[theirs]).all() and not np.isnan(faces.probs[~theirs]).all()
    assert faces.behaviour is not None and np.isnan(faces.behaviour[theirs]).all()
    usable = np.array(doc["timeline"]["usable"])
    smoothed = np.array([[np.nan if v is None else v for v in row] for row in doc["timeline"]["smoothed"]])
    assert not np.isnan(smoothed[usable]).any() and np.isnan(smoothed[~usable]).all()
    np.testing.assert_allclose(smoothed[usable].sum(axis=1), 1, atol=1e-3)


def test_frames_csv_and_report(analysed):
    out, doc = analysed
    with open(out / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0].keys()) == csv_columns() and list(rows[0].keys())[: len(CSV_COLUMNS)] == CSV_COLUMNS
    assert len({r["time_s"] for r in rows}) == len(doc["frames"]["time_s"])
    assert len([r for r in rows if r["face_id"]]) == len(doc["faces"]["face_id"])
    empty = [r for r in rows if not r["face_id"]]
    assert all(r["label"] == "" and r["happy"] == "" for r in empty)
    html = (out / "report.html").read_text()
    assert "<svg" in html and "https://" not in html


def test_start_end_and_every_frame(sample, practice):
    result = Analyzer(fps=None, start=2.0, end=3.0).analyze(sample, **practice)
    assert 24 <= len(result.times) <= 26 and result.times[0] >= 1.95 and result.times[-1] <= 3.05


def test_no_face_video_gives_a_valid_result(tmp_path, model_files, practice):
    path = tmp_path / "blank.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for i in range(20):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 40 + i, np.uint8), format="bgr24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    result = Analyzer().analyze(path, **practice)
    assert result.summary.no_face is True and result.candidate_id is None
    assert len(result.times) == 10 and "No face was found" in result.notes[0]
    Result.from_dict(json.loads(result.to_json()))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p, "does not exist"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty"),
        (lambda p: (p.write_text("hello, not a video " * 50), p)[1], ""),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, model_files, practice_args, make, message):
    target = make(tmp_path / "input.mp4")
    proc = subprocess.run(
        [sys.executable, "-m", "facecue.cli", "analyze", str(target), "-o", str(tmp_path / "o"), *practice_args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert message in proc.stderr.lower()


def test_unwritable_output_is_one_line_and_exit_2(tmp_path, sample, capsys, practice_args):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["analyze", str(sample), "-o", str(blocker / "out"), "--quiet", *practice_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write to the output folder") and err.count("\n") == 1


def test_failed_analysis_keeps_earlier_results(tmp_path, model_files, practice_args):
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_text("earlier")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    assert main(["analyze", str(broken), "-o", str(out), "--quiet", *practice_args]) == 2
    assert (out / "result.json").read_text() == "earlier"
    assert sorted(p.name for p in out.iterdir()) == ["result.json"]


def test_dlib_fallback_detector_runs_the_same_pipeline(sample, practice):
    pytest.importorskip("dlib")
    result = Analyzer(detector="dlib", fps=2.0).analyze(sample, **practice)
    assert result.models.detector is not None and result.models.detector.name.startswith("dlib")
    assert result.summary.face_presence >= 0.7 and result.summary.dominant is not None


def test_default_analysis_adds_behaviour_columns_and_summary(analysed):
    out, doc = analysed
    assert doc["options"]["signals"] == ["emotions", "behaviour"] and "behaviour" in doc["models"]
    behaviour = doc["faces"]["behaviour"]
    m = len(doc["faces"]["face_id"])
    assert set(behaviour) == set(BEHAVIOUR_COLUMNS) and all(len(v) == m for v in behaviour.values())
    smiles = [v for v in behaviour["smile"] if v is not None]
    assert smiles and min(smiles) >= 0 and max(smiles) <= 1
    contact = [v for v in behaviour["eye_contact"] if v is not None]
    assert contact and min(contact) >= 0 and max(contact) <= 1
    leans = [v for v in behaviour["lean"] if v is not None]  # the body is read about once a second
    assert leans and len(leans) < m / 2
    summary = doc["summary"]["behaviour"]
    assert summary["smile_share"]["value"] > 0.5  # the astronaut smiles throughout
    assert summary["eye_contact_share"]["value"] > 0.5 and summary["eye_contact_share"]["seconds"] > 2  # looks at us
    assert summary["readable_s"] > 0 and summary["out_of_frame"]["out_s"] >= 0.6  # she leaves for about a second
    assert summary["parts_by"] == "windows" and len(summary["parts"]) == 1
    assert 'id="behaviour"' in (out / "report.html").read_text()


# Keys that only an emotion reading (or something derived from one) would produce.
EMOTION_KEYS = {
    "labels",
    "probs",
    "mean_probs",
    "dominant",
    "abstained",
    "baseline",
    "relative_to_baseline",
    "segments",
    "valence",
    "arousal",
    "expressivity",
    "cues",
    "stress",
    "engagement",
    "composure",
    "sentiment",
    "mismatch",
    "mixed",
    "arc",
}
EMOTION_WORDS = re.compile(r"\b(" + "|".join(EMOTIONS) + r"|valence|arousal)\b", re.IGNORECASE)
TRAIT_WORDS = re.compile(r"\b(confiden\w*|nervous\w*|anxi\w*|calm\w*|tense|stress\w*|engaged|warm|lack\w*)\b", re.I)


def all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_behaviour_only_infers_no_emotion_anywhere(sample, tmp_path, practice_args, practice):
    """Issue 15: a behaviour-only run of the packaged sample, with questions and a transcript, names no emotion,
    probability, valence or emotion-derived cue in any output: result.json, report.json, frames.csv, the report,
    the feedback, nor in the library's Result."""
    questions = tmp_path / "q.json"
    questions.write_text(
        json.dumps(
            [{"start": 0, "end": 5, "text": "Tell me about yourself"}, {"start": 5, "end": 10, "text": "Why us?"}]
        )
    )
    transcript = tmp_path / "t.vtt"
    transcript.write_text(
        "WEBVTT\n\n00:00.500 --> 00:04.000\nI love this work and I am happy to be here.\n\n"
        "00:05.500 --> 00:09.000\nI hated my last job, it was awful.\n"
    )
    out = tmp_path / "behaviour"
    args = ["--questions", str(questions), "--transcript", str(transcript)]
    assert (
        main(["analyze", str(sample), "-o", str(out), "--quiet", "--signals", "behaviour", *args, *practice_args]) == 0
    )
    doc = json.loads((out / "result.json").read_text())
    assert doc["options"]["signals"] == ["behaviour"] and "emotion" not in doc["models"]
    assert set(doc["timeline"]) == {"present"}
    assert not EMOTION_KEYS & all_keys(doc), EMOTION_KEYS & all_keys(doc)
    assert doc["summary"]["behaviour"]["smile_share"]["value"] > 0.5
    with open(out / "frames.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == csv_columns(("behaviour",)) and not set(EMOTIONS) & set(header) and "label" not in header
    outputs = {name: (out / name).read_text() for name in ("result.json", "report.json", "frames.csv", "report.html")}
    for name, text in outputs.items():
        assert not EMOTION_WORDS.search(text), (name, EMOTION_WORDS.search(text))
    assert json.loads(outputs["report.json"]) == doc["interview"]

    # The interview section: behaviour cues per question and overall, highlights, feedback that describes.
    interview = doc["interview"]
    assert interview["signals"] == ["behaviour"] and [s["text"] for s in interview["spans"]] == [
        "Tell me about yourself",
        "Why us?",
    ]
    for part in [*interview["spans"], interview["overall"]]:
        assert part["behaviour"]["readable_s"] > 0 and part["behaviour_cues"]["smiles"]["value"] > 0.5
        assert part["behaviour_cues"]["smiles"]["text"].startswith("Smiled in")
        assert 0 <= part["behaviour_cues"]["eye_contact"]["value"] <= 1  # read now: the astronaut faces the lens
        assert "You smiled in about" in part["feedback"] and not TRAIT_WORDS.search(part["feedback"]), part["feedback"]
    assert any(h["kind"] == "smile" and h["reason"].startswith("Smiled for") for h in interview["highlights"])

    html = outputs["report.html"]
    assert "behaviour only" in html.lower() and 'id="mode-line"' in html
    for panel in ("eye-contact", "head-movement", "smiles", "posture"):
        assert html.count(f'data-panel="{panel}"') == 2, panel  # one per question
    assert "You smiled in about" in html

    result = analyze(sample, signals=("behaviour",), **practice)  # the library, the same way
    assert result.signals == ("behaviour",) and np.isnan(result.faces.probs).all()
    assert not EMOTION_KEYS & all_keys(result.to_dict()) and not EMOTION_WORDS.search(result.to_json())
    assert Result.from_dict(json.loads(result.to_json())).to_dict() == result.to_dict()
    assert Result.from_dict(doc).to_json() == json.dumps(doc, allow_nan=False)  # the CLI's document reads back whole


def test_image_folder_names_each_image_in_frames_csv(tmp_path, model_files, practice_args):
    from facecue.io.sample import _astronaut

    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "b-face.png"), _astronaut())
    cv2.imwrite(str(folder / "a-blank.jpg"), np.full((120, 160, 3), 200, np.uint8))
    (folder / "c-broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    assert main(["analyze", str(folder), "-o", str(out), "--quiet", *practice_args]) == 0
    with open(out / "frames.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["source"] for r in rows] == ["a-blank.jpg", "b-face.png"]  # the broken file is skipped, not named
    assert rows[0]["face_id"] == "" and rows[1]["face_id"] != "" and rows[1]["label"] != ""
    header = (out / "frames.csv").read_text().splitlines()[0].split(",")
    assert header[-1] == "source" and "source" not in csv_columns()  # videos have no source column


def test_behaviour_only_never_loads_the_emotion_model(tmp_path, sample, practice):
    analyzer = Analyzer(signals=("behaviour",), model=str(tmp_path / "no-such-model.onnx"))
    assert analyzer.model is None
    result = analyzer.analyze(sample, **practice)
    assert np.isnan(result.faces.probs).all() and result.faces.behaviour is not None


def test_bad_signals_are_one_line_and_exit_2(tmp_path, sample, capsys, practice_args):
    assert main(["analyze", str(sample), "-o", str(tmp_path / "o"), "--signals", "moods", *practice_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --signals must name") and err.count("\n") == 1


def test_classifying_on_a_worker_thread_reads_every_face_as_the_model_does(sample, practice):
    """Batches go to a worker thread while frames are read: each usable face still gets exactly the model's own
    reading of its crop (the live path classifies frame by frame, on the calling thread), and an analysis that
    stops half-way leaves no worker thread behind."""
    import threading

    analyzer = Analyzer(fps=2, end=4.0, batch_size=3)  # several batches in flight
    result = analyzer.analyze(sample, **practice)
    live = [
        probs
        for _, _, _, probs in analyzer.stream(analyzer.frames(sample), **practice)  # same frames, same crops
    ]
    live_probs = np.concatenate([p for p in live if len(p)])
    assert len(live_probs) == len(result.faces.probs) and np.isfinite(result.faces.probs).any()
    np.testing.assert_allclose(result.faces.probs, live_probs, atol=1e-6, equal_nan=True)

    def stop(done, expected):
        if done == 5:
            raise RuntimeError("stopped by the caller")

    with pytest.raises(RuntimeError, match="stopped"):
        analyzer.analyze(sample, on_progress=stop, **practice)
    assert not [t for t in threading.enumerate() if t.name.startswith("facecue-classify")]


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--end", "inf", "--end must be between 0 and"),
        ("--end", "nan", "--end must be between 0 and"),
        ("--start", "nan", "--start must be between 0 and"),
        ("--start", "1e308", "--start must be between 0 and"),
        ("--fps", "inf", "--fps must be a positive number up to"),
        ("--window", "inf", "--window must be between 2 and"),
        ("--window", "1e-9", "--window must be between 2 and"),
    ],
)
def test_numbers_that_are_not_seconds_are_refused_before_the_analysis(
    tmp_path, sample, capsys, practice_args, flag, value, message
):
    """inf and NaN passed the checks and failed after the whole analysis, writing JSON; 1e-9 s windows ran out of
    memory."""
    audit = tmp_path / "audit.jsonl"
    args = ["analyze", str(sample), "-o", str(tmp_path / "o"), "--quiet", flag, value, "--audit-log", str(audit)]
    assert main([*args, *practice_args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "o").exists() and not audit.exists()
