"""Fairness audit: how detection, abstention and predicted expressions differ across groups of people.

`run_audit(images, labels, group_cols) -> (ImageRecords, report dict)`, `fairness_metrics(records, group_cols)`
for records made elsewhere, `write_audit(records, doc, out_dir)` for fairness.json/.csv/.html, and
`facecue.fairness.cli` (`add_parser`, `run`) for the `facecue fairness` command.
"""

from importlib import import_module

_EXPORTS = {
    "run_audit": "audit",
    "load_labels": "audit",
    "AuditSettings": "metrics",
    "fairness_metrics": "metrics",
    "write_audit": "output",
    "ImageRecords": "records",
    "stress_cue": "records",
}
__all__ = [
    "AuditSettings",
    "ImageRecords",
    "fairness_metrics",
    "load_labels",
    "run_audit",
    "stress_cue",
    "write_audit",
]


def __getattr__(name: str):
    # Imported on first use, so that wiring the CLI (facecue.fairness.cli) keeps `facecue --help` light.
    if name in _EXPORTS:
        return getattr(import_module(f"facecue.fairness.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'facecue.fairness' has no attribute {name!r}")
