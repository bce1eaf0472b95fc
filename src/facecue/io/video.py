"""Video files as frame sources (PyAV): true timestamps, rotation, sampling at fps, damaged stretches.

Only sampled frames are converted to numpy: H.264 must decode every frame anyway, but the
YUV -> BGR conversion and the copy are skipped for frames nobody looks at.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from fractions import Fraction
from math import gcd
from pathlib import Path

import av
import cv2
import numpy as np

from facecue.errors import FacecueError, InputError
from facecue.io.images import is_image_path, open_image, open_image_folder
from facecue.io.source import Frame, FrameSource, SourceInfo, check_readable_file, sha256_file

__all__ = ["Frame", "FrameSource", "SourceInfo", "VideoSource", "open_source", "read_audio"]

# Clockwise display rotation -> the cv2 call that makes a frame upright.
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
# How much of the stream the opening probe may read looking for one decodable frame.
_PROBE_SECONDS = 10.0
# Frame + slice threads; PyAV's default is slice threads only (x264 writes one slice per frame).
_THREAD_TYPE = "AUTO"
# Skip decoding non-reference frames when sampling at most a third of the frame rate.
_SKIP_NONREF_RATIO = 3


def open_source(
    path: str | Path, fps: float | None = 5.0, start: float | None = None, end: float | None = None
) -> FrameSource:
    """Open a video file, an image file or a folder of images; iterate the result for Frames.

    fps: sampling rate (the frame nearest each tick 1/fps apart, never the same frame twice);
    None yields every frame. start/end: seconds, frames with start <= time_s < end.
    """
    if fps is not None and not fps > 0:
        raise FacecueError(f"fps must be a positive number or None, got {fps}.")
    if start is not None and start < 0:
        raise FacecueError(f"start must be 0 or more seconds, got {start}.")
    if start is not None and end is not None and end <= start:
        raise FacecueError(f"end ({end}) must be after start ({start}).")
    p = Path(path)
    if p.is_dir():
        return open_image_folder(p, start, end)
    if is_image_path(p):
        return open_image(p, start, end)
    return open_video(p, fps, start, end)


def open_video(path: Path, fps: float | None, start: float | None, end: float | None) -> VideoSource:
    check_readable_file(path)
    with _open_container(path) as container:
        stream = _video_stream(container, path)
        first = _first_frame(container, stream, path)
        rotation = _rotation(first)
        tb = stream.time_base
        origin = Fraction(stream.start_time or 0) * tb
        if stream.duration is not None:
            duration = float(stream.duration * tb)
        else:
            duration = (container.duration or 0) / av.time_base
        rate = float(stream.average_rate or stream.guessed_rate or 0)
        width, height = (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
        info = SourceInfo(
            path=str(path),
            kind="video",
            duration_s=duration,
            fps=rate,
            width=width,
            height=height,
            rotation=rotation,
            frame_count=stream.frames or round(duration * rate),
            codec=stream.codec_context.name,
            has_audio=len(container.streams.audio) > 0,
            sha256=sha256_file(path),
        )
        return VideoSource(path, info, stream.index, origin, fps, start, end)


class VideoSource(FrameSource):
    """Streams one video file: one decoder, one pending frame, one converted frame at a time."""

    def __init__(
        self,
        path: Path,
        info: SourceInfo,
        stream_index: int,
        origin: Fraction,
        fps: float | None,
        start: float | None,
        end: float | None,
    ) -> None:
        super().__init__(info)
        self._path = path
        self._stream_index = stream_index
        self._origin = origin  # stream start time: time_s counts from the first frame, as a viewer does
        self._fps = fps
        self._start = start or 0.0
        self._end = end

    def _frames(self) -> Iterator[Frame]:
        with _open_container(self._path) as container:
            if self._start <= 0 or self._seek(container):
                yield from self._sample(self._decoded(container, seeked=self._start > 0))
                return
        # Not seekable (a raw stream) and the failed seek may have read to the end: start over.
        with _open_container(self._path) as container:
            yield from self._sample(self._decoded(container, seeked=False))

    def _seek(self, container) -> bool:
        # Lands on the keyframe at or before start; _sample drops what comes before start.
        stream = container.streams[self._stream_index]
        target = int((self._origin + Fraction(self._start)) / stream.time_base)
        try:
            container.seek(target, stream=stream, backward=True)
        except av.FFmpegError:
            return False
        return True

    def _decoded(self, container, seeked: bool) -> Iterator[tuple[int, float, av.VideoFrame]]:
        """Good frames in presentation order as (index, time_s, frame); damage goes to gaps/decode_errors."""
        stream = container.streams[self._stream_index]
        stream.thread_type = _THREAD_TYPE
        tb = stream.time_base
        rate = self.info.fps or 30.0
        if self._fps is not None and self._fps <= rate / _SKIP_NONREF_RATIO:
            # Sampling far below the frame rate: frames no other frame refers to (B-frames) are not
            # even decoded. The nearest decoded frame is then at most one frame away from each tick.
            stream.codec_context.skip_frame = "NONREF"
        numbers: _FrameNumbers | None = None  # made at the first packet, which may follow a seek
        last_t: float | None = None  # time of the last good frame
        damaged = False  # something failed since the last good frame
        recovering = False  # after an error, frames are garbage until the next keyframe
        packets_end = 0.0  # end of the demuxed stream, to notice a file cut short
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.FFmpegError:  # the container itself is unreadable from here on
                self.decode_errors += 1
                damaged = True
                break
            if numbers is None:
                numbers = _FrameNumbers(self._number_of(stream, packet) if seeked else 0)
            if packet.pts is not None:
                numbers.add(packet.pts)
                packets_end = max(packets_end, float((packet.pts + (packet.duration or 0)) * tb - self._origin))
            try:
                frames = packet.decode()
            except av.FFmpegError:
                self.decode_errors += 1
                damaged = recovering = True
                continue
            for frame in frames:
                if frame.pts is None:  # raw streams without timestamps: assume the average rate
                    index = numbers.next_number()
                    t = index / rate
                else:
                    t, index = float(frame.pts * tb - self._origin), numbers.number(frame.pts)
                if frame.is_corrupt or (recovering and not frame.key_frame) or (last_t is not None and t <= last_t):
                    self.decode_errors += 1
                    damaged = True
                    continue
                recovering = False
                if damaged and t > self._start:
                    self.gaps.append((max(last_t if last_t is not None else self._start, self._start), t))
                damaged = False
                last_t = t
                yield index, t, frame
                if self._end is not None and t >= self._end:
                    return
        self._note_missing_tail(last_t, packets_end, damaged)

    def _number_of(self, stream, packet: av.Packet) -> int:
        """The frame number of the first packet after a seek."""
        entries = stream.index_entries
        if packet.dts is not None and stream.frames and len(entries) == stream.frames:
            # The container indexes every frame (mp4): its position in decode order is exact
            # for a keyframe that starts a closed GOP, which is where seeks land.
            return entries.search_timestamp(packet.dts, backward=True, any_frame=True)
        return round(float((packet.pts or 0) * stream.time_base - self._origin) * (self.info.fps or 30.0))

    def _note_missing_tail(self, last_t: float | None, packets_end: float, damaged: bool) -> None:
        expected = self.info.duration_s if self._end is None else min(self._end, self.info.duration_s)
        slack = 1.5 / (self.info.fps or 30.0)
        gap_start = last_t if last_t is not None else self._start
        if (damaged or packets_end < expected - slack) and gap_start < expected:
            self.gaps.append((gap_start, expected))

    def _sample(self, frames: Iterator[tuple[int, float, av.VideoFrame]]) -> Iterator[Frame]:
        """Frames within [start, end), every one or the one nearest each 1/fps tick."""
        start, end = self._start, self._end
        step = 1.0 / self._fps if self._fps else 0.0
        tick_no = 0
        prev: tuple[int, float, av.VideoFrame] | None = None  # the latest candidate, not yet past its ticks
        prev_sent = False
        for item in frames:
            index, t, frame = item
            if t < start:
                continue
            if end is not None and t >= end:
                break
            if not step:
                yield self._convert(index, t, frame)
                continue
            want_prev = want_this = False
            while start + tick_no * step <= t:
                tick = start + tick_no * step
                if prev is not None and tick - prev[1] <= t - tick:
                    want_prev = True
                else:
                    want_this = True
                tick_no += 1
            if want_prev and not prev_sent and prev is not None:  # want_prev: there is a prev
                yield self._convert(*prev)
            prev, prev_sent = item, want_this
            if want_this:
                yield self._convert(*item)
        # Ticks after the last frame (up to where it stops showing, or end) are nearest to it.
        if step and prev is not None and not prev_sent:
            limit = prev[1] + _shown_for(prev[2], self.info.fps)
            if end is not None:
                limit = min(limit, end)
            if start + tick_no * step < limit:
                yield self._convert(*prev)

    def _convert(self, index: int, t: float, frame: av.VideoFrame) -> Frame:
        image: np.ndarray = frame.to_ndarray(format="bgr24")
        if self.info.rotation:
            image = cv2.rotate(image, _ROTATE[self.info.rotation])
        return Frame(index=index, time_s=t, image=image)


def read_audio(path: str | Path, rate: int = 16000) -> tuple[np.ndarray, int] | None:
    """The first audio stream as float32 mono at `rate`, or None when there is none.

    Sample 0 is at time_s 0 of the video's frames (leading silence is padded), so voice and
    face cues line up.
    """
    p = Path(path)
    check_readable_file(p)
    with _open_container(p) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise InputError(f"{p} uses an audio codec that this FFmpeg build cannot decode.")
        videos = [s for s in container.streams.video if s.start_time is not None]
        clock = videos[0] if videos else stream
        origin = float(Fraction(clock.start_time or 0) * (clock.time_base or 0))  # a stream with times has a base
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        source_rate = stream.codec_context.sample_rate or rate
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # a damaged packet: skip it rather than lose the rest of the track
            for frame in frames:
                if first_time is None and frame.time is not None:
                    first_time = frame.time
                source_rate = frame.sample_rate or source_rate
                chunks.append(_mono_samples(frame))
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    samples = _resample(samples, source_rate, rate)
    lead = round((first_time - origin) * rate) if first_time is not None else 0
    if lead > 0:
        samples = np.concatenate([np.zeros(lead, np.float32), samples])
    elif lead < 0:
        samples = samples[-lead:]
    return samples, rate


# Sample formats as numpy sees them, with the scale that maps them to [-1, 1].
_SAMPLE_TYPES = {
    "u8": (np.uint8, 128.0),
    "s16": (np.int16, 32768.0),
    "s32": (np.int32, 2147483648.0),
    "flt": (np.float32, 1.0),
    "dbl": (np.float64, 1.0),
}


def _mono_samples(frame: av.AudioFrame) -> np.ndarray:
    """One decoded frame as float32 mono: channels averaged, in numpy (FFmpeg's per-frame resampler costs
    several times the decoding on long recordings)."""
    name = frame.format.name
    if name.rstrip("p") not in _SAMPLE_TYPES:
        raise InputError(f"audio samples in the {name} format are not supported.")
    dtype, scale = _SAMPLE_TYPES[name.rstrip("p")]
    data = frame.to_ndarray()
    channels = len(frame.layout.channels)
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T  # interleaved: (1, n * channels) -> (channels, n)
    data = data.astype(np.float32)
    if dtype is np.uint8:
        data -= 128.0
    return (data.mean(axis=0) if channels > 1 else data[0]) / np.float32(scale)


def _resample(samples: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    """Polyphase resampling with an anti-aliasing filter (48 kHz -> 16 kHz is a plain 3:1 decimation)."""
    if source_rate == rate or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(int(source_rate), int(rate))
    return resample_poly(samples, rate // g, int(source_rate) // g).astype(np.float32)


def _open_container(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path))
    except av.FFmpegError as e:
        raise InputError(
            f"{path} is not a video FFmpeg can read (unknown format, or the file is damaged or incomplete)."
        ) from e
    except OSError as e:
        raise InputError(f"{path} cannot be read ({e.strerror or e}).") from e


def _video_stream(container, path: Path):
    # Cover art in audio files shows up as a one-picture video stream; it is not video.
    streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not streams:
        what = "audio only" if container.streams.audio else "no video"
        raise InputError(f"{path} has no video stream ({what}).")
    stream = streams[0]
    if stream.codec_context is None:
        raise InputError(f"{path} uses a video codec that this FFmpeg build cannot decode.")
    return stream


def _first_frame(container, stream, path: Path) -> av.VideoFrame:
    """Decode until one frame comes out: proves the codec works and gives the rotation."""
    limit = _PROBE_SECONDS / stream.time_base + (stream.start_time or 0)
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                frames = []
            if frames:
                return frames[0]
            if packet.pts is not None and packet.pts > limit:
                break
    except av.FFmpegError:
        pass
    raise InputError(f"{path} has a {stream.codec_context.name} video stream but none of its frames could be decoded.")


class _FrameNumbers:
    """A frame's number = how many packets come before it in presentation order.

    Counting packets rather than decoded frames keeps numbers right after packets that fail
    to decode. Only packets not yet passed by an output frame are held, so memory stays flat.
    """

    def __init__(self, first: int) -> None:
        self._passed = first
        self._pending: list[int] = []  # sorted pts

    def add(self, pts: int) -> None:
        bisect.insort(self._pending, pts)

    def number(self, pts: int) -> int:
        n = self._passed + bisect.bisect_left(self._pending, pts)
        done = bisect.bisect_right(self._pending, pts)
        self._passed += done
        del self._pending[:done]
        return n

    def next_number(self) -> int:
        self._passed += 1
        return self._passed - 1


def _rotation(frame: av.VideoFrame) -> int:
    """Clockwise degrees (like the old `rotate` tag); PyAV reports the display matrix counter-clockwise."""
    return (-round(frame.rotation / 90) * 90) % 360


def _shown_for(frame: av.VideoFrame, fps: float) -> float:
    if frame.duration and frame.time_base:
        return float(frame.duration * frame.time_base)
    return 1.0 / (fps or 30.0)
