"""Face landmarks: MediaPipe's 468-point face mesh per detected face, its face-presence score and head pose.

Each face is cropped as MediaPipe's face_landmark_front graph does (a square 1.5x the detector's
box, rotated so the eyes are level), run through the mesh model with ai-edge-litert, and the
landmarks are mapped back to image pixels through the same transform.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecue.errors import FacecueError
from facecue.vision import models
from facecue.vision.detect import LEFT_EYE, RIGHT_EYE, FaceBoxes, check_image, warp_crop

NUM_LANDMARKS = 468
# Mesh indices. "Right"/"left" are the person's own sides (the right eye is on the viewer's left).
RIGHT_EYE_RING = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_RING = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
INNER_LIPS_RING = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, FOREHEAD, CHIN = 33, 263, 10, 152


@dataclass(frozen=True)
class FaceLandmarks:
    """Landmarks for N faces, in the order of the FaceBoxes they came from.

    points: (N, 468, 3) float32; x, y in image pixels ((0, 0) is the top-left corner of the image),
    z is depth in the same pixel scale, larger = farther from the camera, 0 near the head's centre.
    presence: (N,) float32 in 0..1, the mesh model's confidence that its crop holds a face.
    pose: (N, 3) float32 yaw, pitch, roll in degrees; 0, 0, 0 is a face looking straight at the camera.
    Yaw > 0: face turned towards the viewer's right (the person's left). Pitch > 0: face tilted up
    (chin raised). Roll > 0: head tilted clockwise as the viewer sees it.
    """

    points: np.ndarray
    presence: np.ndarray
    pose: np.ndarray

    def __post_init__(self) -> None:
        points = np.asarray(self.points, dtype=np.float32).reshape(-1, NUM_LANDMARKS, 3)
        presence = np.asarray(self.presence, dtype=np.float32).reshape(-1)
        pose = np.asarray(self.pose, dtype=np.float32).reshape(-1, 3)
        n = len(points)
        if presence.shape != (n,) or pose.shape != (n, 3):
            raise ValueError(f"presence must be ({n},) and pose ({n}, 3), got {presence.shape} and {pose.shape}")
        if n and (presence.min() < 0 or presence.max() > 1 or np.abs(pose).max() > 180):
            raise ValueError("presence must be in 0..1 and pose angles in -180..180 degrees")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "presence", presence)
        object.__setattr__(self, "pose", pose)

    def __len__(self) -> int:
        return len(self.points)

    @classmethod
    def empty(cls) -> FaceLandmarks:
        return cls(np.zeros((0, NUM_LANDMARKS, 3)), np.zeros(0), np.zeros((0, 3)))

    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) right-eye and (N, 2) left-eye centres in pixels (mean of each eye's contour)."""
        return self.points[:, RIGHT_EYE_RING, :2].mean(1), self.points[:, LEFT_EYE_RING, :2].mean(1)

    def mouth_centres(self) -> np.ndarray:
        """(N, 2) centres of the inner lip contour in pixels."""
        return self.points[:, INNER_LIPS_RING, :2].mean(1)


def head_pose(points: np.ndarray) -> np.ndarray:
    """(N, 3) yaw, pitch, roll in degrees from (N, 468, 3) mesh points (signs as in FaceLandmarks).

    The head's axes come straight from the mesh's own 3D points: x along the outer eye corners,
    y from forehead to chin, z their cross product (into the scene for a frontal face). No camera
    model is needed because the mesh's z shares the x/y pixel scale.
    """
    x_axis = points[:, LEFT_EYE_OUTER] - points[:, RIGHT_EYE_OUTER]
    down = points[:, CHIN] - points[:, FOREHEAD]
    x_axis /= np.linalg.norm(x_axis, axis=1, keepdims=True) + 1e-9
    z_axis = np.cross(x_axis, down)
    z_axis /= np.linalg.norm(z_axis, axis=1, keepdims=True) + 1e-9
    # The face looks along -z; yaw and pitch are that direction's angles, roll the eye line's slope on screen.
    yaw = np.degrees(np.arctan2(-z_axis[:, 0], z_axis[:, 2]))
    pitch = np.degrees(np.arctan2(z_axis[:, 1], np.hypot(z_axis[:, 0], z_axis[:, 2])))
    roll = np.degrees(np.arctan2(x_axis[:, 1], x_axis[:, 0]))
    return np.stack([yaw, pitch, roll], axis=1).astype(np.float32)


def face_rois(faces: FaceBoxes, scale: float = 1.5) -> np.ndarray:
    """(N, 2, 3) crop-to-image affine maps of MediaPipe's face ROI, for a unit-square crop.

    The ROI is a square of side `scale` x the box's longer side, centred on the box and rotated so
    that the line from the right to the left eye keypoint is horizontal (no rotation without keypoints).
    """
    centres = faces.boxes[:, :2] + faces.boxes[:, 2:] / 2
    sides = scale * faces.boxes[:, 2:].max(1)
    if faces.keypoints.shape[1] > LEFT_EYE:
        eye_line = faces.keypoints[:, LEFT_EYE] - faces.keypoints[:, RIGHT_EYE]
        angles = np.arctan2(eye_line[:, 1], eye_line[:, 0])
    else:
        angles = np.zeros(len(faces))
    cos, sin = np.cos(angles) * sides, np.sin(angles) * sides
    linear = np.stack([np.stack([cos, -sin], 1), np.stack([sin, cos], 1)], 1)  # (N, 2, 2)
    # Unit-square crop coordinates (0..1): its centre 0.5, 0.5 lands on the box centre.
    shift = centres - linear @ np.array([0.5, 0.5])
    return np.concatenate([linear, shift[:, :, None]], axis=2)


class FaceMesh:
    """MediaPipe's 468-point face-mesh model: `mesh(image_bgr, faces) -> FaceLandmarks`.

    threads: CPU threads for the interpreter. model_path: a .tflite file instead of the installed one.
    """

    name = "mediapipe-face-mesh"
    input_size = 192

    def __init__(self, threads: int = 1, model_path: str | Path | None = None) -> None:
        path = Path(model_path) if model_path else models.model_path("face_landmark")
        self.version = f"mediapipe-{models.load_manifest()['source']['version']}"
        self._interpreter = models.load_interpreter(path, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self._interpreter.get_output_details()}
        self._points, self._presence = outputs[NUM_LANDMARKS * 3], outputs[1]

    def __call__(self, image_bgr: np.ndarray, faces: FaceBoxes) -> FaceLandmarks:
        if not isinstance(faces, FaceBoxes):
            raise FacecueError(f"FaceMesh needs the FaceBoxes from a detector, got {type(faces).__name__}.")
        image = check_image(image_bgr)
        if not len(faces):
            return FaceLandmarks.empty()
        size = self.input_size
        rois = face_rois(faces)
        points = np.empty((len(faces), NUM_LANDMARKS, 3), np.float32)
        logits = np.empty(len(faces), np.float32)
        # One face at a time: the model's batch size is 1, and resizing it costs more than the loop.
        for i, roi in enumerate(rois):
            to_image = roi.copy()
            to_image[:, :2] /= size  # crop pixels -> unit square
            crop = warp_crop(image, to_image, size, size)
            # The mesh model wants RGB in 0..1 (MediaPipe's face_landmark_cpu graph).
            tensor = crop[None, :, :, ::-1].astype(np.float32) * (1.0 / 255.0)
            self._interpreter.set_tensor(self._input, tensor)
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._points).reshape(NUM_LANDMARKS, 3)
            points[i, :, :2] = raw[:, :2] @ to_image[:, :2].T + to_image[:, 2]
            points[i, :, 2] = raw[:, 2] * np.sqrt(abs(np.linalg.det(to_image[:, :2])))
            logits[i] = self._interpreter.get_tensor(self._presence).reshape(-1)[0]
        presence = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        return FaceLandmarks(points, presence, head_pose(points))
