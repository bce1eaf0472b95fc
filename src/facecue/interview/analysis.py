"""The interview section: per question (or window) signals, cues, highlights, mismatch, voice and feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facecue.errors import FacecueError
from facecue.interview import behaviour as bh
from facecue.interview import cues as cue_defs
from facecue.interview import highlights as hl
from facecue.interview import mismatch as mm
from facecue.interview import spans as sp
from facecue.interview.cues import derive_cues
from facecue.interview.feedback import (
    MIN_READABLE_S,
    comparable_parts,
    overall_feedback,
    span_feedback,
    typical_rate,
)
from facecue.interview.frames import InterviewFrames
from facecue.interview.inputs import Question, load_questions
from facecue.interview.transcript import Utterance, parse_transcript, pick_candidate
from facecue.result import Result
from facecue.timeline.baseline import BASELINE_MIN_S
from facecue.timeline.baseline import METHOD as BASELINE_METHOD
from facecue.timeline.baseline import describe as describe_baseline

if TYPE_CHECKING:
    from facecue.emotion.model import ModelValidation

SCHEMA = "facecue.interview/1"


MIN_WINDOW_S, MAX_WINDOW_S = 2.0, 86400.0


@dataclass(frozen=True)
class InterviewOptions:
    window_s: float = 30.0  # span length when there is no question timeline
    candidate_speaker: str | None = None  # transcript speaker who is the candidate (default: most speech)
    thumbnails: bool = True
    blur_thumbnails: bool = False
    voice: bool = True
    max_highlights: int = hl.MAX_HIGHLIGHTS

    def __post_init__(self) -> None:
        # A part needs some frames to say anything; 1e-9 s windows exhausted memory, inf broke result.json.
        if not MIN_WINDOW_S <= self.window_s <= MAX_WINDOW_S:
            raise FacecueError(
                f"--window must be between {MIN_WINDOW_S:g} and {MAX_WINDOW_S:g} seconds, not {self.window_s}."
            )


@dataclass(frozen=True)
class InterviewInputs:
    """The files beside the video, parsed before the (long) video analysis so mistakes show at once."""

    questions: list[Question] | None = None
    utterances: list[Utterance] | None = None  # the candidate's own speech
    candidate_speaker: str | None = None
    speakers: list[str] = field(default_factory=list)
    transcript_end_s: float | None = None  # end of the transcript's last cue, anyone's (None: the candidate's)


def load_inputs(
    questions: str | Path | None = None, transcript: str | Path | None = None, candidate_speaker: str | None = None
) -> InterviewInputs:
    qs = load_questions(questions) if questions else None
    if not transcript:
        if candidate_speaker:
            raise FacecueError("--candidate-speaker needs --transcript.")
        return InterviewInputs(qs)
    all_utterances = parse_transcript(transcript)
    name, mine = pick_candidate(all_utterances, candidate_speaker)
    speakers = sorted({u.speaker for u in all_utterances if u.speaker})
    return InterviewInputs(qs, mine, name, speakers, max(u.end_s for u in all_utterances))


def _spans(result: Result, fr: InterviewFrames, inputs: InterviewInputs, window_s: float):
    if inputs.questions:
        return "questions", [(q.start_s, q.end_s, q.text) for q in inputs.questions]
    return "windows", sp.window_spans(result, fr.step_s, window_s)


def _overlapping(utterances: list[Utterance], start: float, end: float) -> list[Utterance]:
    """The utterances that overlap start..end by any length of time: an answer that runs across two parts is part
    of both, so neither may say the candidate said nothing."""
    return [u for u in utterances if u.start_s < end and u.end_s > start]


def _sentiment(utterances: list[Utterance] | None, start: float, end: float) -> dict | None:
    """VADER over the candidate's utterances that overlap the part, each counted whole."""
    if utterances is None:
        return None
    inside = _overlapping(utterances, start, end)
    if not inside:
        return {"utterances": 0, "words": 0, "compound": None}
    text = " ".join(u.text for u in inside)
    return {"utterances": len(inside), "words": len(text.split()), "compound": round(mm.sentiment(text), 3)}


def _voice(
    video: str | Path | None,
    result: Result,
    spans: list[tuple[float, float]],
    track=None,
    own: list[tuple[float, float]] | None = None,
):
    """The other half of the picture: voice cues per span, from a track measured beforehand (a VoiceTrack, or a
    Future of one) or measured now. own: the candidate's cue times, when the transcript names speakers (a span
    whose voiced sound lies mostly outside them is marked unreliable)."""
    if video is None:
        return None, "voice cues need the video file."
    if not result.source.has_audio:
        return None, "the video has no audio track, so there are no voice cues."
    try:
        from facecue.interview.voice import measure_voice
    except ImportError:
        return None, "voice cues are not available in this installation."
    try:
        if track is None:
            track = measure_voice(video)
        elif hasattr(track, "result"):
            track = track.result()
        cues = track.cues(spans, own)
    except (FacecueError, ImportError) as exc:
        return None, f"voice cues could not be computed: {exc}"
    if len(cues) != len(spans):
        return None, "voice cues did not cover every span."
    return cues, None


END_TOLERANCE_S = 1.0  # question files and transcripts are often written to the second


def recording_end(result: Result, fr: InterviewFrames) -> float:
    """Where the analysed recording ends: the video's duration (or --end), not the last frame plus a step, which
    can run past it."""
    ends = [float(fr.times[-1] + fr.step_s)] if len(fr.times) else [float(result.options.start or 0.0)]
    if result.source.duration_s:
        ends.append(float(result.source.duration_s))
    if result.options.end:
        ends.append(float(result.options.end))
    return min(ends)


def _outside_feedback(row: dict, lo: float, hi: float) -> str | None:
    """A part the recording does not cover well enough to read: say that, not "face the camera in even light"."""
    inside = row["end_s"] - row["start_s"] - row["outside_s"]
    if not row["outside_s"] or inside >= MIN_READABLE_S:
        return None
    where = f"the analysed recording runs from {lo:.1f} s to {hi:.1f} s"
    if not row["frames"]:
        return f"This part lies outside the recording ({where}), so nothing in it was analysed."
    return f"Only {inside:.1f} s of this part lies inside the recording ({where}), too little to say anything about."


def _transcript_note(inputs: InterviewInputs, end: float) -> str | None:
    """Cues past the video's end: a transcript of another recording, or one cut differently; either way the words
    there have no face to be compared with."""
    mine = inputs.utterances or []
    last = inputs.transcript_end_s if inputs.transcript_end_s is not None else max((u.end_s for u in mine), default=0)
    if last <= end + END_TOLERANCE_S:
        return None
    past = sum(u.end_s > end + END_TOLERANCE_S for u in mine)
    return (
        f"The transcript runs to {last:.1f} s, past the end of the video ({end:.1f} s): check that it belongs to this "
        f"recording. Candidate utterances running past the end: {past}; the time after the end has no face to read "
        "and counts as unreadable in the words-against-face check."
    )


def _notes(
    result: Result,
    fr: InterviewFrames,
    kind: str,
    spans,
    inputs: InterviewInputs,
    voice_available: bool,
    readable_s: float = 0.0,
) -> list[str]:
    emotions = result.emotions
    notes = [
        (
            "Every signal describes what the face showed as read by an imperfect model; it says nothing certain "
            "about what the person felt or how well they would do a job. A person decides."
        )
        if emotions
        else (
            "Behaviour only: every figure describes visible movement (gaze, head, face, body) as measured by an "
            "imperfect model; nothing here says what the person felt or how well they would do a job. A person "
            "decides."
        )
    ]
    if kind == "windows":
        notes.append("No question timeline was given: the interview is cut into fixed windows.")
    if emotions:  # words are compared with expressions only when expressions are read
        if inputs.utterances is None:
            notes.append("No transcript was given: no verbal/non-verbal comparison was made.")
        elif inputs.candidate_speaker is None:
            notes.append("The transcript has no speaker labels: all speech was treated as the candidate's.")
        if inputs.utterances is not None and (past := _transcript_note(inputs, recording_end(result, fr))):
            notes.append(past)
    # Against the video's own end: the last frame plus a step can run past it and hide a question after the end.
    lo, hi = float(result.options.start or 0.0), recording_end(result, fr)
    outside = sum(a >= hi or b <= lo for a, b, _ in spans)
    partly = sum(a < hi and b > lo and mm.outside_s(a, b, lo, hi) > END_TOLERANCE_S for a, b, _ in spans)
    if outside:
        notes.append(
            f"{outside} question(s) lie outside the analysed part of the video ({lo:.1f}-{hi:.1f} s): nothing in "
            "them was analysed."
        )
    if partly:
        notes.append(
            f"{partly} question(s) run more than {END_TOLERANCE_S:g} s outside the analysed part of the video "
            f"({lo:.1f}-{hi:.1f} s): only their part inside it was analysed."
        )
    if voice_available and len(inputs.speakers) > 1:
        notes.append(
            "Voice cues cover all sound in each span, the interviewer's voice included; a part where less than half "
            "of the voiced sound lies in the candidate's own transcript cues is marked unreliable and gives no voice "
            "feedback."
        )
    usable_s = fr.usable.sum() * fr.step_s if emotions else readable_s
    if usable_s < cue_defs.FULL_DATA_S:
        # One decimal: 19.6 s printed as "Only 20 s" beside a 20 s threshold.
        notes.append(f"Only {usable_s:.1f} s of the face could be read: treat every cue as tentative.")
    return notes


def analyze_interview(
    result: Result,
    video: str | Path | None = None,
    inputs: InterviewInputs | None = None,
    options: InterviewOptions | None = None,
    validation: ModelValidation | None = None,
    subject_id: str | None = None,
    purpose: str | None = None,
    voice_track=None,
) -> dict:
    """The `interview` section (docs/SIGNALS.md) for an analysed video; the video file is only re-read for
    the few highlight thumbnails and the voice cues (unless `voice_track` already holds them: a VoiceTrack or
    a Future of one, measured while the video was analysed)."""
    options = options or InterviewOptions()
    inputs = inputs or InterviewInputs()
    emotions = result.emotions
    fr = InterviewFrames.from_result(result)
    kind, spans = _spans(result, fr, inputs, options.window_s)
    bounds = [(a, b) for a, b, _ in spans]
    own = None  # the candidate's own cue times, when the transcript says who spoke when
    if inputs.utterances is not None and inputs.candidate_speaker is not None:
        own = [(u.start_s, u.end_s) for u in inputs.utterances]
    voice, voice_note = (
        _voice(video, result, bounds, voice_track, own) if options.voice else (None, "voice cues were not requested.")
    )
    behaviour = bh.series(result)  # (pose, behaviour) per frame, or None when behaviour was not analysed

    lo, hi = float(result.options.start or 0.0), recording_end(result, fr)
    span_rows = []
    for n, (a, b, text) in enumerate(spans):
        m = fr.mask(a, b)
        row: dict = {"index": n, "start_s": round(a, 3), "end_s": round(b, 3), "text": text}
        if emotions:
            row.update(sp.span_stats(fr, m))
            row["cues"] = derive_cues(fr, m, validation)
            row["sentiment"] = _sentiment(inputs.utterances, a, b)
        else:
            row.update(_presence(fr, m))
        if behaviour is not None:
            row["behaviour"] = bh.span_figures(result, fr.step_s, *behaviour, m)
            row["behaviour_cues"] = bh.behaviour_cues(row["behaviour"], kind)
        row["voice"] = voice[n] if voice else None
        # Where the transcript has no word of the candidate, the sound is someone else's (or the room): no voice
        # feedback is addressed to the candidate there (feedback.py), and the card says why.
        row["candidate_spoke"] = None if inputs.utterances is None else bool(_overlapping(inputs.utterances, a, b))
        # Time outside the recording, when it matters: more than a rounded-to-the-second end, or all of the part.
        out = mm.outside_s(a, b, lo, hi)
        row["outside_s"] = round(out, 2) if out > END_TOLERANCE_S or (out > 0 and not row["frames"]) else 0.0
        span_rows.append(row)
    mismatch = mm.check_mismatch(fr, inputs.utterances) if emotions and inputs.utterances is not None else None
    typical = typical_rate(span_rows)
    only_part = emotions and comparable_parts(span_rows) <= 1  # nothing else to compare the part with
    for row in span_rows:
        if emotions:
            seen = bh.feedback_sentences(row.get("behaviour_cues") or {}, kind, with_smiles=False)
            flagged = any(
                i["status"] == "flagged"
                and i["compound"] > 0
                and i["start_s"] < row["end_s"]
                and i["end_s"] > row["start_s"]
                for i in (mismatch or {}).get("items", [])
            )
            row["feedback"] = span_feedback(row, typical, seen, only_part, flagged)
        else:
            row["feedback"] = bh.span_feedback(row, kind, MIN_READABLE_S)
        row["feedback"] = _outside_feedback(row, lo, hi) or row["feedback"]

    everything = np.ones(len(fr.times), bool)
    if emotions:
        overall = sp.span_stats(fr, everything, with_arc=False)
        overall["cues"] = derive_cues(fr, everything, validation)
    else:
        overall = _presence(fr, everything)
    if behaviour is not None:
        overall["behaviour"] = bh.span_figures(result, fr.step_s, *behaviour, everything)
        overall["behaviour_cues"] = bh.behaviour_cues(overall["behaviour"], "overall")
    if emotions:
        seen = bh.feedback_sentences(overall.get("behaviour_cues") or {}, "overall", with_smiles=False)
        overall["feedback"] = overall_feedback(span_rows, overall, kind, seen)
    else:
        overall["feedback"] = bh.overall_feedback(overall, span_rows, kind, MIN_READABLE_S)

    candidates = []
    if emotions:
        dominant = overall["dominant"][0]["label"] if overall["dominant"] else None
        candidates = hl.change_points(fr) + hl.peaks(fr, bounds) + hl.shifts(result.segments, dominant)
    if behaviour is not None:
        candidates += bh.behaviour_highlights(result, behaviour[1], fr.step_s)
    highlights = hl.select_highlights(candidates, bounds, options.max_highlights)
    if options.thumbnails and video is not None and highlights and result.source.kind == "video":
        from facecue.interview.thumbnails import thumbnails

        thumbs = thumbnails(result, video, [h["time_s"] for h in highlights], options.blur_thumbnails)
        for h in highlights:
            h["thumbnail"] = thumbs.get(h["time_s"])

    readable_s = float((overall.get("behaviour") or {}).get("readable_s") or 0.0)
    section = {
        "schema": SCHEMA,
        "signals": list(result.signals),
        "span_kind": kind,
        "window_s": options.window_s if kind == "windows" else None,
        "candidate_speaker": inputs.candidate_speaker,
        "speakers": inputs.speakers,
        "subject_id": subject_id,
        "purpose": purpose,
        "settings": settings() if emotions else {},
        "baseline": describe_baseline(fr.baseline, fr.usable.sum() * fr.step_s),
        "spans": span_rows,
        "overall": overall,
        "highlights": highlights,
        "mismatch": mismatch,
        "voice_available": voice is not None,
        "voice_note": voice_note,
        "thumbnails_blurred": options.blur_thumbnails,
        "notes": _notes(result, fr, kind, spans, inputs, voice is not None, readable_s),
    }
    if behaviour is not None:
        section["settings"]["behaviour"] = bh.settings()
    if not emotions:  # behaviour only: no emotion reading exists, so no baseline or words-against-face either
        del section["baseline"], section["mismatch"]
    return section


def _presence(fr: InterviewFrames, m: np.ndarray) -> dict:
    """How much of a part had the candidate in view (behaviour only: nothing about expressions)."""
    n = int(m.sum())
    return {"frames": n, "presence": round(float(fr.present[m].mean()), 3) if n else None}


def settings() -> dict:
    """Every threshold the signals use, recorded beside them so a reader can check the definitions."""
    return {
        "discomfort_p": cue_defs.DISCOMFORT_P,
        "discomfort_rise": cue_defs.DISCOMFORT_RISE,
        "smile_p": cue_defs.SMILE_P,
        "baseline": {"method": BASELINE_METHOD, "min_s": BASELINE_MIN_S, "change_min": sp.CHANGE_MIN},
        "composure_spread": cue_defs.COMPOSURE_SPREAD,
        "full_data_s": cue_defs.FULL_DATA_S,
        "mixed": {"min_p": sp.MIXED_MIN_P, "margin": sp.MIXED_MARGIN, "min_s": sp.MIXED_MIN_S},
        "arc": {"change": sp.ARC_CHANGE, "peak": sp.ARC_PEAK},
        "highlights": {
            "change_window_s": hl.CHANGE_WINDOW_S,
            "change_min": hl.CHANGE_MIN,
            "peak_min_p": hl.PEAK_MIN_P,
            "shift_min_s": hl.SHIFT_MIN_S,
        },
        "mismatch": {
            "min_duration_s": mm.MIN_DURATION_S,
            "min_coverage": mm.MIN_COVERAGE,
            "strong_text": mm.STRONG_TEXT,
            "strong_face": mm.STRONG_FACE,
            "opposite_share": mm.OPPOSITE_SHARE,
        },
    }
