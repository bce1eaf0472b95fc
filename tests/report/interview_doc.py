"""A hand-made `interview` section (docs/SIGNALS.md) with known values, on top of test_html's synthetic result."""

from __future__ import annotations

import base64

import cv2
import numpy as np

from tests.report.test_html import make_result

QUESTION_TEXT = ("Tell me about yourself.", "Why this role? <script>alert(1)</script>", "A hard problem")


def sharp_thumbnail(seed: int = 0) -> str:
    """A 120x96 checkerboard with noise as a JPEG data URI: sharp edges that a blur visibly removes."""
    rng = np.random.default_rng(seed)
    board = (np.indices((96, 120)).sum(axis=0) // 8 % 2 * 200).astype(np.uint8)
    image = np.dstack([board, board, np.clip(board + rng.integers(0, 40, board.shape), 0, 255)]).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return "data:image/jpeg;base64," + base64.b64encode(jpeg.tobytes()).decode("ascii")


def voice(start: float, end: float, pitch: float | None, reliable: bool = True) -> dict:
    return {
        "start_s": start,
        "end_s": end,
        "available": True,
        "pitch_median_hz": pitch,
        "pitch_p10_hz": pitch,
        "pitch_p90_hz": pitch,
        "pitch_variability_st": 2.5 if pitch else None,
        "loudness_dbfs": -23.0,
        "loudness_range_db": 18.0,
        "syllable_peaks": 12,
        "speaking_rate_per_s": 3.4,
        "pause_count": 2,
        "pause_total_s": 1.1,
        "pause_mean_s": 0.55,
        "pause_longest_s": 0.7,
        "speaking_s": 3.0,
        "voiced_s": 2.2,
        "voiced_share": 0.55,
        "clipped_share": 0.0,
        "reliable": reliable,
        "reason": None if reliable else "too little voiced speech (0.4 s; at least 1.5 s needed)",
    }


def cue(value: float, level: str, confidence: float, conf_level: str, text: str) -> dict:
    return {
        "value": value,
        "level": level,
        "text": text,
        "support_s": [1.0, 2.5],
        "confidence": confidence,
        "confidence_level": conf_level,
    }


def span(index: int, start: float, end: float, valence: float, pitch: float | None, reliable: bool = True) -> dict:
    return {
        "index": index,
        "start_s": start,
        "end_s": end,
        "text": QUESTION_TEXT[index],
        "frames": 10,
        "presence": 0.9,
        "abstained": 0.1,
        "usable_s": 1.6,
        "dominant": [{"label": "happy", "share": 0.8}, {"label": "neutral", "share": 0.2}],
        "mean_probs": {
            "angry": 0.02,
            "disgust": 0.02,
            "fear": 0.02,
            "happy": 0.6,
            "sad": 0.02,
            "surprise": 0.02,
            "neutral": 0.3,
        },
        "valence": valence,
        "arousal": 0.12,
        "expressivity": 0.7,
        "arc": {
            "start": {"time_s": start + 0.2, "label": "neutral", "valence": 0.0, "arousal": 0.0},
            "peak": {"time_s": start + 1.0, "label": "happy", "valence": 0.8, "arousal": 0.2},
            "end": {"time_s": end - 0.2, "label": "happy", "valence": 0.6, "arousal": 0.1},
            "shape": "rising",
        },
        "mixed": [{"labels": ["happy", "surprise"], "start_s": start + 0.4, "end_s": start + 1.2}],
        "cues": {
            "stress": cue(0.05, "little", 0.41, "moderate", "The face showed discomfort in 5% of moments."),
            "engagement": cue(0.8, "marked", 0.72, "high", "The face showed smiles in 80% of moments."),
            "composure": cue(0.6, "mostly steady", 0.2, "low", "The face's expression was mostly steady."),
        },
        "sentiment": {"utterances": 1, "words": 9, "compound": 0.62},
        "voice": voice(start, end, pitch, reliable),
        "feedback": f"Feedback for part {index + 1}: you seemed at ease.",
    }


def interview_doc(thumbnails: bool = True, blurred: bool = False) -> dict:
    """Three questions over the 9 s synthetic result; two highlights; one flagged utterance."""
    thumb = sharp_thumbnail() if thumbnails else None
    return {
        "schema": "facecue.interview/1",
        "span_kind": "questions",
        "window_s": None,
        "spans": [
            span(0, 0.0, 2.0, 0.45, 152.0),
            span(1, 2.0, 5.0, -0.2, 180.0),
            span(2, 5.0, 9.0, 0.1, None, reliable=False),
        ],
        "overall": {
            "dominant": [{"label": "happy", "share": 0.7}],
            "valence": 0.2,
            "cues": {"engagement": cue(0.7, "marked", 0.66, "high", "Smiles in 70% of moments.")},
            "feedback": "Across the interview you mostly looked at ease.",
        },
        "highlights": [
            {
                "time_s": 6.6,
                "kind": "change",
                "label": "happy",
                "score": 0.5,
                "span_index": 2,
                "thumbnail": thumb,
                "reason": "The face changed from mostly neutral to mostly happy.",
            },
            {
                "time_s": 1.2,
                "kind": "peak",
                "label": "happy",
                "score": 0.7,
                "span_index": 0,
                "thumbnail": thumb,
                "reason": "The clearest happy expression in this part (p=0.70).",
            },
            {
                "time_s": 3.0,
                "kind": "peak",
                "label": "sad",
                "score": 0.6,
                "span_index": 1,
                "thumbnail": "https://example.invalid/x.jpg",
                "reason": "A picture that is not a data URI.",
            },
        ],
        "mismatch": {
            "checked": 2,
            "flagged": 1,
            "skipped": 0,
            "items": [
                {
                    "start_s": 0.5,
                    "end_s": 1.8,
                    "speaker": "Candidate",
                    "text": "I loved it.",
                    "compound": 0.6,
                    "facial_valence": 0.4,
                    "coverage": 0.9,
                    "opposite_share": 0.0,
                    "status": "consistent",
                    "reason": "no strong, sustained disagreement.",
                },
                {
                    "start_s": 2.2,
                    "end_s": 4.8,
                    "speaker": "Candidate",
                    "text": "It was awful.",
                    "compound": -0.8,
                    "facial_valence": 0.7,
                    "coverage": 0.8,
                    "opposite_share": 0.9,
                    "status": "flagged",
                    "reason": "the words read as negative while the face read as positive.",
                },
            ],
        },
        "voice_available": True,
        "voice_note": None,
        "thumbnails_blurred": blurred,
        "notes": ["Only 7 s of the face could be read: treat every cue as tentative."],
    }


def result_with_interview(**kwargs) -> dict:
    doc = make_result()
    doc["interview"] = interview_doc(**kwargs)
    doc["models"]["emotion"]["temperature"] = 0.86
    return doc
