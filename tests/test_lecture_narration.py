"""`backprop lecture --narrate`: subtitles spoken by espeak-ng into the audio track."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from backprop_core import BackpropError
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
    with pytest.raises(BackpropError, match=r"^--narrate: needs espeak-ng.*apt-get install"):
        narration.check_espeak()


@needs_espeak
def test_cues_are_spoken_at_their_start_and_never_overlap() -> None:
    cues = [(0.5, 1.5, "Hello."), (3.0, 4.0, "A long sentence " * 6), (3.5, 5.0, "Next.")]
    track, rate = narration.narration_track(cues, total=5.0)
    assert len(track) == int(5.0 * rate) + 1
    loud = np.flatnonzero(np.abs(track.astype(np.int32)) > 300) / rate
    assert loud.min() >= 0.5  # silence before the first cue
    assert not np.any((loud > 1.6) & (loud < 3.0))  # "Hello." ended; silence until 3.0
    # The long cue was cut (and faded) where the next one starts.
    sample = int(3.5 * rate)
    assert abs(int(track[sample - 1])) < 2000


@needs_espeak
def test_audio_track_is_added_and_video_packets_are_copied(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    tiny_video(video)
    with av.open(str(video)) as c:
        before = [bytes(p) for p in c.demux(video=0) if p.size]
    narration.narrate(video, [(0.2, 1.5, "Two seconds of video.")], total=2.0)
    with av.open(str(video)) as c:
        kinds = sorted(s.type for s in c.streams)
        audio = c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(2.0, abs=0.1)
    assert kinds == ["audio", "video"]
    with av.open(str(video)) as c:
        after = [bytes(p) for p in c.demux(video=0) if p.size]
    assert after == before
