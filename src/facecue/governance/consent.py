"""The notice a subject reads before analysis, and the consent record that proves they agreed to it.

A consent record names the exact notice text by version and sha256, so a changed notice (new wording,
different retention, another controller or jurisdiction) needs fresh consent.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facecue.governance.policy import POLICY_VERSION, PolicyError, check_purpose, check_subject_id, decide

# The notice's wording is versioned: a change to it (what is measured, the model's figures quoted in it, who sees the
# results, retention) bumps NOTICE_VERSION, so consent given to an earlier text no longer validates.
# Version 2 (2026-12-05): lists everything an analysis computes, the model's measured limits, that practice results
# may not reach an employer, recruiter or school, and who deletes what (the controller; backups included).
NOTICE_VERSION = "2"
# When this notice version was first published: no consent to it can be older. Change it with NOTICE_VERSION.
NOTICE_VERSION_SINCE = datetime(2026, 12, 5, tzinfo=UTC)
CONSENT_SCHEMA = "facecue.consent/1"

# How far ahead of this machine's clock a consent or withdrawal time may be: the clocks of the machine where a
# subject agreed or withdrew and of this one may differ a little, but a time beyond that is a mistake.
CLOCK_SKEW = timedelta(minutes=5)

# What a subject can agree to: the analysis itself, and showing its results to an organisation's reviewers.
SCOPES = ("analysis", "share_with_reviewers")

_LABELS = "angry, disgust, fear, happy, sad, surprise and neutral"

_PRACTICE_ONLY_YOU = (
    "Only you. {controller} runs the software for you, and your results go to you alone, never to an employer, a "
    "recruiter, a school or any other organisation. No employer, recruiter or school may provide this practice to "
    "you, require it of you, or see its results."
)
_WHO_SEES = {
    "practice": _PRACTICE_ONLY_YOU,
    "research": "The research team of {controller}, for the study described to you. Results are never shared with an "
    "employer or any other organisation's reviewers, and are published only in anonymous, aggregate form.",
    "assessment": "The people at {controller} who review your application, and only others whose expertise is needed "
    "to evaluate it. A person makes every decision; the analysis is one input for them, never a verdict.",
    "staff_practice": "Only you. {controller} offers the practice to its staff but never sees your results, and "
    "they are never used to assess you.",
    "student_practice": "Only you. {controller} offers the practice to its students but never sees your results, "
    "and they are never used to grade or assess you.",
}
# Where an organisation behind the practice would make it prohibited emotion recognition (the policy row's note).
_PRACTICE_EU = (
    " If one does, it is no longer this practice but emotion recognition at work or in education, which the EU AI "
    "Act prohibits (Art. 5(1)(f))."
)

# What an analysis computes (facecue/pipeline.py, behaviour/, interview/), in the words of the notice.
_VISIBLE = (
    "eye contact with the camera and looking away, blinks, smiles (the shape of your mouth), brow and lip "
    "movements, head nods and shakes, posture and leaning, fidgeting, and a hand near your face"
)
_VOICE = (
    "From the sound, the software measures pitch, loudness, speaking rate and pauses; these cover all the sound in "
    "each part of the interview, so another voice there (an interviewer's, for example) is measured with yours."
)
_STILLS = "The report shows a few still pictures of your face at notable moments, which can be blurred."
# The emotion model's measured limits, from docs/MODEL_CARD.md (facecue-emotion 2.3.0, the default): a new model
# with other figures changes this text, and so the notice version.
_MODEL_LIMITS = (
    "The expression model is often wrong: on a standard set of face photos (FER2013) it agrees with the given "
    "label about two times in three (67.5%), and it is not equally accurate for everyone (on the FairFace photo "
    "set, the share of faces it reads as angry differs by up to 3.5 percentage points between ethnic groups). "
    "Where a face cannot be read reliably (too small, turned away, too dark or blurred) it gives no reading "
    "rather than a guess."
)


class ConsentError(PolicyError):
    """Consent is missing, invalid, withdrawn or does not cover the analysis asked for."""


@dataclass(frozen=True)
class Notice:
    version: str
    policy_version: str
    purpose: str
    jurisdiction: str
    controller: str
    text: str
    html: str
    sha256: str  # of `text` as UTF-8: what a consent record points at


def render_notice(
    purpose: str, jurisdiction: str, controller: str, overrides: Mapping[str, Mapping[str, object]] | None = None
) -> Notice:
    """The notice for an analysis, as plain text and HTML; refuses to render one for a prohibited analysis."""
    decision = decide(purpose, jurisdiction, overrides=overrides)
    if not decision.allowed:
        raise PolicyError(decision.reason)
    controller = _check_controller(controller)
    if decision.emotions_allowed:
        what = (
            "The video of your interview: its pictures (your face, head, upper body and hands) and its sound, and a "
            "transcript of what was said if one is given."
        )
        measured = (
            "A computer model reads your face several times a second and estimates how likely each of seven facial "
            f"expressions is: {_LABELS}. From these it derives three cues: visible discomfort (compared with your "
            "own usual expression in the same video), visible positive engagement (how often your face reads as "
            f"happy), and composure (how steady your expression stays). It also measures what is visible: {_VISIBLE}. "
            f"{_VOICE} If a "
            "transcript is given, the tone of your words is scored as positive or negative (with the VADER word "
            f"list) and compared with what your face showed at the same time. {_STILLS}"
        )
        meaning = (
            "All of this describes what the software read from your face, movements and voice, not what you felt, "
            f"thought or meant, and not who you are; it is never a decision about you. {_MODEL_LIMITS}"
        )
    else:  # behaviour-only rows: nothing about emotions is read, so the notice lists only the measurements
        what = (
            "The video of your interview: its pictures (your face, head, upper body and hands) and its sound, and, "
            "if one is given, a transcript, used only to tell when you spoke."
        )
        measured = (
            "Only what is visible and audible, several times a second: how your head is turned and moves (nods, "
            "shakes), where your eyes look (eye contact with the camera, looking away) and blinks, how far you "
            "smile, raise or lower your brows, widen your eyes, open or press your lips, your posture (leaning, "
            f"shoulders), fidgeting, and a hand near your face. {_VOICE} {_STILLS}"
        )
        meaning = (
            "No emotion is inferred from any of this, and none may be inferred from the results afterwards: they "
            "describe what was visible and audible, not what you felt or who you are, and are never a decision "
            "about you. The measurements are automatic and can be wrong, for example in poor light or when your "
            "face is turned or partly hidden; where one cannot be read reliably, it is left empty rather than "
            "guessed."
        )
    what += (
        " The software (facecue) finds the faces in view and follows each one through the video; it does not "
        "recognise who anyone is. If someone else is in view (an interviewer, for example), their face is detected "
        "and followed too, so that it is not mistaken for yours."
    )
    who = _WHO_SEES[purpose].format(controller=controller)
    if purpose == "practice" and decision.region == "EU/EEA":
        who += _PRACTICE_EU
    # Every promise names who keeps it: the controller; facecue's review service deletes videos on schedule, while
    # the library and the command line never delete anyone's files, and no erasure reaches the controller's backups.
    keep = (
        f"{controller} must delete the raw video of your interview no later than {decision.media_retention_days} "
        f"days after the analysis (facecue's review service, where {controller} uses it, does this automatically). "
        "The results, including the still pictures of your face, are kept until you ask for them to be deleted. "
        f"You can ask {controller} at any time to delete your video, the results and the pictures; {controller} "
        f"must do so within {decision.erasure_deadline_days} days of your request, including the copies in its "
        "backups, and must ask everyone who received a copy from it to delete theirs."
    )
    withdraw = (
        f"The analysis runs only if you agree. You can withdraw your consent at any time, without giving a "
        f"reason, by telling {controller}; analysis that has not yet run is stopped, and you can ask for "
        "everything to be deleted as above."
    )
    if purpose == "assessment":
        withdraw += f" If you do not agree, ask {controller} how your application can be assessed without it."
    sections = [
        ("What is analysed", what),
        ("What is measured", measured),
        ("What the results mean, and their limits", meaning),
        ("Who sees the results", who),
        ("How long it is kept", keep),
        ("Your consent and how to withdraw it", withdraw),
    ]
    if decision.bias_audit_required:
        audit = (
            f"The law here requires an independent bias audit of this analysis within the year before its use; "
            f"ask {controller} for the published summary."
        )
        sections.append(("Bias audit", audit))
    title = f"Notice: AI analysis of your video interview for {purpose} by {controller}"
    footer = (
        f"Notice version {NOTICE_VERSION}, facecue policy {POLICY_VERSION}, purpose {purpose}, "
        f"jurisdiction {decision.region}."
    )
    text = "\n\n".join([title] + [f"{head}\n{body}" for head, body in sections] + [footer]) + "\n"
    e = html.escape
    page = (
        "\n".join(
            [f'<article class="facecue-notice" data-version="{NOTICE_VERSION}">', f"<h1>{e(title)}</h1>"]
            + [f"<h2>{e(head)}</h2>\n<p>{e(body)}</p>" for head, body in sections]
            + [f"<footer>{e(footer)}</footer>", "</article>"]
        )
        + "\n"
    )
    return Notice(
        version=NOTICE_VERSION,
        policy_version=POLICY_VERSION,
        purpose=purpose,
        jurisdiction=decision.region,
        controller=controller,
        text=text,
        html=page,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def _check_controller(controller: str) -> str:
    controller = str(controller).strip()
    if not controller or len(controller) > 200 or any(c in controller for c in "\r\n\t"):
        raise ConsentError(
            "the controller must be the organisation's (or person's) name on one line, at most 200 characters."
        )
    return controller


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConsentError(f"{name} must be a date-time with a time zone, not {value!r}.")
    return value


def _not_future(value: datetime, what: str) -> datetime:
    """Consent and withdrawal are facts that happened: a future time would keep a withdrawn consent valid until
    then (and block withdrawing now), or make a record that cannot be used. A time within the clock skew is taken
    as now (as the review service does), so the record counts at once."""
    now = datetime.now(UTC)
    if _aware(value, what) > now + CLOCK_SKEW:
        raise ConsentError(
            f"{what} {value.isoformat()} is in the future (it is now {now.isoformat(timespec='seconds')}); "
            "give the time it happened, or leave it out for now."
        )
    return min(value, now)


def _before_notice(given_at: datetime) -> str:
    return (
        f"the consent time {given_at.isoformat()} is before notice version {NOTICE_VERSION} was published "
        f"({NOTICE_VERSION_SINCE.date().isoformat()}), so the subject cannot have agreed to it then."
    )


@dataclass(frozen=True)
class ConsentRecord:
    """One subject's consent to one notice, for one purpose and controller."""

    subject_id: str
    controller: str
    purpose: str
    given_at: datetime
    notice_version: str
    notice_sha256: str
    scope: tuple[str, ...] = ("analysis",)
    withdrawn_at: datetime | None = None

    def __post_init__(self) -> None:
        check_subject_id(self.subject_id)
        _check_controller(self.controller)
        check_purpose(self.purpose)
        _aware(self.given_at, "given_at")
        if self.withdrawn_at is not None and _aware(self.withdrawn_at, "withdrawn_at") < self.given_at:
            raise ConsentError("consent cannot be withdrawn before it was given.")
        if not isinstance(self.notice_sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", self.notice_sha256):
            raise ConsentError("notice_sha256 must be the 64-hex-digit sha256 of the notice text.")
        if "analysis" not in self.scope or not set(self.scope) <= set(SCOPES):
            raise ConsentError(
                f"consent scope must include 'analysis' and only name {', '.join(SCOPES)}; got {list(self.scope)}."
            )
        if self.purpose == "practice" and "share_with_reviewers" in self.scope:
            raise ConsentError(
                "practice results are never shared with an organisation's reviewers, so consent to "
                "practice cannot include share_with_reviewers."
            )

    @classmethod
    def for_notice(
        cls, notice: Notice, subject_id: str, given_at: datetime | None = None, scope: tuple[str, ...] = ("analysis",)
    ) -> ConsentRecord:
        """The record of `subject_id` agreeing to `notice` (now, unless given_at says when)."""
        if (
            given_at
            and notice.version == NOTICE_VERSION
            and _aware(given_at, "the consent time") < NOTICE_VERSION_SINCE
        ):
            raise ConsentError(_before_notice(given_at))
        return cls(
            subject_id=subject_id,
            controller=notice.controller,
            purpose=notice.purpose,
            given_at=_not_future(given_at, "the consent time") if given_at else datetime.now(UTC),
            notice_version=notice.version,
            notice_sha256=notice.sha256,
            scope=tuple(scope),
        )

    def withdraw(self, at: datetime | None = None) -> ConsentRecord:
        """This record withdrawn at `at` (default now; a time within the clock skew counts as now)."""
        at = _not_future(at, "the withdrawal time") if at else datetime.now(UTC)
        # A withdrawal dated in the future (written before that was refused) keeps the consent valid until then:
        # it is replaced, so the subject can still withdraw now.
        if self.withdrawn_at is not None and self.withdrawn_at <= datetime.now(UTC) + CLOCK_SKEW:
            raise ConsentError(f"consent was already withdrawn at {self.withdrawn_at.isoformat()}.")
        return replace(self, withdrawn_at=at)

    def to_dict(self) -> dict:
        return {
            "schema": CONSENT_SCHEMA,
            "subject_id": self.subject_id,
            "controller": self.controller,
            "purpose": self.purpose,
            "given_at": self.given_at.isoformat(),
            "notice_version": self.notice_version,
            "notice_sha256": self.notice_sha256,
            "scope": list(self.scope),
            "withdrawn_at": self.withdrawn_at.isoformat() if self.withdrawn_at else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> ConsentRecord:
        if d.get("schema") != CONSENT_SCHEMA:
            raise ConsentError(f"not a consent record (schema {d.get('schema')!r}, expected {CONSENT_SCHEMA}).")
        try:
            return cls(
                subject_id=d["subject_id"],
                controller=d["controller"],
                purpose=d["purpose"],
                given_at=datetime.fromisoformat(d["given_at"]),
                notice_version=str(d["notice_version"]),
                notice_sha256=d["notice_sha256"],
                scope=tuple(d["scope"]),
                withdrawn_at=datetime.fromisoformat(d["withdrawn_at"]) if d.get("withdrawn_at") else None,
            )
        except KeyError as exc:
            raise ConsentError(f"the consent record is incomplete: it has no {exc.args[0]!r} field.") from None
        except (TypeError, ValueError) as exc:
            raise ConsentError(f"the consent record is malformed: {exc}") from None

    def save(self, path: Path, *, overwrite: bool = True) -> Path:
        """Write the record atomically. overwrite=False refuses an existing file: it may be another record, and
        its evidence (a withdrawal) must not be lost."""
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
            if overwrite:
                tmp.replace(path)  # never leave half a record behind
            else:
                try:
                    os.link(tmp, path)  # whole, and only if no file has that name (not even one made meanwhile)
                finally:
                    tmp.unlink()
        except FileExistsError:
            raise ConsentError(
                f"{path} already exists; a consent record is never overwritten, so choose another file name."
            ) from None
        except OSError as exc:
            raise ConsentError(f"cannot write the consent record {path}: {exc.strerror or exc}.") from None
        return path

    @classmethod
    def load(cls, path: Path) -> ConsentRecord:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConsentError(f"cannot read the consent record {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConsentError(f"{path} is not a consent record.")
        try:
            return cls.from_dict(data)
        except PolicyError as exc:  # name the file: a batch may read many records
            raise type(exc)(f"{path}: {exc}") from None


def check_consent(
    record: ConsentRecord | None,
    purpose: str,
    now: datetime | None = None,
    *,
    notice: Notice | None = None,
    controller: str | None = None,
    subject_id: str | None = None,
    share: bool = False,
) -> None:
    """Raise ConsentError with the reason unless `record` is valid consent, at `now`, to analyse for `purpose`.

    notice: the notice the analysis runs under; the record must point at exactly its text.
    controller, subject_id: when given, the record must be for this organisation and this subject.
    share: the results are to be shown to an organisation's reviewers, so the scope must include it.
    """
    now = _aware(now or datetime.now(UTC), "now")
    if record is None:
        raise ConsentError(f"analysis for {purpose} needs the subject's recorded consent, and none was given.")
    if record.purpose != purpose:
        raise ConsentError(f"the consent was given for {record.purpose}, not for {purpose}.")
    if subject_id is not None and record.subject_id != subject_id:
        raise ConsentError(f"the consent is from subject {record.subject_id}, not {subject_id}.")
    if controller is not None and record.controller != controller.strip():
        raise ConsentError(f"the consent was given to {record.controller!r}, not to {controller.strip()!r}.")
    if record.given_at > now:
        raise ConsentError(f"the consent is dated {record.given_at.isoformat()}, after {now.isoformat()}.")
    if record.withdrawn_at is not None and record.withdrawn_at <= now:
        raise ConsentError(f"the consent was withdrawn at {record.withdrawn_at.isoformat()}.")
    if record.withdrawn_at is not None and record.withdrawn_at > datetime.now(UTC) + CLOCK_SKEW:
        # Only a record written by hand or by an older facecue holds one; the subject meant to withdraw.
        raise ConsentError(f"the consent was withdrawn (the withdrawal is dated {record.withdrawn_at.isoformat()}).")
    if record.notice_version != NOTICE_VERSION:
        raise ConsentError(
            f"the consent was given to notice version {record.notice_version}, which is no longer current: show the "
            f"subject the current notice (version {NOTICE_VERSION}) and ask for their consent to it."
        )
    if record.given_at < NOTICE_VERSION_SINCE:
        raise ConsentError(_before_notice(record.given_at))
    if notice is not None and record.notice_sha256 != notice.sha256:
        raise ConsentError(
            f"the consent was given to a different notice text than the current one for "
            f"{notice.purpose} in {notice.jurisdiction} by {notice.controller!r} "
            "(its wording, retention or jurisdiction changed); ask for consent again."
        )
    if share and "share_with_reviewers" not in record.scope:
        raise ConsentError("the subject did not consent to sharing the results with reviewers.")
