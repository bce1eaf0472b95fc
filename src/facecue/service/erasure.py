"""Erasing a candidate from the service: media folders, results, notes, overrides, consents, jobs, the row itself;
then proof by search that nothing in the database or the media folder still names them.

The audit log keeps the fact (who, when, counts, the subject's keyed pseudonym), never the id or name.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import JSON, String, Text, cast, delete, func, select
from sqlalchemy.orm import Session

from facecue.governance import find_subject
from facecue.service import audit, jobs
from facecue.service.models import (
    Base,
    Candidate,
    Consent,
    ErasureRequest,
    Interview,
    Job,
    Note,
    Organisation,
    Override,
    User,
)
from facecue.service.settings import Settings
from facecue.service.storage import interview_folder, remove_folder


def erase_candidate(session: Session, settings: Settings, candidate: Candidate, actor: User) -> dict:
    """Delete everything about `candidate` in this transaction; returns counts (no personal data)."""
    interviews = session.scalars(select(Interview).where(Interview.candidate_id == candidate.id)).all()
    ids = [i.id for i in interviews]
    for interview in interviews:
        jobs.request_cancel(session, interview)  # a running worker finds its job gone and stops
        remove_folder(interview_folder(settings.media_dir, interview.id))
    counts = {"interviews": len(ids)}
    for model in (Note, Override, Job):
        counts[model.__tablename__] = session.execute(delete(model).where(model.interview_id.in_(ids))).rowcount
    session.flush()
    session.execute(delete(Interview).where(Interview.id.in_(ids)))
    counts["consents"] = session.execute(delete(Consent).where(Consent.candidate_id == candidate.id)).rowcount
    ref = audit.subject_ref(settings.secret_key, candidate.external_ref)
    for request in session.scalars(select(ErasureRequest).where(ErasureRequest.candidate_id == candidate.id)):
        request.candidate_id, request.done_at = None, jobs.now()
    session.delete(candidate)
    session.flush()
    audit.record(session, actor=actor.id, action="erased", org_id=actor.org_id, subject=ref, details=counts)
    return counts


def remaining_mentions(
    session: Session, settings: Settings, terms: list[str], interview_ids: list[str] = (), org_id: str | None = None
) -> list[str]:
    """Every database column (as 'table.column') and media file that still contains one of `terms`, and every
    file left in the erased interviews' folders: results are pseudonymous, so a result (say, in a dead attempt's
    `.attempt-*` folder) is found by where it lies, not by a name in it.

    With `org_id`, only that organisation's rows and interview folders are searched: another organisation may
    hold the same name or reference, and the answer must not reveal it. Files are named relative to the media
    folder."""
    media = Path(settings.media_dir)
    found: list[str] = []
    for interview_id in interview_ids:
        folder = interview_folder(media, interview_id)
        if folder.exists():
            found += [_rel(p, media) for p in folder.rglob("*")] or [_rel(folder, media)]
    terms = [t for t in terms if t]
    for table in Base.metadata.sorted_tables:
        scope = _org_rows(table, org_id)
        for column in table.columns:
            if not isinstance(column.type, (String, Text, JSON)):
                continue
            text = func.lower(cast(column, Text))
            for term in terms:
                q = select(func.count()).select_from(table).where(text.contains(term.lower(), autoescape=True))
                if session.scalar(q if scope is None else q.where(scope)):
                    found.append(f"{table.name}.{column.name}")
    if org_id is None:
        roots = [media]
    else:
        mine = session.scalars(select(Interview.id).where(Interview.org_id == org_id))
        roots = [interview_folder(media, i) for i in mine]
    for root in (r for r in roots if r.is_dir()):
        found += [_rel(p, media) for p in find_subject(terms[0], [root])]  # the subject id, in names and bytes
        for term in terms[1:]:  # a display name: search the bytes too
            found += [_rel(p, media) for p in _files_containing(root, term.encode())]
    return sorted(set(found))


def _org_rows(table, org_id: str | None):
    """The condition that picks `org_id`'s rows of `table` (None: every row). Jobs belong to an organisation
    through their interview; the organisation row is its own; audit_head and revoked_sessions hold only hashes
    and nonces, no organisation's data, so they are searched whole."""
    if org_id is None:
        return None
    if "org_id" in table.c:
        return table.c.org_id == org_id
    if table.name == Organisation.__tablename__:
        return table.c.id == org_id
    if "interview_id" in table.c:
        return table.c.interview_id.in_(select(Interview.id).where(Interview.org_id == org_id))
    return None


def _rel(path: Path, media: Path) -> str:
    # Never the server's absolute path: the media folder's layout is enough to find the file.
    try:
        return str(path.relative_to(media))
    except ValueError:
        return str(path)


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    hits, needle = [], needle.lower()
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            try:
                if needle in name.encode().lower() or needle in path.read_bytes().lower():
                    hits.append(path)
            except OSError:
                hits.append(path)
    return hits
