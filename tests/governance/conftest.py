"""Shared fixtures: a fixed clock, a notice and the consent a subject gave to it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from facecue.governance import NOTICE_VERSION_SINCE, ConsentRecord, render_notice

# The fixed clock: the morning the current notice was published (consent to it cannot be older), in the past.
NOW = NOTICE_VERSION_SINCE + timedelta(hours=9)
SUBJECT = "cand-0042"


def consent_for(
    purpose: str,
    jurisdiction: str,
    controller: str = "Acme Ltd",
    subject: str = SUBJECT,
    scope: tuple[str, ...] = ("analysis",),
) -> ConsentRecord:
    notice = render_notice(purpose, jurisdiction, controller)
    return ConsentRecord.for_notice(notice, subject, given_at=NOW - timedelta(hours=1), scope=scope)


@pytest.fixture
def assessment_consent() -> ConsentRecord:
    return consent_for("assessment", "US", scope=("analysis", "share_with_reviewers"))
