"""Verbal/non-verbal mismatch: VADER sentiment of each candidate utterance vs. facial valence over its span.

Flagged only when both sides are strong, opposite in sign, the disagreement holds for most of the
readable frames, and there is enough data: the utterance lasts MIN_DURATION_S and the face is
readable in MIN_COVERAGE of its time (time outside the video counts as unreadable). Everything else is
"consistent" or "skipped" with the reason.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from facecue.interview.frames import InterviewFrames
from facecue.interview.transcript import Utterance
from facecue.timeline.baseline import BASELINE_MIN_S

MIN_DURATION_S = 2.0  # shorter utterances are too brief to compare with a face
MIN_COVERAGE = 0.6  # share of the utterance's time (in frames, outside the video included) with a readable face
MIN_FRAMES = 5
STRONG_TEXT = 0.5  # |VADER compound| at least this (VADER's own "positive/negative" cut is 0.05)
STRONG_FACE = 0.2  # |mean facial valence| at least this
OPPOSITE_SHARE = 0.6  # share of readable frames whose valence sign opposes the text


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()  # loads the lexicon shipped inside the package


def sentiment(text: str) -> float:
    """VADER compound score, -1 (most negative) .. +1 (most positive)."""
    return float(_analyzer().polarity_scores(text)["compound"])


def outside_s(start: float, end: float, lo: float, hi: float) -> float:
    """Seconds of start..end that lie before lo or after hi."""
    return max(0.0, min(end, lo) - start) + max(0.0, end - max(start, hi))


def check_utterance(fr: InterviewFrames, u: Utterance) -> dict:
    # Rounded once, here: the table and the evidence sentence print the same number (0.885 read +0.89 beside +0.88).
    compound = round(sentiment(u.text), 3)
    m = fr.mask(u.start_s, u.end_s)
    usable = m & fr.usable
    n, n_ok = int(m.sum()), int(usable.sum())
    # Time outside the video counts as frames where the face could not be read: a cue running an hour past a 25 s
    # clip is not "100% readable" because the few frames that exist were.
    # Against the analysed frames (not the video's duration): the frames expected there are what coverage counts.
    missing = u.end_s - u.start_s
    if len(fr.times):
        missing = outside_s(u.start_s, u.end_s, float(fr.times[0]), float(fr.times[-1] + fr.step_s))
    expected = n + missing / fr.step_s
    coverage = min(1.0, n_ok / expected) if expected > 0 else 0.0
    item = {
        "start_s": round(u.start_s, 2),
        "end_s": round(u.end_s, 2),
        "speaker": u.speaker,
        "text": u.text,
        "compound": compound,
        "facial_valence": None,
        "relative_to_baseline": fr.baseline is not None,
        "coverage": round(coverage, 3),
        "opposite_share": None,
    }
    duration = u.end_s - u.start_s
    if duration < MIN_DURATION_S:
        return {
            **item,
            "status": "skipped",
            "reason": f"too short to compare ({duration:.1f} s < {MIN_DURATION_S:g} s).",
        }
    # Two checks, two reasons: a sparsely sampled utterance can be fully readable and still too few frames.
    if n_ok < MIN_FRAMES:
        return {
            **item,
            "status": "skipped",
            "reason": f"only {n_ok} readable frame(s) of the face in this utterance (needs {MIN_FRAMES}).",
        }
    if coverage < MIN_COVERAGE:
        return {
            **item,
            "status": "skipped",
            "reason": f"the face was readable in only {coverage:.0%} of this utterance (needs {MIN_COVERAGE:.0%})"
            + (f"; {missing:.1f} s of it lie outside the video." if missing >= fr.step_s else "."),
        }
    if fr.baseline is None:
        # A calm face that the model reads as slightly negative all the time is not "negative" while the words
        # are positive; only a baseline tells the two apart (docs/SIGNALS.md, baseline).
        return {
            **item,
            "status": "skipped",
            "reason": f"not compared: the recording has under {BASELINE_MIN_S:g} s of readable face, too little to "
            "learn this person's usual expression, and a steady reading may be their resting face.",
        }
    v = fr.valence[usable] - fr.baseline_valence
    face = round(float(v.mean()), 3)
    opposite = float(np.mean(np.sign(v) == -np.sign(compound))) if compound else 0.0
    item.update(facial_valence=face, opposite_share=round(opposite, 3))
    strong = abs(compound) >= STRONG_TEXT and abs(face) >= STRONG_FACE
    if strong and np.sign(face) == -np.sign(compound) and opposite >= OPPOSITE_SHARE:
        words = "positive" if compound > 0 else "negative"
        face_words = "negative" if face < 0 else "positive"
        return {
            **item,
            "status": "flagged",
            "reason": f"the words read as {words} (VADER {compound:+.2f}) while the face read as more {face_words}"
            f" than its own baseline (mean valence {face:+.2f} relative to the baseline, on a −2 … +2 scale;"
            f" opposite in {opposite:.0%} of readable frames).",
        }
    return {**item, "status": "consistent", "reason": "no strong, sustained disagreement."}


def check_mismatch(fr: InterviewFrames, utterances: list[Utterance]) -> dict:
    items = [check_utterance(fr, u) for u in utterances]
    counts = {s: sum(i["status"] == s for i in items) for s in ("flagged", "consistent", "skipped")}
    return {
        "checked": counts["flagged"] + counts["consistent"],
        "flagged": counts["flagged"],
        "skipped": counts["skipped"],
        "items": items,
    }
