import dataclasses
import itertools
import re

import numpy as np
import pytest

from facecue.emotion.model import ModelValidation
from facecue.interview import InterviewInputs, InterviewOptions, analyze_interview
from facecue.interview.affect import CIRCUMPLEX, valence_arousal
from facecue.interview.behaviour import PANELS
from facecue.interview.cues import derive_cues
from facecue.interview.frames import InterviewFrames
from facecue.interview.highlights import change_points
from facecue.interview.inputs import Question
from facecue.interview.spans import span_windows
from facecue.labels import EMOTIONS
from facecue.report.interview import behaviour_panels, questions_section
from tests.interview.synthetic import probs_for, synthetic_result, timeline

VALIDATION = ModelValidation.from_dict({"ece_after_calibration": 0.04, "per_class_recall": {e: 0.8 for e in EMOTIONS}})


def test_valence_arousal_is_the_expected_circumplex_position():
    one_hot = np.eye(len(EMOTIONS))
    va = valence_arousal(one_hot)
    assert va[EMOTIONS.index("happy")].tolist() == list(CIRCUMPLEX["happy"])
    half = np.zeros((1, 7))
    half[0, EMOTIONS.index("happy")] = half[0, EMOTIONS.index("sad")] = 0.5
    assert valence_arousal(half)[0] == pytest.approx([(0.89 - 0.81) / 2, (0.17 - 0.40) / 2])


def test_neutral_to_happy_gives_a_rising_arc_and_a_change_point_at_the_switch():
    result = synthetic_result(timeline(("neutral", 10), ("happy", 10)))
    interview = analyze_interview(result, options=InterviewOptions(window_s=30))
    assert interview["span_kind"] == "windows" and len(interview["spans"]) == 1
    span = interview["spans"][0]
    arc = span["arc"]
    assert arc["start"]["label"] == "neutral" and arc["end"]["label"] == "happy" and arc["shape"] == "rising"
    assert arc["peak"]["label"] == "happy" and arc["peak"]["time_s"] >= 10.0
    assert {d["label"]: d["share"] for d in span["dominant"]} == {"neutral": 0.5, "happy": 0.5}
    changes = [h for h in interview["highlights"] if h["kind"] == "change"]
    assert len(changes) == 1 and changes[0]["time_s"] == pytest.approx(10.0, abs=0.21)
    assert "from mostly neutral to mostly happy" in changes[0]["reason"]
    assert span["cues"]["engagement"]["value"] == pytest.approx(0.5)
    # the expression model's reading, named as such: the behaviour panel's smile share is the mouth's shape
    assert span["cues"]["engagement"]["text"].startswith("The expression model read the face as happy in 50% of")
    assert span["cues"]["stress"]["value"] == 0.0


def test_steady_face_has_no_change_point_and_a_steady_arc():
    fr = InterviewFrames.from_result(synthetic_result(timeline(("neutral", 20))))
    assert change_points(fr) == []
    interview = analyze_interview(synthetic_result(timeline(("neutral", 20))))
    assert interview["spans"][0]["arc"]["shape"] == "steady"
    assert interview["spans"][0]["cues"]["composure"]["level"] == "steady"


def test_questions_split_the_timeline_and_a_sad_question_shows_discomfort():
    result = synthetic_result(timeline(("happy", 10), ("sad", 10), ("neutral", 10)))
    qs = [Question(0, 10, "intro"), Question(10, 20, "a failure"), Question(20, 30, "questions for us")]
    interview = analyze_interview(result, inputs=InterviewInputs(questions=qs))
    spans = interview["spans"]
    assert [s["text"] for s in spans] == ["intro", "a failure", "questions for us"]
    assert [s["dominant"][0]["label"] for s in spans] == ["happy", "sad", "neutral"]
    assert spans[1]["cues"]["stress"]["level"] == "marked" and spans[1]["cues"]["stress"]["value"] == 1.0
    assert all(10 <= t < 20 for t in spans[1]["cues"]["stress"]["support_s"])
    assert spans[0]["valence"] > 0.6 > -0.5 > spans[1]["valence"]
    assert "tense" in spans[1]["feedback"] and "smile" in spans[0]["feedback"]
    assert "question 1 (intro)" in interview["overall"]["feedback"]
    assert (
        "the most discomfort, relative to your usual expression, in question 2 (a failure)"
        in (interview["overall"]["feedback"])
    )


def test_mixed_emotions_need_two_close_labels_for_a_sustained_time():
    mixed = 0.42 * probs_for("happy", 1.0) + 0.38 * probs_for("surprise", 1.0) + 0.2 * probs_for("neutral", 1.0)
    probs = np.concatenate(
        [
            timeline(("neutral", 5)),
            np.tile(mixed, (10, 1)),
            timeline(("neutral", 5)),
            np.tile(mixed, (3, 1)),
            timeline(("neutral", 5)),
        ]
    )  # 2 s then 0.6 s of mixed
    interview = analyze_interview(synthetic_result(probs))
    found = interview["spans"][0]["mixed"]
    assert len(found) == 1
    assert found[0]["labels"] == ["happy", "surprise"]
    assert found[0]["start_s"] == pytest.approx(5.0) and found[0]["end_s"] == pytest.approx(7.0)


def test_presence_and_abstention_shares():
    probs = timeline(("neutral", 10))
    usable = np.ones(len(probs), bool)
    usable[:10] = False  # 2 s unreadable
    result = synthetic_result(probs, usable)
    present = result.timeline.present.copy()
    present[:5] = False  # 1 s of it without a face at all
    result = type(result)(
        **{
            **result.__dict__,
            "timeline": type(result.timeline)(result.timeline.raw, result.timeline.smoothed, present, usable),
        }
    )
    span = analyze_interview(result)["spans"][0]
    assert span["presence"] == pytest.approx(0.9)
    assert span["abstained"] == pytest.approx(5 / 45, abs=1e-3)
    assert span["usable_s"] == pytest.approx(8.0)


def test_confidence_grows_with_data_and_falls_with_disagreement_between_halves():
    short = InterviewFrames.from_result(synthetic_result(timeline(("happy", 4))))
    long = InterviewFrames.from_result(synthetic_result(timeline(("happy", 40))))
    split = InterviewFrames.from_result(synthetic_result(timeline(("happy", 20), ("neutral", 20))))
    c = {
        name: derive_cues(fr, np.ones(len(fr.times), bool), VALIDATION)["engagement"]
        for name, fr in (("short", short), ("long", long), ("split", split))
    }
    assert c["short"]["confidence"] == pytest.approx(0.2 * 0.96 * 0.8, abs=1e-3)
    assert c["long"]["confidence"] == pytest.approx(0.96 * 0.8, abs=1e-3) and c["long"]["confidence_level"] == "high"
    assert c["split"]["confidence_parts"]["agreement"] == pytest.approx(0.0)
    no_validation = derive_cues(long, np.ones(len(long.times), bool), None)["engagement"]
    assert no_validation["confidence_parts"]["reliability"] == 0.5


def test_windows_cover_the_video_and_absorb_a_short_tail():
    assert span_windows(95.0, 30.0) == [(0.0, 30.0), (30.0, 60.0), (60.0, 95.0)]
    assert span_windows(100.0, 30.0) == [(0.0, 30.0), (30.0, 60.0), (60.0, 90.0), (90.0, 100.0)]
    interview = analyze_interview(synthetic_result(timeline(("neutral", 65))), options=InterviewOptions(window_s=20))
    assert [(s["start_s"], s["end_s"]) for s in interview["spans"]] == [(0, 20), (20, 40), (40, 65)]


def test_nothing_readable_gives_nulls_and_an_honest_feedback():
    probs = timeline(("neutral", 10))
    result = synthetic_result(probs, np.zeros(len(probs), bool))
    interview = analyze_interview(result)
    span = interview["spans"][0]
    assert span["valence"] is None and span["arc"] is None and span["cues"]["stress"] is None
    assert interview["highlights"] == []
    assert "hard for the software to read" in span["feedback"]
    assert any("Only 0.0 s of the face" in n for n in interview["notes"])


def test_sustained_shift_and_peak_highlights_are_tagged_with_their_span():
    result = synthetic_result(timeline(("neutral", 30), ("sad", 8), ("neutral", 22)))
    interview = analyze_interview(result, options=InterviewOptions(window_s=20))
    kinds = {h["kind"] for h in interview["highlights"]}
    assert {"change", "peak"} <= kinds
    shift = [h for h in interview["highlights"] if h["kind"] == "shift"]
    assert not shift or shift[0]["label"] == "sad"
    assert all(h["span_index"] == int(h["time_s"] // 20) for h in interview["highlights"])
    times = [h["time_s"] for h in interview["highlights"]]
    assert times == sorted(times) and all(b - a >= 3 for a, b in itertools.pairwise(times))


def test_an_hour_long_noisy_interview_is_analysed_quickly():
    import time

    rng = np.random.default_rng(3)
    labels = rng.choice(["happy", "sad", "neutral", "surprise"], size=720)  # a new expression every 5 s
    probs = timeline(*[(str(label), 5.0) for label in labels], p=0.7)
    probs = np.clip(probs + rng.normal(0, 0.05, probs.shape), 0, None).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    result = synthetic_result(probs)
    started = time.perf_counter()
    interview = analyze_interview(result)
    elapsed = time.perf_counter() - started
    assert len(interview["spans"]) == 120 and len(interview["highlights"]) == 6
    assert elapsed < 15, f"{elapsed:.1f} s for one hour of frames"


def test_a_question_after_the_end_of_the_video_says_so_and_gives_no_face_advice():
    """QA: a question at 4.0-6.4 s on a 3.94 s video got no "outside the video" note (the check padded the end by
    one step) and its card told the candidate to face the camera in even light."""
    result = synthetic_result(timeline(("neutral", 4)))  # frames at 0.0 ... 3.8 s
    result = dataclasses.replace(result, source=dataclasses.replace(result.source, duration_s=3.94))
    qs = [Question(0, 3.9, "intro"), Question(3.95, 6.4, "after the end"), Question(2.0, 8.0, "mostly after")]
    interview = analyze_interview(result, inputs=InterviewInputs(questions=qs))
    inside, after, mostly = interview["spans"]
    for span in (after, mostly):
        assert "light" not in span["feedback"] and "hard for the software" not in span["feedback"]
    assert after["frames"] == 0 and after["outside_s"] == 2.45
    assert after["feedback"] == (
        "This part lies outside the recording (the analysed recording runs from 0.0 s to 3.9 s), so nothing in it "
        "was analysed."
    )
    assert mostly["outside_s"] == 4.06 and mostly["feedback"].startswith("Only 1.9 s of this part lies inside")
    assert inside["outside_s"] == 0.0 and "outside" not in inside["feedback"]
    notes = " ".join(interview["notes"])
    assert "1 question(s) lie outside the analysed part of the video (0.0-3.9 s)" in notes
    assert "1 question(s) run more than 1 s outside the analysed part of the video" in notes
    # A short question wholly after the end is "outside", never "-1 question(s) run more than 1 s outside".
    short = analyze_interview(
        result, inputs=InterviewInputs(questions=[Question(0, 3.9, "a"), Question(4.5, 5.2, "b")])
    )
    assert not any("run more than" in n for n in short["notes"])
    assert any(n.startswith("1 question(s) lie outside") for n in short["notes"])

    cards = questions_section(interview)
    card = re.search(r'<article class="qcard" id="q-2".*?</article>', cards, re.S).group(0)
    assert "This part lies outside the recording: nothing in it was analysed." in card
    assert "4.1 s of this part lie outside the recording" in cards
    panels = behaviour_panels(
        {
            **after,
            "behaviour": {
                "eye_contact_share": {"reason": "no frame with readable irises"},
                "posture": {"readable_s": 0},
            },
            "behaviour_cues": {},
        }
    )
    assert panels.count("not measured: this part lies outside the recording") == len(PANELS)
    assert "irises" not in panels and "shoulders" not in panels


def test_a_confidence_is_never_high_when_the_notes_call_every_cue_tentative():
    """QA: "Engagement confidence 0.64 high" beside "Only 20 s of the face could be read: treat every cue as
    tentative." (19.6 s, printed rounded)."""
    from facecue.emotion.model import ModelValidation
    from facecue.labels import EMOTIONS

    validation = ModelValidation("test", 1000, 0.9, 0.9, 0.03, dict.fromkeys(EMOTIONS, 0.9))
    short = analyze_interview(synthetic_result(timeline(("happy", 19.6))), validation=validation)
    engagement = short["overall"]["cues"]["engagement"]
    assert engagement["confidence"] >= 0.6 and engagement["confidence_level"] == "moderate"
    assert "Only 19.6 s of the face could be read: treat every cue as tentative." in short["notes"]
    full = analyze_interview(synthetic_result(timeline(("happy", 30))), validation=validation)
    assert full["overall"]["cues"]["engagement"]["confidence_level"] == "high"
    assert not any("tentative" in n for n in full["notes"])
