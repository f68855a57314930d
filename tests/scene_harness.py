"""Run a scene file's Scene quickly (no frames) and check the numbers it showed.

Used by the construct smoke tests of every scene: ``run_scene`` renders with
``dry_run`` and ``skip_animations`` into a temporary media folder, and
``assert_numbers_match_trace`` checks that every registered number on screen is the
trace's value at the shown precision and is what the mobject actually displays.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from manim import MathTex, Scene, Tex, Text, tempconfig

from backprop_anim.numbers import fmt
from backprop_anim.scene import TraceScene
from backprop_explain.explain import evaluate

ROOT = Path(__file__).resolve().parents[1]
SCENES = ROOT / "scenes"


def load_scene_module(name: str) -> ModuleType:
    """Import ``scenes/NAME.py`` from its path, as ``manim render`` does."""
    path = SCENES / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scene_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def scene_class(module: ModuleType) -> type[Scene]:
    """The one Scene class a scene file defines (manim would find exactly this one)."""
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, Scene) and obj.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{module.__name__} defines {len(classes)} Scene classes"
    return classes[0]


def run_scene(name: str, tmp_path: Path) -> TraceScene:
    """Construct ``scenes/NAME.py`` with animations skipped; the ``BACKPROP_*`` settings
    come from the environment (use ``monkeypatch.setenv``)."""
    cls = scene_class(load_scene_module(name))
    with tempconfig(
        {
            "dry_run": True,
            "media_dir": str(tmp_path),
            "disable_caching": True,
            "write_to_movie": False,
            "verbosity": "WARNING",
        }
    ):
        scene = cls(skip_animations=True)
        scene.render()
    assert isinstance(scene, TraceScene)
    return scene


def displayed_text(mob: object) -> str:
    """The text a number mobject shows (MathTex/Tex joined strings, or Text's text)."""
    if isinstance(mob, (MathTex, Tex)):
        return "".join(mob.tex_strings).strip()
    if isinstance(mob, Text):
        return mob.text
    raise AssertionError(f"unexpected number mobject {type(mob).__name__}")


def assert_numbers_match_trace(scene: TraceScene) -> int:
    """Every registered number equals the trace at its precision; returns how many."""
    shown = scene.numbers.shown
    assert shown, "the scene registered no numbers"
    for s in shown:
        step = scene.trace.step(s.iteration)
        expected = fmt(evaluate(scene.trace, step, s.expression, scene.numbers.defined), s.decimals)
        assert s.text == expected, f"{s.expression}: registry says {s.text}, trace {expected}"
        assert displayed_text(s.mobject) == expected, (
            f"{s.expression}: screen shows {displayed_text(s.mobject)!r}, trace {expected}"
        )
    return len(shown)


def assert_renders_at_ql(name: str, cls: str, tmp_path: Path, beats: int) -> None:
    """``manim render -ql scenes/NAME.py`` as a user runs it (standard input closed, no
    ``BACKPROP_*`` from the developer's shell) exits 0 and writes the video and an ``.srt``
    with one subcaption per cue (``beats``: a beat's paragraph is one cue)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "--media_dir", str(tmp_path),
         f"scenes/{name}.py"],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    video = tmp_path / "videos" / name / "480p15" / f"{cls}.mp4"
    assert video.stat().st_size > 10_000
    assert video.with_suffix(".srt").read_text().count("-->") == beats
