"""Responsible use built in: purposes and jurisdictions, notice and consent, audit log, erasure.

The library, the CLI and (later) the service all gate an analysis through check_analysis_allowed and
the showing of results to reviewers through check_sharing_allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from facecue.governance.audit import ACTIONS, AuditEntry, AuditError, AuditLog, Verification
from facecue.governance.consent import (
    NOTICE_VERSION,
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
    Decision,
    PolicyError,
    decide,
    load_overrides,
    region_of,
)

__all__ = [
    "ACTIONS", "NOTICE_VERSION", "POLICY_VERSION", "PURPOSES", "REGIONS", "SCOPES", "AuditEntry", "AuditError",
    "AuditLog", "ConsentError", "ConsentRecord", "Decision", "ErasureError", "ErasureReport", "Notice", "PolicyError",
    "Verification", "check_analysis_allowed", "check_consent", "check_sharing_allowed", "decide", "erase_subject",
    "find_subject", "load_overrides", "policy_for", "region_of", "render_notice", "write_subject_manifest",
]

Overrides = Mapping[str, Mapping[str, object]]


def check_analysis_allowed(purpose: str, jurisdiction: str, consent: ConsentRecord | None,
                           now: datetime | None = None, overrides: Overrides | None = None, *,
                           controller: str | None = None, subject_id: str | None = None) -> Decision:
    """The decision for this analysis, or PolicyError (ConsentError for consent problems) with the reason.

    The consent must point at the notice that the policy renders now for this purpose, jurisdiction and the
    record's controller; controller/subject_id, when known to the caller, must match the record.
    """
    decision = decide(purpose, jurisdiction, overrides=overrides)
    if not decision.allowed:
        raise PolicyError(decision.reason)
    if decision.requires_consent:
        notice = render_notice(purpose, jurisdiction, consent.controller, overrides) if consent else None
        check_consent(consent, purpose, now, notice=notice, controller=controller, subject_id=subject_id)
    return decision


def policy_for(purpose: str | None, jurisdiction: str | None, consent: ConsentRecord | str | None = None,
               overrides: Overrides | None = None) -> Decision | None:
    """The library's gate before an analysis: the decision when a purpose and jurisdiction are given (consent
    as a record or the path of its JSON file), PolicyError when the table refuses, None when neither is given
    (a developer's own footage, the embedded demo). Half of the pair is a mistake, not a lighter check."""
    if purpose is None and jurisdiction is None:
        if consent is not None:
            raise PolicyError("a consent record needs the purpose and jurisdiction of the analysis: give both.")
        return None
    if purpose is None or jurisdiction is None:
        raise PolicyError("purpose and jurisdiction go together: give both.")
    if consent is not None and not isinstance(consent, ConsentRecord):
        from pathlib import Path

        consent = ConsentRecord.load(Path(consent))
    return check_analysis_allowed(purpose, jurisdiction, consent, overrides=overrides)


def check_sharing_allowed(purpose: str, jurisdiction: str, consent: ConsentRecord | None,
                          now: datetime | None = None, overrides: Overrides | None = None, *,
                          controller: str | None = None, subject_id: str | None = None) -> Decision:
    """As check_analysis_allowed, for showing the results to an organisation's reviewers (never for practice)."""
    decision = check_analysis_allowed(purpose, jurisdiction, consent, now, overrides, controller=controller,
                                      subject_id=subject_id)
    if not decision.share_with_reviewers:
        raise PolicyError(f"results of a {purpose} analysis in {decision.region} are never shared with an "
                          "organisation's reviewers.")
    if decision.requires_consent:
        check_consent(consent, purpose, now, share=True)
    return decision
