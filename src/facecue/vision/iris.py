"""Irises: MediaPipe's iris-landmark model on two eye crops per face, placed by the 468-point mesh.

Why this model and not `face_landmark_with_attention.tflite` (the 478-point mesh with irises): the
attention mesh needs three MediaPipe custom ops (Landmarks2TransformMatrix, TransformLandmarks,
TransformTensorBilinear) that ai-edge-litert does not have, so it cannot run without the mediapipe runtime
itself; in that runtime it cost 0.7-1.5 ms more per face than the plain mesh on this machine. The iris
model runs as it is: two 64x64 crops per face, about 0.65 ms each (docs/SIGNALS.md, "Gaze").

The crops follow MediaPipe's iris_landmark_left_and_right graph: a square of 2.3x the distance between an
eye's two corners, centred on them and rotated so the corner line is level; the model knows one eye only,
so the other eye's crop is mirrored in and its points mirrored back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facecue.vision import models
from facecue.vision.detect import check_image, warp_crop
from facecue.vision.landmarks import NUM_LANDMARKS

# Mesh corners of each eye, viewer's left corner first: the person's right eye (33 outer, 133 inner), then
# the left eye (362 inner, 263 outer). MediaPipe calls the first one the "left" eye (as the viewer sees it).
EYE_CORNERS = ((33, 133), (362, 263))
CROP_SCALE = 2.3  # crop side / corner distance (MediaPipe's IrisLandmarkLandmarksToRoi)
INPUT_SIZE = 64
NUM_IRIS = 5  # centre, then four points on the iris edge
NUM_CONTOUR = 71  # eye outline (its first 16 points), lashes and brow
# In the eye outline: the two corners and the middle of the lower and upper lids (mesh 33, 133, 145, 159).
CORNER_A, CORNER_B, LOWER_LID, UPPER_LID = 0, 8, 4, 12


@dataclass(frozen=True)
class Irises:
    """Both irises of N faces, in image pixels; eye 0 is the person's right eye (viewer's left), eye 1 the left.

    centres: (N, 2, 2) x, y of each iris centre. radii: (N, 2) mean distance from the centre to the four
    edge points. corners: (N, 2, 2, 2) the two mesh corners of each eye the crop was placed on (viewer's left
    corner first).
    """

    centres: np.ndarray
    radii: np.ndarray
    openness: np.ndarray
    corners: np.ndarray

    def __len__(self) -> int:
        return len(self.centres)


def eye_rois(points: np.ndarray) -> np.ndarray:
    """(N, 468, 3) mesh -> (N, 2, 2, 3) crop-to-image affine maps of both eye crops, for a unit-square crop."""
    corners = points[:, list(EYE_CORNERS), :2].astype(np.float64)  # (N, 2 eyes, 2 corners, 2)
    a, b = corners[:, :, 0], corners[:, :, 1]
    centres = (a + b) / 2
    line = b - a
    side = CROP_SCALE * np.linalg.norm(line, axis=-1)
    angle = np.arctan2(line[..., 1], line[..., 0])
    cos, sin = np.cos(angle) * side, np.sin(angle) * side
    linear = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # (N, 2, 2, 2)
    shift = centres - linear @ np.array([0.5, 0.5])
    return np.concatenate([linear, shift[..., None]], axis=-1)


class IrisModel:
    """MediaPipe's iris-landmark model: `irises(image_bgr, points) -> Irises` for the (N, 468, 3) meshes of N faces.

    threads: CPU threads for the interpreter. model_path: a .tflite file instead of the installed one.
    """

    name = "mediapipe-iris-landmark"

    def __init__(self, threads: int = 1, model_path: str | Path | None = None) -> None:
        path = Path(model_path) if model_path else models.model_path("iris_landmark")
        self.version = f"mediapipe-{models.load_manifest()['source']['version']}"
        self._interpreter = models.load_interpreter(path, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {int(np.prod(d["shape"])): d["index"] for d in self._interpreter.get_output_details()}
        self._iris, self._contour = outputs[NUM_IRIS * 3], outputs[NUM_CONTOUR * 3]

    def __call__(self, image_bgr: np.ndarray, points: np.ndarray) -> Irises:
        image = check_image(image_bgr)
        points = np.asarray(points, np.float32).reshape(-1, NUM_LANDMARKS, 3)
        n = len(points)
        centres = np.zeros((n, 2, 2), np.float32)
        radii = np.zeros((n, 2), np.float32)
        openness = np.zeros((n, 2), np.float32)
        rois = eye_rois(points)
        flip = np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # x -> 1 - x on the unit square
        for i in range(n):
            for eye in range(2):
                to_image = rois[i, eye]
                if eye == 1:  # the model was trained on the viewer's-left eye: mirror the other one into it
                    to_image = to_image @ flip
                to_pixels = to_image.copy()
                to_pixels[:, :2] /= INPUT_SIZE
                crop = warp_crop(image, to_pixels, INPUT_SIZE, INPUT_SIZE)
                # RGB in 0..1, as MediaPipe's iris_landmark_cpu graph feeds it (zero_center: false).
                tensor = crop[None, :, :, ::-1].astype(np.float32) * (1.0 / 255.0)
                self._interpreter.set_tensor(self._input, tensor)
                self._interpreter.invoke()
                raw = self._interpreter.get_tensor(self._iris).reshape(NUM_IRIS, 3)[:, :2]
                iris = raw @ to_pixels[:, :2].T + to_pixels[:, 2]  # crop pixels -> image pixels
                centres[i, eye] = iris[0]
                radii[i, eye] = np.linalg.norm(iris[1:] - iris[0], axis=1).mean()
                # The crop is a similarity map: ratios of distances are the same in crop and image pixels.
                c = self._interpreter.get_tensor(self._contour).reshape(NUM_CONTOUR, 3)[:, :2]
                gap = np.linalg.norm(c[UPPER_LID] - c[LOWER_LID])
                openness[i, eye] = gap / (np.linalg.norm(c[CORNER_B] - c[CORNER_A]) + 1e-6)
        corners = points[:, list(EYE_CORNERS), :2]
        return Irises(centres, radii, openness, corners)
