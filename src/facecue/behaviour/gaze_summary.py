"""Gaze over an interview or one part of it: eye-contact share (also while speaking and while silent) and
gaze-aversion episodes, each with the readable seconds behind it (summary.behaviour, docs/SIGNALS.md)."""

from __future__ import annotations

from typing import Any

import numpy as np

from facecue.behaviour.figures import figure

CONTACT_AT = 0.5  # a frame counts as eye contact from this eye_contact probability on
# Looking away for less than this is a glance, part of ordinary conversation; an episode is a look away of at
# least this long (people look away for a few seconds while thinking, Glenberg et al. 1998).
MIN_AVERSION_S = 1.0
# Unread frames of up to this long inside a look away (a blink takes 0.1-0.4 s) do not end it.
BRIDGE_S = 0.5
SPEAKING_AT = 0.5  # a frame's slot counts as speaking when voice is active in at least half of it


def _share(mask: np.ndarray, of: np.ndarray, step: float, **extra: Any) -> dict:
    n = int(of.sum())
    return figure((mask & of).sum() / n if n else None, n * step, **extra)


def aversion_episodes(times: np.ndarray, readable: np.ndarray, away: np.ndarray, step: float) -> list[float]:
    """Durations (s) of looks away of at least MIN_AVERSION_S: runs of readable frames looking away, ended by a
    readable frame with eye contact or by more than BRIDGE_S of unread frames."""
    episodes: list[float] = []
    first = last = None
    for i in np.flatnonzero(readable):
        t = float(times[i])
        if away[i] and last is not None and t - last <= step + BRIDGE_S:
            last = t
            continue
        if first is not None and last is not None:
            episodes.append(last - first + step)
        first = last = t if away[i] else None
    if first is not None and last is not None:
        episodes.append(last - first + step)
    return [round(d, 2) for d in episodes if d >= MIN_AVERSION_S - 1e-6]


def gaze_figures(
    times: np.ndarray, present: np.ndarray, contact: np.ndarray, step: float, speaking: np.ndarray | None
) -> dict[str, Any]:
    """eye_contact_share and gaze_aversions for F frames: contact (F,) the candidate's eye_contact, NaN where not
    read; speaking (F,) bool voice activity per frame, or None when there is none to split by."""
    readable = present & ~np.isnan(contact)
    read_s = float(readable.sum() * step)
    looking = readable & (np.nan_to_num(contact) >= CONTACT_AT)
    if not readable.any():
        why = "no frame with readable irises (eyes closed, head turned away, too small or out of view)"
        return {"eye_contact_share": figure(None, 0.0, reason=why), "gaze_aversions": figure(None, 0.0, reason=why)}
    share = _share(looking, readable, step, looking_s=float(looking.sum() * step))
    if speaking is None:
        no_voice = "no voice activity to split by (no audio, or not passed in)"
        share["while_speaking"] = share["while_listening"] = figure(None, 0.0, reason=no_voice)
    else:
        share["while_speaking"] = _share(looking, readable & speaking, step)
        share["while_listening"] = _share(looking, readable & ~speaking, step)
    episodes = aversion_episodes(times, readable, readable & ~looking, step)
    aversions = figure(len(episodes), read_s, total_s=sum(episodes), min_s=MIN_AVERSION_S)
    return {"eye_contact_share": share, "gaze_aversions": aversions}


def speaking_frames(voice_track: Any, times: np.ndarray, step: float) -> np.ndarray | None:
    """(F,) bool: voice heard during at least half of each analysed frame's slot [t, t + step), from an
    interview.voice.VoiceTrack; None when the track has no measurements (no audio). Voice activity does not
    say who speaks: with the interviewer on the same track, "speaking" means anyone speaking."""
    frames = getattr(voice_track, "frames", None)
    if frames is None or step <= 0:
        return None
    from facecue.interview.voice import HOP_S

    active = np.asarray(frames.active, bool)
    cumulative = np.concatenate([[0], np.cumsum(active)])
    lo = np.clip(np.round(times / HOP_S).astype(int), 0, len(active))
    hi = np.clip(np.round((times + step) / HOP_S).astype(int), 0, len(active))
    heard = (cumulative[hi] - cumulative[lo]) / np.maximum(hi - lo, 1)
    return (heard >= SPEAKING_AT) & (hi > lo)
