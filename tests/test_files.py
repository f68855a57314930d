"""Files are never lost: the atomic writer, its lock, modes, symlinks, stale temp files,
signals, and the lecture's output folder that deletes only what it wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backprop_core.errors import BackpropError
from backprop_core.files import (
    TEMP_MARK,
    atomic_file,
    locked,
    read_limited,
    write_text_atomically,
)
from backprop_lecture.owned import MARKER, OutputFolder

ROOT = Path(__file__).resolve().parents[1]


def test_rewrite_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("old")
    path.chmod(0o600)
    write_text_atomically(path, "new")
    assert path.read_text() == "new" and path.stat().st_mode & 0o777 == 0o600


def test_rewrite_goes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real" / "t.txt"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_text_atomically(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.txt"]


def test_failure_keeps_the_old_file_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("good")
    with pytest.raises(ZeroDivisionError), atomic_file(path) as f:
        f.write(b"half")
        1 / 0  # noqa: B018
    assert path.read_text() == "good" and os.listdir(tmp_path) == ["t.txt"]


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    with locked(path):
        with pytest.raises(BackpropError, match=r"t\.txt: another backprop is writing"):
            write_text_atomically(path, "second")
    write_text_atomically(path, "after")
    assert os.listdir(tmp_path) == ["t.txt"]


def test_stale_temp_files_of_the_output_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / f".t.txt.abc123{TEMP_MARK}"
    stale.write_text("left by a kill -9")
    (tmp_path / f".t.txt.abc123{TEMP_MARK}.parts").mkdir()
    other = tmp_path / f".u.txt.abc123{TEMP_MARK}"
    other.write_text("another output's")
    write_text_atomically(tmp_path / "t.txt", "x")
    assert sorted(os.listdir(tmp_path)) == sorted(["t.txt", other.name])


def test_read_limited_stops_at_the_cap() -> None:
    with pytest.raises(BackpropError, match=r"/dev/zero: is larger than 1 MiB"):
        read_limited("/dev/zero", 1 << 20, "config")


def start_long_trace(tmp_path: Path, out: Path) -> subprocess.Popen[bytes]:
    """`backprop trace` of a million iterations into ``out``, once its temporary files
    exist (the output's and, for ``.json`` and ``.npz``, the losses' scratch file)."""
    config = tmp_path / "long.toml"
    config.write_text(
        'name = "long"\n[network]\nsizes = [2, 64, 1]\nactivations = "sigmoid"\nloss = "mse"\n'
        '[data]\ngenerator = "moons"\nsamples = 200\n'
        "[train]\nlearning_rate = 0.1\niterations = 1000000\nevery = 500000\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli", "trace", "-c", str(config), "-o", str(out)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while sum(TEMP_MARK in p.name for p in tmp_path.iterdir()) < 2:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.3)
    return proc


@pytest.mark.parametrize("suffix", [".npz", ".json"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_trace_removes_temp_files(tmp_path: Path, sig: int, suffix: str) -> None:
    """`backprop trace` killed by SIGTERM or Ctrl-C leaves no temporary file."""
    proc = start_long_trace(tmp_path, tmp_path / f"t{suffix}")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (130, 128 + sig, -sig, 1), err
    assert b"Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.toml"]


def test_the_next_trace_removes_what_a_kill_9_left(tmp_path: Path) -> None:
    """SIGKILL leaves the output's temporary file and the losses' scratch file beside it,
    findable by their names; the next write of that output removes both."""
    out = tmp_path / "t.json"
    proc = start_long_trace(tmp_path, out)
    proc.kill()
    proc.communicate(timeout=60)
    left = sorted(p.name for p in tmp_path.iterdir() if TEMP_MARK in p.name)
    assert len(left) == 2 and all(name.startswith(".t.json.") for name in left), left
    assert any(".losses." in name for name in left), left
    result = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "trace", "-p", "xor", "-o", str(out)],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.toml", "t.json"]


# --- the lecture's output folder ------------------------------------------------------------


def test_lecture_refuses_a_folder_with_foreign_files(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("mine")
    with pytest.raises(BackpropError, match=r"holds files backprop did not write \(thesis\.tex\)"):
        OutputFolder(tmp_path).__enter__()


def test_lecture_refuses_an_output_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("a file")
    with pytest.raises(BackpropError, match=r"out: -o: is a file"):
        OutputFolder(tmp_path / "out").__enter__()


def test_lecture_deletes_only_what_it_wrote(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputFolder(out) as owned:
        (out / "stills").mkdir()
        for name in ("a.png", "b.png"):
            write_text_atomically(owned.add(out / "stills" / name), name)
        owned.complete = True
    (out / "stills" / "notes.txt").write_text("the user's own")
    with OutputFolder(out) as owned:
        write_text_atomically(owned.add(out / "stills" / "a.png"), "a2")
        owned.complete = True
    assert sorted(os.listdir(out / "stills")) == ["a.png", "notes.txt"]
    assert (out / MARKER).read_text() == "stills/a.png\n"


def test_an_incomplete_build_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with OutputFolder(out) as owned:
        write_text_atomically(owned.add(out / "lecture.mp4"), "v")
        owned.complete = True
    with OutputFolder(out) as owned:
        write_text_atomically(owned.add(out / "lecture.srt"), "s")
    assert sorted(os.listdir(out)) == sorted([MARKER, "lecture.mp4", "lecture.srt"])


def test_two_lectures_into_one_folder_are_refused(tmp_path: Path) -> None:
    with OutputFolder(tmp_path / "out"):
        with pytest.raises(BackpropError, match=r"another `backprop lecture` is writing here"):
            OutputFolder(tmp_path / "out").__enter__()


def test_a_marker_cannot_point_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / MARKER).write_text("../victim.txt\n/etc/passwd\n")
    with OutputFolder(out) as owned:
        write_text_atomically(owned.add(out / "lecture.srt"), "s")
        owned.complete = True
    assert victim.read_text() == "keep"


def test_newline_in_a_title_adds_no_chapter_line() -> None:
    from backprop_lecture.timeline import one_line

    assert one_line("Part\n00:00:05 forged\u2028x") == "Part 00:00:05 forged x"
