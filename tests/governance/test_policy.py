"""The policy table: every rule, and an attempt to break it."""

from __future__ import annotations

import json

import pytest

from facecue.errors import FacecueError
from facecue.governance import POLICY_VERSION, PURPOSES, REGIONS, PolicyError, decide, load_overrides, region_of
from facecue.governance.policy import BASE_TABLE, EEA_EFTA_STATES, EU_MEMBER_STATES, policy_table

EU_EEA_CODES = sorted(EU_MEMBER_STATES | EEA_EFTA_STATES)
NOT_EU = ["UK", "GB", "US", "US-CA", "US-NY", "US-IL", "US-NY-NYC", "OTHER"]


def test_table_covers_every_purpose_and_region_once():
    assert set(BASE_TABLE) == {(p, r) for p in PURPOSES for r in REGIONS}
    assert len(EU_MEMBER_STATES - {"EL"}) == 27 and {"IS", "LI", "NO"} == EEA_EFTA_STATES


@pytest.mark.parametrize("code", [*EU_EEA_CODES, "EU", "EEA", "EU/EEA", "de", " fr "])
def test_assessment_is_refused_in_every_eu_eea_state(code):
    d = decide("assessment", code)
    assert d.allowed is False and d.region == "EU/EEA"
    assert "Art. 5(1)(f)" in d.reason
    if d.jurisdiction in EEA_EFTA_STATES:  # the Act's incorporation into the EEA Agreement may still be pending
        assert "applicable since" not in d.reason and "as its own policy" in d.reason
    else:
        assert "2 February 2025" in d.reason
    assert d.share_with_reviewers is False


@pytest.mark.parametrize("code", sorted(EEA_EFTA_STATES))
def test_in_iceland_liechtenstein_and_norway_the_refusal_is_facecues_policy_not_the_act(code):
    refused = decide("assessment", code).reason
    assert "in Iceland, Liechtenstein and Norway the Act applies only once the EEA Agreement incorporates it" in refused
    assert "facecue applies the same refusal there as its own policy" in refused
    for purpose in ("staff_practice", "student_practice"):  # the behaviour-only rows rest on the same prohibition
        row = decide(purpose, code)
        assert "applies that prohibition there as its own policy" in row.reason
        emotions = decide(purpose, code, signals=("emotions", "behaviour"))
        assert not emotions.allowed and "as its own policy" in emotions.reason
    assert "as its own policy" not in decide("assessment", "DE").reason  # EU states: the Act itself
    assert "as its own policy" not in decide("assessment", "EEA").reason


@pytest.mark.parametrize("code", EU_EEA_CODES)
def test_practice_and_research_stay_allowed_in_eu_eea_with_consent(code):
    for purpose in ("practice", "research"):
        d = decide(purpose, code)
        assert (d.allowed, d.requires_consent, d.share_with_reviewers) == (True, True, False)
        assert d.erasure_deadline_days == 28


@pytest.mark.parametrize("code", NOT_EU)
def test_assessment_outside_eu_needs_consent_and_may_be_shared(code):
    d = decide("assessment", code)
    assert (d.allowed, d.requires_consent, d.share_with_reviewers) == (True, True, True)


@pytest.mark.parametrize("region", REGIONS)
def test_practice_results_are_never_shared_and_research_always_needs_consent(region):
    assert decide("practice", region).share_with_reviewers is False
    assert decide("practice", region).requires_consent is True
    assert decide("research", region).requires_consent is True
    assert decide("research", region).share_with_reviewers is False


def test_bias_audit_is_required_for_assessment_in_new_york_city_only():
    required = {(p, r) for (p, r) in BASE_TABLE if decide(p, r).bias_audit_required}
    assert required == {("assessment", "US-NY-NYC")}
    assert "Local Law 144" in decide("assessment", "US-NY-NYC").reason
    assert decide("assessment", "US-NY").region == "US" and not decide("assessment", "US-NY").bias_audit_required


def test_illinois_deletes_within_30_days_and_limits_sharing():
    d = decide("assessment", "us-il")
    assert d.erasure_deadline_days == 30 and "820 ILCS 42/5" in d.reason
    assert any("820 ILCS 42/15" in n and "30 days" in n for n in d.notes)
    assert any("820 ILCS 42/10" in n for n in d.notes)


@pytest.mark.parametrize(
    "code,region",
    [
        ("US-CA", "US"),
        ("us-dc", "US"),
        ("US-PR", "US"),
        ("GB", "UK"),
        ("EL", "EU/EEA"),
        ("NO", "EU/EEA"),
        ("other", "OTHER"),
        ("US-IL", "US-IL"),
    ],
)
def test_jurisdiction_codes_map_to_regions(code, region):
    assert region_of(code) == region


@pytest.mark.parametrize("code", ["", "DEU", "CH", "USA", "US-ILL", "EU-DE", "XX", "US-IK", "US-ZZ", "US-EU"])
def test_unknown_jurisdiction_is_an_error_not_the_permissive_row(code):
    with pytest.raises(PolicyError, match="unknown jurisdiction"):
        decide("assessment", code)


@pytest.mark.parametrize("code", ["RE", "GP", "MQ", "GF", "YT", "MF", "AX", "re", " ax "])
def test_eu_outermost_regions_and_aland_take_the_eu_rows(code):
    # EU territory with codes of their own: before, "unknown jurisdiction ... or OTHER" pointed at the loosest row.
    assert region_of(code) == "EU/EEA"
    d = decide("assessment", code)
    assert d.allowed is False and "Art. 5(1)(f)" in d.reason and d.region == "EU/EEA"
    assert not decide("staff_practice", code, signals=("emotions", "behaviour")).allowed


def test_the_unknown_code_error_says_eu_territories_take_their_states_code():
    with pytest.raises(PolicyError, match=r"an EU territory takes its state's code, e\.g\. ES for the Canary Islands"):
        region_of("IC")


def test_unknown_purpose_is_an_error():
    with pytest.raises(PolicyError, match="unknown purpose 'hiring'"):
        decide("hiring", "US")
    assert issubclass(PolicyError, FacecueError)


def test_decision_records_version_and_question():
    d = decide("research", "fr")
    assert (d.purpose, d.jurisdiction, d.region, d.policy_version, d.overridden) == (
        "research",
        "FR",
        "EU/EEA",
        POLICY_VERSION,
        False,
    )
    assert json.loads(json.dumps(d.to_dict()))["notes"] == list(d.notes)


def test_override_can_refuse_research():
    overrides = {"research:*": {"allowed": False, "reason": "we run no studies"}}
    for region in REGIONS:
        d = decide("research", region, overrides=overrides)
        assert d.allowed is False and d.overridden is True
        assert d.reason == "refused by the deployer's policy: we run no studies"
    assert decide("assessment", "US", overrides=overrides).allowed is True


def test_override_can_shorten_retention_and_add_audit():
    tighter = {"media_retention_days": 7, "erasure_deadline_days": 10, "bias_audit_required": True, "notes": ["ours"]}
    d = decide("assessment", "US-IL", overrides={"assessment:US-IL": tighter})
    assert (d.media_retention_days, d.erasure_deadline_days, d.bias_audit_required) == (7, 10, True)
    assert d.notes[-1] == "ours" and d.overridden


def test_a_prohibited_row_keeps_its_legal_reason_under_a_wildcard_refusal():
    d = decide("assessment", "DE", overrides={"assessment:*": {"allowed": False, "reason": "no hiring use"}})
    assert "Art. 5(1)(f)" in d.reason


@pytest.mark.parametrize(
    "key,change,field",
    [
        ("assessment:EU/EEA", {"allowed": True}, "allowed"),
        ("assessment:*", {"allowed": True}, "allowed"),
        ("*:*", {"allowed": True}, "allowed"),
        ("practice:US", {"share_with_reviewers": True}, "share_with_reviewers"),
        ("practice:*", {"share_with_reviewers": True}, "share_with_reviewers"),
        ("research:UK", {"requires_consent": False}, "requires_consent"),
        ("assessment:US", {"requires_consent": False}, "requires_consent"),
        ("assessment:US-NY-NYC", {"bias_audit_required": False}, "bias_audit_required"),
        ("assessment:US-IL", {"erasure_deadline_days": 31}, "erasure_deadline_days"),
        ("research:*", {"media_retention_days": 366}, "media_retention_days"),
    ],
)
def test_override_that_loosens_the_table_raises(key, change, field):
    with pytest.raises(PolicyError, match=f"would loosen.*{field}"):
        decide("practice", "OTHER", overrides={key: change})  # fails whatever is being decided


def test_loosening_message_cites_the_prohibition():
    with pytest.raises(PolicyError, match=r"Art\. 5\(1\)\(f\)"):
        policy_table({"assessment:EU/EEA": {"allowed": True}})


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"assessment": {"allowed": False}}, "must be 'purpose:region'"),
        ({"assessment:DE": {"allowed": False}}, "belongs to EU/EEA"),
        ({"hiring:*": {"allowed": False}}, "unknown purpose"),
        ({"research:*": {"retention": 5}}, "unknown field"),
        ({"research:*": {"allowed": "no"}}, "true or false"),
        ({"research:*": {"media_retention_days": -1}}, "whole number of days"),
        ({"research:*": {"reason": "x"}}, "reason goes only with"),
        ({"research:*": {"notes": "one string"}}, "list of sentences"),
        ({"research:*": {"notes": 5}}, "list of sentences"),
        ({"research:*": ["allowed"]}, "must map field names"),
    ],
)
def test_malformed_overrides_are_refused(overrides, message):
    with pytest.raises(PolicyError, match=message):
        decide("research", "US", overrides=overrides)


def test_restating_a_base_value_is_not_an_override():
    same = {"share_with_reviewers": True, "requires_consent": True}
    d = decide("assessment", "US", overrides={"assessment:US": same})
    assert d.overridden is False and d.share_with_reviewers is True


def test_load_overrides_checks_the_file(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"research:*": {"allowed": False}}))
    assert decide("research", "US", overrides=load_overrides(good)).allowed is False
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"assessment:EU/EEA": {"allowed": True}}))
    with pytest.raises(PolicyError, match="would loosen"):
        load_overrides(bad)
    with pytest.raises(PolicyError, match="cannot read"):
        load_overrides(tmp_path / "missing.json")


@pytest.mark.parametrize(
    "purpose, jurisdiction, missing",
    [
        (None, None, "purpose and jurisdiction"),
        ("practice", None, "jurisdiction"),
        (None, "US", "purpose"),
        ("", "US", "purpose"),
        ("practice", "", "jurisdiction"),
    ],
)
def test_the_library_gate_needs_purpose_and_jurisdiction_even_with_consent(purpose, jurisdiction, missing):
    from facecue.governance import policy_for
    from tests.governance.conftest import consent_for

    with pytest.raises(PolicyError, match=rf"^say why and where this analysis runs \({missing} missing\): purpose "):
        policy_for(purpose, jurisdiction, consent_for("practice", "US"))


def test_the_library_gate_always_decides_and_every_row_needs_consent(tmp_path):
    from facecue.governance import ConsentError, Decision, policy_for
    from tests.governance.conftest import consent_for

    path = consent_for("practice", "OTHER").save(tmp_path / "consent.json")
    decision = policy_for("practice", "other", str(path))  # a record's JSON path works like the record
    assert isinstance(decision, Decision) and (decision.allowed, decision.jurisdiction) == (True, "OTHER")
    for purpose in PURPOSES:
        for region in REGIONS:
            for signals in (("emotions", "behaviour"), ("behaviour",)):
                with pytest.raises(PolicyError) as refused:
                    policy_for(purpose, region, signals=signals)
                assert isinstance(refused.value, ConsentError) or not decide(purpose, region, signals=signals).allowed


# Practice an employer or an education institution organises for its own people (policy 2025.2 on).
ORGANISED = ("staff_practice", "student_practice")


@pytest.mark.parametrize("purpose", ORGANISED)
@pytest.mark.parametrize("code", ["DE", "FR", "NO", "EU"])
def test_organised_practice_in_the_eu_allows_behaviour_only(purpose, code):
    behaviour = decide(purpose, code, signals=("behaviour",))
    assert behaviour.allowed and behaviour.requires_consent and not behaviour.share_with_reviewers
    assert behaviour.signals == ("behaviour",) and behaviour.emotions_allowed is False
    assert "Art. 5(1)(f)" in behaviour.reason and "Recital 18" in behaviour.reason
    for signals in (("emotions", "behaviour"), ("emotions",)):
        refused = decide(purpose, code, signals=signals)
        assert refused.allowed is False and "--signals behaviour" in refused.reason
    assert decide(purpose, code).allowed  # the row as a whole (e.g. for its notice) is allowed


@pytest.mark.parametrize("signals", [("behaviour",), ("emotions", "behaviour"), ("emotions",), None])
def test_assessment_in_the_eu_stays_refused_in_every_mode(signals):
    d = decide("assessment", "DE", signals=signals)
    assert d.allowed is False and "Art. 5(1)(f)" in d.reason


@pytest.mark.parametrize("purpose", ORGANISED)
@pytest.mark.parametrize("region", ["UK", "US-IL", "US-NY-NYC", "US", "OTHER"])
def test_organised_practice_outside_the_eu_allows_both_modes_and_shares_nothing(purpose, region):
    d = decide(purpose, region, signals=("emotions", "behaviour"))
    assert d.allowed and d.emotions_allowed and d.requires_consent and not d.share_with_reviewers


def test_emotions_allowed_can_only_be_tightened():
    table = policy_table({"practice:EU/EEA": {"emotions_allowed": False}})
    assert table[("practice", "EU/EEA")].emotions_allowed is False
    assert (
        decide(
            "practice", "FR", overrides={"practice:EU/EEA": {"emotions_allowed": False}}, signals=("emotions",)
        ).allowed
        is False
    )
    with pytest.raises(PolicyError, match="loosen"):
        policy_table({"staff_practice:EU/EEA": {"emotions_allowed": True}})


def test_unknown_signals_are_refused():
    with pytest.raises(PolicyError, match="signals"):
        decide("practice", "FR", signals=("moods",))
