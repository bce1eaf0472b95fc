"""Responsible use built in: purposes and jurisdictions, notice and consent, audit log, erasure.

The library, the CLI and the service all gate an analysis through check_analysis_allowed (the library and the
commands through policy_for, which also requires the purpose and jurisdiction: no analysis of a person runs without
a decision) and the showing of results to reviewers through check_sharing_allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from facecue.governance.audit import ACTIONS, AuditEntry, AuditError, AuditLog, Verification
from facecue.governance.consent import (
    NOTICE_VERSION,
    NOTICE_VERSION_SINCE,
    SCOPES,
    ConsentError,
    ConsentRecord,
    Notice,
    check_consent,
    render_notice,
)
from facecue.governance.erase import ErasureError, ErasureReport, erase_subject, find_subject, write_subject_manifest
from facecue.governance.policy import (
    POLICY_VERSION,
    PURPOSES,
    REGIONS,
    SIGNALS,
    Decision,
    PolicyError,
    decide,
    load_overrides,
    region_of,
)

__all__ = [
    "ACTIONS",
    "NOTICE_VERSION",
    "NOTICE_VERSION_SINCE",
    "POLICY_VERSION",
    "PURPOSES",
    "REGIONS",
    "SCOPES",
    "SIGNALS",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "ConsentError",
    "ConsentRecord",
    "Decision",
    "ErasureError",
    "ErasureReport",
    "Notice",
    "PolicyError",
    "Verification",
    "check_analysis_allowed",
    "check_consent",
    "check_sharing_allowed",
    "decide",
    "erase_subject",
    "find_subject",
    "load_overrides",
    "missing_purpose",
    "policy_for",
    "region_of",
    "render_notice",
    "write_subject_manifest",
]

Overrides = Mapping[str, Mapping[str, object]]


def check_analysis_allowed(
    purpose: str,
    jurisdiction: str,
    consent: ConsentRecord | None,
    now: datetime | None = None,
    overrides: Overrides | None = None,
    *,
    controller: str | None = None,
    subject_id: str | None = None,
    signals=SIGNALS,
) -> Decision:
    """The decision for this analysis, or PolicyError (ConsentError for consent problems) with the reason.

    The consent must point at the notice that the policy renders now for this purpose, jurisdiction and the
    record's controller; controller/subject_id, when known to the caller, must match the record. signals: what
    the analysis reads (default emotions and behaviour); rows that allow behaviour only refuse emotions.
    """
    decision = decide(purpose, jurisdiction, overrides=overrides, signals=signals)
    if not decision.allowed:
        raise PolicyError(decision.reason)
    if decision.requires_consent:
        notice = render_notice(purpose, jurisdiction, consent.controller, overrides) if consent else None
        check_consent(consent, purpose, now, notice=notice, controller=controller, subject_id=subject_id)
    return decision


def missing_purpose(purpose: str | None, jurisdiction: str | None, *, flags: bool = False) -> str | None:
    """The one-sentence refusal when the purpose or the jurisdiction of an analysis is not given, else None.

    flags: word it for the command line (--purpose, --jurisdiction) rather than the library's arguments."""
    if purpose and jurisdiction:
        return None
    gaps = [name for name, value in (("purpose", purpose), ("jurisdiction", jurisdiction)) if not value]
    dash = "--" if flags else ""
    return (
        f"say why and where this analysis runs ({' and '.join(gaps)} missing): {dash}purpose (practice, research, "
        f"assessment, staff_practice or student_practice) and {dash}jurisdiction (e.g. DE, US-IL, OTHER), "
        "with the subject's consent record where "
        "the policy requires one; see docs/RESPONSIBLE_USE.md."
    )


def policy_for(
    purpose: str | None,
    jurisdiction: str | None,
    consent: ConsentRecord | str | Path | None = None,
    overrides: Overrides | None = None,
    signals=SIGNALS,
) -> Decision:
    """The library's gate before every analysis of a person: the policy table's decision for this purpose and
    jurisdiction (consent as a record or the path of its JSON file), or PolicyError with the reason: when the
    table refuses, when consent it requires is missing or invalid, and when the purpose or jurisdiction is not
    given (there is no analysis without a decision)."""
    refusal = missing_purpose(purpose, jurisdiction)
    if refusal:
        raise PolicyError(refusal)
    assert purpose is not None and jurisdiction is not None  # missing_purpose refused otherwise
    if consent is not None and not isinstance(consent, ConsentRecord):
        consent = ConsentRecord.load(Path(consent))
    return check_analysis_allowed(purpose, jurisdiction, consent, overrides=overrides, signals=signals)


def check_sharing_allowed(
    purpose: str,
    jurisdiction: str,
    consent: ConsentRecord | None,
    now: datetime | None = None,
    overrides: Overrides | None = None,
    *,
    controller: str | None = None,
    subject_id: str | None = None,
) -> Decision:
    """As check_analysis_allowed, for showing the results to an organisation's reviewers (never for practice)."""
    decision = check_analysis_allowed(
        purpose, jurisdiction, consent, now, overrides, controller=controller, subject_id=subject_id
    )
    if not decision.share_with_reviewers:
        raise PolicyError(
            f"results of a {purpose} analysis in {decision.region} are never shared with an organisation's reviewers."
        )
    if decision.requires_consent:
        check_consent(consent, purpose, now, share=True)
    return decision
