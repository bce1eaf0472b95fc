"""Erasing a subject: delete what the on-disk convention says is theirs, then search to prove nothing names them.

The convention, for everything facecue (and later the service) writes about a subject:
- an analysis folder holds a `subject.json` manifest ({"schema": "facecue.subject/1", "subject_id": ...}): the
  whole folder (media, result.json, frames.csv, report.html, thumbnails, notes) belongs to that subject;
- any other `*.json` whose top-level "subject_id" is the subject (a consent record, a note) is theirs, with the
  files its optional "files" list names (paths relative to it). `facecue analyze` and `facecue batch` write one,
  `subject-files.json`, beside their outputs (write_files_manifest): the output folder is the user's choice and
  may hold other files, so only what facecue wrote goes, and the folder too once that leaves it empty.
Erasure deletes only what a manifest claims. Anything else that still names the subject (in a file name or in
a file's bytes) is reported, not deleted: it may belong to others too, and a person must decide.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from facecue.errors import FacecueError
from facecue.governance.audit import AuditError, AuditLog
from facecue.governance.policy import check_subject_id

SUBJECT_SCHEMA = "facecue.subject/1"
MANIFEST_NAME = "subject.json"
FILES_MANIFEST_NAME = "subject-files.json"
FILES_SCHEMA = "facecue.subject-files/1"
_MAX_MANIFEST_BYTES = 1 << 20  # manifests are small; skip parsing big JSON such as result.json
_CHUNK = 1 << 20


class ErasureError(FacecueError):
    """An erasure cannot be carried out as asked (a missing root, a manifest pointing outside the roots)."""


@dataclass(frozen=True)
class ErasureReport:
    subject_ref: str  # the audit log's pseudonym for the subject, never the raw id
    folders_removed: int
    files_removed: int
    bytes_removed: int
    remaining: tuple[Path, ...]  # paths that still name the subject after erasure

    @property
    def complete(self) -> bool:
        return not self.remaining


def write_subject_manifest(folder: Path, subject_id: str) -> Path:
    """Mark `folder` as one analysis of `subject_id`, so erasure removes all of it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MANIFEST_NAME
    path.write_text(json.dumps({"schema": SUBJECT_SCHEMA, "subject_id": check_subject_id(subject_id)}) + "\n")
    return path


def write_files_manifest(folder: Path, subject_id: str, names: list[str]) -> Path:
    """Mark the files `names` in `folder` (and nothing else there) as `subject_id`'s, so erasure removes them."""
    path = Path(folder) / FILES_MANIFEST_NAME
    manifest = {"schema": FILES_SCHEMA, "subject_id": check_subject_id(subject_id), "files": sorted(names)}
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest) + "\n")
    tmp.replace(path)  # a half-written manifest would hide the outputs from erasure
    return path


def _names_subject(path: Path, subject_id: str) -> dict | None:
    """The manifest's content when `path` is a JSON manifest of `subject_id`."""
    try:
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            return None
        raw = path.read_bytes()
        if b'"subject_id"' not in raw:
            return None
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("subject_id") == subject_id else None


def _outermost(roots: list[Path]) -> list[Path]:
    """The roots resolved, without any that lies inside another, so nothing is walked twice."""
    resolved = list(dict.fromkeys(Path(r).resolve() for r in roots))
    return [r for r in resolved if not any(r != o and r.is_relative_to(o) for o in resolved)]


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path.is_relative_to(root) for root in roots)


def _plan(subject_id: str, roots: list[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """Folders and files the subject's manifests claim, found before anything is deleted, and the folders of
    their output manifests (removed when the erasure leaves them empty)."""
    folders: list[Path] = []
    files: list[Path] = []
    output_folders: list[Path] = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            if MANIFEST_NAME in filenames and _names_subject(here / MANIFEST_NAME, subject_id) is not None:
                folders.append(here)
                dirnames[:] = []  # everything below goes with the folder
                continue
            for name in filenames:
                if not name.endswith(".json") or (manifest := _names_subject(here / name, subject_id)) is None:
                    continue
                files.append(here / name)
                if name == FILES_MANIFEST_NAME and here not in roots:
                    output_folders.append(here)
                listed = manifest.get("files", [])
                for rel in listed if isinstance(listed, list) else []:
                    target = Path(os.path.normpath(here / str(rel)))
                    if not _inside(target, roots):
                        raise ErasureError(
                            f"{here / name} lists {rel}, outside the erasure roots; nothing was "
                            "deleted. Add its folder as a root or fix the manifest."
                        )
                    files.append(target)
    return folders, files, output_folders


def _pattern(subject_id: str) -> re.Pattern[bytes]:
    # The id not run together with other letters or digits, in any case: 'cand-0012' and 'xcand-001' do not name
    # 'cand-001'; 'CAND-001-summary.csv' does (a false alarm is reported for a person to check, never deleted).
    return re.compile(rb"(?<![A-Za-z0-9])" + re.escape(subject_id.encode()) + rb"(?![A-Za-z0-9])", re.IGNORECASE)


def _file_names_subject(path: Path, pattern: re.Pattern[bytes], overlap: int) -> bool:
    try:
        with open(path, "rb") as f:
            tail = b""
            while True:
                chunk = f.read(_CHUNK)
                data = tail + chunk
                # The tail's first byte is only context for the look-behind; a match touching the end of the
                # data waits for the next chunk, whose first byte may extend the token.
                if any(not chunk or m.end() < len(data) for m in pattern.finditer(data, 1 if tail else 0)):
                    return True
                if not chunk:
                    return False
                tail = data[-overlap:]
    except OSError:
        return True  # unreadable: it cannot be shown clean, so report it


def find_subject(subject_id: str, roots: list[Path]) -> list[Path]:
    """Every file or folder under `roots` whose name or (for files) bytes contain the subject id."""
    pattern = _pattern(check_subject_id(subject_id))
    hits: list[Path] = []
    for root in _outermost(roots):
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            hits += [here / d for d in dirnames if pattern.search(d.encode())]
            for name in filenames:
                path = here / name
                if pattern.search(name.encode()) or (
                    not path.is_symlink() and _file_names_subject(path, pattern, len(subject_id) + 1)
                ):
                    hits.append(path)
    return sorted(hits)


def erase_subject(subject_id: str, roots: list[Path], audit: AuditLog, actor: str = "facecue-erase") -> ErasureReport:
    """Delete the subject's analysis folders and manifested files under `roots`, verify by searching the roots for
    the id, and record the erasure in `audit` with counts only."""
    check_subject_id(subject_id)
    roots = _outermost(roots)
    for root in roots:
        if not root.is_dir():
            raise ErasureError(f"erasure root {root} is not a folder.")
    audit.check_appendable(actor, subject_id)  # an erasure that cannot be audited does not start
    folders, files, output_folders = _plan(subject_id, roots)
    n_files = n_bytes = 0
    for folder in folders:
        for dirpath, _, filenames in os.walk(folder):
            for name in filenames:
                n_files += 1
                n_bytes += (Path(dirpath) / name).lstat().st_size
        shutil.rmtree(folder)
    for path in dict.fromkeys(files):  # a file listed twice is deleted once
        if path.is_symlink() or path.is_file():
            n_bytes += path.lstat().st_size
            path.unlink()
            n_files += 1
    n_folders = len(folders)
    for folder in output_folders:  # emptied by the erasure (its name may hold the subject's id): it goes too
        with contextlib.suppress(OSError):  # not empty: the other files, and so the folder, stay
            folder.rmdir()
            n_folders += 1
    remaining = tuple(find_subject(subject_id, roots))
    counts = {"folders": n_folders, "files": n_files, "bytes": n_bytes, "remaining": len(remaining)}
    try:
        audit.append(actor, "erased", subject=subject_id, details=counts)
    except AuditError as exc:  # checked above, so rare (a full disk); the deletion cannot be undone, so say what
        raise AuditError(  # happened, for a person to record by hand
            f"the erasure was carried out ({n_folders} folder(s), {n_files} file(s), {len(remaining)} path(s) "
            f"still naming the subject) but its audit entry was not written: {exc}"
        ) from None
    return ErasureReport(
        subject_ref=audit.subject_ref(subject_id),
        folders_removed=n_folders,
        files_removed=n_files,
        bytes_removed=n_bytes,
        remaining=remaining,
    )
