"""facecue analyze with --questions/--transcript on a real generated video (PyAV, MediaPipe, ONNX)."""

import base64
import json

import cv2
import numpy as np
import pytest

from facecue.cli import main
from facecue.io.sample import make_sample_images, make_sample_video

SECONDS = 8.0


@pytest.fixture(scope="module")
def sample(tmp_path_factory, model_files):
    return make_sample_video(tmp_path_factory.mktemp("iv") / "sample.mp4", seconds=SECONDS, fps=25, size=(640, 360))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "q.json").write_text(
        '[{"start": 0, "end": 4, "text": "Introduce yourself"},\n'
        ' {"start": "00:00:04", "end": "00:00:08", "text": "A hard project"}]'
    )
    (folder / "t.srt").write_text(
        "1\n00:00:00,200 --> 00:00:00,900\nRecruiter: Hello!\n\n"
        "2\n00:00:01,000 --> 00:00:03,800\nAda: Thanks, I am glad to be here and happy to talk.\n\n"
        "3\n00:00:04,500 --> 00:00:07,500\nAda: It was an awful, painful failure and I hated it.\n"
    )
    return folder


def decode(data_uri: str) -> np.ndarray:
    assert data_uri.startswith("data:image/jpeg;base64,")
    return cv2.imdecode(np.frombuffer(base64.b64decode(data_uri.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture(scope="module")
def analysed(sample, inputs, tmp_path_factory, practice_args):
    out = tmp_path_factory.mktemp("out")
    assert (
        main(
            [
                "analyze",
                str(sample),
                "-o",
                str(out),
                "--quiet",
                "--questions",
                str(inputs / "q.json"),
                "--transcript",
                str(inputs / "t.srt"),
                *practice_args,
            ]
        )
        == 0
    )
    return out


def test_report_json_is_the_interview_section_of_result_json(analysed):
    report = json.loads((analysed / "report.json").read_text())
    result = json.loads((analysed / "result.json").read_text())
    assert result["schema"] == "facecue.result/1" and result["interview"] == report
    assert report["span_kind"] == "questions"
    assert [s["text"] for s in report["spans"]] == ["Introduce yourself", "A hard project"]
    assert report["candidate_speaker"] == "Ada" and report["speakers"] == ["Ada", "Recruiter"]
    for span in report["spans"]:
        assert span["frames"] == 20 and span["presence"] > 0.5
        assert span["dominant"] and abs(sum(span["mean_probs"].values()) - 1) < 0.01
        assert -1 <= span["valence"] <= 1 and 0 <= span["expressivity"] <= 1
        assert span["feedback"]


def test_mismatch_uses_only_the_candidates_speech(analysed):
    report = json.loads((analysed / "report.json").read_text())
    items = report["mismatch"]["items"]
    assert [i["speaker"] for i in items] == ["Ada", "Ada"]
    assert items[1]["compound"] < -0.5
    # The sample has 8 s of face: too little for a baseline, so no utterance is compared with the face (a steady
    # reading may be a resting face); tests/interview/test_mismatch.py flags a change against a baseline.
    assert report["baseline"] is None and report["spans"][1]["valence"] > 0.2
    assert [i["status"] for i in items] == ["skipped", "skipped"]
    assert all("usual expression" in i["reason"] for i in items)


def test_voice_cues_sit_beside_each_question_when_the_module_exists(analysed):
    report = json.loads((analysed / "report.json").read_text())
    pytest.importorskip("facecue.interview.voice")
    assert report["voice_available"] is True
    assert [(v["start_s"], v["end_s"]) for v in (s["voice"] for s in report["spans"])] == [(0.0, 4.0), (4.0, 8.0)]


def test_highlight_thumbnails_are_face_crops_and_blur_hides_detail(sample, inputs, analysed, tmp_path, practice_args):
    report = json.loads((analysed / "report.json").read_text())
    assert report["highlights"], "the smiling sample has at least one clear peak"
    sharp = decode(report["highlights"][0]["thumbnail"])
    assert sharp.shape[0] == 160 and sharp.shape[1] < 640  # a crop around the face, not the whole frame
    out = tmp_path / "blurred"
    assert (
        main(
            [
                "analyze",
                str(sample),
                "-o",
                str(out),
                "--quiet",
                "--blur-thumbnails",
                "--questions",
                str(inputs / "q.json"),
                *practice_args,
            ]
        )
        == 0
    )
    blurred_report = json.loads((out / "report.json").read_text())
    assert blurred_report["thumbnails_blurred"] is True
    by_time = {h["time_s"]: h["thumbnail"] for h in blurred_report["highlights"]}
    blurred = decode(by_time[report["highlights"][0]["time_s"]])

    def detail(img):
        return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())

    assert detail(blurred) < 0.1 * detail(sharp)


def test_bad_question_file_fails_before_the_analysis_in_one_line(sample, tmp_path, capsys, practice_args):
    bad = tmp_path / "q.csv"
    bad.write_text("start,end,question\n0,5,ok\n5,later,broken\n")
    assert (
        main(["analyze", str(sample), "-o", str(tmp_path / "o"), "--quiet", "--questions", str(bad), *practice_args])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "q.csv, line 3" in err and "Traceback" not in err
    assert not (tmp_path / "o" / "result.json").exists()


def test_questions_with_still_images_are_refused(tmp_path, inputs, capsys, model_files, practice_args):
    folder = tmp_path / "stills"
    make_sample_images(folder)
    assert (
        main(
            [
                "analyze",
                str(folder),
                "-o",
                str(tmp_path / "o"),
                "--quiet",
                "--questions",
                str(inputs / "q.json"),
                *practice_args,
            ]
        )
        == 2
    )
    assert "need a video input" in capsys.readouterr().err


def test_without_questions_or_transcript_the_video_is_cut_into_windows(sample, tmp_path, practice_args):
    assert (
        main(["analyze", str(sample), "-o", str(tmp_path), "--quiet", "--window", "4", "--no-voice", *practice_args])
        == 0
    )
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["span_kind"] == "windows" and report["window_s"] == 4.0
    assert [s["start_s"] for s in report["spans"]] == [0.0, 4.0]
    assert report["spans"][1]["end_s"] == pytest.approx(SECONDS, abs=0.1)  # the video's own duration
    assert report["mismatch"] is None and report["overall"]["dominant"]
    assert report["voice_available"] is False and report["spans"][0]["voice"] is None


def test_the_behaviour_table_uses_the_interview_windows(sample, tmp_path, practice_args):
    # 8 s in windows of 3.5 s: the last second is too short to be a part of its own and joins the second window,
    # in the interview section and in the behaviour table alike (they once disagreed: 2 parts above, 3 below).
    args = ["analyze", str(sample), "-o", str(tmp_path), "--quiet", "--window", "3.5", "--no-voice", *practice_args]
    assert main(args) == 0
    result = json.loads((tmp_path / "result.json").read_text())
    spans = [edge for s in result["interview"]["spans"] for edge in (s["start_s"], s["end_s"])]
    parts = [edge for p in result["summary"]["behaviour"]["parts"] for edge in (p["start_s"], p["end_s"])]
    assert len(spans) == 4 and parts == pytest.approx(spans)
    assert result["summary"]["behaviour"]["parts"][1]["label"] == "window 2 (4-8 s)"


def with_voice(video, out_path, voiced_s: float, seconds: float):
    """The video with an AAC track: a 180 Hz voice-like tone (a slow tremor keeps it from being perfectly flat) for
    the first voiced_s seconds, then silence, so the speaking and listening stretches are known in advance."""
    import av

    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    audio = (0.4 * np.sin(2 * np.pi * (180 * t + 3 * np.sin(2 * np.pi * 4 * t)))).astype(np.float32)
    audio[int(voiced_s * rate) :] = 0
    with av.open(str(video)) as src, av.open(str(out_path), "w") as out:
        video_in = src.streams.video[0]
        video_out = out.add_stream_from_template(video_in)
        sound = out.add_stream("aac", rate=rate, layout="mono")
        for packet in src.demux(video_in):
            if packet.dts is not None:
                packet.stream = video_out
                out.mux(packet)
        for start in range(0, audio.size, 1024):
            block = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="fltp", layout="mono")
            block.sample_rate, block.pts = rate, start
            out.mux(sound.encode(block))
        out.mux(sound.encode())
    return out_path


def test_eye_contact_is_split_by_the_recordings_voice(sample, tmp_path, practice_args):
    voiced = with_voice(sample, tmp_path / "voiced.mp4", voiced_s=4.0, seconds=SECONDS)
    out = tmp_path / "out"
    assert main(["analyze", str(voiced), "-o", str(out), "--quiet", "--signals", "behaviour", *practice_args]) == 0
    share = json.loads((out / "result.json").read_text())["summary"]["behaviour"]["eye_contact_share"]
    speaking, listening = share["while_speaking"], share["while_listening"]
    assert speaking["value"] is not None and listening["value"] is not None, share
    # The voice covers the first half: each side holds about half of the readable gaze time.
    assert speaking["seconds"] == pytest.approx(listening["seconds"], rel=0.5)
    assert speaking["seconds"] + listening["seconds"] == pytest.approx(share["seconds"], abs=0.5)


def test_no_picture_where_the_candidate_was_not_in_view(sample):
    """A highlight at a moment without the candidate showed the whole frame, with whoever else was in view."""
    import dataclasses

    from facecue.interview.thumbnails import candidate_box, thumbnails
    from facecue.result import FaceRows
    from tests.interview.synthetic import synthetic_result, timeline

    result = synthetic_result(timeline(("neutral", SECONDS)))
    n = 10  # the candidate in view for the first 2 s only
    rows = FaceRows(
        np.arange(n),
        np.ones(n, np.int64),
        np.tile([200.0, 60, 160, 160], (n, 1)).astype(np.float32),
        np.full(n, 0.9, np.float32),
        np.full(n, 0.8, np.float32),
        ("",) * n,
        np.zeros((n, 3), np.float32),
        result.timeline.raw[:n],
    )
    result = dataclasses.replace(result, faces=rows, candidate_id=1)
    assert candidate_box(result, 1.0) is not None and candidate_box(result, 6.0) is None
    pictures = thumbnails(result, sample, [1.0, 6.0])
    assert list(pictures) == [1.0] and decode(pictures[1.0]).shape[0] == 160
