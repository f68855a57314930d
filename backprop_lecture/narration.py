"""A draft narration: the lecture's subcaptions read by an offline voice (espeak-ng).

``backprop lecture --narrate`` calls :func:`narrate` on the joined video: every subtitle cue
is spoken by ``espeak-ng`` (Debian's ``espeak-ng`` package; nothing is downloaded), placed
at the cue's start in one mono track, encoded as AAC and muxed beside the video stream,
whose packets are copied unchanged. A lecturer can replace the track with their own voice.

Timing: a cue is spoken at :data:`WORDS_PER_MINUTE`; if that does not fit before the next
cue starts, it is spoken faster (up to :data:`MAX_WORDS_PER_MINUTE`), and if even that is
too long it is faded out where the next cue begins, so the voice never drifts from the
picture. Like :mod:`backprop_lecture`, this module does not import manim.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.errors import BackpropError
from backprop_core.files import atomic_path

ESPEAK = "espeak-ng"
VOICE = "en"
WORDS_PER_MINUTE = 170
MAX_WORDS_PER_MINUTE = 250
FADE_SECONDS = 0.08
AUDIO_BITRATE = 64_000


def check_espeak() -> str:
    """The path of espeak-ng, or a one-line error saying how to install it."""
    path = shutil.which(ESPEAK)
    if path is None:
        raise BackpropError(
            None,
            "--narrate",
            "needs espeak-ng, an offline voice: install it with `apt-get install espeak-ng`",
        )
    return path


def speak(text: str, words_per_minute: int = WORDS_PER_MINUTE) -> tuple[NDArray[np.int16], int]:
    """``(samples, rate)`` of ``text`` read by espeak-ng (mono, 16 bit)."""
    done = subprocess.run(
        [check_espeak(), "-v", VOICE, "-s", str(words_per_minute), "--stdout", text],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or "no audio"
        raise BackpropError(None, "--narrate", f"espeak-ng failed: {message}")
    with wave.open(io.BytesIO(done.stdout)) as w:
        rate = w.getframerate()
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.int16), rate


def _fit(text: str, available: float) -> tuple[NDArray[np.int16], int]:
    """Speak ``text`` in at most ``available`` seconds if a faster voice allows it."""
    samples, rate = speak(text)
    seconds = len(samples) / rate
    if seconds > available > 0:
        faster = min(MAX_WORDS_PER_MINUTE, int(WORDS_PER_MINUTE * seconds / available) + 1)
        samples, rate = speak(text, faster)
    return samples, rate


def narration_track(
    cues: Sequence[tuple[float, float, str]], total: float
) -> tuple[NDArray[np.int16], int]:
    """One mono track of ``total`` seconds with every ``(start, end, text)`` cue spoken at
    its start; a cue never runs into the next one (see the module docstring)."""
    rate = 22050
    track = np.zeros(int(total * rate) + 1, dtype=np.int16)
    starts = [c[0] for c in cues] + [total]
    for (start, _end, text), next_start in zip(cues, starts[1:], strict=True):
        if not text.strip() or start >= total:
            continue
        available = max(0.0, min(next_start, total) - start)
        samples, rate = _fit(text.replace("\n", " "), available)
        room = int(available * rate)
        if len(samples) > room:
            samples = samples[:room].copy()
            fade = min(len(samples), int(FADE_SECONDS * rate))
            if fade:
                samples[-fade:] = (samples[-fade:] * np.linspace(1, 0, fade)).astype(np.int16)
        first = int(start * rate)
        track[first : first + len(samples)] = samples[: len(track) - first]
    return track, rate


def add_audio(video: Path, track: NDArray[np.int16], rate: int, out: Path) -> None:
    """Write ``video``'s video stream (packets copied) with ``track`` as AAC into ``out``."""
    import av

    with atomic_path(out, suffix=".mp4") as tmp:
        with av.open(str(video)) as src, av.open(str(tmp), "w") as dst:
            vin = src.streams.video[0]
            vout = dst.add_stream_from_template(vin)
            aout: Any = dst.add_stream("aac", rate=rate, layout="mono")
            aout.bit_rate = AUDIO_BITRATE
            audio = _encode(aout, track, rate)
            video_packets = [p for p in src.demux(vin) if p.dts is not None]
            # Interleave by time so the muxer never has to buffer a whole stream.
            vbase = Fraction(vin.time_base or 1)
            merged = sorted(
                [(float((p.dts or 0) * vbase), 0, i) for i, p in enumerate(video_packets)]
                + [(float((p.dts or 0) * p.time_base), 1, i) for i, p in enumerate(audio)]
            )
            for _, kind, i in merged:
                packet = video_packets[i] if kind == 0 else audio[i]
                packet.stream = vout if kind == 0 else aout
                dst.mux(packet)


def _encode(stream: Any, track: NDArray[np.int16], rate: int) -> list[Any]:
    import av

    packets: list[Any] = []
    chunk = 1024
    for i in range(0, len(track), chunk):
        piece = track[i : i + chunk]
        frame = av.AudioFrame.from_ndarray(piece.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = i
        frame.time_base = Fraction(1, rate)
        packets += stream.encode(frame)
    packets += stream.encode(None)
    return packets


def narrate(video: Path, cues: Sequence[tuple[float, float, str]], total: float) -> None:
    """Replace ``video`` by itself with the spoken ``cues`` as its audio track."""
    track, rate = narration_track(cues, total)
    add_audio(video, track, rate, video)
