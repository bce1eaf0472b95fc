"""Posture from the real body-pose model on real frames (the sample's astronaut photo), and its summary."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS, POSTURE_COLUMNS
from facecue.behaviour.posture import (
    MIN_BASELINE_READINGS,
    MIN_HAND_S,
    NOT_SAMPLED,
    POSTURE_SLICE,
    hand_episodes,
    pose_stride,
    posture_columns,
    summarise_posture,
    upper_body,
)
from facecue.behaviour.summary import summarise
from facecue.io.sample import _main_pose, make_sample_video, sample_frame
from facecue.pipeline import Analyzer
from facecue.vision.detect import FaceBoxes
from facecue.vision.pose import BodyPose

LEAN, TILT, MOTION, HAND = range(len(POSTURE_COLUMNS))


@pytest.fixture(scope="module")
def pose(model_files):
    return BodyPose()


@pytest.fixture(scope="module")
def frame():
    return sample_frame(3.0, size=(1280, 720))  # her spacesuit hides her shoulders least here


def _read(detector, pose, image) -> tuple[np.ndarray, FaceBoxes, tuple[str, ...]]:
    """The biggest face's upper-body points, its box and the reason its body was not read."""
    faces = detector.detect(image)
    best = int(np.argmax(faces.boxes[:, 2]))
    face = FaceBoxes(faces.boxes[best : best + 1], faces.scores[best : best + 1], faces.keypoints[best : best + 1])
    points, reasons = upper_body(pose(image, face), np.array([True]))
    return points, face, reasons


def _columns(readings: list[tuple[np.ndarray, FaceBoxes, tuple[str, ...]]], step: float = 0.4):
    """posture_columns for a run of readings of one person, `step` seconds apart."""
    n = len(readings)
    return posture_columns(
        np.arange(n) * step,
        np.arange(n),
        np.zeros(n, np.int64),
        np.concatenate([f.boxes for _, f, _ in readings]),
        np.concatenate([p for p, _, _ in readings]),
        tuple(r for _, _, (r,) in readings),
        gap=1.0,
    )


def _tilt(detector, pose, image) -> float:
    values, _ = _columns([_read(detector, pose, image)])
    return float(values[0, TILT])


@pytest.mark.parametrize("angle", [-20.0, 15.0])
def test_shoulder_tilt_follows_a_known_rotation_of_the_frame(detector, pose, frame, angle):
    before = _tilt(detector, pose, frame)
    h, w = frame.shape[:2]
    # cv2 turns counter-clockwise for positive angles; tilt > 0 is clockwise as the viewer sees it, like roll.
    turn = cv2.getRotationMatrix2D((w * 0.45, h * 0.6), angle, 1.0)
    after = _tilt(detector, pose, cv2.warpAffine(frame, turn, (w, h), borderMode=cv2.BORDER_REPLICATE))
    assert after - before == pytest.approx(-angle, abs=5.0)


def test_mirroring_keeps_the_size_of_the_tilt(detector, pose, frame):
    # The model reads her shoulders about 7° clockwise in this frame (her spacesuit's collar hides them).
    tilt, mirrored = _tilt(detector, pose, frame), _tilt(detector, pose, frame[:, ::-1].copy())
    assert tilt > 3 and mirrored < -3  # the person's left shoulder stays their left: the sign flips
    assert abs(tilt) == pytest.approx(abs(mirrored), abs=3.0)


def test_zooming_in_reads_as_leaning_towards_the_camera(detector, pose, frame):
    h, w = frame.shape[:2]
    usual = _read(detector, pose, frame)
    box = usual[1].boxes[0]
    centre = (float(box[0] + box[2] / 2), float(box[1] + box[3] / 2))

    def zoomed(k: float) -> np.ndarray:  # nearer the camera by a factor k, as a lean would bring her
        return cv2.warpAffine(frame, cv2.getRotationMatrix2D(centre, 0.0, k), (w, h))

    nearer, farther = _read(detector, pose, zoomed(1.1)), _read(detector, pose, zoomed(0.9))
    values, reasons = _columns([*[usual] * MIN_BASELINE_READINGS, nearer, farther])
    assert values[-2, LEAN] == pytest.approx(np.log(1.1), abs=0.04)
    assert values[-1, LEAN] == pytest.approx(np.log(0.9), abs=0.04)
    assert set(reasons) == {""}
    assert np.isnan(values[0, MOTION]) and values[1, MOTION] == pytest.approx(0.0, abs=1e-6)  # the same frame
    assert values[-2, MOTION] > 0.1  # the zoom moved every point
    assert (values[:, HAND] == 0).all()  # her hands are out of view


def test_too_few_readings_leave_lean_empty_with_a_reason(detector, pose, frame):
    values, reasons = _columns([_read(detector, pose, frame)] * 2)
    assert np.isnan(values[:, LEAN]).all() and not np.isnan(values[:, TILT]).any()
    assert all("too few body readings" in r for r in reasons)


def test_no_body_gives_empty_cells_and_a_reason(detector, pose, frame):
    faces = detector.detect(frame)
    best = int(np.argmax(faces.boxes[:, 2]))
    box = faces.boxes[best]
    # Noise where the body was: the model finds no body at all.
    noise = np.random.default_rng(0).integers(0, 256, frame.shape, dtype=np.uint8)
    face = FaceBoxes(faces.boxes[best : best + 1], faces.scores[best : best + 1], faces.keypoints[best : best + 1])
    points, reasons = upper_body(pose(noise, face), np.array([True]))
    assert np.isnan(points).all() and reasons[0].startswith("body not visible")
    # The face alone, cut off at the chin: a person, but no shoulders to measure.
    bottom = int(box[1] + box[3] * 1.05)
    head_only = frame.copy()
    head_only[bottom:] = 0
    points, face, reasons = _read(detector, pose, head_only)
    assert reasons == ("shoulders not in view",)
    values, why = _columns([(points, face, reasons)])
    assert np.isnan(values).all() and why == ("shoulders not in view",)
    # Frames the body model skipped have empty cells and no reason to report.
    values, why = _columns([(np.full_like(points, np.nan), face, (NOT_SAMPLED,))])
    assert np.isnan(values).all() and why == ("",)


def test_hand_near_face_is_one_on_the_face_and_falls_off_with_distance():
    box = np.array([[100.0, 100.0, 100.0, 100.0]])
    points = np.full((1, 12, 2), np.nan, np.float32)
    points[0, 0], points[0, 1] = (100, 300), (200, 300)  # the shoulders

    def near(x: float, y: float) -> float:
        p = points.copy()
        p[0, 5] = (x, y)  # the right wrist
        values, _ = posture_columns(np.zeros(1), np.zeros(1, np.int64), np.zeros(1, np.int64), box, p, ("",), 1.0)
        return float(values[0, HAND])

    assert near(150, 150) == 1.0 and near(150, 225) == pytest.approx(0.5) and near(150, 260) == 0.0
    values, _ = posture_columns(np.zeros(1), np.zeros(1, np.int64), np.zeros(1, np.int64), box, points, ("",), 1.0)
    assert values[0, HAND] == 0.0  # shoulders in view, hands not: not at the face


def test_hand_to_face_episodes_need_a_minimum_duration():
    step, f = 0.2, 100
    every = pose_stride(step) * step  # the body is read on every n-th analysed frame
    t = np.arange(f) * step
    near = np.full(f, np.nan)
    on = np.arange(0, f, pose_stride(step))
    near[on] = 0.0
    readings = [on[2:5], on[8:9], on[12:13], on[16:17]]  # 3 readings at the face; 1 (a scratch); 1 and 1 more
    for k in np.concatenate(readings):
        near[k] = 0.9
    near[on[13:16]] = np.nan  # ... with the body lost in between for longer than the gap: two short touches
    assert every < MIN_HAND_S <= 3 * every  # the test's premise
    gap = max(1.0, 2.5 * every)
    assert hand_episodes(t, near, every, gap) == [(pytest.approx(t[on[2]]), pytest.approx(3 * every))]
    behaviour = np.full((f, len(BEHAVIOUR_COLUMNS)), np.nan, np.float32)
    behaviour[:, BEHAVIOUR_COLUMNS.index("hand_near_face")] = near
    present = np.ones(f, bool)
    out = summarise_posture(t, present, behaviour, step)
    read_s = (len(on) - 3) * every
    assert out["hand_to_face"] == {"value": 1, "seconds": pytest.approx(read_s), "at_face_s": pytest.approx(3 * every)}
    assert out["body_out_of_view"]["value"] == pytest.approx(1 - read_s / (f * step), abs=1e-3)
    # Nothing readable: no figure at all, not a zero.
    assert summarise_posture(t, present, np.full_like(behaviour, np.nan), step)["hand_to_face"]["value"] is None
    assert summarise(t, present, np.zeros((f, 3)), behaviour, step, 5.0)["posture"] == out


def test_the_analysis_reads_posture_that_follows_the_samples_zoom(tmp_path, model_files, practice):
    seconds = 10.0
    video = make_sample_video(tmp_path / "sample.mp4", seconds=seconds, fps=25, size=(960, 540))
    result = Analyzer(signals=("behaviour",)).analyze(video, **practice)
    assert result.models.body is not None and result.models.body.name == BodyPose.name
    mine = result.faces.face_id == result.candidate_id
    posture = result.faces.behaviour[mine][:, POSTURE_SLICE]
    times = result.times[result.faces.frame_pos[mine]]
    read = ~np.isnan(posture[:, TILT])
    # The body is read on every pose_stride()-th analysed frame, while she is in view.
    assert 0.6 / pose_stride(0.2) < read.mean() <= 1.5 / pose_stride(0.2)
    scale = np.log([_main_pose(t, seconds, 960, 540)[0] for t in times[read]])
    assert np.corrcoef(scale, posture[read, LEAN])[0, 1] > 0.9  # the sample zooms in and out: lean follows
    assert np.abs(posture[read, TILT]).max() < 8  # she sits upright
    posture_summary = result.summary.behaviour["posture"]
    assert posture_summary["readable_s"] > 0.6 * seconds and posture_summary["hand_to_face"]["value"] == 0
