import cv2
import numpy as np
import pytest
from scipy.interpolate import griddata

from facecue.errors import FacecueError
from facecue.vision.detect import FaceBoxes
from facecue.vision.landmarks import FaceLandmarks, head_pose


@pytest.fixture(scope="module")
def upright(detector, mesh, astronaut):
    return mesh(astronaut, detector.detect(astronaut))


def rotate_points(points: np.ndarray, yaw: float = 0.0, pitch: float = 0.0) -> np.ndarray:
    """Turn (468, 3) mesh points about the head's centre: yaw > 0 towards the viewer's right, pitch > 0 chin up."""
    centre = points.mean(0)
    p = points - centre
    y, t = np.radians(yaw), np.radians(pitch)
    turn = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    tilt = np.array([[1, 0, 0], [0, np.cos(t), np.sin(t)], [0, -np.sin(t), np.cos(t)]])
    return p @ (tilt @ turn).T + centre


def turn_head(image: np.ndarray, points: np.ndarray, yaw: float) -> np.ndarray:
    """Re-render the face as if the head turned by `yaw` degrees: move each mesh point to its turned
    position and warp the pixels between them (piecewise linear, around the face only)."""
    turned = rotate_points(points, yaw=yaw)[:, :2]
    x0, y0 = np.maximum(points[:, :2].min(0) - 40, 0).astype(int)
    x1, y1 = np.minimum(points[:, :2].max(0) + 40, image.shape[1::-1]).astype(int)
    frame = np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], float)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    src = griddata(np.vstack([turned, frame]), np.vstack([points[:, :2], frame]), (xs, ys), method="linear")
    out = image.copy()
    out[y0:y1, x0:x1] = cv2.remap(
        image, (src[..., 0] - 0.5).astype(np.float32), (src[..., 1] - 0.5).astype(np.float32), cv2.INTER_LINEAR
    )
    return out


def test_mesh_lands_on_the_astronaut_face(truth, upright):
    assert len(upright) == 1 and upright.points.shape == (1, 468, 3)
    assert upright.presence[0] > 0.95
    right, left = upright.eye_centres()
    assert np.linalg.norm(right[0] - truth.right_eye) < 5 and np.linalg.norm(left[0] - truth.left_eye) < 5
    assert np.linalg.norm(upright.mouth_centres()[0] - truth.mouth) < 5
    low, high = truth.box[:2] - 0.2 * truth.box[2:], truth.box[:2] + 1.2 * truth.box[2:]
    assert ((upright.points[0, :, :2] > low) & (upright.points[0, :, :2] < high)).all()
    yaw, pitch, roll = upright.pose[0]
    assert abs(yaw) < 8 and abs(pitch) < 20 and 0 < roll < 8  # near frontal; her eye line slopes down to the right


def test_rotated_image_rotates_landmarks_and_roll(truth, detector, mesh, astronaut, upright):
    rotation = cv2.getRotationMatrix2D(tuple(truth.centre), 25, 1.0)  # 25 deg counter-clockwise on screen
    rotated = cv2.warpAffine(astronaut, rotation, (512, 512))
    marks = mesh(rotated, detector.detect(rotated))
    assert marks.presence[0] > 0.95
    expected = np.hstack([upright.points[0, :, :2], np.ones((468, 1))]) @ rotation.T
    assert np.median(np.linalg.norm(marks.points[0, :, :2] - expected, axis=1)) < 3
    assert abs(marks.pose[0, 2] - (upright.pose[0, 2] - 25)) < 4


def test_large_face_gives_the_same_landmarks_scaled(truth, detector, mesh, place, upright):
    canvas, _ = place(600, (640, 360))
    marks = mesh(canvas, detector.detect(canvas))
    scale = 600 / truth.box[2]
    expected = (upright.points[0, :, :2] - truth.centre) * scale + [640, 360]
    assert np.median(np.linalg.norm(marks.points[0, :, :2] - expected, axis=1)) < 0.02 * 600
    assert np.abs(marks.pose - upright.pose).max() < 5


def test_turned_head_gives_yaw_that_flips_in_the_mirror(detector, mesh, astronaut, upright):
    turned = turn_head(astronaut, upright.points[0], yaw=30)  # towards the viewer's right
    marks = mesh(turned, detector.detect(turned))
    mirrored = np.ascontiguousarray(turned[:, ::-1])
    marks_mirrored = mesh(mirrored, detector.detect(mirrored))
    # A warped photo is not a real head turn: the mesh sees about half of it.
    assert marks.pose[0, 0] > 8 and marks_mirrored.pose[0, 0] < -8
    assert abs(marks.pose[0, 0] + marks_mirrored.pose[0, 0]) < 5
    assert abs(marks.pose[0, 2] + marks_mirrored.pose[0, 2]) < 3  # roll flips too


def test_head_pose_signs_on_rotated_mesh_points(upright):
    points = upright.points[0].astype(np.float64)
    base = head_pose(points[None])[0]
    for yaw in (-30, 30):
        assert abs(head_pose(rotate_points(points, yaw=yaw)[None])[0, 0] - (base[0] + yaw)) < 2
    for pitch in (-20, 20):
        assert abs(head_pose(rotate_points(points, pitch=pitch)[None])[0, 1] - (base[1] + pitch)) < 2


def test_faces_without_keypoints_get_an_upright_crop(truth, mesh, astronaut):
    faces = FaceBoxes([truth.box], [0.9], np.zeros((1, 0, 2)))
    marks = mesh(astronaut, faces)
    assert marks.presence[0] > 0.95
    assert np.linalg.norm(marks.eye_centres()[0][0] - truth.right_eye) < 5


def test_no_faces_no_landmarks_and_bad_input(mesh, astronaut):
    empty = mesh(astronaut, FaceBoxes.empty())
    assert len(empty) == 0 and empty.points.shape == (0, 468, 3) and empty.pose.shape == (0, 3)
    with pytest.raises(FacecueError, match="FaceBoxes"):
        mesh(astronaut, [[1, 2, 3, 4]])


def test_a_box_on_background_has_low_presence(mesh, astronaut):
    sky = FaceBoxes([[400, 10, 100, 100]], [0.9], np.zeros((1, 6, 2)))
    assert mesh(np.full_like(astronaut, 127), sky).presence[0] < 0.2


def test_facelandmarks_validates():
    with pytest.raises(ValueError):
        FaceLandmarks(np.zeros((2, 468, 3)), np.zeros(1), np.zeros((2, 3)))
    with pytest.raises(ValueError):
        FaceLandmarks(np.zeros((1, 468, 3)), np.full(1, 2.0), np.zeros((1, 3)))
    assert FaceLandmarks(np.zeros((1, 468, 3)), [0.5], [[1, 2, 3]]).points.dtype == np.float32
