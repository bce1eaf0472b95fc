"""Are two result.json files the same analysis? Compares them key by key, order included, after dropping the
values that differ from run to run (when it ran, how long it took).

    python bench/result_diff.py A/result.json B/result.json

Prints each difference by its path in the document and exits 1 if there is one, 0 if there is none. Used to show
that a refactor leaves the schema and every value unchanged: run `facecue analyze` on the same input with the old
and the new code and compare the two results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# Timestamps and timings: every run writes its own.
VOLATILE = frozenset({"analysed_at", "processing_s", "realtime_factor"})


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where `a` and `b` differ, as "path: what" lines; dict key order counts (it is the file's layout)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys_a = [k for k in a if k not in VOLATILE]
        keys_b = [k for k in b if k not in VOLATILE]
        out = [f"{path}/{k}: only in the first" for k in keys_a if k not in b]
        out += [f"{path}/{k}: only in the second" for k in keys_b if k not in a]
        shared = [k for k in keys_a if k in b]
        if not out and shared != [k for k in keys_b if k in a]:
            out.append(f"{path}: keys in another order")
        for k in shared:
            out += differences(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items against {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}/{i}")]
    if type(a) is not type(b) or a != b:
        return [f"{path}: {a!r} against {b!r}"]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    found = differences(json.loads(args.first.read_text()), json.loads(args.second.read_text()))
    for line in found[:50]:
        print(line)
    if len(found) > 50:
        print(f"... and {len(found) - 50} more")
    print(f"{len(found)} difference(s) apart from {', '.join(sorted(VOLATILE))}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
