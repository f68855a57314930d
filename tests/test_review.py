"""``backprop review``: dead air and narrow frames found at the right times, on videos made
here frame by frame with PyAV (so the expected stretches are known exactly)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest

from backprop_lecture.review import review

FPS = 15
W, H = 320, 180
Frame = np.ndarray


def board(left: float = 0.05, right: float = 0.95) -> Frame:
    """A heading and a full board from ``left`` to ``right`` of the width."""
    img = np.zeros((H, W, 3), np.uint8)
    img[5:20, 10:120] = 255  # heading, inside the top band
    img[60:160, int(left * W) : int(right * W)] = 200
    return img


def heading_only() -> Frame:
    img = np.zeros((H, W, 3), np.uint8)
    img[5:20, 10:120] = 255
    return img


def write_video(path: Path, frames: list[Frame]) -> Path:
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        for f in frames:
            for packet in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return path


def seconds(t: float, make: Callable[[], Frame]) -> list[Frame]:
    return [make() for _ in range(round(t * FPS))]


def test_a_full_video_has_nothing_to_report(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", seconds(4, board))
    assert review(video) == []


def test_a_bare_heading_is_dead_air_at_its_time(tmp_path: Path) -> None:
    frames = seconds(2, board) + seconds(1.2, heading_only) + seconds(2, board)
    findings = review(write_video(tmp_path / "v.mp4", frames))
    assert [f.kind for f in findings] == ["dead air"]
    assert findings[0].start == pytest.approx(2.0, abs=1 / FPS)
    assert findings[0].end == pytest.approx(3.2, abs=1 / FPS)
    assert "only the heading" in findings[0].detail


def test_a_short_stall_is_not_reported(tmp_path: Path) -> None:
    frames = seconds(2, board) + seconds(0.6, heading_only) + seconds(2, board)
    assert review(write_video(tmp_path / "v.mp4", frames)) == []


def test_faint_frames_count_against_their_own_beat(tmp_path: Path) -> None:
    # beat 1 is full; beat 2 is a small picture throughout (its own fullest frame), so
    # it is not dead air; a faint stretch in beat 1 is.
    def small() -> Frame:
        return board(0.3, 0.7)

    def faint() -> Frame:
        img = board()
        img[60:160] = 0
        img[60:70, 20:300] = 200
        return img

    frames = seconds(1, board) + seconds(1, faint) + seconds(1, board) + seconds(3, small)
    video = write_video(tmp_path / "v.mp4", frames)
    (tmp_path / "sections").mkdir()
    index = [{"name": "one", "nb_frames": 3 * FPS}, {"name": "two", "nb_frames": 3 * FPS}]
    (tmp_path / "sections" / "v.json").write_text(json.dumps(index))
    findings = review(video)
    assert [(f.kind, f.beat) for f in findings] == [("dead air", "one")]
    assert findings[0].start == pytest.approx(1.0, abs=1 / FPS)


def test_the_previous_beats_board_at_a_beats_start_sets_no_measure(tmp_path: Path) -> None:
    # Beat two starts under the dense board of beat one (the heading changes over it), then
    # shows its own board at a third of that ink: not dead air. A faint stretch in its first
    # second is still measured against its own board.
    def own() -> Frame:
        img = board()
        img[90:160] = 0
        return img

    def faint() -> Frame:
        img = board()
        img[60:160] = 0
        img[60:66, 20:300] = 200
        return img

    index = [{"name": "one", "nb_frames": 2 * FPS}, {"name": "two", "nb_frames": 5 * FPS}]
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "v.json").write_text(json.dumps(index))
    calm = seconds(2, board) + seconds(0.6, board) + seconds(4.4, own)
    assert review(write_video(tmp_path / "v.mp4", calm)) == []
    stall = seconds(2, board) + seconds(0.2, board) + seconds(1, faint) + seconds(3.8, own)
    findings = review(write_video(tmp_path / "v.mp4", stall))
    assert [(f.kind, f.beat) for f in findings] == [("dead air", "two")]
    assert findings[0].start == pytest.approx(2.2, abs=1 / FPS)


def test_a_picture_in_one_half_of_the_frame_is_narrow(tmp_path: Path) -> None:
    frames = seconds(1, board) + seconds(3.5, lambda: board(0.05, 0.4)) + seconds(1, board)
    findings = review(write_video(tmp_path / "v.mp4", frames))
    assert [f.kind for f in findings] == ["narrow"]
    assert findings[0].start == pytest.approx(1.0, abs=1 / FPS)
    assert findings[0].end == pytest.approx(4.5, abs=1 / FPS)


def test_the_command_exits_1_on_findings_and_2_on_a_bad_file(tmp_path: Path) -> None:
    frames = seconds(1, board) + seconds(1.5, heading_only)
    video = write_video(tmp_path / "v.mp4", frames)
    run = [sys.executable, "-m", "backprop_cli", "review"]
    done = subprocess.run([*run, str(video)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "dead air" in done.stdout
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    done = subprocess.run([*run, str(bad)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "not a readable video" in done.stderr
