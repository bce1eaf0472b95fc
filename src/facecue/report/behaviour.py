"""The report's behaviour panels (summary.behaviour), and the whole report of a behaviour-only analysis.

A behaviour-only report names no emotion anywhere: that analysis inferred none (docs/RESPONSIBLE_USE.md).
"""

from __future__ import annotations

from html import escape

from facecue import __version__
from facecue.behaviour.figures import seconds_text
from facecue.report.charts import fmt_range, fmt_time, number, pct
from facecue.report.interview import (
    behaviour_panels,
    highlights_of,
    mode_line,
    mode_text,
    span_label,
    spans_of,
    voice_summary,
)

BEHAVIOUR_ONLY = (
    "Behaviour only: this analysis measured what is visible (head movement, gaze, blinks, smiles, brow and "
    "mouth movements, posture) and inferred no emotion."
)
_LIMITS = (
    "Each measure is geometry of a face mesh, iris or body landmarks fitted to the video: a smile score is how "
    "far the mouth widens and its corners rise, not how the person feels. Head turns beyond 35°, small faces, "
    "closed eyes, shoulders out of the picture and frames without a confirmed face are left unread, and every "
    "figure says how many seconds it rests on. Describe what was seen, never a trait."
)


BEHAVIOUR_LIMITS = (
    (
        "Measurements, not feelings.",
        "Every figure is geometry of a face mesh (and, where measured, of the eyes and body) fitted to the video: "
        "a smile score is how far the mouth's corners rise, scaled by how wide it is (where expressions are read too, "
        "frames read clearly as discomfort are not counted as smiles: crying also widens the mouth), a nod is a quick "
        "up-and-down swing of the head. None of it says what the person felt, meant or how well they would do a job.",
    ),
    (
        "Recording conditions.",
        "Head turns beyond 35°, small faces, poor light and anything in front of the face leave frames unread; each "
        "figure says how many readable seconds it rests on, and short ones are marked tentative.",
    ),
    (
        "Differences between people.",
        "How much people look at a camera, nod or smile differs with culture, habit, disability and the setting. "
        "Compare a person with themselves, never with a norm.",
    ),
    (
        "Never a hire/no-hire signal.",
        "Do not use these figures as a score or to decide whether to hire someone; describe what was seen, never a "
        "trait.",
    ),
)


def _figure(entry, as_share: bool = True, basis: str = "readable") -> str:
    """A figure and the seconds it rests on; `basis` says what those seconds are (time out of frame is a share of
    the analysed time, not of the readable time)."""
    if not isinstance(entry, dict):
        return "—"
    value = number(entry.get("value"))
    seconds = number(entry.get("seconds")) or 0.0
    if value is None:
        return f'<span class="reasons">not measured: {escape(str(entry.get("reason") or "nothing readable"))}</span>'
    shown = pct(value) if as_share else (f"{value:g}" if value == int(value) else f"{value:.1f}")
    return f'{shown} <span class="reasons">of {seconds_text(seconds)} s {basis}</span>'


def _rows(b: dict) -> list[tuple[str, str]]:
    posture = b.get("posture") if isinstance(b.get("posture"), dict) else {}
    return [
        ("Smiling", _figure(b.get("smile_share"))),
        ("Nods", _figure(b.get("nods"), False)),
        ("Head shakes", _figure(b.get("head_shakes"), False)),
        ("Blinks per minute", _figure(b.get("blinks_per_minute"), False)),
        ("Out of frame", _figure(b.get("out_of_frame"), basis="analysed")),
        ("Eye contact", _figure(b.get("eye_contact_share"))),
        ("Looks away (1 s or more)", _figure(b.get("gaze_aversions"), False)),
        ("Lean against their usual distance (ln)", _figure(posture.get("lean"), False)),
        ("Body movement (shoulder widths/s)", _figure(posture.get("fidgeting"), False)),
        ("Hand-to-face episodes", _figure(posture.get("hand_to_face"), False)),
    ]


def behaviour_section(summary: dict) -> str:
    """The behaviour panel: the interview's figures, then one row per question or window; "" without them."""
    b = summary.get("behaviour") if isinstance(summary, dict) else None
    if not isinstance(b, dict):
        return ""
    facts = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in _rows(b))
    parts = [p for p in b.get("parts") or [] if isinstance(p, dict)]
    table = ""
    if parts:
        columns = ("Part", "Smiling", "Eye contact", "Nods", "Head shakes", "Out of frame")
        head = "".join(f'<th scope="col">{h}</th>' for h in columns)
        body = "".join(
            f'<tr><th scope="row">{escape(str(p.get("label", "")))} <span class="reasons">'
            f"{fmt_time(number(p.get('start_s')) or 0)}-{fmt_time(number(p.get('end_s')) or 0)}</span></th>"
            f"<td>{_figure(p.get('smile_share'))}</td><td>{_figure(p.get('eye_contact_share'))}</td>"
            f"<td>{_figure(p.get('nods'), False)}</td>"
            f"<td>{_figure(p.get('head_shakes'), False)}</td>"
            f"<td>{_figure(p.get('out_of_frame'), basis='analysed')}</td></tr>"
            for p in parts
        )
        table = (
            f'<table class="behaviour-parts"><caption class="caption">Per '
            f"{'question' if b.get('parts_by') == 'questions' else 'window'}</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table>"
        )
    return (
        f'<section id="behaviour"><h2>Observable behaviour</h2><p class="caption">{escape(_LIMITS)}</p>'
        f"<table><tbody>{facts}</tbody></table>{table}</section>"
    )


def _cards(interview: dict) -> str:
    """One card per question or window: the behaviour panels, the voice beside them and the feedback drafted for
    the candidate."""
    cards = []
    for n, span in enumerate(spans_of(interview)):
        label = span_label(interview, n)
        feedback = span.get("feedback")
        fb = (
            f'<blockquote class="feedback"><p class="fb-head">Feedback to the candidate</p><p>{escape(str(feedback))}'
            "</p></blockquote>"
            if feedback
            else ""
        )
        cards.append(
            f'<article class="qcard" id="q-{n + 1}"><header><span class="qnum">{label}</span>'
            f'<h3>{escape(str(span.get("text") or label))}</h3><span class="qtime">'
            f"{fmt_range(float(span['start_s']), float(span['end_s']))}</span></header>"
            f'{behaviour_panels(span)}<div class="qgrid"><div class="panel voice"><h4>Voice</h4>'
            f"{voice_summary(span.get('voice'), interview)}</div></div>"
            f'<p class="muted small">Face in view {pct(span.get("presence"))} of this part</p>{fb}</article>'
        )
    if not cards:
        return ""
    title = "Question by question" if interview.get("span_kind") == "questions" else "Part by part"
    return (
        f'<section id="questions"><h2>{title}</h2><p class="caption">For each part: eye contact, head movement, '
        f"smiles and posture as measured, with the readable seconds behind each figure, the voice beside them, "
        f'and the feedback drafted for the candidate.</p><div class="cards">{"".join(cards)}</div></section>'
    )


def _highlights(interview: dict) -> str:
    items = []
    for n, h in enumerate(highlights_of(interview)):
        where = number(h.get("span_index"))
        part = f" · {span_label(interview, int(where))}" if where is not None else ""
        items.append(
            f'<li id="highlight-{n + 1}"><b>{fmt_time(float(h["time_s"]), tenths=True)}</b>{part} · '
            f"{escape(str(h.get('label') or h.get('kind') or ''))}: {escape(str(h.get('reason') or ''))}</li>"
        )
    body = f"<ul>{''.join(items)}</ul>" if items else "<p>No moment stood out clearly enough to flag.</p>"
    return (
        f'<section id="highlights"><h2>Highlights</h2><p class="caption">Stretches worth a second look: long '
        f"smiles, time out of frame and, where measured, looking away or a hand near the face.</p>{body}</section>"
    )


def render_behaviour_report(data: dict, name: str, css: str) -> str:
    """The report of a behaviour-only analysis (no script, no emotion timeline), as a complete HTML page."""
    summary = data.get("summary") if isinstance(data.get("summary"), dict) else {}
    interview = data.get("interview") if isinstance(data.get("interview"), dict) else None
    duration = number((data.get("source") or {}).get("duration_s"))
    presence = number(summary.get("face_presence"))
    notes = [*(data.get("notes") or []), *((interview or {}).get("notes") or [])]
    note_items = "".join(f"<li>{escape(str(n))}</li>" for n in notes)
    facts = [
        ("Duration", fmt_time(duration) if duration is not None else "not recorded"),
        ("Frames analysed", escape(str(summary.get("frames_analysed", "—")))),
        ("Candidate's face present", f'<span id="face-presence">{pct(presence)}</span> of frames'),
        ("Mode", escape(mode_text((data.get("options") or {}).get("signals")))),
    ]
    rows = "".join(f'<tr><th scope="row">{k}</th><td>{v}</td></tr>' for k, v in facts)
    sha = escape(str((data.get("source") or {}).get("sha256", "")))
    overall = (interview or {}).get("overall") if isinstance((interview or {}).get("overall"), dict) else {}
    feedback = (overall or {}).get("feedback")
    fb = (
        f'<blockquote class="feedback" id="overall-feedback"><p class="fb-head">Feedback to the candidate, whole '
        f"interview</p><p>{escape(str(feedback))}</p></blockquote>"
        if feedback
        else ""
    )
    parts = (_cards(interview) + _highlights(interview)) if interview else ""
    body = (
        f'<header><p class="eyebrow">facecue · behaviour report</p><h1>{escape(name)}</h1>'
        f'<p class="callout" id="mode"><strong>{BEHAVIOUR_ONLY}</strong> Observations of visible behaviour, not '
        f"judgements of the person; a human decides.</p>{mode_line((data.get('options') or {}).get('signals'))}"
        f"</header>"
        f'<section id="summary"><h2>Summary</h2><table><tbody>{rows}</tbody></table>{fb}</section>'
        f"{parts}{behaviour_section(summary)}"
        f'<section id="quality"><h2>Data quality</h2><ul class="notes">{note_items}</ul></section>'
        f'<footer>Generated by facecue {__version__}. Video sha256 <span class="mono">{sha}</span>.</footer>'
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>facecue behaviour report – {escape(name)}</title><style>{css}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
