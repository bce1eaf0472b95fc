"""Shared fixtures: a fixed clock, a notice and the consent a subject gave to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from facecue.governance import ConsentRecord, render_notice

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
SUBJECT = "cand-0042"


def consent_for(
    purpose: str,
    jurisdiction: str,
    controller: str = "Acme Ltd",
    subject: str = SUBJECT,
    scope: tuple[str, ...] = ("analysis",),
) -> ConsentRecord:
    notice = render_notice(purpose, jurisdiction, controller)
    return ConsentRecord.for_notice(notice, subject, given_at=NOW - timedelta(days=1), scope=scope)


@pytest.fixture
def assessment_consent() -> ConsentRecord:
    return consent_for("assessment", "US", scope=("analysis", "share_with_reviewers"))
