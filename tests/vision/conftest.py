"""Shared fixtures for the face stages: the real MediaPipe models and frames built from
scikit-image's public-domain astronaut photo (Eileen Collins, NASA)."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from skimage import data

from facecue.vision.detect import BlazeFaceDetector
from facecue.vision.landmarks import FaceMesh

# Hand-checked on the 512x512 photo: her face, eye centres (her right eye is on the viewer's left)
# and mouth centre, in pixels.
FACE_BOX = np.array([172.0, 66.0, 106.0, 106.0])
FACE_CENTRE = FACE_BOX[:2] + FACE_BOX[2:] / 2
RIGHT_EYE = np.array([203.0, 102.0])
LEFT_EYE = np.array([247.0, 104.0])
MOUTH = np.array([222.0, 145.0])


@pytest.fixture(scope="session")
def truth() -> SimpleNamespace:
    """The photo's hand-checked face: box [x, y, w, h], centre, right_eye, left_eye, mouth (pixels)."""
    return SimpleNamespace(box=FACE_BOX, centre=FACE_CENTRE, right_eye=RIGHT_EYE, left_eye=LEFT_EYE, mouth=MOUTH)


@pytest.fixture(scope="session")
def detector(model_files):
    return BlazeFaceDetector()


@pytest.fixture(scope="session")
def mesh(model_files):
    return FaceMesh()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    image.flags.writeable = False
    return image


def place_matrix(face_width: float, centre: tuple[float, float]) -> np.ndarray:
    """2x3 map from the photo to a canvas that puts her face `face_width` px wide at `centre`."""
    s = face_width / FACE_BOX[2]
    return np.array([[s, 0, centre[0] - s * FACE_CENTRE[0]], [0, s, centre[1] - s * FACE_CENTRE[1]]])


@pytest.fixture(scope="session")
def place(astronaut):
    """place(face_width, centre, size=(1280, 720)) -> (BGR canvas, expected face box [x, y, w, h])."""

    def _place(face_width: float, centre: tuple[float, float], size: tuple[int, int] = (1280, 720)):
        m = place_matrix(face_width, centre)
        src = astronaut
        if m[0, 0] < 0.5:  # shrink with a box filter first so small faces are not aliased
            src = cv2.resize(astronaut, None, fx=2 * m[0, 0], fy=2 * m[0, 0], interpolation=cv2.INTER_AREA)
            m = m.copy()
            m[:, :2] = np.eye(2) * 0.5
        canvas = cv2.warpAffine(src, m, size, flags=cv2.INTER_LINEAR, borderValue=(120, 110, 100))
        box = np.array([centre[0] - face_width / 2, centre[1] - face_width / 2, face_width, face_width])
        return canvas, box

    return _place


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two [x, y, w, h] boxes."""
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="session")
def box_iou():
    return iou
