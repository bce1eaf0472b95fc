"""Behaviour in the interview section: per-part figures, cues, highlights and feedback sentences.

Built from the behaviour figures of summary.behaviour (facecue/behaviour/summary.py) for each question or
window. Every figure the summary holds is used and every one it lacks (or holds as null) is left out, so new
measures (eye contact, gaze aversions, posture) show up here as soon as the summary carries them. The sentences
describe what was visible ("looked at the camera 38% of the time while answering"), never a feeling or a trait.
"""

from __future__ import annotations

import numpy as np

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.behaviour.figures import seconds_text
from facecue.behaviour.posture import hand_episodes, pose_stride
from facecue.behaviour.summary import smiling_frames, summarise
from facecue.interview.affect import distressed_frames
from facecue.result import Result
from facecue.timeline.smoothing import contiguous_runs

TENTATIVE_S = 10.0  # a figure resting on fewer readable seconds than this is marked tentative
LOOK_AT = 0.5  # eye_contact at or above this counts as looking at the camera
LOW_EYE_CONTACT = 0.3  # below this share the feedback offers a tip about the lens
OUT_OF_FRAME_NOTE = 0.1  # out of frame for at least this share of a part is worth a sentence
# Highlights: the shortest stretch of each kind worth a second look, and its weight against other highlights.
HIGHLIGHT_MIN_S = {"smile": 2.0, "out_of_frame": 2.0, "looking_away": 3.0, "hand_near_face": 2.0}
HIGHLIGHT_WEIGHT = 0.6  # behaviour moments rank below clear expression changes of the same length

# Where each figure lives in summary.behaviour (behaviour/summary.py); posture's sit in its "posture" object.
FIGURES = {
    "eye_contact": ("eye_contact_share",),
    "gaze_aversions": ("gaze_aversions",),
    "smiles": ("smile_share",),
    "nods": ("nods",),
    "head_shakes": ("head_shakes",),
    "blinks": ("blinks_per_minute",),
    "lean": ("lean",),
    "fidgeting": ("fidgeting",),
    "hand_to_face": ("hand_to_face",),
    "out_of_frame": ("out_of_frame",),
}
LEAN_NOTE = 0.05  # a part's mean lean from 5 % nearer (farther) than the person's usual distance is worth saying
# The report's and the review page's panels: which cues each one shows.
PANELS = {
    "Eye contact": ("eye_contact", "gaze_aversions"),
    "Head movement": ("nods", "head_shakes"),
    "Smiles": ("smiles",),
    "Posture": ("lean", "fidgeting", "hand_to_face", "out_of_frame"),
}


def _value(entry: object) -> float | None:
    value = entry.get("value") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def figure(b: dict, cue: str) -> dict | None:
    """The figure behind one cue, when the summary holds it with a value; None otherwise."""
    posture = b.get("posture")
    holders = (b, posture) if isinstance(posture, dict) else (b,)
    for name in FIGURES[cue]:
        for holder in holders:
            entry = holder.get(name)
            if _value(entry) is not None:
                return entry if isinstance(entry, dict) else None
    return None


def _times(n: float) -> str:
    """ "once", "twice", "3 times"."""
    return {1: "once", 2: "twice"}.get(round(n), f"{n:.0f} times")


def _split(entry: dict) -> str:
    """A " (x% while speaking, y% while listening)" when the figure has those parts."""
    parts = [
        f"{_value(entry.get('while_' + k)):.0%} while {k}"
        for k in ("speaking", "listening")
        if _value(entry.get("while_" + k)) is not None
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _phrase(cue: str, entry: dict, where: str, of: str) -> str:
    """One cue as a descriptive phrase without a subject ("looked at the camera 38% of the time while answering")."""
    v = _value(entry) or 0.0
    if cue == "eye_contact":
        return f"looked at the camera {v:.0%} of the time {where}{_split(entry)}"
    if cue == "gaze_aversions":  # episodes of at least min_s: shorter glances are not counted
        return f"looked away from the camera for {float(entry.get('min_s') or 1.0):g} s or more {_times(v)} {where}"
    if cue == "smiles":
        return f"smiled in {v:.0%} of {of}"
    if cue == "nods":
        return f"nodded {_times(v)}"
    if cue == "head_shakes":
        return f"shook the head {_times(v)}"
    if cue == "blinks":
        return f"blinked about {v:.0f} times a minute"
    if cue == "lean":  # lean is relative to the person's own median distance (behaviour/posture.py)
        if abs(v) < LEAN_NOTE:
            return f"sat at about their usual distance from the camera {where}"
        side = "nearer to" if v > 0 else "farther from"
        return f"sat {side} the camera than usual {where} (about {abs(np.expm1(v)):.0%})"
    if cue == "fidgeting":
        moving = float(entry.get("moving_s") or 0.0)
        return f"moved the upper body noticeably for {moving:.0f} s {where}"
    if cue == "hand_to_face":
        return f"raised a hand near the face {_times(v)}"
    return f"the face was out of the frame {v:.0%} of the time {where}"  # out_of_frame


def behaviour_cues(b: dict | None, kind: str) -> dict:
    """The cues of one part (kind "questions", "windows" or "overall"): {cue: {value, seconds, tentative, text}}
    for every figure the summary holds with a value, in FIGURES order."""
    if not isinstance(b, dict):
        return {}
    where, of = {
        "questions": ("while answering", "the answer"),
        "windows": ("in this part", "this part"),
    }.get(kind, ("over the interview", "the interview"))
    out = {}
    for cue in FIGURES:
        entry = figure(b, cue)
        if entry is None or (cue == "out_of_frame" and not _value(entry)):
            continue
        if cue == "lean" and kind == "overall":  # lean is relative to the person's own median: ~0 over the whole
            continue
        seconds = float(entry.get("seconds") or 0.0)
        tentative = seconds < TENTATIVE_S
        phrase = _phrase(cue, entry, where, of)
        basis = "analysed" if cue == "out_of_frame" else "readable"
        out[cue] = {
            "value": _value(entry),
            "seconds": round(seconds, 2),
            "tentative": tentative,
            "text": f"{phrase[0].upper()}{phrase[1:]} ({seconds_text(seconds)} s {basis}"
            + ("; few seconds, tentative)." if tentative else ")."),
        }
    return out


def series(result: Result) -> tuple[np.ndarray, np.ndarray] | None:
    """The candidate's head pose (F, 3) and behaviour (F, columns) per analysed frame; None without behaviour."""
    if result.faces.behaviour is None or "behaviour" not in result.signals:
        return None
    from facecue.pipeline import candidate_series

    return candidate_series(result.faces, result.times, result.candidate_id)


def span_figures(result: Result, step: float, pose: np.ndarray, behaviour: np.ndarray, m: np.ndarray) -> dict:
    """summary.behaviour's figures for the frames in mask m."""
    fps = result.options.fps
    sad = distressed_frames(result)
    present, sad = result.timeline.present[m], None if sad is None else sad[m]
    return summarise(result.times[m], present, pose[m], behaviour[m], step, fps, distressed=sad)


def behaviour_highlights(result: Result, behaviour: np.ndarray, step: float) -> list[dict]:
    """Stretches worth a second look: the longest smiles, time out of frame, looking away from the camera and a
    hand near the face. Each reason says what was seen and for how long; a smile is pinned to its strongest frame,
    the others to where they start."""
    times, present = result.times, result.timeline.present
    col = BEHAVIOUR_COLUMNS.index
    smile, hand, looked = (behaviour[:, col(c)] for c in ("smile", "hand_near_face", "eye_contact"))
    smiling = smiling_frames(behaviour, present, distressed_frames(result))
    conditions = {  # kind: (frames that hold, the score to pin the moment at or None, label, reason)
        "smile": (smiling, smile, "smile", "Smiled for {s} s"),
        "out_of_frame": (~present, None, "out of frame", "The face was out of the frame for {s} s"),
        "looking_away": (
            present & ~np.isnan(looked) & (np.nan_to_num(looked, nan=1.0) < LOOK_AT),
            None,
            "looking away",
            "Looked away from the camera for {s} s",
        ),
    }
    out = []
    every = pose_stride(step) * step  # the body is read about once a second, not every frame
    near = np.where(present, hand, np.nan)
    for start_s, length in hand_episodes(times, near, every, max(1.0, 2.5 * every)):
        if length >= HIGHLIGHT_MIN_S["hand_near_face"]:
            reason = f"A hand was near the face for {length:.0f} s."
            out.append(_highlight(start_s, "hand_near_face", "hand near face", length, reason))
    if not present.any():  # no face at all: the summary says so; "out of the frame for 4 s" would be a highlight
        del conditions["out_of_frame"]  # of a recording that never showed one
    for kind, (flags, strength, label, reason) in conditions.items():
        for run in contiguous_runs(times, flags, max(1.0, 2.5 * step)):
            length = float(times[run[-1]] - times[run[0]]) + step
            if length < HIGHLIGHT_MIN_S[kind]:
                continue
            # Runs bridge short gaps (noisy frames); when the gaps add up, say how much of the stretch it held.
            held = len(run) * step
            text = reason.format(s=f"{length:.0f}" if held >= 0.9 * length else f"{held:.0f} of {length:.0f}")
            at = run[0] if strength is None else run[int(np.argmax(strength[run]))]
            minutes, tenths = divmod(round(float(times[run[0]]) * 10), 600)  # 59.97 s is 1:00.0, not 0:60.0
            start = f"{minutes}:{tenths / 10:04.1f}"
            where = "" if at == run[0] else f" (from {start}); this is its strongest moment"
            out.append(_highlight(float(times[at]), kind, label, length, text + where + "."))
    return out


def _highlight(time_s: float, kind: str, label: str, length: float, reason: str) -> dict:
    score = round(HIGHLIGHT_WEIGHT * min(1.0, length / 15.0), 3)
    return {"time_s": round(time_s, 2), "kind": kind, "label": label, "score": score, "reason": reason}


# ---- feedback to the candidate ----------------------------------------------------------------------------------

CLOSING = (
    "These are measurements of visible movements taken from the video; they say nothing about how you felt or how "
    "well you answered."
)


def _second_person(cue: str, c: dict, where: str, of: str) -> str | None:
    v = c["value"]
    if cue == "eye_contact":
        text = f"You looked at the camera about {v:.0%} of the time {where}."
        if v < LOW_EYE_CONTACT and not c["tentative"]:
            text += " If you want the other person to feel addressed, glancing at the lens as you start and finish "
            text += "a point can help."
        return text
    if cue == "gaze_aversions" and v:
        return f"You looked away from the camera for a second or more {_times(v)} {where}."
    if cue == "smiles":
        return f"You smiled in about {v:.0%} of {of}."
    if cue == "nods" and v:
        return f"You nodded {_times(v)}."
    if cue == "head_shakes" and v:
        return f"You shook your head {_times(v)}."
    if cue == "hand_to_face" and v:
        return f"Your hand came up near your face {_times(v)}."
    if cue == "out_of_frame" and v >= OUT_OF_FRAME_NOTE:
        return (
            f"Your face was out of the frame for about {v:.0%} of {of}; sitting centred in the camera's view lets "
            "the viewer see you throughout."
        )
    return None


def feedback_sentences(cues: dict, kind: str, with_smiles: bool = True) -> list[str]:
    """Second-person sentences about what was seen, from behaviour_cues(); with_smiles=False leaves smiles to the
    expression feedback of an emotions analysis."""
    where, of = {
        "questions": ("while answering", "this answer"),
        "windows": ("in this part", "this part"),
    }.get(kind, ("across the interview", "the interview"))
    out = []
    for cue, c in cues.items():
        if cue == "smiles" and not with_smiles:
            continue
        sentence = _second_person(cue, c, where, of)
        if sentence:
            out.append(sentence)
    return out


def span_feedback(span: dict, kind: str, min_readable_s: float) -> str:
    """Feedback for one part of a behaviour-only analysis: what was seen, then a reminder of what it is."""
    b = span.get("behaviour") or {}
    readable = float(b.get("readable_s") or 0.0)
    if readable < min_readable_s:
        seen = 1 - (_value(b.get("out_of_frame")) or 0.0) if b.get("analysed_s") else None
        seen_text = f" (your face was in view in {seen:.0%} of it)" if seen is not None else ""
        return (
            f"Your face was hard for the software to read here{seen_text}, so there is little to say. Facing the "
            "camera in even light usually helps."
        )
    return " ".join([*feedback_sentences(span.get("behaviour_cues") or {}, kind), CLOSING])


def overall_feedback(overall: dict, spans: list[dict], kind: str, min_readable_s: float) -> str:
    b = overall.get("behaviour") or {}
    readable = float(b.get("readable_s") or 0.0)
    if readable < min_readable_s:
        if readable >= 0.8 * float(b.get("analysed_s") or 0.0) > 0:  # in view throughout: the clip is just short
            return f"This recording holds only {readable:.0f} s of your face, too little to say much about."
        return (
            "Your face was hard for the software to read in this recording, so there is little to say. Facing the "
            "camera in even light usually helps."
        )
    parts = feedback_sentences(overall.get("behaviour_cues") or {}, "overall")
    looked = [(s, s["behaviour_cues"]["eye_contact"]["value"]) for s in spans if "eye_contact" in s["behaviour_cues"]]
    if len(looked) > 1:
        most = max(looked, key=lambda x: x[1])[0]
        name = f"question {most['index'] + 1}" if kind == "questions" else f"part {most['index'] + 1}"
        parts.append(f"You looked at the camera most in {name}.")
    parts.append(
        "Treat this as a mirror, not a judgement: the software measures visible movements imperfectly and knows "
        "nothing about what you meant."
    )
    return " ".join(parts)


def settings() -> dict:
    """The thresholds behind the behaviour cues and highlights, recorded beside them."""
    from facecue.behaviour import posture
    from facecue.behaviour import summary as s

    return {
        "smile_at": s.SMILE_AT,
        "eyes_closed_at": s.CLOSED_AT,
        "blink_min_fps": s.BLINK_MIN_FPS,
        "nod_turn_deg": s.TURN_DEG,
        "nod_swing_max_s": s.SWING_MAX_S,
        "look_at": LOOK_AT,
        "hand_at": posture.HAND_AT,
        "tentative_s": TENTATIVE_S,
        "highlight_min_s": dict(HIGHLIGHT_MIN_S),
    }
