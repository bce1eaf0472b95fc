"""The fairness report as one self-contained HTML page: tables and inline SVG bar charts, no script, no
external request (a Content-Security-Policy forbids them). Every string from the data is escaped here."""

from __future__ import annotations

from html import escape

from facecue.fairness.stats import FOUR_FIFTHS
from facecue.labels import EMOTIONS

CHARTED = (
    "detection_rate",
    "abstention_rate",
    "angry_rate",
    "cue_rate",
    "engagement_rate",
    "accuracy",
    "macro_f1",
    "ece",
)
TITLES = {
    "detection_rate": "Face detected",
    "abstention_rate": "Abstained",
    "angry_rate": "Read as angry",
    "cue_rate": "Stress/discomfort cue",
    "engagement_rate": "Positive-engagement cue",
    "mean_p_angry": "Mean P(angry)",
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "ece": "Calibration error (ECE)",
}
RATES = {"detection_rate", "abstention_rate", "angry_rate", "cue_rate", "engagement_rate", "accuracy"}

_CSS = """
body{margin:0;color:#1f2328;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px}h1{font-size:1.5rem;margin:0 0 6px}
h2{font-size:1.15rem;margin:28px 0 10px;border-top:1px solid #d8dee4;padding-top:18px}h3{font-size:1rem}
table{border-collapse:collapse;margin:8px 0 16px;font-size:.88rem;display:block;overflow-x:auto}
th,td{border:1px solid #d8dee4;
padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa}td.num{text-align:right;
white-space:nowrap}.flag{background:#fde7e4}.muted{color:#59636e}.notice{background:#fff8e1;
border-left:4px solid #c98a00;padding:10px 14px}.callout{background:#f6f8fa;border-left:4px solid #2f4f6f;
padding:10px 14px}.charts{display:flex;flex-wrap:wrap;gap:8px 24px}svg text{font:11px system-ui,sans-serif}
footer{margin-top:32px;color:#59636e;font-size:.85rem}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.1f}%" if name in RATES or name.startswith("share") else f"{value:.3f}"


def _ci(name: str, ci: list[float] | None) -> str:
    return f'<span class="muted">[{fmt(name, ci[0])}–{fmt(name, ci[1])}]</span>' if ci else ""


def bar_chart(title: str, name: str, rows: list[tuple[str, dict]], reference: str | None) -> str:
    """Horizontal bars with 95% interval whiskers, one row per group; flagged groups in red, the
    reference group's value as a dashed line."""
    label_w, plot_w, row_h, top = 190, 300, 22, 26
    values = [m["value"] for _, m in rows if m["value"] is not None]
    highs = [m["ci"][1] for _, m in rows if m["ci"]] + values
    scale = max(highs) * 1.1 if highs and max(highs) > 0 else 1.0

    def x(v: float) -> float:
        return label_w + plot_w * min(max(v / scale, 0.0), 1.0)

    height = top + row_h * len(rows) + 8
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + plot_w + 90}" height="{height}" '
            f'role="img" aria-label="{escape(title)}"><text x="0" y="14" font-weight="600">{escape(title)}</text>'
        )
    ]
    for i, (group, m) in enumerate(rows):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{escape(group[:30])}</text>')
        if m["value"] is None:
            continue
        colour = "#D55E00" if m.get("four_fifths_flag") else "#0072B2"
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{x(m["value"]) - label_w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}" opacity="0.75"/>'
        )
        if m["ci"]:
            lo, hi = x(m["ci"][0]), x(m["ci"][1])
            mid = y + row_h / 2
            parts.append(
                f'<path d="M{lo:.1f} {mid}H{hi:.1f}M{lo:.1f} {mid - 5}V{mid + 5}M{hi:.1f} {mid - 5}'
                f'V{mid + 5}" stroke="#1f2328" fill="none"/>'
            )
        parts.append(f'<text x="{label_w + plot_w + 6}" y="{y + 14}">{fmt(name, m["value"])}</text>')
    ref = dict(rows).get(reference) if reference else None
    if ref and ref["value"] is not None:
        rx = x(ref["value"])
        parts.append(
            f'<line x1="{rx:.1f}" x2="{rx:.1f}" y1="{top}" y2="{height - 6}" stroke="#59636e" stroke-dasharray="3 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _metric_cell(name: str, m: dict) -> str:
    ratio = m.get("impact_ratio")
    ir = f'<br><span class="muted">IR</span> {ratio:.2f}' if ratio is not None else ""
    ir += f" {_ci('ratio', m['impact_ratio_ci'])}" if m.get("impact_ratio_ci") else ""
    cls = "num flag" if m.get("four_fifths_flag") else "num"
    return f'<td class="{cls}">{fmt(name, m["value"])} {_ci(name, m["ci"])}{ir}</td>'


def _grouping_section(title: str, grouping: dict) -> str:
    groups = grouping["groups"]
    names = list(next(iter(groups.values()))["metrics"])
    head = "".join(f"<th>{escape(TITLES[n])}</th>" for n in names)
    body = []
    for g, s in groups.items():
        cells = "".join(_metric_cell(n, s["metrics"][n]) for n in names)
        warn = ' <span title="see warnings">⚠</span>' if s["warnings"] else ""
        body.append(f"<tr><th>{escape(g)}{warn}</th><td class='num'>{s['n']}</td>{cells}</tr>")
    refs = ", ".join(f"{escape(TITLES[n])}: {escape(str(r))}" for n, r in grouping["reference"].items())
    charts = "".join(
        bar_chart(TITLES[n], n, [(g, s["metrics"][n]) for g, s in groups.items()], grouping["reference"][n])
        for n in CHARTED
        if n in names
    )
    shares = "".join(
        f"<tr><th>{escape(g)}</th>"
        + "".join(
            f"<td class='num'>{fmt('share', s['predicted_share'][e]['value'])} "
            f"{_ci('share', s['predicted_share'][e]['ci'])}</td>"
            for e in EMOTIONS
        )
        + "</tr>"
        for g, s in groups.items()
    )
    return (
        f"<h2>By {escape(title)}</h2><table><tr><th>group</th><th>n</th>{head}</tr>{''.join(body)}</table>"
        f"<p class='muted'>Value [95% bootstrap interval]; IR = impact ratio against the most favoured group "
        f"({refs}). Shaded cells fall below the four-fifths line ({FOUR_FIFTHS}).</p>"
        f"<div class='charts'>{charts}</div><h3>Predicted expressions (share of usable faces)</h3>"
        f"<table><tr><th>group</th>{''.join(f'<th>{e}</th>' for e in EMOTIONS)}</tr>{shares}</table>"
    )


def _gaps(doc: dict) -> str:
    rows = []
    for gname, grouping in doc["groupings"].items():
        for metric, gap in grouping["largest_gaps"].items():
            if gap:
                flag = "below 0.8" if gap["four_fifths_flag"] else "—"
                rows.append(
                    f"<tr><td>{escape(gname)}</td><td>{escape(TITLES[metric])}</td><td>{escape(gap['group'])}"
                    f" ({fmt(metric, gap['rate'])})</td><td>{escape(gap['reference'])} "
                    f"({fmt(metric, gap['reference_rate'])})</td><td class='num'>{gap['impact_ratio']:.2f} "
                    f"{_ci('ratio', gap['impact_ratio_ci'])}</td><td class='num'>{_points(gap)}</td><td>{flag}</td>"
                    f"<td class='num'>{_parity(gap)}</td></tr>"
                )
    return (
        "<h2>Largest gaps</h2><table><tr><th>grouping</th><th>outcome</th><th>group read most often</th>"
        "<th>reference (least often)</th><th>impact ratio</th><th>difference</th><th>four-fifths</th>"
        "<th>at exact parity; p of equal rates</th></tr>" + "".join(rows) + "</table>"
        "<p class='muted'>Difference: the two groups' rates apart, in percentage points [95% interval]. Read it "
        "beside the ratio: a ratio of two rare rates is low even when the groups are a point apart, and a model "
        "that reads every group less often can lower the ratio while narrowing the difference. At exact parity: "
        "the lowest impact ratio that groups of these sizes show by chance when every group has the same true rate "
        "(median [90% of draws]). For a rare outcome it is well below 1, so compare the measured ratio with it, and "
        "read the chi-square p-value of equal rates beside it.</p>"
    )


def _against(doc: dict) -> str:
    """The group-by-group comparison with a reference model, when the audit was run with --against."""
    against = doc.get("against")
    if not against:
        return ""
    reference = f"{against['model']['name']} {against['model']['version']}"
    rows = []
    for gname, readings in against["groupings"].items():
        for metric, r in readings.items():
            failed = [name.replace("_", " ") for name, ok in r["checks"].items() if not ok]
            rows.append(
                f"<tr><td>{escape(gname)}</td><td>{escape(TITLES[metric])}</td>"
                f"<td class='num'>{r['reference_worst_ratio']:.2f} → {r['worst_ratio']:.2f} "
                f"{_change(r['worst_ratio_change_ci'])}</td>"
                f"<td class='num'>{r['reference_largest_gap'] * 100:.1f} → {r['largest_gap'] * 100:.1f} points "
                f"{_change(r['largest_gap_change_ci'], 100)}</td>"
                f"<td>{escape(', '.join(r['measurably_lower']) or 'none')}</td>"
                f"<td>{escape(', '.join(r['measurably_higher']) or 'none')}</td>"
                f"<td>{escape('; '.join(failed)) if failed else 'no worse'}</td></tr>"
            )
    verdict = (
        "No group is worse off than under the reference."
        if against["no_worse"]
        else "Worse than the reference by: " + "; ".join(against["failures"]) + "."
    )
    return (
        f"<h2>Against {escape(reference)}</h2><p><strong>{escape(verdict)}</strong></p><table><tr><th>grouping</th>"
        "<th>outcome</th><th>worst impact ratio, reference → this model [interval of the change]</th>"
        "<th>largest gap between groups [interval of the change]</th><th>groups read measurably less often</th>"
        "<th>groups read measurably more often</th><th>checks</th></tr>" + "".join(rows) + "</table>"
        "<p class='muted'>Both models read the same faces; each interval is of the change itself, from bootstrap "
        "replicates that draw the same faces for both. No worse means: the worst ratio is not measurably lower, no "
        "group is read measurably more often, and the largest gap between groups is no wider.</p>"
    )


def _change(ci: list[float] | None, scale: float = 1.0) -> str:
    if not ci:
        return ""
    digits = 1 if scale != 1.0 else 2
    return f'<span class="muted">[{ci[0] * scale:+.{digits}f} to {ci[1] * scale:+.{digits}f}]</span>'


def _points(gap: dict) -> str:
    if gap.get("difference") is None:
        return "—"
    ci = gap.get("difference_ci")
    span = f" [{ci[0] * 100:+.1f} to {ci[1] * 100:+.1f}]" if ci else ""
    return f"{abs(gap['difference']) * 100:.1f} points{span}"


def _parity(gap: dict) -> str:
    parity = gap.get("at_parity")
    if not parity or parity["median"] is None:
        return "—"
    low, high = parity["range_90"]
    return f"{parity['median']:.2f} [{low:.2f}–{high:.2f}]; p = {gap['equal_rates_p']:.3f}"


def _flags(doc: dict) -> str:
    """Flags of groups large enough to read; small groups' flags are counted here and listed in the JSON."""
    flags = [f for f in doc["four_fifths_flags"] if not f["small_group"]]
    small = len(doc["four_fifths_flags"]) - len(flags)
    rows = "".join(
        f"<tr><td>{escape(f['grouping'])}</td><td>{escape(f['group'])}</td><td>{escape(TITLES[f['metric']])}"
        f"</td><td class='num'>{f['impact_ratio']:.2f} {_ci('ratio', f['impact_ratio_ci'])}</td>"
        f"<td>{escape(f['reference'])}</td><td>{'yes' if f['conclusive'] else 'no'}</td></tr>"
        for f in sorted(flags, key=lambda f: (not f["conclusive"], f["impact_ratio"]))
    )
    table = (
        (
            "<table><tr><th>grouping</th><th>group</th><th>outcome</th><th>impact ratio</th><th>reference</th>"
            "<th>conclusive (interval below 0.8; rates differ, p &lt; 0.05)</th></tr>" + rows + "</table>"
        )
        if flags
        else "<p>No group with enough cases falls below an impact ratio of 0.8.</p>"
    )
    extra = (
        (
            f"<p class='muted'>{small} more flag(s) in small groups are listed in fairness.json; with so few "
            f"cases they are anecdotal.</p>"
        )
        if small
        else ""
    )
    return "<h2>Four-fifths flags</h2>" + table + extra


def render_fairness_html(doc: dict) -> str:
    model = doc["models"]["emotion"]
    data = doc["data"]
    cue = doc["cue"]
    warnings = "".join(f"<li>{escape(w)}</li>" for w in doc["warnings"]) or "<li>none</li>"
    definitions = "".join(
        f"<tr><td>{escape(TITLES[n])}</td><td>{escape(d['description'])}</td>"
        f"<td>{escape(d['denominator'])}</td><td>{escape(d['direction'])}</td>"
        f"<td>{escape(d['impact_ratio'])}</td></tr>"
        for n, d in doc["definitions"].items()
    )
    credit = f"<p>Data: {escape(data['attribution'])}.</p>" if data.get("attribution") else ""
    body = [
        "<h1>facecue fairness audit</h1>",
        (
            f"<p class='muted'>{data['images_read']} of {data['rows']} images from {escape(data['images'])} · model "
            f"{escape(model['name'])} {escape(str(model['version']))} (sha256 {escape(model['sha256'][:12])}…) · "
            f"{escape(doc['created_at'])}</p>"
        ),
        _rows_audited(doc),
        (
            "<p class='callout'>How the model's reading of faces differs between groups of people. Differences come "
            "from the model and the detector, not from the people. An impact ratio below 0.8 (the four-fifths rule) "
            "flags a group read less favourably on that outcome than the most favoured group; with few cases a low "
            "ratio can also come from chance, so each flag says whether it is conclusive (its interval below 0.8 and "
            "the groups' rates measurably different).</p>"
        ),
        (
            f"<p class='notice'><strong>The cue.</strong> “{escape(cue['name'])}” is "
            f"{escape(cue['definition'])}: {escape(cue['note'])}.</p>"
        ),
        _gaps(doc),
        _against(doc),
        _flags(doc),
        f"<h2>Small-group and uncertainty warnings</h2><ul>{warnings}</ul>",
        *(_grouping_section(name, grouping) for name, grouping in doc["groupings"].items()),
        (
            "<h2>Definitions</h2><table><tr><th>outcome</th><th>meaning</th><th>out of</th><th>direction</th>"
            f"<th>impact ratio</th></tr>{definitions}</table>"
        ),
        (
            f"<p class='muted'>Intervals: percentile bootstrap, {doc['options']['n_boot']} resamples within each "
            f"group, seed {doc['options']['seed']}; a rate of 0 or 1 has a zero-width interval that understates the "
            f"uncertainty. The reference group is chosen among groups with at least {doc['options']['min_n']} "
            "cases.</p>"
        ),
        f"<footer>{credit}<p>facecue {escape(doc['facecue_version'])} · {escape(doc['schema'])}</p></footer>",
    ]
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" '
        f'content="{_CSP}"><title>facecue fairness audit</title><style>{_CSS}</style></head>'
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def _rows_audited(doc: dict) -> str:
    """Which rows the numbers rest on: a model fine-tuned for group parity is audited only on rows it never saw."""
    split = doc.get("options", {}).get("split", "all")
    left_out = doc["data"].get("left_out_as_trained_on") or []
    parts = []
    if split != "all":
        parts.append(
            f"Rows audited: the '{escape(split)}' split of the labels (fixed by each file's name, "
            "facecue/fairness/split.py); a model fine-tuned for group parity trained only on the 'fit' rows."
        )
    if left_out:
        parts.append(
            f"Left out: {len(left_out)} row(s) whose image is an exact copy of one the model was fine-tuned on "
            f"({escape(', '.join(left_out[:5]))}{', …' if len(left_out) > 5 else ''})."
        )
    return f"<p class='notice'>{' '.join(parts)}</p>" if parts else ""
