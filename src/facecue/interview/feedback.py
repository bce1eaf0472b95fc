"""Short, constructive, hedged feedback to the candidate, built only from the signals (no scores of the person)."""

from __future__ import annotations

from facecue.interview.affect import ADJECTIVE

MIN_READABLE_S = 3.0
LOW_EXPRESSIVITY = 0.3  # below this the face mostly read as neutral
FASTER = 1.25  # a span's speaking-rate proxy this many times the candidate's own median reads as faster


def typical_rate(spans: list[dict]) -> float | None:
    """The candidate's median speaking-rate proxy over spans with reliable voice cues (None with fewer than 2); spans
    where the transcript has no word of the candidate hold someone else's voice and are left out."""
    rates = sorted(
        v["speaking_rate_per_s"]
        for v in (s.get("voice") for s in spans if s.get("candidate_spoke") is not False)
        if v and v.get("reliable") and v.get("speaking_rate_per_s")
    )
    return rates[len(rates) // 2] if len(rates) >= 2 else None


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{int(t % 60):02d}"


def _name(span: dict, span_kind: str) -> str:
    if span_kind == "questions":
        return f"question {span['index'] + 1} ({span['text']})" if span["text"] else f"question {span['index'] + 1}"
    return f"the part from {_clock(span['start_s'])} to {_clock(span['end_s'])}"


def _readability(span: dict, where: str = "here") -> str | None:
    """Why there is little to say, when there is: the face was seldom readable, or the stretch was short."""
    if span.get("usable_s", 0) >= MIN_READABLE_S and span.get("dominant"):
        return None
    seen, abstained = span.get("presence"), span.get("abstained")
    if seen is not None and seen >= 0.8 and (abstained or 0) <= 0.2:
        return (
            f"There is too little video {where} ({span.get('usable_s', 0):.0f} s of your face) to say much; "
            "a longer answer gives a steadier reading."
        )
    seen_text = f" (your face was in view in {seen:.0%} of it)" if seen is not None else ""
    return (
        f"Your face was hard for the software to read {where}{seen_text}, so there is little to say. Facing the "
        "camera in even light usually helps."
    )


def comparable_parts(spans: list[dict]) -> int:
    """How many parts have enough readable face to be compared with the person's usual expression: with one (or
    none), that part is all the baseline was learnt from."""
    return sum(not _readability(s) for s in spans)


def _voice_hint(span: dict, typical: float | None) -> str | None:
    """Compared with the candidate's own other answers only: voices differ too much between people."""
    voice = span.get("voice")
    if span.get("candidate_spoke") is False:  # the transcript says the candidate did not speak here
        return None
    if typical is None or not voice or not voice.get("reliable") or not voice.get("speaking_rate_per_s"):
        return None
    if voice["speaking_rate_per_s"] >= FASTER * typical:
        return "You seemed to speak faster here than in your other answers; slowing down a little can help."
    return None


# A change from the person's own baseline, in words about the face (never about the person or a feeling).
CHANGE_WORDS = {
    "happy": "You seemed to smile more here than in the rest of the recording.",
    "neutral": "Your face showed less expression here than in the rest of the recording.",
    "surprise": "Your face was more animated here than your usual expression in this recording.",
    **dict.fromkeys(
        ("angry", "disgust", "fear", "sad"),
        "Your face looked more tense here than your usual expression in this recording.",
    ),
}
CALM_LABELS = ("neutral", "happy")  # the only steady readings feedback names without a baseline


def _expression(span: dict, stress_marked: bool, only_part: bool = False) -> str | None:
    """The span's expression as a change from the person's baseline. Without a baseline (too little readable
    face to know it) only a calm or smiling reading is named: a steady stern reading is more often the model
    misreading a resting face than a moment worth telling someone about (docs/SIGNALS.md, baseline)."""
    if span.get("relative_to_baseline"):
        change = span.get("change")
        if only_part:
            # The only (readable) part is the recording its baseline was learnt from: there is no rest to compare
            # it with, so neither "close to usual" nor "more here than in the rest of the recording".
            return None
        if change is None:
            return "Your expression here stayed close to your usual expression in this recording."
        if stress_marked and change["label"] in ("angry", "disgust", "fear", "sad"):
            return None  # the stress sentence says it, with a moment to look at
        return CHANGE_WORDS[change["label"]]
    top = span["dominant"][0]
    if top["label"] in CALM_LABELS:
        return (
            f"Your expression mostly looked {ADJECTIVE[top['label']]} here ({top['share']:.0%} of the readable "
            "moments)."
        )
    return None


def span_feedback(
    span: dict,
    typical_speaking_rate: float | None = None,
    seen: list[str] | None = None,
    only_part: bool = False,
    positive_words_flagged: bool = False,
) -> str:
    """seen: sentences about visible behaviour (interview/behaviour.py), placed before the closing reminder;
    only_part: this span is the whole interview's only part, or its only readable one; positive_words_flagged: the
    words-against-face check flagged positive words of the candidate overlapping this span."""
    hard = _readability(span)
    if hard:
        return hard
    parts = []
    cues = span.get("cues") or {}
    engagement, stress, composure = cues.get("engagement"), cues.get("stress"), cues.get("composure")
    # Without a baseline a steady stern reading cannot be told from a tense moment: no "tense" sentence then.
    tense = bool(stress and stress["level"] == "marked" and stress.get("relative_to_baseline"))
    expression = _expression(span, tense, only_part)
    if expression:
        parts.append(expression)
    smiled_more = bool(expression) and bool(span.get("change")) and span["change"]["label"] == "happy"
    if engagement and engagement["level"] in ("some", "marked"):
        parts.append(
            "Smiling can come across as warm and engaged."
            if smiled_more
            else "You seemed to smile at times, which can come across as warm and engaged."
        )
    elif engagement and (span.get("expressivity") or 0) < LOW_EXPRESSIVITY:
        parts.append("If it feels natural, letting a little more expression show may help you come across as engaged.")
    if tense:
        assert stress is not None  # tense needs a stress cue
        when = f" (for example around {_clock(stress['support_s'][0])})" if stress["support_s"] else ""
        parts.append(
            f"At some moments your face may have looked tense{when}; a short pause and a breath before "
            "answering can help."
        )
    if composure and composure["level"] == "steady" and not tense:
        # Described, not interpreted: "which can read as calm" told a furious speaker and a crying one (both read
        # steadily, the second as neutral by mistake) that they looked calm. And it is the reading that was steady:
        # a woman pulling a new grimace every second, read as surprised throughout, was told her expression was.
        parts.append("The software's reading of your expression stayed fairly steady.")
    # Only where the words-against-face check flagged positive words here: told to a calm candidate whose words
    # were "consistent" with the face, it asked them to change their face for no measured reason.
    if positive_words_flagged:
        parts.append("Your words sounded positive; showing some of that in your face may make it land better.")
    hint = _voice_hint(span, typical_speaking_rate)
    if hint:
        parts.append(hint)
    parts += seen or []
    parts.append("These readings are approximate and may miss how you actually felt.")
    return " ".join(parts)


def overall_feedback(spans: list[dict], overall: dict, span_kind: str, seen: list[str] | None = None) -> str:
    hard = _readability(overall, "in this recording")
    if hard:
        return hard
    readable = [s for s in spans if s.get("cues") and s["cues"].get("engagement") and not _readability(s)]
    top = overall["dominant"][0]["label"]
    if overall.get("relative_to_baseline"):
        # Parts can be compared only when two have enough readable face (comparable_parts): else moments can.
        what = "each part of the interview" if len(readable) > 1 else "moments of the interview"
        parts = [
            f"These notes compare {what} with your own usual expression in this recording, "
            "not with other people's faces."
        ]
    elif top in CALM_LABELS:
        parts = [f"Across the interview your expression mostly looked {ADJECTIVE[top]}."]
    else:
        parts = [
            "There was too little readable video of your face to learn your usual expression, so these notes "
            "do not describe it."
        ]
    if len(readable) >= 2:  # the two picks compare parts: one part has nothing to compare with
        # The stress cue exists only against a baseline (interview/cues.py): no baseline, no discomfort pick.
        measured = [s for s in readable if s["cues"]["stress"]["value"] is not None]
        tense = max(measured, key=lambda s: s["cues"]["stress"]["value"]) if measured else None
        if tense and tense["cues"]["stress"]["level"] != "marked":
            tense = None
        # The most smiles, among parts where little discomfort was read (never the part with the most of it): a part
        # read as happy 51% and as showing discomfort 40% was named both "most at ease" and "harder".
        calm = [s for s in readable if s["cues"]["stress"]["level"] in ("little", "not measured")]
        warm = max(calm, key=lambda s: s["cues"]["engagement"]["value"]) if calm else None
        if warm and warm["cues"]["engagement"]["value"] >= 0.1:
            little = " and little discomfort" if warm["cues"]["stress"]["value"] is not None else ""
            parts.append(f"The software read the most smiles{little} in {_name(warm, span_kind)}.")
        if tense:
            parts.append(
                "The software read the most discomfort, relative to your usual expression, in "
                f"{_name(tense, span_kind)}; practising answers to similar questions could help."
            )
    parts += seen or []
    parts.append(
        "Treat this as a mirror, not a judgement: the software reads facial expressions imperfectly and "
        "knows nothing about what you meant."
    )
    return " ".join(parts)
