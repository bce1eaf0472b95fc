import numpy as np

from facecue.timeline.smoothing import ExponentialSmoother, segment_labels, smooth_probs


def onehot(labels):
    return np.eye(7, dtype=np.float32)[labels]


def test_smoothing_removes_flicker_and_keeps_gaps():
    times = np.arange(40) * 0.2
    labels = [6] * 20 + [3] * 20
    labels[5] = 0  # one flickering frame
    probs = onehot(labels)
    usable = np.ones(40, bool)
    usable[28:34] = False  # 1.2 s without a usable face
    probs[~usable] = np.nan
    smoothed = smooth_probs(times, probs, usable, sigma_s=0.4, max_gap_s=1.0)
    assert np.isnan(smoothed[28:34]).all() and not np.isnan(smoothed[usable]).any()
    assert smoothed[5].argmax() == 6  # the flicker is smoothed away
    np.testing.assert_allclose(smoothed[usable].sum(axis=1), 1, atol=1e-5)
    # Values after the gap are not pulled towards the frames before it.
    np.testing.assert_allclose(smoothed[34], onehot([3])[0], atol=1e-6)


def test_smoothing_uses_time_not_frame_count():
    times_a = np.arange(20) * 0.1
    times_b = np.arange(10) * 0.2
    step_a = onehot([6] * 10 + [3] * 10)
    step_b = onehot([6] * 5 + [3] * 5)
    sa = smooth_probs(times_a, step_a, np.ones(20, bool), 0.3)
    sb = smooth_probs(times_b, step_b, np.ones(10, bool), 0.3)
    # At the same instant (t = 1.2 s) both sampling rates give about the same value.
    assert abs(sa[12, 3] - sb[6, 3]) < 0.1


def test_segments_merge_short_runs():
    times = np.arange(30) * 0.2
    labels = [6] * 10 + [0] * 2 + [6] * 3 + [3] * 15  # a 0.2 s 'angry' blip
    segs = segment_labels(times, onehot(labels), np.ones(30, bool), min_duration_s=0.5)
    assert [s[2] for s in segs] == ["neutral", "happy"]
    assert segs[1][0] == times[15] and segs[1][1] == times[29]


def test_a_short_blip_at_the_start_joins_the_segment_after_it():
    times = np.arange(20) * 0.2
    labels = [6] + [3] * 19  # one 'neutral' frame, then happy: it was a segment of its own, 0.0-0.0 s
    segs = segment_labels(times, onehot(labels), np.ones(20, bool), min_duration_s=0.5)
    assert [(s[0], s[1], s[2]) for s in segs] == [(0.0, float(times[19]), "happy")]
    lone = segment_labels(times[:1], onehot([6]), np.ones(1, bool), min_duration_s=0.5)
    assert [s[2] for s in lone] == ["neutral"]  # a stretch of one frame still has its reading


def test_exponential_smoother_resets_after_gap():
    s = ExponentialSmoother(tau_s=0.5, max_gap_s=1.0)
    a = s.update(0.0, onehot([3])[0])
    b = s.update(0.2, onehot([6])[0])
    assert a.argmax() == 3 and 0.2 < b[6] < 0.5
    assert s.update(0.4, None) is None
    c = s.update(2.0, onehot([6])[0])
    assert c[6] == 1.0
