"""The policy gate of the analysis commands (`facecue analyze`, `facecue live`), from their parsed flags.

It lives here, not in facecue/cli.py, so that `facecue.live` and the CLI both import it from governance
instead of each other.
"""

from __future__ import annotations

from pathlib import Path

from facecue.governance import SIGNALS, AuditLog, ConsentRecord, Decision, PolicyError, missing_purpose, policy_for
from facecue.options import check_signals


def check_policy(args) -> tuple[Decision, ConsentRecord | None]:
    """--purpose and --jurisdiction are required, and the policy table must allow the analysis (and see valid
    consent) before it runs; a refusal goes to the audit log when one is given.

    Returns (decision, the consent record or None).
    """
    if getattr(args, "audit_log", None):  # `facecue live` has no audit log
        # Fail now, not after a long analysis whose "analysed" entry (or refusal) the log could not take.
        AuditLog(Path(args.audit_log)).check_appendable()
    try:
        refusal = missing_purpose(args.purpose, args.jurisdiction, flags=True)
        if refusal:
            raise PolicyError(refusal)
        consent = ConsentRecord.load(Path(args.consent)) if args.consent else None
        signals = getattr(args, "signals", None)  # `facecue analyze --signals`; other commands read both
        decision = policy_for(
            args.purpose, args.jurisdiction, consent, signals=check_signals(signals) if signals else SIGNALS
        )
    except PolicyError:
        if getattr(args, "audit_log", None):  # `facecue live` has no audit log
            AuditLog(Path(args.audit_log)).append(
                "facecue-cli",
                "refused",
                details={
                    "purpose": args.purpose,
                    "jurisdiction": args.jurisdiction,
                    "signals": getattr(args, "signals", None) or ",".join(SIGNALS),
                },
            )
        raise
    return decision, consent
