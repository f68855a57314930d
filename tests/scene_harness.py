"""Run a scene file's Scene quickly (no frames) and check the numbers it showed.

Used by the construct smoke tests of every scene: ``run_scene`` renders with
``dry_run`` and ``skip_animations`` into a temporary media folder, and
``assert_numbers_match_trace`` checks that every registered number on screen is the
trace's value at the shown precision and is what the mobject actually displays.

The values are recomputed here, independently of the scene's expressions: a number with a
:mod:`~backprop_explain.provenance` source is rebuilt from the trace's arrays at the
entries it names (read by :func:`array` below, never through ``evaluate``), and every
product line's claim (:class:`~backprop_explain.provenance.LineRecord`) is rebuilt from the
trace: its factors are the operands' entries at the indices it names, they multiply and
sum to the result it shows, and that result is the trace's entry.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from manim import MathTex, Scene, Tex, Text, tempconfig
from numpy.typing import NDArray
from viewer import watched

from backprop_anim.numbers import NumberRegistry, Shown, fmt
from backprop_anim.scene import TraceScene
from backprop_core.trace import Step, Trace
from backprop_explain.explain import evaluate
from backprop_explain.provenance import (
    Combination,
    Entry,
    LineRecord,
    Operand,
    Scalar,
    Source,
    Term,
)
from backprop_lecture.review import review

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
    come from the environment (use ``monkeypatch.setenv``). The scene is watched (see
    :mod:`viewer`): :func:`viewer.assert_viewable` checks what it saw."""
    cls = watched(scene_class(load_scene_module(name)))
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


# -- the trace, read directly --------------------------------------------------------


def array(step: Step, quantity: str, layer: int) -> NDArray[np.float64]:
    """A quantity's array, straight from the step's records (no expression involved)."""
    if quantity == "y":
        return np.asarray(step.target)
    if quantity == "grad_a":
        return np.asarray(step.grad_a)
    if quantity == "a" and layer == 0:
        return np.asarray(step.input)
    return np.asarray(getattr(step.layers[layer - 1], quantity))


def operand_array(step: Step, op: Operand) -> NDArray[np.float64]:
    values = array(step, op.quantity, op.layer)
    return values.T if op.transpose else values


def scalar(trace: Trace, step: Step, name: str) -> float:
    return float(
        {
            "eta": trace.config.learning_rate,
            "m": step.input.shape[1],
            "loss": step.loss,
            "loss_after": step.loss_after,
            "iteration": step.iteration,
        }[name]
    )


def recompute(trace: Trace, step: Step, source: Source) -> float:
    """The value of ``source`` from the trace's arrays, with this module's own arithmetic."""
    if isinstance(source, Entry):
        return float(array(step, source.quantity, source.layer)[source.index])
    if isinstance(source, Scalar):
        return scalar(trace, step, source.name)
    if isinstance(source, Term):
        value = float(source.sign)
        for f in source.factors:
            value *= recompute(trace, step, f)
        return value
    assert isinstance(source, Combination)
    total = sum(recompute(trace, step, t) for t in source.terms)
    return total / (1.0 if source.divisor is None else scalar(trace, step, source.divisor.name))


def check_number(trace: Trace, s: Shown, defined: dict[str, Any]) -> None:
    """One registered number: its text is the trace's value at its precision."""
    step = trace.step(s.iteration)
    if s.source is not None:
        value = recompute(trace, step, s.source)
    else:
        # No provenance: a value the scene derived outside the trace's entries (a
        # finite-difference ratio, the question's own expressions).
        value = evaluate(trace, step, s.expression, defined)
    expected = fmt(value, s.decimals)
    assert s.text == expected, f"{s.expression}: registry says {s.text}, trace {expected}"
    assert displayed_text(s.mobject) == expected, (
        f"{s.expression}: screen shows {displayed_text(s.mobject)!r}, trace {expected}"
    )


def shown_is(numbers: NumberRegistry, index: int, value: float, what: str) -> None:
    """The number at ``index`` shows ``value`` at its precision."""
    s = numbers.shown[index]
    assert s.text == fmt(value, s.decimals), (
        f"{what}: shows {s.text}, trace {fmt(value, s.decimals)}"
    )


def close_at_shown_precision(numbers: NumberRegistry, index: int, value: float, what: str) -> None:
    """``value`` rounds to what number ``index`` shows (a sum of the line's terms)."""
    s = numbers.shown[index]
    assert abs(value - float(s.text)) <= 0.5 * 10.0 ** (-s.decimals) + 1e-9, (
        f"{what}: the terms give {value!r}, the line shows {s.text}"
    )


def check_line(numbers: NumberRegistry, line: LineRecord, claimed: dict[int, float]) -> None:
    """A product line's claim, rebuilt from the trace (see :class:`LineRecord`)."""
    trace, step = numbers.trace, numbers.step
    i, j = line.at
    R = operand_array(step, line.right)
    num = line.numbers
    where = f"{line.kind} line at {line.at}"
    if line.kind == "row_column":
        assert line.left is not None
        L = operand_array(step, line.left)
        assert L.shape[1] == R.shape[0], f"{where}: inner sizes {L.shape} {R.shape}"
        total = float(sum(L[i, k] * R[k, j] for k in range(L.shape[1])))
        assert set(line.shown) <= set(range(L.shape[1])), f"{where}: terms {line.shown}"
        for k in line.shown:
            if ("left", k) in num:
                shown_is(numbers, num[("left", k)], L[i, k], f"{where}: left factor {k}")
                shown_is(numbers, num[("right", k)], R[k, j], f"{where}: right factor {k}")
            if ("term", k) in num:
                shown_is(numbers, num[("term", k)], L[i, k] * R[k, j], f"{where}: term {k}")
        if line.add is not None:
            b = float(operand_array(step, line.add)[i, 0])
            total += b
            if ("add", 0) in num:
                shown_is(numbers, num[("add", 0)], b, f"{where}: added column")
        if ("sum", 0) in num:
            shown_is(numbers, num[("sum", 0)], total, f"{where}: sum")
            claimed[num[("sum", 0)]] = total
        end = total
    elif line.kind in ("hadamard", "difference"):
        if line.left_value is not None:
            left = claimed[line.left_value]
        else:
            assert line.left is not None
            left = float(operand_array(step, line.left)[i, j])
        shown_is(numbers, num[("left", 0)], left, f"{where}: left factor")
        shown_is(numbers, num[("right", 0)], R[i, j], f"{where}: right factor")
        end = left * R[i, j] if line.kind == "hadamard" else left - R[i, j]
    elif line.kind == "outer":
        assert line.left is not None
        L = operand_array(step, line.left)
        m = int(step.input.shape[1])
        assert line.divisor == m, f"{where}: divides by {line.divisor}, the batch has m = {m}"
        for s in line.shown:
            shown_is(numbers, num[("left", s)], L[i, s], f"{where}: left factor, sample {s}")
            shown_is(numbers, num[("right", s)], R[j, s], f"{where}: right factor, sample {s}")
        end = float(sum(L[i, s] * R[j, s] for s in range(L.shape[1]))) / m
    else:
        assert line.kind == "update", line.kind
        assert line.left is not None
        p = float(operand_array(step, line.left)[i, j])
        eta = trace.config.learning_rate
        shown_is(numbers, num[("left", 0)], p, f"{where}: parameter")
        shown_is(numbers, num[("eta", 0)], eta, f"{where}: learning rate")
        shown_is(numbers, num[("right", 0)], R[i, j], f"{where}: gradient")
        end = p - eta * R[i, j]
    if line.result is not None:
        assert ("result", 0) in num, f"{where}: no result shown"
        true = float(operand_array(step, line.result)[i, j])
        shown_is(numbers, num[("result", 0)], true, f"{where}: result")
        close_at_shown_precision(numbers, num[("result", 0)], end, where)
        assert abs(end - true) <= 1e-9 * max(1.0, abs(true)), (
            f"{where}: the terms give {end!r}, the trace's result is {true!r}"
        )


def assert_registry_matches_trace(numbers: NumberRegistry) -> int:
    """Every registered number equals the trace at its precision, and every product line
    adds up to the trace's entry; returns how many numbers were checked."""
    shown = numbers.shown
    assert shown, "no number was registered"
    for s in shown:
        check_number(numbers.trace, s, numbers.defined)
    claimed: dict[int, float] = {}
    for line in numbers.lines:
        check_line(numbers, line, claimed)
    return len(shown)


def assert_numbers_match_trace(scene: TraceScene) -> int:
    """:func:`assert_registry_matches_trace` for everything ``scene`` showed."""
    return assert_registry_matches_trace(scene.numbers)


def assert_renders_at_ql(name: str, cls: str, tmp_path: Path, beats: int) -> Path:
    """``manim render -ql --save_sections scenes/NAME.py`` as a user runs it (standard
    input closed, no ``BACKPROP_*`` from the developer's shell) exits 0 and writes the
    video and an ``.srt`` with one subcaption per cue (``beats``: a beat's paragraph is one
    cue). Returns the video, for :func:`assert_reviewed` (the sections are its beats)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "--save_sections", "--media_dir",
         str(tmp_path), f"scenes/{name}.py"],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
        timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    video = tmp_path / "videos" / name / "480p15" / f"{cls}.mp4"
    assert video.stat().st_size > 10_000
    assert video.with_suffix(".srt").read_text().count("-->") == beats
    return video


def assert_reviewed(video: Path, known: str | None = None) -> None:
    """``backprop review`` finds no dead air and no narrow frame in ``video``.

    ``known`` names a scene's open problem: its findings then mark the test as an expected
    failure (with the findings in the reason) instead of failing it, until it is fixed.
    """
    findings = [f.line() for f in review(video)]
    if findings and known is not None:
        pytest.xfail(f"{known}: " + "; ".join(" ".join(f.split()) for f in findings))
    assert not findings, "\n".join(findings)
