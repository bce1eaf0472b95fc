import numpy as np
import pytest

from facecue.interview import InterviewInputs, analyze_interview
from facecue.interview.frames import InterviewFrames
from facecue.interview.mismatch import check_utterance, sentiment
from facecue.interview.transcript import Utterance
from tests.interview.synthetic import synthetic_result, timeline

NEGATIVE = "Honestly that job was awful, I hated the terrible management and it made me miserable."
POSITIVE = "I really loved that team, it was a wonderful and happy time."


def test_vader_reads_plain_sentiment():
    assert sentiment(NEGATIVE) < -0.8 and sentiment(POSITIVE) > 0.8
    assert abs(sentiment("The meeting is at ten.")) < 0.05


def test_negative_words_over_a_happy_face_are_flagged_with_evidence():
    fr = InterviewFrames.from_result(synthetic_result(timeline(("happy", 20))))
    item = check_utterance(fr, Utterance(5.0, 10.0, "Sam", NEGATIVE))
    assert item["status"] == "flagged"
    assert item["compound"] < -0.5 and item["facial_valence"] > 0.7
    assert item["opposite_share"] == 1.0 and item["coverage"] == 1.0
    assert "words read as negative" in item["reason"] and "face read as positive" in item["reason"]


def test_matching_sentiment_is_consistent():
    fr = InterviewFrames.from_result(synthetic_result(timeline(("happy", 20))))
    assert check_utterance(fr, Utterance(5.0, 10.0, "Sam", POSITIVE))["status"] == "consistent"
    neutral_face = InterviewFrames.from_result(synthetic_result(timeline(("neutral", 20))))
    assert check_utterance(neutral_face, Utterance(5.0, 10.0, "Sam", NEGATIVE))["status"] == "consistent"


def test_too_short_or_unreadable_spans_are_never_flagged():
    probs = timeline(("happy", 20))
    fr = InterviewFrames.from_result(synthetic_result(probs))
    short = check_utterance(fr, Utterance(5.0, 6.5, "Sam", NEGATIVE))
    assert short["status"] == "skipped" and "too short" in short["reason"]
    usable = np.ones(len(probs), bool)
    usable[25:50:2] = False   # most frames between 5 s and 10 s unreadable: coverage 24%
    usable[26:50:4] = False
    patchy = InterviewFrames.from_result(synthetic_result(probs, usable))
    item = check_utterance(patchy, Utterance(5.0, 10.0, "Sam", NEGATIVE))
    assert item["status"] == "skipped" and item["coverage"] < 0.6 and "readable in only" in item["reason"]


def test_interview_section_counts_mismatch_and_sentiment_per_span():
    result = synthetic_result(timeline(("happy", 30)))
    utterances = [Utterance(2.0, 8.0, "Sam", NEGATIVE), Utterance(12.0, 13.0, "Sam", NEGATIVE),
                  Utterance(16.0, 24.0, "Sam", POSITIVE)]
    interview = analyze_interview(result, inputs=InterviewInputs(utterances=utterances, candidate_speaker="Sam"))
    m = interview["mismatch"]
    assert (m["checked"], m["flagged"], m["skipped"]) == (2, 1, 1)
    assert [i["status"] for i in m["items"]] == ["flagged", "skipped", "consistent"]
    sentiment_row = interview["spans"][0]["sentiment"]
    assert sentiment_row["utterances"] == 3 and sentiment_row["words"] > 20
    assert interview["candidate_speaker"] == "Sam"


def test_without_transcript_there_is_no_mismatch_section():
    interview = analyze_interview(synthetic_result(timeline(("happy", 10))))
    assert interview["mismatch"] is None and interview["spans"][0]["sentiment"] is None
    assert any("No transcript" in n for n in interview["notes"])


@pytest.mark.parametrize("face, words, expected", [("sad", POSITIVE, "flagged"), ("sad", NEGATIVE, "consistent")])
def test_positive_words_over_a_sad_face(face, words, expected):
    fr = InterviewFrames.from_result(synthetic_result(timeline((face, 12))))
    assert check_utterance(fr, Utterance(2.0, 9.0, None, words))["status"] == expected
