import numpy as np
import pytest

from facecue.interview import InterviewInputs, InterviewOptions, analyze_interview, load_inputs, mismatch
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
    fr = InterviewFrames.from_result(synthetic_result(timeline(("neutral", 20), ("happy", 10))))
    item = check_utterance(fr, Utterance(22.0, 28.0, "Sam", NEGATIVE))
    assert item["status"] == "flagged" and item["relative_to_baseline"]
    assert item["compound"] < -0.5 and item["facial_valence"] > 0.7
    assert item["opposite_share"] == 1.0 and item["coverage"] == 1.0
    assert (
        "words read as negative" in item["reason"]
        and "face read as more positive than its own baseline" in item["reason"]
    )


def test_a_calm_face_the_model_reads_as_slightly_negative_is_not_a_mismatch():
    """The calm address of the model issue: 'I am really excited and happy to be here' over a steady face that the
    model reads at valence -0.24 was flagged. That steady reading is the face's baseline, not a reaction."""
    probs = np.zeros((30 * 5, 7), np.float32)
    probs[:, 6], probs[:, 4], probs[:, 0] = 0.6, 0.3, 0.1  # neutral, sad, angry
    fr = InterviewFrames.from_result(synthetic_result(probs))
    assert fr.valence.mean() < -0.2
    item = check_utterance(fr, Utterance(5.0, 12.0, None, "I am really excited and happy to be here."))
    assert item["status"] == "consistent" and abs(item["facial_valence"]) < 0.01


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
    usable[25:50:2] = False  # most frames between 5 s and 10 s unreadable: coverage 24%
    usable[26:50:4] = False
    patchy = InterviewFrames.from_result(synthetic_result(probs, usable))
    item = check_utterance(patchy, Utterance(5.0, 10.0, "Sam", NEGATIVE))
    assert item["status"] == "skipped" and item["coverage"] < 0.6 and "readable in only" in item["reason"]


def test_interview_section_counts_mismatch_and_sentiment_per_span():
    result = synthetic_result(timeline(("neutral", 15), ("happy", 10), ("neutral", 15)))
    utterances = [
        Utterance(2.0, 8.0, "Sam", POSITIVE),
        Utterance(12.0, 13.0, "Sam", NEGATIVE),
        Utterance(16.0, 24.0, "Sam", NEGATIVE),
    ]
    interview = analyze_interview(result, inputs=InterviewInputs(utterances=utterances, candidate_speaker="Sam"))
    m = interview["mismatch"]
    assert (m["checked"], m["flagged"], m["skipped"]) == (2, 1, 1)
    assert [i["status"] for i in m["items"]] == ["consistent", "skipped", "flagged"]
    sentiment_row = interview["spans"][0]["sentiment"]
    assert sentiment_row["utterances"] == 3 and sentiment_row["words"] > 20
    assert interview["candidate_speaker"] == "Sam"


def test_without_transcript_there_is_no_mismatch_section():
    interview = analyze_interview(synthetic_result(timeline(("happy", 10))))
    assert interview["mismatch"] is None and interview["spans"][0]["sentiment"] is None
    assert any("No transcript" in n for n in interview["notes"])


@pytest.mark.parametrize("face, words, expected", [("sad", POSITIVE, "flagged"), ("sad", NEGATIVE, "consistent")])
def test_positive_words_over_a_sad_face(face, words, expected):
    fr = InterviewFrames.from_result(synthetic_result(timeline(("neutral", 20), (face, 12))))
    assert check_utterance(fr, Utterance(22.0, 29.0, None, words))["status"] == expected


def test_without_a_baseline_a_stern_face_is_not_compared_with_the_words():
    """trump_clip1 of the talking clips: 8 s of a steady face that both models read as negative, under positive
    words, was flagged. Under 10 s of readable face there is no baseline to tell a resting face from a reaction."""
    probs = np.zeros((8 * 5, 7), np.float32)
    probs[:, 0], probs[:, 4], probs[:, 6] = 0.45, 0.2, 0.35  # angry, sad, neutral
    fr = InterviewFrames.from_result(synthetic_result(probs))
    assert fr.baseline is None and fr.valence.mean() < -0.2
    item = check_utterance(fr, Utterance(0.0, 7.8, None, "I am really excited and happy to be here."))
    assert item["status"] == "skipped" and not item["relative_to_baseline"]
    assert "usual expression" in item["reason"] and item["facial_valence"] is None
    # the same face with a baseline to compare with is consistent, and a real change under it is still flagged
    longer = InterviewFrames.from_result(synthetic_result(np.concatenate([probs] * 3)))
    assert (
        check_utterance(longer, Utterance(0.0, 7.8, None, "I am really excited and happy to be here."))["status"]
        == "consistent"
    )


def test_a_part_counts_every_utterance_that_overlaps_it():
    """QA: with 8 s windows, a candidate answer from 0:16 to 0:31 (midpoint 23.5 s) was counted only in the window
    0:16-0:24, and the window 0:24-0:34 said the candidate said nothing; a one-hour cue on a short clip, whose
    midpoint lies after the clip, left its only window "said nothing" while the words-against-face table listed it."""
    result = synthetic_result(timeline(("neutral", 34)))
    answer = Utterance(16.0, 31.0, "Candidate", POSITIVE)
    interview = analyze_interview(
        result,
        inputs=InterviewInputs(utterances=[answer], candidate_speaker="Candidate"),
        options=InterviewOptions(window_s=8),
    )
    counts = [s["sentiment"]["utterances"] for s in interview["spans"]]
    assert counts == [0, 0, 1, 1]  # windows 0-8, 8-16 (the answer starts at 16: no overlap), 16-24, 24-34
    assert interview["spans"][3]["sentiment"]["compound"] > 0.5
    hour = analyze_interview(
        synthetic_result(timeline(("neutral", 25))),
        inputs=InterviewInputs(utterances=[Utterance(0.0, 3600.0, None, POSITIVE)]),
    )
    assert hour["spans"][0]["sentiment"]["utterances"] == 1


def test_too_few_frames_is_not_reported_as_low_coverage():
    """QA: a row read "Face read 100% ... the face was readable in only 100% of this utterance (needs 60%)": the
    utterance had fewer than 5 frames, all readable, and both checks gave the coverage reason."""
    fr = InterviewFrames.from_result(synthetic_result(timeline(("happy", 30)), fps=1.0))  # 150 frames, 1 a second
    item = check_utterance(fr, Utterance(40.0, 44.0, "Sam", NEGATIVE))  # 4 s: frames at 40, 41, 42, 43
    assert item["status"] == "skipped" and item["coverage"] == 1.0
    assert "4 readable frame(s)" in item["reason"] and "needs 5" in item["reason"]
    assert "readable in only" not in item["reason"]


def test_a_transcript_past_the_end_of_the_video_is_not_read_as_a_fully_seen_face(tmp_path):
    """QA: a one-hour utterance on a 25 s clip showed "Face read 100%" and was marked consistent, and a 46 s cue on a
    19.7 s video showed 100%: coverage counted only the frames that exist. Nothing said the transcript ran past the
    end of the video."""
    result = synthetic_result(timeline(("neutral", 25)))
    fr = InterviewFrames.from_result(result)
    hour = check_utterance(fr, Utterance(0.0, 3600.0, None, POSITIVE))
    assert hour["status"] == "skipped" and hour["coverage"] < 0.01
    assert "3575.0 s of it lie outside the video" in hour["reason"]
    cue = check_utterance(fr, Utterance(0.0, 46.0, None, POSITIVE))
    assert cue["status"] == "skipped" and cue["coverage"] == pytest.approx(25 / 46, abs=0.01)
    inside = check_utterance(fr, Utterance(5.0, 20.0, None, POSITIVE))  # within the video: as before
    assert inside["status"] == "consistent" and inside["coverage"] == 1.0

    interview = analyze_interview(
        result,
        inputs=InterviewInputs(utterances=[Utterance(0.0, 46.0, "Kim", POSITIVE)], candidate_speaker="Kim"),
    )
    assert any("The transcript runs to 46.0 s, past the end of the video (25.0 s)" in n for n in interview["notes"])
    within = analyze_interview(result, inputs=InterviewInputs(utterances=[Utterance(0.0, 25.5, "Kim", POSITIVE)]))
    assert not any("past the end of the video" in n for n in within["notes"])  # a cue rounded up to the second
    vtt = tmp_path / "t.vtt"  # the interviewer's closing words run past the end: the note still shows
    vtt.write_text("WEBVTT\n\n00:01.000 --> 00:20.000\nKim: " + POSITIVE + "\n\n00:21.000 --> 00:40.000\nAl: Thanks.\n")
    loaded = analyze_interview(result, inputs=load_inputs(transcript=vtt))
    assert any("The transcript runs to 40.0 s" in n and "past the end: 0;" in n for n in loaded["notes"])


def test_the_evidence_prints_the_same_rounding_as_the_table(monkeypatch):
    """QA: Words "+0.89" in the table beside "VADER +0.88" in the evidence for a compound of 0.885 (the table printed
    the stored, rounded value; the sentence the raw one)."""
    monkeypatch.setattr(mismatch, "sentiment", lambda text: 0.88496)
    fr = InterviewFrames.from_result(synthetic_result(timeline(("neutral", 20), ("sad", 12))))
    item = check_utterance(fr, Utterance(22.0, 29.0, None, POSITIVE))
    assert item["status"] == "flagged" and item["compound"] == 0.885
    assert f"VADER {item['compound']:+.2f}" in item["reason"]
    assert f"mean valence {item['facial_valence']:+.2f} relative to the baseline, on a −2 … +2 scale" in item["reason"]
