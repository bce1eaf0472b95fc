"""Voice cues, checked on generated signals whose pitch, pauses and syllable rate are known in advance."""

from __future__ import annotations

import av
import numpy as np
import pytest

from facecue.interview.voice import MAX_PITCH_VARIABILITY_ST, measure_samples, voice_cues, voice_cues_from_samples

R = 16000


def tone(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * R)) / R
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * R), np.float32)


def one(samples: np.ndarray, start: float = 0.0, end: float | None = None) -> dict:
    end = samples.size / R if end is None else end
    return voice_cues_from_samples(samples, R, [(start, end)])[0]


@pytest.mark.parametrize("freq", [85.0, 120.0, 220.0, 440.0])
def test_pure_tone_pitch_within_two_percent_and_flat(freq):
    cues = one(tone(freq, 3.0))
    assert cues["pitch_median_hz"] == pytest.approx(freq, rel=0.02)
    assert cues["pitch_variability_st"] < 0.1
    assert cues["loudness_dbfs"] == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.2)  # -9.03 dBFS
    assert cues["voiced_share"] > 0.95 and cues["reliable"] and cues["reason"] is None


def test_glide_over_an_octave_has_the_variability_of_a_uniform_twelve_semitones():
    t = np.arange(3 * R) / R
    freq = 100 * 2 ** (t / 3)  # 100 -> 200 Hz, evenly in semitones
    cues = one((0.5 * np.sin(2 * np.pi * np.cumsum(freq) / R)).astype(np.float32))
    assert cues["pitch_variability_st"] == pytest.approx(6 / 1.349, abs=0.15)  # IQR of U(0, 12) / 1.349
    assert cues["pitch_median_hz"] == pytest.approx(100 * np.sqrt(2), rel=0.03)
    assert cues["pitch_p10_hz"] == pytest.approx(100 * 2**0.1, rel=0.03)
    assert cues["pitch_p90_hz"] == pytest.approx(100 * 2**0.9, rel=0.03)


def test_silences_between_bursts_are_pauses_from_three_tenths_of_a_second():
    signal = np.concatenate(
        [
            silence(0.6),
            tone(200, 0.5),
            silence(0.4),
            tone(200, 0.5),
            silence(0.8),
            tone(200, 0.5),
            silence(0.2),
            tone(200, 0.5),
            silence(1.0),
        ]
    )
    cues = one(signal)
    assert cues["pause_count"] == 2  # 0.2 s is too short; the lead-in and the trailing silence are not pauses
    assert cues["pause_longest_s"] == pytest.approx(0.8, abs=0.03)
    assert cues["pause_total_s"] == pytest.approx(1.2, abs=0.05)
    assert cues["pause_mean_s"] == pytest.approx(0.6, abs=0.03)
    assert cues["speaking_s"] == pytest.approx(2.2, abs=0.05)  # four bursts and the 0.2 s gap
    assert cues["voiced_s"] == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("rate", [3.0, 5.0])
def test_amplitude_modulated_syllables_give_their_rate(rate):
    t = np.arange(int(6 * R)) / R
    syllables = 0.5 * np.sin(2 * np.pi * 150 * t) * np.sin(np.pi * rate * t) ** 2  # `rate` bumps a second
    cues = one(np.concatenate([silence(0.5), syllables.astype(np.float32), silence(0.5)]))
    assert cues["syllable_peaks"] == pytest.approx(6 * rate, abs=1)
    assert cues["speaking_rate_per_s"] == pytest.approx(rate, rel=0.1)
    assert cues["pause_count"] == 0


def test_each_span_reads_its_own_stretch():
    signal = np.concatenate([tone(120, 2.0), tone(240, 2.0), silence(2.0)])
    # The frame at 4.00 s still overlaps the tone by half a window, so the quiet span starts a little later.
    first, second, quiet, beyond = voice_cues_from_samples(signal, R, [(0, 2), (2, 4), (4.02, 6), (7, 9)])
    assert first["pitch_median_hz"] == pytest.approx(120, rel=0.02)
    assert second["pitch_median_hz"] == pytest.approx(240, rel=0.02)
    assert quiet["available"] and not quiet["reliable"] and quiet["reason"] == "no speech was heard in this span"
    assert quiet["pitch_median_hz"] is None and quiet["voiced_share"] == 0
    assert beyond == {
        "start_s": 7.0,
        "end_s": 9.0,
        "available": False,
        "reliable": False,
        "reason": "the audio track ends before this span",
    }


def test_noise_is_not_voiced_and_short_or_clipped_speech_is_unreliable():
    noise = one(np.random.default_rng(0).normal(0, 0.1, 3 * R).astype(np.float32))
    assert noise["voiced_share"] < 0.05 and noise["pitch_median_hz"] is None
    assert not noise["reliable"] and "too little voiced speech" in noise["reason"]

    short = one(np.concatenate([tone(150, 0.8), silence(2.0)]))
    assert short["pitch_median_hz"] == pytest.approx(150, rel=0.02)
    assert not short["reliable"] and short["reason"].startswith("too little voiced speech (0.8 s")

    clipped = one(np.clip(tone(150, 3.0, amp=1.5), -1, 1))
    assert clipped["clipped_share"] > 0.3
    assert not clipped["reliable"] and "clipped" in clipped["reason"]
    assert clipped["pitch_median_hz"] == pytest.approx(150, rel=0.02)


def write_video(path, audio: np.ndarray | None, seconds: float = 3.0) -> None:
    """A small H.264 mp4, with the given mono audio as AAC when there is some."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        sound = out.add_stream("aac", rate=R, layout="mono") if audio is not None else None
        for i in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 8 % 256, np.uint8), format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode())
        if sound is not None:
            for start in range(0, audio.size, 1024):
                block = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="fltp", layout="mono")
                block.sample_rate, block.pts = R, start
                out.mux(sound.encode(block))
            out.mux(sound.encode())


def test_video_with_an_aac_track_is_read_end_to_end(tmp_path):
    path = tmp_path / "tone.mp4"
    write_video(path, np.concatenate([tone(220, 1.0), silence(0.5), tone(330, 1.5)]))
    first, second = voice_cues(path, [(0.0, 1.25), (1.25, 3.0)])
    assert first["pitch_median_hz"] == pytest.approx(220, rel=0.02)
    assert second["pitch_median_hz"] == pytest.approx(330, rel=0.02)
    assert first["loudness_dbfs"] == pytest.approx(-9.0, abs=1.0)  # AAC at this bit rate keeps the level
    both = voice_cues(path, [(0.0, 3.0)])[0]
    assert both["pause_count"] == 1 and both["pause_longest_s"] == pytest.approx(0.5, abs=0.06)


def test_video_without_audio_says_so_for_every_span(tmp_path):
    path = tmp_path / "silent.mp4"
    write_video(path, None)
    cues = voice_cues(path, [(0.0, 1.0), (1.0, 3.0)])
    assert [c["available"] for c in cues] == [False, False]
    assert {c["reason"] for c in cues} == {"the video has no audio track"}


def syllables(seconds: float, rate: float, freq: float = 150.0) -> np.ndarray:
    """A speech-like tone with `rate` loudness bumps a second."""
    t = np.arange(int(seconds * R)) / R
    return (0.5 * np.sin(2 * np.pi * freq * t) * np.sin(np.pi * rate * t) ** 2).astype(np.float32)


def test_a_pitch_that_varies_more_than_one_persons_speech_is_unreliable():
    """QA: a music soundtrack read 15.2 semitones of variation and drove "you seemed to speak faster here". One
    person's speech reads 2-5; two tones far apart (a soundtrack, or two voices) read far more."""
    leaps = np.concatenate([tone(f, 0.25) for _ in range(8) for f in (100.0, 300.0)])
    cues = one(leaps)
    assert cues["pitch_variability_st"] > MAX_PITCH_VARIABILITY_ST
    assert not cues["reliable"] and "more than one voice" in cues["reason"]
    assert one(syllables(4.0, 4.0))["reliable"]  # one steady speaker stays reliable


def test_with_speaker_labels_a_part_whose_sound_lies_outside_the_candidates_cues_is_unreliable():
    """QA: the only sound of a question lay in the interviewer's cue (0-3.8 s); the candidate's cue (4.2-22.9 s) was
    silent, yet the voice read as reliable."""
    signal = np.concatenate([syllables(3.8, 4.0), silence(6.2), syllables(8.0, 3.0)])
    track = measure_samples(signal, R)
    own = [(4.2, 10.0), (10.0, 18.0)]
    interviewer, candidate = track.cues([(0, 10), (10, 18)], own)
    assert interviewer["candidate_voiced_share"] == 0 and not interviewer["reliable"]
    assert "0% of the voiced sound lies in the candidate's transcript cues" in interviewer["reason"]
    assert candidate["candidate_voiced_share"] == 1 and candidate["reliable"]
    assert track.cues([(0, 10)])[0]["reliable"]  # without speaker labels nothing tells the voices apart
