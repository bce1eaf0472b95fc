"""PDF export of the HTML report through headless Chromium's print-to-PDF.

Why Chromium rather than WeasyPrint: the report is checked in Chromium already (tests, screenshots), its
inline SVG charts and CSS grid print exactly as they look on screen, and the script that Chromium runs
before printing is the same one the reviewer sees. WeasyPrint has no JavaScript, lays out grid differently,
and would add a Python dependency with native libraries (Pango) for one command. Chromium is a system
package, looked up at run time; nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from facecue.errors import FacecueError, OutputError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120


def find_chromium() -> str:
    """The Chromium executable: $FACECUE_CHROMIUM, else the first of CANDIDATES on PATH."""
    configured = os.environ.get("FACECUE_CHROMIUM")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise FacecueError(f"FACECUE_CHROMIUM points to {configured}, which is not an executable file.")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise FacecueError(
        "PDF export needs Chromium, which was not found: install the 'chromium' package "
        "(apt-get install chromium) or set FACECUE_CHROMIUM to a Chrome or Chromium executable."
    )


def html_to_pdf(html: str, out: str | Path) -> Path:
    """Print an HTML page (the report) to `out` as A4 PDF; returns the path written."""
    out = Path(out)
    if not out.parent.is_dir():
        what = "is a file, not a folder" if out.parent.exists() else "does not exist"
        raise OutputError(f"cannot write {out}: {out.parent} {what}.")
    browser = find_chromium()
    with tempfile.TemporaryDirectory(prefix="facecue-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise FacecueError(f"Chromium did not finish printing the report within {TIMEOUT_S} s.") from None
        if not target.is_file() or target.stat().st_size == 0:
            detail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise FacecueError(f"Chromium could not print the report to PDF ({detail[0][:200]}).")
        try:
            shutil.copyfile(target, out)
        except OSError as exc:
            raise OutputError(f"cannot write {out}: {exc.strerror or exc}.") from None
    return out
