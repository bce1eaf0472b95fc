"""One figure of summary.behaviour: `{value, seconds, ...}`, the shape every behaviour summary shares."""

from __future__ import annotations

from typing import Any

import numpy as np


def figure(value, seconds: float, **extra: Any) -> dict[str, Any]:
    """`value` (a count stays an int, a share or mean is rounded to 4 places; None when it cannot be given),
    `seconds` (the readable time it rests on), then `extra` keys in order (floats rounded to 2 places)."""
    if value is not None:
        value = int(value) if isinstance(value, (int, np.integer)) else round(float(value), 4)
    rounded = {k: round(v, 2) if isinstance(v, float) else v for k, v in extra.items()}
    return {"value": value, "seconds": round(float(seconds), 2), **rounded}


def seconds_text(seconds: float) -> str:
    """How many seconds a figure rests on, for a sentence: under one second with its tenth ("0.4 s", not "0 s"
    beside a share of 100%)."""
    return f"{seconds:.1f}" if 0 < seconds < 0.95 else f"{seconds:.0f}"
