import dataclasses
import re

from facecue.interview import InterviewInputs, InterviewOptions, analyze_interview
from facecue.interview.feedback import span_feedback, typical_rate
from facecue.interview.transcript import Utterance
from facecue.report.interview import questions_section
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
        assert text.startswith(("Your", "You ", "These", "At some moments your")) and (
            "may" in text or "seemed" in text or "approximate" in text or "imperfectly" in text
        ), text
        assert not SCORE_WORDS.search(text), text
    # Each part is described as a change from the person's own baseline (here: mostly neutral).
    assert "more animated here than your usual expression" in interview["spans"][3]["feedback"]
    assert "smile more here" in interview["spans"][0]["feedback"]
    assert "looked tense" in interview["spans"][1]["feedback"]
    assert interview["overall"]["feedback"].startswith(
        "These notes compare each part of the interview with your own usual expression"
    )


def test_a_resting_face_read_as_stern_is_never_called_angry_or_tense():
    """The calm speaker of the model issue: the model reads 55% angry all the time. That is this face's baseline:
    the feedback names no angry, the stress cue counts no moment, and the baseline is recorded for the reviewer."""
    result = synthetic_result(timeline(("angry", 60), p=0.55))
    interview = analyze_interview(result, options=InterviewOptions(window_s=20))
    assert interview["baseline"]["dominant"] == "angry"
    texts = [s["feedback"] for s in interview["spans"]] + [interview["overall"]["feedback"]]
    for text in texts:
        assert not re.search(r"angry|tense|fearful|surprised", text), text
    assert all("stayed close to your usual expression" in s["feedback"] for s in interview["spans"])
    assert all(
        s["cues"]["stress"]["value"] == 0 and s["cues"]["stress"]["relative_to_baseline"] for s in interview["spans"]
    )


def test_a_rise_above_the_baseline_is_still_seen():
    result = synthetic_result(timeline(("neutral", 40), ("angry", 10), ("neutral", 10)))
    interview = analyze_interview(result, options=InterviewOptions(window_s=10))
    tense = interview["spans"][4]
    assert tense["change"]["label"] == "angry" and tense["cues"]["stress"]["level"] == "marked"
    assert "tense" in tense["feedback"] and "angry" not in tense["feedback"]


def test_without_a_baseline_a_stern_reading_is_not_named():
    interview = analyze_interview(synthetic_result(timeline(("angry", 8))))
    assert interview["baseline"] is None
    # nothing tells a steady stern reading from a tense moment without a baseline: the cue is not measured
    for stress in (interview["spans"][0]["cues"]["stress"], interview["overall"]["cues"]["stress"]):
        assert stress["level"] == "not measured" and stress["value"] is None and stress["support_s"] == []
        assert "usual expression" in stress["text"] and "anger" not in stress["text"]
    overall, span = interview["overall"]["feedback"], interview["spans"][0]["feedback"]
    assert "too little readable video of your face to learn your usual" in overall
    for text in (overall, span):  # a short clip of a stern resting face is not called tense or angry either
        assert not re.search(r"angry|tense|harder", text), text


def test_a_short_clearly_seen_clip_is_called_short_not_hard_to_read():
    interview = analyze_interview(synthetic_result(timeline(("angry", 2))))
    overall = interview["overall"]["feedback"]
    assert overall.startswith("There is too little video in this recording (2 s of your face)"), overall
    assert "hard for the software" not in overall


def test_a_steady_face_is_described_never_called_calm():
    """Steady is what was measured; "calm" was a guess that told a furious speaker (read angry throughout) and a
    crying one (read neutral by mistake) that their expression could read as calm."""
    for label, p in (("angry", 0.7), ("neutral", 0.9)):
        interview = analyze_interview(
            synthetic_result(timeline((label, 30), p=p)), options=InterviewOptions(window_s=30)
        )
        span = interview["spans"][0]
        assert span["cues"]["composure"]["level"] == "steady"
        assert "The software's reading of your expression stayed fairly steady." in span["feedback"]
        assert "calm" not in span["feedback"] + interview["overall"]["feedback"]


def test_one_part_is_not_called_the_most_at_ease_or_the_hardest():
    smiling = synthetic_result(timeline(("happy", 30)))
    one = analyze_interview(smiling, options=InterviewOptions(window_s=30))
    two = analyze_interview(smiling, options=InterviewOptions(window_s=15))
    assert len(one["spans"]) == 1 and "most smiles" not in one["overall"]["feedback"]
    assert len(two["spans"]) == 2 and "most smiles" in two["overall"]["feedback"]


def test_the_most_smiles_and_the_most_discomfort_are_never_the_same_part():
    """QA: a part read as happy 51% and with discomfort 40% (marked) was named both "most at ease" (smiles alone) and
    "may have felt harder". The picks are readings, and a part with some or marked discomfort is not the smiling one."""
    result = synthetic_result(
        timeline(("neutral", 20), ("happy", 5), ("sad", 4), ("neutral", 11), ("happy", 2), ("neutral", 8))
    )
    interview = analyze_interview(result, options=InterviewOptions(window_s=10))
    mixed, smiling = interview["spans"][2], interview["spans"][4]
    assert mixed["cues"]["engagement"]["value"] > smiling["cues"]["engagement"]["value"] >= 0.1
    assert mixed["cues"]["stress"]["level"] == "marked" and smiling["cues"]["stress"]["level"] == "little"
    overall = interview["overall"]["feedback"]
    assert "The software read the most smiles and little discomfort in the part from 0:40 to 0:50." in overall
    assert "read the most discomfort, relative to your usual expression, in the part from 0:20 to 0:30" in overall
    assert not re.search(r"at ease|felt harder", overall)
    # With the mixed part alone beside calm ones it is named once, for the discomfort only.
    calm = synthetic_result(timeline(("neutral", 20), ("happy", 5), ("sad", 4), ("neutral", 21)))
    overall = analyze_interview(calm, options=InterviewOptions(window_s=10))["overall"]["feedback"]
    assert (
        "most smiles" not in overall
        and "most discomfort, relative to your usual expression, in the part from 0:20" in overall
    )


def test_the_only_part_is_not_compared_with_the_recording_it_makes_up():
    # One part is the whole recording its baseline was learnt from: "stayed close to your usual expression" would
    # be true by construction, and "each part" is one part.
    steady = synthetic_result(timeline(("neutral", 30)))
    one = analyze_interview(steady, options=InterviewOptions(window_s=30))
    two = analyze_interview(steady, options=InterviewOptions(window_s=15))
    assert len(one["spans"]) == 1 and one["baseline"]
    assert "usual expression" not in one["spans"][0]["feedback"]
    assert one["overall"]["feedback"].startswith("These notes compare moments of the interview with your own usual")
    assert all("stayed close to your usual expression" in s["feedback"] for s in two["spans"])
    assert two["overall"]["feedback"].startswith("These notes compare each part of the interview")


class FakeTrack:
    """Voice cues as measure_voice would give them, one rate per span, without a video."""

    def __init__(self, rates: list[float]):
        self.rates = rates

    def cues(self, spans, own=None):
        return [voice(r) for r in self.rates[: len(spans)]]


def test_no_voice_feedback_where_the_transcript_has_no_word_of_the_candidate():
    """QA: in W1 only the interviewer spoke (1-7 s), yet W1's feedback told the candidate "You seemed to speak faster
    here than in your other answers": the voice cues measured the interviewer."""
    result = synthetic_result(timeline(("neutral", 40)))
    result = dataclasses.replace(result, source=dataclasses.replace(result.source, has_audio=True))
    words = "I enjoyed the project and learnt a lot from the team."
    utterances = [Utterance(11.0, 19.0, "Candidate", words), Utterance(21.0, 39.0, "Candidate", words)]
    interview = analyze_interview(
        result,
        "interview.mp4",
        InterviewInputs(utterances=utterances, candidate_speaker="Candidate", speakers=["Candidate", "Interviewer"]),
        InterviewOptions(window_s=10, thumbnails=False),
        voice_track=FakeTrack([6.0, 3.0, 3.2, 3.1]),  # the interviewer's fast speech fills W1
    )
    spans = interview["spans"]
    assert not any("speak faster" in s["feedback"] for s in spans)
    assert [s["candidate_spoke"] for s in spans] == [False, True, True, True]
    assert typical_rate(spans) == 3.1  # the candidate's own parts only (the interviewer's 6.0 would make it 3.2)
    html = questions_section(interview)
    card = re.search(r'<article class="qcard" id="q-1".*?</article>', html, re.S).group(0)
    assert "Not used for feedback: the transcript has no speech by the candidate (Candidate) in this part" in card
    assert "Not used for feedback" not in html.split('id="q-2"', 1)[1]


def test_the_interviewers_voice_in_a_part_gives_no_voice_advice():
    """QA: a question's only sound lay in the interviewer's cue; it read as reliable, faster than the candidate's
    answers, and the candidate was told to slow down."""
    import numpy as np

    from facecue.interview.inputs import Question
    from facecue.interview.voice import measure_samples
    from tests.interview.test_voice import R, silence, syllables

    audio = np.concatenate(
        [syllables(3.5, 6.0), silence(7.0), silence(0.5), syllables(9.0, 3.0), silence(1.0), syllables(9.0, 3.0)]
    )
    result = synthetic_result(timeline(("neutral", 30)))
    result = dataclasses.replace(result, source=dataclasses.replace(result.source, has_audio=True))
    said = [Utterance(4.2, 9.9, "Candidate", "I am glad to be here."), Utterance(10.2, 19.8, "Candidate", "Yes.")]
    said.append(Utterance(20.2, 29.8, "Candidate", "No."))
    inputs = InterviewInputs(
        questions=[Question(0, 10, "one"), Question(10, 20, "two"), Question(20, 30, "three")],
        utterances=said,
        candidate_speaker="Candidate",
        speakers=["Candidate", "Interviewer"],
    )
    interview = analyze_interview(result, "synthetic", inputs, voice_track=measure_samples(audio, R))
    first = interview["spans"][0]
    assert first["candidate_spoke"] and first["voice"]["speaking_rate_per_s"] > 1.25 * 3.0
    assert not first["voice"]["reliable"] and "transcript cues" in first["voice"]["reason"]
    assert all(s["voice"]["reliable"] for s in interview["spans"][1:])
    assert not any("speak faster" in s["feedback"] for s in interview["spans"])


def test_a_part_with_nothing_else_to_compare_with_gets_no_comparison_sentence():
    """QA: a single-question interview, and an interview whose only readable question was the first, were told "You
    seemed to smile more here than in the rest of the recording": the part is all the baseline was learnt from."""
    import numpy as np

    smiles_late = timeline(("neutral", 10), ("happy", 5))
    one = analyze_interview(synthetic_result(smiles_late), options=InterviewOptions(window_s=15))
    readable = np.arange(45 * 5) < 15 * 5  # the face is read only in the first of three parts
    first_only = synthetic_result(np.concatenate([smiles_late, timeline(("neutral", 30))]), usable=readable)
    three = analyze_interview(first_only, options=InterviewOptions(window_s=15))
    for interview in (one, three):
        span = interview["spans"][0]
        assert interview["baseline"] and span["change"]["label"] == "happy"
        assert not re.search(r"rest of the recording|usual expression|more here", span["feedback"]), span["feedback"]
        assert "You seemed to smile at times" in span["feedback"]
    assert len(three["spans"]) == 3 and "hard for the software to read" in three["spans"][1]["feedback"]
    # One readable part of three: the overall note does not promise to compare "each part" either.
    assert three["overall"]["feedback"].startswith("These notes compare moments of the interview")


def test_positive_words_bring_face_advice_only_where_the_words_against_face_check_flagged_them():
    """QA: a calm candidate with positive words was told in both questions "showing some of that in your face may make
    it land better" while the words-against-face check found both utterances consistent."""
    words = "I am really excited and happy to be here, I love this great team."
    result = synthetic_result(timeline(("neutral", 22), ("sad", 15), ("neutral", 3)))
    said = [Utterance(2.0, 18.0, "Candidate", words), Utterance(22.0, 37.0, "Candidate", words)]
    inputs = InterviewInputs(utterances=said, candidate_speaker="Candidate", speakers=["Candidate"])
    interview = analyze_interview(result, inputs=inputs, options=InterviewOptions(window_s=20))
    assert [i["status"] for i in interview["mismatch"]["items"]] == ["consistent", "flagged"]
    calm, flagged = interview["spans"]
    assert calm["sentiment"]["compound"] >= 0.5 and calm["cues"]["engagement"]["level"] == "little"
    assert "showing some of that in your face" not in calm["feedback"]
    assert "Your words sounded positive; showing some of that in your face" in flagged["feedback"]
