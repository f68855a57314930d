"""``scenes/chain.py``: construct smoke tests, golden frames and the -ql render."""

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

__module_test__ = "chain"

BEATS = ["graph", "chain rule", "training order", "bridge"]
TEX_CACHE = tempfile.mkdtemp(prefix="backprop-tex-")
"""One LaTeX cache for this module's runs, private to this test session."""
atexit.register(shutil.rmtree, TEX_CACHE, ignore_errors=True)
TEX_TEMPLATE = TexTemplate.from_file(ROOT / "backprop_anim" / "tex_template.tex")
ChainScene = scene_class(load_scene_module("chain"))


@pytest.fixture(scope="module")
def chain_scene(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The default render (``seed-chain``), constructed once for the smoke tests."""
    mp = pytest.MonkeyPatch()
    for name in ("TRACE", "PRESET", "CONFIG", "ITERATION", "DECIMALS"):
        mp.delenv(f"BACKPROP_{name}", raising=False)
    try:
        with tempconfig({"tex_dir": TEX_CACHE}):
            return run_scene("chain", tmp_path_factory.mktemp("chain"))
    finally:
        mp.undo()


def shown(scene: object) -> dict[str, str]:
    """``{expression: text on screen}`` of every registered number."""
    return {s.expression: displayed_text(s.mobject) for s in scene.numbers.shown}  # type: ignore[attr-defined]


def test_every_number_on_screen_is_the_trace(chain_scene: object) -> None:
    assert assert_numbers_match_trace(chain_scene) >= 20  # type: ignore[arg-type]


def test_what_the_viewer_sees(chain_scene: object) -> None:
    """Every text legible at 480p, no flight over a number, each beat's first number soon."""
    assert_viewable(chain_scene)  # type: ignore[arg-type]


def test_sections_are_the_beats(chain_scene: object) -> None:
    assert chain_scene.beats == BEATS  # type: ignore[attr-defined]


def test_graph_and_factors_show_the_seed_chain(chain_scene: object) -> None:
    texts = shown(chain_scene)
    # Graph: x = 5.7, w = (0.5, 0.8), z^(L-1) = a^(L-1) = 2.85, z^(L) = a^(L) = 2.28, y = 50.1.
    for expr, text in {
        "a0[0,0]": "5.7", "W1[0,0]": "0.5", "W2[0,0]": "0.8", "z1[0,0]": "2.85",
        "a2[0,0]": "2.28", "y[0,0]": "50.1", "loss": "2286.752",
        # Identity: σ' = 1; ∂C/∂a^(L) = 2(2.28 − 50.1) = −95.64; product = BP4's dW1.
        "sigma_prime1[0,0]": "1", "sigma_prime2[0,0]": "1", "grad_a[0,0]": "-95.64",
        "dW1[0,0]": "-436.118",
    }.items():  # fmt: skip
        assert texts[expr] == text, expr
    # The sigmoid chain's σ'(z) = σ(z)(1 − σ(z)) at z = 2.85, from the engine.
    assert texts["alt_sigma_prime1"] == "0.052"
    for name in ("alt_a0", "alt_sigma_prime2", "alt_grad_a", "alt_product", "seq_cost_end"):
        assert name in texts


def test_the_question_order_ends_worse(chain_scene: object) -> None:
    values = {s.expression: s.value for s in chain_scene.numbers.shown}  # type: ignore[attr-defined]
    assert values["seq_cost_end"] > 0.5 > 1e-9 > values["loss_after"]


def test_a_scalar_trace_stops_with_one_line(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("BACKPROP_PRESET", "seed-scalar")
    with pytest.raises(SystemExit) as exc:
        run_scene("chain", tmp_path)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "chain.py needs a 1-1-1 network" in err


def layout_issues(scene: object) -> list[str]:
    """Every recorded arrangement fits the frame without overlaps (bounding boxes)."""
    return [p for layout in scene.layouts for p in layout_problems(layout)]  # type: ignore[attr-defined]


def test_layout_is_clean(chain_scene: object) -> None:
    assert len(chain_scene.layouts) >= 5  # type: ignore[attr-defined]
    assert layout_issues(chain_scene) == []


OTHER_CONFIG = """
name = "chain-sigmoid"
[network]
sizes = [1, 1, 1]
activations = ["sigmoid", "sigmoid"]
loss = "sse"
bias = false
[init]
weights = [[[0.5]], [[-0.8]]]
[data]
x = [[1.5]]
y = [[0.9]]
[train]
learning_rate = 2.0
iterations = 25
"""


@pytest.mark.slow  # a second full construct, on another trace
def test_another_trace(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "other.toml"
    config.write_text(OTHER_CONFIG)
    clean_env.setenv("BACKPROP_CONFIG", str(config))
    with tempconfig({"tex_dir": TEX_CACHE}):
        scene = run_scene("chain", tmp_path)
    assert_numbers_match_trace(scene)
    assert_viewable(scene)
    assert layout_issues(scene) == []


# -- golden frames (regenerate with: pytest tests/test_chain.py --set_test) -------------


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=ChainScene, tex_template=TEX_TEMPLATE, tex_dir=TEX_CACHE)
def test_chain_rule(scene: object) -> None:
    scene.show_graph()  # type: ignore[attr-defined]
    scene.show_chain_rule()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=ChainScene, tex_template=TEX_TEMPLATE, tex_dir=TEX_CACHE)
def test_training_order(scene: object) -> None:
    scene.show_training_orders()  # type: ignore[attr-defined]


# -- the real render --------------------------------------------------------------------


@pytest.mark.slow
def test_render_ql(tmp_path: Path) -> None:
    # One subtitle per cue: the graph beat says two (chain/graph/graph, chain/graph/values).
    assert_reviewed(assert_renders_at_ql("chain", "ChainScene", tmp_path, len(BEATS) + 1))
