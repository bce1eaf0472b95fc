"""The HTML report, checked on synthetic results whose numbers are known in advance."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import numpy as np
import pytest

from facecue.errors import InputError, OutputError
from facecue.io.source import SourceInfo
from facecue.labels import EMOTIONS
from facecue.options import AnalyzeOptions
from facecue.report import render_report, write_report
from facecue.report.series import ABSENT, ABSTAINED, USABLE, downsample, frame_status
from facecue.result import FaceRows, ModelRef, ModelsInfo, Result, Segment, Summary, Timeline, Track

HAPPY = np.array([0.02, 0.02, 0.02, 0.6, 0.02, 0.02, 0.3])  # sums to 1; happy dominates
NOTE = "<script>alert('x')</script> decoder warning"


def make_result(n: int = 40, absent=range(10, 16), abstained=range(20, 25), with_face: bool = True) -> dict:
    """n frames at 5 fps with a 1 s decode gap after frame 29 (5.8 s); the candidate absent at `absent`,
    abstained at `abstained`, usable elsewhere with the HAPPY probabilities."""
    times = np.arange(n) / 5.0
    times[30:] += 1.0
    present = np.full(n, with_face)
    present[list(absent)] = False
    usable = present.copy()
    usable[list(abstained)] = False
    probs = np.where(usable[:, None], HAPPY, np.nan)
    pos = np.nonzero(present)[0]
    m = len(pos)
    faces = FaceRows(
        pos,
        np.ones(m, np.int64),
        np.tile([10.0, 10, 50, 50], (m, 1)).astype(np.float32),
        np.full(m, 0.9, np.float32),
        np.full(m, 0.8, np.float32),
        tuple("" if usable[i] else "blur" for i in pos),
        np.zeros((m, 3), np.float32),
        probs[pos].astype(np.float32),
    )
    summary = {
        "frames_analysed": n,
        "face_presence": float(present.mean()),
        "abstained": float((present & ~usable).sum() / max(present.sum(), 1)),
        "abstain_reasons": {"blur": int((present & ~usable).sum())},
        "mean_probs": dict(zip(EMOTIONS, HAPPY.tolist(), strict=False)) if with_face else {},
        "dominant": "happy" if with_face else None,
        "other_people": [{"face_id": 2, "ranges": [[3.0, 5.0]]}] if with_face else [],
        "no_face": not with_face,
        "processing_s": 1.5,
        "realtime_factor": 0.19,
    }
    tracks = (Track(1, "candidate", m, ((0.0, 2.0), (3.2, n / 5.0))), Track(2, "other", 10, ((3.0, 5.0),)))
    result = Result(
        source=SourceInfo.from_dict(
            {"path": "/videos/<img src=x onerror=alert(1)>.mp4", "duration_s": n / 5.0 + 1, "sha256": "ab" * 32}
        ),
        models=ModelsInfo(emotion=ModelRef("facecue-emotion", "0.1.0")),
        options=AnalyzeOptions.from_dict({"fps": 5}),
        times=times,
        frame_index=np.arange(n) * 6,
        faces=faces,
        tracks=tracks if with_face else (),
        candidate_id=1 if with_face else None,
        timeline=Timeline(probs, probs, present, usable),
        segments=(Segment(0.0, 2.0, "happy", 0.6), Segment(3.2, 4.0, "happy", 0.6)) if with_face else (),
        summary=Summary.from_dict(summary),
        gaps=((6.0, 7.0),),
        notes=(NOTE,),
    )
    return result.to_dict()


def series_paths(html: str) -> dict[str, str]:
    return dict(re.findall(r'<path class="series" data-emotion="(\w+)"[^>]*\sd="([^"]*)"', html))


def chart_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>', html).group(1))


def test_summary_shows_dominant_presence_and_means():
    html = render_report(make_result())
    assert re.search(r'id="face-presence">85%<', html)  # 34 of 40 frames
    assert re.search(r'id="abstained">15%<', html)  # 5 of the 34 frames with a face
    assert re.search(r'id="dominant">.*?<strong>happy</strong>', html)
    assert re.search(r'data-emotion="happy">.*?<td class="num">60%</td>', html)
    assert "Observations of facial expression, not judgements of the person; a human decides." in html


def test_strings_from_the_result_are_escaped():
    html = render_report(make_result())
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; decoder warning" in html
    assert "<img" not in html and "<h1>&lt;img src=x onerror=alert(1)&gt;.mp4</h1>" in html
    assert len(re.findall(r"<script", html)) == 2  # the chart's JSON data block and the report's own script


def test_content_security_policy_allows_exactly_the_report_script():
    html = render_report(make_result())
    script = re.search(r"<script>(.*?)</script>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in html and "default-src 'none'" in html


def test_timeline_has_seven_series_broken_at_absent_and_abstained_frames():
    html = render_report(make_result())
    paths = series_paths(html)
    assert list(paths) == list(reversed(EMOTIONS))  # painted last label first, so each band shows its own share
    # usable runs: frames 0-9, 16-19, 25-29 and (after the decode gap) 30-39 -> four separate areas
    assert all(d.count("M") == 4 for d in paths.values())
    data = chart_data(html)
    assert data["s"][12] == ABSENT and data["s"][22] == ABSTAINED and data["s"][30] == USABLE
    assert data["p"][12] is None and data["p"][22] is None
    assert data["p"][30] == pytest.approx(HAPPY.tolist())


def test_presence_strip_and_notes_list_people_and_ranges():
    html = render_report(make_result())
    assert "Person #2 in view: 0:03.0–0:05.0" in html
    assert "<b>Face absent:</b> 0:02.0–0:03.2" in html
    assert "<b>Abstained:</b> 0:04.0–0:05.0" in html
    assert "model abstained on 15% of the frames where the face was found" in html
    assert "No frames could be decoded from 0:06.0–0:07.0 (1.0 s)." in html
    assert html.count('class="gap"') == 2  # marked on the timeline and on the presence strip


def test_downsampling_caps_the_points_and_averages_only_usable_frames():
    html = render_report(make_result(n=10_000, absent=range(5000, 5600), abstained=range(7000, 7300)))
    data = chart_data(html)
    assert len(data["t"]) <= 2000
    assert all(d.count("L") <= 2000 + 3 * d.count("M") for d in series_paths(html).values())
    assert data["p"][1100] is None  # frames 5500-5504: absent, stays a gap after bucketing

    times = np.arange(10) / 10.0
    probs = np.tile(HAPPY, (10, 1))
    probs[1] = np.eye(7)[0]  # the one usable frame that differs
    present = np.array([1, 1, 1, 0, 0, 0, 1, 1, 1, 1], bool)
    usable = present & (np.arange(10) < 8)
    points = downsample(times, probs, frame_status(present, usable, probs), max_points=5)
    assert len(points) == 5
    assert points.probs[0] == pytest.approx((HAPPY + np.eye(7)[0]) / 2)
    assert np.isnan(points.probs[2]).all() and points.status[2] == ABSENT  # frames 4-5: both absent
    assert points.status[4] == ABSTAINED and np.isnan(points.probs[4]).all()  # frames 8-9: seen, not read
    assert points.probs[3] == pytest.approx(HAPPY)  # frame 6 usable, frame 7 usable


def test_no_external_resources():
    html = render_report(make_result())
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*//""", html)
    assert "<link" not in html and "@import" not in html
    assert set(re.findall(r"url\(([^)]*)\)", html)) == {"#hatch"}


def test_result_without_faces_says_no_face_found():
    html = render_report(make_result(with_face=False, absent=range(40), abstained=()))
    assert "No face found" in html
    assert 'id="timeline"' not in html and "<path" not in html
    assert 'id="dominant">none<' in html and 'id="face-presence">0%<' in html
    # A cartoon's detections that the mesh rejected: no "0% of frames with the face" above their count.
    cartoon = make_result(with_face=False, absent=range(40), abstained=())
    cartoon["summary"].update(abstained=0.0, abstain_reasons={"face not visible": 11})
    html = render_report(cartoon)
    assert 'id="abstained">—</span> no frame showed the candidate' in html and "of frames with the face" not in html
    assert "faces found but not read: face not visible 11" in html


def test_missing_summary_keys_render_as_dashes():
    result = make_result()
    result["summary"] = {}
    html = render_report(result)
    assert 'id="face-presence">—<' in html and 'id="dominant">—<' in html
    assert len(series_paths(html)) == 7  # the chart comes from the timeline, not the summary


def test_write_report(tmp_path):
    path = write_report(make_result(), tmp_path / "report.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(OutputError):
        write_report(make_result(), tmp_path / "missing" / "report.html")


def test_rejects_a_document_that_is_not_a_result():
    with pytest.raises(InputError, match="schema"):
        render_report({"schema": "something/else"})
    with pytest.raises(InputError, match="missing key"):
        render_report({k: v for k, v in make_result().items() if k != "timeline"})


def test_a_stern_dominant_reading_says_whether_it_is_the_persons_usual_face():
    """A calm speaker whose resting face reads angry: the first screen says it is their usual reading (or that there
    is no baseline to tell), so a reviewer does not take it for a state; calm and smiling readings get no note."""
    doc = make_result()
    doc["summary"].update(dominant="angry", baseline={"dominant": "angry", "probs": {"angry": 0.5, "neutral": 0.5}})
    assert re.search(r"<strong>angry</strong> <span[^>]*>— also this person&#x27;s usual reading", render_report(doc))
    doc["summary"]["baseline"] = None
    assert "no baseline for this person (too little readable face)" in render_report(doc)
    doc["summary"].update(dominant="happy")
    assert re.search(r'id="dominant">.*?<strong>happy</strong></span>', render_report(doc))


def test_the_behaviour_table_says_what_each_figure_rests_on():
    """Time out of frame is a share of the analysed time ("64% of 7 s readable" read as if the face was there),
    and a share of under a second says so instead of "0 s"."""
    from facecue.report.behaviour import behaviour_section

    figures = {
        "out_of_frame": {"value": 0.64, "seconds": 6.4},
        "smile_share": {"value": 1.0, "seconds": 0.4},
        "parts": [{"label": "Q1", "start_s": 0, "end_s": 2, "out_of_frame": {"value": 0.8, "seconds": 2.0}}],
    }
    html = behaviour_section({"behaviour": figures})
    assert '64% <span class="reasons">of 6 s analysed</span>' in html
    assert '80% <span class="reasons">of 2 s analysed</span>' in html
    assert '100% <span class="reasons">of 0.4 s readable</span>' in html


def test_ranges_end_where_the_recording_ends():
    """The last frame covers one step, but not past the end: a 6.4 s clip showed "Face absent: 0:02.4–0:06.6"."""
    result = make_result(absent=range(30, 40), abstained=())
    result["source"]["duration_s"] = 8.9  # the last frame is at 8.8 s, one step is 0.2 s
    html = render_report(result)
    assert "<b>Face absent:</b> 0:07.0–0:08.9" in html
