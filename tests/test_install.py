"""The wheel, installed outside the repository, renders a packaged scene, a scene file of
one's own, a lecture and a ``manim render`` of a scene using the kit, from a folder whose
path has spaces.

The wheel is built from a copy of the sources (so the build leaves nothing in the
repository) and installed with ``--no-deps`` into a fresh virtual environment; its
dependencies (manim, NumPy, PyAV) come from the environment running the tests through a
``.pth`` line added after the install, so the test needs no download beyond the build
backend and pip sees a clean environment. Every ``backprop_*`` module is imported from the
wheel (checked), never from the checkout.

``backprop render delta --preset xor -ql`` is the longest step (about 80 s on two cores);
it runs in the background while the short ones run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "pyproject.toml",
    "README.md",
    "scenes",
    "backprop_core",
    "backprop_explain",
    "backprop_anim",
    "backprop_lecture",
    "backprop_cli",
)

SCENE = """
from manim import FadeIn, FadeOut

from backprop_anim.mobjects import TraceMatrix
from backprop_anim.scene import TraceScene
from backprop_anim.style import WEIGHT_COLOR


class {cls}(TraceScene):
    default_preset = "xor"

    def construct(self) -> None:
        self.beat("weights", "{words}", duration=1.0)
        weights = TraceMatrix(self.numbers, "W1", WEIGHT_COLOR)
        self.play(FadeIn(weights), run_time=0.5)
        self.wait(0.5)
        self.beat("end", "That is all.", duration=1.0)
        self.play(FadeOut(weights), run_time=1.0)
"""
SCENE_SECONDS = 2.0


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel installed in it."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    wheels = tmp / "wheels"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(src)], cwd=tmp)
    (wheel,) = wheels.glob("backprop_anim-*.whl")
    env = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)], cwd=tmp)
    python = env / "bin" / "python"
    run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], cwd=tmp)
    # The dependencies: the test environment's own site-packages, after the install.
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp,
        ).strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    return env


def run(cmd: list[str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(
        cmd,
        cwd=cwd,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{cmd}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """The environment without the checkout on the path or BACKPROP_* settings."""
    return {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("BACKPROP_")
    }


@pytest.fixture(scope="module")
def here(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working folder outside the repository, with a space in its path, no manim.cfg."""
    folder = tmp_path_factory.mktemp("outside") / "my course" / "week 1"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def delta(venv: Path, here: Path) -> Iterator[subprocess.Popen[str]]:
    """``backprop render delta --preset xor -ql`` started in the background."""
    proc = subprocess.Popen(
        [str(venv / "bin" / "backprop"), "render", "delta", "--preset", "xor", "-ql"],
        cwd=here,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def seconds(video: Path) -> float:
    """A video's length from its decoded frames and frame rate (PyAV)."""
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        rate = Fraction(stream.average_rate or stream.base_rate)
        frames = sum(1 for _ in c.decode(stream))
    return float(frames / rate)


def cues(srt: Path) -> list[str]:
    """The subtitle texts of an ``.srt`` file, in order."""
    blocks = re.split(r"\n\s*\n", srt.read_text("utf-8").strip())
    return [" ".join(b.splitlines()[2:]) for b in blocks if b.strip()]


def test_the_modules_come_from_the_wheel(venv: Path, here: Path, delta: object) -> None:
    code = (
        "import backprop_anim, backprop_cli, backprop_lecture.spec as s; "
        "print(backprop_anim.__file__); print(s.packaged_scenes_dir()); "
        "print(s.default_lecture_path())"
    )
    lines = run([str(venv / "bin" / "python"), "-c", code], cwd=here).splitlines()
    for line in lines:
        assert Path(line).is_relative_to(venv), lines
        assert not Path(line).is_relative_to(ROOT)
    scenes = Path(lines[1])
    assert {p.name for p in scenes.glob("*.py")} >= {"delta.py", "scalar.py", "__init__.py"}
    assert (Path(lines[0]).parent / "tex_template.tex").is_file()
    assert (Path(lines[0]).parents[1] / "backprop_core" / "presets" / "xor.toml").is_file()


def test_manim_lists_the_plugin(venv: Path, here: Path) -> None:
    listed = run([str(venv / "bin" / "python"), "-m", "manim", "plugins", "-l"], cwd=here)
    assert "backprop_anim" in listed


def test_render_a_scene_file_of_ones_own(venv: Path, here: Path, delta: object) -> None:
    (here / "my scene.py").write_text(SCENE.format(cls="Mine", words="Weights from the trace."))
    (here / "out dir").mkdir()
    out = here / "out dir" / "mine.mp4"
    # Its own --media-dir: the delta render runs in this folder at the same time, and
    # manim's TeX cache is not safe for two processes typesetting the same formula at once.
    printed = run(
        [str(venv / "bin" / "backprop"), "render", "my scene.py", "-k", "10", "-o", str(out),
         "--media-dir", "own media"],
        cwd=here,
    )  # fmt: skip
    assert f"Video: {out}" in printed and "Subtitles:" in printed
    assert seconds(out) == pytest.approx(SCENE_SECONDS, abs=1 / 15)
    assert cues(out.with_suffix(".srt")) == ["Weights from the trace.", "That is all."]


def test_manim_render_of_a_scene_using_the_kit(venv: Path, here: Path, delta: object) -> None:
    folder = here / "plain manim"
    folder.mkdir()
    (folder / "kit scene.py").write_text(SCENE.format(cls="Plain", words="Plain manim."))
    run([str(venv / "bin" / "python"), "-m", "manim", "render", "-ql", "kit scene.py"], cwd=folder)
    (video,) = (folder / "media" / "videos").rglob("Plain.mp4")
    assert seconds(video) == pytest.approx(SCENE_SECONDS, abs=1 / 15)
    assert cues(video.with_suffix(".srt"))[0] == "Plain manim."


def test_a_two_part_lecture(venv: Path, here: Path, delta: object) -> None:
    folder = here / "lecture one"
    (folder / "scenes").mkdir(parents=True)
    (folder / "scenes" / "first.py").write_text(SCENE.format(cls="First", words="Part one."))
    (folder / "second part.py").write_text(SCENE.format(cls="Second", words="Part two."))
    (folder / "lecture.toml").write_text(
        'title = "Two parts"\n'
        '[[parts]]\nscene = "first"\ntitle = "One"\n'
        '[[parts]]\nscene = "second part.py"\ntitle = "Two"\npreset = "xor"\niteration = 10\n'
    )
    out = folder / "out"
    run(
        [
            str(venv / "bin" / "backprop"),
            "lecture",
            "lecture one/lecture.toml",
            "-j1",
            "-o",
            str(out),
        ],
        cwd=here,
    )
    assert seconds(out / "lecture.mp4") == pytest.approx(2 * SCENE_SECONDS, abs=2 / 15)
    assert cues(out / "lecture.srt") == ["Part one.", "That is all.", "Part two.", "That is all."]


def test_render_delta_with_a_preset(venv: Path, here: Path, delta: subprocess.Popen[str]) -> None:
    printed, _ = delta.communicate(timeout=900)
    assert delta.returncode == 0, printed
    video = here / "delta.mp4"
    assert f"Video: {video}" in printed
    assert seconds(video) > 60
    texts = cues(video.with_suffix(".srt"))
    assert len(texts) >= 8 and all(texts)
