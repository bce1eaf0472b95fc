"""The interview page's view of a result: charts and segments from any result, questions and highlights when the
interview analysis produced them, and nothing broken when it did not. Uses real `facecue analyze` output."""

from __future__ import annotations

import json

import pytest

from facecue.cli import main as facecue_main
from facecue.report.charts import pct
from facecue.report.interview import CUE_CAVEATS, CUE_NAMES
from facecue.service.review_view import build_review


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, model_files, practice_args):
    """The sample clip analysed by the real CLI with a question timeline."""
    from facecue.io.sample import make_sample_video

    root = tmp_path_factory.mktemp("analysed")
    video = make_sample_video(root / "clip.mp4", seconds=4.0, fps=15, size=(640, 360))
    questions = root / "questions.json"
    questions.write_text(
        json.dumps(
            [
                {"start": 0, "end": 2, "text": "Tell me about <b>yourself</b>."},
                {"start": 2, "end": 4, "text": "What went wrong last time?"},
            ]
        )
    )
    assert (
        facecue_main(
            [
                "analyze",
                str(video),
                "-o",
                str(root / "questions"),
                "--questions",
                str(questions),
                "--no-voice",
                *practice_args,
            ]
        )
        == 0
    )
    return json.loads((root / "questions" / "result.json").read_text())


def test_timeline_and_segments(analysed):
    doc = analysed
    view = build_review(doc)
    assert view.has_face and view.duration_s == pytest.approx(4.0, abs=0.05)
    assert [(s.label, s.start_s, s.end_s) for s in view.segments] == [
        (s["label"], s["start_s"], s["end_s"]) for s in doc["segments"]
    ]
    data = json.loads(str(view.data_json))
    assert len(data["t"]) == len(doc["frames"]["time_s"]) and data["labels"][3] == "happy"
    assert 'id="timeline"' in view.timeline_svg and "</script" not in str(view.data_json)
    assert dict(view.facts)["Dominant expression"].startswith(doc["summary"]["dominant"])
    assert dict(view.facts)["Expression model"] == "facecue-emotion 2.3.0"  # the default since 2026-12-05
    # 4 s of video is too little to know the person's baseline; with one, the cards read against it.
    assert dict(view.facts)["This person's baseline"].startswith("none")
    based = json.loads(json.dumps(doc))
    based["summary"]["baseline"] = {"probs": {"neutral": 0.7, "sad": 0.2, "happy": 0.1}, "readable_s": 60}
    based["interview"]["spans"][0]["relative_to_baseline"] = {"happy": 0.21, "neutral": -0.18, "sad": -0.01}
    view = build_review(based)
    # the same three labels as the report's baseline
    assert dict(view.facts)["This person's baseline"].startswith("neutral 70%, sad 20%, happy 10% (")
    assert view.questions[0].against_baseline == "happy +21 pts, neutral -18 pts"
    # Without a question timeline the analysis runs over fixed windows: shown as parts W1, W2, as the report does.
    windows = json.loads(json.dumps(doc))
    windows["interview"]["span_kind"] = "windows"
    for span in windows["interview"]["spans"]:
        del span["text"]
    view = build_review(windows)
    assert [(q.label, q.text) for q in view.questions] == [("W1", "Fixed window"), ("W2", "Fixed window")]
    assert len(view.highlights) == len(doc["interview"]["highlights"])
    # A result from before the interview analysis (no "interview" key) renders without those parts.
    older = {k: v for k, v in doc.items() if k != "interview"}
    view = build_review(older)
    assert view.questions == [] and view.highlights == [] and view.segments


def test_questions_and_highlights_when_present(analysed):
    doc = analysed
    view = build_review(doc)
    spans = doc["interview"]["spans"]
    assert [q.text for q in view.questions] == ["Tell me about <b>yourself</b>.", "What went wrong last time?"]
    assert [q.start_s for q in view.questions] == [s["start_s"] for s in spans]
    first = view.questions[0]
    assert first.presence == pct(spans[0]["presence"])
    # The report's names and caveats: "stress" would describe the person, per-answer "engagement" read as a score.
    assert [(name, caveat) for name, _, _, caveat in first.cues] == [
        (CUE_NAMES[n], CUE_CAVEATS[n])
        for n in ("stress", "engagement", "composure")
        if spans[0]["cues"].get(n, {}).get("level") is not None
    ]
    assert first.cues, "the analysis derived no cue to test"
    assert [h.time_s for h in view.highlights] == [h["time_s"] for h in doc["interview"]["highlights"]]
    assert all(h.thumbnail is None or h.thumbnail.startswith("data:image/jpeg;base64,") for h in view.highlights)


def test_malformed_interview_section_is_left_out(analysed):
    doc = json.loads(json.dumps(analysed))
    doc["interview"]["spans"] = [{"text": "no times"}, "junk", {"start_s": 1.0, "cues": "nope", "dominant": [3]}]
    doc["interview"]["highlights"] = [{"time_s": "soon"}, {"time_s": 1.5, "thumbnail": "javascript:alert(1)"}]
    view = build_review(doc)
    assert [q.start_s for q in view.questions] == [1.0] and view.questions[0].cues == []
    assert [(h.time_s, h.thumbnail) for h in view.highlights] == [(1.5, None)]


def test_not_a_result_raises():
    with pytest.raises((KeyError, TypeError, ValueError)):
        build_review({"schema": "something else"})
