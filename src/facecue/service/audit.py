"""The service's audit log: an append-only hash chain in the database, like facecue.governance.AuditLog's file.

Each row hashes its own content (seq, time, org, actor, action, subject pseudonym, details) and the hash of the
row before it (governance.audit.entry_hash); the single audit_head row names the last entry. Appending locks
that head row inside the caller's transaction, so the entry commits (or rolls back) with the change it records
and concurrent appenders, in any process, queue instead of forking the chain. Editing, inserting, deleting or
reordering rows is found by `verify`; cutting off the end is found through the head.

Subjects appear only as keyed pseudonyms (HMAC with the service secret): after an erasure the log still holds
the fact of it, and nothing in it names the candidate.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facecue.governance.audit import ACTIONS, GENESIS, Verification, entry_hash
from facecue.service.models import AuditEvent, AuditHead

_SCALARS = (str, int, float, bool, type(None))


def subject_ref(secret_key: str, subject_id: str) -> str:
    """The pseudonym the service's audit log uses for a candidate's subject id."""
    digest = hmac.new(secret_key.encode(), f"audit-subject:{subject_id}".encode(), hashlib.sha256).hexdigest()
    return "subj-" + digest[:32]


def _body(event: AuditEvent) -> dict:
    return {
        "seq": event.seq,
        "time": event.time,
        "org": event.org_id,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }


def _check_details(details: dict) -> dict:
    # Ids and counts only: flat, short values, so no personal data rides along.
    for key, value in details.items():
        if (
            not isinstance(key, str)
            or not isinstance(value, _SCALARS)
            or (isinstance(value, str) and len(value) > 200)
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            raise ValueError(f"audit detail {key!r} must be a number, a yes/no or a short string")
    return details


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    org_id: str | None,
    subject: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    """Append one entry in `session`'s transaction. `subject` is already a pseudonym (see subject_ref)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    event = AuditEvent(
        seq=head.seq + 1,
        org_id=org_id,
        time=datetime.now(UTC).isoformat(),
        actor=actor,
        action=action,
        subject=subject,
        details=_check_details(dict(details or {})),
        prev_hash=head.hash,
    )
    event.hash = entry_hash(_body(event))
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def verify(session: Session) -> Verification:
    """Walk the whole chain: (ok, first bad seq or None, why)."""
    prev, seq = GENESIS, 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(1000):
        if event.seq != seq:
            return Verification(
                False, seq, f"entry {event.seq} stands where entry {seq} belongs (an entry was deleted or inserted)"
            )
        if event.prev_hash != prev:
            return Verification(False, seq, f"entry {seq} does not follow from the entry before it")
        if entry_hash(_body(event)) != event.hash:
            return Verification(False, seq, f"entry {seq} was changed after it was written")
        prev, seq = event.hash, seq + 1
    head = session.get(AuditHead, 1)
    if head is None or (head.seq, head.hash) != (seq - 1, prev):
        return Verification(
            False,
            seq if head is None else min(seq, head.seq + 1),
            "the chain's end does not match its head (entries were cut off or added)",
        )
    return Verification(True, None, f"{seq} {'entry' if seq == 1 else 'entries'}, chain intact")


def to_dict(event: AuditEvent) -> dict:
    return {**_body(event), "hash": event.hash}
