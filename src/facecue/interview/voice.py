"""Voice cues per time span from the audio track: pitch, loudness, a speaking-rate proxy, pauses.

The audio is decoded once (PyAV, mono, 16 kHz) and cut into 20 ms frames every 10 ms. Each frame gets an
RMS level; frames well above the recording's own noise floor are "active". Only active frames go through
the pitch tracker (YIN, computed with FFTs for a block of frames at a time), so silence costs nothing.
Every span then reads its numbers off those per-frame arrays. Formulas and thresholds: docs/SIGNALS.md,
"Voice cues".

These describe the sound, not the person: a flat pitch can be a microphone, a cold or a language.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, find_peaks, resample_poly, sosfilt

from facecue.errors import InputError
from facecue.io.video import read_audio

__all__ = ["RATE", "VoiceTrack", "measure_samples", "measure_voice", "voice_cues", "voice_cues_from_samples"]

RATE = 16000
PITCH_RATE = 4000
HOP_S = 0.010  # one frame every 10 ms
LEVEL_WIN_S = 0.020  # RMS window; a silence reads one (window - hop) short, added back to pause lengths
PITCH_WIN_S = 0.025  # YIN integration window (the YIN paper's 25 ms)
F0_MIN, F0_MAX = 60.0, 500.0  # speaking voices; the lowest sets the longest lag, hence the frame length
PITCH_LOWPASS_HZ = 400.0  # keeps the first formant (~500 Hz) from posing as the period
YIN_THRESHOLD = 0.15  # the first dip of the cumulative-mean-normalised difference below this is the period...
DIP_MARGIN = 0.05  # ...or within this of the deepest dip
VOICING_THRESHOLD = 0.45  # a frame whose deepest dip stays above this is aperiodic (noise, breath): unvoiced
SILENCE_FLOOR_DB = -55.0  # never call a frame active below this level (dBFS)
ACTIVE_BELOW_PEAK_DB = 30.0  # nor more than this far below the loud end (95th percentile) of the recording
ABOVE_FLOOR_DB = 10.0  # and at least this far above the background (5th percentile)
MIN_PAUSE_S = 0.3
PEAK_PROMINENCE_DB = 3.0  # a syllable nucleus stands out from the dips around it by at least this
PEAK_MIN_GAP_S = 0.1  # no more than 10 syllable peaks a second
ENVELOPE_SMOOTH_S = 0.05  # moving average of the level before peak picking: one syllable, one peak
MIN_PITCH_FRAMES = 20  # pitch statistics need at least 0.2 s of voiced frames (noise gives a few)
MIN_VOICED_S = 1.5  # less voiced speech than this in a span: numbers shown but flagged unreliable
CLIP_LEVEL = 0.999
MAX_CLIPPED_SHARE = 0.001  # more than 0.1% of samples at full scale: the level and pitch are distorted
# One person's speech varies by 2-5 semitones (robust standard deviation; the CREMA-D sample reads 1.9-4.6, a glide
# evenly over a whole octave 4.45); a soundtrack or two voices in one span read 8.9-15.2 on the development videos.
MAX_PITCH_VARIABILITY_ST = 6.0
MIN_OWN_SHARE = 0.5  # with speaker labels, at least this share of the voiced sound must lie in the candidate's cues
_BLOCK = 4096  # frames per FFT block: bounds memory on long recordings


@dataclass(frozen=True)
class _Frames:
    """Per-frame measurements over the whole recording; frame i is centred at i * HOP_S."""

    level_db: np.ndarray  # (n,) RMS in dBFS (a full-scale square wave is 0 dBFS, a full-scale sine -3)
    active: np.ndarray  # (n,) bool: above the activity threshold
    f0: np.ndarray  # (n,) Hz, NaN where not voiced
    clipped: np.ndarray  # (n,) int: samples at full scale within the frame's hop
    threshold_db: float
    hop_samples: int


class VoiceTrack:
    """A recording's per-frame voice measurements (the costly part: decoding and pitch tracking), or the reason
    there are none. Measured once, read for any spans; `facecue analyze` measures it on a spare thread while
    the video is analysed, since the spans are known before the faces are."""

    def __init__(self, frames: _Frames | None, duration: float, reason: str | None = None):
        self.frames, self.duration, self.reason = frames, duration, reason

    def cues(self, spans: list[tuple[float, float]], own: list[tuple[float, float]] | None = None) -> list[dict]:
        """own: the candidate's transcript cues (start_s, end_s), when the transcript names speakers."""
        if self.frames is None:
            return [_unavailable(a, b, self.reason or "no audio") for a, b in spans]
        return [_span_cues(self.frames, float(a), float(b), self.duration, own) for a, b in spans]


def measure_voice(path: str | Path) -> VoiceTrack:
    """Decode the video's first audio track once and measure it; a video without audio, or whose audio cannot
    be decoded, gives a track that reports why, so the rest of the analysis goes on."""
    try:
        audio = read_audio(path, RATE)
    except InputError as exc:
        if "audio codec" not in str(exc):
            raise
        return VoiceTrack(None, 0.0, "the audio track uses a codec this FFmpeg build cannot decode")
    if audio is None:
        return VoiceTrack(None, 0.0, "the video has no audio track")
    return measure_samples(*audio)


def measure_samples(samples: np.ndarray, rate: int) -> VoiceTrack:
    """The same from mono float samples in [-1, 1] at `rate` Hz (sample 0 at time 0)."""
    samples = np.asarray(samples, np.float32).reshape(-1)
    if samples.size < int(LEVEL_WIN_S * rate):
        return VoiceTrack(None, 0.0, "the audio track is empty")
    return VoiceTrack(_measure(samples, rate), samples.size / rate)


def voice_cues(path: str | Path, spans: list[tuple[float, float]]) -> list[dict]:
    """Voice cues for each (start_s, end_s) span of the video's first audio track."""
    return measure_voice(path).cues(spans)


def voice_cues_from_samples(samples: np.ndarray, rate: int, spans: list[tuple[float, float]]) -> list[dict]:
    """Voice cues for each span from mono float samples in [-1, 1] at `rate` Hz."""
    return measure_samples(samples, rate).cues(spans)


def _unavailable(start: float, end: float, reason: str) -> dict:
    return {"start_s": float(start), "end_s": float(end), "available": False, "reliable": False, "reason": reason}


def _frame_view(x: np.ndarray, width: int, hop: int, n: int) -> np.ndarray:
    """(n, width) strided view: row i holds the samples centred at i * hop (x must be padded by width // 2)."""
    return np.lib.stride_tricks.sliding_window_view(x, width)[: n * hop : hop][:n]


def _measure(samples: np.ndarray, rate: int) -> _Frames:
    hop = round(HOP_S * rate)
    n = samples.size // hop
    win = round(LEVEL_WIN_S * rate)
    padded = np.pad(samples, (win // 2, win))
    per_hop = win // hop  # each 20 ms window is two consecutive 10 ms hops
    power = np.add.reduceat(padded.astype(np.float64) ** 2, np.arange(0, (n + per_hop - 1) * hop, hop))
    cum = np.concatenate([[0.0], np.cumsum(power)])
    energy = cum[np.arange(n) + per_hop] - cum[np.arange(n)]
    level_db = 10 * np.log10(np.maximum(energy / win, 1e-12))
    loud, floor = np.percentile(level_db, [95, 5])
    # Above the absolute floor, within 30 dB of the loud end, and clear of the background (hum, fans): 10 dB
    # over the quietest 5% of frames, unless that would cut into the loud end itself.
    threshold = float(max(SILENCE_FLOOR_DB, loud - ACTIVE_BELOW_PEAK_DB, min(floor + ABOVE_FLOOR_DB, loud - 15.0)))
    active = level_db > threshold
    clipped = np.add.reduceat((np.abs(samples[: n * hop]) >= CLIP_LEVEL).astype(np.int32), np.arange(0, n * hop, hop))
    f0 = np.full(n, np.nan)
    idx = np.nonzero(active)[0]
    if idx.size:
        f0[idx] = _yin(samples, rate, hop, idx)
    return _Frames(level_db, active, f0, clipped, threshold, hop)


def _yin(samples: np.ndarray, rate: int, hop: int, frames: np.ndarray) -> np.ndarray:
    """YIN F0 (Hz, NaN when aperiodic) for the frames with the given indices, computed at PITCH_RATE.

    d(tau) = sum_j (x_j - x_{j+tau})^2 over a W-sample window = e0 + e_tau - 2 r(tau): the energies come
    from one running sum over the whole signal, r from one FFT per frame. d'(tau) = d(tau) * tau /
    sum_{k<=tau} d(k). The first local minimum of d' below the threshold in the allowed lag range, refined
    by a parabola through its neighbours, is the period.
    """
    # The low-pass also serves as the anti-aliasing filter for keeping every 4th sample (16 -> 4 kHz): a
    # quarter of the samples, a quarter of the FFT length.
    samples = sosfilt(butter(6, PITCH_LOWPASS_HZ, fs=rate, output="sos"), samples)
    if rate % PITCH_RATE == 0 and hop % (rate // PITCH_RATE) == 0:
        step = rate // PITCH_RATE
    else:
        samples, step = resample_poly(samples, PITCH_RATE, rate), 1
        hop = round(hop * PITCH_RATE / rate)
    if step > 1:
        samples, hop = samples[::step], hop // step
    rate = PITCH_RATE
    samples = samples.astype(np.float32)
    w = round(PITCH_WIN_S * rate)
    tau_min, tau_max = int(rate / F0_MAX), int(np.ceil(rate / F0_MIN)) + 1
    length = w + tau_max + 1
    nfft = 1 << (length - 1).bit_length()
    padded = np.pad(samples, (w // 2, length))
    energy = np.concatenate([[0.0], np.cumsum(padded.astype(np.float64) ** 2)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, length)
    out = np.full(frames.size, np.nan)
    lags = np.arange(tau_max + 1)
    for lo in range(0, frames.size, _BLOCK):
        first = frames[lo : lo + _BLOCK] * hop
        x = windows[first]  # (b, length) copy
        r = np.fft.irfft(np.conj(np.fft.rfft(x[:, :w], nfft)) * np.fft.rfft(x, nfft), nfft)[:, : tau_max + 1]
        e0 = (energy[first + w] - energy[first])[:, None]
        e_tau = energy[first[:, None] + lags + w] - energy[first[:, None] + lags]
        d = np.maximum(e0 + e_tau - 2 * r, 0.0)
        cmnd = np.ones_like(d)
        cmnd[:, 1:] = d[:, 1:] * lags[1:] / np.maximum(np.cumsum(d[:, 1:], axis=1), 1e-12)
        rows = np.arange(len(first))
        deepest = np.argmin(cmnd[:, tau_min:-1], axis=1) + tau_min
        # YIN's absolute threshold, relaxed for real (compressed, noisy) speech: the first dip below it or
        # within DIP_MARGIN of the deepest one. The first, not the deepest: a dip at twice the period is
        # often as deep, and taking it would halve F0.
        limit = np.maximum(YIN_THRESHOLD, cmnd[rows, deepest] + DIP_MARGIN)[:, None]
        inner = cmnd[:, 1:-1]
        is_min = (inner <= cmnd[:, :-2]) & (inner <= cmnd[:, 2:]) & (inner < limit)
        is_min[:, : tau_min - 1] = False
        tau = np.where(is_min.any(axis=1), is_min.argmax(axis=1) + 1, deepest)
        found = cmnd[rows, tau] < VOICING_THRESHOLD
        a, b, c = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, tau + 1]
        denom = a - 2 * b + c
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
        out[lo : lo + len(first)] = np.where(found, rate / (tau + np.clip(shift, -1, 1)), np.nan)
    return out


def _own_share(voiced: np.ndarray, i0: int, own: list[tuple[float, float]]) -> float | None:
    """The share of the voiced frames whose centre lies in one of the candidate's cues (None: nothing voiced)."""
    if not voiced.any():
        return None
    t = (i0 + np.arange(voiced.size)) * HOP_S
    mine = np.zeros(voiced.size, bool)
    for a, b in own:
        mine |= (t >= a) & (t < b)
    return float((voiced & mine).sum() / voiced.sum())


def _span_cues(
    fr: _Frames, start: float, end: float, duration: float, own: list[tuple[float, float]] | None = None
) -> dict:
    base = {"start_s": start, "end_s": end}
    if start >= duration:
        return {**base, **_unavailable(start, end, "the audio track ends before this span")}
    i0 = max(int(np.ceil(start / HOP_S)), 0)
    i1 = min(int(np.ceil(end / HOP_S)), len(fr.active))
    if i1 <= i0:
        return _unavailable(start, end, "the span is shorter than one audio frame")
    active = fr.active[i0:i1]
    level = fr.level_db[i0:i1]
    f0 = fr.f0[i0:i1]
    voiced = ~np.isnan(f0)
    span_s = (i1 - i0) * HOP_S
    pauses = _pauses(active)
    speaking_s = _speaking_time(active, pauses)
    voiced_s = float(voiced.sum() * HOP_S)
    peaks = _syllable_peaks(level, voiced, fr.threshold_db)
    clipped_share = float(fr.clipped[i0:i1].sum()) / max((i1 - i0) * fr.hop_samples, 1)
    f0v = f0[voiced]
    pitch: dict[str, float | None] = {
        "pitch_median_hz": None,
        "pitch_p10_hz": None,
        "pitch_p90_hz": None,
        "pitch_variability_st": None,
    }
    if f0v.size >= MIN_PITCH_FRAMES:
        median = float(np.median(f0v))
        pitch = {
            "pitch_median_hz": round(median, 1),
            "pitch_p10_hz": round(float(np.percentile(f0v, 10)), 1),
            "pitch_p90_hz": round(float(np.percentile(f0v, 90)), 1),
            "pitch_variability_st": round(_robust_std(12 * np.log2(f0v / median)), 2),
        }
    loud = level[active]
    reasons = []
    if not active.any():
        reasons.append("no speech was heard in this span")
    elif voiced_s < MIN_VOICED_S:
        reasons.append(f"too little voiced speech ({voiced_s:.1f} s; at least {MIN_VOICED_S:g} s needed)")
    if clipped_share > MAX_CLIPPED_SHARE:
        reasons.append(f"the audio is clipped ({clipped_share:.1%} of samples at full scale)")
    variability = pitch["pitch_variability_st"]
    if variability is not None and variability > MAX_PITCH_VARIABILITY_ST:
        reasons.append(
            f"the pitch varies more than one person's speech does ({variability:.1f} semitones; above "
            f"{MAX_PITCH_VARIABILITY_ST:g}): music or more than one voice"
        )
    own_share = _own_share(voiced, i0, own) if own is not None else None
    if own_share is not None and own_share < MIN_OWN_SHARE:
        reasons.append(
            f"only {own_share:.0%} of the voiced sound lies in the candidate's transcript cues: most of it is "
            "another speaker or other sound"
        )
    lengths = [p[1] for p in pauses]
    return {
        **base,
        "available": True,
        **pitch,
        "loudness_dbfs": round(float(loud.mean()), 1) if loud.size else None,
        "loudness_range_db": round(float(np.percentile(loud, 95) - np.percentile(loud, 5)), 1) if loud.size else None,
        "syllable_peaks": int(peaks),
        "speaking_rate_per_s": round(peaks / speaking_s, 2) if speaking_s > 0 else None,
        "pause_count": len(pauses),
        "pause_total_s": round(float(sum(lengths)), 2),
        "pause_mean_s": round(sum(lengths) / len(lengths), 2) if lengths else None,
        "pause_longest_s": round(max(lengths), 2) if lengths else None,
        "speaking_s": round(speaking_s, 2),
        "voiced_s": round(voiced_s, 2),
        "voiced_share": round(voiced_s / span_s, 3),
        "clipped_share": round(clipped_share, 5),
        "candidate_voiced_share": round(own_share, 3) if own_share is not None else None,
        "reliable": not reasons,
        "reason": "; ".join(reasons) or None,
    }


def _pauses(active: np.ndarray) -> list[tuple[int, float]]:
    """(first frame, seconds) of each silence of at least MIN_PAUSE_S with speech on both sides."""
    edges = np.diff(np.concatenate([[1], active.astype(np.int8), [1]]))
    starts, ends = np.nonzero(edges == -1)[0], np.nonzero(edges == 1)[0]
    out = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=False):
        if s == 0 or e == len(active):
            continue  # silence before the first or after the last word of the span is not a pause
        seconds = (e - s) * HOP_S + (LEVEL_WIN_S - HOP_S)
        if seconds >= MIN_PAUSE_S - 1e-9:
            out.append((s, seconds))
    return out


def _speaking_time(active: np.ndarray, pauses: list[tuple[int, float]]) -> float:
    """From the first to the last active frame, less the pauses: the time spent talking, short gaps included."""
    on = np.nonzero(active)[0]
    if on.size == 0:
        return 0.0
    return max(float(on[-1] - on[0] + 1) * HOP_S - sum(p[1] for p in pauses), 0.0)


def _syllable_peaks(level_db: np.ndarray, voiced: np.ndarray, threshold_db: float) -> int:
    """Peaks of the smoothed level that are voiced, above the activity threshold and stand out by 3 dB."""
    k = max(round(ENVELOPE_SMOOTH_S / HOP_S), 1)
    power = 10 ** (level_db / 10)
    smooth = 10 * np.log10(np.maximum(np.convolve(power, np.ones(k) / k, mode="same"), 1e-12))
    # Quiet edges, so that speech running up to the span's first or last frame still forms a peak.
    smooth = np.pad(smooth, 1, constant_values=min(float(smooth.min()), threshold_db) - PEAK_PROMINENCE_DB)
    voiced = np.pad(voiced, 1)
    peaks, _ = find_peaks(
        smooth, prominence=PEAK_PROMINENCE_DB, distance=max(int(PEAK_MIN_GAP_S / HOP_S), 1), height=threshold_db
    )
    return int(voiced[peaks].sum()) if peaks.size else 0


def _robust_std(x: np.ndarray) -> float:
    """Interquartile range / 1.349: the standard deviation for normally distributed values, but a few octave
    errors of the tracker (12 semitones off) barely move it."""
    q1, q3 = np.percentile(x, [25, 75])
    return float((q3 - q1) / 1.349)
