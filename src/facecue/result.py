"""The analysis result: frozen dataclasses of numpy arrays, with JSON, CSV and pandas views.

Schema `facecue.result/1` is documented in docs/RESULT_SCHEMA.md and checked by a test.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from facecue.abstain import Abstain, abstain_code
from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.io.source import SourceInfo
from facecue.labels import EMOTIONS, NUM_EMOTIONS
from facecue.options import AnalyzeOptions

SCHEMA = "facecue.result/1"
SIGNALS = ("emotions", "behaviour")  # what an analysis may read: see AnalyzeOptions.signals
NUM_BEHAVIOUR = len(BEHAVIOUR_COLUMNS)


def _nan_to_none(values: np.ndarray) -> list:
    """A float array as nested lists, NaN written as null (JSON has no NaN), 4 decimals."""
    if values.ndim > 1:
        return [_nan_to_none(row) for row in values]
    return [None if math.isnan(v) else v for v in np.round(values.astype(np.float64), 4).tolist()]


def _to_array(values, dtype, width: int | None = None) -> np.ndarray:
    arr = np.array(
        [[np.nan if v is None else v for v in row] for row in values]
        if width
        else [np.nan if v is None else v for v in values],
        dtype=dtype,
    )
    if width and arr.size == 0:
        arr = arr.reshape(0, width)
    return arr


@dataclass(frozen=True)
class FaceRows:
    """One row per detected face per analysed frame (M rows)."""

    frame_pos: np.ndarray  # (M,) int64 index into Result.times
    face_id: np.ndarray  # (M,) int64 track id
    boxes: np.ndarray  # (M, 4) float32 x, y, w, h in pixels
    det_score: np.ndarray  # (M,) float32
    quality: np.ndarray  # (M,) float32 0..1
    abstain: tuple[str, ...]  # (M,) "" when usable, else the reason
    pose: np.ndarray  # (M, 3) float32 yaw, pitch, roll in degrees (NaN when unknown)
    probs: np.ndarray  # (M, 7) float32 calibrated probabilities (NaN when abstained or not inferred)
    # (M, len(BEHAVIOUR_COLUMNS)) float32, NaN where not read; None when behaviour was not analysed.
    behaviour: np.ndarray | None = None
    behaviour_reason: tuple[str, ...] = ()  # (M,) why a row's facial actions were not read, "" when they were

    def __post_init__(self) -> None:
        m = len(self.frame_pos)
        shapes = {
            "face_id": (m,),
            "boxes": (m, 4),
            "det_score": (m,),
            "quality": (m,),
            "pose": (m, 3),
            "probs": (m, NUM_EMOTIONS),
        }
        if self.behaviour is not None:
            shapes["behaviour"] = (m, NUM_BEHAVIOUR)
            if len(self.behaviour_reason) != m:
                raise ValueError("FaceRows.behaviour_reason must have one entry per row")
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise ValueError(f"FaceRows.{name} has shape {getattr(self, name).shape}, expected {shape}")
        if len(self.abstain) != m:
            raise ValueError("FaceRows.abstain must have one entry per row")
        b = self.behaviour[~np.isnan(self.behaviour)] if self.behaviour is not None else np.zeros(0)
        if b.size and (b.min() < -180 or b.max() > 180):
            raise ValueError("FaceRows.behaviour values must be angles in -180..180 degrees or scores in 0..1")
        q = self.quality[~np.isnan(self.quality)]
        if q.size and (q.min() < 0 or q.max() > 1):
            raise ValueError("FaceRows.quality must lie in 0..1")

    def __len__(self) -> int:
        return len(self.frame_pos)

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> FaceRows:
        """The rows at an int, a slice, integer positions or a (M,) bool mask, as FaceRows (one row for an int)."""
        positions = np.atleast_1d(np.arange(len(self))[list(index) if isinstance(index, tuple) else index])
        return FaceRows(
            self.frame_pos[positions],
            self.face_id[positions],
            self.boxes[positions],
            self.det_score[positions],
            self.quality[positions],
            tuple(self.abstain[i] for i in positions),
            self.pose[positions],
            self.probs[positions],
            None if self.behaviour is None else self.behaviour[positions],
            tuple(self.behaviour_reason[i] for i in positions) if self.behaviour is not None else (),
        )

    @classmethod
    def concat(cls, parts: Sequence[FaceRows]) -> FaceRows:
        """The rows of several FaceRows one after another; all with behaviour or all without."""
        if not parts:
            return cls.empty()
        with_behaviour = {p.behaviour is not None for p in parts}
        if len(with_behaviour) > 1:
            raise ValueError("FaceRows.concat: some parts have behaviour columns and some do not")
        behaviour = [p.behaviour for p in parts if p.behaviour is not None]
        return cls(
            np.concatenate([p.frame_pos for p in parts]),
            np.concatenate([p.face_id for p in parts]),
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.det_score for p in parts]),
            np.concatenate([p.quality for p in parts]),
            tuple(itertools.chain.from_iterable(p.abstain for p in parts)),
            np.concatenate([p.pose for p in parts]),
            np.concatenate([p.probs for p in parts]),
            np.concatenate(behaviour) if behaviour else None,
            tuple(itertools.chain.from_iterable(p.behaviour_reason for p in parts)),
        )

    @classmethod
    def empty(cls, behaviour: bool = False) -> FaceRows:
        """No rows; with `behaviour`, the (empty) behaviour columns of a behaviour analysis."""
        z = np.zeros(0, np.float32)
        return cls(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, 4), np.float32),
            z,
            z,
            (),
            np.zeros((0, 3), np.float32),
            np.zeros((0, NUM_EMOTIONS), np.float32),
            np.zeros((0, NUM_BEHAVIOUR), np.float32) if behaviour else None,
        )

    @cached_property
    def abstain_codes(self) -> tuple[Abstain | None, ...]:
        """Per row the code of `abstain` (facecue.abstain): None where the face was read."""
        return tuple(abstain_code(r) for r in self.abstain)

    @property
    def confirmed(self) -> np.ndarray:
        """(M,) bool: rows the face mesh confirmed as a face (every reason but NOT_VISIBLE leaves a face)."""
        return np.array([c is not Abstain.NOT_VISIBLE for c in self.abstain_codes], bool)

    def to_dict(self, emotions: bool = True) -> dict:
        """emotions=False (behaviour-only analyses) leaves the probabilities out: that mode infers none."""
        d = {
            "frame_pos": self.frame_pos.tolist(),
            "face_id": self.face_id.tolist(),
            "box": _nan_to_none(self.boxes),
            "det_score": _nan_to_none(self.det_score),
            "quality": _nan_to_none(self.quality),
            "abstain": list(self.abstain),
            "pose": _nan_to_none(self.pose),
        }
        if emotions:
            d["probs"] = _nan_to_none(self.probs)
        if self.behaviour is not None:
            d["behaviour"] = {name: _nan_to_none(self.behaviour[:, k]) for k, name in enumerate(BEHAVIOUR_COLUMNS)}
            d["behaviour_reason"] = list(self.behaviour_reason)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FaceRows:
        m = len(d["frame_pos"])
        probs = (
            _to_array(d["probs"], np.float32, NUM_EMOTIONS)
            if "probs" in d
            else np.full((m, NUM_EMOTIONS), np.nan, np.float32)
        )
        behaviour = None
        if "behaviour" in d:
            columns = d["behaviour"]
            behaviour = (
                np.stack([_to_array(columns.get(name, [None] * m), np.float32) for name in BEHAVIOUR_COLUMNS], axis=1)
                if m
                else np.zeros((0, NUM_BEHAVIOUR), np.float32)
            )
        return cls(
            np.array(d["frame_pos"], np.int64),
            np.array(d["face_id"], np.int64),
            _to_array(d["box"], np.float32, 4),
            _to_array(d["det_score"], np.float32),
            _to_array(d["quality"], np.float32),
            tuple(d["abstain"]),
            _to_array(d["pose"], np.float32, 3),
            probs,
            behaviour,
            tuple(d.get("behaviour_reason", ())),
        )


@dataclass(frozen=True)
class Track:
    """One person's face over time; `role` is 'candidate' (the dominant track) or 'other'."""

    face_id: int
    role: str
    n_frames: int
    ranges: tuple[tuple[float, float], ...]  # time ranges (s) in view

    def to_dict(self) -> dict:
        return {
            "face_id": self.face_id,
            "role": self.role,
            "n_frames": self.n_frames,
            "ranges": [list(r) for r in self.ranges],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Track:
        return cls(int(d["face_id"]), d["role"], int(d["n_frames"]), tuple(tuple(r) for r in d["ranges"]))


@dataclass(frozen=True)
class Segment:
    """A stretch of the candidate's timeline with one dominant smoothed label."""

    start_s: float
    end_s: float
    label: str
    confidence: float  # mean smoothed probability of `label` over the segment

    def to_dict(self) -> dict:
        return {
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            "label": self.label,
            "confidence": round(self.confidence, 4),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Segment:
        return cls(float(d["start_s"]), float(d["end_s"]), d["label"], float(d["confidence"]))


@dataclass(frozen=True)
class Timeline:
    """The candidate's per-frame probabilities (F rows, NaN where absent or abstained)."""

    raw: np.ndarray  # (F, 7)
    smoothed: np.ndarray  # (F, 7)
    present: np.ndarray  # (F,) bool: the candidate's face was detected
    usable: np.ndarray  # (F,) bool: present and not abstained

    def to_dict(self, emotions: bool = True) -> dict:
        if not emotions:  # behaviour-only: where the candidate was in view, and no emotion reading at all
            return {"present": self.present.tolist()}
        return {
            "raw": _nan_to_none(self.raw),
            "smoothed": _nan_to_none(self.smoothed),
            "present": self.present.tolist(),
            "usable": self.usable.tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Timeline:
        present = np.array(d["present"], bool)
        if "raw" not in d:
            empty = np.full((len(present), NUM_EMOTIONS), np.nan, np.float32)
            return cls(empty, empty.copy(), present, np.zeros(len(present), bool))
        return cls(
            _to_array(d["raw"], np.float32, NUM_EMOTIONS),
            _to_array(d["smoothed"], np.float32, NUM_EMOTIONS),
            present,
            np.array(d["usable"], bool),
        )


@dataclass(frozen=True)
class ModelRef:
    """One model an analysis used; the emotion model also records its file's sha256 and calibration temperature."""

    name: str
    version: str
    sha256: str | None = None
    temperature: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.sha256 is not None:
            d["sha256"] = self.sha256
        if self.temperature is not None:
            d["temperature"] = self.temperature
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelRef:
        return cls(d.get("name", ""), d.get("version", ""), d.get("sha256"), d.get("temperature"))


@dataclass(frozen=True)
class ModelsInfo:
    """result.json's `models`: each is None when the analysis did not use it (no emotion model when only
    behaviour is read; a hand-made result may record none)."""

    detector: ModelRef | None = None
    landmarks: ModelRef | None = None
    emotion: ModelRef | None = None
    behaviour: ModelRef | None = None
    iris: ModelRef | None = None  # gaze (behaviour)
    body: ModelRef | None = None  # posture (behaviour)

    ROLES = ("detector", "landmarks", "iris", "emotion", "behaviour", "body")  # result.json's key order

    def to_dict(self) -> dict[str, Any]:
        return {role: ref.to_dict() for role in self.ROLES if (ref := getattr(self, role)) is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ModelsInfo:
        return cls(**{role: ModelRef.from_dict(_section(d, role)) for role in cls.ROLES if role in d})


# What a behaviour-only analysis leaves out of the summary: it reads no emotion, not even as empty values.
_EMOTION_SUMMARY = ("abstained", "mean_probs", "dominant", "baseline", "relative_to_baseline")


@dataclass(frozen=True)
class Summary:
    """result.json's `summary` (docs/RESULT_SCHEMA.md). The figures are typed; the sections other modules write
    (the baseline, behaviour and policy records) keep their JSON shape."""

    analysed_at: str | None = None  # ISO 8601, UTC
    frames_analysed: int = 0
    faces_found: int = 0
    face_presence: float = 0.0  # share of analysed frames with the candidate's face
    abstained: float = 0.0  # share of the candidate's frames the model did not read (emotion analyses)
    abstain_reasons: dict[str, int] = field(default_factory=dict)  # by message (facecue.abstain)
    mean_probs: dict[str, float] = field(default_factory=dict)  # {} without a readable frame
    dominant: str | None = None
    other_people: list[dict[str, Any]] = field(default_factory=list)  # [{face_id, ranges}]
    no_face: bool = False
    processing_s: float = 0.0
    realtime_factor: float | None = None
    decode_errors: int = 0
    baseline: dict[str, Any] | None = None  # timeline/baseline.py's describe(); None under 10 s of readable face
    relative_to_baseline: dict[str, float] = field(default_factory=dict)
    behaviour: dict[str, Any] | None = None  # behaviour/summary.py's figures, when behaviour was read
    policy: dict[str, Any] | None = None  # the policy table's decision for this analysis
    extra: dict[str, Any] = field(default_factory=dict)  # keys other layers add (the service's `service`)

    def to_dict(self, emotions: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "analysed_at": self.analysed_at,
            "frames_analysed": self.frames_analysed,
            "faces_found": self.faces_found,
            "face_presence": self.face_presence,
            "abstained": self.abstained,
            "abstain_reasons": self.abstain_reasons,
            "mean_probs": self.mean_probs,
            "dominant": self.dominant,
            "other_people": self.other_people,
            "no_face": self.no_face,
            "processing_s": self.processing_s,
            "realtime_factor": self.realtime_factor,
            "decode_errors": self.decode_errors,
            "baseline": self.baseline,
            "relative_to_baseline": self.relative_to_baseline,
        }
        if not emotions:
            for key in _EMOTION_SUMMARY:
                del d[key]
        if self.behaviour is not None:
            d["behaviour"] = self.behaviour
        if self.policy is not None:
            d["policy"] = self.policy
        return {**d, **self.extra}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Summary:
        """A missing figure takes its default (results written by hand or before the figure existed); a reader
        that must tell a missing figure from a zero (the HTML report) reads the document's summary instead."""
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in d.items() if k in known}, extra={k: v for k, v in d.items() if k not in known})


@dataclass(frozen=True)
class Result:
    source: SourceInfo
    models: ModelsInfo
    options: AnalyzeOptions
    times: np.ndarray  # (F,) float64 seconds of each analysed frame
    frame_index: np.ndarray  # (F,) int64 frame number in the source
    faces: FaceRows
    tracks: tuple[Track, ...]
    candidate_id: int | None
    timeline: Timeline
    segments: tuple[Segment, ...]
    summary: Summary
    gaps: tuple[tuple[float, float], ...] = ()
    notes: tuple[str, ...] = field(default=())
    interview: dict | None = None  # the interview section (docs/SIGNALS.md); optional, additive to the schema

    def __post_init__(self) -> None:
        f = len(self.times)
        if self.frame_index.shape != (f,):
            raise ValueError("Result.frame_index must have one entry per analysed frame")
        if len(self.faces) and (self.faces.frame_pos.min() < 0 or self.faces.frame_pos.max() >= f):
            raise ValueError("FaceRows.frame_pos points outside the analysed frames")
        for name in ("raw", "smoothed"):
            if getattr(self.timeline, name).shape != (f, NUM_EMOTIONS):
                raise ValueError(f"Timeline.{name} must be (F, 7)")

    def to_dict(self) -> dict:
        d = self._core_dict()
        if self.interview is not None:
            d["interview"] = self.interview
        return d

    @property
    def signals(self) -> tuple[str, ...]:
        """What this analysis read (results written before the option existed read emotions only)."""
        return self.options.signals

    @property
    def emotions(self) -> bool:
        return "emotions" in self.signals

    def _core_dict(self) -> dict:
        emotions = self.emotions
        d = {
            "schema": SCHEMA,
            "labels": list(EMOTIONS),
            "source": self.source.to_dict(),
            "models": self.models.to_dict(),
            "options": self.options.to_dict(),
            "frames": {"time_s": np.round(self.times, 4).tolist(), "frame": self.frame_index.tolist()},
            "faces": self.faces.to_dict(emotions),
            "tracks": [t.to_dict() for t in self.tracks],
            "candidate_id": self.candidate_id,
            "timeline": self.timeline.to_dict(emotions),
            "segments": [s.to_dict() for s in self.segments],
            "summary": self.summary.to_dict(emotions),
            "gaps": [list(g) for g in self.gaps],
            "notes": list(self.notes),
        }
        if not emotions:  # behaviour-only: not even the label names, so nothing reads as an emotion output
            del d["labels"], d["segments"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Result:
        if d.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document (schema={d.get('schema')!r})")
        return cls(
            SourceInfo.from_dict(_section(d, "source")),
            ModelsInfo.from_dict(_section(d, "models")),
            AnalyzeOptions.from_dict(_section(d, "options")),
            np.array(d["frames"]["time_s"], np.float64),
            np.array(d["frames"]["frame"], np.int64),
            FaceRows.from_dict(d["faces"]),
            tuple(Track.from_dict(t) for t in d["tracks"]),
            d["candidate_id"],
            Timeline.from_dict(d["timeline"]),
            tuple(Segment.from_dict(s) for s in d.get("segments", ())),
            Summary.from_dict(_section(d, "summary")),
            tuple(tuple(g) for g in d["gaps"]),
            tuple(d["notes"]),
            d.get("interview"),
        )

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def csv_columns(self) -> list[str]:
        """frames.csv's columns for this result's signals (docs/RESULT_SCHEMA.md)."""
        return csv_columns(self.signals, self.faces.behaviour is not None) + (["source"] if self.source.files else [])

    def frame_rows(self) -> list[dict]:
        """frames.csv rows: one per analysed frame per face; a frame without faces gives one empty row."""
        columns = self.csv_columns()
        emotions, behaviour, files = self.emotions, self.faces.behaviour, self.source.files
        rows: list[dict] = []
        by_frame: dict[int, list[int]] = {}
        for i, pos in enumerate(self.faces.frame_pos.tolist()):
            by_frame.setdefault(pos, []).append(i)
        for pos, (t, idx) in enumerate(zip(self.times.tolist(), self.frame_index.tolist(), strict=False)):
            base = {"time_s": round(t, 4), "frame": idx, **({"source": files[idx]} if files else {})}
            if pos not in by_frame:
                rows.append({**{k: "" for k in columns[2:]}, **base})
                continue
            for i in by_frame[pos]:
                x, y, w, h = (round(float(v), 1) for v in self.faces.boxes[i])
                row = {
                    **base,
                    "face_id": int(self.faces.face_id[i]),
                    "x": x,
                    "y": y,
                    "w": w,
                    "h": h,
                    "det_score": round(float(self.faces.det_score[i]), 4),
                    "quality": round(float(self.faces.quality[i]), 4),
                }
                if emotions:
                    probs = self.faces.probs[i]
                    usable = not self.faces.abstain[i] and not np.isnan(probs).any()
                    row.update(
                        {e: (round(float(p), 4) if usable else "") for e, p in zip(EMOTIONS, probs, strict=True)}
                    )
                    row["label"] = EMOTIONS[int(np.argmax(probs))] if usable else ""
                if behaviour is not None:
                    row.update({name: _cell(v) for name, v in zip(POSE_COLUMNS, self.faces.pose[i], strict=True)})
                    row.update({name: _cell(v) for name, v in zip(BEHAVIOUR_COLUMNS, behaviour[i], strict=True)})
                    row["behaviour_reason"] = self.faces.behaviour_reason[i]
                rows.append(row)
        return rows

    def write_csv(self, path: Path) -> None:
        with Path(path).open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.csv_columns())
            writer.writeheader()
            writer.writerows(self.frame_rows())

    def to_frame(self):
        """frames.csv as a pandas DataFrame (pandas is optional)."""
        import pandas as pd

        return pd.DataFrame(self.frame_rows(), columns=self.csv_columns())


def _section(d: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """A JSON object inside a result document; KeyError when it is missing, TypeError when it is not an object."""
    value = d[key]
    if not isinstance(value, Mapping):
        raise TypeError(f"'{key}' must be a JSON object, not {type(value).__name__}")
    return value


def _cell(value: float) -> float | str:
    """A CSV cell: 4 decimals, empty when the value was not read (never a stand-in number)."""
    return "" if math.isnan(float(value)) else round(float(value), 4)


POSE_COLUMNS = ("yaw", "pitch", "roll")
CSV_COLUMNS = ["time_s", "frame", "face_id", "x", "y", "w", "h", "det_score", "quality", *EMOTIONS, "label"]


def csv_columns(signals: tuple[str, ...] = SIGNALS, behaviour: bool = True) -> list[str]:
    """frames.csv's header: the face columns, the emotion columns when emotions were inferred, then head pose,
    the behaviour columns and the reason a row's facial actions were not read, when behaviour was analysed."""
    columns = CSV_COLUMNS[:9] + (CSV_COLUMNS[9:] if "emotions" in signals else [])
    if behaviour and "behaviour" in signals:
        columns += [*POSE_COLUMNS, *BEHAVIOUR_COLUMNS, "behaviour_reason"]
    return columns
