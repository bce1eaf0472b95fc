"""Behaviour cues, panels and feedback from summary.behaviour figures: every figure present is used, every one
absent (or null) is left out, so gaze and posture appear as soon as the summary carries them (issue 15)."""

from __future__ import annotations

import re

from facecue.interview.behaviour import behaviour_cues, feedback_sentences, overall_feedback, span_feedback
from facecue.report.interview import behaviour_panels, mode_text
from facecue.service.review_view import behaviour_panels as review_panels

TRAITS = re.compile(r"\b(confiden\w*|nervous|anxious|shy|calm|tense|engaged|lacked|warm|honest\w*)\b", re.I)


def fig(value, seconds=24.0, **extra) -> dict:
    return {"value": value, "seconds": seconds, **extra}


NO_BODY = {"readable_s": 0.0, "lean": fig(None, 0.0), "fidgeting": fig(None, 0.0), "hand_to_face": fig(None, 0.0)}
TODAY = {  # a part where gaze and posture could not be read (eyes unreadable, shoulders out of the picture)
    "readable_s": 24.0,
    "analysed_s": 25.0,
    "smile_share": fig(0.2),
    "nods": fig(4),
    "head_shakes": fig(0),
    "blinks_per_minute": fig(None, reason="blinks need --fps 10 or more"),
    "out_of_frame": fig(0.0, 25.0),
    "eye_contact_share": fig(None, 0.0, reason="eyes closed: no iris to read the gaze from"),
    "posture": NO_BODY,
}
LATER = {  # gaze and posture read
    **TODAY,
    "eye_contact_share": fig(0.38, while_speaking=fig(0.31), while_listening=fig(0.52)),
    "gaze_aversions": fig(3),
    "posture": {
        "readable_s": 24.0,
        "lean": fig(0.12),
        "fidgeting": fig(0.3, moving_s=6.0),
        "hand_to_face": fig(1, at_face_s=3.0),
    },
    "out_of_frame": fig(0.12, 25.0),
}


def test_cues_use_what_is_there_and_leave_out_what_is_not():
    today = behaviour_cues(TODAY, "questions")
    assert list(today) == ["smiles", "nods", "head_shakes"]  # no guessed eye contact, posture or blink rate
    assert today["smiles"]["text"] == "Smiled in 20% of the answer (24 s readable)."
    assert today["nods"]["text"] == "Nodded 4 times (24 s readable)." and today["nods"]["seconds"] == 24.0
    glimpse = behaviour_cues({"smile_share": fig(1.0, 0.4)}, "questions")  # a share of 0.4 s: not "0 s readable"
    assert glimpse["smiles"]["text"] == "Smiled in 100% of the answer (0.4 s readable; few seconds, tentative)."

    later = behaviour_cues(LATER, "questions")
    assert list(later) == [
        "eye_contact",
        "gaze_aversions",
        "smiles",
        "nods",
        "head_shakes",
        "lean",
        "fidgeting",
        "hand_to_face",
        "out_of_frame",
    ]
    assert later["eye_contact"]["text"] == (
        "Looked at the camera 38% of the time while answering (31% while speaking, 52% while listening) "
        "(24 s readable)."
    )
    assert later["gaze_aversions"]["text"].startswith("Looked away from the camera for 1 s or more 3 times while")
    assert "lean" not in behaviour_cues(LATER, "overall")  # relative to the person's own median: ~0 overall
    assert later["hand_to_face"]["text"].startswith("Raised a hand near the face once")
    assert later["lean"]["text"].startswith("Sat nearer to the camera than usual while answering (about 13%)")
    assert later["fidgeting"]["text"].startswith("Moved the upper body noticeably for 6 s while answering")
    assert behaviour_cues(LATER, "overall")["eye_contact"]["text"].startswith(
        "Looked at the camera 38% of the time over"
    )
    short = behaviour_cues({"smile_share": fig(0.5, 4.0)}, "windows")["smiles"]
    assert short["tentative"] and "tentative" in short["text"] and "of this part" in short["text"]
    assert behaviour_cues(None, "questions") == {}


def test_feedback_describes_what_was_seen_never_a_trait():
    span = {"index": 0, "behaviour": LATER, "behaviour_cues": behaviour_cues(LATER, "questions")}
    text = span_feedback(span, "questions", 3.0)
    assert "You looked at the camera about 38% of the time while answering." in text
    assert "You nodded 4 times." in text and "You smiled in about 20% of this answer." in text
    assert "out of the frame for about 12%" in text and not TRAITS.search(text)
    low = behaviour_cues({**LATER, "eye_contact_share": fig(0.1)}, "questions")
    assert "glancing at the lens" in " ".join(feedback_sentences(low, "questions"))
    # An emotions analysis leaves smiles to its expression feedback.
    assert not any("smiled" in s for s in feedback_sentences(span["behaviour_cues"], "questions", with_smiles=False))
    unreadable = {"index": 0, "behaviour": {**TODAY, "readable_s": 1.0}, "behaviour_cues": {}}
    assert "hard for the software to read" in span_feedback(unreadable, "questions", 3.0)
    spans = [
        {"index": n, "behaviour_cues": behaviour_cues({**LATER, "eye_contact_share": fig(v)}, "questions")}
        for n, v in enumerate((0.2, 0.6))
    ]
    overall = {"behaviour": LATER, "behaviour_cues": behaviour_cues(LATER, "overall")}
    text = overall_feedback(overall, spans, "questions", 3.0)
    assert "You looked at the camera most in question 2." in text and not TRAITS.search(text)


def test_panels_in_the_report_and_on_the_review_page():
    today = {"behaviour": TODAY, "behaviour_cues": behaviour_cues(TODAY, "questions")}
    html = behaviour_panels(today)
    for panel in ("eye-contact", "head-movement", "smiles", "posture"):
        assert f'data-panel="{panel}"' in html
    assert "not measured: eyes closed: no iris to read the gaze from" in html and "Nodded 4 times" in html
    later = {"behaviour": LATER, "behaviour_cues": behaviour_cues(LATER, "questions")}
    panels = dict(review_panels(later))
    assert list(panels) == ["Eye contact", "Head movement", "Smiles", "Posture"]
    assert panels["Eye contact"][0].startswith("Looked at the camera 38%") and len(panels["Posture"]) == 4
    assert dict(review_panels(today))["Posture"] == ["not measured: the shoulders were not in view"]
    assert behaviour_panels({}) == "" and review_panels({}) == []
    assert (
        mode_text(["behaviour"]).startswith("behaviour only")
        and mode_text(None) == "emotions only (--signals emotions)"
    )
