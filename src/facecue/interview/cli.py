"""Command-line glue: the interview options of `facecue analyze` and the `facecue trends` command."""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
from concurrent.futures import Future
from pathlib import Path

from facecue.errors import FacecueError, OutputError


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


def load_interview_inputs(args):
    """Parse the question timeline and transcript before the video analysis, so mistakes show at once."""
    from facecue.interview.analysis import InterviewOptions, load_inputs

    options = InterviewOptions(
        window_s=args.window,
        candidate_speaker=args.candidate_speaker,
        blur_thumbnails=args.blur_thumbnails,
        voice=not args.no_voice,
    )
    inputs = load_inputs(args.questions, args.transcript, args.candidate_speaker)
    return inputs, options


def start_voice_measurement(args) -> Future | None:
    """Measure the voice track on a spare thread while the faces are analysed: the spans are known before the
    faces are, and decoding the audio a second time afterwards would cost several percent of the run."""
    from facecue.io.images import is_image_path

    if args.no_voice or not Path(args.input).is_file() or is_image_path(Path(args.input)):
        return None
    future: Future = Future()

    def measure() -> None:
        try:
            from facecue.interview.voice import measure_voice

            future.set_result(measure_voice(args.input))
        except BaseException as exc:  # handed to whoever reads the result
            future.set_exception(exc)

    threading.Thread(target=measure, name="facecue-voice", daemon=True).start()
    return future


def attach_interview(result, args, inputs, options, analyzer, subject_id: str | None, voice_track=None):
    """The Result with its interview section (video sources only; stills have no timeline to speak of)."""
    from facecue.interview.analysis import analyze_interview

    if result.source.get("kind") != "video":
        if args.questions or args.transcript:
            raise FacecueError("--questions and --transcript need a video input.")
        return result
    validation = analyzer.model.info.sidecar.get("validation")
    interview = analyze_interview(
        result, args.input, inputs, options, validation, subject_id, args.purpose, voice_track=voice_track
    )
    return dataclasses.replace(result, interview=interview)


def add_trends_parser(sub) -> None:
    t = sub.add_parser("trends", help="compare interviews of the same candidate (oldest first)")
    t.add_argument("results", nargs="+", help="result.json (or report.json) files, oldest interview first")
    t.add_argument("-o", "--out", help="folder (or .json file) for trends.json; default: print only")


def run_trends(args) -> int:
    from facecue.interview.trends import compare_interviews

    report = compare_interviews(args.results)
    for row in report["interviews"]:
        values = "  ".join(
            f"{k} {row[k]:.2f}" if row[k] is not None else f"{k} n/a"
            for k in ("expressivity", "engagement", "composure", "stress")
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
