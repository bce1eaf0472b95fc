"""Notice and consent: the notice's content and fingerprint, the record's rules, and every way consent can fail."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta

import pytest

from facecue.governance import (
    ConsentError,
    ConsentRecord,
    PolicyError,
    check_analysis_allowed,
    check_consent,
    check_sharing_allowed,
    render_notice,
)
from facecue.governance.consent import NOTICE_VERSION

from .conftest import NOW, SUBJECT, consent_for


def test_notice_names_purpose_controller_and_the_five_sections():
    n = render_notice("assessment", "US-IL", "Acme Ltd")
    for heading in (
        "What is analysed",
        "How",
        "Who sees the results",
        "How long it is kept",
        "Your consent and how to withdraw it",
    ):
        assert f"\n{heading}\n" in n.text and f"<h2>{heading}</h2>" in n.html
    assert "for assessment by Acme Ltd" in n.text and "within 30 days of your request" in n.text
    assert (n.version, n.purpose, n.jurisdiction) == (NOTICE_VERSION, "assessment", "US-IL")
    assert n.sha256 == hashlib.sha256(n.text.encode()).hexdigest()


def test_notice_follows_the_policy_row():
    assert "within 28 days" in render_notice("practice", "DE", "Me").text
    assert "never shares your results" in render_notice("practice", "US", "Me").text
    assert "Bias audit" in render_notice("assessment", "US-NY-NYC", "Acme").text
    assert "Bias audit" not in render_notice("assessment", "US", "Acme").text
    shorter = render_notice("assessment", "US", "Acme", {"assessment:US": {"media_retention_days": 7}})
    assert "deleted 7 days after" in shorter.text


def test_notice_fingerprint_changes_with_controller_and_jurisdiction():
    shas = {render_notice("assessment", j, c).sha256 for j in ("US", "UK") for c in ("Acme", "Globex")}
    assert len(shas) == 4


def test_notice_html_escapes_the_controller():
    n = render_notice("research", "US", "<b>Uni</b> & co")
    assert "&lt;b&gt;Uni&lt;/b&gt; &amp; co" in n.html and "<b>" not in n.html


def test_no_notice_for_a_prohibited_analysis():
    with pytest.raises(PolicyError, match=r"Art\. 5\(1\)\(f\)"):
        render_notice("assessment", "IT", "Acme")


@pytest.mark.parametrize("controller", ["", "   ", "Acme\nLtd", "x" * 201])
def test_notice_needs_a_one_line_controller(controller):
    with pytest.raises(ConsentError, match="controller"):
        render_notice("research", "US", controller)


def test_record_round_trips_through_json(tmp_path):
    rec = consent_for("assessment", "US", scope=("analysis", "share_with_reviewers")).withdraw(NOW)
    path = rec.save(tmp_path / "c.json")
    assert ConsentRecord.load(path) == rec
    assert json.loads(path.read_text())["schema"] == "facecue.consent/1"


@pytest.mark.parametrize(
    "change,message",
    [
        ({"given_at": NOW.replace(tzinfo=None)}, "time zone"),
        ({"subject_id": "jane.doe@example.com"}, "pseudonymous id"),
        ({"subject_id": "Jane Doe"}, "pseudonymous id"),
        ({"subject_id": "ab"}, "pseudonymous id"),
        ({"purpose": "hiring"}, "unknown purpose"),
        ({"notice_sha256": "abc"}, "64-hex-digit"),
        ({"scope": ()}, "must include 'analysis'"),
        ({"scope": ("analysis", "sell")}, "only name"),
        ({"withdrawn_at": NOW - timedelta(days=30)}, "before it was given"),
    ],
)
def test_invalid_records_are_refused(change, message):
    with pytest.raises(PolicyError, match=message):
        replace(consent_for("research", "US"), **change)


def test_practice_consent_cannot_cover_sharing():
    with pytest.raises(ConsentError, match="never shared"):
        consent_for("practice", "US", scope=("analysis", "share_with_reviewers"))


def test_load_refuses_what_is_not_a_consent_record(tmp_path):
    (tmp_path / "a.json").write_text('{"schema": "facecue.result/1"}')
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "c.json").write_text('{"schema": "facecue.consent/1", "subject_id": "cand-0042"}')
    for name, message in (("a.json", "not a consent record"), ("b.json", "cannot read"), ("c.json", "incomplete")):
        with pytest.raises(ConsentError, match=message):
            ConsentRecord.load(tmp_path / name)


def test_valid_consent_allows_analysis_and_returns_the_decision(assessment_consent):
    d = check_analysis_allowed("assessment", "US", assessment_consent, NOW, controller="Acme Ltd", subject_id=SUBJECT)
    assert d.allowed and d.share_with_reviewers


@pytest.mark.parametrize("purpose", ["practice", "research", "assessment"])
def test_missing_consent_is_refused_for_every_purpose(purpose):
    with pytest.raises(ConsentError, match=f"analysis for {purpose} needs the subject's recorded consent"):
        check_analysis_allowed(purpose, "US", None, NOW)


def test_withdrawn_consent_is_refused_from_the_moment_of_withdrawal(assessment_consent):
    later = assessment_consent.withdraw(NOW + timedelta(hours=1))
    check_analysis_allowed("assessment", "US", later, NOW)  # not yet withdrawn
    with pytest.raises(ConsentError, match="withdrawn at 2025-06-02T10:00:00"):
        check_analysis_allowed("assessment", "US", later, NOW + timedelta(hours=1))
    with pytest.raises(ConsentError, match="already withdrawn"):
        later.withdraw(NOW)


def test_consent_for_another_purpose_is_refused():
    with pytest.raises(ConsentError, match="given for practice, not for assessment"):
        check_analysis_allowed("assessment", "US", consent_for("practice", "US"), NOW)


def test_consent_to_an_older_notice_version_is_refused(assessment_consent):
    old = replace(assessment_consent, notice_version="0")
    with pytest.raises(ConsentError, match="notice version 0; the current notice is version 1"):
        check_analysis_allowed("assessment", "US", old, NOW)


def test_consent_to_a_different_notice_text_is_refused():
    made_for_us = consent_for("assessment", "US")
    with pytest.raises(ConsentError, match=r"different notice text.*US-IL"):
        check_analysis_allowed("assessment", "US-IL", made_for_us, NOW)
    stricter = {"assessment:US": {"media_retention_days": 7}}  # the terms read changed, so consent must be renewed
    with pytest.raises(ConsentError, match="different notice text"):
        check_analysis_allowed("assessment", "US", made_for_us, NOW, stricter)


def test_consent_given_to_another_organisation_is_refused(assessment_consent):
    with pytest.raises(ConsentError, match="given to 'Acme Ltd', not to 'Globex'"):
        check_analysis_allowed("assessment", "US", assessment_consent, NOW, controller="Globex")


def test_consent_from_another_subject_is_refused(assessment_consent):
    with pytest.raises(ConsentError, match="from subject cand-0042, not cand-0099"):
        check_analysis_allowed("assessment", "US", assessment_consent, NOW, subject_id="cand-0099")


def test_consent_dated_in_the_future_is_refused(assessment_consent):
    with pytest.raises(ConsentError, match="is dated"):
        check_consent(assessment_consent, "assessment", NOW - timedelta(days=2))
    with pytest.raises(ConsentError, match="time zone"):
        check_consent(assessment_consent, "assessment", NOW.replace(tzinfo=None))


def test_prohibited_analysis_is_refused_even_with_consent(assessment_consent):
    with pytest.raises(PolicyError, match=r"Art\. 5\(1\)\(f\)"):
        check_analysis_allowed("assessment", "NL", assessment_consent, NOW)


def test_overrides_refusal_wins_over_valid_consent():
    rec = consent_for("research", "US")
    with pytest.raises(PolicyError, match="deployer's policy: no studies"):
        check_analysis_allowed("research", "US", rec, NOW, {"research:*": {"allowed": False, "reason": "no studies"}})


def test_practice_results_are_never_shared_with_reviewers():
    rec = consent_for("practice", "US")
    check_analysis_allowed("practice", "US", rec, NOW)
    for jurisdiction in ("US", "UK", "DE", "US-IL", "US-NY-NYC", "OTHER"):
        with pytest.raises(PolicyError, match=r"practice analysis .* never shared"):
            check_sharing_allowed("practice", jurisdiction, consent_for("practice", jurisdiction), NOW)


def test_sharing_assessment_results_needs_consent_to_share():
    both = consent_for("assessment", "US", scope=("analysis", "share_with_reviewers"))
    assert check_sharing_allowed("assessment", "US", both, NOW).share_with_reviewers
    with pytest.raises(ConsentError, match="did not consent to sharing"):
        check_sharing_allowed("assessment", "US", consent_for("assessment", "US"), NOW)
    with pytest.raises(PolicyError, match=r"research analysis .* never shared"):
        check_sharing_allowed("research", "US", consent_for("research", "US"), NOW)
