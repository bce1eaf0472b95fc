"""The report in a real headless Chromium: bands, hover values, highlight pictures, links, PDF, no CSP errors.

Skipped where Debian's chromium package or the playwright package is missing.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from facecue.report import write_report
from tests.report.interview_doc import result_with_interview

CHROMIUM = os.environ.get("FACECUE_TEST_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists():
    CHROMIUM = shutil.which("chromium") or ""
if not CHROMIUM:
    pytest.skip("no Chromium (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install -e '.[test]')"
)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def open_report(browser, path: Path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(path.as_uri())
    return page, problems


def hover_time(page, t: float) -> None:
    """Move the pointer over the timeline at time t (seconds)."""
    svg = page.locator("#timeline")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    left, width, t_end = (float(svg.get_attribute(a)) for a in ("data-left", "data-width", "data-t-end"))
    view_w = page.evaluate("document.getElementById('timeline').viewBox.baseVal.width")
    x = (left + t / t_end * width) * box["width"] / view_w
    page.mouse.move(box["x"] + x, box["y"] + 80)


def test_report_dom_bands_hover_and_thumbnails(browser, tmp_path):
    path = write_report(result_with_interview(), tmp_path / "report.html")
    page, problems = open_report(browser, path)

    bands = page.locator("#timeline .q-band")
    assert bands.count() == 3
    assert [bands.nth(i).locator(".q-label").text_content() for i in range(3)] == ["Q1", "Q2", "Q3"]
    assert page.locator("#timeline .marker").count() == 3

    tip = page.locator("#timeline-tip")
    assert tip.is_hidden()
    hover_time(page, 3.4)  # inside Q2, a usable frame with the known HAPPY probabilities
    assert tip.is_visible()
    text = tip.inner_text()
    assert "0:03.4" in text and "Q2 · Why this role? <script>alert(1)</script>" in text  # shown as text, not run
    assert page.locator(".tip-top").inner_text().replace("\n", "").replace(" ", "") == "happy60%"
    assert page.locator("#timeline .crosshair").get_attribute("visibility") == "visible"
    hover_time(page, 3.0)
    assert "Highlight 2 at 0:03.0" in tip.inner_text()
    hover_time(page, 2.4)  # frames 10-15 are absent
    assert "Face absent" in tip.inner_text()

    thumbs = page.locator("img.thumb")
    assert thumbs.count() == 2
    sizes = page.evaluate("[...document.querySelectorAll('img.thumb')].map(i => [i.complete, i.naturalWidth])")
    assert sizes == [[True, 120], [True, 120]]  # decoded from their data URIs despite the strict CSP

    page.locator("#timeline .marker circle").nth(0).click()  # the numbered disc is what a reader clicks
    assert page.evaluate("location.hash") == "#highlight-1"
    page.locator("#timeline .q-band").nth(2).click()
    assert page.evaluate("location.hash") == "#q-3"
    assert page.locator("#q-3").evaluate("el => getComputedStyle(el).outlineStyle") == "solid"  # :target shown
    assert problems == []  # no script errors, no Content-Security-Policy violations
    page.close()


def test_keyboard_reads_values_too(browser, tmp_path):
    path = write_report(result_with_interview(), tmp_path / "report.html")
    page, problems = open_report(browser, path)
    page.locator("#timeline").focus()
    page.keyboard.press("ArrowRight")
    assert (
        page.locator("#timeline-tip").is_visible()
        and "Q1 · Tell me about yourself." in page.locator("#timeline-tip").inner_text()
    )
    page.keyboard.press("Escape")
    assert page.locator("#timeline-tip").is_hidden() and problems == []
    page.close()


def test_pdf_export_prints_every_section(tmp_path):
    from facecue.cli import main

    result = tmp_path / "result.json"
    result.write_text(json.dumps(result_with_interview()))
    assert main(["report", str(result), "--pdf", str(tmp_path / "report.pdf")]) == 0
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages >= 3  # summary, timeline, cards, highlights, panels and limits do not fit on fewer A4 pages
    assert pdf.count(b"/Subtype /Image") >= 2  # the two highlight pictures made it into the print
    # A4 (595 x 842 pt) as documented, not Chromium's default US Letter (612 x 792)
    import re

    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf))
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1 for w, h in boxes), boxes


def test_report_of_a_real_analysis_with_questions(browser, tmp_path, model_files, practice_args):
    """End to end: the sample video (speech-like audio) analysed with a question timeline, read in Chromium."""
    from facecue.cli import main
    from facecue.io.sample import make_sample_video

    video = make_sample_video(tmp_path / "sample.mp4", seconds=8, size=(640, 360))
    questions = tmp_path / "questions.json"
    questions.write_text(
        json.dumps(
            [{"start": 0, "end": 4, "text": "First question"}, {"start": 4, "end": 8, "text": "Second question"}]
        )
    )
    assert (
        main(
            [
                "analyze",
                str(video),
                "-o",
                str(tmp_path / "out"),
                "--questions",
                str(questions),
                "--quiet",
                *practice_args,
            ]
        )
        == 0
    )
    interview = json.loads((tmp_path / "out" / "result.json").read_text())["interview"]
    page, problems = open_report(browser, tmp_path / "out" / "report.html")
    assert [page.locator("#timeline .q-label").nth(i).text_content() for i in range(2)] == ["Q1", "Q2"]
    assert page.locator("#timeline .marker").count() == len(interview["highlights"]) > 0
    loaded = page.evaluate("[...document.querySelectorAll('img.thumb')].map(i => i.complete && i.naturalWidth > 0)")
    assert loaded == [h["thumbnail"] is not None for h in interview["highlights"]] and all(loaded)
    pitch = page.locator("#voice tbody tr").nth(0).locator("td").nth(0).inner_text()
    assert 100 < float(pitch) < 200  # the sample's synthetic voice glides between 100 and 200 Hz
    assert problems == []
    page.close()


def test_the_hover_clock_rounds_over_the_minute(browser, tmp_path):
    """report.js's clock() as the page runs it: 9.97 s showed "0:010.0" and 59.97 s "0:60.0"."""
    import re

    source = (Path(__file__).parents[2] / "src/facecue/report/report.js").read_text()
    clock = re.search(r"function clock\(s\) \{.*?\n  \}", source, re.S)
    assert clock
    path = write_report(result_with_interview(), tmp_path / "report.html")
    page, problems = open_report(browser, path)
    shown = page.evaluate(f"(() => {{ {clock.group(0)}; return [3.4, 9.97, 59.97, 69.96, 600].map(clock); }})()")
    assert shown == ["0:03.4", "0:10.0", "1:00.0", "1:10.0", "10:00.0"] and problems == []
    page.close()
