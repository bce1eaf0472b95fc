"""The interview part of the HTML report, on a hand-made interview section whose values are known."""

from __future__ import annotations

import base64
import json
import re

import cv2
import numpy as np
import pytest

from facecue.cli import main
from facecue.report import render_report
from facecue.report.pdf import find_chromium
from tests.report.interview_doc import interview_doc, result_with_interview, sharp_thumbnail
from tests.report.test_html import chart_data, make_result


def images(html: str) -> list[str]:
    return re.findall(r'<img class="thumb" src="([^"]+)"', html)


def sharpness(uri: str) -> float:
    raw = np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8)
    return float(cv2.Laplacian(cv2.imdecode(raw, cv2.IMREAD_GRAYSCALE), cv2.CV_64F).var())


def test_timeline_gets_question_bands_and_numbered_highlight_pins_in_time_order():
    html = render_report(result_with_interview())
    bands = re.findall(r'<a class="q-band q-\d" href="#q-(\d)" data-start="([\d.]+)" data-end="([\d.]+)">', html)
    assert bands == [("1", "0.00", "2.00"), ("2", "2.00", "5.00"), ("3", "5.00", "9.00")]
    pins = re.findall(r'<a class="marker" href="#highlight-(\d)" data-time="([\d.]+)">', html)
    assert pins == [("1", "1.20"), ("2", "3.00"), ("3", "6.60")]  # sorted by time, not by document order
    data = chart_data(html)
    assert data["q"][1][:3] == [2.0, 5.0, "Q2"] and data["q"][1][3].startswith("Why this role?")
    assert data["h"] == [[1.2, 1], [3.0, 2], [6.6, 3]]
    assert len(re.findall(r'class="q-edge"', html)) == 2  # a dashed line where Q2 and Q3 start


def test_question_cards_carry_face_cues_voice_words_and_feedback():
    html = render_report(result_with_interview())
    cards = re.findall(r'<article class="qcard" id="q-(\d)".*?</article>', html, re.S)
    assert cards == ["1", "2", "3"]
    first = re.search(r'<article class="qcard" id="q-1".*?</article>', html, re.S).group(0)
    assert 'data-emotion="happy">' in first and "<b>80%</b>" in first
    assert '<span class="m-val">+0.45</span>' in first  # valence
    assert 'Arc <span class="arc-shape">rising</span>' in first
    arc = re.sub(r"<[^>]+>", "", re.search(r'<p class="arc">.*?</p>', first).group(0))
    assert arc == "Arc rising: first third neutral → peak 0:01.0 happy → last third happy"  # thirds: no clock
    assert "happy + surprise 0:00.4–0:01.2" in first
    assert 'Visible positive engagement</b> <span class="level">marked</span>' in first
    assert '<span class="conf conf-high" title="confidence of this cue (0..1)">high 0.72</span>' in first
    assert "Seen around 0:01.0, 0:02.5" in first and "few smiles is not disengagement" in first
    assert "<th>Pitch</th><td>152 Hz</td>" in first and "<th>Pauses ≥ 0.3 s</th><td>2 · longest 0.7 s</td>" in first
    assert "read as <b>positive</b> (VADER +0.62)" in first
    assert "Feedback for part 1: you seemed at ease." in first
    third = re.search(r'<article class="qcard" id="q-3".*?</article>', html, re.S).group(0)
    assert "Not reliable here: too little voiced speech (0.4 s; at least 1.5 s needed)." in third
    assert "<th>Pitch</th><td>—</td>" in third


def test_question_text_is_escaped_everywhere():
    html = render_report(result_with_interview())
    assert "<script>alert(1)</script>" not in html
    assert "Why this role? &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert len(re.findall(r"<script", html)) == 2


def test_highlights_embed_only_data_uri_thumbnails():
    html = render_report(result_with_interview())
    cards = re.findall(r'<figure class="hl" id="highlight-(\d)" data-time="([\d.]+)">', html)
    assert cards == [("1", "1.20"), ("2", "3.00"), ("3", "6.60")]
    assert images(html) == [sharp_thumbnail(), sharp_thumbnail()]
    assert "example.invalid" not in html and html.count('<div class="thumb none">no picture</div>') == 1
    assert "https://" not in html and "http://" not in html


def test_blur_option_blurs_sharp_thumbnails_and_keeps_blurred_ones():
    sharp = sharpness(sharp_thumbnail())
    blurred = images(render_report(result_with_interview(), blur_thumbnails=True))
    assert len(blurred) == 2 and all(sharpness(uri) < sharp / 20 for uri in blurred)
    assert "Pictures are blurred for privacy." in render_report(result_with_interview(), blur_thumbnails=True)
    # Already blurred by the analysis: embedded as they are, and said so.
    html = render_report(result_with_interview(blurred=True), blur_thumbnails=True)
    assert images(html) == [sharp_thumbnail(), sharp_thumbnail()] and "Pictures are blurred for privacy." in html


def test_mismatch_panel_lists_flagged_utterances_first_with_their_evidence():
    html = render_report(result_with_interview())
    rows = re.findall(r'<tr class="st-(\w+)"><td class="nowrap">([^<]+)</td>', html)
    assert rows == [("flagged", "0:02.2–0:04.8"), ("consistent", "0:00.5–0:01.8")]
    assert "1 of 2 checked utterances was flagged" in html
    assert (
        '<td class="num">-0.80</td><td class="num">+0.70</td><td class="num">80%</td><td class="small">the words '
        "read as negative while the face read as positive.</td>"
    ) in html


def test_voice_panel_compares_parts_and_marks_unreliable_ones():
    html = render_report(result_with_interview())
    section = re.search(r'<section id="voice">.*?</section>', html, re.S).group(0)
    assert re.findall(r'<a href="#q-(\d)">Q\d</a>', section) == ["1", "2", "3"]
    # pitch 152 -> 180 Hz: the bar runs from the lowest part (0%) to the highest (100%)
    assert '<span class="cellbar" style="width:0%"></span>152</td>' in section
    assert '<span class="cellbar" style="width:100%"></span>180</td>' in section
    assert 'class="unrel"' in section and "Q3: too little voiced speech" in section

    doc = result_with_interview()
    doc["interview"].update(
        voice_available=False, voice_note="the video has no audio track, so there are no voice cues."
    )
    for s in doc["interview"]["spans"]:
        s["voice"] = None
    html = render_report(doc)
    assert re.search(r'<section id="voice"><h2>Voice</h2><p class="notice">the video has no audio track', html)


def test_overview_notes_calibration_and_limits():
    html = render_report(result_with_interview())
    assert "3 questions from the question timeline" in html and "1 flagged of 2 utterances checked" in html
    assert "Across the interview you mostly looked at ease." in html
    assert "<li>Only 7 s of the face could be read: treat every cue as tentative.</li>" in html
    assert "scaled by a temperature of 0.86 fitted on FER2013 validation images" in html
    assert "Words against face.</strong>" in html and "Voice cues depend on the recording.</strong>" in html
    plain = render_report(make_result())
    assert 'id="interview"' not in plain and "Voice cues depend on the recording." not in plain
    one = result_with_interview()
    one["interview"]["mismatch"].update(checked=1, flagged=0)
    html = render_report(one)
    assert "0 flagged of 1 utterance checked" in html and "0 of 1 checked utterance were flagged" in html
    assert "calibrated on FER2013 validation images" in plain  # no temperature recorded: said generally


def test_one_part_is_counted_in_the_singular():
    from facecue.report.interview import overview_section

    doc = interview_doc()
    one = {**doc, "span_kind": "windows", "window_s": 30, "spans": doc["spans"][:1]}
    assert "1 fixed window, the whole recording (no question timeline was given)" in overview_section(one)
    one_highlight = {**one, "highlights": doc["highlights"][:1]}
    assert "1 moment worth a second look" in overview_section(one_highlight)
    assert "1 question from the question timeline" in overview_section({**doc, "spans": doc["spans"][:1]})


@pytest.mark.parametrize("damage", ["empty", "no_parts", "bad_entries", "windows"])
def test_partial_or_malformed_interview_sections_still_render(damage):
    doc = make_result()
    interview = interview_doc()
    if damage == "empty":
        interview = {}
    elif damage == "no_parts":
        interview = {"spans": interview["spans"]}
    elif damage == "bad_entries":
        interview["spans"][1] = {"text": "no times"}
        interview["spans"][0]["cues"] = "not a dict"
        interview["highlights"].append({"kind": "peak"})
        interview["mismatch"]["items"].append("junk")
    else:
        interview.update(span_kind="windows", window_s=3.0)
    doc["interview"] = interview
    html = render_report(doc)
    assert html.startswith("<!DOCTYPE html>") and 'id="limits"' in html
    if damage == "empty":
        assert 'class="q-band' not in html and "No moment stood out" in html and "No transcript was given" in html
    if damage == "no_parts":
        assert html.count('class="qcard"') == 3 and "Voice cues were not computed" in html
    if damage == "bad_entries":
        assert html.count('class="qcard"') == 2 and html.count('<figure class="hl"') == 3
    if damage == "windows":
        assert "Part by part" in html and ">W2<" in html and "3 fixed windows of 3 s" in html


def test_report_command_writes_html_and_explains_mistakes(tmp_path, capsys, monkeypatch):
    result = tmp_path / "result.json"
    result.write_text(json.dumps(result_with_interview()))
    assert main(["report", str(result), "-o", str(tmp_path / "r.html")]) == 0
    assert 'id="questions"' in (tmp_path / "r.html").read_text()

    (tmp_path / "report.json").write_text(json.dumps(interview_doc()))
    (tmp_path / "broken.json").write_text('{"schema": ')
    cases = [
        ([str(result)], "nothing to write"),
        ([str(tmp_path / "report.json"), "-o", str(tmp_path / "x.html")], "is the interview report.json"),
        ([str(tmp_path / "broken.json"), "-o", str(tmp_path / "x.html")], "is not valid JSON (line 1"),
        ([str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.html")], "does not exist"),
        ([str(result), "-o", str(result)], "is the result being read"),  # it was overwritten with the HTML
        ([str(result), "--pdf", str(result / "x.pdf")], "is a file, not a folder"),
    ]
    for args, message in cases:
        assert main(["report", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and "Traceback" not in err

    monkeypatch.setenv("FACECUE_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert main(["report", str(result), "--pdf", str(tmp_path / "r.pdf")]) == 2
    assert "not an executable file" in capsys.readouterr().err
    monkeypatch.delenv("FACECUE_CHROMIUM")
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser anywhere on PATH
    with pytest.raises(Exception, match="install the 'chromium' package"):
        find_chromium()


def test_words_against_face_says_the_face_number_is_relative_to_the_baseline():
    """QA: the column was captioned "(−1 … +1)" and showed "Face -1.36": it is valence minus the baseline's, −2 … +2."""
    html = render_report(result_with_interview())
    section = re.search(r'<section id="mismatch">.*?</section>', html, re.S).group(0)
    assert "measured from this person's baseline" in section and "runs −2 … +2" in section
    assert '<th scope="col" class="num">Face vs baseline</th>' in section
    assert "(−1 … +1), and how much" not in section


def test_behaviour_highlight_cards_say_their_kind_in_words():
    """QA: a behaviour highlight card showed the raw key "out_of_frame" beside "Sustained shift", "Change", "Peak"."""
    from facecue.report.interview import highlights_section

    kinds = ["out_of_frame", "looking_away", "smile", "hand_near_face", "shift"]
    interview = {"highlights": [{"time_s": 4.0 * n, "kind": k, "reason": "r"} for n, k in enumerate(kinds)]}
    heads = re.findall(r'<p class="hl-head">.*?· ([^<]+)</p>', highlights_section(interview, blur=False))
    assert heads == ["Out of frame", "Looking away", "Smile", "Hand near face", "Sustained shift"]
