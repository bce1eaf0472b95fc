"""Compare emotion models' fairness on the same faces: the audit's face stages run once (cached), then each
model classifies the crops and gets the audit's metrics. Prints, per model and grouping, the lowest impact
ratio of the two headline rates (angry read, stress cue) and the overall rates.

    python bench/fairness_models.py --images ../shared/data/fairface \
        --labels ../shared/data/fairface/labels.csv --models v1 v2 runs/x/model-int8.onnx

The numbers match `facecue fairness` (same functions, bootstrap included); this only saves the repeated
face detection when choosing between candidate models.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from facecue.emotion.model import EmotionModel
from facecue.fairness.audit import audit_faces, classify_crops, load_labels
from facecue.fairness.metrics import AuditSettings, fairness_metrics
from facecue.fairness.records import ImageRecords
from facecue.pipeline import Analyzer


def cached_faces(images: Path, labels: Path, group_cols: list[str], cache: Path):
    table = load_labels(images, labels, group_cols)
    key = hashlib.sha256(f"{table.sha256}{group_cols}".encode()).hexdigest()[:16]
    path = cache / f"fairness-faces-{key}.npz"
    if path.exists():
        saved = np.load(path, allow_pickle=True)
        return ImageRecords(**saved["records"].item()), saved["crops"], saved["rows"]
    records, crops, rows, _ = audit_faces(Analyzer(fps=None), table, images, progress=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, records=np.array(records.__dict__, dtype=object), crops=crops, rows=rows)
    return records, crops, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--labels", type=Path, required=True)
    parser.add_argument("--group-cols", default="race,gender")
    parser.add_argument("--models", nargs="+", default=["v1", "v2"])
    parser.add_argument("--cache", type=Path, default=Path("build"))
    parser.add_argument("--json", type=Path, help="also write the per-model summaries here")
    args = parser.parse_args()
    group_cols = args.group_cols.split(",")
    records, crops, rows = cached_faces(args.images, args.labels, group_cols, args.cache)
    print(f"{len(records)} images, {len(crops)} usable faces")
    summaries = {}
    for name in args.models:
        scored = classify_crops(records, crops, rows, EmotionModel.load(name))
        doc = fairness_metrics(scored, group_cols, AuditSettings())
        summary = {"overall": {}, "min_impact_ratio": {}}
        for grouping in group_cols:
            per_group = doc["groupings"][grouping]["groups"]
            for metric in ("angry_rate", "cue_rate"):
                ratios = [g["metrics"][metric]["impact_ratio"] for g in per_group.values()]
                summary["min_impact_ratio"][f"{grouping}.{metric}"] = min(r for r in ratios if r is not None)
        for metric in ("angry_rate", "cue_rate"):
            summary["overall"][metric] = float(doc["overall"]["metrics"][metric]["value"])
        summaries[name] = summary
        ratios = "  ".join(f"{k} {v:.2f}" for k, v in summary["min_impact_ratio"].items())
        rates = "  ".join(f"{k} {v:.3f}" for k, v in summary["overall"].items())
        print(f"{name:40s} {ratios}  |  {rates}")
    if args.json:
        args.json.write_text(json.dumps(summaries, indent=2))


if __name__ == "__main__":
    main()
