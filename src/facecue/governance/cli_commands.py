"""The governance subcommands of `facecue`: audit-log, erase, notice, consent.

Wiring in facecue/cli.py: `add_parsers(sub)` in build_parser, and `commands.update(RUNNERS)` in main.
Each runner returns the exit code; user mistakes raise FacecueError subclasses, which main prints.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from facecue.governance.audit import AuditError, AuditLog
from facecue.governance.consent import SCOPES, ConsentError, ConsentRecord, render_notice
from facecue.governance.erase import erase_subject
from facecue.governance.policy import JURISDICTION_HELP, PURPOSES, load_overrides


def _when(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ConsentError(f"'{text}' is not an ISO 8601 date-time such as 2025-06-01T09:30:00+00:00.") from None
    if value.tzinfo is None:
        raise ConsentError(f"'{text}' needs a time zone, e.g. {text}+00:00.")
    return value


def _add_policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--purpose", required=True, choices=PURPOSES)
    p.add_argument("--jurisdiction", required=True, help=JURISDICTION_HELP)
    p.add_argument("--controller", required=True, help="the organisation (or person) responsible for the analysis")
    p.add_argument("--overrides", help="JSON file of the deployer's policy overrides (tighten only)")


def _overrides(args: argparse.Namespace) -> dict | None:
    return load_overrides(Path(args.overrides)) if args.overrides else None


def add_audit_log_parser(subparsers) -> None:
    p = subparsers.add_parser("audit-log", help="check the tamper-evident audit log")
    verbs = p.add_subparsers(dest="audit_command", required=True)
    v = verbs.add_parser("verify", help="walk the hash chain; exit 1 if an entry was changed, added or removed")
    v.add_argument("path")


def run_audit_log(args: argparse.Namespace) -> int:
    log = AuditLog(args.path)
    ok, bad_seq, reason = log.verify()
    if not ok:
        print(f"TAMPERED: {reason} (first bad entry: {bad_seq})")
        return 1
    head = log.head()
    print(f"ok: {reason}" + (f"; head entry {head[0]} sha256 {head[1]} (keep a copy elsewhere)" if head else ""))
    return 0


def add_erase_parser(subparsers) -> None:
    p = subparsers.add_parser("erase", help="delete everything facecue holds on a subject, verify, and audit it")
    p.add_argument("--subject", required=True, help="the subject's pseudonymous id")
    p.add_argument("--root", required=True, nargs="+", action="extend", help="folder(s) to erase from and search")
    p.add_argument("--audit-log", required=True, help="the audit log that records the erasure")
    p.add_argument("--actor", default="facecue-erase", help="who carries out the erasure (recorded in the log)")


def run_erase(args: argparse.Namespace) -> int:
    report = erase_subject(args.subject, [Path(r) for r in args.root], AuditLog(args.audit_log), actor=args.actor)
    print(
        f"erased {report.folders_removed} analysis folder(s) and {report.files_removed} file(s), "
        f"{report.bytes_removed} bytes; audit subject {report.subject_ref}"
    )
    if report.complete:
        print("verified: nothing under the roots names the subject")
        return 0
    print(f"NOT COMPLETE: {len(report.remaining)} path(s) still name the subject; review and delete them by hand:")
    for path in report.remaining:
        print(f"  {path}")
    return 1


def add_notice_parser(subparsers) -> None:
    p = subparsers.add_parser("notice", help="print the notice a subject reads before consenting")
    _add_policy_args(p)
    p.add_argument("--html", action="store_true", help="print HTML instead of plain text")


def run_notice(args: argparse.Namespace) -> int:
    notice = render_notice(args.purpose, args.jurisdiction, args.controller, _overrides(args))
    print(notice.html if args.html else notice.text, end="")
    print(f"notice version {notice.version}, sha256 {notice.sha256}", file=sys.stderr)
    return 0


def add_consent_parser(subparsers) -> None:
    p = subparsers.add_parser("consent", help="record or withdraw a subject's consent")
    verbs = p.add_subparsers(dest="consent_command", required=True)
    r = verbs.add_parser("record", help="write the consent record of a subject who agreed to the current notice")
    _add_policy_args(r)
    r.add_argument("--subject", required=True, help="the subject's pseudonymous id")
    r.add_argument("--scope", default="analysis", help=f"comma-separated, from {', '.join(SCOPES)}")
    r.add_argument("--given-at", help="ISO 8601 date-time with time zone (default: now)")
    r.add_argument("-o", "--out", required=True, help="consent JSON file to write")
    r.add_argument("--audit-log", help="also record the consent in this audit log")
    w = verbs.add_parser("withdraw", help="mark a consent record withdrawn")
    w.add_argument("path")
    w.add_argument("--at", help="ISO 8601 date-time with time zone (default: now)")
    w.add_argument("--audit-log", help="also record the withdrawal in this audit log")


def run_consent(args: argparse.Namespace) -> int:
    log = AuditLog(args.audit_log) if args.audit_log else None
    if args.consent_command == "record":
        notice = render_notice(args.purpose, args.jurisdiction, args.controller, _overrides(args))
        scope = tuple(s.strip() for s in args.scope.split(",") if s.strip())
        record = ConsentRecord.for_notice(notice, args.subject, _when(args.given_at), scope)
        action, path, before = "consented", Path(args.out), None
    else:
        path = Path(args.path)
        record = ConsentRecord.load(path).withdraw(_when(args.at))
        action, before = "withdrew", path.read_bytes()
    if log is not None:
        log.check_appendable("self", record.subject_id)  # a consent change that cannot be audited is not made
    record.save(path, overwrite=before is not None)  # a new record never replaces another one
    if log is not None:  # the subject acts, so the actor is "self" and the log holds only a pseudonym
        try:
            log.append(
                "self",
                action,
                subject=record.subject_id,
                details={"purpose": record.purpose, "notice_version": record.notice_version},
            )
        except AuditError as exc:  # undo the change, so the record never says more than the log
            try:
                if before is None:
                    path.unlink()
                else:
                    _restore(path, before)
            except OSError as undo:
                raise AuditError(
                    f"the consent change to {path} was made but not audited, and undoing it failed ({undo}): {exc}"
                ) from None
            raise AuditError(f"the consent change was not made ({path} is as it was): {exc}") from None
    print(f"{action}: {record.subject_id} for {record.purpose} ({path})")
    return 0


def _restore(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def add_parsers(subparsers) -> None:
    for add in (add_audit_log_parser, add_erase_parser, add_notice_parser, add_consent_parser):
        add(subparsers)


RUNNERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "audit-log": run_audit_log,
    "erase": run_erase,
    "notice": run_notice,
    "consent": run_consent,
}
