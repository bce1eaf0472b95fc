"""Analysis options: one dataclass with defaults, validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from facecue.errors import FacecueError

SIGNALS = ("emotions", "behaviour")  # emotions: the CNN's readings; behaviour: head pose, facial actions, blinks
MAX_FPS = 1000.0  # above any camera's rate: more only repeats frames ('all' reads each one)
MAX_SECONDS = 1e6  # --start/--end: about 11 days, past any recording; keeps inf, NaN and 1e308 out


@dataclass(frozen=True)
class AnalyzeOptions:
    fps: float | None = 5.0  # frames analysed per second; None = every frame
    start: float | None = None  # seconds
    end: float | None = None  # seconds
    max_faces: int | None = None  # keep the N most confident faces per frame
    detector: str = "blazeface"  # or "dlib"
    model: str = "default"  # packaged emotion model name, or a path to an exported .onnx
    min_detection_score: float = 0.5
    min_face_px: int | None = None  # find faces down to this width with extra tiled passes (slow); None = one pass
    smoothing_s: float = 0.5  # Gaussian sigma of the temporal smoothing
    min_segment_s: float = 0.5
    batch_size: int = 64  # faces per classifier call
    threads: int = 1  # inference threads per model
    progress: bool = False
    # What is read: ("behaviour",) loads no emotion model and writes no emotion output (docs/RESPONSIBLE_USE.md).
    signals: tuple[str, ...] = SIGNALS

    def __post_init__(self) -> None:
        object.__setattr__(self, "signals", check_signals(self.signals))
        if self.fps is not None and not 0 < self.fps <= MAX_FPS:
            raise FacecueError(f"--fps must be a positive number up to {MAX_FPS:g} or 'all', not {self.fps}.")
        for name in ("start", "end"):
            value = getattr(self, name)
            # NaN fails both comparisons; inf and 1e308 would fail only after the whole analysis (JSON, seeking).
            if value is not None and not 0 <= value <= MAX_SECONDS:
                raise FacecueError(f"--{name} must be between 0 and {MAX_SECONDS:g} seconds, not {value}.")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise FacecueError(f"--end ({self.end}) must come after --start ({self.start}).")
        if self.max_faces is not None and self.max_faces < 1:
            raise FacecueError(f"--max-faces must be at least 1, not {self.max_faces}.")
        if self.detector not in ("blazeface", "dlib"):
            raise FacecueError(f"unknown detector '{self.detector}'; choose blazeface or dlib.")
        if self.min_face_px is not None and self.min_face_px < 8:
            raise FacecueError(f"--min-face-px must be at least 8, not {self.min_face_px}.")
        if not 0 < self.min_detection_score < 1:
            raise FacecueError("the minimum detection score must lie between 0 and 1.")
        if self.smoothing_s < 0 or self.batch_size < 1 or self.threads < 1:
            raise FacecueError("smoothing must be >= 0 and batch size and threads >= 1.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("progress")
        d["signals"] = list(self.signals)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnalyzeOptions:
        """The options as result.json records them (a missing field takes its default, unknown keys are ignored);
        a result written before `signals` existed read emotions only. ValueError when a value is out of range."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in known}
        values.setdefault("signals", ("emotions",))
        try:
            return cls(**values)
        except FacecueError as exc:
            raise ValueError(f"options: {exc}") from None

    @property
    def emotions(self) -> bool:
        return "emotions" in self.signals

    @property
    def behaviour(self) -> bool:
        return "behaviour" in self.signals


def check_signals(signals) -> tuple[str, ...]:
    """The signals to read, in SIGNALS order: a string such as "emotions,behaviour" or a sequence of names."""
    names = signals.split(",") if isinstance(signals, str) else list(signals or ())
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    unknown = [n for n in names if n not in SIGNALS]
    if unknown or not names:
        raise FacecueError(
            f"--signals must name one or both of {', '.join(SIGNALS)} (comma-separated), not {signals!r}."
        )
    return tuple(s for s in SIGNALS if s in names)


def parse_fps(text: str) -> float | None:
    """The --fps argument: a positive number, or 'all' for every frame."""
    if text.strip().lower() == "all":
        return None
    try:
        value = float(text)
    except ValueError:
        raise FacecueError(f"--fps must be a positive number or 'all', not '{text}'.") from None
    if not 0 < value <= MAX_FPS:
        raise FacecueError(f"--fps must be a positive number up to {MAX_FPS:g} or 'all', not '{text}'.")
    return value
