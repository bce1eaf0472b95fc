"""What the interview analysis and its report add to `facecue analyze` on a long interview.

One process, one clip, two ways, alternated: `facecue analyze` without interview inputs (the baseline:
pipeline, result.json, frames.csv, report.html), and as `facecue analyze --questions --transcript` runs
it — inputs parsed, the voice track measured on a spare thread during the face analysis, then the
interview section (per-question signals, cues, highlights with re-decoded thumbnails, the
verbal/non-verbal check, voice cues) and its outputs. The ratio is the difference / baseline.

The clip: make_sample_video (talking head with speech-like audio) for --base seconds, repeated by
packet copy (no re-encode) to --minutes, with a question every minute and a transcript line every
10 s. Usage: python bench/interview_overhead.py [--minutes 10] [--base 60] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PHRASES = [
    "I really enjoyed leading that project and the team was great.",
    "Honestly the deadline was awful and it was a stressful, painful month.",
    "We shipped on time, which I am proud of.",
    "I am not sure; I would need to check the numbers.",
]


def repeat_with_audio(src: Path, dst: Path, times: int) -> Path:
    """The clip played `times` times in a row, video and audio packets copied with shifted timestamps."""
    import av

    if dst.exists():
        return dst
    tmp = dst.with_name(f".{dst.name}.part")  # an interrupted run must not leave a short clip behind
    with av.open(str(src)) as inp, av.open(str(tmp), "w", format="mp4") as out:
        streams = [inp.streams.video[0], *inp.streams.audio[:1]]
        outs = {s.index: out.add_stream_from_template(s) for s in streams}
        span: dict[int, int] = {}  # each stream's own length in its time base (first pass)
        last_dts: dict[int, int] = {}  # muxers need strictly increasing dts per stream
        for k in range(times):
            inp.seek(0)
            ends: dict[int, int] = {}
            for packet in inp.demux(*streams):
                if packet.dts is None:
                    continue
                i = packet.stream.index
                ends[i] = max(ends.get(i, 0), packet.pts + (packet.duration or 0))
                shift = k * span.get(i, 0)
                packet.pts += shift
                packet.dts += shift
                if packet.dts <= last_dts.get(i, -(1 << 62)):
                    continue
                last_dts[i] = packet.dts
                packet.stream = outs[i]
                out.mux(packet)
            span = span or ends
    tmp.replace(dst)
    return dst


def stamp(s: float) -> str:
    return f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{s % 60:06.3f}"


def write_inputs(folder: Path, seconds: float) -> tuple[Path, Path]:
    questions = [
        {"start": m * 60.0, "end": max(m * 60.0 + 1, min(seconds, (m + 1) * 60.0)), "text": f"Question {m + 1}"}
        for m in range(max(1, round(seconds / 60)))
    ]
    (folder / "q.json").write_text(json.dumps(questions))
    lines, n = ["WEBVTT", ""], 0
    t = 1.0
    while t + 8 < seconds:
        lines += [f"{stamp(t)} --> {stamp(t + 7.5)}", f"<v Candidate>{PHRASES[n % len(PHRASES)]}", ""]
        t += 10
        n += 1
    (folder / "t.vtt").write_text("\n".join(lines))
    return folder / "q.json", folder / "t.vtt"


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--base", type=float, default=60.0, help="seconds of generated video that get repeated")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--work", default=str(ROOT / "build" / "bench"))
    parser.add_argument("--repeat", type=int, default=2, help="alternated runs of each; the best is kept")
    args = parser.parse_args()

    from facecue.interview.analysis import InterviewOptions, analyze_interview, load_inputs
    from facecue.interview.cli import start_voice_measurement
    from facecue.io.sample import make_sample_video
    from facecue.outputs import write_outputs
    from facecue.pipeline import Analyzer

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.split("x"))
    base = work / f"interview_base_{args.base:g}s_{args.size}.mp4"
    if not base.exists():
        make_sample_video(base, seconds=args.base, fps=30, size=(width, height))
    clip = repeat_with_audio(
        base, work / f"interview_{args.minutes:g}min_{args.size}.mp4", max(1, round(args.minutes * 60 / args.base))
    )

    analyzer = Analyzer()  # model loading is not part of either time
    from batch_tools import practice_args

    # Every analysis of a person states why and where, benchmarks included.
    policy = dict(zip(("purpose", "jurisdiction", "consent"), practice_args(work)[1::2], strict=True))
    started = time.perf_counter()  # nor are one-off imports (scipy for voice, VADER's lexicon): reported apart
    import facecue.interview.voice  # noqa: F401
    from facecue.interview.mismatch import sentiment

    sentiment("warm up")
    t_imports = time.perf_counter() - started
    validation = analyzer.model.info.sidecar.validation
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        q, t = write_inputs(tmp, args.minutes * 60)

        def plain() -> float:
            started = time.perf_counter()
            write_outputs(analyzer.analyze(clip, **policy), tmp / "plain")
            return time.perf_counter() - started

        def full() -> tuple[float, dict, dict]:
            # As `facecue analyze --questions --transcript` does it: inputs parsed first, the voice track
            # measured on a spare thread while the faces are analysed, then the interview section.
            started = time.perf_counter()
            inputs = load_inputs(q, t)
            voice = start_voice_measurement(argparse.Namespace(no_voice=False, input=str(clip)))
            result = analyzer.analyze(clip, **policy)
            after_faces = time.perf_counter()
            interview = analyze_interview(result, clip, inputs, InterviewOptions(), validation, voice_track=voice)
            write_outputs(dataclasses.replace(result, interview=interview), tmp / "full")
            done = time.perf_counter()
            split = {"faces": after_faces - started, "interview + writing": done - after_faces}
            return done - started, interview, split

        # Alternate the two so load changes on this shared machine hit both alike; keep each one's best.
        baseline, extended, parts = [], [], None
        for _ in range(args.repeat):
            baseline.append(plain())
            seconds, interview, split = full()
            extended.append(seconds)
            parts = split if seconds == min(extended) else parts

    best_plain, best_full = min(baseline), min(extended)
    extra = best_full - best_plain
    print(f"clip: {args.minutes:g} min, {args.size}; runs alternated {args.repeat}x, best of each kept")
    print(
        f"facecue analyze without interview (pipeline + result.json, frames.csv, report.html): {best_plain:.2f} s "
        f"(all runs: {', '.join(f'{v:.1f}' for v in baseline)})"
    )
    print(
        f"with questions, transcript, voice, highlights and report.json: {best_full:.2f} s "
        f"(all runs: {', '.join(f'{v:.1f}' for v in extended)}; faces incl. the concurrent voice thread "
        f"{parts['faces']:.2f} s, interview section + writing {parts['interview + writing']:.2f} s)"
    )
    print(f"one-off per process (not in either): voice module and VADER lexicon load {t_imports * 1000:.0f} ms")
    print(
        f"interview analysis + report: {extra:+.2f} s = {extra / best_plain:+.2%} of facecue analyze (target < 5%): "
        f"{len(interview['spans'])} questions, {len(interview['highlights'])} highlights, "
        f"{interview['mismatch']['checked']} utterances checked, voice {interview['voice_available']}"
    )


if __name__ == "__main__":
    main()
