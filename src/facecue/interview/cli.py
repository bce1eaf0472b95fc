"""Command-line glue: the interview options of `facecue analyze` and the `facecue trends` command."""

from __future__ import annotations

import argparse
import json
from concurrent.futures import Future
from pathlib import Path

from facecue.errors import InputError, OutputError


def add_analyze_options(a: argparse.ArgumentParser) -> None:
    a.add_argument("--questions", help="question timeline: JSON [{start, end, text}] or CSV start,end,question")
    a.add_argument("--transcript", help="transcript of the interview: WebVTT (.vtt) or SubRip (.srt)")
    a.add_argument(
        "--candidate-speaker",
        metavar="NAME",
        help="transcript speaker who is the candidate (default: the speaker with the most speech)",
    )
    a.add_argument(
        "--window",
        type=float,
        default=30.0,
        help="seconds per analysed part when there is no question timeline (default 30)",
    )
    a.add_argument("--blur-thumbnails", action="store_true", help="blur the highlight thumbnails for privacy")
    a.add_argument(
        "--no-voice",
        action="store_true",
        help="skip the voice cues (decoding the audio track is most of the interview analysis' cost)",
    )


def interview_request(args, subject_id: str | None):
    """The interview inputs of `facecue analyze`, parsed before the video analysis so mistakes show at once."""
    from facecue.interview.analysis import InterviewOptions
    from facecue.interview.request import InterviewRequest

    options = InterviewOptions(
        window_s=args.window,
        candidate_speaker=args.candidate_speaker,
        blur_thumbnails=args.blur_thumbnails,
        voice=not args.no_voice,
    )
    return InterviewRequest.load(
        args.input,
        args.questions,
        args.transcript,
        options,
        subject_id=subject_id,
        purpose=args.purpose,
        behaviour_parts=True,
    )


def start_voice_measurement(args) -> Future | None:
    """The voice track measured on a spare thread while the faces are analysed (see request.voice_future)."""
    from facecue.interview.request import voice_future
    from facecue.io.images import is_image_path

    if args.no_voice or not Path(args.input).is_file() or is_image_path(Path(args.input)):
        return None
    return voice_future(args.input)


def add_trends_parser(sub) -> None:
    t = sub.add_parser("trends", help="compare interviews of the same candidate (oldest first)")
    t.add_argument("results", nargs="+", help="result.json (or report.json) files, oldest interview first")
    t.add_argument("-o", "--out", help="folder (or .json file) for trends.json; default: print only")


def run_trends(args) -> int:
    from facecue.interview.trends import compare_interviews

    if args.out:
        out = Path(args.out)
        target = (out if out.suffix == ".json" else out / "trends.json").resolve()
        if any(Path(r).resolve() == target for r in args.results):
            raise InputError(f"{target} is one of the results being compared; write the trends to another file.")
    report = compare_interviews(args.results)
    for row in report["interviews"]:
        values = "  ".join(
            f"{k} {row[k]:.2f}" if row[k] is not None else f"{k} n/a"
            for k in ("expressivity", "engagement", "composure", "discomfort")
        )
        print(f"{row['path']}: {values}" + ("" if row["compared"] else "  (too little readable face)"))
    for trend in report["trends"].values():
        print(trend["text"])
    for caveat in report["caveats"]:
        print(f"note: {caveat}")
    if args.out:
        out = Path(args.out)
        path = out if out.suffix == ".json" else out / "trends.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=1), encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}.") from None
        print(f"wrote {path}")
    return 0
