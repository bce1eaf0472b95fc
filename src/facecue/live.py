"""Live analysis of a webcam or network stream: always the newest frame, dropping what we cannot keep up with."""

from __future__ import annotations

import csv
import math
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from facecue.behaviour.columns import BEHAVIOUR_COLUMNS
from facecue.errors import InputError
from facecue.io.video import Frame
from facecue.labels import EMOTIONS
from facecue.options import MAX_FPS
from facecue.result import POSE_COLUMNS


def open_stream(source: str):
    """A webcam index ('0' -> /dev/video0 via v4l2), a URL (rtsp://, http://…) or a file path."""
    try:
        if source.isdigit():
            return av.open(f"/dev/video{source}", format="v4l2")
        return av.open(source, options={"rtsp_transport": "tcp"} if source.startswith("rtsp") else None)
    except (av.FFmpegError, OSError) as exc:
        raise InputError(f"cannot open the live source {source}: {exc}") from None


class LatestFrameReader:
    """Decodes on a background thread and keeps only the newest frame, so analysis never lags
    behind the stream: frames that arrive while one is being analysed are dropped and counted."""

    def __init__(self, container, pace: bool = False) -> None:
        self.container = container
        self.pace = pace  # files decode faster than real time: pace them like a live camera
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._done = False
        self.decoded = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        stream = self.container.streams.video[0]
        stream.thread_type = "AUTO"
        t0 = time.monotonic()
        try:
            for index, frame in enumerate(self.container.decode(stream)):
                t = float(frame.pts * frame.time_base) if frame.pts is not None else time.monotonic() - t0
                if self.pace:
                    delay = t - (time.monotonic() - t0)
                    if delay > 0:
                        time.sleep(delay)
                item = Frame(index=index, time_s=t, image=frame.to_ndarray(format="bgr24"))
                with self._cond:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = item
                    self.decoded += 1
                    self._cond.notify()
                if self._done:
                    break
        except av.FFmpegError:
            pass  # a broken stream ends the session like a closed one
        finally:
            with self._cond:
                self._done = True
                self._cond.notify()

    def frames(self, min_interval_s: float = 0.0) -> Iterator[Frame]:
        last_t = -np.inf
        while True:
            with self._cond:
                while self._latest is None and not self._done:
                    self._cond.wait(timeout=1.0)
                item, self._latest = self._latest, None
                if item is None and self._done:
                    return
            if item is None:
                continue
            if item.time_s - last_t < min_interval_s:
                self.dropped += 1
                continue
            last_t = item.time_s
            yield item

    def close(self) -> None:
        self._done = True
        self._thread.join(timeout=2)
        self.container.close()


def _cell(value: float) -> str:
    return "" if np.isnan(value) else f"{value:.4f}"


def _behaviour_text(pose: np.ndarray, behaviour: np.ndarray) -> str:
    """Head pose and the smile and eyes-closed scores of one face, as a short line (nothing about emotions)."""
    yaw, pitch, _ = pose
    text = f"yaw {yaw:+.0f}°, pitch {pitch:+.0f}°"
    smile, closed = behaviour[BEHAVIOUR_COLUMNS.index("smile")], behaviour[BEHAVIOUR_COLUMNS.index("eyes_closed")]
    if not np.isnan(smile):
        text += f", smile {smile:.2f}" + (", eyes closed" if closed >= 0.5 else "")
    return text


def _csv_mode(path: Path, header: list[str], source: str) -> str:
    """How to open the --csv file: "a" to append to an earlier session's rows with these columns, "w" for a new or
    empty file (it was always overwritten, even when it was the video being read)."""
    if Path(source).is_file() and path.resolve() == Path(source).resolve():
        raise InputError(f"--csv {path} is the video being read; choose another file.")
    if not (path.is_file() and path.stat().st_size):
        return "w"
    with path.open(newline="") as existing:
        first = next(csv.reader(existing), [])
    if first != header:
        raise InputError(f"--csv {path} holds other columns (another kind of file or other --signals); choose another.")
    return "a"


def run_live_cli(args) -> int:
    from facecue.abstain import Abstain, abstain_code
    from facecue.governance.check import check_policy
    from facecue.options import AnalyzeOptions, check_signals
    from facecue.pipeline import Analyzer
    from facecue.timeline.smoothing import ExponentialSmoother

    if not 0 < args.fps <= MAX_FPS:  # live reads at a rate: there is no 'all' here
        raise InputError(f"--fps must be a positive number of frames per second up to {MAX_FPS:g}, not {args.fps}.")
    if args.seconds is not None and not 0 < args.seconds < math.inf:  # NaN and 0 ran the whole source
        raise InputError(f"--seconds must be a positive number, not {args.seconds}.")
    options = AnalyzeOptions(fps=args.fps, signals=check_signals(args.signals))
    # A live analysis of a person is decided like any other, before the camera or stream is opened.
    _, consent = check_policy(args)
    analyzer = Analyzer(options)
    emotions, behaviour = options.emotions, options.behaviour
    header = (
        ["time_s", "frame", "face_id", "x", "y", "w", "h", "quality"]
        + ([*EMOTIONS, "label"] if emotions else [])
        + ([*POSE_COLUMNS, *BEHAVIOUR_COLUMNS] if behaviour else [])
    )
    mode = _csv_mode(Path(args.csv), header, args.source) if args.csv else ""  # checked before the source opens
    container = open_stream(args.source)
    writer, handle = None, None
    if args.csv:
        try:
            handle = open(args.csv, mode, newline="")  # noqa: SIM115 - closed in the finally below, with the reader
        except OSError as exc:
            container.close()
            raise InputError(f"cannot write --csv {args.csv}: {exc.strerror or exc}.") from None
        writer = csv.writer(handle)
        if mode == "w":
            writer.writerow(header)
    is_file = Path(args.source).is_file()
    reader = LatestFrameReader(container, pace=is_file)
    smoothers: dict[int, ExponentialSmoother] = {}
    started = time.monotonic()
    analysed = 0
    try:
        frames = analyzer.stream(
            reader.frames(1.0 / args.fps), purpose=args.purpose, jurisdiction=args.jurisdiction, consent=consent
        )
        for frame, faces, ids, probs in frames:
            analysed += 1
            parts = []
            for i, face_id in enumerate(ids.tolist()):
                if abstain_code(faces.abstain[i]) is Abstain.NOT_VISIBLE:
                    continue  # the mesh says this detection is not a face
                row = [
                    f"{frame.time_s:.3f}",
                    frame.index,
                    face_id,
                    *(f"{v:.1f}" for v in faces.boxes[i]),
                    f"{faces.quality[i]:.3f}",
                ]
                said = []
                if emotions:
                    smooth = smoothers.setdefault(face_id, ExponentialSmoother()).update(
                        frame.time_s, None if np.isnan(probs[i]).any() else probs[i]
                    )
                    label = EMOTIONS[int(np.argmax(smooth))] if smooth is not None else ""
                    said.append(
                        f"{label} {smooth.max():.0%}" if smooth is not None else f"abstained ({faces.abstain[i]})"
                    )
                    row += [*([f"{v:.4f}" for v in smooth] if smooth is not None else [""] * 7), label]
                if behaviour and faces.behaviour is not None:
                    said.append(_behaviour_text(faces.pose[i], faces.behaviour[i]))
                    row += [_cell(v) for v in (*faces.pose[i], *faces.behaviour[i])]
                parts.append(f"face {face_id}: " + ", ".join(said))
                if writer:
                    writer.writerow(row)
            print(f"{frame.time_s:8.2f}s  " + ("; ".join(parts) or "no face"), flush=True)
            if args.seconds and time.monotonic() - started >= args.seconds:
                break
    finally:
        reader.close()
        if handle:
            handle.close()
    print(f"analysed {analysed} frames, dropped {reader.dropped} to stay real time", file=sys.stderr)
    return 0
