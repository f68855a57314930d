"""``scenes/scalar.py``: construct smoke tests, golden frames and the -ql render.

The table of the 20 iterations must read exactly as the question's MATLAB output.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
from manim import TexTemplate, tempconfig
from manim.utils.testing.frames_comparison import frames_comparison
from scene_harness import (
    ROOT,
    assert_numbers_match_trace,
    assert_renders_at_ql,
    assert_reviewed,
    displayed_text,
    load_scene_module,
    run_scene,
    scene_class,
)
from viewer import assert_viewable

from backprop_anim.layout import layout_problems

__module_test__ = "scalar"

QUESTION_OUTPUT = [
    "-8.5948", "-0.68736", "3.6233", "5.9732", "7.2542", "7.9525", "8.3332", "8.5408",
    "8.6539", "8.7156", "8.7492", "8.7675", "8.7775", "8.7829", "8.7859", "8.7875",
    "8.7884", "8.7889", "8.7892", "8.7893",
]  # fmt: skip
"""``w = ...`` as the question's MATLAB loop printed it (``format short``)."""

BEATS = ["network", "cost", "sensitivity", "chain rule", "gradient descent", "result"]
TEX_CACHE = tempfile.mkdtemp(prefix="backprop-tex-")
"""One LaTeX cache (by content hash) for this module's runs, so each formula compiles once;
private to this test session, so a concurrent render cannot hand it a half-written file."""
atexit.register(shutil.rmtree, TEX_CACHE, ignore_errors=True)
TEX_TEMPLATE = TexTemplate.from_file(ROOT / "backprop_anim" / "tex_template.tex")
ScalarScene = scene_class(load_scene_module("scalar"))


@pytest.fixture(scope="module")
def scalar_scene(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The default render (``seed-scalar``), constructed once for the smoke tests."""
    mp = pytest.MonkeyPatch()
    for name in ("TRACE", "PRESET", "CONFIG", "ITERATION", "DECIMALS"):
        mp.delenv(f"BACKPROP_{name}", raising=False)
    try:
        with tempconfig({"tex_dir": TEX_CACHE}):
            return run_scene("scalar", tmp_path_factory.mktemp("scalar"))
    finally:
        mp.undo()


def test_every_number_on_screen_is_the_trace(scalar_scene: object) -> None:
    count = assert_numbers_match_trace(scalar_scene)  # type: ignore[arg-type]
    assert count >= 50


def test_what_the_viewer_sees(scalar_scene: object) -> None:
    """Every text legible at 480p, no flight over a number, each beat's first number soon."""
    assert_viewable(scalar_scene)  # type: ignore[arg-type]


def test_sections_are_the_beats(scalar_scene: object) -> None:
    assert scalar_scene.beats == BEATS  # type: ignore[attr-defined]


def test_table_is_the_question_output(scalar_scene: object) -> None:
    rows = scalar_scene.table_numbers  # type: ignore[attr-defined]
    assert [displayed_text(m) for m in rows] == QUESTION_OUTPUT


def test_question_numbers_are_shown_as_written(scalar_scene: object) -> None:
    texts = {displayed_text(s.mobject) for s in scalar_scene.numbers.shown}  # type: ignore[attr-defined]
    # The question's own numbers, its result line, and the first step.
    for text in ("5.7", "-23.1", "-131.67", "50.1", "0.007", "8.7893", "50.099", "-2072.178"):
        assert text in texts, text


def test_sensitivity_ratios_are_registered_and_converge(scalar_scene: object) -> None:
    shown = scalar_scene.numbers.shown  # type: ignore[attr-defined]
    ratios = [s.value for s in shown if s.expression.startswith("ratio")]
    exact = next(s.value for s in shown if s.expression == "dW1[0,0]")
    errors = [abs(r - exact) for r in ratios]
    assert len(ratios) == 4 and errors == sorted(errors, reverse=True) and errors[-1] < 0.05


@pytest.mark.slow  # a second full construct (about 40 s of LaTeX on a busy machine)
def test_other_decimals_and_iteration(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("BACKPROP_DECIMALS", "1")
    clean_env.setenv("BACKPROP_ITERATION", "3")
    with tempconfig({"tex_dir": TEX_CACHE}):
        scene = run_scene("scalar", tmp_path)
    assert_numbers_match_trace(scene)
    assert_viewable(scene)
    assert [displayed_text(m) for m in scene.table_numbers] == QUESTION_OUTPUT


def test_a_non_scalar_trace_stops_with_one_line(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("BACKPROP_PRESET", "seed-chain")
    with pytest.raises(SystemExit) as exc:
        run_scene("scalar", tmp_path)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "preset seed-chain" in err and "scalar.py needs a 1-1 network" in err


def layout_issues(scene: object) -> list[str]:
    """Every recorded arrangement fits the frame without overlaps (bounding boxes)."""
    return [p for layout in scene.layouts for p in layout_problems(layout)]  # type: ignore[attr-defined]


def test_layout_is_clean(scalar_scene: object) -> None:
    assert len(scalar_scene.layouts) >= 5  # type: ignore[attr-defined]
    assert layout_issues(scalar_scene) == []


OTHER_CONFIG = """
name = "scalar-other"
[network]
sizes = [1, 1]
activations = ["identity"]
loss = "half_sse"
bias = false
[init]
weights = [[[2.0]]]
[data]
x = [[0.3]]
y = [[-1.0]]
[train]
learning_rate = 2.0
iterations = 30
"""


@pytest.mark.slow  # a second full construct, on another trace
def test_another_trace(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "other.toml"
    config.write_text(OTHER_CONFIG)
    clean_env.setenv("BACKPROP_CONFIG", str(config))
    with tempconfig({"tex_dir": TEX_CACHE}):
        scene = run_scene("scalar", tmp_path)
    assert_numbers_match_trace(scene)
    assert_viewable(scene)
    assert layout_issues(scene) == []


# -- golden frames (regenerate with: pytest tests/test_scalar.py --set_test) ------------


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=ScalarScene, tex_template=TEX_TEMPLATE, tex_dir=TEX_CACHE)
def test_network(scene: object) -> None:
    scene.show_network()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=ScalarScene, tex_template=TEX_TEMPLATE, tex_dir=TEX_CACHE)
def test_gradient_descent(scene: object) -> None:
    scene.show_gradient_descent()  # type: ignore[attr-defined]


# -- the real render --------------------------------------------------------------------


@pytest.mark.slow
def test_render_ql(tmp_path: Path) -> None:
    assert_reviewed(assert_renders_at_ql("scalar", "ScalarScene", tmp_path, len(BEATS)))
