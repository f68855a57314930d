"""Audio with PyAV and NumPy: decoding recordings, loudness, and muxing a track into a video.

Every track here is mono float32 at :data:`RATE` (48 kHz, the rate EBU R128 defines its
filter at). Recordings are decoded and resampled by PyAV (wav, flac, mp3, m4a, ogg: any
format FFmpeg reads); videos get their audio as AAC with their video packets copied.
"""

from __future__ import annotations

import math
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.errors import BackpropError
from backprop_core.files import atomic_path

RATE = 48_000
AUDIO_BITRATE = 96_000

TARGET_LUFS = -16.0
"""Every cue is normalised to this integrated loudness (EBU R128 / ITU-R BS.1770-4), the
level speech platforms (podcasts, Apple's and Spotify's) recommend for spoken word: a
lecture mixes cues recorded on different days or synthesised, and one level lets the
listener set the volume once."""

PEAK_CEILING_DB = -1.0
"""The gain that reaches :data:`TARGET_LUFS` is lowered if the cue's sample peak would pass
this (no limiter: a cue with loud clicks stays a little quieter instead of distorting)."""

Track = NDArray[np.float32]


def decode(path: Path, field: str | None = None) -> Track:
    """``path``'s first audio stream as mono float32 at :data:`RATE`; a file PyAV cannot
    read is a one-line error naming it."""
    import av

    chunks: list[NDArray[np.generic]] = []  # float32 ("flt"); PyAV's types allow any format
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ValueError("no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise BackpropError(
            str(path), field, f"not readable audio ({exc}); record wav, flac, mp3, m4a or ogg"
        ) from None
    track = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if not len(track):
        raise BackpropError(str(path), field, "no audio samples; record the cue again")
    return track


def _k_weighted(track: Track) -> NDArray[np.float64]:
    """BS.1770's K-weighting at 48 kHz: a high shelf (the head) and a high pass."""
    from scipy.signal import lfilter

    shelf_b = [1.53512485958697, -2.69169618940638, 1.19839281085285]
    shelf_a = [1.0, -1.69065929318241, 0.73248077421585]
    high_b = [1.0, -2.0, 1.0]
    high_a = [1.0, -1.99004745483398, 0.99007225036621]
    x = lfilter(shelf_b, shelf_a, track.astype(np.float64))
    return np.asarray(lfilter(high_b, high_a, x))


def loudness(track: Track) -> float:
    """Integrated loudness in LUFS (BS.1770-4: 400 ms blocks, 75 % overlap, absolute gate
    at −70 LUFS, relative gate 10 LU below); ``-inf`` for silence."""
    weighted = _k_weighted(track)
    block, hop = int(0.4 * RATE), int(0.1 * RATE)
    if len(weighted) <= block:
        powers = np.array([np.mean(weighted**2)])
    else:
        starts = range(0, len(weighted) - block + 1, hop)
        powers = np.array([np.mean(weighted[s : s + block] ** 2) for s in starts])

    def lufs(p: float) -> float:
        return -0.691 + 10 * math.log10(p) if p > 0 else -math.inf

    gated = powers[[lufs(p) > -70 for p in powers]]
    if not len(gated):
        return -math.inf
    relative = lufs(float(np.mean(gated))) - 10
    gated = gated[[lufs(p) > relative for p in gated]]
    return lufs(float(np.mean(gated)))


def normalise(track: Track, target: float = TARGET_LUFS) -> tuple[Track, float]:
    """``track`` at ``target`` LUFS (peak-capped), and the gain applied in dB."""
    level = loudness(track)
    if not math.isfinite(level):
        return track, 0.0
    gain = target - level
    peak = float(np.max(np.abs(track)))
    if peak > 0:
        gain = min(gain, PEAK_CEILING_DB - 20 * math.log10(peak))
    return (track * 10 ** (gain / 20)).astype(np.float32), gain


def write_wav(path: Path, track: Track) -> None:
    """``track`` as a 16-bit mono WAV (what manim's ``add_sound`` reads without FFmpeg)."""
    pcm = (np.clip(track, -1.0, 1.0) * 32767).round().astype("<i2")
    with atomic_path(path, suffix=".wav") as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def video_track(video: Path) -> Track | None:
    """A video's audio as one mono track at :data:`RATE`, or ``None`` if it has none."""
    import av

    with av.open(str(video)) as c:
        if not c.streams.audio:
            return None
    return decode(video)


def fit(track: Track | None, seconds: float) -> Track:
    """``track`` cut or padded with silence to exactly ``seconds``."""
    n = round(seconds * RATE)
    out = np.zeros(n, np.float32)
    if track is not None:
        out[: min(n, len(track))] = track[:n]
    return out


def mux_audio(video: Path, track: Track, out: Path) -> None:
    """Write ``video``'s video stream (packets copied) with ``track`` as AAC into ``out``
    (``out`` may be ``video``: the file is replaced once written)."""
    import av

    with atomic_path(out, suffix=".mp4") as tmp:
        with av.open(str(video)) as src, av.open(str(tmp), "w") as dst:
            vin = src.streams.video[0]
            vout = dst.add_stream_from_template(vin)
            aout: Any = dst.add_stream("aac", rate=RATE, layout="mono")
            aout.bit_rate = AUDIO_BITRATE
            audio = _encode(aout, track)
            video_packets = [p for p in src.demux(vin) if p.dts is not None]
            vbase = Fraction(vin.time_base or 1)
            # Interleaved by time, so the muxer never buffers a whole stream.
            merged = sorted(
                [(float((p.dts or 0) * vbase), 0, i) for i, p in enumerate(video_packets)]
                + [(float((p.dts or 0) * p.time_base), 1, i) for i, p in enumerate(audio)]
            )
            for _, kind, i in merged:
                packet = video_packets[i] if kind == 0 else audio[i]
                packet.stream = vout if kind == 0 else aout
                dst.mux(packet)


def _encode(stream: Any, track: Track) -> list[Any]:
    import av

    pcm = (np.clip(track, -1.0, 1.0) * 32767).round().astype(np.int16)
    packets: list[Any] = []
    chunk = 1024
    for i in range(0, len(pcm), chunk):
        piece = np.ascontiguousarray(pcm[i : i + chunk]).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(piece, format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = i
        frame.time_base = Fraction(1, RATE)
        packets += stream.encode(frame)
    packets += stream.encode(None)
    return packets


def add_section_audio(video: Path, clips: list[tuple[Path, int]], fps: Fraction) -> int:
    """Give each section clip ``(path, frames)`` its slice of ``video``'s audio (manim
    writes section clips without sound); returns how many clips got audio."""
    track = video_track(video)
    if track is None:
        return 0
    start = Fraction(0)
    for clip, frames in clips:
        seconds = Fraction(frames) / fps
        first = round(start * RATE)
        piece = track[first : first + round(seconds * RATE)]
        mux_audio(clip, fit(piece, float(seconds)), clip)
        start += seconds
    return len(clips)


def join_audio(videos: list[tuple[Path, float]]) -> Track | None:
    """The audio of ``(video, seconds)`` parts back to back, each part's exactly as long as
    its video (silence for a part without sound); ``None`` if no part has sound."""
    tracks = [video_track(v) for v, _ in videos]
    if all(t is None for t in tracks):
        return None
    return np.concatenate([fit(t, s) for t, (_, s) in zip(tracks, videos, strict=True)])
