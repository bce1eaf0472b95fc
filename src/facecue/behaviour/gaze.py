"""Where a face looks, from its head pose and the irises within its eyes: gaze angles and eye contact.

Each eye is a ball turning about a centre that is fixed in the head. Its centre sits at the midpoint of the
eye's two mesh corners, moved along the head's axes by constants in eye widths (the 3D corner distance),
and the iris centre lies one rotation radius from it along the gaze. In the image (the mesh is a
weak-perspective model: x, y in pixels and z in the same scale) the iris offset from the projected centre,
divided by the radius, gives the gaze direction's x and y; its z is the rest of a unit vector, towards the
camera. The mesh's head pose, and so this gaze, is relative to the line from the camera to the face: a
person who looks into the lens reads (0, 0) wherever they sit in the picture.

No emotion or trait is read here: only the direction of the eyes.
"""

from __future__ import annotations

import numpy as np

from facecue.vision.iris import EYE_CORNERS, Irises
from facecue.vision.landmarks import CHIN, FOREHEAD, LEFT_EYE_OUTER, RIGHT_EYE_OUTER

# Eyeball geometry in eye widths (corner-to-corner distance, about 29 mm in adults). The rotation radius of
# the iris centre is about 10 mm (Gullstrand's schematic eye: centre of rotation 13.5 mm behind the cornea's
# apex, iris plane about 3.5 mm behind it), so 10 / 29.
RADIUS = 0.35
# Where the centre of rotation sits from the corners' midpoint, along the head's forward axis (towards the
# camera) and its downward axis. Fitted per clip on the talking-head clips whose speakers address the camera
# (bench/gaze_clips.py --fit; docs/SIGNALS.md, "Gaze"): forward spread -0.06..+0.13 around a median of about 0,
# down -0.08..+0.02 around -0.04 (the iris rests a little above the corner line; how far varies with the lids).
CENTRE_FORWARD = 0.0
CENTRE_DOWN = -0.04
# Eye contact: a logistic of how far the gaze is off the line to the camera. EYE_CONTACT_DEG is the distance
# read as 50%: about 5 degrees of human sensitivity to being looked at (the "cone of gaze" is about +-4-5
# degrees, Gamer & Hecht 2007) plus about 5 degrees of error of gaze read from webcam irises. EYE_CONTACT_SCALE
# sets how fast it falls: 20% at +4 degrees, 4% at +10. Vertical gaze is read less surely (the iris's resting
# height varies with the lids: speakers who address the camera read pitch medians spread about 5.5 degrees
# against 3 for yaw), so pitch counts PITCH_WEIGHT (3 / 5.5) as much as yaw in that distance.
EYE_CONTACT_DEG = 10.0
EYE_CONTACT_SCALE = 3.0
PITCH_WEIGHT = 0.55
MIN_EYE_WIDTH_PX = 12.0  # narrower eyes give an iris of about 5 px: too few pixels to place its centre
# Either eye's lids closer than this (gap over corner distance, from the iris model's own outline) and the
# irises are not read: open eyes read 0.25-0.5 on the development clips, closed or blinking ones 0.10-0.17
# (one eye of a closed pair read 0.23, and then a 36-degree gaze). The mesh's eyes_closed score alone missed
# closed eyes there (0.12 on a closed pair), so both are asked. Eyes lowered far (reading notes) can narrow
# below it too: such frames are unread, not counted as looking away.
MIN_OPENNESS = 0.18
CLOSED_AT = 0.5  # eyes_closed score from which the lids cover the iris


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-9)


def gaze_vectors(points: np.ndarray, irises: Irises) -> tuple[np.ndarray, np.ndarray]:
    """(N, 468, 3) mesh and the irises -> per eye (N, 2, 3) unit gaze vectors in camera axes (x right, y down,
    z away from the camera; a look into the lens is (0, 0, -1)), NaN where an iris lies outside its eyeball,
    and (N, 2) each eye's width in image pixels."""
    p = np.asarray(points, np.float64)
    x_axis = _unit(p[:, LEFT_EYE_OUTER] - p[:, RIGHT_EYE_OUTER])
    down = p[:, CHIN] - p[:, FOREHEAD]
    down = _unit(down - (down * x_axis).sum(-1, keepdims=True) * x_axis)
    forward = -np.cross(x_axis, down)  # the face's own direction, towards the camera for a frontal face
    corners = p[:, list(EYE_CORNERS)]  # (N, 2, 2, 3)
    width = np.linalg.norm(corners[:, :, 1] - corners[:, :, 0], axis=-1)  # (N, 2), 3D
    centre = corners.mean(2) + width[..., None] * (CENTRE_FORWARD * forward[:, None] + CENTRE_DOWN * down[:, None])
    g_xy = (irises.centres - centre[..., :2]) / (RADIUS * width[..., None])
    r2 = (g_xy**2).sum(-1)
    g = np.concatenate([g_xy, -np.sqrt(np.clip(1 - r2, 0, None))[..., None]], axis=-1)
    g[r2 > 1] = np.nan
    width_px = np.linalg.norm(corners[:, :, 1, :2] - corners[:, :, 0, :2], axis=-1)
    return g, width_px


def angles(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit gaze vectors -> gaze yaw and pitch in degrees, signed as the head pose (yaw > 0 towards the viewer's
    right, pitch > 0 up)."""
    yaw = np.degrees(np.arctan2(g[..., 0], -g[..., 2]))
    pitch = np.degrees(np.arctan2(-g[..., 1], np.hypot(g[..., 0], g[..., 2])))
    return yaw, pitch


def eye_contact(gaze_yaw: np.ndarray, gaze_pitch: np.ndarray) -> np.ndarray:
    """Gaze angles in degrees -> probability of looking at the camera (the logistic above)."""
    off_axis = np.hypot(gaze_yaw, PITCH_WEIGHT * gaze_pitch)
    return 1.0 / (1.0 + np.exp((off_axis - EYE_CONTACT_DEG) / EYE_CONTACT_SCALE))


def measure_gaze(points: np.ndarray, irises: Irises, eyes_closed: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Gaze of N faces whose mesh is readable: ((N, 3) gaze_yaw, gaze_pitch, eye_contact, NaN where not read;
    per face the reason the irises were not read, "" when they were). eyes_closed: (N,) the 0..1 score."""
    n = len(points)
    out = np.full((n, 3), np.nan, np.float32)
    reasons = [""] * n
    if n == 0:
        return out, ()
    g, width_px = gaze_vectors(points, irises)
    usable = (width_px >= MIN_EYE_WIDTH_PX) & ~np.isnan(g).any(-1)  # (N, 2) per eye
    for i in range(n):
        if eyes_closed[i] >= CLOSED_AT or irises.openness[i].min() < MIN_OPENNESS:
            reasons[i] = "eyes closed: no iris to read the gaze from"
        elif width_px[i].max() < MIN_EYE_WIDTH_PX:
            reasons[i] = f"eyes too small to read the irises ({width_px[i].max():.0f} px wide)"
        elif not usable[i].any():
            reasons[i] = "iris not found inside the eye: gaze not read"
    ok = np.array([not r for r in reasons], bool)
    if ok.any():
        # The usable eyes, each weighted by its width on screen: with the head turned the far eye is foreshortened.
        w = (width_px * usable)[ok][..., None]
        mean = _unit((np.nan_to_num(g[ok]) * w).sum(1))
        yaw, pitch = angles(mean)
        out[ok] = np.stack([yaw, pitch, eye_contact(yaw, pitch)], axis=1)
    return out, tuple(reasons)
