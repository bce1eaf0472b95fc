"""How emotion models read real speech: the talking-face clips and the CREMA-D sample.

FER2013 is still photos; an interview is a person talking. This runs the pipeline's face stages (detector, mesh,
quality gate, alignment) over every clip once, keeps the candidate's usable aligned faces, and reads them with
each model asked for. Per clip it prints the expected label, each model's dominant reading (the argmax of the
mean of the per-face probabilities; summary.dominant takes it over the smoothed timeline) and that mean;
then the totals the model issue sets:

- calm speech: labelled clips whose dominant reading is one of the expected labels, and clips (the unlabelled
  one included) whose dominant reading is angry, fear or surprise, which must be none;
- expressive: labelled clips whose dominant reading is one of the expected labels;
- CREMA-D: clips whose dominant reading is the acted label, and the crowd's face-only vote.

Labels are weak (by eye, clip level; see the data folders' READMEs): single clips are anecdotes.
The clips are analysed for model research: purpose research, under a consent record made for the run.

Usage: python bench/talking_faces.py --data ../shared/data [--models default v1 runs/v2/model-int8.onnx]
       [--fps 5] [--cache build/talking-faces.npz] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from facecue.emotion.model import EmotionModel
from facecue.governance import ConsentRecord, render_notice
from facecue.labels import EMOTIONS
from facecue.options import AnalyzeOptions
from facecue.pipeline import Analyzer

CALM_WRONG = {"angry", "fear", "surprise"}


def research_consent() -> ConsentRecord:
    notice = render_notice("research", "OTHER", "facecue model evaluation")
    return ConsentRecord.for_notice(notice, "talking-face-clips")


def candidate_faces(analyzer: Analyzer, path: Path, consent: ConsentRecord) -> np.ndarray:
    """(N, 48, 48) uint8: the usable aligned faces of the face seen most often in the clip."""
    frames = analyzer.frames(path)
    faces_by_id: dict[int, list[np.ndarray]] = {}
    for _frame, faces, ids, _probs in analyzer.stream(
        frames, purpose="research", jurisdiction="OTHER", consent=consent
    ):
        for i, face_id in enumerate(ids.tolist()):
            if not faces.abstain[i]:
                faces_by_id.setdefault(face_id, []).append(faces.aligned[i])
    if not faces_by_id:
        return np.zeros((0, 48, 48), np.uint8)
    return np.stack(max(faces_by_id.values(), key=len))


def read_clips(data: Path) -> list[dict]:
    clips = []
    with (data / "talking" / "labels.csv").open() as handle:
        for row in csv.DictReader(handle):
            clips.append(
                {
                    "set": "talking",
                    "group": row["group"],
                    "path": data / "talking" / row["file"],
                    "expected": [e for e in row["expected"].split("|") if e],
                    "crowd": "",
                }
            )
    cremad = data / "cremad" / "labels.csv"
    if cremad.is_file():
        with cremad.open() as handle:
            for row in csv.DictReader(handle):
                clips.append(
                    {
                        "set": "cremad",
                        "group": "acted",
                        "path": data / "cremad" / row["file"],
                        "expected": [row["label"]],
                        "crowd": row["crowd_face_only_vote"],
                    }
                )
    return clips


def load_faces(clips: list[dict], cache: Path, fps: float) -> dict[str, np.ndarray]:
    """The candidate's aligned faces per clip, from the cache when it was made at the same fps."""
    if cache.is_file():
        stored = np.load(cache)
        if float(stored["fps"]) == fps and all(c["path"].name in stored.files for c in clips):
            return {c["path"].name: stored[c["path"].name] for c in clips}
    analyzer = Analyzer(AnalyzeOptions(fps=fps, progress=False))
    consent = research_consent()
    faces = {c["path"].name: candidate_faces(analyzer, c["path"], consent) for c in clips}
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(cache, fps=fps, **faces)
    return faces


def evaluate(model: EmotionModel, clips: list[dict], faces: dict[str, np.ndarray]) -> dict:
    rows = []
    for clip in clips:
        crops = faces[clip["path"].name]
        mean = model.predict(crops).mean(0) if len(crops) else np.full(len(EMOTIONS), np.nan)
        dominant = EMOTIONS[int(np.nanargmax(mean))] if len(crops) else None
        rows.append(
            {
                "clip": clip["path"].name,
                "set": clip["set"],
                "group": clip["group"],
                "expected": "|".join(clip["expected"]),
                "crowd": clip["crowd"],
                "faces": len(crops),
                "dominant": dominant,
                "agrees": dominant in clip["expected"] if clip["expected"] else None,
                "mean": {e: round(float(v), 3) for e, v in zip(EMOTIONS, mean, strict=False)},
            }
        )

    def of(group: str) -> list[dict]:
        return [r for r in rows if r["group"] == group]

    calm, expressive, acted = of("calm_speech"), of("expressive"), of("acted")
    totals = {
        "calm_agree": sum(bool(r["agrees"]) for r in calm if r["expected"]),
        "calm_labelled": sum(1 for r in calm if r["expected"]),
        "calm_read_angry_fear_surprise": [r["clip"] for r in calm if r["dominant"] in CALM_WRONG],
        "expressive_agree": sum(bool(r["agrees"]) for r in expressive if r["expected"]),
        "expressive_labelled": sum(1 for r in expressive if r["expected"]),
        "cremad_agree": sum(bool(r["agrees"]) for r in acted),
        "cremad_agree_crowd": sum(r["dominant"] == r["crowd"] for r in acted),
        "cremad": len(acted),
        "calm_mean_neutral": round(float(np.mean([r["mean"]["neutral"] for r in calm])), 3) if calm else None,
        "calm_mean_angry": round(float(np.mean([r["mean"]["angry"] for r in calm])), 3) if calm else None,
    }
    return {"model": model.info.name, "version": model.info.version, "rows": rows, "totals": totals}


def print_report(name: str, report: dict) -> None:
    print(f"\n== {name} ({report['model']} {report['version']})")
    print(
        f"{'clip':30s} {'group':12s} {'expected':16s} {'dominant':9s} ok  " + " ".join(f"{e[:5]:>5s}" for e in EMOTIONS)
    )
    for r in report["rows"]:
        ok = "" if r["agrees"] is None else ("yes" if r["agrees"] else "NO")
        print(
            f"{r['clip'][:30]:30s} {r['group']:12s} {r['expected'][:16]:16s} {r['dominant']!s:9s} {ok:3s} "
            + " ".join(f"{r['mean'][e]:5.2f}" for e in EMOTIONS)
        )
    t = report["totals"]
    print(
        f"calm speech: {t['calm_agree']}/{t['calm_labelled']} read as expected; read angry/fear/surprise: "
        f"{len(t['calm_read_angry_fear_surprise'])} {t['calm_read_angry_fear_surprise']}; mean neutral "
        f"{t['calm_mean_neutral']}, mean angry {t['calm_mean_angry']}"
    )
    print(
        f"expressive: {t['expressive_agree']}/{t['expressive_labelled']} agree; CREMA-D: {t['cremad_agree']}/"
        f"{t['cremad']} acted label, {t['cremad_agree_crowd']}/{t['cremad']} crowd face-only vote"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder holding talking/ (and cremad/)")
    parser.add_argument("--models", nargs="+", default=["default"], help="packaged names or .onnx paths")
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--cache", default="build/talking-faces.npz", help="aligned faces, reused across runs")
    parser.add_argument("--json", help="also write every reading to this JSON file")
    args = parser.parse_args()
    clips = read_clips(Path(args.data))
    faces = load_faces(clips, Path(args.cache), args.fps)
    reports = {}
    for name in args.models:
        reports[name] = evaluate(EmotionModel.load(name), clips, faces)
        print_report(name, reports[name])
    if args.json:
        Path(args.json).write_text(json.dumps(reports, indent=1))


if __name__ == "__main__":
    main()
