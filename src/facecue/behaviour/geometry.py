"""Raw facial geometry from the 468-point mesh, in the head's own frame and in inter-ocular units.

Every distance here is taken after rotating the mesh into the head's frame (x along the outer eye
corners, y from forehead to chin, z their cross product) and dividing by the 3D distance between the
outer eye corners, so that the numbers do not change with head size, distance to the camera or a
moderate head turn. The mesh's z shares the x/y pixel scale, which is what makes the 3D distances valid.
"""

from __future__ import annotations

import numpy as np

from facecue.vision.landmarks import CHIN, FOREHEAD, LEFT_EYE_OUTER, RIGHT_EYE_OUTER

# Mesh indices ("right"/"left" are the person's own sides).
# Six-point eye outlines for the eye aspect ratio: outer corner, two upper-lid points, inner corner, two lower.
RIGHT_EYE_6 = (33, 160, 158, 133, 153, 144)
LEFT_EYE_6 = (263, 387, 385, 362, 380, 373)
RIGHT_BROW = (70, 63, 105, 66, 107)  # upper edge of the right eyebrow, outer to inner
LEFT_BROW = (300, 293, 334, 296, 336)
EYE_CORNERS = (33, 133, 263, 362)  # outer and inner corners of both eyes
RIGHT_INNER_BROW, LEFT_INNER_BROW = 107, 336
MOUTH_RIGHT, MOUTH_LEFT = 61, 291  # mouth corners
UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM = 0, 13, 14, 17
NOSE_TIP = 1

RAW_FEATURES = ("ear", "mouth_width", "corner_lift", "mouth_gap", "lip_thickness", "brow_height", "inner_brow_gap")


def head_frame(points: np.ndarray) -> np.ndarray:
    """(N, 468, 3) mesh points -> the same points in the head's frame, origin at the nose tip, unit = eye span."""
    x_axis = points[:, LEFT_EYE_OUTER] - points[:, RIGHT_EYE_OUTER]
    span = np.linalg.norm(x_axis, axis=1, keepdims=True) + 1e-9
    x_axis = x_axis / span
    down = points[:, CHIN] - points[:, FOREHEAD]
    y_axis = down - (down * x_axis).sum(1, keepdims=True) * x_axis  # Gram-Schmidt: y exactly perpendicular to x
    y_axis /= np.linalg.norm(y_axis, axis=1, keepdims=True) + 1e-9
    z_axis = np.cross(x_axis, y_axis)
    rotation = np.stack([x_axis, y_axis, z_axis], axis=1)  # (N, 3, 3): rows are the head's axes
    centred = points - points[:, NOSE_TIP : NOSE_TIP + 1]
    return np.einsum("nij,npj->npi", rotation, centred) / span[:, :, None]


def _dist(p: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(p[:, a] - p[:, b], axis=1)


def eye_aspect_ratio(p: np.ndarray, eye: tuple[int, ...]) -> np.ndarray:
    """Soukupova & Cech (2016): (|p2-p6| + |p3-p5|) / (2 |p1-p4|); about 0.3 open, under 0.15 closed."""
    return (_dist(p, eye[1], eye[5]) + _dist(p, eye[2], eye[4])) / (2 * _dist(p, eye[0], eye[3]) + 1e-9)


def raw_features(points: np.ndarray) -> dict[str, np.ndarray]:
    """Per face, the geometric quantities the facial actions are scaled from (RAW_FEATURES, each (N,)).

    ear: mean eye aspect ratio of both eyes. mouth_width: corner-to-corner distance. corner_lift: how far
    the mouth corners sit above the midpoint of the inner lips (y points down, so positive = corners up).
    mouth_gap: inner upper to inner lower lip. lip_thickness: red of both lips (outer minus inner edges).
    brow_height: eyebrows' upper edge above the line of the eye corners. inner_brow_gap: between the inner
    brow ends (a frown draws them together).
    """
    p = head_frame(np.asarray(points, np.float64))
    y = p[:, :, 1]
    lip_mid_y = (y[:, UPPER_LIP_INNER] + y[:, LOWER_LIP_INNER]) / 2
    # Measured from the eye corners, not the upper lids: lids rise as eyes widen, which would hide a brow raise.
    brows = y[:, list(EYE_CORNERS)].mean(1) - y[:, list(RIGHT_BROW + LEFT_BROW)].mean(1)
    return {
        "ear": (eye_aspect_ratio(p, RIGHT_EYE_6) + eye_aspect_ratio(p, LEFT_EYE_6)) / 2,
        "mouth_width": _dist(p, MOUTH_RIGHT, MOUTH_LEFT),
        "corner_lift": lip_mid_y - (y[:, MOUTH_RIGHT] + y[:, MOUTH_LEFT]) / 2,
        "mouth_gap": _dist(p, UPPER_LIP_INNER, LOWER_LIP_INNER),
        "lip_thickness": _dist(p, UPPER_LIP_TOP, UPPER_LIP_INNER) + _dist(p, LOWER_LIP_INNER, LOWER_LIP_BOTTOM),
        "brow_height": brows,
        "inner_brow_gap": _dist(p, RIGHT_INNER_BROW, LEFT_INNER_BROW),
    }
