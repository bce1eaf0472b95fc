"""`facecue report RESULT.json -o report.html --pdf report.pdf`: re-render a saved analysis, optionally as PDF."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facecue.errors import FacecueError, InputError
from facecue.report.html import render_report, write_report


def add_parser(sub) -> None:
    r = sub.add_parser("report", help="render result.json as the HTML report and/or a PDF (needs Chromium)")
    r.add_argument("result", help="result.json written by facecue analyze")
    r.add_argument("-o", "--out", help="HTML report to write")
    r.add_argument("--pdf", help="PDF to write, printed by headless Chromium")
    r.add_argument("--blur-thumbnails", action="store_true", help="blur the highlight pictures for privacy")


def load_result(path: str | Path) -> dict:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} cannot be read ({getattr(exc, 'strerror', None) or exc}).") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path} is not a facecue result (expected a JSON object).")
    if str(doc.get("schema", "")).startswith("facecue.interview/"):
        raise InputError(
            f"{path} is the interview report.json; pass the result.json beside it, which also holds the timeline."
        )
    return doc


def run(args: argparse.Namespace) -> int:
    if not args.out and not args.pdf:
        raise FacecueError("nothing to write: give -o REPORT.html and/or --pdf REPORT.pdf.")
    for target in (args.out, args.pdf):
        if target and Path(target).resolve() == Path(args.result).resolve():
            raise InputError(f"{target} is the result being read; write the report to another file.")
    doc = load_result(args.result)
    if args.out:
        print(f"wrote {write_report(doc, args.out, args.blur_thumbnails)}")
    if args.pdf:
        from facecue.report.pdf import html_to_pdf

        print(f"wrote {html_to_pdf(render_report(doc, args.blur_thumbnails), args.pdf)}")
    return 0
