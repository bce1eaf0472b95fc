"""What the product writes about the talking-face clips: issue #14's "done when", and the same reading for the
expressive clips.

Runs `facecue analyze` (the CLI a user runs, candidate-practice purpose) on every calm-speech clip of
../shared/data/talking with a transcript of positive words ("I am really excited and happy to be here ...")
said again every 4 s to the end of the clip, then reads what the outputs say:

- feedback: any sentence of the candidate feedback (whole interview and each part) naming anger, fear,
  surprise or tension;
- stress cue: its level for the whole interview ("not measured" without a baseline);
- mismatch: utterances flagged as words against face (a calm face under positive words must not be);
- highlights: highlight reasons naming those expressions;
- dominant: the summary's dominant reading, shown on the report's first screen.

A calm clip fails on a feedback sentence, a stress cue of "some" or "marked", or a flagged mismatch. The dominant
reading and highlights are listed beside them (they are model readings, not statements about the person).

Then the expressive clips labelled angry, disgust, fear or sad (no transcript): one fails when its feedback calls
the face calm, or when a highlight says the person smiled (a crying face once got "Smiled for 3 s"). Its smile
share is listed beside.

Usage: python bench/talking_reports.py --data ../shared/data [--model v2] [--out build/talking-reports]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import av

POSITIVE = "I am really excited and happy to be here, it is a wonderful day and I love this work."
NAMED = re.compile(r"\b(ang(ry|er)|afraid|fear\w*|surprise\w*|scared|tense|tension|stress\w*)\b", re.IGNORECASE)


def facecue(*args: str) -> None:
    cli = Path(sys.executable).with_name("facecue")
    subprocess.run([str(cli), *args], check=True, stdout=subprocess.DEVNULL)


NEGATIVE = {"angry", "disgust", "fear", "sad"}
CALM = re.compile(r"\bcalm\b", re.IGNORECASE)


def positive_transcript(clip: Path, every_s: float = 4.0) -> str:
    """The positive sentence said again every few seconds to the end of the clip: utterances the words-against-face
    check can read (one cue running past the video's end is skipped as mostly unreadable)."""
    with av.open(str(clip)) as container:
        duration = float(container.duration or 0) / 1e6
    cues, start = [], 0.0
    while start < duration - 1.0:
        end = min(start + every_s, duration)
        cues.append(f"{_stamp(start)} --> {_stamp(end)}\n{POSITIVE}\n")
        start = end
    return "WEBVTT\n\n" + "\n".join(cues)


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"00:{int(minutes):02d}:{rest:06.3f}"


def clips(data: Path, negative: bool = False) -> list[Path]:
    """The calm-speech clips, or (negative) the expressive clips whose every expected label is a negative one."""
    with (data / "talking" / "labels.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    if negative:
        keep = [
            r
            for r in rows
            if r["group"] == "expressive" and r["expected"] and set(r["expected"].split("|")) <= NEGATIVE
        ]
    else:
        keep = [r for r in rows if r["group"] == "calm_speech"]
    return [data / "talking" / r["file"] for r in keep]


def read_outputs(result: dict) -> dict:
    interview = result["interview"]
    feedback = [interview["overall"]["feedback"]] + [s["feedback"] for s in interview["spans"]]
    sentences = [s for text in feedback for s in re.split(r"(?<=[.!?])\s+", text) if NAMED.search(s)]
    stress = (interview["overall"].get("cues") or {}).get("stress") or {}
    flagged = [i["reason"] for i in (interview.get("mismatch") or {}).get("items", []) if i["status"] == "flagged"]
    highlights = [h["reason"] for h in interview.get("highlights", []) if NAMED.search(h["reason"])]
    return {
        "dominant": result["summary"]["dominant"],
        "baseline": bool(interview.get("baseline")),
        "feedback_naming": sentences,
        "stress_level": stress.get("level"),
        "mismatch_flagged": flagged,
        "mismatch_checked": (interview.get("mismatch") or {}).get("checked", 0),
        "highlights_naming": highlights,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", default="default")
    parser.add_argument("--out", type=Path, default=Path("build/talking-reports"))
    args = parser.parse_args()
    out = args.out / args.model.replace("/", "_")
    out.mkdir(parents=True, exist_ok=True)
    consent = out / "consent.json"
    policy = ["--purpose", "practice", "--jurisdiction", "FR"]
    consent.unlink(missing_ok=True)  # `consent record` never overwrites a file
    facecue(
        "consent", "record", *policy, "--controller", "facecue evaluation", "--subject", "clips", "-o", str(consent)
    )
    failures = checked = 0
    for clip in clips(args.data):
        folder = out / clip.stem
        transcript = out / f"{clip.stem}.vtt"
        transcript.write_text(positive_transcript(clip))
        inputs = ["--consent", str(consent), "--transcript", str(transcript), "--quiet"]
        facecue("analyze", str(clip), "-o", str(folder), "--model", args.model, *policy, *inputs)
        seen = read_outputs(json.loads((folder / "result.json").read_text()))
        failed = bool(seen["feedback_naming"] or seen["mismatch_flagged"] or seen["stress_level"] in ("some", "marked"))
        failures += failed
        checked += seen["mismatch_checked"]
        print(
            f"{clip.stem:22s} {'FAIL' if failed else 'ok  '} dominant {seen['dominant'] or '-':9s} "
            f"baseline {'yes' if seen['baseline'] else 'no ':3s} stress cue {seen['stress_level']!s:13s} "
            f"mismatch flagged {len(seen['mismatch_flagged'])} of {seen['mismatch_checked']} checked"
        )
        for kind in ("feedback_naming", "mismatch_flagged", "highlights_naming"):
            for text in seen[kind]:
                print(f"    {kind}: {text}")
    print(
        f"{failures} calm clip(s) described as angry, afraid, surprised or tense, or flagged as a mismatch "
        f"({checked} utterances checked against the face)"
    )
    failures = 0
    for clip in clips(args.data, negative=True):
        folder = out / clip.stem
        inputs = ["--consent", str(consent), "--quiet"]  # no transcript: only what the face showed
        facecue("analyze", str(clip), "-o", str(folder), "--model", args.model, *policy, *inputs)
        result = json.loads((folder / "result.json").read_text())
        interview = result["interview"]
        feedback = [interview["overall"]["feedback"]] + [s["feedback"] for s in interview["spans"]]
        calm = [s for text in feedback for s in re.split(r"(?<=[.!?])\s+", text) if CALM.search(s)]
        smiled = [h["reason"] for h in interview.get("highlights", []) if h["kind"] == "smile"]
        share = ((result["summary"].get("behaviour") or {}).get("smile_share") or {}).get("value")
        failed = bool(calm or smiled)
        failures += failed
        print(
            f"{clip.stem:22s} {'FAIL' if failed else 'ok  '} dominant {result['summary']['dominant'] or '-':9s} "
            f"smile share {'-' if share is None else f'{share:.0%}'}"
        )
        for text in calm + smiled:
            print(f"    {text}")
    print(f"{failures} angry, disgusted, afraid or sad clip(s) called calm or said to smile")


if __name__ == "__main__":
    main()
