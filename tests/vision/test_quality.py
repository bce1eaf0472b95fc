from dataclasses import replace

import cv2
import numpy as np
import pytest

from facecue.errors import FacecueError
from facecue.vision.align import align_faces
from facecue.vision.detect import FaceBoxes
from facecue.vision.quality import FaceQuality, QualityThresholds, assess_quality


@pytest.fixture(scope="module")
def judge(detector, mesh):
    """judge(image) -> (FaceQuality, FaceBoxes, FaceLandmarks) through the real detector and mesh."""

    def _judge(image):
        faces = detector.detect(image)
        marks = mesh(image, faces)
        return assess_quality(image, faces, marks, align_faces(image, marks)), faces, marks

    return _judge


def test_sharp_frontal_face_is_usable(judge, astronaut):
    quality, _, _ = judge(astronaut)
    assert quality.reasons == (None,) and quality.usable.tolist() == [True]
    assert quality.score[0] > 0.6


def test_blur_lowers_the_score_then_abstains(judge, astronaut):
    sharp, _, _ = judge(astronaut)
    soft, _, _ = judge(cv2.GaussianBlur(astronaut, (0, 0), 2))
    blurred, _, _ = judge(cv2.GaussianBlur(astronaut, (0, 0), 4))
    assert soft.reasons == (None,) and 0 < soft.score[0] < sharp.score[0]
    assert blurred.reasons == ("too blurred",) and blurred.score[0] == 0


def test_very_blurred_face_is_not_visible_to_the_mesh(judge, astronaut):
    quality, faces, _ = judge(cv2.GaussianBlur(astronaut, (0, 0), 7))
    assert len(faces) == 1 and quality.reasons[0].startswith("face not visible (mesh presence")


def test_dark_and_flat_faces_abstain(judge, astronaut):
    dark, _, _ = judge((astronaut * 0.15).astype(np.uint8))
    flat, _, _ = judge((astronaut * 0.08 + 100).astype(np.uint8))
    assert dark.reasons == ("too dark",) and flat.reasons == ("low contrast",)


def test_small_face_abstains_with_its_size(judge, place):
    canvas, _ = place(32, (80, 60), size=(160, 120))  # a small webcam frame: the detector still sees it
    quality, faces, _ = judge(canvas)
    assert len(faces) == 1
    assert quality.reasons[0].startswith("face too small (") and quality.score[0] == 0


def test_turned_head_abstains_with_its_yaw(detector, mesh, astronaut):
    faces = detector.detect(astronaut)
    marks = mesh(astronaut, faces)
    turned = replace(marks, pose=np.array([[52.0, 0.0, 0.0]]))
    tilted = replace(marks, pose=np.array([[0.0, -40.0, 0.0]]))
    crops = align_faces(astronaut, marks)
    assert assess_quality(astronaut, faces, turned, crops).reasons == ("head turned (yaw 52°)",)
    assert assess_quality(astronaut, faces, tilted, crops).reasons == ("head tilted (pitch -40°)",)


def test_face_cut_off_by_the_frame_edge(detector, mesh, astronaut):
    faces = detector.detect(astronaut)
    marks = mesh(astronaut, faces)
    shifted = FaceBoxes(faces.boxes - [220, 0, 0, 0], faces.scores, faces.keypoints)  # box 60% left of the frame
    quality = assess_quality(astronaut, shifted, marks, align_faces(astronaut, marks))
    assert quality.reasons[0].startswith("face cut off by the frame edge")


def test_two_faces_scored_separately_and_without_landmarks(detector, mesh, astronaut):
    pair = np.hstack([astronaut, cv2.GaussianBlur(astronaut, (0, 0), 4)])
    faces = detector.detect(pair)
    marks = mesh(pair, faces)
    order = np.argsort(faces.boxes[:, 0])
    quality = assess_quality(pair, faces, marks, align_faces(pair, marks))
    assert [quality.reasons[i] for i in order] == [None, "too blurred"]
    # Without a mesh the presence and pose checks are skipped, the others still apply.
    no_mesh = assess_quality(pair, faces, None, align_faces(pair, marks))
    assert [no_mesh.reasons[i] for i in order] == [None, "too blurred"]


def test_stricter_thresholds_and_validation(detector, mesh, astronaut):
    faces = detector.detect(astronaut)
    marks = mesh(astronaut, faces)
    crops = align_faces(astronaut, marks)
    strict = QualityThresholds(min_face_px=150, good_face_px=200)
    assert assess_quality(astronaut, faces, marks, crops, strict).reasons[0].startswith("face too small (106 px)")
    with pytest.raises(FacecueError):
        QualityThresholds(min_face_px=100, good_face_px=50)
    with pytest.raises(FacecueError, match="must match"):
        assess_quality(astronaut, faces, marks, crops[:0])
    empty = assess_quality(astronaut, FaceBoxes.empty(), None, np.zeros((0, 48, 48), np.uint8))
    assert len(empty) == 0 and empty.reasons == ()
    with pytest.raises(ValueError):
        FaceQuality(np.array([0.5, 0.2]), (None,))
