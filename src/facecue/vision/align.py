"""Aligned face crops for the emotion classifier: a similarity warp that frames each face as FER2013 does.

The classifier is trained on FER2013's 48x48 grey crops, so at run time each face is rotated,
scaled and shifted so that its eye centres and mouth centre land where they sit, on average, in
FER2013's training faces.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecue.errors import FacecueError
from facecue.vision.detect import check_image, warp_crop
from facecue.vision.landmarks import FaceLandmarks

TEMPLATE_SIZE = 48
# Where the right eye, left eye and mouth centre sit in a 48x48 FER2013 crop (continuous pixel
# coordinates, (0, 0) = top-left corner). Measured by running our detector + FaceMesh on 1500
# random FER2013 training faces (each replicate-padded by 24 px and upscaled 4x; 928 gave one face
# with presence >= 0.9): mean eye-ring centres (15.3, 18.7) and (32.3, 18.4), inner-lip centre
# (24.0, 36.5), spread about 3 px; made left/right symmetric about x = 24 because training mirrors
# faces. Cross-checked on the mean of all 28,709 training faces, whose dark eye blobs centre on
# x = 14.5 and 32.5, y = 17.5 and whose mouth band lies at y = 37-39.
MESH_TEMPLATE = np.array([[15.5, 18.5], [32.5, 18.5], [24.0, 36.5]], np.float32)


def similarity_to_template(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """(N, 2, 3) least-squares similarity maps (rotation, uniform scale, shift) from template to image.

    points: (N, P, 2) image points matching the template's (P, 2). Closed form with complex numbers
    (image = a * template + b); unlike cv2.estimateAffinePartial2D's RANSAC it never drops one of
    only three points.
    """
    z = points[..., 0].astype(np.complex128) + 1j * points[..., 1]
    t = template[:, 0].astype(np.complex128) + 1j * template[:, 1]
    tc = t - t.mean()
    a = ((z - z.mean(1, keepdims=True)) * np.conj(tc)).sum(1) / (np.abs(tc) ** 2).sum()
    b = z.mean(1) - a * t.mean()
    return np.stack([np.stack([a.real, -a.imag, b.real], 1), np.stack([a.imag, a.real, b.imag], 1)], 1)


def _warp_grey(image: np.ndarray, points: np.ndarray, template: np.ndarray, size: int) -> np.ndarray:
    maps = similarity_to_template(points, template * (size / TEMPLATE_SIZE))
    crops = np.empty((len(maps), size, size), np.uint8)
    for i, crop_to_image in enumerate(maps):
        crops[i] = cv2.cvtColor(warp_crop(image, crop_to_image, size, size), cv2.COLOR_BGR2GRAY)
    return crops


def align_faces(image_bgr: np.ndarray, landmarks: FaceLandmarks, size: int = TEMPLATE_SIZE) -> np.ndarray:
    """(N, size, size) uint8 grey crops framed like FER2013, from the mesh's eye and mouth centres."""
    image = check_image(image_bgr)
    if size < 8:
        raise FacecueError(f"the aligned crop size must be at least 8 pixels, got {size}.")
    right, left = landmarks.eye_centres()
    points = np.stack([right, left, landmarks.mouth_centres()], axis=1)
    return _warp_grey(image, points, MESH_TEMPLATE, size)
