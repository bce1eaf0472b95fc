import cv2
import numpy as np
import pytest

from facecue.errors import FacecueError
from facecue.vision.align import (
    MESH_TEMPLATE,
    align_faces,
    similarity_to_template,
)
from facecue.vision.detect import FaceBoxes


def aligned_astronaut(detector, mesh, image):
    faces = detector.detect(image)
    marks = mesh(image, faces)
    return align_faces(image, marks), faces, marks


def measure_eyes_and_mouth(detector, mesh, crop):
    """Run the detector and mesh on a 48x48 crop the way the template was measured (replicate-pad by
    half the crop, upscale 4x) and return its eye and mouth centres in crop pixels."""
    pad, up = 24, 4
    big = cv2.resize(
        cv2.copyMakeBorder(crop, pad, pad, pad, pad, cv2.BORDER_REPLICATE),
        None,
        fx=up,
        fy=up,
        interpolation=cv2.INTER_CUBIC,
    )
    big = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
    marks = mesh(big, detector.detect(big))
    right, left = marks.eye_centres()
    return np.stack([right[0], left[0], marks.mouth_centres()[0]]) / up - pad


def test_aligned_crop_has_eyes_and_mouth_where_the_template_says(detector, mesh, astronaut):
    crops, _, _ = aligned_astronaut(detector, mesh, astronaut)
    assert crops.shape == (1, 48, 48) and crops.dtype == np.uint8
    found = measure_eyes_and_mouth(detector, mesh, crops[0])
    assert np.abs(found - MESH_TEMPLATE).max() < 1.5
    # The eyes are darker than the cheeks below them.
    eye_rows = crops[0, 17:21, 12:36].mean()
    assert eye_rows < crops[0, 24:28, 12:36].mean()


def test_rotation_and_scale_do_not_change_the_crop(truth, detector, mesh, astronaut, place):
    reference, _, _ = aligned_astronaut(detector, mesh, astronaut)
    rotation = cv2.getRotationMatrix2D(tuple(truth.centre), 30, 1.0)
    rotated, _, _ = aligned_astronaut(detector, mesh, cv2.warpAffine(astronaut, rotation, (512, 512)))
    large, _, _ = aligned_astronaut(detector, mesh, place(600, (640, 360))[0])
    for crop in (rotated, large):
        assert np.abs(crop.astype(float) - reference).mean() < 8


def test_large_faces_are_averaged_not_aliased(detector, mesh, place):
    canvas, _ = place(600, (640, 360))
    faces = detector.detect(canvas)
    marks = mesh(canvas, faces)
    # Add the finest pixel checkerboard: an area-filtered crop averages it away, point sampling would not.
    checker = ((np.indices(canvas.shape[:2]).sum(0) % 2) * 80 - 40)[..., None]
    noisy = np.clip(canvas.astype(int) + checker, 0, 255).astype(np.uint8)
    clean_crop, noisy_crop = align_faces(canvas, marks), align_faces(noisy, marks)
    assert np.abs(clean_crop.astype(float) - noisy_crop).mean() < 3


def test_two_faces_two_crops_and_other_sizes(detector, mesh, astronaut):
    pair = np.hstack([astronaut, astronaut])
    faces = detector.detect(pair)
    marks = mesh(pair, faces)
    crops = align_faces(pair, marks, size=96)
    assert crops.shape == (2, 96, 96)
    assert np.abs(crops[0].astype(float) - crops[1]).mean() < 8  # the same face twice
    assert align_faces(pair, marks, size=64).shape == (2, 64, 64)


def test_no_faces_and_bad_requests(mesh, astronaut):
    assert align_faces(astronaut, mesh(astronaut, FaceBoxes.empty())).shape == (0, 48, 48)
    with pytest.raises(FacecueError, match="at least 8"):
        align_faces(astronaut, mesh(astronaut, FaceBoxes.empty()), size=4)


def test_similarity_fit_recovers_a_known_transform():
    angle, scale, shift = np.radians(20), 3.0, np.array([100.0, 50.0])
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = (MESH_TEMPLATE @ linear.T + shift)[None]
    fitted = similarity_to_template(points, MESH_TEMPLATE)[0]
    assert np.allclose(fitted[:, :2], linear, atol=1e-4) and np.allclose(fitted[:, 2], shift, atol=1e-3)
