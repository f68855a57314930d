"""The public API (``backprop_anim.__all__``, docs/api.md) and the colour palette.

Fast: every public name resolves and documents a runnable example (the doctests run
here); ``import backprop_anim`` imports no manim; the builders' numbers on screen equal
the trace's entries recomputed here from the trace's arrays (``W @ a + b``,
``Wᵀ δ ⊙ σ'``, ``δ aᵀ / m``, ``Wᵀ``), never from the builders' own expressions; a
:class:`Style` changes the colours of what they return; class-attribute inputs and the
environment combine as documented; quantity, sign and highlight colours are far apart.
Slow: each scene of ``examples/`` renders at ``-ql`` from a folder outside the repository.
"""

from __future__ import annotations

import doctest
import itertools
import json
import logging
import math
import os
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from manim import Animation, ManimColor, MathTex, Mobject

import backprop_anim
from backprop_anim import (
    DEFAULT_STYLE,
    NetworkDiagram,
    Style,
    TraceMatrix,
    TraceScene,
    hadamard,
    outer_product,
    registry,
    row_times_column,
    transpose,
)
from backprop_anim import style as style_module
from backprop_anim.inputs import SceneSettings, load_inputs
from backprop_core import BackpropError
from backprop_explain.format import fmt

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def shown(mob: Mobject) -> str:
    """The text a number mobject shows."""
    assert isinstance(mob, MathTex)
    return mob.get_tex_string()


# -- the names -------------------------------------------------------------------------


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in backprop_anim.__all__:
        assert getattr(backprop_anim, name) is not None, name
    assert set(backprop_anim.__all__) <= set(dir(backprop_anim))
    with pytest.raises(AttributeError):
        backprop_anim.no_such_name  # noqa: B018


def test_every_public_name_documents_an_example_that_runs() -> None:
    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    logger = logging.getLogger("manim")
    level = logger.level
    logger.setLevel(logging.WARNING)  # TeX messages would be read as the examples' output
    try:
        for name in backprop_anim.__all__:
            obj = getattr(backprop_anim, name)
            target = type(obj) if isinstance(obj, Style) else obj
            doc = target.__doc__ or ""
            assert "Examples" in doc and (">>>" in doc or "::" in doc), f"{name}: no example"
            for test in finder.find(target, name):
                if test.examples and test.name == name:
                    runner.run(test)
    finally:
        logger.setLevel(level)
    assert runner.failures == 0, "a public example fails (see the output above)"


def test_importing_the_package_imports_nothing_else() -> None:
    """Manim imports the plugin module half-way through its own import: importing the
    package may add no module but itself (not manim, not even ``typing``)."""
    code = (
        "import json, sys; before = set(sys.modules); import backprop_anim;"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(out.stdout) == ["backprop_anim"]


# -- the builders' numbers, recomputed from the trace's arrays --------------------------


def some(n: int) -> list[int]:
    """The first and the last index (each builder is checked on these entries)."""
    return sorted({0, n - 1})


@pytest.fixture(scope="module", params=["delta-demo", "batch-demo"])
def numbers(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return registry(preset=request.param, iteration=1)


def layer(numbers, l: int):  # type: ignore[no-untyped-def]
    """The trace's arrays of layer ``l`` (1-based), as the engine recorded them."""
    return numbers.step.layers[l - 1]


def activation(numbers, l: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return numbers.step.input if l == 0 else layer(numbers, l).a


def test_row_times_column_shows_w_a_plus_b(numbers) -> None:  # type: ignore[no-untyped-def]
    d, L = numbers.decimals, len(numbers.step.layers)
    for l in range(1, L + 1):
        W, b = layer(numbers, l).W, layer(numbers, l).b
        a = activation(numbers, l - 1)
        z = W @ a + b.reshape(-1, 1)
        for j, s in itertools.product(some(W.shape[0]), some(a.shape[1])):
            p = row_times_column(
                numbers, "W", l, "a", l - 1, row=j, col=s, add=("b", l), result=("z", l)
            )
            terms, values = p.product.get_terms_line(), p.product.get_values_line()
            assert shown(p.result) == fmt(z[j, s], d)
            assert np.isclose(p.value, z[j, s])
            for k in p.product.shown:
                assert shown(terms.get_number("left", k)) == fmt(W[j, k], d)
                assert shown(terms.get_number("right", k)) == fmt(a[k, s], d)
                assert shown(values.get_number("term", k)) == fmt(W[j, k] * a[k, s], d)
            assert shown(terms.get_number("add")) == fmt(b.reshape(-1)[j], d)
            assert isinstance(p.mobject, Mobject)
            assert p.animations() and all(isinstance(x, Animation) for x in p.animations())


def test_bp2_shows_w_transpose_delta_times_sigma_prime(numbers) -> None:  # type: ignore[no-untyped-def]
    d, L = numbers.decimals, len(numbers.step.layers)
    for l in range(1, L):
        W_next, delta_next = layer(numbers, l + 1).W, layer(numbers, l + 1).delta
        back_expected = W_next.T @ delta_next
        sp, delta = layer(numbers, l).sigma_prime, layer(numbers, l).delta
        for k, s in itertools.product(some(W_next.shape[1]), some(delta.shape[1])):
            back = row_times_column(
                numbers, "W", l + 1, "delta", l + 1, row=k, col=s, transpose_left=True
            )
            assert shown(back.result) == fmt(back_expected[k, s], d)
            for i in back.product.shown:
                terms = back.product.get_terms_line()
                assert shown(terms.get_number("left", i)) == fmt(W_next[i, k], d)
                assert shown(terms.get_number("right", i)) == fmt(delta_next[i, s], d)
            bp2 = hadamard(numbers, back, l, "sigma_prime", l, result=("delta", l), row=k, col=s)
            assert shown(bp2.mobject.get_number("left")) == fmt(back_expected[k, s], d)
            assert shown(bp2.mobject.get_number("right")) == fmt(sp[k, s], d)
            assert shown(bp2.result) == fmt(back_expected[k, s] * sp[k, s], d)
            assert shown(bp2.result) == fmt(delta[k, s], d)
            assert bp2.animations(back.result, None)


def test_bp1_hadamard_of_the_output_layer(numbers) -> None:  # type: ignore[no-untyped-def]
    d, L = numbers.decimals, len(numbers.step.layers)
    grad, sp = numbers.step.grad_a, layer(numbers, L).sigma_prime
    for j in range(grad.shape[0]):
        bp1 = hadamard(numbers, "grad_a", L, "sigma_prime", L, result=("delta", L), row=j)
        assert shown(bp1.mobject.get_number("left")) == fmt(grad[j, 0], d)
        assert shown(bp1.result) == fmt(grad[j, 0] * sp[j, 0], d)


def test_outer_product_shows_delta_a_transpose_over_m(numbers) -> None:  # type: ignore[no-untyped-def]
    d, L = numbers.decimals, len(numbers.step.layers)
    for l in range(1, L + 1):
        delta, a = layer(numbers, l).delta, activation(numbers, l - 1)
        m = delta.shape[1]
        dW = delta @ a.T / m
        for j, k in itertools.product(some(dW.shape[0]), some(dW.shape[1])):
            p = outer_product(numbers, "delta", l, "a", l - 1, row=j, col=k)
            assert shown(p.result) == fmt(dW[j, k], d)
            assert shown(p.result) == fmt(layer(numbers, l).dW[j, k], d)
            for s in p.record.shown:
                assert shown(p.mobject.get_number("left", s)) == fmt(delta[j, s], d)
                assert shown(p.mobject.get_number("right", s)) == fmt(a[k, s], d)
            assert p.animations()


def test_transpose_moves_each_entry_to_its_mirror(numbers) -> None:  # type: ignore[no-untyped-def]
    d, L = numbers.decimals, len(numbers.step.layers)
    for l in range(1, L + 1):
        W = layer(numbers, l).W
        t = transpose(numbers, "W", l)
        assert t.transposed.true_shape == W.T.shape
        for (i, j), (jj, ii) in t.moves:
            assert (jj, ii) == (j, i)
            assert shown(t.original.get_entry(i, j)) == fmt(W[i, j], d)
            assert shown(t.transposed.get_entry(j, i)) == fmt(W[i, j], d)
        assert len(t.moves) == W.size  # small networks: every entry is shown in both
        assert t.animations() and t.into_place()


def test_builders_take_a_trace_too() -> None:
    numbers = registry(preset="delta-demo")
    p = row_times_column(numbers.trace, "W", 1, "a", 0, row=1, add=("b", 1), result=("z", 1))
    assert shown(p.result) == fmt(numbers.step.layers[0].z[1, 0], 3)


# -- the style ---------------------------------------------------------------------------

RED, GREEN, BLUE, GREY = (ManimColor(c) for c in ("#FF0000", "#00FF00", "#0000FF", "#777777"))
MINE = replace(DEFAULT_STYLE, weight=RED, text=GREEN, highlight=BLUE, negative=GREY, z=GREY)


def test_a_style_recolours_what_the_builders_return() -> None:
    numbers = registry(preset="delta-demo")
    W = TraceMatrix(numbers, "W1", style=MINE)
    assert all(e.get_color() == RED for e in W.get_number_entries())
    a = TraceMatrix(numbers, "a0", style=MINE)
    p = row_times_column(numbers, "W", 1, "a", 0, row=0, add=("b", 1), result=("z", 1), style=MINE)
    terms = p.product.get_terms_line()
    assert terms.get_number("left", 0).get_color() == RED
    assert p.result.get_color() == GREY
    assert all(op.get_color() == GREEN for op in terms.decor)
    assert p.product.get_values_line().get_number("term", 0).get_color() == GREEN
    frames = p.animations(W, a)[0].mobject
    assert all(r.get_color() == BLUE for r in frames)
    net = NetworkDiagram([2, 3, 2], weights=[x.W for x in numbers.step.layers], style=MINE)
    assert net.get_edge(2, 0, 1).get_color() == GREY  # W^(2)[0, 1] < 0
    assert net.get_neuron(0, 0).get_color() == GREEN
    t = transpose(numbers, "W", 2, style=MINE)
    assert t.transposed.get_entry(0, 0).get_color() == RED
    # The default is untouched (frozen), and a default build keeps the project's colours.
    with pytest.raises(AttributeError):
        DEFAULT_STYLE.weight = RED  # type: ignore[misc]
    q = row_times_column(numbers, "W", 1, "a", 0, row=0)
    assert q.product.get_terms_line().get_number("left", 0).get_color() == DEFAULT_STYLE.weight


def rgb(color: ManimColor) -> tuple[float, ...]:
    return tuple(255 * c for c in color.to_rgb())


def test_one_colour_per_meaning() -> None:
    """Quantities, signs, the highlight and text all differ; signs and the highlight are far
    from every quantity, so a negative edge never looks like a gradient and a highlight
    never looks like the cost."""
    colours = {f.name: getattr(DEFAULT_STYLE, f.name) for f in fields(Style)}
    marks = ("positive", "negative", "highlight")
    for (n1, c1), (n2, c2) in itertools.combinations(colours.items(), 2):
        distance = math.dist(rgb(c1), rgb(c2))
        floor = 80 if n1 in marks or n2 in marks else 40
        assert distance >= floor, f"{n1} and {n2} are {distance:.0f} apart in RGB"
    # Label 0 of the decision regions is far from every colour too (label 1 is the target).
    label0, label1 = style_module.CLASS_COLORS
    assert label1 == DEFAULT_STYLE.target
    for name, colour in colours.items():
        assert math.dist(rgb(label0), rgb(colour)) >= 80, f"label 0 and {name}"
    # The constants the scenes use are the default style, and so is the legend.
    assert style_module.NEGATIVE_COLOR == DEFAULT_STYLE.negative
    assert style_module.HIGHLIGHT_COLOR == DEFAULT_STYLE.highlight
    assert style_module.GRADIENT_COLOR == DEFAULT_STYLE.gradient
    assert [c for _, c in style_module.LEGEND] == [c for _, c in DEFAULT_STYLE.legend()]


# -- inputs from the class and the environment ------------------------------------------


class FromClass(TraceScene):
    config_file = "../examples/my_network.toml"  # relative to this file's folder
    iteration = 2
    decimals = 2


def test_class_attributes_name_the_inputs_relative_to_the_scene_file() -> None:
    settings = FromClass.input_settings()
    assert settings.base == Path(__file__).resolve().parent
    got = load_inputs("delta-demo", env={}, settings=settings)
    assert got.trace.config.sizes == (3, 4, 2)
    assert (got.step.iteration, got.decimals) == (2, 2)


def test_the_environment_wins_over_the_class_setting_by_setting() -> None:
    settings = FromClass.input_settings()
    env = {"BACKPROP_PRESET": "delta-demo", "BACKPROP_DECIMALS": "4"}
    got = load_inputs("xor", env=env, settings=settings)
    assert got.source == "preset delta-demo"
    assert (got.step.iteration, got.decimals) == (2, 4)  # the class's iteration, env's decimals
    got = load_inputs("delta-demo", env={"BACKPROP_ITERATION": "1"}, settings=settings)
    assert got.trace.config.sizes == (3, 4, 2) and got.step.iteration == 1
    assert load_inputs("xor", env={}).source == "preset xor"  # neither: the default preset


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (SceneSettings(preset="xor", config_file="c.toml", where="s.py: S"),
         "s.py: S: config_file and preset: set only one of them"),
        (SceneSettings(iteration=0, where="s.py: S"), "s.py: S: iteration: must be at least 1"),
        (SceneSettings(decimals=9, where="s.py: S"), "s.py: S: decimals: must be between 0 and 8"),
    ],
)  # fmt: skip
def test_bad_class_inputs_name_the_class_and_the_attribute(
    settings: SceneSettings, message: str
) -> None:
    with pytest.raises(BackpropError) as info:
        load_inputs("delta-demo", env={}, settings=settings)
    assert str(info.value).startswith(message)


# -- the examples render -----------------------------------------------------------------


def duration(video: Path) -> float:
    import av

    with av.open(str(video)) as container:
        return float(container.duration or 0) / 1e6


@pytest.mark.slow
@pytest.mark.parametrize(
    ("file", "scene", "low", "high"),
    [("bp2_my_colours.py", "BP2MyColours", 6, 60),
     ("forward_then_summary.py", "ForwardThenSummary", 12, 90)],
)  # fmt: skip
def test_each_example_renders_from_another_folder(
    tmp_path: Path, file: str, scene: str, low: float, high: float
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", str(EXAMPLES / file), scene],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    video = tmp_path / "media" / "videos" / Path(file).stem / "480p15" / f"{scene}.mp4"
    assert low <= duration(video) <= high
    assert video.with_suffix(".srt").read_text("utf-8").strip()


def test_the_command_and_the_lecture_read_the_class_inputs_from_the_scene_file() -> None:
    from backprop_cli.render import check_inputs
    from backprop_lecture.build import part_step, part_trace, scene_inputs
    from backprop_lecture.spec import Part

    scene = EXAMPLES / "bp2_my_colours.py"
    named = scene_inputs(scene)
    assert (named["config_file"], named["iteration"], named["decimals"]) == (
        "my_network.toml",
        1,
        2,
    )
    # `backprop render FILE --iteration K` checks K against the class's own config ...
    with pytest.raises(BackpropError, match=r"my_network\.toml: --iteration: iteration 9 "):
        check_inputs(scene, None, None, None, 9)
    # ... and an option replaces what the class says (the scene then reads it from the env).
    assert check_inputs(scene, "xor", None, None, 10) == (None, "xor", None)
    part = Part(1, scene, "bp2", None, None, None, None, None)
    assert part_trace(part).config.sizes == (3, 4, 2)
    assert part_step(part) == (1, 2)
