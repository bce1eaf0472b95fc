"""Face detection: boxes, scores and keypoints for every face in a BGR frame.

The default backend is MediaPipe's BlazeFace full-range model run with ai-edge-litert and
our own pre/post-processing (letterbox, SSD anchors, decoding, weighted NMS), mirroring
MediaPipe's `face_detection_full_range.pbtxt` options. `DlibDetector` is an independent
fallback (HOG, frontal faces) behind the same `FaceDetector` protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from facecue.errors import FacecueError, InputError, ModelError
from facecue.vision import models

# BlazeFace keypoint order. "Right"/"left" are the person's own sides, so in an unmirrored
# frontal image the right eye is on the viewer's LEFT (smaller x) and the left eye on the viewer's right.
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_centre", "right_ear", "left_ear")
RIGHT_EYE, LEFT_EYE, NOSE_TIP, MOUTH_CENTRE = 0, 1, 2, 3


@dataclass(frozen=True)
class FaceBoxes:
    """Faces found in one image, as arrays.

    boxes: (N, 4) float32 [x, y, w, h] in pixels (may reach past the image border for cut-off faces).
    scores: (N,) float32 detector confidence in 0..1.
    keypoints: (N, K, 2) float32 [x, y] in pixels; K = 6 in KEYPOINT_NAMES order for BlazeFace, 0 when a
    backend gives none.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        keypoints = np.asarray(self.keypoints, dtype=np.float32)
        n = len(boxes)
        if keypoints.ndim != 3 or keypoints.shape[0] != n or keypoints.shape[2] != 2:
            raise ValueError(f"keypoints must be ({n}, K, 2), got {keypoints.shape}")
        if scores.shape != (n,):
            raise ValueError(f"scores must be ({n},), got {scores.shape}")
        if not (np.isfinite(boxes).all() and np.isfinite(keypoints).all()):
            raise ValueError("boxes and keypoints must be finite")
        if n and ((boxes[:, 2:] < 0).any() or scores.min() < 0 or scores.max() > 1):
            raise ValueError("box sizes must be >= 0 and scores in 0..1")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "keypoints", keypoints)

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def empty(cls, k: int = len(KEYPOINT_NAMES)) -> FaceBoxes:
        return cls(np.zeros((0, 4)), np.zeros(0), np.zeros((0, k, 2)))


@runtime_checkable
class FaceDetector(Protocol):
    """A face-detection backend: `detect(image_bgr) -> FaceBoxes`, plus its name and version for result records."""

    name: str
    version: str

    def detect(self, image_bgr: np.ndarray) -> FaceBoxes: ...


def check_image(image: np.ndarray) -> np.ndarray:
    """The image as a contiguous (H, W, 3) uint8 BGR array; raises InputError for anything else."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise InputError(f"expected an (H, W, 3) uint8 BGR image, got {got}.")
    if min(image.shape[:2]) < 1:
        raise InputError(f"the image is empty ({image.shape[1]}x{image.shape[0]} pixels).")
    return np.ascontiguousarray(image)


def ssd_anchors(input_size: int = 192, stride: int = 4) -> np.ndarray:
    """(M, 2) anchor centres in 0..1 for the full-range model: one layer, stride 4, one fixed-size anchor per cell
    (MediaPipe's SsdAnchorsCalculator with num_layers=1, aspect_ratios=[1.0], fixed_anchor_size=true)."""
    cells = input_size // stride
    grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
    ys, xs = np.meshgrid(grid, grid, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, iou_threshold: float, max_faces: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's weighted non-maximum suppression on corner boxes (N, 4) [x0, y0, x1, y1].

    The best remaining box gathers every box overlapping it by more than `iou_threshold` (itself
    included); the output box and keypoints are their score-weighted mean and keep the best score.
    Blending the many overlapping anchor predictions steadies boxes from frame to frame.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.arange(len(boxes))
    out_boxes: list[np.ndarray] = []
    out_scores: list[float] = []
    out_kps: list[np.ndarray] = []
    while remaining.size and (max_faces is None or len(out_boxes) < max_faces):
        best = boxes[remaining[0]]
        rest = boxes[remaining]
        iw = np.clip(np.minimum(rest[:, 2], best[2]) - np.maximum(rest[:, 0], best[0]), 0, None)
        ih = np.clip(np.minimum(rest[:, 3], best[3]) - np.maximum(rest[:, 1], best[1]), 0, None)
        inter = iw * ih
        iou = inter / np.maximum(areas[remaining] + areas[remaining[0]] - inter, 1e-12)
        group = remaining[iou > iou_threshold]
        if group.size == 0:  # degenerate (zero-area) best box: keep it alone
            group = remaining[:1]
        w = scores[group] / scores[group].sum()
        out_boxes.append(w @ boxes[group])
        out_kps.append(np.tensordot(w, keypoints[group], axes=1))
        out_scores.append(scores[remaining[0]])
        remaining = remaining[~np.isin(remaining, group)]
    k = keypoints.shape[1]
    return (
        np.array(out_boxes, np.float32).reshape(-1, 4),
        np.array(out_scores, np.float32),
        np.array(out_kps, np.float32).reshape(-1, k, 2),
    )


# Smallest face, in pixels of the 192 px model input, that the full-range model finds reliably:
# the astronaut photo placed at random in 720p frames is found 12/12 times from 90 px wide (13.5
# input px), 11/12 at 80 px, 6/12 at 70 px. A single pass over a 1280x720 frame therefore finds
# faces from about 14 * 1280 / 192 = 93 px wide; `min_face_px` adds tiles below that.
MIN_FACE_INPUT_PX = 14


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize to (width, height) with box-filter (INTER_AREA) quality when shrinking, fast: exact
    halvings first (cv2's cheap path), then one INTER_AREA step of less than 2x."""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrinking = image.shape[1] > width or image.shape[0] > height
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def warp_crop(
    image: np.ndarray, crop_to_image: np.ndarray, width: int, height: int, border: int = cv2.BORDER_REPLICATE
) -> np.ndarray:
    """Sample a (height, width) crop through an affine map from crop to image coordinates.

    Coordinates are continuous pixels: (0, 0) is the top-left corner of the top-left pixel. When the
    map shrinks by 2x or more, the region is first reduced by an integer factor with INTER_AREA so
    that the final bilinear warp never skips pixels (large faces would otherwise alias).
    """
    a = np.asarray(crop_to_image, np.float64).reshape(2, 3)
    factor = int(np.sqrt(abs(a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0])) + 1e-6)  # the map's linear scale
    if factor >= 2:
        corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64) @ a[:, :2].T + a[:, 2]
        h, w = image.shape[:2]
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - factor, 0, [w, h])
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + factor, 0, [w, h])
        # Whole multiples of the factor keep cv2.resize on its exact (and fast) box-filter path.
        rw, rh = (x1 - x0) // factor * factor, (y1 - y0) // factor * factor
        if rw and rh:
            image = cv2.resize(
                image[y0 : y0 + rh, x0 : x0 + rw], (rw // factor, rh // factor), interpolation=cv2.INTER_AREA
            )
            a = np.hstack([a[:, :2], (a[:, 2] - [x0, y0])[:, None]]) / factor
    # warpAffine works on pixel indices (centres at integer coordinates): shift by half a pixel both sides.
    index_map = a.copy()
    index_map[:, 2] += a[:, :2] @ [0.5, 0.5] - 0.5
    return cv2.warpAffine(
        image, index_map, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=border
    )


def _tile_starts(length: int, tile: int, step: int) -> list[int]:
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    return [*starts, length - tile]


class BlazeFaceDetector:
    """MediaPipe BlazeFace full-range (faces up to ~5 m from the camera) with our own pre/post-processing.

    min_score: keep faces whose sigmoid score reaches this. max_faces: keep at most this many (best first).
    threads: CPU threads for the interpreter. iou_threshold: overlap that merges boxes in weighted NMS.
    min_face_px: smallest face width (image pixels) to find. None runs one pass over the whole frame
    (faces from ~90 px wide in 720p, ~5 ms); a smaller value adds overlapping tiles seen at higher
    resolution (20 px in 720p: 32 more passes), so set it only when people sit far from the camera.
    model_path: a .tflite file instead of the one installed by `facecue setup`.
    """

    name = "blazeface-full-range"
    input_size = 192
    num_keypoints = len(KEYPOINT_NAMES)

    def __init__(
        self,
        min_score: float = 0.5,
        max_faces: int | None = None,
        threads: int = 1,
        iou_threshold: float = 0.3,
        min_face_px: float | None = None,
        model_path: str | Path | None = None,
    ) -> None:
        if not 0.0 < min_score < 1.0:
            raise FacecueError(f"min_score must be between 0 and 1, got {min_score}.")
        if max_faces is not None and max_faces < 1:
            raise FacecueError(f"max_faces must be at least 1, got {max_faces}.")
        if min_face_px is not None and min_face_px < 8:
            raise FacecueError(f"min_face_px must be at least 8 pixels, got {min_face_px}.")
        path = Path(model_path) if model_path else models.model_path("face_detection_full_range")
        self.version = f"mediapipe-{models.load_manifest()['source']['version']}"
        self.min_score, self.max_faces, self.iou_threshold = min_score, max_faces, iou_threshold
        self.min_face_px = min_face_px
        self._interpreter = models.load_interpreter(path, threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["shape"][-1]: d["index"] for d in self._interpreter.get_output_details()}
        self._regressors, self._classifiers = outputs[4 + 2 * self.num_keypoints], outputs[1]
        self._anchors = ssd_anchors(self.input_size) * self.input_size
        # Compare logits rather than sigmoids so most anchors are dropped before any exp().
        self._min_logit = float(np.log(min_score / (1.0 - min_score)))

    def detect(self, image_bgr: np.ndarray) -> FaceBoxes:
        image = check_image(image_bgr)
        corners, scores, kps = self._candidates(image)
        parts = [(corners, scores, kps)]
        if self.min_face_px is not None:
            parts += self._tile_candidates(image, self.min_face_px)
        corners, scores, kps = (np.concatenate(p) for p in zip(*parts, strict=True))
        if not len(scores):
            return FaceBoxes.empty(self.num_keypoints)
        corners, scores, kps = weighted_nms(corners, scores, kps, self.iou_threshold, self.max_faces)
        boxes = np.concatenate([corners[:, :2], corners[:, 2:] - corners[:, :2]], axis=1)
        return FaceBoxes(boxes, scores, kps)

    def _candidates(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every anchor scoring >= min_score: corner boxes (M, 4), scores (M,), keypoints (M, 6, 2) in image pixels."""
        h, w = image.shape[:2]
        size = self.input_size
        nw, nh = max(1, round(w * size / max(h, w))), max(1, round(h * size / max(h, w)))
        # Letterbox: keep the aspect ratio, centre, pad with black; RGB scaled to -1..1.
        left, top = (size - nw) // 2, (size - nh) // 2
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[top : top + nh, left : left + nw] = shrink(image, nw, nh)
        tensor = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) * (2.0 / 255.0) - 1.0
        self._interpreter.set_tensor(self._input, tensor[None])
        self._interpreter.invoke()
        logits = self._interpreter.get_tensor(self._classifiers)[0, :, 0]
        keep = np.flatnonzero(logits >= self._min_logit)
        raw = self._interpreter.get_tensor(self._regressors)[0, keep]
        scores = (1.0 / (1.0 + np.exp(-np.clip(logits[keep], -100.0, 100.0)))).astype(np.float32)
        # Offsets are in input pixels from the anchor centre (anchors have fixed size 1, so
        # MediaPipe's divide-by-192-times-anchor-size is a no-op in input pixels).
        centres = self._anchors[keep]
        cxy = raw[:, 0:2] + centres
        half = raw[:, 2:4] / 2.0
        corners = np.concatenate([cxy - half, cxy + half], axis=1)
        kps = raw[:, 4:].reshape(-1, self.num_keypoints, 2) + centres[:, None, :]
        # Undo the letterbox: input pixels -> image pixels.
        offset = np.array([left, top], np.float32)
        scale = np.array([nw / w, nh / h], np.float32)
        corners = (corners - np.tile(offset, 2)) / np.tile(scale, 2)
        kps = (kps - offset) / scale
        return corners, scores, kps

    def _tile_candidates(
        self, image: np.ndarray, min_face_px: float
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Candidates from square tiles small enough that a min_face_px face spans MIN_FACE_INPUT_PX input pixels."""
        h, w = image.shape[:2]
        tile = round(self.input_size * min_face_px / MIN_FACE_INPUT_PX)
        if tile >= max(h, w):
            return []  # the whole-frame pass already sees faces that small
        # Tiles overlap by a little more than the smallest face the whole-frame pass finds, so every
        # face too small for that pass lies whole inside some tile; bigger ones are left to that pass.
        overlap = min(tile // 2, round(1.2 * MIN_FACE_INPUT_PX * max(h, w) / self.input_size))
        parts = []
        for y0 in _tile_starts(h, tile, tile - overlap):
            for x0 in _tile_starts(w, tile, tile - overlap):
                corners, scores, kps = self._candidates(image[y0 : y0 + tile, x0 : x0 + tile])
                th, tw = min(tile, h - y0), min(tile, w - x0)
                # Drop faces cut by an inner tile edge: a neighbouring tile or the whole frame sees them whole.
                slack = 0.1 * (corners[:, 2] - corners[:, 0])
                whole = (
                    (corners[:, 2] - corners[:, 0] <= overlap)
                    & ((corners[:, 0] >= -slack) | (x0 == 0))
                    & ((corners[:, 1] >= -slack) | (y0 == 0))
                    & ((corners[:, 2] <= tw + slack) | (x0 + tw >= w))
                    & ((corners[:, 3] <= th + slack) | (y0 + th >= h))
                )
                offset = np.array([x0, y0], np.float32)
                parts.append((corners[whole] + np.tile(offset, 2), scores[whole], kps[whole] + offset))
        return parts


class DlibDetector:
    """dlib's HOG frontal-face detector (optional `dlib` extra): boxes only, keypoints K = 0, so run
    FaceMesh on its boxes (it then crops upright) to get landmarks and alignment.

    upsample: times dlib doubles the image first. 0 finds faces from ~80 px wide (~200 ms per
    720p frame); 1 from ~40 px but ~4x slower. Scores are dlib's SVM margins through a sigmoid,
    so min_score 0.5 is dlib's own threshold. threads is accepted so every backend takes the same
    options; dlib's HOG detector runs on one thread.
    """

    name = "dlib-hog"

    def __init__(
        self, min_score: float = 0.5, max_faces: int | None = None, threads: int = 1, upsample: int = 0
    ) -> None:
        try:
            import dlib
        except ImportError:
            raise ModelError("the dlib detector needs dlib: pip install 'facecue[dlib]' (or dlib-bin).") from None
        if max_faces is not None and max_faces < 1:
            raise FacecueError(f"max_faces must be at least 1, got {max_faces}.")
        self.version = f"dlib-{dlib.__version__}"
        self.min_score, self.max_faces, self.upsample = min_score, max_faces, upsample
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, image_bgr: np.ndarray) -> FaceBoxes:
        image = check_image(image_bgr)
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        rects, margins, _ = self._detector.run(rgb, self.upsample, 0.0)
        if not rects:
            return FaceBoxes.empty(0)
        boxes = np.array([[r.left(), r.top(), r.width(), r.height()] for r in rects], np.float32)
        scores = 1.0 / (1.0 + np.exp(-np.asarray(margins, np.float32)))
        keep = np.flatnonzero(scores >= self.min_score)
        keep = keep[np.argsort(-scores[keep], kind="stable")][: self.max_faces]
        return FaceBoxes(boxes[keep], scores[keep], np.zeros((len(keep), 0, 2)))


DETECTORS = {"blazeface": BlazeFaceDetector, "dlib": DlibDetector}


def create_detector(name: str = "blazeface", **options) -> FaceDetector:
    """A detector backend by name ("blazeface" or "dlib") with its keyword options."""
    if name not in DETECTORS:
        raise FacecueError(f"unknown face detector {name!r}; choose one of: {', '.join(DETECTORS)}.")
    return DETECTORS[name](**options)
