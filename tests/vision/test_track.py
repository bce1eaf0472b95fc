import numpy as np

from facecue.vision.track import FaceTracker, box_iou, time_ranges


def looks(*seeds):
    out = []
    for s in seeds:
        v = np.random.default_rng(s).normal(size=64).astype(np.float32)
        out.append(v / np.linalg.norm(v))
    return np.stack(out)


def test_two_people_crossing_keep_their_ids():
    tracker = FaceTracker()
    people = looks(1, 2)
    first = None
    for step in range(30):
        t = step * 0.2
        # Person A moves right, person B moves left; they pass each other in the middle.
        a = [100 + step * 20, 200, 120, 120]
        b = [700 - step * 20, 210, 110, 110]
        ids = tracker.update(t, np.array([b, a], np.float32), people[::-1])
        if first is None:
            first = ids.copy()
        assert ids.tolist() == first.tolist(), f"identity swap at step {step}"


def test_reidentification_after_leaving_and_a_new_person():
    tracker = FaceTracker(max_gap_s=1.0, reid_s=20.0)
    a, b = looks(1, 5)
    id_a = tracker.update(0.0, np.array([[100, 100, 80, 80]], np.float32), a[None])[0]
    tracker.update(0.2, np.array([[105, 100, 80, 80]], np.float32), a[None])
    # Gone for 5 s, comes back elsewhere in the frame.
    assert tracker.update(5.2, np.array([[400, 120, 85, 85]], np.float32), a[None])[0] == id_a
    assert tracker.update(5.4, np.array([[900, 120, 85, 85]], np.float32), b[None])[0] != id_a


def test_iou_and_ranges():
    a = np.array([[0, 0, 10, 10]], np.float32)
    b = np.array([[5, 0, 10, 10], [20, 20, 5, 5]], np.float32)
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0]])
    assert time_ranges([0, 0.2, 0.4, 3.0, 3.2], 1.0) == [(0.0, 0.4), (3.0, 3.2)]
