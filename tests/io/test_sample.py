"""The demo sample: what it contains, that it decodes to what was drawn, that it is the same every run."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from facecue.io.sample import make_sample_images, make_sample_video, sample_face_boxes, sample_frame
from facecue.io.video import open_source, read_audio

SECONDS, FPS, SIZE = 3.0, 10, (320, 180)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_sample_video(tmp_path_factory.mktemp("sample") / "sample.mp4", seconds=SECONDS, fps=FPS, size=SIZE)


def test_sample_video_is_h264_with_audio_and_the_asked_shape(sample):
    info = open_source(sample).info
    assert (info.codec, info.width, info.height, info.fps, info.frame_count) == ("h264", 320, 180, 10.0, 30)
    assert info.duration_s == pytest.approx(SECONDS) and info.has_audio and info.rotation == 0


def test_sample_frames_decode_to_what_was_drawn(sample):
    frames = list(open_source(sample, fps=None))
    assert [f.index for f in frames] == list(range(30))
    for frame in frames[::7]:
        drawn = sample_frame(frame.time_s, SECONDS, SIZE).astype(np.int16)
        assert np.abs(frame.image.astype(np.int16) - drawn).mean() < 6, frame.time_s


def test_sample_is_the_same_every_run(sample, tmp_path):
    again = make_sample_video(tmp_path / "again.mp4", seconds=SECONDS, fps=FPS, size=SIZE)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(sample.read_bytes()).hexdigest()


def test_sample_audio_is_speech_like_with_pauses(sample):
    samples, rate = read_audio(sample, rate=16000)
    assert rate == 16000 and abs(samples.size - SECONDS * rate) < 0.05 * rate
    loudness = np.sqrt(np.mean(samples[: samples.size // 1600 * 1600].reshape(-1, 1600) ** 2, axis=1))  # 0.1 s
    assert loudness[:4].max() < 0.01 < loudness[4]  # the first phrase starts at 0.4 s, in step with the video
    assert (loudness > 0.05).mean() > 0.3 and (loudness < 0.01).mean() > 0.1


def test_ground_truth_follows_the_story_at_720p():
    seconds = 10.0
    ts = np.arange(0, seconds, 0.04)
    boxes = [sample_face_boxes(t, seconds) for t in ts]
    main = np.array(["main" in b for b in boxes])
    second = np.array(["second" in b for b in boxes])
    # The main face is out of view for about a second, centred on 80 % of the clip.
    assert 0.8 <= (~main).sum() * 0.04 <= 1.6 and abs(ts[~main].mean() - 8.0) < 0.1
    # The second person is only ever there in the middle third.
    assert second.any() and ts[second].min() >= seconds / 3 and ts[second].max() < 2 * seconds / 3
    widths = [b["main"][2] for b in boxes if "main" in b]
    assert min(widths) >= 150 and max(widths) <= 300
    assert max(b["second"][2] for b in boxes if "second" in b) < min(widths)
    centres = np.array([[b["main"][0] + b["main"][2] / 2, b["main"][1]] for b in boxes[:100]])
    assert np.ptp(centres[:, 0]) > 100 and np.abs(np.diff(centres, axis=0)).max() < 20  # moves, smoothly


def test_the_main_face_box_holds_the_astronaut_face():
    frame = sample_frame(2.0)
    x, y, w, h = sample_face_boxes(2.0)["main"]
    crop = frame[y : y + h, x : x + w]
    # Mostly skin: red above blue, the face's colour in the photo (BGR order).
    assert crop[..., 2].mean() > crop[..., 0].mean() + 30


def test_sample_images_open_as_a_folder(tmp_path):
    paths = make_sample_images(tmp_path / "stills")
    assert [p.name for p in paths] == ["01_one_face.jpg", "02_two_faces.png", "03_no_face.jpg", "04_astronaut.bmp"]
    source = open_source(tmp_path / "stills")
    frames = list(source)
    assert source.info.kind == "images" and len(frames) == 4 and source.decode_errors == 0
    assert frames[0].image.shape == (720, 1280, 3) and frames[3].image.shape == (512, 512, 3)
    assert np.array_equal(frames[1].image, sample_frame(5.0))  # png is lossless
