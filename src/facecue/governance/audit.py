"""An append-only, tamper-evident audit log: JSON Lines, each entry hashing the one before it.

Editing, inserting, deleting or reordering an entry breaks the chain at that entry; cutting entries off
the end is caught by the head file (`<log>.head`, the last seq and hash), and for proof against someone
who can rewrite both, copy `head()` somewhere else now and then (a report, a ticket, a second machine).

Subjects are stored as keyed pseudonyms (HMAC with the secret in `<log>.key`), never as raw ids, so the log
can keep the fact of an erasure while no file names the erased subject. With the key and the id, an
operator can still find a subject's entries (`subject_ref`), e.g. to prove their erasure on request.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import math
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from facecue.errors import FacecueError
from facecue.governance.policy import check_subject_id

ACTIONS = ("viewed", "exported", "analysed", "changed", "erased", "consented", "withdrew", "refused")
GENESIS = "0" * 64
_SCALARS = (str, int, float, bool, type(None))


class AuditError(FacecueError):
    """The audit log cannot be read or written, or an entry would break its rules."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    actor: str
    action: str
    subject: str | None  # a pseudonym from AuditLog.subject_ref, or None
    details: dict
    prev_hash: str
    hash: str

    def body(self) -> dict:
        d = asdict(self)
        del d["hash"]
        return d


class Verification(NamedTuple):
    ok: bool
    first_bad_seq: int | None
    reason: str


def entry_hash(body: dict) -> str:
    """sha256 of the entry's canonical JSON (sorted keys, no spaces), the hash field left out."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_details(details: dict, subject_id: str | None) -> dict:
    # Details carry ids and counts: flat, short, and never the subject's raw id (the entry's subject is a pseudonym).
    if not isinstance(details, dict):
        raise AuditError("audit details must be a JSON object.")
    for key, value in details.items():
        if (
            not isinstance(key, str)
            or not isinstance(value, _SCALARS)
            or (isinstance(value, str) and len(value) > 200)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise AuditError(
                f"audit detail {key!r} must be a number, a yes/no or a short string (ids and counts, no personal data)."
            )
        if subject_id and isinstance(value, str) and subject_id.lower() in value.lower():
            raise AuditError(f"audit detail {key!r} names the subject; pass the subject id as `subject` only.")
    return details


def _check_actor(actor: str, subject: str | None) -> str:
    actor = str(actor).strip()
    if not actor or len(actor) > 128 or any(c in actor for c in "\r\n"):
        raise AuditError("the audit actor must be a user or service id on one line, at most 128 characters.")
    if subject is not None:
        check_subject_id(subject)
        if subject.lower() in actor.lower():  # the subject acting on their own data is actor "self"
            raise AuditError("the audit actor names the subject; use actor 'self' for the subject's own actions.")
    return actor


class AuditLog:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.key_path = self.path.with_name(self.path.name + ".key")
        self.head_path = self.path.with_name(self.path.name + ".head")

    def subject_ref(self, subject_id: str) -> str:
        """The pseudonym this log uses for a subject id."""
        check_subject_id(subject_id)
        if not self.key_path.exists():
            raise AuditError(f"the audit log's key {self.key_path} is missing.")
        key = bytes.fromhex(self.key_path.read_text().strip())
        return "subj-" + hmac.new(key, subject_id.encode(), hashlib.sha256).hexdigest()[:32]

    def _ensure_key(self, log_is_empty: bool) -> None:
        if self.key_path.exists():
            return
        if not log_is_empty:  # a new key would silently unlink every earlier entry from its subject
            raise AuditError(f"the audit log's key {self.key_path} is missing; restore it before appending.")
        fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")

    def append(
        self,
        actor: str,
        action: str,
        subject: str | None = None,
        details: dict | None = None,
        time: datetime | None = None,
    ) -> AuditEntry:
        """Add one entry; safe against concurrent appenders in other processes (an exclusive file lock)."""
        actor = _check_actor(actor, subject)
        if action not in ACTIONS:
            raise AuditError(f"unknown audit action {action!r}; choose one of {', '.join(ACTIONS)}.")
        details = _check_details(dict(details or {}), subject)
        when = (time or datetime.now(UTC)).astimezone(UTC)
        try:
            return self._append(actor, action, subject, details, when)
        except OSError as exc:  # a folder where the log should be, a full disk: one sentence, not a traceback
            raise AuditError(f"cannot write the audit log {self.path}: {exc.strerror or exc}.") from None

    def check_appendable(self, actor: str | None = None, subject: str | None = None) -> None:
        """Raise AuditError unless an entry (by `actor` about `subject`, when given) can be appended now. Called
        before an action that must be audited (an erasure, a consent change), so a log that cannot take its entry
        stops the action before anything changes, instead of leaving an unaudited deletion behind."""
        if actor is not None:
            _check_actor(actor, subject)
        if self.path.exists() or self.path.is_symlink():
            if not self.path.is_file():
                raise AuditError(f"the audit log {self.path} is not a file.")
            if not os.access(self.path, os.R_OK | os.W_OK):
                raise AuditError(f"the audit log {self.path} cannot be read and written.")
            try:
                with open(self.path, "rb") as f:
                    fcntl.flock(f, fcntl.LOCK_SH)
                    last = _last_entry(f)  # raises AuditError when the last entry is unreadable
            except OSError as exc:
                raise AuditError(f"cannot read the audit log {self.path}: {exc.strerror or exc}.") from None
            if last is not None and not self.key_path.exists():
                raise AuditError(f"the audit log's key {self.key_path} is missing; restore it before appending.")
        if self.head_path.exists() and not self.head_path.is_file():
            raise AuditError(f"the audit head {self.head_path} is not a file.")
        folder = self.path.parent  # the head (and, for a new log, the key and the log) are written here
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise AuditError(f"cannot write the audit log {self.path}: {folder} is not a writable folder.")

    def _append(self, actor: str, action: str, subject: str | None, details: dict, when: datetime) -> AuditEntry:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                last = _last_entry(f)
                self._ensure_key(log_is_empty=last is None)
                body: dict[str, Any] = {
                    "seq": 0 if last is None else last.seq + 1,
                    "time": when.isoformat(),
                    "actor": actor,
                    "action": action,
                    "subject": self.subject_ref(subject) if subject else None,
                    "details": details,
                    "prev_hash": GENESIS if last is None else last.hash,
                }
                entry = AuditEntry(**body, hash=entry_hash(body))
                f.write((json.dumps(asdict(entry), sort_keys=True, ensure_ascii=False) + "\n").encode())
                f.flush()
                os.fsync(f.fileno())
                tmp = self.head_path.with_name(self.head_path.name + ".tmp")
                tmp.write_text(json.dumps({"seq": entry.seq, "hash": entry.hash}) + "\n")
                tmp.replace(self.head_path)
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        return entry

    def entries(self) -> list[AuditEntry]:
        """Every entry, in order; raises AuditError on a line that is not an entry (use verify to locate it)."""
        out = []
        with self._reading() as lines:
            for n, line in enumerate(lines, 1):
                try:
                    out.append(AuditEntry(**json.loads(line)))
                except (ValueError, TypeError):
                    raise AuditError(f"line {n} of {self.path} is not an audit entry.") from None
        return out

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last entry as the head file records it; None for an empty log."""
        if not self.head_path.exists():
            return None
        try:
            data = json.loads(self.head_path.read_text())
            return int(data["seq"]), str(data["hash"])
        except (OSError, ValueError, KeyError, TypeError):
            raise AuditError(f"the audit head file {self.head_path} is unreadable.") from None

    def verify(self, expected_head: tuple[int, str] | None = None) -> Verification:
        """Walk the chain: (ok, the first bad seq or None, why). expected_head: a (seq, hash) copied elsewhere
        earlier, which the log must still contain unchanged."""
        with self._reading() as lines:
            return self._verify(lines, expected_head)

    def _verify(self, lines: Iterator[bytes], expected_head: tuple[int, str] | None) -> Verification:
        prev, seq = GENESIS, 0
        for n, line in enumerate(lines, 1):
            try:
                entry = AuditEntry(**json.loads(line))
            except (ValueError, TypeError):
                if n == 1 and not self.head_path.exists():  # e.g. a video passed by mistake: say so, not TAMPERED
                    raise AuditError(
                        f"{self.path} is not an audit log: its first line is not an audit entry and it has no "
                        f"head file {self.head_path.name}."
                    ) from None
                return Verification(False, seq, f"line {n} is not a valid audit entry")
            if entry.seq != seq:
                return Verification(
                    False,
                    seq,
                    f"line {n} holds entry {entry.seq} where entry {seq} belongs "
                    "(an entry was deleted, inserted or moved)",
                )
            if entry.prev_hash != prev:
                return Verification(False, seq, f"entry {seq} does not follow from the entry before it")
            if entry_hash(entry.body()) != entry.hash:
                return Verification(False, seq, f"entry {seq} was changed after it was written")
            if expected_head is not None and expected_head[0] == seq and expected_head[1] != entry.hash:
                return Verification(
                    False, seq, f"entry {seq} no longer has the hash recorded earlier (the log was rewritten)"
                )
            prev, seq = entry.hash, seq + 1
        last = (seq - 1, prev) if seq else None
        head = self.head()
        if head != last:
            if head is None:
                bad = 0
            elif head[0] == seq - 1:  # same length, another last hash: the end was rewritten
                bad = seq - 1
            else:  # cut off: the first missing entry; added past the head: the first one it does not cover
                bad = min(seq, head[0] + 1)
            return Verification(
                False,
                bad,
                f"the log ends at {_show(last)} but its head file records "
                f"{_show(head)} (entries were cut off or added, or the head was altered)",
            )
        if expected_head is not None and expected_head[0] >= seq:
            return Verification(False, seq, f"entry {expected_head[0]}, recorded earlier, is missing")
        return Verification(True, None, f"{seq} {'entry' if seq == 1 else 'entries'}, chain intact")

    @contextmanager
    def _reading(self) -> Iterator[Iterator[bytes]]:
        """The log's non-blank lines under a shared lock, so an append cannot land between them and the head."""
        if not self.path.exists():
            raise AuditError(f"no audit log at {self.path}.")
        if not self.path.is_file():
            raise AuditError(f"{self.path} is not an audit log (it is not a file).")
        try:
            f = open(self.path, "rb")  # noqa: SIM115 -- closed below; only the open itself is a user error
        except OSError as exc:
            raise AuditError(f"cannot read the audit log {self.path}: {exc.strerror or exc}.") from None
        with f:
            fcntl.flock(f, fcntl.LOCK_SH)
            try:
                yield (line for line in f if line.strip())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def _show(head: tuple[int, str] | None) -> str:
    return "no entry" if head is None else f"entry {head[0]} ({head[1][:12]}…)"


def _last_entry(f) -> AuditEntry | None:
    """The log's last entry, read backwards from the end so appends stay fast on a long log."""
    pos = f.seek(0, os.SEEK_END)
    data = b""
    while pos > 0 and b"\n" not in data.rstrip(b"\n"):
        step = min(8192, pos)
        pos -= step
        f.seek(pos)
        data = f.read(step) + data
    if not data.strip():
        return None
    try:
        return AuditEntry(**json.loads(data.rstrip(b"\n").split(b"\n")[-1]))
    except (ValueError, TypeError):
        raise AuditError(
            f"the audit log's last entry is unreadable ({f.name}); run `facecue audit-log verify`."
        ) from None
