import pytest

from facecue.errors import InputError
from facecue.interview.inputs import load_questions, parse_time
from facecue.interview.transcript import parse_transcript, pick_candidate


@pytest.mark.parametrize(
    "text, seconds", [(12, 12.0), ("7.25", 7.25), ("01:02", 62.0), ("00:01:02.500", 62.5), ("1:00:00,250", 3600.25)]
)
def test_parse_time_accepts_seconds_and_clock_times(text, seconds):
    assert parse_time(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["-1", "soon", "1:2:3:4", "nan"])
def test_parse_time_rejects_nonsense(text):
    with pytest.raises(ValueError):
        parse_time(text)


def test_questions_from_csv_with_header_and_clock_times(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('start,end,question\n00:00:30,00:01:10.5,"Why us, and why now?"\n0,30,Intro\n')
    qs = load_questions(path)
    assert [(q.start_s, q.end_s, q.text) for q in qs] == [(0.0, 30.0, "Intro"), (30.0, 70.5, "Why us, and why now?")]


def test_questions_from_json(tmp_path):
    path = tmp_path / "q.json"
    path.write_text(
        '[{"start": "0:05", "end": 20, "text": "First"},\n {"start": 20, "end": 41.5, "question": "Second"}]'
    )
    qs = load_questions(path)
    assert [(q.start_s, q.end_s, q.text) for q in qs] == [(5.0, 20.0, "First"), (20.0, 41.5, "Second")]


@pytest.mark.parametrize(
    "name, body, line",
    [
        ("q.csv", "start,end,question\n0,10,a\n12,abc,b\n", 3),
        ("q.csv", "0,10,a\n20,15,b\n", 2),
        ("q.json", '[\n {"start": 0, "end": 5},\n {"start": 9}\n]', 3),
        ("q.json", '[\n {"start": 0, "end": 5,}\n]', 2),
    ],
)
def test_invalid_question_files_name_the_file_and_line(tmp_path, name, body, line):
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(InputError, match=rf"{path.name}, line {line}:"):
        load_questions(path)


def test_overlapping_questions_are_refused(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("0,10,a\n8,20,b\n")
    with pytest.raises(InputError, match="must not overlap"):
        load_questions(path)


VTT = """WEBVTT

NOTE written by hand

1
00:00:01.000 --> 00:00:04.000 align:start
<v Interviewer>Tell me about a hard project.</v>

00:00:04.500 --> 00:00:09.000
<v.loud Sam>It was <i>really</i> hard,
but we shipped it.

00:00:09.500 --> 00:00:12.000
<v Sam>I am proud of it.
"""

SRT = """1
00:00:01,000 --> 00:00:03,000
Interviewer: Why this role?

2
00:00:03,500 --> 00:00:08,000
Kim: Because I like building things.

3
00:00:08,500 --> 00:00:09,000
Interviewer: Thanks.
"""


def test_vtt_speakers_tags_and_candidate_by_most_speech(tmp_path):
    path = tmp_path / "t.vtt"
    path.write_text(VTT)
    utterances = parse_transcript(path)
    assert [(u.start_s, u.end_s, u.speaker) for u in utterances] == [
        (1.0, 4.0, "Interviewer"),
        (4.5, 9.0, "Sam"),
        (9.5, 12.0, "Sam"),
    ]
    assert utterances[1].text == "It was really hard, but we shipped it."
    name, mine = pick_candidate(utterances)
    assert name == "Sam" and len(mine) == 2


def test_srt_name_prefixes_and_chosen_speaker(tmp_path):
    path = tmp_path / "t.srt"
    path.write_text(SRT)
    utterances = parse_transcript(path)
    assert [u.speaker for u in utterances] == ["Interviewer", "Kim", "Interviewer"]
    assert utterances[1].text == "Because I like building things."
    name, mine = pick_candidate(utterances, "interviewer")
    assert name == "Interviewer" and [u.start_s for u in mine] == [1.0, 8.5]
    with pytest.raises(InputError, match=r"speaker 'Alex' does not appear.*Interviewer, Kim"):
        pick_candidate(utterances, "Alex")


def test_unlabelled_transcript_counts_all_speech(tmp_path):
    path = tmp_path / "t.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:03,000\nhello there\n\n2\n00:00:04,000 --> 00:00:05,000\nbye\n")
    name, mine = pick_candidate(parse_transcript(path))
    assert name is None and len(mine) == 2


@pytest.mark.parametrize(
    "name, body, line",
    [
        ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:0x.000\nhi\n", 3),
        ("t.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nhi\n\njust text\n", 6),
        ("t.srt", "1\n00:00:05,000 --> 00:00:04,000\nbackwards\n", 2),
        ("t.vtt", "not a header\n\n00:00:01.000 --> 00:00:02.000\nhi\n", 1),
    ],
)
def test_invalid_transcripts_name_the_file_and_line(tmp_path, name, body, line):
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(InputError, match=rf"{path.name}, line {line}:"):
        parse_transcript(path)
