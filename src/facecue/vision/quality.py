"""Face quality: is a face good enough to read an expression from? A 0..1 score and, when not, why.

Each check maps a measurement to a factor in 0..1: 0 at its hard threshold (the face abstains),
1 from its "good" level on, linear in between. The score is the product of the factors, so it is
0 exactly when some hard threshold fails, and several middling checks add up to a lower score.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facecue.abstain import Abstain, abstain_code, abstain_text
from facecue.errors import FacecueError
from facecue.vision.detect import FaceBoxes, check_image
from facecue.vision.landmarks import FaceLandmarks


@dataclass(frozen=True)
class QualityThresholds:
    """Hard limits (a face past one abstains) and the levels from which a check counts as fully good.

    Sizes are detector box widths in image pixels: a 40 px face fills the 48 px aligned crop at
    about its own resolution. Brightness and contrast are the mean and standard deviation of the
    aligned grey crop (0..255). Sharpness is the variance of the crop's Laplacian divided by the
    crop's variance (so contrast does not count): the astronaut test photo's face gives 0.32, 0.07
    after a 2 px Gaussian blur of the 106 px face, 0.02 after a 4 px one. Angles are in degrees.
    """

    min_presence: float = 0.5  # mesh face-presence score
    good_presence: float = 0.9
    max_outside: float = 0.4  # fraction of the box beyond the frame edge
    min_face_px: float = 40.0
    good_face_px: float = 80.0
    max_yaw: float = 45.0
    good_yaw: float = 15.0
    max_pitch: float = 35.0
    good_pitch: float = 10.0
    min_brightness: float = 40.0
    max_brightness: float = 225.0
    good_brightness: tuple[float, float] = (70.0, 190.0)
    min_contrast: float = 12.0
    good_contrast: float = 30.0
    min_sharpness: float = 0.05
    good_sharpness: float = 0.2

    def __post_init__(self) -> None:
        pairs = [
            (self.min_presence, self.good_presence),
            (self.min_face_px, self.good_face_px),
            (self.good_yaw, self.max_yaw),
            (self.good_pitch, self.max_pitch),
            (self.min_brightness, self.good_brightness[0]),
            (self.good_brightness[0], self.good_brightness[1]),
            (self.good_brightness[1], self.max_brightness),
            (self.min_contrast, self.good_contrast),
            (self.min_sharpness, self.good_sharpness),
        ]
        if any(not lo < hi for lo, hi in pairs) or not 0 < self.max_outside <= 1:
            raise FacecueError("each quality threshold must lie below its 'good' level (and max_outside in 0..1].")


@dataclass(frozen=True)
class FaceQuality:
    """Per-face quality. score: (N,) float32 in 0..1. reasons: one per face, None when the face is usable,
    else a short reason it abstains, e.g. "face too small (31 px)"."""

    score: np.ndarray
    reasons: tuple[str | None, ...]

    def __post_init__(self) -> None:
        score = np.asarray(self.score, dtype=np.float32).reshape(-1)
        if len(self.reasons) != len(score):
            raise ValueError(f"need one reason per face: {len(score)} scores, {len(self.reasons)} reasons")
        if len(score) and (score.min() < 0 or score.max() > 1):
            raise ValueError("quality scores must be in 0..1")
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "reasons", tuple(self.reasons))

    def __len__(self) -> int:
        return len(self.score)

    @property
    def codes(self) -> tuple[Abstain | None, ...]:
        """Per face the reason's code (facecue.abstain), None when the face is usable."""
        return tuple(abstain_code(r) for r in self.reasons)

    @property
    def usable(self) -> np.ndarray:
        """(N,) bool: faces that passed every hard threshold."""
        return np.array([r is None for r in self.reasons], dtype=bool)


def _ramp(value: np.ndarray, zero: float, one: float) -> np.ndarray:
    """0 at `zero` (and beyond it), 1 at `one` (and beyond), linear in between."""
    return np.clip((value - zero) / (one - zero), 0.0, 1.0)


def crop_stats(aligned: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N,) brightness, contrast and sharpness of (N, S, S) uint8 grey crops (see QualityThresholds)."""
    pixels = aligned.reshape(len(aligned), -1).astype(np.float32)
    brightness, contrast = pixels.mean(1), pixels.std(1)
    laplacian = np.array([cv2.Laplacian(crop, cv2.CV_32F).var() for crop in aligned], np.float32).reshape(-1)
    return brightness, contrast, laplacian / np.maximum(contrast, 1.0) ** 2


def assess_quality(
    image_bgr: np.ndarray,
    faces: FaceBoxes,
    landmarks: FaceLandmarks | None,
    aligned: np.ndarray,
    thresholds: QualityThresholds = QualityThresholds(),
) -> FaceQuality:
    """Score every face. `landmarks` may be None (no mesh run): presence and pose are then not checked.

    The first failing check, in the order presence, frame edge, size, pose, light, contrast, blur,
    gives the face's reason.
    """
    image = check_image(image_bgr)
    n = len(faces)
    if len(aligned) != n or (landmarks is not None and len(landmarks) != n):
        raise FacecueError(
            f"faces, landmarks and aligned crops must match: {n}, "
            f"{len(landmarks) if landmarks is not None else '-'}, {len(aligned)}."
        )
    if n == 0:
        return FaceQuality(np.zeros(0), ())
    t = thresholds
    x, y, w, h = faces.boxes.T
    inside_w = np.clip(np.minimum(x + w, image.shape[1]) - np.maximum(x, 0), 0, None)
    inside_h = np.clip(np.minimum(y + h, image.shape[0]) - np.maximum(y, 0), 0, None)
    outside = 1.0 - inside_w * inside_h / np.maximum(w * h, 1e-6)
    brightness, contrast, sharpness = crop_stats(np.asarray(aligned))

    # (factor, failed, reason) per check, in reporting order.
    checks = []
    if landmarks is not None:
        presence, yaw, pitch = landmarks.presence, landmarks.pose[:, 0], landmarks.pose[:, 1]
        checks.append(
            (
                _ramp(presence, t.min_presence, t.good_presence),
                presence < t.min_presence,
                lambda i: abstain_text(Abstain.NOT_VISIBLE, f"mesh presence {presence[i]:.1f}"),
            )
        )
    checks += [
        (
            1.0 - _ramp(outside, 0.0, t.max_outside),
            outside > t.max_outside,
            lambda i: abstain_text(Abstain.CUT_OFF, f"{outside[i]:.0%} outside"),
        ),
        (
            _ramp(w, t.min_face_px, t.good_face_px),
            w < t.min_face_px,
            lambda i: abstain_text(Abstain.TOO_SMALL, f"{w[i]:.0f} px"),
        ),
    ]
    if landmarks is not None:
        checks += [
            (
                _ramp(np.abs(yaw), t.max_yaw, t.good_yaw),
                np.abs(yaw) > t.max_yaw,
                lambda i: abstain_text(Abstain.HEAD_TURNED, f"yaw {yaw[i]:.0f}°"),
            ),
            (
                _ramp(np.abs(pitch), t.max_pitch, t.good_pitch),
                np.abs(pitch) > t.max_pitch,
                lambda i: abstain_text(Abstain.HEAD_TILTED, f"pitch {pitch[i]:.0f}°"),
            ),
        ]
    checks += [
        (
            np.minimum(
                _ramp(brightness, t.min_brightness, t.good_brightness[0]),
                _ramp(brightness, t.max_brightness, t.good_brightness[1]),
            ),
            brightness < t.min_brightness,
            lambda i: abstain_text(Abstain.TOO_DARK),
        ),
        (np.ones(n), brightness > t.max_brightness, lambda i: abstain_text(Abstain.TOO_BRIGHT)),
        (
            _ramp(contrast, t.min_contrast, t.good_contrast),
            contrast < t.min_contrast,
            lambda i: abstain_text(Abstain.LOW_CONTRAST),
        ),
        (
            _ramp(sharpness, t.min_sharpness, t.good_sharpness),
            sharpness < t.min_sharpness,
            lambda i: abstain_text(Abstain.BLURRED),
        ),
    ]

    score = np.prod([factor for factor, _, _ in checks], axis=0)
    reasons = []
    for i in range(n):
        failed = next((reason for _, fails, reason in checks if fails[i]), None)
        reasons.append(failed(i) if failed else None)
    # Floating-point ramps can leave a hair above 0 at a threshold: an abstaining face scores 0.
    score = np.where([r is None for r in reasons], score, 0.0)
    return FaceQuality(score.astype(np.float32), tuple(reasons))
