"""Which rows of a group-labelled data set training may use (`fit`) and which stay for the audit (`audit`).

A model trained for group parity (facecue train --parity-labels) sees only the fit rows; its audit
(facecue fairness --split audit) only the others. The split is a stable hash of the file name. The model's sidecar
also lists the fit images by content (`image_fingerprint`), so no copy, subset or renaming of the data can audit
it on faces it trained on.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

FIT_SHARE = 0.4  # of the rows; the other 60% stay for the audit
SPLITS = ("fit", "audit")


def split_of(name: str) -> str:
    """'fit' or 'audit' for a row's file name: the same answer on every machine and every run."""
    fraction = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") / 2**64
    return "fit" if fraction < FIT_SHARE else "audit"


def image_fingerprint(path: Path) -> str:
    """The first 16 hex digits of an image file's sha256: the same image under any name or in any folder."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
