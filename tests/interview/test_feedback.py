import re

from facecue.interview import InterviewOptions, analyze_interview
from facecue.interview.feedback import span_feedback, typical_rate
from tests.interview.synthetic import synthetic_result, timeline

SCORE_WORDS = re.compile(r"\b(score|hire|reject|rating|anxious|liar|dishonest|\d+/10)\b", re.IGNORECASE)


def voice(rate: float, reliable: bool = True) -> dict:
    return {"available": True, "reliable": reliable, "speaking_rate_per_s": rate}


def test_speaking_faster_is_judged_against_the_candidates_own_answers():
    span = analyze_interview(synthetic_result(timeline(("neutral", 10))))["spans"][0]
    spans = [{**span, "voice": voice(r)} for r in (3.0, 3.2, 4.5)]
    assert typical_rate(spans) == 3.2
    assert "speak faster here" in span_feedback(spans[2], typical_rate(spans))
    assert "speak faster" not in span_feedback(spans[0], typical_rate(spans))
    assert typical_rate([{**span, "voice": voice(5.0, reliable=False)}, spans[0]]) is None  # one reliable span


def test_feedback_is_hedged_addressed_to_the_candidate_and_never_a_score():
    result = synthetic_result(timeline(("happy", 10), ("sad", 10), ("neutral", 10), ("surprise", 10)))
    interview = analyze_interview(result, options=InterviewOptions(window_s=10))
    texts = [s["feedback"] for s in interview["spans"]] + [interview["overall"]["feedback"]]
    for text in texts:
        assert text.startswith(("Your", "Across")) and ("may" in text or "seemed" in text or "approximate" in text)
        assert not SCORE_WORDS.search(text), text
    assert "looked surprised" in interview["spans"][3]["feedback"]


def test_a_short_clearly_seen_clip_is_called_short_not_hard_to_read():
    interview = analyze_interview(synthetic_result(timeline(("angry", 2))))
    overall = interview["overall"]["feedback"]
    assert overall.startswith("There is too little video in this recording (2 s of your face)"), overall
    assert "hard for the software" not in overall
