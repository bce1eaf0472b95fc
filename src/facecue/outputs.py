"""Writing an analysis to disk: result.json, frames.csv and report.html, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from facecue.errors import OutputError
from facecue.result import Result


def check_writable(out_dir: Path) -> None:
    """Fail before the (long) analysis, not after it, when the output folder cannot be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".facecue-write-test"):
            pass
    except OSError as exc:
        raise OutputError(f"cannot write to the output folder {out_dir}: {exc.strerror or exc}.") from None


def _write_atomic(path: Path, text: str) -> None:
    """Write beside the target then rename, so an earlier good file is never left half-overwritten."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(
    result: Result, out_dir: Path, subject_id: str | None = None, also_written: tuple[str, ...] = ()
) -> dict[str, Path]:
    """Write the outputs; with the analysed person's subject id (from their consent record), also a manifest
    naming every file written (and `also_written`, files the caller adds to the folder), so `facecue erase` finds
    and deletes all of them (docs/RESPONSIBLE_USE.md)."""
    from facecue.governance.erase import FILES_MANIFEST_NAME, write_files_manifest
    from facecue.report.html import render_report

    out_dir = Path(out_dir)
    check_writable(out_dir)
    paths = {"json": out_dir / "result.json", "csv": out_dir / "frames.csv", "html": out_dir / "report.html"}
    if result.interview is not None:
        paths["report"] = out_dir / "report.json"
    data = result.to_dict()
    try:
        if subject_id is not None:  # first: an output written without its manifest could not be erased
            names = [p.name for p in paths.values()] + list(also_written)
            paths["subject"] = write_files_manifest(out_dir, subject_id, names)
        else:  # an earlier run's manifest would claim these new files for its subject, and erase them with it
            (out_dir / FILES_MANIFEST_NAME).unlink(missing_ok=True)
        _write_atomic(paths["json"], result.to_json(indent=1))
        tmp_csv = out_dir / ".frames.csv.tmp"
        result.write_csv(tmp_csv)
        os.replace(tmp_csv, paths["csv"])
        _write_atomic(paths["html"], render_report(data))
        if result.interview is not None:  # the interview section alone, for other tools (docs/SIGNALS.md)
            _write_atomic(paths["report"], json.dumps(result.interview, indent=1, allow_nan=False))
        else:  # an earlier analysis's interview section would sit beside this result as if it were its own
            (out_dir / "report.json").unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write the outputs to {out_dir}: {exc.strerror or exc}.") from None
    return paths
