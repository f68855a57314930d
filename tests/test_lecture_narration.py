"""The offline draft voice (espeak-ng) and a track muxed into a video (`--voice espeak`)."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from backprop_core import BackpropError
from backprop_lecture import audio as sound
from backprop_lecture import narration

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)


def tiny_video(path: Path, frames: int = 30, fps: int = 15) -> None:
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = np.full((48, 64, 3), i * 8 % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)


def test_missing_espeak_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(narration.shutil, "which", lambda name: None)
    with pytest.raises(BackpropError, match=r"^--voice espeak: needs espeak-ng.*apt-get install"):
        narration.check_espeak()


@needs_espeak
def test_audio_track_is_added_and_video_packets_are_copied(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    tiny_video(video)
    with av.open(str(video)) as c:
        before = [bytes(p) for p in c.demux(video=0) if p.size]
    speech = sound.decode(narration.espeak_wav("Two seconds of video.", tmp_path / "s.wav"))
    sound.mux_audio(video, sound.fit(speech, 2.0), video)
    with av.open(str(video)) as c:
        kinds = sorted(s.type for s in c.streams)
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(2.0, abs=0.1)
    assert kinds == ["audio", "video"]
    with av.open(str(video)) as c:
        after = [bytes(p) for p in c.demux(video=0) if p.size]
    assert after == before
