"""Purposes, jurisdictions and the policy table that decides what an analysis may do.

The table is data, versioned by POLICY_VERSION: change a row, bump the version and regenerate the
table in docs/RESPONSIBLE_USE.md (a test compares the two). It encodes a conservative reading of
the laws it cites, not legal advice. Deployers may tighten it with overrides, never loosen it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from facecue.errors import FacecueError

POLICY_VERSION = "2026.1"

# staff_practice / student_practice: interview practice that an employer or an education institution
# organises for its own people (staff, students) -- inside the workplace and education settings of the AI Act.
PURPOSES = ("practice", "research", "assessment", "staff_practice", "student_practice")
# What an analysis reads (facecue.options.SIGNALS); only "emotions" is emotion recognition in the AI Act's sense.
SIGNALS = ("emotions", "behaviour")

# Greece is GR in ISO 3166 and EL in EU usage; both are accepted.
EU_MEMBER_STATES = frozenset(
    {
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    }
)
EEA_EFTA_STATES = frozenset({"IS", "LI", "NO"})
# EU territory with an ISO 3166 code of its own: the French outermost regions (Réunion, Guadeloupe, Martinique,
# French Guiana, Mayotte, Saint-Martin) and Åland (Finland). EU law applies there, so they take the EU/EEA rows;
# the outermost regions without a code of their own (the Canary Islands, the Azores, Madeira) use their state's.
EU_TERRITORIES = frozenset({"RE", "GP", "MQ", "GF", "YT", "MF", "AX"})
# The USPS codes of the 50 states, DC and the inhabited territories: a US-<code> outside them is a typo (US-IK
# for US-IL), which must not land on the generic US row and so miss Illinois's Video Interview Act.
_US_CODES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI"
)
US_STATES = frozenset(_US_CODES.split())

# The --jurisdiction help of every command that takes one (facecue notice, consent record; analyze, batch, live).
JURISDICTION_HELP = (
    "EU/EEA country code (DE, NO…; an EU territory takes its state's, e.g. ES for the Canary Islands), UK, US, "
    "US-<state>, US-NY-NYC or OTHER. Where several apply (the candidate's location, an EU-established deployer, a "
    "job based in Illinois or New York City), give the strictest"
)

# The table's rows are per region; every accepted jurisdiction code maps to exactly one region.
REGIONS = ("EU/EEA", "UK", "US-IL", "US-NY-NYC", "US", "OTHER")

_SUBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{3,127}")


class PolicyError(FacecueError):
    """The policy refuses an analysis or a use of its results, or a policy setting is invalid."""


def check_subject_id(subject_id: str) -> str:
    """Subject ids are pseudonymous tokens: long enough to search for, and never an e-mail or a name."""
    if not isinstance(subject_id, str) or not _SUBJECT_ID.fullmatch(subject_id):
        raise PolicyError(
            f"subject id {subject_id!r} must be 4-128 letters, digits, '.', '_' or '-' (a pseudonymous "
            "id, not a name or e-mail address)."
        )
    return subject_id


def check_purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise PolicyError(f"unknown purpose {purpose!r}; choose one of {', '.join(PURPOSES)}.")
    return purpose


def region_of(jurisdiction: str) -> str:
    """The table region for a jurisdiction code: EU/EEA country codes (and the EU territories with codes of their
    own: RE, GP, MQ, GF, YT, MF, AX), UK/GB, US, US-<state>, US-NY-NYC, OTHER."""
    code = str(jurisdiction).strip().upper()
    if code in REGIONS:
        return code
    if code in EU_MEMBER_STATES or code in EEA_EFTA_STATES or code in EU_TERRITORIES or code in ("EU", "EEA"):
        return "EU/EEA"
    if code == "GB":
        return "UK"
    if code.startswith("US-") and code[3:] in US_STATES:  # a state without a row of its own; NYC is US-NY-NYC
        return "US"
    if code.startswith("US-"):
        raise PolicyError(
            f"unknown jurisdiction {jurisdiction!r}: after US- give a state's two-letter postal code "
            f"({', '.join(sorted(US_STATES))}), or use US-NY-NYC for New York City or plain US."
        )
    # An unknown code must not fall through to the most permissive row by a typo.
    raise PolicyError(
        f"unknown jurisdiction {jurisdiction!r}: use an EU/EEA country code (e.g. DE, NO; an EU territory takes "
        "its state's code, e.g. ES for the Canary Islands), UK, US, US-<state> (e.g. US-IL), US-NY-NYC, or OTHER "
        "for anywhere the table does not list."
    )


@dataclass(frozen=True)
class Rule:
    """One row of the policy table: what an analysis for a purpose may do in a region."""

    allowed: bool
    reason: str  # why, citing the legal basis where there is one
    requires_consent: bool = True  # a valid consent record is needed before analysis
    share_with_reviewers: bool = False  # results may be shown to an organisation's reviewers
    bias_audit_required: bool = False  # an independent bias audit must exist before use
    media_retention_days: int = 30  # raw video is deleted this many days after the analysis
    erasure_deadline_days: int = 30  # a deletion request is carried out within this many days
    notes: tuple[str, ...] = ()
    emotions_allowed: bool = True  # False: only `--signals behaviour` (no emotion inference) may run


@dataclass(frozen=True, kw_only=True)
class Decision(Rule):
    """The rule that applies to one analysis, with the question it answered."""

    purpose: str
    jurisdiction: str
    region: str
    policy_version: str = POLICY_VERSION
    overridden: bool = False
    signals: tuple[str, ...] = ()  # the signals the decision was asked about; () = the row as a whole

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        d["signals"] = list(self.signals)
        return d


_EU_PROHIBITION = (
    "refused: the EU AI Act, Art. 5(1)(f), prohibits AI systems that infer the emotions of people in the workplace "
    "and in education institutions (recital 44), which the Commission's guidelines on prohibited practices read as "
    "including recruitment; applicable since 2 February 2025; its medical and safety exceptions do not cover hiring."
)
# Iceland, Liechtenstein and Norway take EU law through the EEA Agreement, once it incorporates an act: the AI Act's
# incorporation may still be pending there, so facecue refuses there as its own policy and says so (decide()).
_EEA_EFTA_PROHIBITION = (
    "refused: the EU AI Act, Art. 5(1)(f), prohibits AI systems that infer the emotions of people in the workplace "
    "and in education institutions (recital 44), which the Commission's guidelines on prohibited practices read as "
    "including recruitment; in Iceland, Liechtenstein and Norway the Act applies only once the EEA Agreement "
    "incorporates it, which may still be pending, so facecue applies the same refusal there as its own policy."
)
_EEA_EFTA_NOTE = (
    "Iceland, Liechtenstein and Norway (IS, LI, NO): the AI Act applies there only once the EEA Agreement "
    "incorporates it, which may still be pending; facecue applies this row there all the same, as its own policy, "
    "and the decision's reason says so."
)
_GDPR = (
    "GDPR: consent (Art. 6(1)(a), 7) is the basis recorded here; erasure requests are answered within one month "
    "(Art. 12(3), 17), 28 days here so the clock never overruns a short month; expect a DPIA (Art. 35)."
)
_EU_HIGH_RISK = (
    "Outside the prohibition, emotion recognition is high-risk under the AI Act (Annex III, 1(c)) and "
    "deployers must tell the people exposed (Art. 50(3)); the Act as adopted applies both from 2 August "
    "2026: check whether later amendments moved the high-risk date."
)
_UK_GDPR = (
    "UK GDPR and the Data Protection Act 2018: consent recorded here; erasure within one month (Art. 12(3)), "
    "28 days here; the ICO warned in October 2022 that emotion analysis is immature and risks discrimination."
)
_BIPA = (
    "Illinois BIPA (740 ILCS 14) may treat face geometry as a biometric identifier: written release and a "
    "published retention schedule."
)
_US = (
    "No US federal law addresses emotion analysis; state laws may add rules (e.g. Maryland Lab. & Empl. § 3-717: "
    "signed consent before facial recognition in interviews)."
)
_OTHER = "Not reviewed for this jurisdiction: facecue's own defaults apply; check local law before use."

_PRACTICE = Rule(
    allowed=True,
    media_retention_days=30,
    reason="allowed: the candidate's own rehearsal; results go only to the candidate, and the candidate's own consent "
    "(a record the candidate gives to the practice notice) is the consent needed.",
)
_RESEARCH = Rule(
    allowed=True,
    media_retention_days=365,
    reason="allowed with informed consent: a study whose results go to its research team, never to an "
    "organisation's reviewers.",
)
_ASSESSMENT = Rule(
    allowed=True,
    share_with_reviewers=True,
    reason="allowed with a recorded notice and consent before analysis; reviewers see observations with their "
    "uncertainty, never a hire/no-hire verdict.",
)

_EU_BEHAVIOUR_ONLY = (
    "allowed only with --signals behaviour: an employer's or an education institution's practice for its own "
    "people is in the workplace or education setting where the EU AI Act, Art. 5(1)(f), prohibits inferring "
    "emotions; reporting readily apparent expressions, gestures and movements (a smile, a head movement, eye "
    "contact) without inferring emotions from them is outside that definition (Art. 3(39), Recital 18)."
)
_EEA_EFTA_BEHAVIOUR_ONLY = (
    "allowed only with --signals behaviour: an employer's or an education institution's practice for its own "
    "people is in the workplace or education setting where the EU AI Act, Art. 5(1)(f), prohibits inferring "
    "emotions; in Iceland, Liechtenstein and Norway the Act applies only once the EEA Agreement incorporates it, "
    "which may still be pending, so facecue applies that prohibition there as its own policy; reporting readily "
    "apparent expressions, gestures and movements (a smile, a head movement, eye contact) without inferring "
    "emotions from them is outside it (Art. 3(39), Recital 18)."
)
_EU_BEHAVIOUR_NOTE = (
    "Behaviour-only results must not be turned into emotion readings afterwards, by facecue or by "
    "a person: that would be emotion recognition again (Recital 18)."
)
_ORGANISED = Rule(
    allowed=True,
    media_retention_days=30,
    reason="allowed: practice the organisation offers its own people; results go only to the person practising, "
    "never to the organisation's reviewers, and the person's own consent is needed.",
)

BASE_TABLE: dict[tuple[str, str], Rule] = {
    ("practice", "EU/EEA"): replace(
        _PRACTICE,
        erasure_deadline_days=28,
        notes=(
            (
                "Outside Art. 5(1)(f) only while the results stay with the candidate: an employer, recruiter or school "
                "that provides, requires or sees the practice brings it back into the prohibited area."
            ),
            _EU_HIGH_RISK,
            _GDPR,
        ),
    ),
    ("research", "EU/EEA"): replace(
        _RESEARCH,
        erasure_deadline_days=28,
        notes=(
            "A study inside a workplace or school, or on real applicants, is in the prohibited area of Art. 5(1)(f).",
            _EU_HIGH_RISK,
            _GDPR,
        ),
    ),
    ("assessment", "EU/EEA"): Rule(
        allowed=False, reason=_EU_PROHIBITION, erasure_deadline_days=28, notes=(_EEA_EFTA_NOTE,)
    ),
    ("staff_practice", "EU/EEA"): replace(
        _ORGANISED,
        reason=_EU_BEHAVIOUR_ONLY,
        emotions_allowed=False,
        erasure_deadline_days=28,
        notes=(_EU_BEHAVIOUR_NOTE, _EEA_EFTA_NOTE, _GDPR),
    ),
    ("student_practice", "EU/EEA"): replace(
        _ORGANISED,
        reason=_EU_BEHAVIOUR_ONLY,
        emotions_allowed=False,
        erasure_deadline_days=28,
        notes=(_EU_BEHAVIOUR_NOTE, _EEA_EFTA_NOTE, _GDPR),
    ),
    ("staff_practice", "UK"): replace(_ORGANISED, erasure_deadline_days=28, notes=(_UK_GDPR,)),
    ("student_practice", "UK"): replace(_ORGANISED, erasure_deadline_days=28, notes=(_UK_GDPR,)),
    ("practice", "UK"): replace(_PRACTICE, erasure_deadline_days=28, notes=(_UK_GDPR,)),
    ("research", "UK"): replace(_RESEARCH, erasure_deadline_days=28, notes=(_UK_GDPR,)),
    ("assessment", "UK"): replace(_ASSESSMENT, erasure_deadline_days=28, notes=(_UK_GDPR,)),
    ("staff_practice", "US-IL"): replace(_ORGANISED, notes=(_BIPA,)),
    ("student_practice", "US-IL"): replace(_ORGANISED, notes=(_BIPA,)),
    ("practice", "US-IL"): replace(_PRACTICE, notes=(_BIPA,)),
    ("research", "US-IL"): replace(_RESEARCH, notes=(_BIPA,)),
    ("assessment", "US-IL"): replace(
        _ASSESSMENT,
        reason="allowed with notice, an explanation of how the analysis works and what it evaluates, and consent, "
        "all before the interview (Illinois AI Video Interview Act, 820 ILCS 42/5).",
        notes=(
            (
                "Share videos only with persons whose expertise or technology is needed to evaluate the applicant "
                "(820 ILCS 42/10)."
            ),
            (
                "Delete the videos and every copy, electronically generated backups included, within 30 days of the "
                "applicant's request, and have everyone who received a copy do the same (820 ILCS 42/15); no "
                "facecue erasure reaches backups, so the employer deletes those."
            ),
            (
                "If AI analysis alone decides who gets an in-person interview, report applicants' race and ethnicity "
                "yearly to the Illinois DCEO (820 ILCS 42/20); facecue never decides."
            ),
            _BIPA,
        ),
    ),
    ("staff_practice", "US-NY-NYC"): replace(_ORGANISED, notes=(_US,)),
    ("student_practice", "US-NY-NYC"): replace(_ORGANISED, notes=(_US,)),
    ("practice", "US-NY-NYC"): replace(_PRACTICE, notes=(_US,)),
    ("research", "US-NY-NYC"): replace(_RESEARCH, notes=(_US,)),
    ("assessment", "US-NY-NYC"): replace(
        _ASSESSMENT,
        bias_audit_required=True,
        reason="allowed with notice, consent and a bias audit: New York City Local Law 144 of 2021 (Admin. Code "
        "§§ 20-870 to 20-874; 6 RCNY § 5-300 ff.) covers tools that substantially assist employment decisions.",
        notes=(
            (
                "An independent bias audit no more than one year before use, its summary published: selection or "
                "scoring rates and impact ratios by sex, by race/ethnicity and by their intersections."
            ),
            (
                "Notify candidates who live in the city at least 10 business days before use, with the qualifications "
                "and characteristics assessed and how to ask for an alternative process or an accommodation."
            ),
            _US,
        ),
    ),
    ("staff_practice", "US"): replace(_ORGANISED, notes=(_US,)),
    ("student_practice", "US"): replace(_ORGANISED, notes=(_US,)),
    ("practice", "US"): replace(_PRACTICE, notes=(_US,)),
    ("research", "US"): replace(_RESEARCH, notes=(_US,)),
    ("assessment", "US"): replace(
        _ASSESSMENT,
        notes=(
            _US,
            "The employer answers for adverse impact (Title VII) and accommodations (ADA) whatever tool it uses.",
        ),
    ),
    ("staff_practice", "OTHER"): replace(_ORGANISED, notes=(_OTHER,)),
    ("student_practice", "OTHER"): replace(_ORGANISED, notes=(_OTHER,)),
    ("practice", "OTHER"): replace(_PRACTICE, notes=(_OTHER,)),
    ("research", "OTHER"): replace(_RESEARCH, notes=(_OTHER,)),
    ("assessment", "OTHER"): replace(_ASSESSMENT, notes=(_OTHER,)),
}

# The reasons of the rows that the AI Act's prohibition decides, as they read for IS, LI and NO.
_EEA_EFTA_REASONS = {_EU_PROHIBITION: _EEA_EFTA_PROHIBITION, _EU_BEHAVIOUR_ONLY: _EEA_EFTA_BEHAVIOUR_ONLY}

# For each overridable yes/no field, the value that is the stricter one; for day counts, smaller is stricter.
_STRICTER = {
    "allowed": False,
    "requires_consent": True,
    "share_with_reviewers": False,
    "bias_audit_required": True,
    "emotions_allowed": False,
}
_DAYS = ("media_retention_days", "erasure_deadline_days")
_OVERRIDE_KEYS = set(_STRICTER) | set(_DAYS) | {"reason", "notes"}


def _matching_rows(key: str) -> list[tuple[str, str]]:
    """Rows an override key 'purpose:region' names; either part may be '*'."""
    parts = key.split(":")
    if len(parts) != 2:
        raise PolicyError(f"override key {key!r} must be 'purpose:region', e.g. 'research:*' or 'assessment:US-IL'.")
    purpose, region = parts[0].strip(), parts[1].strip().upper()
    if purpose != "*":
        check_purpose(purpose)
    if region != "*" and region not in REGIONS:
        hint = f" (it belongs to {region_of(region)})" if region else ""
        raise PolicyError(
            f"override key {key!r}: overrides apply per region, one of {', '.join(REGIONS)} or '*'{hint}."
        )
    return [(p, r) for (p, r) in BASE_TABLE if purpose in ("*", p) and region in ("*", r)]


def _tighten(rule: Rule, row: tuple[str, str], key: str, change: Mapping[str, object]) -> Rule:
    unknown = set(change) - _OVERRIDE_KEYS
    if unknown:
        raise PolicyError(
            f"override {key!r} sets unknown field(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_OVERRIDE_KEYS))}."
        )
    if "reason" in change and change.get("allowed") is not False:
        raise PolicyError(f'override {key!r}: a reason goes only with "allowed": false.')
    updates: dict[str, Any] = {}  # Rule fields by name, each value checked above
    for name, value in change.items():
        if name in ("reason", "notes"):
            continue
        current = getattr(rule, name)
        if name in _STRICTER:
            if not isinstance(value, bool):
                raise PolicyError(f"override {key!r}: {name} must be true or false, not {value!r}.")
            loosens = value != current and value != _STRICTER[name]
        else:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise PolicyError(f"override {key!r}: {name} must be a whole number of days, not {value!r}.")
            loosens = value > current
        if loosens:
            why = f" ({rule.reason})" if name == "allowed" else ""
            raise PolicyError(
                f"override {key!r} would loosen the policy for {row[0]} in {row[1]}: {name} "
                f"{current} -> {value}{why}; overrides can only tighten policy {POLICY_VERSION}."
            )
        updates[name] = value
    if change.get("allowed") is False and rule.allowed:
        updates["reason"] = f"refused by the deployer's policy: {change.get('reason') or 'no reason given'}"
    notes = change.get("notes", ())
    if not isinstance(notes, list | tuple) or not all(isinstance(n, str) for n in notes):
        raise PolicyError(f"override {key!r}: notes must be a list of sentences.")
    updates["notes"] = rule.notes + tuple(notes)
    return replace(rule, **updates)


def policy_table(overrides: Mapping[str, Mapping[str, object]] | None = None) -> dict[tuple[str, str], Rule]:
    """The base table with the deployer's overrides applied; a loosening override raises PolicyError.

    overrides: {"purpose:region": {field: value}}, e.g. {"research:*": {"allowed": False, "reason": "no studies"},
    "assessment:US-IL": {"media_retention_days": 7}}. Every row a key matches is checked, so a bad override fails
    whatever jurisdiction is being decided.
    """
    table = dict(BASE_TABLE)
    for key, change in (overrides or {}).items():
        if not isinstance(change, Mapping):
            raise PolicyError(f"override {key!r} must map field names to values.")
        for row in _matching_rows(key):
            table[row] = _tighten(table[row], row, key, change)
    return table


def load_overrides(path: Path) -> dict[str, dict[str, object]]:
    """A deployer's overrides from a JSON file (the format policy_table documents)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyError(f"cannot read policy overrides from {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"policy overrides in {path} must be a JSON object.")
    policy_table(data)  # fail on load, not on the first analysis that hits a bad row
    return data


def check_signals(signals) -> tuple[str, ...]:
    names = tuple(signals)
    if not names or any(n not in SIGNALS for n in names):
        raise PolicyError(f"signals must name one or both of {', '.join(SIGNALS)}, not {list(names)!r}.")
    return tuple(n for n in SIGNALS if n in names)


def decide(
    purpose: str, jurisdiction: str, *, overrides: Mapping[str, Mapping[str, object]] | None = None, signals=None
) -> Decision:
    """What the policy says about analysing for `purpose` in `jurisdiction`; refusals are returned, not raised.

    signals: what the analysis reads, e.g. ("emotions", "behaviour") or ("behaviour",); a row that allows
    behaviour only refuses any analysis that infers emotions. None judges the row as a whole (as the notice does).
    Consent is not part of this answer: check_analysis_allowed checks it against the decision.
    """
    row = (check_purpose(purpose), region_of(jurisdiction))
    rule = table_rule = policy_table(overrides)[row]
    code = str(jurisdiction).strip().upper()
    if code in EEA_EFTA_STATES and rule.reason in _EEA_EFTA_REASONS:  # facecue's policy there, not (yet) the Act
        rule = replace(rule, reason=_EEA_EFTA_REASONS[rule.reason])
    asked = check_signals(signals) if signals is not None else ()
    if rule.allowed and "emotions" in asked and not rule.emotions_allowed:
        rule = replace(
            rule,
            allowed=False,
            reason=(
                f"refused: {purpose} in {row[1]} allows no emotion inference, so run it with --signals behaviour "
                f"(signals=('behaviour',)); the row reads: {rule.reason}"
            ),
        )
    return Decision(
        **{f.name: getattr(rule, f.name) for f in fields(Rule)},
        purpose=purpose,
        jurisdiction=code,
        region=row[1],
        overridden=table_rule != BASE_TABLE[row],
        signals=asked,
    )


def markdown_table(overrides: Mapping[str, Mapping[str, object]] | None = None) -> str:
    """The table as Markdown for docs/RESPONSIBLE_USE.md: one line per row, then each row's reason and notes."""
    yes = {True: "yes", False: "no"}
    lines = [
        f"Policy version {POLICY_VERSION}.",
        "",
        (
            "| purpose | region | allowed | signals | consent required | reviewers may see results | "
            "bias audit required | raw video kept (days) | erasure deadline (days) |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    table = policy_table(overrides)
    for (purpose, region), r in table.items():
        signals = "emotions, behaviour" if r.emotions_allowed else "**behaviour only**"
        cells = (
            [
                signals,
                yes[r.requires_consent],
                yes[r.share_with_reviewers],
                yes[r.bias_audit_required],
                str(r.media_retention_days),
                str(r.erasure_deadline_days),
            ]
            if r.allowed
            else ["—"] * 6
        )
        lines.append(f"| {purpose} | {region} | {'yes' if r.allowed else '**no**'} | " + " | ".join(cells) + " |")
    lines.append("")
    for (purpose, region), r in table.items():
        lines.append(f"- **{purpose} · {region}**: {r.reason}")
        lines.extend(f"  - {note}" for note in r.notes)
    return "\n".join(lines) + "\n"
