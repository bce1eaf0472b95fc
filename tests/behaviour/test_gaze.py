"""Gaze and eye contact from the real mesh and iris models on real frames (the sample's astronaut photo)."""

from __future__ import annotations

import numpy as np
import pytest

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS, GAZE_COLUMNS
from facecue.behaviour.gaze import MIN_OPENNESS, measure_gaze
from facecue.behaviour.measures import measure_behaviour
from facecue.io.sample import sample_frame
from facecue.vision.iris import EYE_CORNERS, Irises, IrisModel
from facecue.vision.landmarks import FaceLandmarks

YAW, PITCH, CONTACT = (BEHAVIOUR_COLUMNS.index(c) for c in GAZE_COLUMNS)


@pytest.fixture(scope="module")
def iris(model_files):
    return IrisModel()


@pytest.fixture(scope="module")
def frame():
    return sample_frame(1.0, size=(1280, 720))


def _read(detector, mesh, iris, image):
    """The most face-like face's landmarks, behaviour row and reason."""
    faces = detector.detect(image)
    lm = mesh(image, faces)
    k = int(np.argmax(lm.presence))
    one = FaceLandmarks(lm.points[k : k + 1], lm.presence[k : k + 1], lm.pose[k : k + 1])
    values, why = measure_behaviour(one, [""], lambda points: iris(image, points))
    return one, values[0], why[0]


def _shift_irises(image, lm, fraction):
    """The frame with the middle of each eye (between the corners, lid to lid) moved sideways by `fraction` of
    the eye's width: the irises move, the eye corners and the rest of the face stay."""
    out = image.copy()
    for a, b in EYE_CORNERS:
        pa, pb = lm.points[0, a, :2], lm.points[0, b, :2]
        width, (cx, cy) = np.linalg.norm(pb - pa), (pa + pb) / 2
        x0, x1, y0, y1 = int(cx - 0.3 * width), int(cx + 0.3 * width), int(cy - 0.2 * width), int(cy + 0.2 * width)
        d = round(fraction * width)
        out[y0:y1, x0:x1] = image[y0:y1, x0 - d : x1 - d]
    return out


def test_the_astronaut_looks_into_the_camera_with_her_head_tilted_down(detector, mesh, iris, frame):
    lm, row, why = _read(detector, mesh, iris, frame)
    assert why == ""
    assert abs(row[YAW]) < 6 and abs(row[PITCH]) < 8 and row[CONTACT] > 0.8
    # Her head is tilted down about 12°: the eyes, not the head, hold the camera.
    assert lm.pose[0, 1] < -8 and row[PITCH] - lm.pose[0, 1] > 6


@pytest.mark.parametrize("fraction", [-0.1, 0.1])
def test_moving_the_irises_sideways_turns_the_gaze_and_mirroring_flips_it(detector, mesh, iris, frame, fraction):
    lm, row, _ = _read(detector, mesh, iris, frame)
    moved = _shift_irises(frame, lm, fraction)
    _, turned, why = _read(detector, mesh, iris, moved)
    assert why == ""
    # A tenth of the eye's width is about 16° of eye rotation for an eyeball radius of 0.35 eye widths.
    assert np.sign(fraction) * (turned[YAW] - row[YAW]) > 7
    assert turned[CONTACT] < row[CONTACT] - 0.2
    _, mirrored, _ = _read(detector, mesh, iris, np.ascontiguousarray(moved[:, ::-1]))
    assert np.sign(mirrored[YAW]) == -np.sign(turned[YAW]) and abs(mirrored[YAW] + turned[YAW]) < 6


def test_closed_or_tiny_eyes_give_empty_gaze_cells_with_a_reason(detector, mesh, iris, frame):
    lm, _, _ = _read(detector, mesh, iris, frame)
    irises = iris(frame, lm.points)
    assert (irises.openness > MIN_OPENNESS).all() and (irises.radii > 2).all()
    closed = Irises(irises.centres, irises.radii, irises.openness * 0.4, irises.corners)
    gaze, why = measure_gaze(lm.points, closed, np.zeros(1))
    assert np.isnan(gaze).all() and why[0].startswith("eyes closed")
    tiny = lm.points.copy()
    tiny[..., :2] *= 0.08  # eyes a few pixels wide
    gaze, why = measure_gaze(tiny, iris(frame, tiny), np.zeros(1))
    assert np.isnan(gaze).all() and "too small" in why[0]


def test_a_face_free_image_or_an_unconfirmed_face_reads_no_gaze(detector, mesh, iris, frame):
    blank = np.full((360, 640, 3), 128, np.uint8)
    assert len(detector.detect(blank)) == 0
    lm, _, _ = _read(detector, mesh, iris, frame)
    calls = []
    values, why = measure_behaviour(lm, ["face not visible (mesh presence 0.1)"], lambda p: calls.append(p))
    assert np.isnan(values[0, :3]).all() and why[0].startswith("face not visible") and not calls
