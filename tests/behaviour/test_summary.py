"""The behaviour summary: counts and shares with the seconds behind them, on known series."""

from __future__ import annotations

import numpy as np
import pytest

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.behaviour.gaze_summary import speaking_frames
from facecue.behaviour.summary import count_oscillations, summarise, summarise_parts, turning_points

SMILE, CLOSED = BEHAVIOUR_COLUMNS.index("smile"), BEHAVIOUR_COLUMNS.index("eyes_closed")


def test_turning_points_ignore_noise_below_the_threshold():
    assert turning_points(np.array([0, 1, 0, 10, 0, 10, 0, 1.0]), 6) == [0, 3, 4, 5, 6]
    assert turning_points(np.array([0, 2, -2, 3, -1, 2.0]), 6) == []


def test_nods_and_shakes_are_counted_from_quick_swings_only():
    t = np.arange(30) * 0.2
    still = np.zeros(30)
    nod = still.copy()
    nod[3:8] = [8, 0, 8, 0, 0]  # two quick down-up movements of the head
    slow = np.linspace(0, 20, 30)  # a slow turn is looking elsewhere, not a shake
    assert count_oscillations(t, nod, still, 1.0) == 2
    assert count_oscillations(t, still, nod, 1.0) == 0  # the same motion in yaw is not a nod
    assert count_oscillations(t, slow, still, 1.0) == 0
    gappy = nod.copy()
    gappy[6] = np.nan  # a missing reading splits the run: the second nod is cut
    assert count_oscillations(t, gappy, still, 0.3) == 1


def _series(f: int, smile: float = 0.0):
    behaviour = np.full((f, len(BEHAVIOUR_COLUMNS)), np.nan, np.float32)
    behaviour[:, SMILE] = smile
    behaviour[:, CLOSED] = 0.0
    return np.zeros((f, 3), np.float32), behaviour


def test_shares_come_with_their_readable_seconds():
    f = 50
    times = np.arange(f) * 0.2
    present = np.ones(f, bool)
    present[40:] = False
    pose, behaviour = _series(f)
    behaviour[:10, SMILE] = 0.9
    behaviour[40:] = np.nan
    pose[40:] = np.nan
    out = summarise(times, present, pose, behaviour, 0.2, 5.0)
    assert out["smile_share"] == {"value": 0.25, "seconds": 8.0, "smiling_s": 2.0}
    assert out["out_of_frame"]["value"] == pytest.approx(0.2) and out["out_of_frame"]["out_s"] == 2.0
    assert out["nods"]["value"] == 0 and out["nods"]["seconds"] == 8.0
    # At 5 frames/s blinks are missed, so no rate is given: a reason instead of a guess.
    assert out["blinks_per_minute"]["value"] is None and "--fps 10" in out["blinks_per_minute"]["reason"]
    # No eye_contact readings in this series: a reason, never 0.
    assert out["eye_contact_share"]["value"] is None and "irises" in out["eye_contact_share"]["reason"]
    assert out["gaze_aversions"]["value"] is None


def test_blinks_are_counted_when_sampling_is_dense_enough():
    f = 300
    times = np.arange(f) / 25  # 12 s at 25 frames/s
    pose, behaviour = _series(f)
    for start in (20, 100, 200):
        behaviour[start : start + 4, CLOSED] = 1.0
    out = summarise(times, np.ones(f, bool), pose, behaviour, 0.04, 25.0)
    assert out["blinks_per_minute"]["blinks"] == 3
    assert out["blinks_per_minute"]["value"] == pytest.approx(3 / (12 / 60), rel=1e-3)


def test_nothing_readable_gives_none_not_zero():
    f = 10
    times = np.arange(f) * 0.2
    _, behaviour = _series(f)
    behaviour[:] = np.nan
    out = summarise(times, np.zeros(f, bool), np.full((f, 3), np.nan), behaviour, 0.2, 5.0)
    assert out["smile_share"]["value"] is None and out["nods"]["value"] is None and out["readable_s"] == 0
    parts = summarise_parts(
        times, np.zeros(f, bool), np.full((f, 3), np.nan), behaviour, 0.2, 5.0, [(0.0, 1.0, "q1"), (1.0, 2.0, "q2")]
    )
    assert [p["label"] for p in parts] == ["q1", "q2"] and parts[0]["analysed_s"] == 1.0


CONTACT = BEHAVIOUR_COLUMNS.index("eye_contact")


def test_gaze_aversions_need_a_second_and_survive_a_blink():
    f = 100
    times = np.arange(f) * 0.2  # 20 s at 5 frames/s
    pose, behaviour = _series(f)
    behaviour[:, CONTACT] = 0.9
    behaviour[10:13, CONTACT] = 0.1  # 0.6 s: a glance, not an episode
    behaviour[30:40, CONTACT] = 0.05  # 2 s away...
    behaviour[34, CONTACT] = np.nan  # ...with a blink inside (unread), which does not split it
    behaviour[60:70, CONTACT] = 0.2  # 2 s away, then out of view for 2 s: the episode ends where reading stops
    present = np.ones(f, bool)
    present[70:80] = False
    out = summarise(times, present, pose, behaviour, 0.2, 5.0)
    aversions = out["gaze_aversions"]
    assert aversions["value"] == 2 and aversions["total_s"] == pytest.approx(4.0)
    assert aversions["seconds"] == pytest.approx(17.8)  # 100 frames less 10 out of view, less the blink
    share = out["eye_contact_share"]
    assert share["value"] == pytest.approx((89 - 3 - 9 - 10) / 89, abs=1e-4) and share["seconds"] == 17.8
    assert share["while_speaking"]["value"] is None and "voice" in share["while_speaking"]["reason"]


def test_eye_contact_is_split_by_voice_activity():
    f = 50
    times = np.arange(f) * 0.2
    pose, behaviour = _series(f)
    behaviour[:, CONTACT] = np.where(np.arange(f) < 25, 0.9, 0.1)  # looks at the camera while speaking only
    speaking = np.arange(f) < 20
    share = summarise(times, np.ones(f, bool), pose, behaviour, 0.2, 5.0, speaking)["eye_contact_share"]
    assert share["while_speaking"] == {"value": 1.0, "seconds": 4.0}
    assert share["while_listening"] == {"value": pytest.approx(5 / 30, abs=1e-4), "seconds": 6.0}


def test_speaking_frames_come_from_the_voice_track():
    from facecue.interview.voice import measure_samples

    rate = 16000
    t = np.arange(4 * rate) / rate
    voice = 0.3 * np.sin(2 * np.pi * 180 * t) * (t >= 2)  # silence, then 2 s of a steady voiced tone
    voice += np.random.default_rng(0).normal(0, 1e-4, len(t))  # a faint noise floor, as in any recording
    track = measure_samples(voice, rate)
    times = np.arange(20) * 0.2
    speaking = speaking_frames(track, times, 0.2)
    assert speaking is not None and not speaking[:9].any() and speaking[11:].all()
    assert speaking_frames(type("NoAudio", (), {"frames": None})(), times, 0.2) is None


def test_a_wide_mouth_the_expression_model_reads_as_distress_is_not_counted_as_a_smile():
    """A crying face stretches the lips wide: the geometry alone gave a crying clip "Smiled for 3 s"."""
    f = 50
    times = np.arange(f) * 0.2
    pose, behaviour = _series(f, smile=0.9)
    crying = np.zeros(f, bool)
    crying[:30] = True
    out = summarise(times, np.ones(f, bool), pose, behaviour, 0.2, 5.0, distressed=crying)
    assert out["smile_share"] == {"value": 0.4, "seconds": 10.0, "smiling_s": 4.0}
    assert out["mean_actions"]["smile"] == pytest.approx(0.9)  # the measure itself is left as read
    parts = summarise_parts(
        times, np.ones(f, bool), pose, behaviour, 0.2, 5.0, [(0, 6, "a"), (6, 10, "b")], None, crying
    )
    assert [p["smile_share"]["value"] for p in parts] == [0.0, 1.0]


def test_smile_highlights_follow_the_expression_reading_when_there_is_one():
    import dataclasses

    from facecue.interview.behaviour import behaviour_highlights
    from facecue.options import AnalyzeOptions
    from tests.interview.synthetic import synthetic_result, timeline

    _, behaviour = _series(50, smile=0.9)
    smiles = lambda result: [h for h in behaviour_highlights(result, behaviour, 0.2) if h["kind"] == "smile"]  # noqa: E731
    assert smiles(synthetic_result(timeline(("happy", 10))))[0]["reason"].startswith("Smiled for 10 s")
    crying = synthetic_result(timeline(("sad", 10)))
    assert smiles(crying) == []
    geometry_only = dataclasses.replace(crying, options=AnalyzeOptions(fps=5.0, signals=("behaviour",)))
    assert len(smiles(geometry_only)) == 1  # without expressions, the geometry is all there is


def test_a_highlight_says_how_much_of_a_bridged_stretch_held_and_its_clock_rounds_over_the_minute():
    """Runs bridge gaps of up to 1 s: a speaker glancing back every 2 s was "Looked away for 13 s" while looking
    at the camera a quarter of that time; and a smile from 59.97 s was "(from 0:60.0)"."""
    import dataclasses

    from facecue.interview.behaviour import behaviour_highlights
    from tests.interview.synthetic import synthetic_result, timeline

    result = synthetic_result(timeline(("neutral", 20)))
    _, behaviour = _series(len(result.times))
    looking = behaviour[:, BEHAVIOUR_COLUMNS.index("eye_contact")]
    looking[:] = 0.1
    looking[np.arange(len(looking)) % 10 < 3] = 0.9  # back at the camera for 0.6 s every 2 s
    away = [h for h in behaviour_highlights(result, behaviour, 0.2) if h["kind"] == "looking_away"]
    assert [h["reason"] for h in away] == ["Looked away from the camera for 14 of 19 s."]

    _, behaviour = _series(len(result.times), smile=0.9)
    behaviour[50, SMILE] = 1.0  # the strongest moment, 10 s in
    later = dataclasses.replace(result, times=result.times + 59.97)
    (smile,) = [h for h in behaviour_highlights(later, behaviour, 0.2) if h["kind"] == "smile"]
    assert smile["reason"] == "Smiled for 20 s (from 1:00.0); this is its strongest moment."


def test_a_recording_without_a_face_gets_no_out_of_frame_highlight():
    import dataclasses

    from facecue.interview.behaviour import behaviour_highlights
    from tests.interview.synthetic import synthetic_result, timeline

    result = synthetic_result(timeline(("neutral", 4)))
    none = np.zeros(len(result.times), bool)
    empty = dataclasses.replace(result, timeline=dataclasses.replace(result.timeline, present=none, usable=none))
    _, behaviour = _series(len(result.times))
    assert [h["kind"] for h in behaviour_highlights(result, behaviour, 0.2)] == []
    assert behaviour_highlights(empty, behaviour, 0.2) == []  # it gave "out of the frame for 4 s"
