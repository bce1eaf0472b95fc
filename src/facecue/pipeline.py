"""The video pipeline: frames -> faces -> landmarks -> aligned crops -> emotions and behaviour -> tracks -> timeline.

AnalyzeOptions.signals chooses what is read: with ("behaviour",) the emotion model is never loaded and no
emotion reading exists anywhere in the result.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from facecue.abstain import Abstain, abstain_message
from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.behaviour.gaze_summary import gaze_figures, speaking_frames
from facecue.behaviour.measures import measure_behaviour
from facecue.behaviour.posture import POSTURE_SLICE, join_reasons, pose_stride, posture_columns, upper_body
from facecue.behaviour.summary import summarise, summarise_parts
from facecue.emotion.model import EmotionModel
from facecue.interview.affect import distressed, distressed_frames
from facecue.interview.spans import window_spans
from facecue.io.prefetch import prefetch
from facecue.io.video import Frame, open_source
from facecue.labels import EMOTIONS, NUM_EMOTIONS
from facecue.options import AnalyzeOptions
from facecue.result import FaceRows, ModelRef, ModelsInfo, Result, Segment, Summary, Timeline, Track
from facecue.timeline.baseline import baseline_probs, relative
from facecue.timeline.baseline import describe as describe_baseline
from facecue.timeline.smoothing import segment_labels, smooth_probs
from facecue.vision.align import align_faces
from facecue.vision.detect import create_detector
from facecue.vision.finder import FaceFinder
from facecue.vision.iris import IrisModel
from facecue.vision.landmarks import FaceMesh
from facecue.vision.pose import BodyPose
from facecue.vision.quality import assess_quality
from facecue.vision.track import FaceTracker, appearance, time_ranges

if TYPE_CHECKING:
    from facecue.interview.request import InterviewRequest


@dataclass(frozen=True)
class FrameFaces:
    """Everything the face stages found in one frame (N faces)."""

    boxes: np.ndarray  # (N, 4)
    scores: np.ndarray  # (N,)
    pose: np.ndarray  # (N, 3) yaw, pitch, roll in degrees
    aligned: np.ndarray  # (N, 48, 48) uint8
    quality: np.ndarray  # (N,)
    abstain: tuple[str, ...]
    behaviour: np.ndarray | None = None  # (N, len(BEHAVIOUR_COLUMNS)) NaN where not read; None: not analysed
    behaviour_reason: tuple[str, ...] = ()  # (N,) why a face's facial actions were not read, "" when they were
    body: np.ndarray | None = None  # (N, len(UPPER_BODY), 2) body points (behaviour/posture.py), NaN where not seen
    body_reason: tuple[str, ...] = ()  # (N,) why a face's body was not read: "", a reason, or NOT_SAMPLED


class Analyzer:
    """Loads the detector, face mesh and emotion model once; analyses any number of sources."""

    def __init__(self, options: AnalyzeOptions | None = None, **overrides) -> None:
        self.options = options or AnalyzeOptions(**overrides)
        o = self.options
        extra = {"min_face_px": o.min_face_px} if o.detector == "blazeface" else {}
        self.detector = create_detector(
            o.detector, min_score=o.min_detection_score, max_faces=o.max_faces, threads=o.threads, **extra
        )
        self.mesh = FaceMesh(threads=o.threads)  # works from any detector's boxes
        self.finder = FaceFinder(self.detector, self.mesh)
        self.body = BodyPose(threads=o.threads) if o.behaviour else None
        self.iris = IrisModel(threads=o.threads) if o.behaviour else None  # gaze; behaviour only
        # Behaviour-only analyses never load the emotion model: that mode infers no emotion at all.
        self.model = EmotionModel.load(o.model, threads=o.threads) if o.emotions else None
        # Without the model the aligned crop still feeds the quality score and the tracker's appearance cue.
        self.input_side = self.model.info.input_size[0] if self.model else 48

    def models_info(self) -> ModelsInfo:
        info = self.model.info if self.model is not None else None
        return ModelsInfo(
            detector=ModelRef(self.detector.name, self.detector.version),
            landmarks=ModelRef(self.mesh.name, self.mesh.version),
            iris=ModelRef(self.iris.name, self.iris.version) if self.iris is not None else None,
            emotion=ModelRef(info.name, info.version, info.sha256, info.temperature) if info is not None else None,
            behaviour=ModelRef("facecue-mesh-geometry", "1") if self.options.behaviour else None,
            body=ModelRef(self.body.name, self.body.version) if self.body is not None else None,
        )

    def find_faces(self, image: np.ndarray, t: float | None = None, read_body: bool = False) -> FrameFaces:
        """Detect, map landmarks, align and score the quality of every face in one BGR frame.

        With the frame's time t, faces are followed from frame to frame (the detector runs about
        once a second, see FaceFinder); without it, every call is an independent still image.
        read_body: also read each confirmed face's body points (behaviour analyses; the costliest model, so
        analyze() asks for it on every pose_stride()-th frame only, and live views do not).
        """
        if t is None:
            faces = self.detector.detect(image)
            landmarks = self.mesh(image, faces) if len(faces) else None
        else:
            faces, landmarks = self.finder(image, t)
        if len(faces) == 0:
            z = np.zeros((0,), np.float32)
            return FrameFaces(
                np.zeros((0, 4), np.float32),
                z,
                np.zeros((0, 3), np.float32),
                np.zeros((0, self.input_side, self.input_side), np.uint8),
                z,
                (),
            )
        assert landmarks is not None  # the mesh ran: there are faces
        aligned = align_faces(image, landmarks, size=self.input_side)
        quality = assess_quality(image, faces, landmarks, aligned)
        abstain = tuple(r or "" for r in quality.reasons)
        behaviour: np.ndarray | None = None
        why: tuple[str, ...] = ()
        if self.options.behaviour:
            # Only an unconfirmed face is unreadable as a whole: blur or dim light that stop the emotion
            # model still leave the head pose and the mesh's geometry readable.
            codes = quality.codes
            unconfirmed = [r if c is Abstain.NOT_VISIBLE else "" for r, c in zip(abstain, codes, strict=True)]
            iris = self.iris
            irises_of = (lambda points: iris(image, points)) if iris is not None else None
            behaviour, why = measure_behaviour(landmarks, unconfirmed, irises_of)
        body: np.ndarray | None = None
        body_why: tuple[str, ...] = ()
        if self.body is not None:
            confirmed = np.array([read_body and c is not Abstain.NOT_VISIBLE for c in quality.codes], bool)
            body, body_why = upper_body(self.body(image, _subset(faces, confirmed)), confirmed)
        return FrameFaces(
            faces.boxes, faces.scores, landmarks.pose, aligned, quality.score, abstain, behaviour, why, body, body_why
        )

    def frames(self, path: str | Path):
        o = self.options
        return open_source(path, fps=o.fps, start=o.start, end=o.end)

    def analyze(
        self,
        source: str | Path,
        *,
        purpose: str | None = None,
        jurisdiction: str | None = None,
        consent=None,
        interview: InterviewRequest | None = None,
        on_progress: Callable[[int, int | None], object] | None = None,
    ) -> Result:
        """Analyse a video, image or image folder of a person, for a purpose ("practice", "research" or
        "assessment") in a jurisdiction (e.g. "DE", "US-IL", "OTHER"), with the subject's consent record (or its
        JSON path) where the policy table requires one, which is every row today. The table decides first, before
        anything is decoded: a missing purpose or jurisdiction, a refused analysis or missing/invalid consent
        raises PolicyError with the reason; an allowed one is recorded in result.summary.policy.
        (None defaults so that leaving one out gets that PolicyError, not a TypeError.)

        interview: the interview inputs (facecue.interview.InterviewRequest); with them the result gets its
        interview section. on_progress(done_frames, expected_frames or None) is called after every frame."""
        from facecue.governance import policy_for

        decision = policy_for(purpose, jurisdiction, consent, signals=self.options.signals)
        started = time.perf_counter()
        frames = self.frames(source)
        collector = _Collector(self)
        expected = _expected_frames(frames.info, self.options)
        bar = tqdm(
            total=expected, unit="frame", desc="analysing", disable=not self.options.progress, dynamic_ncols=True
        )
        self.finder.reset()
        stride = _pose_stride(frames.info, self.options)
        try:
            for done, frame in enumerate(prefetch(frames), 1):
                collector.add(frame, self.find_faces(frame.image, frame.time_s, read_body=(done - 1) % stride == 0))
                bar.update(1)
                if on_progress is not None:
                    on_progress(done, expected)
            bar.close()
            collector.drain()  # the last batches are classified before the clock stops
            elapsed = time.perf_counter() - started
            result = collector.finish(frames, self.models_info(), elapsed, decision.to_dict())
        finally:
            collector.close()  # also when decoding or a callback fails: no worker thread is left behind
        if interview is not None:
            validation = self.model.info.sidecar.validation if self.model is not None else None
            result = interview.attach(result, self.options.emotions, self.options.behaviour, validation)
        return result

    def stream(
        self, frames: Iterator[Frame], *, purpose: str | None = None, jurisdiction: str | None = None, consent=None
    ) -> Iterator[tuple[Frame, FrameFaces, np.ndarray, np.ndarray]]:
        """Live form: yields (frame, faces, face_ids, probs (N,7) NaN where abstained) frame by frame. The policy
        decides as for analyze, when stream is called (not at the first frame): PolicyError on a refusal."""
        from facecue.governance import policy_for

        policy_for(purpose, jurisdiction, consent, signals=self.options.signals)
        return self._stream(frames)

    def _stream(self, frames: Iterator[Frame]) -> Iterator[tuple[Frame, FrameFaces, np.ndarray, np.ndarray]]:
        tracker = FaceTracker()
        self.finder.reset()
        for frame in frames:
            faces = self.find_faces(frame.image, frame.time_s)
            ids = tracker.update(frame.time_s, faces.boxes, _looks(frame.image, faces))
            yield frame, faces, ids, self.classify_usable(faces)

    def classify_usable(self, faces: FrameFaces) -> np.ndarray:
        probs = np.full((len(faces.boxes), NUM_EMOTIONS), np.nan, np.float32)
        usable = np.array([not r for r in faces.abstain], bool)
        if usable.any() and self.model is not None:
            probs[usable] = self.model.predict(faces.aligned[usable])
        return probs


def _looks(image: np.ndarray, faces: FrameFaces) -> np.ndarray:
    if len(faces.boxes) == 0:
        return np.zeros((0, 0), np.float32)  # the tracker returns before looking at an empty frame
    return np.stack([appearance(image, b, a) for b, a in zip(faces.boxes, faces.aligned, strict=False)])


def _subset(faces, keep: np.ndarray):
    """The faces with keep True, in order (a FaceBoxes of those rows)."""
    return type(faces)(faces.boxes[keep], faces.scores[keep], faces.keypoints[keep])


def _pose_stride(info, options: AnalyzeOptions) -> int:
    """Read the body on every n-th analysed frame of a video (every image of a folder): see POSE_EVERY_S."""
    rate = min(options.fps, info.fps) if options.fps and info.fps else (options.fps or info.fps)
    return pose_stride(1.0 / rate) if info.kind == "video" and rate else 1


def _expected_frames(info, options: AnalyzeOptions) -> int | None:
    if info.kind != "video" or not info.duration_s:
        return info.frame_count or None
    span = (options.end or info.duration_s) - (options.start or 0.0)
    span = max(0.0, min(span, info.duration_s))
    rate = options.fps if options.fps is not None else info.fps
    return int(span * min(rate, info.fps or rate)) + 1


class _Collector:
    """Accumulates per-face rows while frames stream past; classifies usable faces in batches."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self.tracker = FaceTracker()
        self.times: list[float] = []
        self.frame_index: list[int] = []
        self.rows: dict[str, list] = {
            k: []
            for k in (
                "frame_pos",
                "face_id",
                "boxes",
                "scores",
                "quality",
                "abstain",
                "pose",
                "behaviour",
                "behaviour_reason",
                "body",
                "body_reason",
            )
        }
        self.probs: list[np.ndarray] = []
        self.pending: list[tuple[np.ndarray, int, np.ndarray]] = []  # (frame's probs, face, aligned crop)
        # Batches are classified on a thread of their own while the next frames are read: onnxruntime releases the
        # GIL, and the decoding core has time to spare, which absorbs most of v2's four passes a face
        # (docs/PERFORMANCE.md). One worker keeps the calls in order; results do not depend on the timing.
        self.classifier: ThreadPoolExecutor | None = None
        if analyzer.model is not None:
            self.classifier = ThreadPoolExecutor(1, thread_name_prefix="facecue-classify")
        self.in_flight: list[Future] = []

    def add(self, frame: Frame, faces: FrameFaces) -> None:
        pos = len(self.times)
        self.times.append(frame.time_s)
        self.frame_index.append(frame.index)
        n = len(faces.boxes)
        if n == 0:
            return
        ids = self.tracker.update(frame.time_s, faces.boxes, _looks(frame.image, faces))
        self.rows["frame_pos"].append(np.full(n, pos, np.int64))
        self.rows["face_id"].append(ids)
        self.rows["boxes"].append(faces.boxes)
        self.rows["scores"].append(faces.scores)
        self.rows["quality"].append(faces.quality)
        self.rows["abstain"].extend(faces.abstain)
        self.rows["pose"].append(faces.pose)
        if faces.behaviour is not None:
            self.rows["behaviour"].append(faces.behaviour)
            self.rows["behaviour_reason"].extend(faces.behaviour_reason)
        if faces.body is not None:
            self.rows["body"].append(faces.body)
            self.rows["body_reason"].extend(faces.body_reason)
        frame_probs = np.full((n, NUM_EMOTIONS), np.nan, np.float32)
        self.probs.append(frame_probs)
        if self.analyzer.model is None:  # behaviour only: nothing is classified
            return
        self.pending.extend((frame_probs, i, faces.aligned[i]) for i in range(n) if not faces.abstain[i])
        if len(self.pending) >= self.analyzer.options.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        assert self.classifier is not None  # add() queues crops only when there is a model
        self.in_flight.append(self.classifier.submit(self._classify, self.pending))
        self.pending = []
        while len(self.in_flight) > 2:  # bounded memory; an error in a batch surfaces here
            self.in_flight.pop(0).result()

    def _classify(self, batch: list[tuple[np.ndarray, int, np.ndarray]]) -> None:
        model = self.analyzer.model
        assert model is not None
        probs = model.predict(np.stack([crop for _, _, crop in batch]))
        for (frame_probs, i, _), p in zip(batch, probs, strict=False):
            frame_probs[i] = p

    def close(self) -> None:
        """Wait for the batches being classified (raising their error, if any) and stop the worker thread."""
        if self.classifier is None:
            return
        try:
            while self.in_flight:
                self.in_flight.pop(0).result()
        finally:
            self.classifier.shutdown(wait=True, cancel_futures=True)
            self.classifier = None

    def drain(self) -> None:
        """Classify what is still queued and wait for every batch."""
        self._flush()
        self.close()

    def finish(self, source, models: ModelsInfo, elapsed: float, policy: dict[str, Any] | None = None) -> Result:
        self.drain()
        o = self.analyzer.options
        times = np.array(self.times, np.float64)
        if self.probs:
            cat = {
                k: np.concatenate(v)
                for k, v in self.rows.items()
                if k not in ("abstain", "behaviour_reason", "body_reason") and v
            }
            behaviour = cat["behaviour"].astype(np.float32) if o.behaviour else None
            behaviour_reason = tuple(self.rows["behaviour_reason"])
            if behaviour is not None and "body" in cat:
                step = frame_step(times, o.fps)
                posture, why = posture_columns(
                    times,
                    cat["frame_pos"],
                    cat["face_id"],
                    cat["boxes"],
                    cat["body"],
                    tuple(self.rows["body_reason"]),
                    max(1.0, 2.5 * pose_stride(step) * step),
                )
                behaviour[:, POSTURE_SLICE] = posture
                behaviour_reason = join_reasons(behaviour_reason, why)
            faces = FaceRows(
                cat["frame_pos"],
                cat["face_id"],
                cat["boxes"].astype(np.float32),
                cat["scores"].astype(np.float32),
                cat["quality"].astype(np.float32),
                tuple(self.rows["abstain"]),
                cat["pose"].astype(np.float32),
                np.concatenate(self.probs),
                behaviour,
                behaviour_reason if o.behaviour else (),
            )
        else:
            faces = FaceRows.empty(behaviour=o.behaviour)
        step = 1.0 / o.fps if o.fps else 1.0 / (source.info.fps or 1.0)
        gap = max(1.0, 2.5 * step)
        tracks, candidate = _tracks(faces, times, gap)
        faces = _readings_of_the_candidate_only(faces, candidate)
        timeline = _timeline(faces, times, candidate, o.smoothing_s, gap)
        segments = tuple(
            Segment(*s) for s in segment_labels(times, timeline.smoothed, timeline.usable, o.min_segment_s, gap)
        )
        summary, notes = _summary(faces, times, tracks, timeline, source, elapsed, o.emotions)
        sad = distressed(timeline.smoothed) if o.emotions else None  # no smile is counted on these frames
        figures = behaviour_summary(faces, times, candidate, timeline.present, o.fps, sad) if o.behaviour else None
        info = source.info
        if getattr(source, "files", None):  # stills: each image's file name, for frames.csv's source column
            info = dataclasses.replace(info, files=tuple(source.files))
        return Result(
            source=info,
            models=models,
            options=o,
            times=times,
            frame_index=np.array(self.frame_index, np.int64),
            faces=faces,
            tracks=tracks,
            candidate_id=candidate,
            timeline=timeline,
            segments=segments,
            summary=dataclasses.replace(summary, behaviour=figures, policy=policy),
            gaps=tuple(tuple(g) for g in source.gaps),
            notes=tuple(notes),
        )


def _tracks(faces: FaceRows, times: np.ndarray, gap: float) -> tuple[tuple[Track, ...], int | None]:
    """Tracks with roles: the candidate is the track with the most mesh-confirmed faces; a track the
    mesh never confirmed (a detector false positive, most likely) is 'unconfirmed', not a person."""
    if len(faces) == 0:
        return (), None
    confirmed = faces.confirmed
    ids = np.unique(faces.face_id)
    counts = {i: int(((faces.face_id == i) & confirmed).sum()) for i in ids.tolist()}
    best = max(counts, key=counts.__getitem__)
    candidate = best if counts[best] > 0 else None
    tracks = []
    for face_id in ids.tolist():
        rows = faces.face_id == face_id
        role = "candidate" if face_id == candidate else "other" if counts[face_id] else "unconfirmed"
        tracks.append(Track(face_id, role, int(rows.sum()), tuple(time_ranges(times[faces.frame_pos[rows]], gap))))
    order = {"candidate": 0, "other": 1, "unconfirmed": 2}
    tracks.sort(key=lambda t: (order[t.role], -t.n_frames))
    return tuple(tracks), candidate


def _readings_of_the_candidate_only(faces: FaceRows, candidate: int | None) -> FaceRows:
    """Emotion readings and facial actions are kept for the candidate alone: another person in view (an interviewer,
    a passer-by) was read only because the candidate was not known yet, and gave no consent to be read. Their boxes
    stay, so the outputs can say when someone else was in view."""
    others = faces.face_id != candidate
    if not others.any():
        return faces
    probs = faces.probs.copy()
    probs[others] = np.nan
    behaviour = None
    if faces.behaviour is not None:
        behaviour = faces.behaviour.copy()
        behaviour[others] = np.nan
    return dataclasses.replace(faces, probs=probs, behaviour=behaviour)


def _timeline(faces: FaceRows, times: np.ndarray, candidate: int | None, sigma: float, gap: float) -> Timeline:
    f = len(times)
    raw = np.full((f, NUM_EMOTIONS), np.nan, np.float32)
    present = np.zeros(f, bool)
    if candidate is not None:
        mine = np.flatnonzero(faces.face_id == candidate)
        present[faces.frame_pos[mine]] = True
        raw[faces.frame_pos[mine]] = faces.probs[mine]
    usable = present & ~np.isnan(raw).any(axis=1)
    smoothed = smooth_probs(times, raw, usable, sigma, gap)
    return Timeline(raw, smoothed, present, usable)


def candidate_series(faces: FaceRows, times: np.ndarray, candidate: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The candidate's head pose (F, 3) and behaviour (F, len(BEHAVIOUR_COLUMNS)) per analysed frame, NaN where
    the candidate is absent or the measure was not read."""
    f = len(times)
    pose = np.full((f, 3), np.nan, np.float32)
    behaviour = np.full((f, len(BEHAVIOUR_COLUMNS)), np.nan, np.float32)
    if candidate is not None and faces.behaviour is not None:
        mine = np.flatnonzero((faces.face_id == candidate) & faces.confirmed)
        pose[faces.frame_pos[mine]] = faces.pose[mine]
        behaviour[faces.frame_pos[mine]] = faces.behaviour[mine]
    return pose, behaviour


def frame_step(times: np.ndarray, fps: float | None) -> float:
    """The seconds one analysed frame stands for."""
    if len(times) > 1:
        return float(np.median(np.diff(times)))
    return 1.0 / fps if fps else 0.0


def behaviour_summary(
    faces: FaceRows,
    times: np.ndarray,
    candidate: int | None,
    present: np.ndarray,
    fps: float | None,
    distress: np.ndarray | None = None,
) -> dict:
    """summary.behaviour; distress (F,): frames read as discomfort, where no smile is counted (None: not read)."""
    pose, behaviour = candidate_series(faces, times, candidate)
    return summarise(times, present, pose, behaviour, frame_step(times, fps), fps, distressed=distress)


def attach_behaviour_parts(
    result: Result, spans: list[tuple[float, float, str]] | None, window_s: float = 30.0, voice_track=None
) -> None:
    """summary.behaviour["parts"]: the behaviour figures per question ((start_s, end_s, text) spans), or per
    window of window_s seconds when there are no questions; summary.behaviour["parts_by"] says which. With the
    recording's interview.voice.VoiceTrack, eye contact is also split by voice activity, overall and per part."""
    fps = result.options.fps
    times = result.times
    if spans is None:
        spans = window_spans(result, frame_step(times, fps), window_s)  # the interview section's windows
        kind = "windows"
    else:
        kind = "questions"
    pose, behaviour = candidate_series(result.faces, times, result.candidate_id)
    if result.summary.behaviour is None:
        raise ValueError("attach_behaviour_parts needs a result whose behaviour was analysed")
    step = frame_step(times, fps)
    speaking = speaking_frames(voice_track, times, step) if voice_track is not None else None
    if speaking is not None:
        present = result.timeline.present
        contact = behaviour[:, BEHAVIOUR_COLUMNS.index("eye_contact")]
        result.summary.behaviour.update(gaze_figures(times, present, contact, step, speaking))
    result.summary.behaviour["parts_by"] = kind
    result.summary.behaviour["parts"] = summarise_parts(
        times, result.timeline.present, pose, behaviour, step, fps, spans, speaking, distressed_frames(result)
    )


def _summary(
    faces: FaceRows, times: np.ndarray, tracks, timeline: Timeline, source, elapsed: float, emotions: bool = True
) -> tuple[Summary, list[str]]:
    """The summary's figures and the data-quality notes; a behaviour-only analysis (emotions=False) computes
    no emotion figure (its result writes none of them)."""
    f = len(times)
    candidate_missing = not any(t.role == "candidate" for t in tracks)
    notes: list[str] = []
    present = int(timeline.present.sum())
    usable = int(timeline.usable.sum())
    reasons: dict[str, int] = {}
    for reason in faces.abstain:
        if reason:
            key = abstain_message(reason)
            reasons[key] = reasons.get(key, 0) + 1
    mean = np.nanmean(timeline.smoothed[timeline.usable], axis=0) if usable and emotions else None
    duration = float(source.info.duration_s or 0.0)
    span = (times[-1] - times[0]) if f > 1 else duration
    baseline, relative_to_baseline = None, {}
    if emotions:
        # The person's own baseline (timeline/baseline.py): readings relative to it sit beside the absolute ones.
        step = float(np.median(np.diff(times))) if f > 1 else 0.0
        base = baseline_probs(timeline.smoothed, timeline.usable, step)
        baseline = describe_baseline(base, usable * step)
        relative_to_baseline = relative(mean, base) if base is not None and mean is not None else {}
    summary = Summary(
        analysed_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        frames_analysed=f,
        faces_found=len(faces),
        face_presence=round(present / f, 4) if f else 0.0,
        abstained=round(1 - usable / present, 4) if present and emotions else 0.0,
        abstain_reasons=reasons,
        mean_probs={e: round(float(v), 4) for e, v in zip(EMOTIONS, mean, strict=False)} if mean is not None else {},
        dominant=EMOTIONS[int(np.argmax(mean))] if mean is not None else None,
        other_people=[
            {"face_id": t.face_id, "ranges": [list(r) for r in t.ranges]} for t in tracks if t.role == "other"
        ],
        no_face=candidate_missing,
        processing_s=round(elapsed, 3),
        realtime_factor=round(span / elapsed, 2) if elapsed > 0 and span > 0 else None,
        decode_errors=int(getattr(source, "decode_errors", 0)),
        baseline=baseline,
        relative_to_baseline=relative_to_baseline,
    )
    if f == 0:
        notes.append("No frame could be analysed in the requested time range.")
    elif candidate_missing:
        notes.append("No face was found in any analysed frame.")
    else:
        if summary.face_presence < 0.8:
            notes.append(f"The candidate's face was visible in only {summary.face_presence:.0%} of analysed frames.")
        if present and summary.abstained > 0.2:
            notes.append(
                f"{summary.abstained:.0%} of the candidate's frames were not reliable enough to read "
                "(see abstain reasons)."
            )
        if summary.other_people:
            notes.append(
                f"{len(summary.other_people)} other face(s) appeared in view; they are reported "
                "separately and not mixed into the candidate's timeline."
            )
    if source.gaps:
        notes.append(f"{len(source.gaps)} stretch(es) of the video could not be decoded and were skipped.")
    return summary, notes


_DEFAULT_MODEL: EmotionModel | None = None


def _default_model() -> EmotionModel:
    global _DEFAULT_MODEL
    if _DEFAULT_MODEL is None:
        _DEFAULT_MODEL = EmotionModel.load()
    return _DEFAULT_MODEL


def classify_faces(images) -> np.ndarray:
    """Face crops (any size, grey or BGR) -> (N, 7) float32 calibrated probabilities, EMOTIONS order."""
    return _default_model().predict(images)


def embed_faces(images) -> np.ndarray:
    """Face crops -> (N, D) float32 penultimate CNN features of the default model."""
    return _default_model().embed(images)


def analyze(
    path: str | Path, *, purpose: str | None = None, jurisdiction: str | None = None, consent=None, **options
) -> Result:
    """Analyse a video file, image, or folder of images with default or given AnalyzeOptions fields; purpose and
    jurisdiction are required and go, with the consent, through the policy table first (see Analyzer.analyze)."""
    from facecue.governance import policy_for

    opts = AnalyzeOptions(**options)
    policy_for(purpose, jurisdiction, consent, signals=opts.signals)  # refuse before the models load
    return Analyzer(opts).analyze(path, purpose=purpose, jurisdiction=jurisdiction, consent=consent)
