"""The behaviour summary: counts and shares with the seconds behind them, on known series."""

from __future__ import annotations

import numpy as np
import pytest

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
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
    assert out["eye_contact_share"]["value"] is None and "iris" in out["eye_contact_share"]["reason"]


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
