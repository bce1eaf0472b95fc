"""Inline SVG charts for the report: the stacked expression timeline and the face-presence strip.

Both share one horizontal layout (viewBox width, margins, time scale) so that a moment lines up vertically
across the two charts. Every string placed in the SVG is escaped here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np

from facecue.labels import EMOTIONS
from facecue.report.series import ABSENT, ABSTAINED, USABLE, TimelinePoints, runs
from facecue.result import Segment

# Okabe–Ito colours (distinguishable with the common colour-vision deficiencies); neutral is a light grey
# so that it reads as the background the other expressions rise out of.
EMOTION_COLOURS: dict[str, str] = {
    "angry": "#D55E00",
    "disgust": "#009E73",
    "fear": "#CC79A7",
    "happy": "#E69F00",
    "sad": "#0072B2",
    "surprise": "#56B4E9",
    "neutral": "#BDBDBD",
}
UNKNOWN_COLOUR = "#8C8C8C"

WIDTH = 1000
LEFT = 84  # room for the row names ("Candidate", "Segments")
RIGHT = 14
PLOT_W = WIDTH - LEFT - RIGHT


def number(value: object) -> float | None:
    """A finite float from a JSON value, or None (missing, not a number, NaN)."""
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def pct(share: object) -> str:
    """A 0..1 share as a whole percentage ("—" when unknown); never rounds a small non-zero share to 0% or a
    near-total to 100%."""
    value = number(share)
    if value is None:
        return "—"
    if 0 < value < 0.005:
        return "<1%"
    if 0.995 <= value < 1:
        return ">99%"
    return f"{value * 100:.0f}%"


def fmt_time(seconds: float, tenths: bool = False) -> str:
    """m:ss (h:mm:ss past an hour); with `tenths`, m:ss.s for ranges in short clips."""
    seconds = max(0.0, seconds)
    if tenths:
        whole, frac = divmod(round(seconds * 10), 10)
    else:
        whole, frac = round(seconds), 0
    h, rest = divmod(int(whole), 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return f"{text}.{frac}" if tenths else text


def fmt_range(start: float, end: float) -> str:
    tenths = end - start < 60
    return f"{fmt_time(start, tenths)}–{fmt_time(end, tenths)}"


class TimeScale:
    """Seconds to viewBox x, over [0, t_end]."""

    def __init__(self, t_end: float) -> None:
        self.t_end = max(t_end, 1e-6)

    def x(self, t: float) -> float:
        return LEFT + min(max(t / self.t_end, 0.0), 1.0) * PLOT_W

    def ticks(self) -> list[float]:
        # The smallest "round" step giving at most 10 ticks.
        step = next(
            (s for s in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if self.t_end / s <= 10), 7200.0
        )
        return [i * step for i in range(int(self.t_end / step + 1e-9) + 1)]


def _axis(scale: TimeScale, y: float) -> str:
    parts = [f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>']
    for t in scale.ticks():
        x = scale.x(t)
        label = fmt_time(t, tenths=t != int(t))
        parts.append(
            f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + 4}"/>'
            f'<text class="tick-label" x="{x:.1f}" y="{y + 16}" text-anchor="middle">{label}</text>'
        )
    return "".join(parts)


# Placed once per document: both charts fill abstained stretches with this pattern by id.
PATTERN_DEFS = (
    '<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>'
    '<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
    '<rect width="6" height="6" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/>'
    "</pattern></defs></svg>"
)


def _gap_rects(scale: TimeScale, gaps: list[tuple[float, float]], y: float, h: float) -> str:
    return "".join(
        f'<rect class="gap" x="{scale.x(a):.1f}" y="{y}" width="{max(scale.x(b) - scale.x(a), 1):.1f}" '
        f'height="{h}"><title>Not decoded: {fmt_range(a, b)}</title></rect>'
        for a, b in gaps
    )


def _text_colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#111" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "#fff"


@dataclass(frozen=True)
class Band:
    """A question (or window) drawn as a labelled band under the timeline."""

    start_s: float
    end_s: float
    label: str  # short: "Q2"
    text: str  # the question, for the tooltip


@dataclass(frozen=True)
class Marker:
    """A highlight drawn as a numbered pin on the timeline, linking to its card."""

    time_s: float
    number: int
    text: str
    anchor: str  # id of the highlight card


def timeline_svg(
    points: TimelinePoints,
    scale: TimeScale,
    segments: tuple[Segment, ...],
    gaps: list[tuple[float, float]],
    bands: tuple[Band, ...] = (),
    markers: tuple[Marker, ...] = (),
) -> str:
    """Stacked areas of the seven smoothed probabilities, broken wherever the point has no value.

    Each series is one <path class="series">: the area from the baseline up to the cumulative probability
    of that label and every label before it, painted from the last label to the first so each visible band
    is the label's own share. That needs one edge per path instead of two, halving the file size.
    """
    top, height = 10, 220
    base = top + height

    def y(p: float) -> float:
        return base - min(max(p, 0.0), 1.0) * height

    parts = []
    for p in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(p):.1f}" y2="{y(p):.1f}"/>'
            f'<text class="tick-label" x="{LEFT - 6}" y="{y(p) + 4:.1f}" text-anchor="end">{p:.0%}</text>'
        )
    spans = runs(points.start, points.end, points.status)
    for a, b, code in spans:
        if code != USABLE:
            kind = "abstained" if code == ABSTAINED else "absent"
            x0, x1 = scale.x(points.start[a]), scale.x(points.end[b])
            parts.append(
                f'<rect class="bg-{kind}" x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 0.5):.1f}" height="{height}"/>'
            )
    parts.append(_gap_rects(scale, gaps, top, height))
    cumulative = np.cumsum(np.nan_to_num(points.probs), axis=1) if len(points) else np.zeros((0, len(EMOTIONS)))
    usable_spans = [(a, b) for a, b, code in spans if code == USABLE]
    for k in reversed(range(len(EMOTIONS))):
        d = []
        for a, b in usable_spans:
            xs = [scale.x(points.start[a]), *map(scale.x, points.time[a : b + 1].tolist()), scale.x(points.end[b])]
            ys = cumulative[a : b + 1, k].tolist()
            ys = [ys[0], *ys, ys[-1]]
            d.append(
                f"M{xs[0]:.1f},{base}L"
                + "L".join(f"{px:.1f},{y(py):.1f}" for px, py in zip(xs, ys, strict=False))
                + f"L{xs[-1]:.1f},{base}Z"
            )
        label = EMOTIONS[k]
        parts.append(
            f'<path class="series" data-emotion="{label}" fill="{EMOTION_COLOURS[label]}" '
            f'd="{"".join(d)}"><title>{label}</title></path>'
        )
    parts.append(_axis(scale, base))
    band_y = base + 30
    parts.append(
        f'<text class="row-label" x="{LEFT - 8}" y="{band_y + 15}" text-anchor="end">Segments</text>'
        f'<rect class="band-bg" x="{LEFT}" y="{band_y}" width="{PLOT_W}" height="22"/>'
    )
    for seg in segments:
        colour = EMOTION_COLOURS.get(seg.label, UNKNOWN_COLOUR)
        x0, x1 = scale.x(seg.start_s), scale.x(seg.end_s)
        tip = f"{seg.label} {fmt_range(seg.start_s, seg.end_s)}, mean probability {seg.confidence:.0%}"
        fits = x1 - x0 > 8 * len(seg.label) + 8  # roughly 8 viewBox units per character at 11 px
        text = (
            (
                f'<text class="seg-label" x="{(x0 + x1) / 2:.1f}" y="{band_y + 15}" text-anchor="middle" '
                f'fill="{_text_colour(colour)}">{escape(seg.label)}</text>'
            )
            if fits
            else ""
        )
        parts.append(
            f'<g class="segment"><rect x="{x0:.1f}" y="{band_y}" width="{max(x1 - x0, 1):.1f}" height="22" '
            f'fill="{colour}"/>{text}<title>{escape(tip)}</title></g>'
        )
    bottom = band_y + 22
    if bands:
        bottom = _question_row(parts, scale, bands, top, base, bottom + 8)
    parts.append(f'<line class="crosshair" x1="0" x2="0" y1="{top}" y2="{bottom}" visibility="hidden"/>')
    if markers:
        _marker_pins(parts, scale, markers, top, base)
    total = bottom + 8
    return (
        f'<svg id="timeline" class="chart" viewBox="0 0 {WIDTH} {total}" role="img" tabindex="0" '
        f'aria-labelledby="timeline-title" data-left="{LEFT}" data-width="{PLOT_W}" data-t-end="{scale.t_end:.4f}">'
        f'<title id="timeline-title">Smoothed expression probabilities over time, stacked to 100%; '
        f"blank where the face was absent or the model abstained.</title>{''.join(parts)}</svg>"
    )


def _question_row(
    parts: list[str], scale: TimeScale, bands: tuple[Band, ...], top: float, base: float, row_y: float
) -> float:
    """Dashed lines where each question starts (over the chart) and a row of labelled bands; returns its bottom."""
    name = "Questions" if all(b.label.startswith("Q") for b in bands) else "Windows"
    parts.append(
        f'<text class="row-label" x="{LEFT - 8}" y="{row_y + 15}" text-anchor="end">{name}</text>'
        f'<rect class="band-bg" x="{LEFT}" y="{row_y}" width="{PLOT_W}" height="22"/>'
    )
    for k, band in enumerate(bands):
        x0, x1 = scale.x(band.start_s), scale.x(band.end_s)
        if band.start_s > 0:
            parts.append(f'<line class="q-edge" x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" y2="{base}"/>')
        fits = x1 - x0 > 8 * len(band.label) + 6
        label = (
            (
                f'<text class="q-label" x="{(x0 + x1) / 2:.1f}" y="{row_y + 15}" text-anchor="middle">'
                f"{escape(band.label)}</text>"
            )
            if fits
            else ""
        )
        tip = f"{band.label} {fmt_range(band.start_s, band.end_s)}: {band.text}"
        parts.append(
            f'<a class="q-band q-{k % 2}" href="#q-{k + 1}" data-start="{band.start_s:.2f}" '
            f'data-end="{band.end_s:.2f}"><rect x="{x0:.1f}" y="{row_y}" width="{max(x1 - x0, 1):.1f}" '
            f'height="22"/>{label}<title>{escape(tip)}</title></a>'
        )
    return row_y + 22


def _marker_pins(parts: list[str], scale: TimeScale, markers: tuple[Marker, ...], top: float, base: float) -> None:
    """A thin line through the chart and a numbered disc at its top, linking to the highlight's card."""
    for m in markers:
        x = scale.x(m.time_s)
        tip = f"Highlight {m.number} at {fmt_time(m.time_s, tenths=True)}: {m.text}"
        parts.append(
            f'<a class="marker" href="#{escape(m.anchor)}" data-time="{m.time_s:.2f}">'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + 18}" y2="{base}"/>'
            f'<circle cx="{x:.1f}" cy="{top + 9}" r="9"/>'
            f'<text x="{x:.1f}" y="{top + 13}" text-anchor="middle">{m.number}</text>'
            f"<title>{escape(tip)}</title></a>"
        )


def presence_svg(
    points: TimelinePoints,
    scale: TimeScale,
    others: list[tuple[int, list[tuple[float, float]]]],
    gaps: list[tuple[float, float]],
) -> str:
    """Row 1: the candidate usable / abstained / absent; row 2: other people in view, per time range."""
    row_h, cand_y, other_y = 22, 6, 38
    names = {USABLE: "Face seen", ABSTAINED: "Abstained", ABSENT: "Face absent"}
    parts = [
        f'<text class="row-label" x="{LEFT - 8}" y="{cand_y + 15}" text-anchor="end">Candidate</text>',
        f'<rect class="band-bg" x="{LEFT}" y="{cand_y}" width="{PLOT_W}" height="{row_h}"/>',
        f'<text class="row-label" x="{LEFT - 8}" y="{other_y + 15}" text-anchor="end">Others</text>',
        f'<rect class="band-bg" x="{LEFT}" y="{other_y}" width="{PLOT_W}" height="{row_h}"/>',
    ]
    for a, b, code in runs(points.start, points.end, points.status):
        s, e = float(points.start[a]), float(points.end[b])
        x0, x1 = scale.x(s), scale.x(e)
        parts.append(
            f'<rect class="st-{code}" x="{x0:.1f}" y="{cand_y}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{row_h}"><title>{names[code]}: {fmt_range(s, e)}</title></rect>'
        )
    for face_id, ranges in others:
        for s, e in ranges:
            x0, x1 = scale.x(s), scale.x(e)
            parts.append(
                f'<rect class="other" x="{x0:.1f}" y="{other_y}" width="{max(x1 - x0, 1):.1f}" '
                f'height="{row_h}"><title>Person #{face_id} in view: {fmt_range(s, e)}</title></rect>'
            )
    parts.append(_gap_rects(scale, gaps, cand_y, other_y + row_h - cand_y))
    axis_y = other_y + row_h + 6
    parts.append(_axis(scale, axis_y))
    return (
        f'<svg class="chart strip" viewBox="0 0 {WIDTH} {axis_y + 22}" role="img" aria-labelledby="strip-title">'
        f'<title id="strip-title">Face presence over time: the candidate, and other people in view.</title>'
        f"{''.join(parts)}</svg>"
    )


def swatch(colour: str) -> str:
    """A small colour key for an expression label."""
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>'
