"""What the interview page shows, built from a `facecue.result/1` document: charts, segments, questions, highlights.

The charts come from the offline HTML report (facecue.report), so the page and the report draw the same thing.
The `interview` section (questions, highlights, cues; see docs/SIGNALS.md) is optional: every part of it is read
defensively and simply left out when absent or malformed, so older results still render.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup

from facecue.labels import EMOTIONS
from facecue.report.charts import (
    EMOTION_COLOURS,
    PATTERN_DEFS,
    UNKNOWN_COLOUR,
    TimeScale,
    fmt_range,
    fmt_time,
    number,
    pct,
    timeline_svg,
)

try:  # question bands and highlight pins on the chart, where the report's charts draw them
    from facecue.report.charts import Band, Marker
except ImportError:  # pragma: no cover - an older report module: the chart goes without them
    Band = Marker = None
from facecue.interview.behaviour import PANELS
from facecue.report.behaviour import BEHAVIOUR_LIMITS
from facecue.report.html import LIMITS, presence_section
from facecue.report.interview import (
    CUE_CAVEATS,
    CUE_NAMES,
    baseline_top,
    dominant_context,
    mode_text,
    moved_from_baseline,
    not_measured,
    span_label,
)
from facecue.report.series import ABSENT, ABSTAINED, downsample, frame_spans, frame_status, time_runs
from facecue.result import ModelRef, Result


@dataclass
class SegmentRow:
    index: int
    start_s: float
    end_s: float
    label: str
    confidence: float
    colour: str
    when: str


@dataclass
class Highlight:
    time_s: float
    when: str
    kind: str
    label: str
    reason: str
    thumbnail: str | None  # a data: URI, shown as is (the page's CSP allows data: images only)


@dataclass
class QuestionCard:
    index: int
    label: str  # "Q1" for a question, "W1" for a fixed window (as the report numbers them)
    text: str
    start_s: float
    end_s: float
    when: str
    dominant: list[tuple[str, str, str]]  # (label, colour, share text)
    presence: str
    cues: list[tuple[str, str, str, str]]  # (the report's cue name, level with its confidence, plain text, caveat)
    arc: str
    against_baseline: str = ""  # the labels that moved most from the person's own baseline, "" without one
    # Eye contact, head movement, smiles and posture: (panel title, the cue sentences or why there are none).
    behaviour: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class ReviewView:
    has_face: bool
    duration_s: float
    timeline_svg: Markup
    presence_svg: Markup
    data_json: Markup
    legend: list[tuple[str, str]]
    segments: list[SegmentRow]
    means: list[tuple[str, str, str, float]]  # label, colour, percentage text, bar width 0..100
    facts: list[tuple[str, str]]
    notes: list[str]
    highlights: list[Highlight] = field(default_factory=list)
    questions: list[QuestionCard] = field(default_factory=list)
    span_kind: str | None = None
    interview_notes: list[str] = field(default_factory=list)
    limits: tuple[tuple[str, str], ...] = LIMITS
    emotions: bool = True  # False: a behaviour-only analysis; the page then names no emotion anywhere
    mode: str = ""  # which signals the analysis read, in words
    behaviour: list[tuple[str, list[str]]] = field(default_factory=list)  # the whole interview's panels
    overall_cues: list[tuple[str, str, str, str]] = field(default_factory=list)  # the whole interview's cues


def build_review(document: dict) -> ReviewView:
    """The page's view of one result document; raises ValueError/KeyError/TypeError if it is not one."""
    res = Result.from_dict(document)
    # The document's own summary, not res.summary: a figure it lacks shows as missing, where the typed one reads 0.
    summary = document["summary"] if isinstance(document.get("summary"), dict) else {}
    status = frame_status(res.timeline.present, res.timeline.usable, res.timeline.smoothed)
    duration = number(res.source.duration_s) or 0.0
    points = downsample(res.times, res.timeline.smoothed.astype(np.float64), status, end_s=duration)
    starts, ends = frame_spans(res.times, duration)
    scale = TimeScale(max(duration, float(ends[-1]) if len(ends) else 0.0))
    gaps = [(float(a), float(b)) for a, b in res.gaps]
    others = [(t.face_id, [(float(a), float(b)) for a, b in t.ranges]) for t in res.tracks if t.role == "other"]
    has_face = res.candidate_id is not None and bool(res.timeline.present.any()) and not summary.get("no_face")

    data = {
        "labels": list(EMOTIONS),
        "colours": [EMOTION_COLOURS[e] for e in EMOTIONS],
        "t": np.round(points.time, 2).tolist(),
        "p": [None if np.isnan(row).any() else np.round(row, 3).tolist() for row in points.probs],
        "s": points.status.tolist(),
    }
    # "<" never occurs in numbers and labels, but escaping it keeps "</script>" impossible inside the block.
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    # The report's presence section: the strip with its legend and the absent and abstained times in words.
    runs = {code: time_runs(starts, ends, status, code) for code in (ABSTAINED, ABSENT)}
    strip = presence_section(points, scale, others, gaps, runs) if has_face else ""

    segments = [
        SegmentRow(
            i,
            s.start_s,
            s.end_s,
            s.label,
            s.confidence,
            EMOTION_COLOURS.get(s.label, UNKNOWN_COLOUR),
            fmt_range(s.start_s, s.end_s),
        )
        for i, s in enumerate(res.segments)
    ]
    means_src = summary.get("mean_probs") if isinstance(summary.get("mean_probs"), dict) else {}
    means = []
    for label in EMOTIONS:
        p = number(means_src.get(label))
        means.append((label, EMOTION_COLOURS[label], pct(p), 0.0 if p is None else min(max(p, 0.0), 1.0) * 100))
    facts = [
        ("Duration", fmt_time(duration)),
        ("Frames analysed", str(summary.get("frames_analysed", len(res.times)))),
        ("Candidate's face present", pct(summary.get("face_presence"))),
        ("Model abstained", pct(summary.get("abstained"))),
        ("Dominant expression", _dominant_text(summary.get("dominant"), summary.get("baseline"))),
        ("This person's baseline", _baseline_text(summary.get("baseline"))),
        ("Other people in view", str(len(others)) if others else "none"),
        # which model read it: readings of different models (v1 until 2026-12-05, then v2) do not compare
        ("Expression model", _model_text(res.models.emotion)),
    ]
    legend = [(e, EMOTION_COLOURS[e]) for e in EMOTIONS]
    if not res.emotions:  # behaviour only: no expression chart, means, segments or emotion facts at all
        emotion_facts = ("Model abstained", "Dominant expression", "This person's baseline", "Expression model")
        facts = [f for f in facts if f[0] not in emotion_facts]
        segments, means, legend, payload = [], [], [], "null"
    view = ReviewView(
        has_face=has_face,
        duration_s=scale.t_end,
        timeline_svg=Markup(""),
        presence_svg=Markup(strip),
        data_json=Markup(payload),
        legend=legend,
        segments=segments,
        means=means,
        facts=facts,
        notes=[str(n) for n in res.notes],
        emotions=res.emotions,
        mode=mode_text(res.signals, with_flag=False),  # the CLI's --signals option means nothing here
    )
    if not res.emotions:
        view.limits = BEHAVIOUR_LIMITS
    _add_interview(view, document.get("interview"))
    if has_face and res.emotions:
        extra = {}
        if Band is not None and Marker is not None:
            extra = {
                "bands": tuple(Band(q.start_s, q.end_s, f"Q{n}", q.text) for n, q in enumerate(view.questions, 1)),
                "markers": tuple(
                    Marker(h.time_s, n, h.reason or h.label, f"h-{n}") for n, h in enumerate(view.highlights, 1)
                ),
            }
        view.timeline_svg = Markup(PATTERN_DEFS + timeline_svg(points, scale, res.segments, gaps, **extra))
    return view


def _add_interview(view: ReviewView, section: object) -> None:
    """Highlights and per-question cards, when the analysis produced them."""
    if not isinstance(section, dict):
        return
    view.span_kind = section.get("span_kind") if isinstance(section.get("span_kind"), str) else None
    overall = section.get("overall")
    if isinstance(overall, dict):
        view.behaviour = behaviour_panels(overall)
    for item in section.get("highlights") or []:
        if not isinstance(item, dict) or number(item.get("time_s")) is None:
            continue
        thumb = item.get("thumbnail")
        view.highlights.append(
            Highlight(
                time_s=float(item["time_s"]),
                when=fmt_time(float(item["time_s"]), tenths=True),
                kind=str(item.get("kind") or "moment"),
                label=str(item.get("label") or ""),
                reason=str(item.get("reason") or ""),
                thumbnail=thumb if isinstance(thumb, str) and thumb.startswith("data:image/") else None,
            )
        )
    view.overall_cues = _cues(overall) if isinstance(overall, dict) else []
    if view.span_kind in ("questions", "windows"):  # the parts the report shows, questions or fixed windows
        for n, span in enumerate(section.get("spans") or []):
            card = _question_card(span, span_label(section, n))
            if card is not None:
                view.questions.append(card)
    view.interview_notes = [str(n) for n in section.get("notes") or [] if isinstance(n, str)]


def _cues(part: dict) -> list[tuple[str, str, str, str]]:
    """A part's derived cues under the report's names, each with its level, sentence and the report's caveat."""
    raw = part.get("cues") if isinstance(part.get("cues"), dict) else {}
    out = []
    for key, name in CUE_NAMES.items():
        cue = raw.get(key)
        if isinstance(cue, dict) and cue.get("level") is not None:
            sure = f" ({cue['confidence_level']} confidence)" if isinstance(cue.get("confidence_level"), str) else ""
            out.append((name, f"{cue['level']}{sure}", str(cue.get("text") or ""), CUE_CAVEATS[key]))
    return out


def _question_card(span: object, part: str) -> QuestionCard | None:
    # The span's "feedback" is written to the candidate (practice mode) and is left out of the reviewer's card.
    if not isinstance(span, dict) or number(span.get("start_s")) is None:
        return None
    start, end = float(span["start_s"]), number(span.get("end_s"))
    dominant = []
    for entry in span.get("dominant") or []:
        if isinstance(entry, dict) and entry.get("label"):
            label = str(entry["label"])
            dominant.append((label, EMOTION_COLOURS.get(label, UNKNOWN_COLOUR), pct(entry.get("share"))))
    arc = span.get("arc") if isinstance(span.get("arc"), dict) else {}
    index = int(number(span.get("index")) or 0)
    return QuestionCard(
        index=index,
        label=part,
        text=str(span.get("text") or (f"Question {index + 1}" if part.startswith("Q") else "Fixed window")),
        start_s=start,
        end_s=end if end is not None and end > start else start,
        when=fmt_range(start, end) if end is not None else fmt_time(start, tenths=True),
        dominant=dominant,
        presence=pct(span.get("presence")),
        cues=_cues(span),
        arc=str(arc.get("shape") or ""),
        against_baseline=_relative_text(span.get("relative_to_baseline")),
        behaviour=behaviour_panels(span),
    )


def behaviour_panels(part: dict) -> list[tuple[str, list[str]]]:
    """Eye contact, head movement, smiles and posture of one part (or the whole interview): the sentences of the
    behaviour cues it holds, or why a panel has none; [] when the analysis measured no behaviour."""
    figures = part.get("behaviour") if isinstance(part.get("behaviour"), dict) else None
    cues = part.get("behaviour_cues") if isinstance(part.get("behaviour_cues"), dict) else {}
    if figures is None and not cues:
        return []
    out = []
    for title, names in PANELS.items():
        lines = [str(c.get("text") or "") for n in names if isinstance(c := cues.get(n), dict)]
        out.append((title, lines or [not_measured(figures or {}, names)]))
    return out


def _model_text(model: ModelRef | None) -> str:
    return "not recorded" if model is None else f"{model.name} {model.version}"


def _dominant_text(dominant: object, baseline: object) -> str:
    context = dominant_context(dominant, baseline)
    return str(dominant or "none") + (f" ({context})" if context else "")


def _baseline_text(baseline: object) -> str:
    """The person's own baseline reading (docs/SIGNALS.md, baseline), or why there is none."""
    top = baseline_top(baseline, 3)  # as many labels as the report lists
    if not top:
        return "none (under 10 s of readable face)"
    return ", ".join(f"{label} {pct(p)}" for label, p in top) + " (median reading; parts are read against it)"


def _relative_text(relative: object) -> str:
    """A part's mean reading minus the baseline, in words ("" without a baseline)."""
    if not isinstance(relative, dict) or not relative:
        return ""
    moved = moved_from_baseline(relative)
    return ", ".join(f"{k} {v * 100:+.0f} pts" for k, v in moved) if moved else "close to the baseline"
