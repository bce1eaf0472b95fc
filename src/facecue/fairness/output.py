"""Writing an audit: fairness.json (every number), fairness.csv (one row per image) and fairness.html."""

from __future__ import annotations

import json
import os
from pathlib import Path

from facecue.errors import OutputError
from facecue.fairness.html import render_fairness_html
from facecue.fairness.records import ImageRecords
from facecue.outputs import check_writable


def write_audit(records: ImageRecords, doc: dict, out_dir: Path) -> dict[str, Path]:
    """Write the three files beside temporary names, then rename, so a reader never sees half a file."""
    out_dir = Path(out_dir)
    check_writable(out_dir)
    paths = {"json": out_dir / "fairness.json", "csv": out_dir / "fairness.csv", "html": out_dir / "fairness.html"}
    try:
        for kind, path in paths.items():
            tmp = path.with_name(f".{path.name}.tmp")
            if kind == "csv":
                records.write_csv(tmp)
            else:
                text = json.dumps(doc, indent=1, ensure_ascii=False) if kind == "json" else render_fairness_html(doc)
                tmp.write_text(text + ("\n" if kind == "json" else ""), encoding="utf-8")
            os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write the fairness audit to {out_dir}: {exc.strerror or exc}.") from None
    return paths
