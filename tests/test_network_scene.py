"""``scenes/network.py``: construct smoke tests, golden frames and the -ql render.

What is shown must follow the trace: every number (registry), the edge colours and
widths (sign and size of the weights after the update), and the linked weight (the drawn
edge with the largest |∂C/∂W|).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from manim import TexTemplate
from manim.utils.testing.frames_comparison import frames_comparison
from scene_harness import (
    ROOT,
    assert_numbers_match_trace,
    assert_renders_at_ql,
    assert_reviewed,
    load_scene_module,
    run_scene,
    scene_class,
)

from backprop_anim.diagram import edge_style
from backprop_anim.layout import layout_problems

__module_test__ = "network"

BEATS = ["network", "forward", "cost", "backward", "gradients", "one-weight", "update"]
TEX_TEMPLATE = str(ROOT / "backprop_anim" / "tex_template.tex")
NetworkScene = scene_class(load_scene_module("network"))


def wide_config(path: Path, sizes: tuple[int, ...] = (64, 32, 10), samples: int = 3) -> Path:
    """A softmax network with wide layers and a small batch, written as TOML."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (samples, sizes[0])).round(3)
    y = np.eye(sizes[-1])[np.arange(samples) % sizes[-1]]
    rows = lambda a: "[" + ", ".join("[" + ", ".join(map(str, r)) + "]" for r in a) + "]"  # noqa: E731
    path.write_text(
        f'name = "wide"\n[network]\nsizes = {list(sizes)}\n'
        f'activations = ["tanh", "softmax"]\nloss = "cross_entropy"\n[init]\nseed = 1\n'
        f"[data]\nx = {rows(x)}\ny = {rows(y)}\n"
        "[train]\nlearning_rate = 0.5\niterations = 200\nevery = 10\n"
    )
    return path


GOLDEN = {"tex_template": TexTemplate.from_file(TEX_TEMPLATE)}
"""Config of the golden-frame tests: our TeX template (``tex_template_file`` alone does not
replace the template manim's test config already loaded)."""


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media folder for the module's smoke tests, so TeX compiles once per formula."""
    return tmp_path_factory.mktemp("network-media")


@pytest.fixture(scope="module")
def demo_scene(media: Path) -> object:
    mp = pytest.MonkeyPatch()
    for name in ("TRACE", "PRESET", "CONFIG", "ITERATION", "DECIMALS"):
        mp.delenv(f"BACKPROP_{name}", raising=False)
    try:
        return run_scene("network", media)
    finally:
        mp.undo()


def check_edges_show_new_weights(scene: object) -> None:
    """At the end, every drawn edge has the colour and width of its updated weight."""
    diagram = scene.diagram  # type: ignore[attr-defined]
    layers = scene.step.layers  # type: ignore[attr-defined]
    arrays = [r.W for r in layers] + [r.W_next for r in layers]
    scale = max(float(np.abs(a).max()) for a in arrays)
    for (l, j, k), edge in diagram._edges.items():
        color, width = edge_style(float(layers[l - 1].W_next[j, k]), scale)
        assert edge.get_stroke_color().to_hex() == color.to_hex(), (l, j, k)
        assert edge.get_stroke_width() == pytest.approx(width), (l, j, k)


def check_linked_weight(scene: object) -> None:
    l, j, k = scene.picked  # type: ignore[attr-defined]
    diagram = scene.diagram  # type: ignore[attr-defined]
    best = max(
        abs(float(r.dW[jj, kk]))
        for ll, r in enumerate(scene.step.layers, start=1)  # type: ignore[attr-defined]
        for jj in diagram.shown_neurons(ll)
        for kk in diagram.shown_neurons(ll - 1)
    )
    assert abs(float(scene.step.layers[l - 1].dW[j, k])) == best  # type: ignore[attr-defined]
    assert diagram.has_edge(l, j, k)
    expressions = {s.expression for s in scene.numbers.shown}  # type: ignore[attr-defined]
    # The same weight in the matrix, the z term, the gradient and the update.
    for expr in (
        f"W{l}[{j},{k}]",
        f"W{l}[{j},{k}]*a{l - 1}[{k},0]",
        f"dW{l}[{j},{k}]",
        f"W_next{l}[{j},{k}]",
        f"delta{l}[{j},0]",
        f"a{l - 1}[{k},0]",
    ):
        assert expr in expressions, expr


def test_every_number_on_screen_is_the_trace(demo_scene: object) -> None:
    assert assert_numbers_match_trace(demo_scene) >= 30  # type: ignore[arg-type]


def test_sections_are_the_beats(demo_scene: object) -> None:
    assert demo_scene.beats == BEATS  # type: ignore[attr-defined]


def test_neurons_show_activations_and_deltas(demo_scene: object) -> None:
    values, deltas = demo_scene.values, demo_scene.deltas  # type: ignore[attr-defined]
    assert set(values) == {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1)}
    assert set(deltas) == {(1, 0), (1, 1), (1, 2), (2, 0), (2, 1)}


def test_edges_end_on_the_updated_weights(demo_scene: object) -> None:
    check_edges_show_new_weights(demo_scene)


def test_linked_weight_is_the_largest_gradient(demo_scene: object) -> None:
    check_linked_weight(demo_scene)
    # delta-demo: the largest |∂C/∂W| is W^(2)[1, 1] (0.177).
    assert demo_scene.picked == (2, 1, 1)  # type: ignore[attr-defined]


@pytest.mark.parametrize("which", ["xor", "wide"])
def test_other_traces(
    which: str, clean_env: pytest.MonkeyPatch, media: Path, tmp_path: Path
) -> None:
    if which == "wide":
        clean_env.setenv("BACKPROP_CONFIG", str(wide_config(tmp_path / "wide.toml")))
        clean_env.setenv("BACKPROP_ITERATION", "10")
    else:
        clean_env.setenv("BACKPROP_PRESET", which)
    scene = run_scene("network", media)
    assert_numbers_match_trace(scene)
    check_edges_show_new_weights(scene)
    check_linked_weight(scene)
    check_layout(scene)
    if which == "wide":
        # Elided layers: 4 drawn neurons each, the last one among them.
        assert scene.diagram.shown_neurons(0) == [0, 1, 2, 63]  # type: ignore[attr-defined]
        assert len(scene.values) == 4 + 4 + 4  # type: ignore[attr-defined]


def test_bad_iteration_stops_with_one_line(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("BACKPROP_ITERATION", "999")
    with pytest.raises(SystemExit) as exc:
        run_scene("network", tmp_path)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "BACKPROP_ITERATION" in err


# -- golden frames (regenerate with: pytest tests/test_network_scene.py --set_test) ------


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=NetworkScene, **GOLDEN)
def test_forward(scene: object) -> None:
    scene.introduce_network()  # type: ignore[attr-defined]
    scene.forward_pass()  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=NetworkScene, **GOLDEN)
def test_whole_iteration(scene: object) -> None:
    NetworkScene.construct(scene)  # type: ignore[arg-type]


# -- the real render --------------------------------------------------------------------


@pytest.mark.slow
def test_render_ql(tmp_path: Path) -> None:
    video = assert_renders_at_ql("network", "NetworkScene", tmp_path, len(BEATS))
    assert_reviewed(video)


def check_layout(scene: object) -> None:
    """Nothing leaves the 16:9 frame and the recorded parts do not overlap."""
    problems = [p for layout in scene.layouts for p in layout_problems(layout)]  # type: ignore[attr-defined]
    assert not problems, problems


def test_layout_is_clean(demo_scene: object) -> None:
    check_layout(demo_scene)
