"""``backprop_anim.tuning``: one switch, off until a scene of ours turns it on.

What the tuning changes is process-wide (manim's methods, glibc's heap, thread
priorities), so each check runs in a fresh interpreter (:func:`probe`), which reports:

- which manim attributes of :data:`backprop_anim.tuning.EXPECTED` are no longer the
  objects they were before the kit was imported (identity);
- whether a 24 MiB ``malloc`` is ``mmap``-ed, as with glibc's defaults (the block is never
  freed: freeing it would move glibc's dynamic threshold), or comes from the heap, as
  after ``reuse_freed_memory``;
- the niceness of a helper thread started before anything else ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from backprop_anim.inputs import load_fast
from backprop_core import BackpropError

ROOT = Path(__file__).resolve().parents[1]

PROBE_HEAD = r"""
import ctypes, json, os, sys, threading

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]

def mmapped():
    before = libc.mallinfo2().hblks
    libc.malloc(24 << 20)  # kept: a free would raise glibc's dynamic mmap threshold
    return libc.mallinfo2().hblks > before

stop = threading.Event()
helper = threading.Thread(target=stop.wait, daemon=True)
helper.start()
NICE = os.getpriority(os.PRIO_PROCESS, helper.native_id)

import manim
from manim import Camera, MathTex, Scene, tempconfig
from manim.mobject.svg.svg_mobject import SVGMobject
from manim.renderer.cairo_renderer import CairoRenderer
import manim.mobject.text.tex_mobject as tex_mobject
OWNERS = {"SVGMobject": SVGMobject, "MathTex": MathTex, "tex_mobject": tex_mobject,
          "CairoRenderer": CairoRenderer, "Camera": Camera, "Scene": Scene}
ORIGINAL = {(o, n): vars(OWNERS[o]).get(n) for o, n in (
    ("SVGMobject", "init_svg_mobject"), ("MathTex", "__init__"),
    ("tex_mobject", "tex_to_svg_file"), ("CairoRenderer", "__init__"),
    ("CairoRenderer", "save_static_frame_data"), ("CairoRenderer", "render"),
    ("CairoRenderer", "update_frame"), ("CairoRenderer", "get_frame"),
    ("CairoRenderer", "add_frame"), ("Camera", "__init__"),
    ("Camera", "set_cairo_context_path"), ("Camera", "capture_mobjects"),
    ("Camera", "get_mobjects_to_display"), ("Camera", "set_frame_to_background"),
    ("Scene", "update_mobjects"), ("Scene", "play"), ("Scene", "wait"))}

def state():
    return {
        "changed": sorted(f"{o}.{n}" for (o, n), f in ORIGINAL.items()
                          if vars(OWNERS[o]).get(n) is not f),
        "mmapped": mmapped(),
        "helper_nice": os.getpriority(os.PRIO_PROCESS, helper.native_id) - NICE,
        "main_nice": os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) - NICE,
    }

SETTINGS = {"dry_run": True, "disable_caching": True, "write_to_movie": False,
            "verbosity": "WARNING", "media_dir": sys.argv[1]}
out = {}
"""

SCENES = r"""
from manim import FadeIn
from backprop_anim.mobjects import TraceMatrix
from backprop_anim.numbers import NumberRegistry
from backprop_anim.scene import TraceScene
from backprop_core import load_preset, run

trace = run(load_preset("delta-demo"))

class LecturersOwn(Scene):
    def construct(self):
        self.play(FadeIn(TraceMatrix(NumberRegistry(trace, trace.step(1), 3), "W2", "#FFFFFF")))

class Ours(TraceScene):
    def construct(self):
        self.play(FadeIn(TraceMatrix(self.numbers, "W2", "#FFFFFF")))

with tempconfig(SETTINGS):
    scene = LecturersOwn()
    scene.render()
out["lecturer"] = state()
out["lecturer"]["renderer"] = type(scene.renderer).__name__
with tempconfig(SETTINGS):
    scene = Ours()
    scene.render()
out["ours"] = state()
out["ours"]["renderer"] = type(scene.renderer).__name__
out["ours"]["camera"] = type(scene.renderer.camera).__name__
out["ours"]["tuned"] = scene.tuned
"""


def probe(tmp_path: Path, body: str, **env: str) -> dict[str, Any]:
    """Run :data:`PROBE_HEAD` then ``body`` in a fresh interpreter; its ``out`` as JSON."""
    script = PROBE_HEAD + body + "\nprint(json.dumps(out))\n"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    full_env["PYTHONPATH"] = os.pathsep.join([str(ROOT), full_env.get("PYTHONPATH", "")])
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "media")],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


PATCHED = ["MathTex.__init__", "SVGMobject.init_svg_mobject"]
"""What :func:`enable` replaces for the whole process (the rest is subclassed)."""


def untouched(state: dict[str, Any]) -> bool:
    return (
        state["changed"] == []
        and state["mmapped"] is True
        and state["helper_nice"] == 0
        and state["main_nice"] == 0
    )


def test_importing_the_kit_changes_nothing_and_enable_turns_it_on(tmp_path: Path) -> None:
    body = r"""
import importlib, pkgutil, warnings
import backprop_anim
for info in pkgutil.walk_packages(backprop_anim.__path__, "backprop_anim."):
    importlib.import_module(info.name)
out["modules"] = sorted(m for m in sys.modules if m.startswith("backprop_anim"))
out["imported"] = state()
from backprop_anim import tuning
with warnings.catch_warnings():
    warnings.simplefilter("error")
    out["first"] = tuning.enable()
    out["again"] = tuning.enable()
out["enabled"] = state()
out["enabled"]["is_on"] = tuning.enabled()
out["enabled"]["svg"] = SVGMobject.init_svg_mobject.__module__
"""
    out = probe(tmp_path, body)
    assert {"backprop_anim.scene", "backprop_anim.mobjects", "backprop_anim.numbers",
            "backprop_anim.story", "backprop_anim.tuning.svgcache",
            "backprop_anim.tuning.renderer", "backprop_anim.tuning.texbatch",
            "backprop_anim.tuning.process"} <= set(out["modules"])  # fmt: skip
    assert untouched(out["imported"]), out["imported"]
    assert out["first"] is True and out["again"] is True
    enabled = out["enabled"]
    assert enabled["changed"] == PATCHED
    assert enabled["svg"] == "backprop_anim.tuning.svgcache"
    assert enabled["is_on"] is True
    if sys.platform.startswith("linux"):
        assert enabled["mmapped"] is False  # reuse_freed_memory took
    assert enabled["helper_nice"] == 0  # threads are reniced by a tuned play only


def test_our_scenes_are_tuned_and_a_lecturers_own_scene_is_not(tmp_path: Path) -> None:
    out = probe(tmp_path, SCENES)
    lecturer, ours = out["lecturer"], out["ours"]
    assert untouched(lecturer), lecturer
    assert lecturer["renderer"] == "CairoRenderer"
    assert ours["tuned"] is True
    assert ours["changed"] == PATCHED
    assert (ours["renderer"], ours["camera"]) == ("StaticFrameCache", "PathCacheCamera")
    assert ours["helper_nice"] == 10 and ours["main_nice"] == 0
    if sys.platform.startswith("linux"):
        assert ours["mmapped"] is False


def test_backprop_fast_0_renders_with_plain_manim(tmp_path: Path) -> None:
    out = probe(tmp_path, SCENES, BACKPROP_FAST="0")
    ours = out["ours"]
    assert untouched(out["lecturer"]), out["lecturer"]
    assert untouched(ours), ours
    assert ours["tuned"] is False
    assert (ours["renderer"], ours["camera"]) == ("CairoRenderer", "Camera")


def test_a_changed_manim_function_keeps_everything_off_with_one_warning(tmp_path: Path) -> None:
    """For each function of ``EXPECTED`` in turn: given other parameters (and one
    missing), ``enable()`` warns once, naming it, and replaces nothing."""
    body = r"""
import warnings
from backprop_anim import tuning
out["cases"] = []
def changed(*args, **kwargs):
    raise AssertionError("never called")
cases = [(owner, name, changed) for owner, name, _ in tuning.EXPECTED]
cases.append((tex_mobject, "tex_to_svg_file", None))  # missing
for owner, name, replacement in cases:
    original = vars(owner)[name]
    if replacement is None:
        delattr(owner, name)
    else:
        setattr(owner, name, replacement)
    tuning._state = None  # a fresh process, as far as the switch knows
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first, second = tuning.enable(), tuning.enable()
        label = next(k for k, v in OWNERS.items() if v is owner) + "." + name
        replaced = [f"{o}.{n}" for (o, n), f in ORIGINAL.items()
                    if vars(OWNERS[o]).get(n) is not f and f"{o}.{n}" != label]
    finally:
        setattr(owner, name, original)
    out["cases"].append({
        "name": label,
        "results": [first, second, tuning.enabled()],
        "warnings": [str(w.message) for w in caught],
        "categories": [w.category.__name__ for w in caught],
        "replaced": replaced,
    })
out["after"] = state()
"""
    out = probe(tmp_path, body)
    cases = out["cases"]
    assert len(cases) >= 15
    for case in cases:
        assert case["results"] == [False, False, False], case
        assert len(case["warnings"]) == 1, case
        (message,) = case["warnings"]
        assert case["name"] in message and "0.22.0" in message, message
        assert "\n" not in message
        assert case["categories"] == ["RuntimeWarning"]
        assert case["replaced"] == [], case  # nothing but what the test itself changed
    assert "is missing" in cases[-1]["warnings"][0]
    assert untouched(out["after"]), out["after"]


@pytest.mark.parametrize(("raw", "on"), [("", True), ("1", True), (" 1 ", True), ("0", False)])
def test_backprop_fast_values(raw: str, on: bool) -> None:
    assert load_fast({"BACKPROP_FAST": raw}) is on
    assert load_fast({}) is True


def test_a_bad_backprop_fast_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from backprop_anim.scene import TraceScene

    with pytest.raises(BackpropError, match="BACKPROP_FAST"):
        load_fast({"BACKPROP_FAST": "yes"})
    monkeypatch.setenv("BACKPROP_FAST", "2")
    with pytest.raises(SystemExit) as exited:
        TraceScene()
    assert exited.value.code == 2
    assert capsys.readouterr().err == "backprop: error: BACKPROP_FAST: must be 0 or 1, got '2'\n"


def test_a_lecture_passes_backprop_fast_on_to_its_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backprop_lecture import load_lecture, part_environment

    (tmp_path / "a.py").write_text("")
    lecture = tmp_path / "l.toml"
    lecture.write_text('[[parts]]\nscene = "a.py"\n')
    (part,) = load_lecture(lecture, cwd=tmp_path).parts
    monkeypatch.setenv("BACKPROP_FAST", "0")
    monkeypatch.setenv("BACKPROP_PRESET", "xor")
    env = part_environment(part)
    assert env["BACKPROP_FAST"] == "0" and "BACKPROP_PRESET" not in env


# -- the same frames with and without the tuning -------------------------------------------

FIRST_BEAT = {
    "scalar": ("ScalarScene", 5),
    "chain": ("ChainScene", 4),
    "delta": ("BackpropInMatrixForm", 6),
    "network": ("NetworkScene", 1),
    "training": ("TrainingScene", 1),
}
"""Scene file → (class, last animation of its first beat), for ``manim render -n 0,LAST``."""


def render_first_beat(name: str, media: Path, fast: str) -> Path:
    cls, last = FIRST_BEAT[name]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["BACKPROP_FAST"] = fast
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "--disable_caching",
         "--media_dir", str(media), "-n", f"0,{last}", f"scenes/{name}.py", cls],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return media / "videos" / name / "480p15" / f"{cls}.mp4"


def decoded_frames(video: Path) -> list[np.ndarray]:
    with av.open(str(video)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FIRST_BEAT))
def test_first_beat_has_the_same_frames_without_the_tuning(name: str, tmp_path: Path) -> None:
    """``-ql``, the first beat of every scene: ``BACKPROP_FAST=1`` and ``=0`` decode to the
    same frames, pixel for pixel."""
    fast = decoded_frames(render_first_beat(name, tmp_path / "fast", "1"))
    plain = decoded_frames(render_first_beat(name, tmp_path / "plain", "0"))
    assert len(fast) == len(plain) >= 15
    different = [
        i for i, (a, b) in enumerate(zip(fast, plain, strict=True)) if not np.array_equal(a, b)
    ]
    assert different == [], f"{len(different)} of {len(fast)} frames differ, first {different[:5]}"
