"""The interview part of the HTML report: overview, question cards, highlights, words-vs-face and voice panels.

Built from the `interview` object of result.json (docs/SIGNALS.md). Every part is optional: a missing or
malformed piece is left out or shown as a dash, never an error, so an older or partial analysis still renders.
Every string from the document is escaped here; thumbnails are accepted only as base64 image data URIs.
"""

from __future__ import annotations

import base64
import re
from html import escape

import cv2
import numpy as np

from facecue.interview.behaviour import FIGURES, PANELS
from facecue.labels import EMOTIONS
from facecue.report.charts import (
    EMOTION_COLOURS,
    UNKNOWN_COLOUR,
    Band,
    Marker,
    fmt_range,
    fmt_time,
    number,
    pct,
    swatch,
)

_DATA_URI = re.compile(r"data:image/(jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}")
CUE_NAMES = {"stress": "Visible discomfort", "engagement": "Visible positive engagement", "composure": "Composure"}
CUE_CAVEATS = {
    "stress": "Frowns and tense looks are common while concentrating or recalling; the model also confuses sad "
    "with neutral faces.",
    "engagement": "Smiling is partly social convention and varies by culture and person; few smiles is not "
    "disengagement.",
    "composure": "A steady reading can be calm or simply a face that shows little; an animated speaker reads "
    "as variable.",
}
KIND_NAMES = {
    "change": "Change",
    "peak": "Peak",
    "shift": "Sustained shift",
    "smile": "Smile",
    "out_of_frame": "Out of frame",
    "looking_away": "Looking away",
    "hand_near_face": "Hand near face",
}
INTERVIEW_LIMITS = (
    (
        "Derived cues are descriptions, not diagnoses.",
        "Discomfort, engagement and composure are counts and spreads of model readings over each question, with a "
        "confidence that falls with little readable face, a weakly validated model and halves that disagree. They "
        "say what the face showed, never what the person felt.",
    ),
    (
        "Words against face.",
        "The comparison uses a word lexicon (VADER) that misses irony, negation across sentences and technical "
        "talk, against facial valence from the same model. A flag marks a moment to re-watch, not a lie.",
    ),
    (
        "Voice cues depend on the recording.",
        "Pitch, loudness, speaking rate and pauses change with the microphone, room, language, a cold, and the "
        "interviewer's voice in the same track. Compare a person with themselves, and only where marked reliable.",
    ),
    (
        "Feedback is a draft for a person.",
        "The feedback sentences are generated from the signals with hedged wording. Read them before sharing; "
        "edit anything that does not match the recording.",
    ),
)


def _e(value) -> str:
    return escape(str(value))


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def spans_of(interview: dict) -> list[dict]:
    return [
        s
        for s in _list(interview.get("spans"))
        if isinstance(s, dict) and number(s.get("start_s")) is not None and number(s.get("end_s")) is not None
    ]


def span_label(interview: dict, index: int) -> str:
    return f"Q{index + 1}" if interview.get("span_kind", "questions") == "questions" else f"W{index + 1}"


def highlights_of(interview: dict) -> list[dict]:
    items = [
        h for h in _list(interview.get("highlights")) if isinstance(h, dict) and number(h.get("time_s")) is not None
    ]
    return sorted(items, key=lambda h: float(h["time_s"]))


def bands_and_markers(interview: dict) -> tuple[tuple[Band, ...], tuple[Marker, ...]]:
    bands = tuple(
        Band(float(s["start_s"]), float(s["end_s"]), span_label(interview, n), str(s.get("text") or ""))
        for n, s in enumerate(spans_of(interview))
    )
    markers = tuple(
        Marker(float(h["time_s"]), n + 1, str(h.get("reason") or ""), f"highlight-{n + 1}")
        for n, h in enumerate(highlights_of(interview))
    )
    return bands, markers


def chart_extras(interview: dict) -> dict:
    """What the timeline's hover needs beyond the probabilities: question spans and highlight times."""
    bands, markers = bands_and_markers(interview)
    return {
        "q": [[round(b.start_s, 2), round(b.end_s, 2), b.label, b.text] for b in bands],
        "h": [[round(m.time_s, 2), m.number] for m in markers],
    }


def blur_data_uri(uri: str) -> str:
    """The same image pixelated and smoothed (as the analysis' own blur), re-encoded as JPEG."""
    raw = np.frombuffer(base64.b64decode(uri.split(",", 1)[1]), np.uint8)
    image = cv2.imdecode(raw, cv2.IMREAD_COLOR)
    if image is None:
        return ""
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // 12), max(1, h // 12)), interpolation=cv2.INTER_AREA)
    image = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 3)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii") if ok else ""


# ---- behaviour: the mode and the panels of one part ------------------------------------------------------------


MODES = {
    ("emotions", "behaviour"): "emotions and behaviour",
    ("behaviour",): "behaviour only",
    ("emotions",): "emotions only",
}


def mode_text(signals, with_flag: bool = True) -> str:
    """Which signals the analysis read, in words; results from before the option read emotions only. with_flag
    names the command line's option too, for outputs of the CLI (the review page's readers never type one)."""
    names = tuple(n for n in ("emotions", "behaviour") if n in (signals or ("emotions",)))
    text = MODES.get(names, ", ".join(names)) + (f" (--signals {','.join(names)})" if with_flag else "")
    return text + (": no emotion was inferred" if names == ("behaviour",) else "")


def mode_line(signals) -> str:
    return f'<p class="mode" id="mode-line"><strong>Mode:</strong> {escape(mode_text(signals))}.</p>'


def not_measured(b: dict, cues: tuple[str, ...]) -> str:
    """Why a panel has nothing to show: the reason a figure carries, or that the part had nothing readable."""
    posture = b.get("posture") if isinstance(b.get("posture"), dict) else {}
    for cue in cues:
        for name in FIGURES[cue]:
            entry = b.get(name) or posture.get(name)
            if isinstance(entry, dict) and entry.get("reason"):
                return f"not measured: {entry['reason']}"
    if "lean" in cues and posture and not posture.get("readable_s"):
        return "not measured: the shoulders were not in view"
    return "nothing measured in this part"


def outside_recording(span: dict) -> bool:
    """The part has no analysed frame because it lies outside the recording (outside_s, docs/SIGNALS.md)."""
    return bool(number(span.get("outside_s"))) and not number(span.get("frames"))


def behaviour_panels(span: dict) -> str:
    """Eye contact, head movement, smiles and posture of one question or window, from its behaviour cues."""
    b = span.get("behaviour") if isinstance(span.get("behaviour"), dict) else None
    cues = span.get("behaviour_cues") if isinstance(span.get("behaviour_cues"), dict) else {}
    if b is None and not cues:
        return ""
    outside = outside_recording(span)  # no frame at all: not the eyes, the light or the shoulders
    boxes = []
    for title, names in PANELS.items():
        lines = [f"<li>{escape(str(c.get('text') or ''))}</li>" for n in names if isinstance(c := cues.get(n), dict)]
        why = "not measured: this part lies outside the recording" if outside else not_measured(b or {}, names)
        body = f"<ul>{''.join(lines)}</ul>" if lines else f'<p class="muted small">{escape(why)}</p>'
        key = title.lower().replace(" ", "-")
        boxes.append(f'<div class="bpanel" data-panel="{key}"><h5>{title}</h5>{body}</div>')
    return f'<div class="panel behaviour"><h4>Visible behaviour</h4>{"".join(boxes)}</div>'


# ---- overview ---------------------------------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _parts_analysed(kind: str, n: int, window: float | None) -> str:
    if kind == "questions":
        return _count(n, "question") + " from the question timeline"
    if n == 1:  # a short recording is one window of its own length, not of window_s
        return "1 fixed window, the whole recording (no question timeline was given)"
    size = f" of {window:g} s" if window else ""
    return _count(n, "fixed window") + size + " (no question timeline was given)"


def overview_section(interview: dict) -> str:
    spans = spans_of(interview)
    overall = _dict(interview.get("overall"))
    kind = "questions" if interview.get("span_kind", "questions") == "questions" else "windows"
    window = number(interview.get("window_s"))
    what = _parts_analysed(kind, len(spans), window)
    mismatch = _dict(interview.get("mismatch"))
    facts = [
        ("Parts analysed", what),
        ("Highlights", _count(len(highlights_of(interview)), "moment") + " worth a second look"),
        (
            "Words against face",
            (
                f"{int(number(mismatch.get('flagged')) or 0)} flagged of "
                + _count(int(number(mismatch.get("checked")) or 0), "utterance")
                + " checked"
            )
            if mismatch
            else "no transcript given",
        ),
        (
            "Voice",
            "analysed per part"
            if interview.get("voice_available")
            else _e(interview.get("voice_note") or "not analysed"),
        ),
        ("This person's baseline", _baseline_fact(_dict(interview.get("baseline")))),
    ]
    rows = "".join(f'<tr><th scope="row">{label}</th><td>{value}</td></tr>' for label, value in facts)
    cues = _cue_chips(_dict(overall.get("cues")))
    feedback = overall.get("feedback")
    fb = (
        (
            f'<blockquote class="feedback" id="overall-feedback"><p class="fb-head">Feedback to the candidate, '
            f"whole interview</p><p>{_e(feedback)}</p></blockquote>"
        )
        if feedback
        else ""
    )
    return (
        f'<section id="interview"><h2>The interview at a glance</h2><div class="summary"><table><tbody>{rows}'
        f"</tbody></table><div>{_dominant_chips(overall.get('dominant'))}{cues}</div></div>{fb}</section>"
    )


MOVED_MIN = 0.05  # a label's change from the baseline worth showing (probability points)


def baseline_top(baseline: object, n: int) -> list[tuple[str, float]]:
    """The person's baseline reading (timeline/baseline.py): its n most probable labels, [] without one."""
    probs = baseline.get("probs") if isinstance(baseline, dict) else None
    if not isinstance(probs, dict):
        return []
    return [(k, p) for p, k in sorted(((number(p) or 0.0, str(k)) for k, p in probs.items()), reverse=True)[:n]]


def dominant_context(dominant: object, baseline: object) -> str:
    """Beside a dominant reading other than calm or smiling: that it is this person's usual reading, or that there is
    no baseline to tell, so a reviewer does not take a steady stern face for a state (docs/SIGNALS.md, baseline)."""
    if dominant in (None, "neutral", "happy"):
        return ""
    if not isinstance(baseline, dict):
        return "no baseline for this person (too little readable face): this may be their resting face"
    if baseline.get("dominant") == dominant:
        return "also this person's usual reading (baseline): a steady reading of this face, not a moment"
    return ""


def moved_from_baseline(relative: object) -> list[tuple[str, float]]:
    """A part's mean reading minus the baseline: up to three labels that moved by MOVED_MIN or more, largest first."""
    if not isinstance(relative, dict):
        return []
    moved = sorted(((number(v) or 0.0, str(k)) for k, v in relative.items()), key=lambda x: -abs(x[0]))
    return [(k, v) for v, k in moved if abs(v) >= MOVED_MIN][:3]


def _baseline_fact(baseline: dict) -> str:
    """The reading the parts are compared with, or why there is none."""
    top = baseline_top(baseline, 3)
    if not top:
        return (
            "too little readable face (under 10 s) to know it: the stress cue and the words-against-face check "
            "are not measured"
        )
    seconds = number(baseline.get("readable_s")) or 0.0
    return (
        ", ".join(f"{_e(label)} {p:.0%}" for label, p in top)
        + f' <span class="muted">(median reading over {seconds:.0f} s of readable face; each part, the '
        "stress cue, the feedback and the words-against-face check are read against it)</span>"
    )


def _relative_line(s: dict) -> str:
    """How a part's mean reading differs from the person's baseline, in probability points."""
    if not _dict(s.get("relative_to_baseline")):
        return ""
    moved = moved_from_baseline(s.get("relative_to_baseline"))
    text = (
        ", ".join(f"{_e(k)} {v * 100:+.0f} pts" for k, v in moved)
        if moved
        else "close to it (no label moved by 5 points)"
    )
    return f'<p class="relative">Against this person\'s baseline: {text}</p>'


def _dominant_chips(dominant) -> str:
    chips = []
    for d in _list(dominant):
        if isinstance(d, dict) and d.get("label"):
            label = str(d["label"])
            chips.append(
                f'<span class="chip" data-emotion="{_e(label)}">'
                f"{swatch(EMOTION_COLOURS.get(label, UNKNOWN_COLOUR))}{_e(label)} "
                f"<b>{pct(d.get('share'))}</b></span>"
            )
    return f'<div class="chips">{"".join(chips)}</div>' if chips else '<p class="muted">No readable face.</p>'


def _cue_chips(cues: dict) -> str:
    out = []
    for key, name in CUE_NAMES.items():
        cue = _dict(cues.get(key))
        if cue.get("level"):
            out.append(f'<span class="chip cue-chip">{name}: <b>{_e(cue["level"])}</b>{_confidence_badge(cue)}</span>')
    return f'<div class="chips">{"".join(out)}</div>' if out else ""


def _confidence_badge(cue: dict) -> str:
    level = str(cue.get("confidence_level") or "")
    value = number(cue.get("confidence"))
    if not level and value is None:
        return ""
    cls = level if level in ("low", "moderate", "high") else "low"
    text = f"{level or 'confidence'}" + (f" {value:.2f}" if value is not None else "")
    return f' <span class="conf conf-{cls}" title="confidence of this cue (0..1)">{_e(text)}</span>'


# ---- question cards ---------------------------------------------------------------------------------------------


def questions_section(interview: dict) -> str:
    spans = spans_of(interview)
    if not spans:
        return ""
    kind = interview.get("span_kind", "questions")
    title = "Question by question" if kind == "questions" else "Part by part"
    cards = "".join(_card(interview, n, s) for n, s in enumerate(spans))
    return (
        f'<section id="questions"><h2>{title}</h2><p class="caption">For each part: what the face showed '
        f"(share of readable moments by expression, valence from −1 unpleasant to +1 pleasant, arousal from "
        f"−1 calm to +1 activated), how it moved, the derived cues with their confidence, the voice beside it, "
        f'and the feedback drafted for the candidate.</p><div class="cards">{cards}</div></section>'
    )


def _card(interview: dict, n: int, s: dict) -> str:
    label = span_label(interview, n)
    head = (
        f'<header><span class="qnum">{label}</span><h3>{_e(s.get("text") or label)}</h3>'
        f'<span class="qtime">{fmt_range(float(s["start_s"]), float(s["end_s"]))}</span></header>'
    )
    face = (
        f'<div class="panel face"><h4>Face</h4>{_dominant_chips(s.get("dominant"))}'
        f"{_prob_bar(_dict(s.get('mean_probs')))}{_relative_line(s)}{_affect_rows(s)}{_arc(_dict(s.get('arc')))}"
        f"{_mixed(_list(s.get('mixed')))}{_presence_line(s)}</div>"
    )
    cues = _cues_panel(_dict(s.get("cues")))
    voice = (
        f'<div class="panel voice"><h4>Voice</h4>{voice_summary(s.get("voice"), interview)}'
        f"{_not_the_candidate(interview, s)}</div>"
    )
    words = _sentiment(s.get("sentiment"))
    feedback = s.get("feedback")
    fb = (
        (
            f'<blockquote class="feedback"><p class="fb-head">Feedback to the candidate</p><p>{_e(feedback)}</p>'
            f"</blockquote>"
        )
        if feedback
        else ""
    )
    return (
        f'<article class="qcard" id="q-{n + 1}" data-start="{float(s["start_s"]):.2f}">{head}{outside_notice(s)}'
        f'<div class="qgrid">{face}{cues}{voice}</div>{behaviour_panels(s)}{words}{fb}</article>'
    )


def outside_notice(s: dict) -> str:
    """A part (partly) outside the recording says so first: its empty panels are not about the face or the light."""
    out = number(s.get("outside_s"))
    if not out:
        return ""
    text = (
        "This part lies outside the recording: nothing in it was analysed."
        if outside_recording(s)
        else f"{out:.1f} s of this part lie outside the recording: only the rest was analysed."
    )
    return f'<p class="notice outside">{text}</p>'


def _prob_bar(means: dict) -> str:
    parts = []
    for label in EMOTIONS:
        p = number(means.get(label))
        if p and p > 0:
            parts.append(
                f'<span style="width:{min(p, 1) * 100:.1f}%;background:{EMOTION_COLOURS[label]}" '
                f'title="{label} {p:.0%}"></span>'
            )
    return f'<div class="stack" aria-label="mean probabilities">{"".join(parts)}</div>' if parts else ""


def _scale_row(name: str, value: float | None, lo: float, hi: float, hint: str) -> str:
    if value is None:
        return f'<div class="meter"><span class="m-name">{name}</span><span class="m-val">—</span></div>'
    pos = (min(max(value, lo), hi) - lo) / (hi - lo) * 100
    zero = (0 - lo) / (hi - lo) * 100 if lo < 0 else None
    mid = f'<i class="m-zero" style="left:{zero:.0f}%"></i>' if zero is not None else ""
    return (
        f'<div class="meter" title="{_e(hint)}"><span class="m-name">{name}</span><span class="m-track">{mid}'
        f'<i class="m-dot" style="left:{pos:.1f}%"></i></span><span class="m-val">{value:+.2f}</span></div>'
        if lo < 0
        else f'<div class="meter" title="{_e(hint)}"><span class="m-name">{name}</span><span class="m-track">'
        f'<i class="m-fill" style="width:{pos:.1f}%"></i></span><span class="m-val">{value:.2f}</span></div>'
    )


def _affect_rows(s: dict) -> str:
    return (
        _scale_row("Valence", number(s.get("valence")), -1, 1, "−1 unpleasant … +1 pleasant")
        + _scale_row("Arousal", number(s.get("arousal")), -1, 1, "−1 calm … +1 activated")
        + _scale_row("Expressivity", number(s.get("expressivity")), 0, 1, "0 neutral face … 1 strongly expressive")
    )


def _arc(arc: dict) -> str:
    """Start and end are the mean readings of the span's first and last thirds, so they get no clock time: their
    mean times put a peak inside the last third "after" the end ("peak 0:01.8 → end 0:01.6")."""
    steps = []
    for key, name in (("start", "first third"), ("peak", "peak"), ("end", "last third")):
        m = _dict(arc.get(key))
        if m.get("label"):
            t = number(m.get("time_s")) if key == "peak" else None
            colour = EMOTION_COLOURS.get(str(m["label"]), UNKNOWN_COLOUR)
            when = f" {fmt_time(t, tenths=True)}" if t is not None else ""
            steps.append(f'<span class="arc-step">{name}{when} {swatch(colour)}<b>{_e(m["label"])}</b></span>')
    if not steps:
        return ""
    shape = f' <span class="arc-shape">{_e(arc["shape"])}</span>' if arc.get("shape") else ""
    return f'<p class="arc">Arc{shape}: {" → ".join(steps)}</p>'


def _mixed(mixed: list) -> str:
    items = [
        f"{_e(' + '.join(map(str, m.get('labels', []))))} {fmt_range(float(m['start_s']), float(m['end_s']))}"
        for m in mixed
        if isinstance(m, dict) and number(m.get("start_s")) is not None and number(m.get("end_s")) is not None
    ]
    return f'<p class="mixed">Mixed: {"; ".join(items)}</p>' if items else ""


def _presence_line(s: dict) -> str:
    usable = number(s.get("usable_s"))
    return (
        f'<p class="muted small">Face present {pct(s.get("presence"))} · abstained {pct(s.get("abstained"))}'
        + (f" · {usable:.1f} s readable" if usable is not None else "")
        + "</p>"
    )


def _cues_panel(cues: dict) -> str:
    rows = []
    for key, name in CUE_NAMES.items():
        cue = _dict(cues.get(key))
        if not cue:
            continue
        support = [fmt_time(t, tenths=True) for t in (number(x) for x in _list(cue.get("support_s"))) if t is not None]
        rows.append(
            f'<div class="cue" data-cue="{key}"><p class="cue-head"><b>{name}</b> '
            f'<span class="level">{_e(cue.get("level") or "—")}</span>{_confidence_badge(cue)}</p>'
            f"<p>{_e(cue.get('text') or '')}</p>"
            + (f'<p class="muted small">Seen around {", ".join(support)}</p>' if support else "")
            + f'<p class="caveat">{CUE_CAVEATS[key]}</p></div>'
        )
    body = "".join(rows) or '<p class="muted">No cues for this part.</p>'
    return f'<div class="panel cues"><h4>Cues</h4>{body}</div>'


def _sentiment(sentiment) -> str:
    s = _dict(sentiment)
    if not s:
        return ""
    compound = number(s.get("compound"))
    if compound is None:
        return '<p class="words muted small">Words: the candidate said nothing in this part of the transcript.</p>'
    tone = "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"
    return (
        f'<p class="words small">Words: {int(number(s.get("words")) or 0)} words in '
        f"{int(number(s.get('utterances')) or 0)} utterance(s) overlapping this part (each counted whole), read as "
        f"<b>{tone}</b> (VADER {compound:+.2f}).</p>"
    )


# ---- voice ------------------------------------------------------------------------------------------------------


def voice_summary(voice, interview: dict) -> str:
    """The few voice numbers of one part, with their reliability."""
    v = _dict(voice)
    if not v:
        note = interview.get("voice_note") or "no voice cues"
        return f'<p class="muted">{_e(note)}</p>'
    if not v.get("available", True):
        return f'<p class="muted">{_e(v.get("reason") or "no audio")}</p>'
    rows = [
        ("Pitch", _unit(v.get("pitch_median_hz"), "Hz", 0)),
        ("Pitch variation", _unit(v.get("pitch_variability_st"), "semitones", 1)),
        (
            "Loudness",
            _unit(v.get("loudness_dbfs"), "dBFS", 0)
            + (
                f' <span class="muted">(range {_unit(v.get("loudness_range_db"), "dB", 0)})</span>'
                if number(v.get("loudness_range_db")) is not None
                else ""
            ),
        ),
        ("Speaking rate", _unit(v.get("speaking_rate_per_s"), "syllable peaks/s", 1)),
        (
            "Pauses ≥ 0.3 s",
            f"{int(number(v.get('pause_count')) or 0)}"
            + (f" · longest {_unit(v.get('pause_longest_s'), 's', 1)}" if number(v.get("pause_longest_s")) else ""),
        ),
        ("Voiced", pct(v.get("voiced_share")) + " of the time"),
    ]
    table = "".join(f"<tr><th>{k}</th><td>{val}</td></tr>" for k, val in rows)
    flag = (
        ""
        if v.get("reliable")
        else f'<p class="unreliable">Not reliable here: {_e(v.get("reason") or "too little speech")}.</p>'
    )
    return f'<table class="kv"><tbody>{table}</tbody></table>{flag}'


def _not_the_candidate(interview: dict, s: dict) -> str:
    """Why a part's voice cues are not used: the transcript has no word of the candidate in it."""
    v = _dict(s.get("voice"))
    if s.get("candidate_spoke") is not False or not v or not v.get("available", True):
        return ""
    who = f" ({_e(interview['candidate_speaker'])})" if interview.get("candidate_speaker") else ""
    return (
        f'<p class="unreliable">Not used for feedback: the transcript has no speech by the candidate{who} in this '
        "part, so this sound is someone else's voice or the room.</p>"
    )


def _unit(value, unit: str, digits: int) -> str:
    v = number(value)
    return "—" if v is None else f"{v:.{digits}f} {unit}"


def voice_section(interview: dict) -> str:
    spans = spans_of(interview)
    if not interview.get("voice_available"):
        note = interview.get("voice_note") or "Voice cues were not computed for this analysis."
        return f'<section id="voice"><h2>Voice</h2><p class="notice">{_e(note)}</p></section>'
    cols = [
        ("pitch_median_hz", "Pitch (Hz)", 0),
        ("pitch_variability_st", "Variation (st)", 1),
        ("loudness_dbfs", "Loudness (dBFS)", 0),
        ("speaking_rate_per_s", "Rate (peaks/s)", 1),
        ("pause_count", "Pauses", 0),
        ("pause_total_s", "Paused (s)", 1),
        ("voiced_share", "Voiced", None),
    ]
    values = {key: [number(_dict(s.get("voice")).get(key)) for s in spans] for key, _, _ in cols}
    head = "".join(f'<th scope="col" class="num">{name}</th>' for _, name, _ in cols)
    rows = []
    for n, s in enumerate(spans):
        v = _dict(s.get("voice"))
        cells = []
        for key, _, digits in cols:
            x = number(v.get(key))
            known = [y for y in values[key] if y is not None]
            lo, hi = (min(known), max(known)) if known else (0.0, 1.0)
            width = 0 if x is None or hi == lo else (x - lo) / (hi - lo) * 100
            text = "—" if x is None else (pct(x) if digits is None else f"{x:.{digits}f}")
            cells.append(f'<td class="num"><span class="cellbar" style="width:{width:.0f}%"></span>{text}</td>')
        flag = "" if v.get("reliable") else f' <span class="badge-warn" title="{_e(v.get("reason") or "")}">!</span>'
        rows.append(
            f'<tr class="{"" if v.get("reliable") else "unrel"}"><th scope="row">'
            f'<a href="#q-{n + 1}">{span_label(interview, n)}</a>{flag}</th>{"".join(cells)}</tr>'
        )
    unreliable = [
        f"{span_label(interview, n)}: {_e(_dict(s.get('voice')).get('reason') or 'unavailable')}"
        for n, s in enumerate(spans)
        if not _dict(s.get("voice")).get("reliable")
    ]
    notes = f'<p class="small muted">Marked ! (not reliable): {"; ".join(unreliable)}.</p>' if unreliable else ""
    return (
        f'<section id="voice"><h2>Voice</h2><p class="caption">From the audio track, per part: median pitch and '
        f"its variation in semitones, mean loudness of the speech, syllable-like peaks per second of talking, "
        f"and silences of 0.3 s or more. The bars compare the parts of this interview with each other. Formulas: "
        f'docs/SIGNALS.md, “Voice cues”.</p><div class="table-wrap"><table class="voice-table"><thead><tr>'
        f'<th scope="col">Part</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{notes}'
        f"</section>"
    )


# ---- highlights and mismatch ------------------------------------------------------------------------------------


def kind_name(kind) -> str:
    """A highlight's kind as the card says it: "Out of frame", never the key "out_of_frame"."""
    return KIND_NAMES.get(kind) or str(kind or "").replace("_", " ").capitalize()


def highlights_section(interview: dict, blur: bool) -> str:
    items = highlights_of(interview)
    if not items:
        return (
            '<section id="highlights"><h2>Highlights</h2><p>No moment stood out clearly enough to flag.</p></section>'
        )
    blurred = blur or bool(interview.get("thumbnails_blurred"))
    cards = []
    for n, h in enumerate(items):
        thumb = h.get("thumbnail")
        img = '<div class="thumb none">no picture</div>'
        if isinstance(thumb, str) and _DATA_URI.fullmatch(thumb):
            if blur and not interview.get("thumbnails_blurred"):
                thumb = blur_data_uri(thumb)
            if thumb:
                img = f'<img class="thumb" src="{thumb}" alt="face at {fmt_time(float(h["time_s"]), tenths=True)}">'
        span_index = number(h.get("span_index"))
        where = (
            f' · <a href="#q-{int(span_index) + 1}">{span_label(interview, int(span_index))}</a>'
            if span_index is not None
            else ""
        )
        label = str(h.get("label") or "")
        chip = f"{swatch(EMOTION_COLOURS.get(label, UNKNOWN_COLOUR))}{_e(label)}" if label else ""
        cards.append(
            f'<figure class="hl" id="highlight-{n + 1}" data-time="{float(h["time_s"]):.2f}">{img}'
            f'<figcaption><p class="hl-head"><span class="pin">{n + 1}</span>'
            f"{fmt_time(float(h['time_s']), tenths=True)} · {_e(kind_name(h.get('kind')))}"
            f"{where}</p><p>{chip}</p><p>{_e(h.get('reason') or '')}</p></figcaption></figure>"
        )
    note = " Pictures are blurred for privacy." if blurred else ""
    return (
        f'<section id="highlights"><h2>Highlights</h2><p class="caption">The moments most worth a second look '
        f"in the recording, numbered as on the timeline: large changes, the clearest expressions and sustained "
        f'shifts.{note}</p><div class="hl-grid{" blurred" if blurred else ""}">{"".join(cards)}</div></section>'
    )


def mismatch_section(interview: dict) -> str:
    mm = interview.get("mismatch")
    if not isinstance(mm, dict):
        return (
            '<section id="mismatch"><h2>Words against face</h2><p class="muted">No transcript was given, so '
            "what was said was not compared with what the face showed.</p></section>"
        )
    items = [i for i in _list(mm.get("items")) if isinstance(i, dict)]
    # Analyses since the baseline give valence minus the baseline's (−2 … +2); older ones gave the raw valence.
    raw = any(i.get("relative_to_baseline") is False for i in items if number(i.get("facial_valence")) is not None)
    face_head = "Face" if raw else "Face vs baseline"
    rows = []
    for item in sorted(items, key=lambda i: (i.get("status") != "flagged", number(i.get("start_s")) or 0)):
        status = str(item.get("status") or "")
        a, b = number(item.get("start_s")), number(item.get("end_s"))
        when = fmt_range(a, b) if a is not None and b is not None else "—"
        comp, face = number(item.get("compound")), number(item.get("facial_valence"))
        rows.append(
            f'<tr class="st-{_e(status)}"><td class="nowrap">{when}</td><td><span class="status">'
            f"{_e(status)}</span></td><td>“{_e(item.get('text') or '')}”</td>"
            f'<td class="num">{"—" if comp is None else f"{comp:+.2f}"}</td>'
            f'<td class="num">{"—" if face is None else f"{face:+.2f}"}</td>'
            f'<td class="num">{pct(item.get("coverage"))}</td><td class="small">{_e(item.get("reason") or "")}'
            f"</td></tr>"
        )
    table = (
        f'<div class="table-wrap"><table class="mm-table"><thead><tr><th scope="col">When</th>'
        f'<th scope="col">Status</th><th scope="col">What was said</th><th scope="col" class="num">Words</th>'
        f'<th scope="col" class="num">{face_head}</th><th scope="col" class="num">Face read</th>'
        f'<th scope="col">Evidence</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        if rows
        else "<p>No utterance of the candidate to compare.</p>"
    )
    flagged = int(number(mm.get("flagged")) or 0)
    scale = (
        " (−1 … +1)"
        if raw
        else ", measured from this person's baseline (valence runs −1 … +1, so its difference from the baseline "
        "runs −2 … +2; 0 is their usual expression)"
    )
    return (
        f'<section id="mismatch"><h2>Words against face</h2><p class="caption">Each utterance of the candidate: '
        f"the sentiment of the words (VADER, −1 … +1) against the mean facial valence over the same time{scale}, "
        f"and how much of that time the face could be read. Flagged only for strong, sustained "
        f"disagreement with enough readable face; {flagged} of "
        + _count(int(number(mm.get("checked")) or 0), "checked utterance")
        + f" {'was' if flagged == 1 else 'were'} flagged.</p>{table}</section>"
    )
