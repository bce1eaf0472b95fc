"""The report's behaviour panels (summary.behaviour), and the whole report of a behaviour-only analysis.

A behaviour-only report names no emotion anywhere: that analysis inferred none (docs/RESPONSIBLE_USE.md).
"""

from __future__ import annotations

from html import escape

from facecue import __version__
from facecue.report.charts import fmt_time, number, pct

BEHAVIOUR_ONLY = ("Behaviour only: this analysis measured what is visible (head movement, blinks, smiles, brow and "
                  "mouth movements) and inferred no emotion.")
_LIMITS = ("Each measure is geometry of a face mesh fitted to the video: a smile score is how far the mouth widens "
           "and its corners rise, not how the person feels. Head turns beyond 35°, small faces and frames without "
           "a confirmed face are left unread, and every figure says how many seconds it rests on. Eye contact and "
           "posture are not measured in this version. Describe what was seen, never a trait.")


def _figure(entry, as_share: bool = True) -> str:
    if not isinstance(entry, dict):
        return "—"
    value = number(entry.get("value"))
    seconds = number(entry.get("seconds")) or 0.0
    if value is None:
        return f'<span class="reasons">not measured: {escape(str(entry.get("reason") or "nothing readable"))}</span>'
    shown = pct(value) if as_share else (f"{value:g}" if value == int(value) else f"{value:.1f}")
    return f"{shown} <span class=\"reasons\">of {seconds:.0f} s readable</span>"


def _rows(b: dict) -> list[tuple[str, str]]:
    return [("Smiling", _figure(b.get("smile_share"))),
            ("Nods", _figure(b.get("nods"), False)),
            ("Head shakes", _figure(b.get("head_shakes"), False)),
            ("Blinks per minute", _figure(b.get("blinks_per_minute"), False)),
            ("Out of frame", _figure(b.get("out_of_frame"))),
            ("Eye contact", _figure(b.get("eye_contact_share"))),
            ("Posture", _figure(b.get("posture")))]


def behaviour_section(summary: dict) -> str:
    """The behaviour panel: the interview's figures, then one row per question or window; "" without them."""
    b = summary.get("behaviour") if isinstance(summary, dict) else None
    if not isinstance(b, dict):
        return ""
    facts = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in _rows(b))
    parts = [p for p in b.get("parts") or [] if isinstance(p, dict)]
    table = ""
    if parts:
        head = "".join(f'<th scope="col">{h}</th>' for h in ("Part", "Smiling", "Nods", "Head shakes", "Out of frame"))
        body = "".join(
            f'<tr><th scope="row">{escape(str(p.get("label", "")))} <span class="reasons">'
            f'{fmt_time(number(p.get("start_s")) or 0)}-{fmt_time(number(p.get("end_s")) or 0)}</span></th>'
            f'<td>{_figure(p.get("smile_share"))}</td><td>{_figure(p.get("nods"), False)}</td>'
            f'<td>{_figure(p.get("head_shakes"), False)}</td><td>{_figure(p.get("out_of_frame"))}</td></tr>'
            for p in parts)
        table = (f'<table class="behaviour-parts"><caption class="caption">Per '
                 f'{"question" if b.get("parts_by") == "questions" else "window"}</caption><thead><tr>{head}</tr>'
                 f'</thead><tbody>{body}</tbody></table>')
    return (f'<section id="behaviour"><h2>Observable behaviour</h2><p class="caption">{escape(_LIMITS)}</p>'
            f'<table><tbody>{facts}</tbody></table>{table}</section>')


def render_behaviour_report(data: dict, name: str, css: str) -> str:
    """The report of a behaviour-only analysis (no script, no emotion timeline), as a complete HTML page."""
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    duration = number((data.get("source") or {}).get("duration_s"))
    presence = number(summary.get("face_presence"))
    notes = "".join(f"<li>{escape(str(n))}</li>" for n in data.get("notes") or [])
    facts = [("Duration", fmt_time(duration) if duration is not None else "not recorded"),
             ("Frames analysed", escape(str(summary.get("frames_analysed", "—")))),
             ("Candidate's face present", f'<span id="face-presence">{pct(presence)}</span> of frames'),
             ("Mode", "behaviour only (--signals behaviour)")]
    rows = "".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in facts)
    sha = escape(str((data.get("source") or {}).get("sha256", "")))
    body = (f'<header><p class="eyebrow">facecue · behaviour report</p><h1>{escape(name)}</h1>'
            f'<p class="callout" id="mode"><strong>{BEHAVIOUR_ONLY}</strong> Observations of visible behaviour, not '
            f'judgements of the person; a human decides.</p></header>'
            f'<section id="summary"><h2>Summary</h2><table><tbody>{rows}</tbody></table></section>'
            f'{behaviour_section(summary)}'
            f'<section id="quality"><h2>Data quality</h2><ul class="notes">{notes}</ul></section>'
            f'<footer>Generated by facecue {__version__}. Video sha256 <span class="mono">{sha}</span>.</footer>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f'<title>facecue behaviour report – {escape(name)}</title><style>{css}</style></head>'
            f'<body><main>{body}</main></body></html>\n')
