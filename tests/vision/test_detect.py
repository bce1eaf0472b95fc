import sys

import cv2
import numpy as np
import pytest

from facecue.errors import FacecueError, InputError, ModelError
from facecue.vision.detect import (
    BlazeFaceDetector,
    DlibDetector,
    FaceBoxes,
    FaceDetector,
    create_detector,
    shrink,
    ssd_anchors,
    warp_crop,
    weighted_nms,
)


def test_finds_the_astronaut_with_keypoints_on_the_right_sides(truth, detector, astronaut, box_iou):
    faces = detector.detect(astronaut)
    assert len(faces) == 1 and faces.scores[0] > 0.8
    assert box_iou(faces.boxes[0], truth.box) > 0.8
    right_eye, left_eye, nose, mouth = faces.keypoints[0, :4]
    # Her right eye is on the viewer's left.
    assert np.linalg.norm(right_eye - truth.right_eye) < 6 and np.linalg.norm(left_eye - truth.left_eye) < 6
    assert right_eye[0] < nose[0] < left_eye[0]
    assert right_eye[1] < nose[1] < mouth[1] and np.linalg.norm(mouth - truth.mouth) < 8
    assert isinstance(detector, FaceDetector) and detector.version == "mediapipe-0.10.14"


@pytest.mark.parametrize("width, centre", [(96, (200, 150)), (150, (1100, 600)), (300, (640, 360)), (600, (640, 360))])
def test_one_pass_finds_faces_from_96_to_600_px_in_720p(detector, place, box_iou, width, centre):
    canvas, expected = place(width, centre)
    faces = detector.detect(canvas)
    assert len(faces) == 1
    assert box_iou(faces.boxes[0], expected) > 0.6


@pytest.mark.parametrize(
    "width, centre", [(20, (700, 380)), (24, (100, 650)), (40, (1000, 200)), (60, (640, 360)), (80, (300, 500))]
)
def test_tiles_find_small_faces(model_files, place, box_iou, width, centre):
    canvas, expected = place(width, centre)
    faces = BlazeFaceDetector(min_face_px=20).detect(canvas)
    assert len(faces) >= 1
    assert box_iou(faces.boxes[np.argmax(faces.scores)], expected) > 0.5


def test_mirrored_face_keeps_anatomical_keypoint_order(truth, detector, astronaut, box_iou):
    mirrored = np.ascontiguousarray(astronaut[:, ::-1])
    faces = detector.detect(mirrored)
    assert len(faces) == 1
    x, y, w, h = truth.box
    assert box_iou(faces.boxes[0], np.array([512 - x - w, y, w, h])) > 0.8
    right_eye, left_eye = faces.keypoints[0, :2]
    assert right_eye[0] < left_eye[0]  # the person's right eye is still on the viewer's left
    assert abs(right_eye[0] - (512 - truth.left_eye[0])) < 6


def test_rotated_face_turns_its_eye_line(truth, detector, astronaut):
    rotation = cv2.getRotationMatrix2D(tuple(truth.centre), 30, 1.0)  # 30 deg counter-clockwise on screen
    faces = detector.detect(cv2.warpAffine(astronaut, rotation, (512, 512)))
    assert len(faces) == 1
    eye_line = faces.keypoints[0, 1] - faces.keypoints[0, 0]
    angle = np.degrees(np.arctan2(eye_line[1], eye_line[0]))
    assert -30 - 8 < angle < -30 + 10  # the upright photo's eye line already slopes ~3 deg


def test_two_people_side_by_side(truth, detector, astronaut, box_iou):
    pair = np.hstack([astronaut, astronaut])
    faces = detector.detect(pair)
    assert len(faces) == 2
    xs = sorted(faces.boxes[:, 0])
    assert abs(xs[0] - truth.box[0]) < 8 and abs(xs[1] - truth.box[0] - 512) < 8
    assert len(BlazeFaceDetector(max_faces=1).detect(pair)) == 1


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frames_have_no_face(detector, value):
    faces = detector.detect(np.full((720, 1280, 3), value, np.uint8))
    assert len(faces) == 0 and faces.keypoints.shape == (0, 6, 2)


def test_bad_images_and_options_raise_clear_errors(detector):
    with pytest.raises(InputError, match="uint8 BGR"):
        detector.detect(np.zeros((10, 10), np.uint8))
    with pytest.raises(InputError, match="uint8 BGR"):
        detector.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(FacecueError, match="unknown face detector 'retina'"):
        create_detector("retina")
    with pytest.raises(FacecueError, match="min_score"):
        create_detector("blazeface", min_score=1.5)


def test_faceboxes_validates_shapes_and_ranges():
    empty = FaceBoxes.empty()
    assert len(empty) == 0 and empty.boxes.shape == (0, 4) and empty.keypoints.shape == (0, 6, 2)
    faces = FaceBoxes([[1, 2, 3, 4]], [0.9], np.zeros((1, 6, 2)))
    assert faces.boxes.dtype == np.float32 and len(faces) == 1
    with pytest.raises(ValueError):
        FaceBoxes([[1, 2, 3, 4]], [0.9, 0.8], np.zeros((1, 6, 2)))
    with pytest.raises(ValueError):
        FaceBoxes([[1, 2, -3, 4]], [0.9], np.zeros((1, 6, 2)))
    with pytest.raises(ValueError):
        FaceBoxes([[1, 2, 3, 4]], [1.5], np.zeros((1, 6, 2)))
    with pytest.raises(ValueError):
        FaceBoxes([[1, 2, 3, 4]], [0.5], np.zeros((1, 6)))


def test_anchors_match_mediapipe_full_range_layout():
    anchors = ssd_anchors()
    assert anchors.shape == (48 * 48, 2)
    assert np.allclose(anchors[0], [0.5 / 48, 0.5 / 48]) and np.allclose(anchors[1], [1.5 / 48, 0.5 / 48])


def test_weighted_nms_blends_overlaps_and_keeps_separate_faces():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    kps = boxes[:, None, :2].copy()
    out_boxes, out_scores, out_kps = weighted_nms(boxes, scores, kps, 0.3)
    assert np.allclose(out_scores, [0.9, 0.8])
    assert np.allclose(out_boxes[0], [0.4, 0.4, 10.4, 10.4])  # (0.9 * 0 + 0.6 * 1) / 1.5
    assert np.allclose(out_kps[0, 0], [0.4, 0.4]) and np.allclose(out_boxes[1], boxes[2])
    assert len(weighted_nms(boxes, scores, kps, 0.3, max_faces=1)[0]) == 1


def test_shrink_and_warp_crop_average_instead_of_aliasing():
    stripes = np.zeros((400, 400), np.uint8)
    stripes[:, ::2] = 255  # finest possible pattern: must average to mid grey, not alias
    assert abs(shrink(stripes, 64, 64).astype(float) - 127.5).max() < 3
    crop_to_image = np.array([[400 / 50, 0, 0], [0, 400 / 50, 0]])
    assert abs(warp_crop(stripes, crop_to_image, 50, 50).astype(float) - 127.5).max() < 10
    assert warp_crop(stripes, np.array([[1.0, 0, 10], [0, 1, 20]]), 5, 5).tolist() == stripes[20:25, 10:15].tolist()


def test_dlib_backend_finds_the_astronaut(truth, astronaut, box_iou):
    pytest.importorskip("dlib")
    detector = create_detector("dlib", min_score=0.5, max_faces=1, threads=1)
    faces = detector.detect(astronaut)
    assert len(faces) == 1 and faces.keypoints.shape == (1, 0, 2)
    assert box_iou(faces.boxes[0], truth.box) > 0.6 and detector.version.startswith("dlib-")


def test_missing_dlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(ModelError, match="facecue\\[dlib\\]"):
        DlibDetector()
