"""Which rows of a group-labelled data set training may use (`fit`) and which stay for the audit (`audit`).

A model trained for group parity (facecue train --parity-labels) sees only the fit rows; its audit
(facecue fairness --split audit) only the others. The split is a stable hash of the file name.
"""

from __future__ import annotations

import hashlib

FIT_SHARE = 0.4  # of the rows; the other 60% stay for the audit
SPLITS = ("fit", "audit")


def split_of(name: str) -> str:
    """'fit' or 'audit' for a row's file name: the same answer on every machine and every run."""
    fraction = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") / 2**64
    return "fit" if fraction < FIT_SHARE else "audit"
