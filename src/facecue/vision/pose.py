"""Body landmarks: MediaPipe's 33-point pose-landmark model ("full"), run on a body crop placed from the face box.

MediaPipe finds the body with its own SSD pose detector (`pose_detection.tflite`) and crops a square around the
hips. We place that square from the face box instead, for two reasons measured on the development clips:
- the crop the detector would give is a fixed shape of the face box: on 186 frames of 42 clips its centre lies
  3.40 face-box widths below the face centre (10th-90th percentile 2.97-3.70, sideways -0.58..0.48) and its
  side is 10.6 widths (9.4-11.6); the landmarks from both crops agree within about 0.1 face widths at the
  shoulders, with the same landmark-presence scores;
- the body read is then by construction the body of the face we track (no body-to-face matching), and the
  detector's ~8 ms per frame is saved (the landmark model takes ~17 ms per crop on one core here).
The crop turns with the eye line, so a tilted frame gives the model an upright body, as MediaPipe's does.
So `facecue setup` installs only the landmark model; the detector (same wheel, SSD anchors: 5 layers, strides
8, 16, 32, 32, 32, 2254 boxes of 12 values, input 224 px in -1..1) was decoded only to measure the crop above.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from facecue.errors import FacecueError
from facecue.vision import models
from facecue.vision.detect import LEFT_EYE, RIGHT_EYE, FaceBoxes, check_image, warp_crop

NUM_POINTS = 33  # the model also gives 6 auxiliary points (its own next crop), which we do not use
# Pose landmark indices; "left"/"right" are the person's own sides (their left shoulder is on the viewer's right).
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 11, 12
LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST, RIGHT_WRIST = 13, 14, 15, 16
HAND_POINTS = (15, 16, 17, 18, 19, 20, 21, 22)  # wrists, pinky, index and thumb knuckles of both hands
UPPER_BODY = (11, 12, 13, 14, *HAND_POINTS)  # shoulders, elbows, hands: what moves when a seated person fidgets

# The body crop from the face box (see the module docstring): centre below the face centre, side, in box widths.
BODY_BELOW_FACE, BODY_SIDE = 3.40, 10.6


@dataclass(frozen=True)
class BodyLandmarks:
    """Body landmarks of N faces' bodies, in the order of the FaceBoxes they came from.

    points: (N, 33, 2) float32 x, y in image pixels (they may lie outside the image: the model places
    points it cannot see). visibility: (N, 33) 0..1, the model's confidence that the point is in view and
    not hidden. presence: (N, 33) 0..1, its confidence that the point lies inside the image at all.
    score: (N,) 0..1, its confidence that the crop holds a body.
    """

    points: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.points)

    @classmethod
    def empty(cls) -> BodyLandmarks:
        return cls(np.zeros((0, NUM_POINTS, 2), np.float32), *(np.zeros((0, NUM_POINTS), np.float32),) * 2, np.zeros(0))

    def seen(self, threshold: float = 0.5) -> np.ndarray:
        """(N, 33) bool: the point is both inside the image and not hidden, by the model's own scores."""
        return (self.visibility >= threshold) & (self.presence >= threshold)


def body_rois(faces: FaceBoxes) -> np.ndarray:
    """(N, 2, 3) crop-to-image affine maps of the body crop, for a unit-square crop: a square BODY_SIDE face-box
    widths wide, BODY_BELOW_FACE widths below the face centre, turned with the eye line (upright without keypoints)."""
    centres = faces.boxes[:, :2] + faces.boxes[:, 2:] / 2
    widths = faces.boxes[:, 2]
    if faces.keypoints.shape[1] > LEFT_EYE:
        eye_line = faces.keypoints[:, LEFT_EYE] - faces.keypoints[:, RIGHT_EYE]
        angles = np.arctan2(eye_line[:, 1], eye_line[:, 0])
    else:
        angles = np.zeros(len(faces))
    down = np.stack([-np.sin(angles), np.cos(angles)], axis=1)  # the head's downward direction on screen
    body_centres = centres + BODY_BELOW_FACE * widths[:, None] * down
    sides = BODY_SIDE * widths
    cos, sin = np.cos(angles) * sides, np.sin(angles) * sides
    linear = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)
    shift = body_centres - linear @ np.array([0.5, 0.5])
    return np.concatenate([linear, shift[:, :, None]], axis=2)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -100.0, 100.0)))


class BodyPose:
    """MediaPipe's pose-landmark model: `pose(image_bgr, faces) -> BodyLandmarks`, one body per face box.

    threads: CPU threads for the interpreter. model_path: a .tflite file instead of the installed one.
    """

    name = "mediapipe-pose-landmark-full"
    input_size = 256

    def __init__(self, threads: int = 1, model_path: str | Path | None = None) -> None:
        path = Path(model_path) if model_path else models.model_path("pose_landmark_full")
        self.version = f"mediapipe-{models.load_manifest()['source']['version']}"
        self._interpreter = models.load_interpreter(path, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        # Outputs by size: 39 points x (x, y, z, visibility, presence) in input pixels and logits; the body
        # score (already 0..1); a segmentation mask, a heatmap and world coordinates, which we do not use
        # (MediaPipe's heatmap refinement of x, y did not change shoulder_tilt's error under known rotations
        # here: median 2.0° vs 1.8°, 35 rotated frames, so it is left out).
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self._interpreter.get_output_details()}
        self._points, self._score = outputs[39 * 5], outputs[1]

    def __call__(self, image_bgr: np.ndarray, faces: FaceBoxes) -> BodyLandmarks:
        if not isinstance(faces, FaceBoxes):
            raise FacecueError(f"BodyPose needs the FaceBoxes from a detector, got {type(faces).__name__}.")
        image = check_image(image_bgr)
        n, size = len(faces), self.input_size
        if not n:
            return BodyLandmarks.empty()
        points = np.empty((n, NUM_POINTS, 2), np.float32)
        visibility = np.empty((n, NUM_POINTS), np.float32)
        presence = np.empty((n, NUM_POINTS), np.float32)
        score = np.empty(n, np.float32)
        for i, roi in enumerate(body_rois(faces)):
            to_image = roi.copy()
            to_image[:, :2] /= size
            # Black outside the image, as MediaPipe pads: the crop usually reaches past the frame's bottom edge,
            # and replicated edge pixels would look like more body.
            crop = warp_crop(image, to_image, size, size, border=cv2.BORDER_CONSTANT)
            self._interpreter.set_tensor(self._input, crop[None, :, :, ::-1].astype(np.float32) * (1.0 / 255.0))
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._points).reshape(-1, 5)[:NUM_POINTS]
            points[i] = raw[:, :2] @ to_image[:, :2].T + to_image[:, 2]
            visibility[i], presence[i] = _sigmoid(raw[:, 3]), _sigmoid(raw[:, 4])
            score[i] = float(self._interpreter.get_tensor(self._score).reshape(-1)[0])
        return BodyLandmarks(points, visibility, presence, np.clip(score, 0.0, 1.0))
