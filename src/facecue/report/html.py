"""The HTML report: one self-contained file (inline CSS, SVG and a little JS) from a `facecue.result/1` document.

The file loads nothing from anywhere: a Content-Security-Policy forbids every external request and allows
only the report's own script (by hash), so a string that slipped through escaping still could not run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from html import escape
from importlib.resources import files
from pathlib import Path

import numpy as np

from facecue import __version__
from facecue.errors import InputError, OutputError
from facecue.labels import EMOTIONS
from facecue.report import interview as iv
from facecue.report.charts import (
    EMOTION_COLOURS,
    PATTERN_DEFS,
    UNKNOWN_COLOUR,
    TimeScale,
    fmt_range,
    fmt_time,
    number,
    pct,
    presence_svg,
    swatch,
    timeline_svg,
)
from facecue.report.series import (
    ABSENT,
    ABSTAINED,
    MAX_POINTS,
    TimelinePoints,
    downsample,
    frame_spans,
    frame_status,
    time_runs,
)
from facecue.result import SCHEMA, Result

DISCLAIMER = "Observations of facial expression, not judgements of the person; a human decides."
# Below this share of frames with the candidate's face, the summary covers too little of the interview to be
# read on its own, so the report says so.
LOW_PRESENCE = 0.6
MAX_LISTED_RANGES = 12  # keeps the text lists short for long, flickery videos; the strip shows them all

_CSS = (files("facecue.report") / "report.css").read_text()
_JS = (files("facecue.report") / "report.js").read_text()

LIMITS = (
    (
        "Calibrated probabilities, not intensities.",
        "Each number is the model's probability for a label, calibrated on FER2013 validation images: among "
        "frames scored 70% happy, about 70% were labelled happy in that data. It is not a measure of how strongly "
        "the person feels anything, and calibration on FER2013 need not hold for this video.",
    ),
    (
        "Posed versus spontaneous.",
        "FER2013 consists mostly of posed or exaggerated expressions collected from the web. Spontaneous "
        "expressions in an interview are subtler and briefer; the model reads them less reliably and often confuses "
        "similar ones (fear and surprise, sad and neutral, disgust and angry).",
    ),
    (
        "Expressions are not emotions or intentions.",
        "A smile is a facial movement, not proof of happiness. People show and mask feelings differently across "
        "cultures, situations and individuals, and nervousness in an interview is normal. Nothing here measures "
        "honesty, competence, personality or fit.",
    ),
    (
        "Recording conditions.",
        "Lighting, head pose, low resolution, compression, glasses, masks and hands in front of the face reduce "
        "accuracy. Frames too poor to read are abstained rather than guessed, and are shown as gaps.",
    ),
    (
        "Demographic bias.",
        "Expression models are known to perform unequally across age, gender, skin tone and culture, and FER2013 is "
        "not balanced across them. A difference between two people in these numbers may come from the model, "
        "not from the people.",
    ),
    (
        "Never a hire/no-hire signal.",
        "Do not use this report, or any number in it, as a score or to decide whether to hire someone. Use it to "
        "revisit moments of the recording and to prompt questions, with the candidate's informed consent and only "
        "for the purpose they were told about.",
    ),
)


def render_report(result: dict, blur_thumbnails: bool = False) -> str:
    """The report for one `result.json` document, as a complete HTML page.

    With an `interview` section (docs/SIGNALS.md) it adds the question bands and highlight pins to the
    timeline, the question cards, highlights, words-against-face and voice panels. `blur_thumbnails` blurs
    highlight pictures that the analysis left sharp.
    """
    signals = (result.get("options") or {}).get("signals") if isinstance(result, dict) else None
    if signals is not None and "emotions" not in signals:  # behaviour only: a report that names no emotion
        from facecue.report.behaviour import render_behaviour_report

        return render_behaviour_report(result, _file_name(result.get("source") or {}), _CSS)
    try:
        res = Result.from_dict(result)
    except (KeyError, TypeError, ValueError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"cannot build a report from this result: {detail}.") from None
    # The document's own summary, not res.summary: a figure it lacks shows as "—", where the typed one reads 0.
    summary = result["summary"] if isinstance(result.get("summary"), dict) else {}
    no_face = bool(summary.get("no_face")) or res.candidate_id is None or not res.timeline.present.any()
    status = frame_status(res.timeline.present, res.timeline.usable, res.timeline.smoothed)
    duration = number(res.source.duration_s)
    points = downsample(res.times, res.timeline.smoothed.astype(np.float64), status, end_s=duration)
    starts, ends = frame_spans(res.times, duration)
    scale = TimeScale(max(duration or 0.0, float(ends[-1]) if len(ends) else 0.0))
    others = _others(res, summary)
    gaps = [(float(a), float(b)) for a, b in res.gaps]
    name = _file_name(res.source.to_dict())
    interview = res.interview if isinstance(res.interview, dict) else None

    body = [PATTERN_DEFS, _header(res, summary, name, duration), _summary(res, summary, others)]
    if interview is not None:
        body.append(iv.overview_section(interview))
    if no_face:
        body.append(
            '<section id="timeline-section"><h2>Candidate\'s expressions over time</h2>'
            '<p class="notice"><strong>No face found.</strong> facecue did not find a face in any analysed '
            "frame of this video, so there is no expression timeline. Check that the candidate faces the "
            "camera, the lighting and the file itself.</p></section>"
        )
    else:
        body.append(_timeline_section(points, scale, res, gaps, interview))
        body.append(
            presence_section(
                points,
                scale,
                others,
                gaps,
                {code: time_runs(starts, ends, status, code) for code in (ABSTAINED, ABSENT)},
            )
        )
    if interview is not None:
        body += [
            iv.questions_section(interview),
            iv.highlights_section(interview, blur_thumbnails),
            iv.mismatch_section(interview),
            iv.voice_section(interview),
        ]
    from facecue.report.behaviour import behaviour_section

    body.append(behaviour_section(summary))  # "" when the analysis measured no behaviour
    body += [_notes_section(res, summary, others, gaps, no_face), _limits_section(interview is not None), _footer(res)]
    script = f"<script>{_JS}</script>" if not no_face else ""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_csp(_JS)}">'
        f"<title>facecue report – {escape(name)}</title><style>{_CSS}</style></head>"
        f"<body><main>{''.join(body)}</main>{script}</body></html>\n"
    )


def write_report(result: dict, path: str | Path, blur_thumbnails: bool = False) -> Path:
    """Render the report and write it to `path` (UTF-8); returns the path written."""
    path = Path(path)
    html = render_report(result, blur_thumbnails)
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"cannot write the report to {path}: {exc.strerror or exc}.") from None
    return path


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"


def _file_name(source: dict) -> str:
    raw = str(source.get("path") or source.get("name") or "unnamed video")
    return raw.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or raw


def _analysed_at(res: Result, summary: dict) -> str:
    for holder in (summary, res.source.to_dict(), res.options.to_dict()):
        for key in ("analysed_at", "analyzed_at", "created_at"):
            if holder.get(key):
                text = str(holder[key])
                try:
                    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M %Z").strip()
                except ValueError:
                    return text
    return "not recorded"


def _model_text(models: dict) -> str:
    if "name" in models:
        return f"{models['name']} {models.get('version', '')}".strip()
    described = [
        f"{role}: {m.get('name', '?')} {m.get('version', '')}".strip()
        for role, m in models.items()
        if isinstance(m, dict)
    ]
    return "; ".join(described) or "not recorded"


def _others(res: Result, summary: dict) -> list[tuple[int, list[tuple[float, float]]]]:
    """Other people in view: from the tracks, or from the summary when the tracks carry no roles."""
    found = [(t.face_id, [(float(a), float(b)) for a, b in t.ranges]) for t in res.tracks if t.role == "other"]
    if not found:
        for person in summary.get("other_people") or []:
            if isinstance(person, dict) and "face_id" in person:
                found.append((int(person["face_id"]), [(float(a), float(b)) for a, b in person.get("ranges", [])]))
    return found


def _key(kind: str) -> str:
    """A legend swatch for a non-expression mark; its look lives in the CSS next to the mark it explains."""
    return f'<span class="swatch {kind}" aria-hidden="true"></span>'


def _range_list(ranges: list[tuple[float, float]]) -> str:
    shown = ", ".join(fmt_range(a, b) for a, b in ranges[:MAX_LISTED_RANGES])
    extra = len(ranges) - MAX_LISTED_RANGES
    return shown + (f" and {extra} more" if extra > 0 else "")


def _reasons_text(reasons) -> str:
    if not isinstance(reasons, dict) or not reasons:
        return ""
    ordered = sorted(reasons.items(), key=lambda kv: -(number(kv[1]) or 0))
    return " · ".join(f"{escape(str(reason))} {escape(str(count))}" for reason, count in ordered if number(count) != 0)


def _header(res: Result, summary: dict, name: str, duration: float | None) -> str:
    fps = res.options.fps
    meta = [
        ("Duration", fmt_time(duration) if duration is not None else "not recorded"),
        ("Analysed", _analysed_at(res, summary)),
        ("Model", _model_text(res.models.to_dict())),
    ]
    if fps:
        meta.append(("Sampled at", f"{fps} frames/s"))
    items = "".join(f"<li>{label} <b>{escape(str(value))}</b></li>" for label, value in meta)
    return (
        f'<header><p class="eyebrow">facecue · facial-expression report</p><h1>{escape(name)}</h1>'
        f'<ul class="meta">{items}</ul>{iv.mode_line(res.signals)}'
        f'<p class="callout" id="disclaimer"><strong>{DISCLAIMER}</strong> '
        f"Everything below describes what a model read from the face in each sampled frame, with its "
        f"uncertainty. See “How to read this” at the end before drawing any conclusion.</p></header>"
    )


def _summary(res: Result, summary: dict, others: list) -> str:
    presence = number(summary.get("face_presence"))
    abstained = number(summary.get("abstained"))
    frames = summary.get("frames_analysed", len(res.times))
    dominant = summary.get("dominant")
    if dominant:
        colour = EMOTION_COLOURS.get(str(dominant), UNKNOWN_COLOUR)
        dom_html = f"{swatch(colour)}<strong>{escape(str(dominant))}</strong>"
        context = iv.dominant_context(dominant, summary.get("baseline"))
        dom_html += f' <span class="reasons">— {escape(context)}</span>' if context else ""
    else:
        dom_html = "none" if "dominant" in summary else "—"
    reasons = _reasons_text(summary.get("abstain_reasons"))
    people = ", ".join(f"#{fid}" for fid, _ in others)
    processing = number(summary.get("processing_s"))
    factor = number(summary.get("realtime_factor"))
    rows = [
        ("Frames analysed", escape(str(frames))),
        (
            "Candidate's face present",
            f'<span id="face-presence">{pct(presence)}</span>'
            + ("" if presence is None else " of frames")
            + (
                ' <span class="reasons">— low; see notes</span>'
                if presence is not None and presence < LOW_PRESENCE
                else ""
            ),
        ),
        (
            "Model abstained",
            # Without the candidate's face there is nothing to abstain on: "0% of frames with the face" above a
            # count of rejected detections read as a contradiction.
            (
                '<span id="abstained">—</span> no frame showed the candidate\'s face'
                + (f'<div class="reasons">faces found but not read: {reasons}</div>' if reasons else "")
            )
            if presence == 0
            else f'<span id="abstained">{pct(abstained)}</span>'
            + ("" if abstained is None else " of frames with the face")
            + (f'<div class="reasons">{reasons}</div>' if reasons else ""),
        ),
        ("Dominant expression", f'<span id="dominant">{dom_html}</span>'),
        ("Other people in view", f"{len(others)} ({people})" if others else "none"),
        (
            "Processing time",
            (f"{processing:.1f} s" if processing is not None else "—")
            + (f" · real-time factor {factor:.2f}" if factor is not None else ""),
        ),
    ]
    facts = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in rows)
    means = summary.get("mean_probs") if isinstance(summary.get("mean_probs"), dict) else {}
    prob_rows = []
    for label in EMOTIONS:
        p = number(means.get(label))
        width = 0.0 if p is None else min(max(p, 0.0), 1.0) * 100
        prob_rows.append(
            f'<tr class="{"top" if label == dominant else ""}" data-emotion="{label}">'
            f'<td class="label">{swatch(EMOTION_COLOURS[label])}{label}</td><td><div class="bar"><span '
            f'style="width:{width:.1f}%;background:{EMOTION_COLOURS[label]}"></span></div></td>'
            f'<td class="num">{pct(p)}</td></tr>'
        )
    return (
        f'<section id="summary"><h2>Summary</h2><div class="summary"><table><tbody>{facts}</tbody></table>'
        f'<table class="means"><caption class="caption">Mean smoothed '
        f"probability over the frames where the face was read (absent and abstained frames excluded).</caption>"
        f'<thead><tr><th scope="col">Expression</th><th scope="col"><span class="visually-hidden">Bar</span></th>'
        f'<th scope="col" class="num">Mean</th></tr></thead>'
        f"<tbody>{''.join(prob_rows)}</tbody></table></div></section>"
    )


def _timeline_section(points: TimelinePoints, scale: TimeScale, res: Result, gaps: list, interview: dict | None) -> str:
    n_frames = len(res.times)
    per_point = -(-n_frames // MAX_POINTS)
    sampling = (
        f" Each point averages {per_point} consecutive frames ({len(points)} points from {n_frames} frames),"
        f" over the frames where the face was read."
        if per_point > 1
        else ""
    )
    legend = "".join(f"<li>{swatch(EMOTION_COLOURS[e])}{e}</li>" for e in EMOTIONS)
    legend += (
        f"<li>{_key('key-bg-absent')}face absent</li><li>{_key('key-abstained')}model abstained</li>"
        f"<li>{_key('key-gap')}not decoded</li>"
    )
    data = {
        "labels": list(EMOTIONS),
        "colours": [EMOTION_COLOURS[e] for e in EMOTIONS],
        "t": np.round(points.time, 2).tolist(),
        "p": [None if np.isnan(row).any() else np.round(row, 3).tolist() for row in points.probs],
        "s": points.status.tolist(),
    }
    bands, markers = iv.bands_and_markers(interview) if interview is not None else ((), ())
    if interview is not None:
        data.update(iv.chart_extras(interview))
        legend += f"<li>{_key('key-marker')}highlight (click for its card)</li>"
    # "<" never occurs in numbers and labels, but escaping it keeps "</script>" impossible inside the block.
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    return (
        f'<section id="timeline-section"><h2>Candidate\'s expressions over time</h2>'
        f'<p class="caption">Smoothed probabilities of the seven expressions, stacked to 100%; the band below '
        f"marks stretches with one dominant expression. Where the face was absent or the model abstained the "
        f"chart is left blank: nothing is interpolated across those stretches.{sampling} Hover the chart, or "
        f"focus it and use the arrow keys, to read the values at a moment.</p>"
        f'<ul class="legend">{legend}</ul><div class="chart-wrap">'
        f"{timeline_svg(points, scale, res.segments, gaps, bands, markers)}"
        f'<div id="timeline-tip" class="tip" role="status" hidden></div></div>'
        f'<script type="application/json" id="timeline-data">{payload}</script></section>'
    )


def presence_section(
    points: TimelinePoints,
    scale: TimeScale,
    others: list,
    gaps: list,
    candidate_ranges: dict[int, list[tuple[float, float]]],
) -> str:
    legend = (
        f"<li>{_key('key-usable')}face seen and read</li><li>{_key('key-abstained')}model abstained</li>"
        f"<li>{_key('key-absent')}face absent</li><li>{_key('key-other')}other person in view</li>"
        f"<li>{_key('key-gap')}not decoded</li>"
    )
    lines = []
    for label, code in (("Face absent", ABSENT), ("Abstained", ABSTAINED)):
        if candidate_ranges[code]:
            lines.append(f"<b>{label}:</b> {_range_list(candidate_ranges[code])}")
    lines += [f"<b>Person #{fid} in view:</b> {_range_list(ranges)}" for fid, ranges in others]
    text = "<br>".join(lines) or "The candidate's face was read in every analysed frame; nobody else was in view."
    return (
        f'<section id="presence"><h2>Face presence</h2><ul class="legend">{legend}</ul>'
        f'<div class="chart-wrap">{presence_svg(points, scale, others, gaps)}</div>'
        f'<p class="ranges">{text}</p></section>'
    )


def _notes_section(res: Result, summary: dict, others: list, gaps: list, no_face: bool) -> str:
    warn, info = [], []
    presence = number(summary.get("face_presence"))
    if no_face:
        warn.append("No face found in any analysed frame: there are no expression observations for this video.")
    elif presence is not None and presence < LOW_PRESENCE:
        warn.append(
            f"Low face presence: the candidate's face was found in only {pct(presence)} of the analysed "
            f"frames, so the summary covers only that part of the interview."
        )
    abstained = number(summary.get("abstained"))
    if abstained:
        reasons = _reasons_text(summary.get("abstain_reasons"))
        info.append(
            f"The model abstained on {pct(abstained)} of the frames where the face was found"
            + (f" (frames per reason: {reasons})" if reasons else "")
            + ": those frames were too poor to read reliably and are left out of every number."
        )
    for a, b in gaps[:MAX_LISTED_RANGES]:
        info.append(f"No frames could be decoded from {fmt_range(a, b)} ({b - a:.1f} s).")
    if len(gaps) > MAX_LISTED_RANGES:
        info.append(f"{len(gaps) - MAX_LISTED_RANGES} more decode gaps are marked on the charts.")
    for fid, ranges in others:
        info.append(
            f"Another person (#{fid}) was in view at {_range_list(ranges)}; their expressions are not part of "
            f"the candidate's timeline."
        )
    info += [escape(str(note)) for note in res.notes]
    interview = res.interview if isinstance(res.interview, dict) else {}
    info += [escape(str(note)) for note in interview.get("notes") or [] if isinstance(note, str)]
    info.append(_calibration_note(res.models.to_dict()))
    items = [f'<li class="warn">{text}</li>' for text in warn] + [f"<li>{text}</li>" for text in info]
    content = f'<ul class="notes">{"".join(items)}</ul>' if items else "<p>No data-quality issues were recorded.</p>"
    return f'<section id="quality"><h2>Data quality</h2>{content}</section>'


def _calibration_note(models: dict) -> str:
    """How the probabilities were calibrated, and that this video need not follow the calibration data."""
    emotion = models.get("emotion") if isinstance(models.get("emotion"), dict) else models
    temperature = number(emotion.get("temperature"))
    how = f"scaled by a temperature of {temperature:.2f} fitted" if temperature is not None else "calibrated"
    return (
        f"Calibration: the model's probabilities were {how} on FER2013 validation images, so that a reading "
        f"of 70% was right about 70% of the time there. Faces in this video differ from that data (pose, "
        f"light, spontaneous expressions), so treat the percentages as approximate; cue confidences already "
        f"include the model's validation recall."
    )


def _limits_section(with_interview: bool = False) -> str:
    limits = LIMITS + (iv.INTERVIEW_LIMITS if with_interview else ())
    paragraphs = "".join(f"<p><strong>{title}</strong> {text}</p>" for title, text in limits)
    return (
        f'<section id="limits"><h2>How to read this, and its limits</h2>'
        f'<div class="limits">{paragraphs}</div></section>'
    )


def _footer(res: Result) -> str:
    audit = [f"Generated by facecue {__version__} from a {SCHEMA} document."]
    if res.source.sha256:
        audit.append(f'Video sha256 <span class="mono">{escape(str(res.source.sha256))}</span>.')
    return f"<footer>{' '.join(audit)}</footer>"
