"""Notice and consent: the notice's content and fingerprint, the record's rules, and every way consent can fail."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from facecue.governance import (
    ConsentError,
    ConsentRecord,
    PolicyError,
    check_analysis_allowed,
    check_consent,
    check_sharing_allowed,
    decide,
    render_notice,
)
from facecue.governance.consent import NOTICE_VERSION, NOTICE_VERSION_SINCE

from .conftest import NOW, SUBJECT, consent_for

SECTIONS = (
    "What is analysed",
    "What is measured",
    "What the results mean, and their limits",
    "Who sees the results",
    "How long it is kept",
    "Your consent and how to withdraw it",
)


def test_notice_names_purpose_controller_and_its_sections():
    n = render_notice("assessment", "US-IL", "Acme Ltd")
    for heading in SECTIONS:
        assert f"\n{heading}\n" in n.text and f"<h2>{heading}</h2>" in n.html
    assert n.text.startswith("Notice: AI analysis of your video interview for assessment by Acme Ltd\n")
    assert "within 30 days of your request" in n.text
    assert (n.version, n.purpose, n.jurisdiction) == (NOTICE_VERSION, "assessment", "US-IL")
    assert n.sha256 == hashlib.sha256(n.text.encode()).hexdigest()


# The sha256 of one notice, pinned: a change to the notice's wording fails here until NOTICE_VERSION and
# NOTICE_VERSION_SINCE are bumped (so consent to the old text stops validating) and this value is updated. (A new
# POLICY_VERSION alone changes the footer, and so the sha256, which already voids consent to the old text.)
PINNED = ("2", "2026-12-05", "eb52b0e4428efc9c8eb75d6a06137299f4b050f7425a361540a942e76e0c82f6")


def test_a_changed_notice_text_needs_a_new_notice_version():
    n = render_notice("assessment", "US-IL", "Acme Ltd")
    assert (NOTICE_VERSION, NOTICE_VERSION_SINCE.date().isoformat(), n.sha256) == PINNED, (
        "the notice text changed: if its wording changed, bump NOTICE_VERSION and NOTICE_VERSION_SINCE in "
        "governance/consent.py; then pin the version, date and sha256 here"
    )


def test_notice_lists_everything_an_emotion_analysis_computes():
    text = render_notice("assessment", "US", "Acme Ltd").text
    for measured in (
        "angry, disgust, fear, happy, sad, surprise and neutral",  # the seven labels, per frame
        # the derived cues, and which of them is read against the person's own baseline (discomfort only)
        "visible discomfort (compared with your own usual expression in the same video), visible positive "
        "engagement (how often your face reads as happy), and composure (how steady your expression stays)",
        "eye contact with the camera and looking away",
        "blinks",
        "smiles (the shape of your mouth)",
        "head nods and shakes",
        "posture and leaning",
        "fidgeting",
        "a hand near your face",
        "pitch, loudness, speaking rate and pauses",
        "another voice there (an interviewer's, for example) is measured with yours",
        "scored as positive or negative (with the VADER word list) and compared with what your face showed",
        "still pictures of your face",
        "If someone else is in view (an interviewer, for example), their face is detected and followed too",
        "not what you felt",
        "never a decision about you",
    ):
        assert measured in text, measured
    # The model's measured limits, with docs/MODEL_CARD.md's figures.
    for limit in ("FER2013", "about two times in three (67.5%)", "FairFace", "3.5 percentage points", "no reading"):
        assert limit in text, limit


@pytest.mark.parametrize("purpose", ["staff_practice", "student_practice"])
def test_behaviour_only_notice_lists_the_measurements_and_no_emotion_reading(purpose):
    text = render_notice(purpose, "DE", "Acme GmbH").text
    for measured in (
        "nods, shakes",
        "eye contact with the camera, looking away",
        "blinks",
        "smile",
        "posture (leaning, shoulders), fidgeting, and a hand near your face",
        "pitch, loudness, speaking rate and pauses",
        "(an interviewer's, for example) is measured with yours",
        "still pictures of your face",
        "a transcript, used only to tell when you spoke",
        "No emotion is inferred",
    ):
        assert measured in text, measured
    for emotion in ("angry", "seven facial expressions", "discomfort", "composure", "VADER", "67.5%"):
        assert emotion not in text, emotion


def test_practice_notice_keeps_employers_recruiters_and_schools_out():
    for code in ("DE", "NO", "US", "UK", "OTHER"):
        text = render_notice("practice", code, "Coach Ltd").text
        assert "your results go to you alone, never to an employer, a recruiter, a school" in text
        assert (
            "No employer, recruiter or school may provide this practice to you, require it of you, or see its " in text
        )
        assert "runs the software for you" in text
    # In the EU/EEA that is where the prohibition begins (the policy row's note).
    assert "which the EU AI Act prohibits (Art. 5(1)(f))" in render_notice("practice", "DE", "Coach Ltd").text
    assert "Art. 5(1)(f)" not in render_notice("practice", "US", "Coach Ltd").text


@pytest.mark.parametrize("purpose,code", [("assessment", "US-IL"), ("practice", "DE"), ("research", "UK")])
def test_retention_promises_only_what_is_done_and_says_who_does_it(purpose, code):
    n = render_notice(purpose, code, "Acme Ltd")
    d = decide(purpose, code)
    keep = n.text.split("\nHow long it is kept\n")[1].split("\n\n")[0]
    assert f"Acme Ltd must delete the raw video of your interview no later than {d.media_retention_days} days" in keep
    assert "facecue's review service, where Acme Ltd uses it, does this automatically" in keep
    assert (
        "The results, including the still pictures of your face, are kept until you ask for them to be deleted" in keep
    )
    assert (
        f"Acme Ltd must do so within {d.erasure_deadline_days} days of your request, including the copies in its "
        in keep
    )
    assert "backups" in keep and "ask everyone who received a copy from it to delete theirs" in keep
    assert "Your raw video is deleted" not in n.text and "every copy" not in n.text


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
    with pytest.raises(ConsentError, match=re.escape(f"withdrawn at {(NOW + timedelta(hours=1)).isoformat()}")):
        check_analysis_allowed("assessment", "US", later, NOW + timedelta(hours=1))
    with pytest.raises(ConsentError, match="already withdrawn"):
        later.withdraw(NOW)


def test_consent_for_another_purpose_is_refused():
    with pytest.raises(ConsentError, match="given for practice, not for assessment"):
        check_analysis_allowed("assessment", "US", consent_for("practice", "US"), NOW)


def test_consent_to_an_older_notice_version_is_refused(assessment_consent):
    # Version 1 left out most of what is computed: consent given to it no longer validates.
    old = replace(assessment_consent, notice_version="1")
    with pytest.raises(ConsentError) as refused:
        check_analysis_allowed("assessment", "US", old, NOW)
    assert str(refused.value) == (
        "the consent was given to notice version 1, which is no longer current: show the subject the current "
        f"notice (version {NOTICE_VERSION}) and ask for their consent to it."
    )


def test_consent_dated_before_the_notice_existed_is_refused():
    notice = render_notice("research", "US", "Uni")
    before = NOTICE_VERSION_SINCE - timedelta(seconds=1)
    for given in (datetime(2019, 1, 1, tzinfo=UTC), before):
        with pytest.raises(ConsentError, match=r"is before notice version \S+ was published \(\d{4}-\d\d-\d\d\)"):
            ConsentRecord.for_notice(notice, SUBJECT, given_at=given)
    # A record made by hand (or by an older facecue) with such a date is refused when it is used.
    hand_made = replace(consent_for("research", "US", controller="Uni"), given_at=before)
    with pytest.raises(ConsentError, match="so the subject cannot have agreed to it then"):
        check_analysis_allowed("research", "US", hand_made, NOW)
    assert ConsentRecord.for_notice(notice, SUBJECT, given_at=NOTICE_VERSION_SINCE).given_at == NOTICE_VERSION_SINCE


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
