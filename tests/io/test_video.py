"""Frame sources on clips made here with PyAV: timestamps, sampling, seeking, rotation, damage, stills, audio."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from facecue.errors import FacecueError, InputError
from facecue.io.video import Frame, open_source, read_audio

W, H = 64, 48
BITS = 8  # each frame shows its number as 8 black/white bars, readable after compression


def numbered(i: int, width: int = W, height: int = H) -> np.ndarray:
    bar = width // BITS
    img = np.zeros((height, width, 3), np.uint8)
    for b in range(BITS):
        if (i >> b) & 1:
            img[:, b * bar : (b + 1) * bar] = 255
    return img


def read_number(img: np.ndarray) -> int:
    bar = img.shape[1] // BITS
    return sum(1 << b for b in range(BITS) if img[:, b * bar : (b + 1) * bar].mean() > 128)


def write_clip(
    path: Path,
    n: int = 90,
    rate: int = 30,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    rotation: float | None = None,
    images=None,
    audio_hz: float | None = None,
    faststart: bool = True,
    size: tuple[int, int] = (W, H),
) -> Path:
    """H.264 mp4; frame i shows numbered(i) unless `images` is given; optional hand-set pts and audio."""
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        # No B-frames, a keyframe every 15 frames and no others: decode order is presentation
        # order and the keyframes are where the tests expect them.
        video = out.add_stream("libx264", rate=rate, options={"g": "15", "bf": "0", "sc_threshold": "0"})
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        if time_base is not None:
            video.time_base = video.codec_context.time_base = time_base
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=44100, layout="mono") if audio_hz else None
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(images[i] if images is not None else numbered(i, *size), format="bgr24")
            frame.pts = pts[i] if pts is not None else i
            if time_base is not None:
                frame.time_base = time_base
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None:
            seconds = n / rate
            t = np.arange(int(seconds * 44100)) / 44100
            tone = (0.3 * np.sin(2 * np.pi * audio_hz * t)).astype(np.float32)
            for start in range(0, tone.size, 1024):
                block = av.AudioFrame.from_ndarray(tone[None, start : start + 1024], format="fltp", layout="mono")
                block.sample_rate, block.pts = 44100, start
                out.mux(sound.encode(block))
            out.mux(sound.encode())
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s, 30 fps, 90 numbered frames, index at the front."""
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")


def times(frames: list[Frame]) -> list[float]:
    return [round(f.time_s, 6) for f in frames]


# --- timestamps, sampling, seeking ---------------------------------------------------------------


def test_info_describes_the_clip(clip):
    info = open_source(clip).info
    assert (info.kind, info.width, info.height, info.rotation, info.codec) == ("video", W, H, 0, "h264")
    assert info.fps == 30.0 and info.duration_s == pytest.approx(3.0) and info.frame_count == 90
    assert info.has_audio is False
    assert info.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert info.to_dict()["sha256"] == info.sha256 and info.to_dict()["kind"] == "video"


def test_every_frame_has_its_number_time_and_content(clip):
    frames = list(open_source(clip, fps=None))
    assert [f.index for f in frames] == list(range(90))
    assert times(frames) == [round(i / 30, 6) for i in range(90)]
    assert [read_number(f.image) for f in frames] == list(range(90))
    assert all(f.image.shape == (H, W, 3) and f.image.dtype == np.uint8 for f in frames)


def test_sampling_at_5_fps_takes_the_frame_on_each_tick(clip):
    source = open_source(clip, fps=5)
    frames = list(source)
    assert [f.index for f in frames] == list(range(0, 90, 6))
    assert times(frames) == [round(k * 0.2, 6) for k in range(15)]
    assert [read_number(f.image) for f in frames] == list(range(0, 90, 6))
    assert source.gaps == [] and source.decode_errors == 0


def test_sampling_faster_than_the_video_never_repeats_a_frame(clip):
    frames = list(open_source(clip, fps=100))
    assert [f.index for f in frames] == list(range(90))


def test_start_and_end_seek_and_stop(clip):
    frames = list(open_source(clip, fps=5, start=1.0, end=2.0))
    assert times(frames) == [1.0, 1.2, 1.4, 1.6, 1.8]
    assert [f.index for f in frames] == [30, 36, 42, 48, 54]
    assert [read_number(f.image) for f in frames] == [30, 36, 42, 48, 54]
    every = list(open_source(clip, fps=None, start=2.5))
    assert [f.index for f in every] == list(range(75, 90))
    assert list(open_source(clip, start=10.0)) == []


@pytest.mark.parametrize("suffix", [".mkv", ".h264"])
def test_start_without_a_full_index_or_any_seeking(tmp_path, suffix):
    # mkv indexes keyframes only (frame numbers come from time); a raw .h264 cannot seek at all.
    path = write_clip(tmp_path / f"clip{suffix}", rate=25, n=75, faststart=False)
    frames = list(open_source(path, fps=5, start=1.0, end=2.0))
    assert times(frames) == [1.0, 1.2, 1.4, 1.6, 1.8]
    assert [f.index for f in frames] == [read_number(f.image) for f in frames] == [25, 30, 35, 40, 45]


def test_iterating_again_starts_again(clip):
    source = open_source(clip, fps=2)
    assert [f.index for f in source] == [f.index for f in source] == [0, 15, 30, 45, 60, 75]


def nearest_per_tick(ts: list[float], fps: float, end: float) -> list[float]:
    """Reference: for each tick the nearest frame (ties: the earlier), each frame once."""
    picked = []
    k = 0
    while k / fps < end:
        tick = k / fps
        best = min(ts, key=lambda t: (abs(t - tick), t))
        if best not in picked:
            picked.append(best)
        k += 1
    return picked


def test_variable_frame_rate_keeps_true_timestamps(tmp_path):
    pts_ms = [0, 40, 80, 120, 500, 540, 580, 1000, 1010, 1020, 1500, 1900]
    path = write_clip(tmp_path / "vfr.mp4", n=len(pts_ms), rate=25, pts=pts_ms, time_base=Fraction(1, 1000))
    every = list(open_source(path, fps=None))
    assert times(every) == [p / 1000 for p in pts_ms]
    assert [read_number(f.image) for f in every] == list(range(len(pts_ms)))
    sampled = list(open_source(path, fps=5))
    # Ticks run until the last frame stops showing (1.9 s + its 40 ms).
    assert times(sampled) == nearest_per_tick([p / 1000 for p in pts_ms], 5, 1.94)
    assert times(sampled) == [0.0, 0.12, 0.5, 0.58, 1.0, 1.02, 1.5, 1.9]
    assert len({f.index for f in sampled}) == len(sampled)


# --- rotation ------------------------------------------------------------------------------------


def quadrants() -> np.ndarray:
    """Top-left red, top-right green, bottom-left blue, bottom-right white (BGR)."""
    img = np.zeros((H, W, 3), np.uint8)
    img[: H // 2, : W // 2] = (0, 0, 255)
    img[: H // 2, W // 2 :] = (0, 255, 0)
    img[H // 2 :, : W // 2] = (255, 0, 0)
    img[H // 2 :, W // 2 :] = (255, 255, 255)
    return img


def corner_colours(img: np.ndarray) -> list[tuple[int, ...]]:
    h, w = img.shape[:2]
    spots = [(h // 4, w // 4), (h // 4, 3 * w // 4), (3 * h // 4, w // 4), (3 * h // 4, 3 * w // 4)]
    return [tuple(round(int(c) / 255) * 255 for c in img[y, x]) for y, x in spots]


RED, GREEN, BLUE, WHITE = (0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 255)


@pytest.mark.parametrize(
    "pyav_ccw, clockwise, expected",
    [
        # A phone held upright: the old `rotate=90` tag, displayed turned 90 degrees clockwise.
        (-90, 90, [BLUE, RED, WHITE, GREEN]),
        (90, 270, [GREEN, WHITE, RED, BLUE]),
        (180, 180, [WHITE, BLUE, GREEN, RED]),
    ],
)
def test_rotation_metadata_is_applied(tmp_path, pyav_ccw, clockwise, expected):
    path = write_clip(tmp_path / "rot.mp4", n=10, rate=10, rotation=pyav_ccw, images=[quadrants()] * 10)
    source = open_source(path, fps=None)
    assert source.info.rotation == clockwise
    frame = next(iter(source))
    if clockwise in (90, 270):
        assert (source.info.width, source.info.height) == (H, W)
        assert frame.image.shape == (W, H, 3)
    else:
        assert frame.image.shape == (H, W, 3)
    assert corner_colours(frame.image) == expected
    assert frame.image.flags["C_CONTIGUOUS"]


# --- damaged files -------------------------------------------------------------------------------


def test_corruption_in_the_middle_gives_frames_on_both_sides_and_a_gap(clip, tmp_path):
    data = bytearray(clip.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 600] = bytes((i * 37 + 11) % 256 for i in range(600))  # fixed junk: same every run
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    source = open_source(damaged, fps=None)
    frames = list(source)
    numbers = [read_number(f.image) for f in frames]
    assert numbers == [f.index for f in frames]  # no garbage frame comes out as a good one
    assert source.decode_errors > 0
    assert len(source.gaps) == 1
    gap_start, gap_end = source.gaps[0]
    before = [f for f in frames if f.time_s <= gap_start]
    after = [f for f in frames if f.time_s >= gap_end]
    assert len(before) >= 5 and len(after) >= 5 and len(before) + len(after) == len(frames) < 90
    assert 0 < gap_start < gap_end < 3.0
    assert round(gap_end * 30) % 15 == 0  # decoding resumes at the next keyframe (one every 15 frames)
    # Every frame that is missing lies inside the gap.
    missing = sorted(set(range(90)) - set(numbers))
    assert all(gap_start < i / 30 < gap_end for i in missing)


def test_a_file_cut_short_gives_the_frames_before_the_cut_and_a_gap_to_the_end(clip, tmp_path):
    data = clip.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    source = open_source(cut, fps=None)
    frames = list(source)
    assert 10 < len(frames) < 80
    assert [read_number(f.image) for f in frames] == list(range(len(frames)))
    assert source.gaps == [(pytest.approx(frames[-1].time_s), pytest.approx(3.0))]
    assert source.info.duration_s == pytest.approx(3.0)


def one_sentence(message: str) -> bool:
    return "\n" not in message and message.endswith(".") and message.count(". ") == 0


def bad_inputs(tmp_path: Path, clip: Path) -> dict[str, tuple[Path, str]]:
    text = tmp_path / "notes.mp4"
    text.write_text("these are interview notes, not a video\n" * 20)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    audio_only = tmp_path / "voice.m4a"
    with av.open(str(audio_only), "w") as out:
        sound = out.add_stream("aac", rate=16000, layout="mono")
        for i in range(10):
            block = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            block.sample_rate, block.pts = 16000, i * 1024
            out.mux(sound.encode(block))
        out.mux(sound.encode())
    data = clip.read_bytes()
    unknown = tmp_path / "unknown_codec.mp4"
    unknown.write_bytes(data.replace(b"avc1", b"zzzz"))  # the sample entry names a codec nobody knows
    mdat = data.find(b"mdat") + 4
    junk = tmp_path / "undecodable.mp4"
    junk.write_bytes(data[:mdat] + bytes((i * 91 + 7) % 256 for i in range(len(data) - mdat)))
    moov_last = write_clip(tmp_path / "moov_last.mp4", n=30, faststart=False)
    cut_index = tmp_path / "cut_before_index.mp4"
    cut_index.write_bytes(moov_last.read_bytes()[: moov_last.stat().st_size // 2])
    no_images = tmp_path / "no_images"
    no_images.mkdir()
    (no_images / "readme.txt").write_text("nothing to see")
    broken_image = tmp_path / "photo.jpg"
    broken_image.write_bytes(b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 10)
    return {
        "missing": (tmp_path / "nowhere.mp4", "does not exist"),
        "not media": (text, "is not a video FFmpeg can read"),
        "empty": (empty, "is empty"),
        "audio only": (audio_only, "has no video stream"),
        "unknown codec": (unknown, "cannot decode"),
        "undecodable": (junk, "none of its frames could be decoded"),
        "index cut off": (cut_index, "damaged or incomplete"),
        "folder without images": (no_images, "contains no images"),
        "broken image": (broken_image, "could not be decoded as an image"),
    }


def test_bad_inputs_raise_one_clear_input_error(tmp_path, clip):
    for case, (path, phrase) in bad_inputs(tmp_path, clip).items():
        with pytest.raises(InputError) as caught:
            open_source(path)
        message = str(caught.value)
        assert phrase in message, case
        assert path.name in message, case
        assert one_sentence(message), (case, message)


def test_bad_options_raise_a_facecue_error(clip):
    for kwargs in ({"fps": 0}, {"fps": -1}, {"start": -1.0}, {"start": 2.0, "end": 1.0}):
        with pytest.raises(FacecueError):
            open_source(clip, **kwargs)


# --- stills --------------------------------------------------------------------------------------


def test_a_single_image_is_one_frame_at_time_zero(tmp_path):
    image = numbered(0b10110101, 80, 40)
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), image)
    source = open_source(path)
    assert source.info.kind == "image" and (source.info.width, source.info.height) == (80, 40)
    assert source.info.frame_count == 1 and source.info.fps == 0 and source.info.codec == "png"
    frames = list(source)
    assert len(frames) == 1 and frames[0].index == 0 and frames[0].time_s == 0.0
    assert np.array_equal(frames[0].image, image)


def test_image_exif_orientation_is_applied(tmp_path):
    from PIL import Image  # scikit-image depends on Pillow

    path = tmp_path / "phone.jpg"
    picture = Image.fromarray(cv2.cvtColor(quadrants(), cv2.COLOR_BGR2RGB))
    exif = picture.getexif()
    exif[0x0112] = 6  # "rotate 90 clockwise to display"
    picture.save(path, exif=exif, quality=95)
    frame = next(iter(open_source(path)))
    assert frame.image.shape == (W, H, 3)
    assert corner_colours(frame.image) == [BLUE, RED, WHITE, GREEN]


def test_a_folder_of_images_in_natural_order_skipping_unreadable_ones(tmp_path):
    folder = tmp_path / "stills"
    folder.mkdir()
    for i in (1, 2, 10):
        cv2.imwrite(str(folder / f"img{i}.png"), numbered(i))
    (folder / "img3.jpg").write_bytes(b"\xff\xd8 broken")
    (folder / "notes.txt").write_text("ignored: not an image")
    source = open_source(folder)
    assert source.info.kind == "images" and source.info.frame_count == 4 and source.info.fps == 0
    frames = list(source)
    assert [(f.index, f.time_s, read_number(f.image)) for f in frames] == [(0, 0.0, 1), (1, 1.0, 2), (3, 3.0, 10)]
    assert source.decode_errors == 1 and source.skipped == [str(folder / "img3.jpg")]
    assert [f.index for f in open_source(folder, start=1, end=3)] == [1]


# --- audio ---------------------------------------------------------------------------------------


def test_read_audio_gives_mono_float_at_the_asked_rate(tmp_path):
    path = write_clip(tmp_path / "talk.mp4", n=60, rate=30, audio_hz=440.0)
    assert open_source(path).info.has_audio is True
    samples, rate = read_audio(path, rate=16000)
    assert rate == 16000 and samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - 2.0 * 16000) < 0.05 * 16000
    middle = samples[8000:24000]
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.fft.rfftfreq(middle.size, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=2)
    assert 0.25 < np.abs(middle).max() < 0.35


def test_read_audio_without_an_audio_stream_is_none(clip):
    assert read_audio(clip) is None


def test_read_audio_of_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_audio(tmp_path / "gone.mp4")
