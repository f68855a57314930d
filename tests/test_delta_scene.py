"""``scenes/delta.py``: construct smoke tests on many traces, bad inputs, golden frames, render.

Every smoke test checks that the beats are the issue's eight, that every number on screen
is the trace's value at the shown precision, and that every recorded arrangement fits the
16:9 frame without overlaps.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

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
from viewer import assert_viewable

from backprop_anim.layout import layout_problems
from backprop_anim.scene import TraceScene
from backprop_core import load_preset, run
from backprop_core.io import save_trace
from backprop_explain.elide import visible_indices

__module_test__ = "delta"

module = load_scene_module("delta")
DeltaScene = scene_class(module)
BEATS = list(module.BEATS)
TEX_TEMPLATE = str(ROOT / "backprop_anim" / "tex_template.tex")
TEX_CACHE = tempfile.mkdtemp(prefix="backprop-tex-")
"""A TeX cache shared by this process's golden-frame tests (formulas compile once per
process). Manim's TeX cache is not safe for concurrent writers, so it belongs to one
process: a folder shared by the machine would be written by parallel test workers and
other test runs at once."""
atexit.register(shutil.rmtree, TEX_CACHE, ignore_errors=True)
GOLDEN = {"tex_template": TexTemplate.from_file(TEX_TEMPLATE), "tex_dir": TEX_CACHE}


def write_config(
    path: Path,
    sizes: list[int],
    activations: list[str],
    loss: str,
    samples: int = 1,
    one_hot: bool = False,
    seed: int = 0,
) -> Path:
    """A config with seeded random weights and data of the right widths, as TOML."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (samples, sizes[0])).round(3)
    if one_hot:
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], samples)]
    else:
        y = rng.uniform(0, 1, (samples, sizes[-1])).round(3)

    def rows(a: np.ndarray) -> str:
        return "[" + ", ".join("[" + ", ".join(repr(float(v)) for v in r) + "]" for r in a) + "]"

    acts = ", ".join(f'"{a}"' for a in activations)
    path.write_text(
        f'[network]\nsizes = {sizes}\nactivations = [{acts}]\nloss = "{loss}"\n'
        f"[init]\nseed = {seed}\n[data]\nx = {rows(x)}\ny = {rows(y)}\n"
        "[train]\nlearning_rate = 0.1\niterations = 2\n"
    )
    return path


CONFIGS = {
    "tanh-4-6-5-3": dict(sizes=[4, 6, 5, 3], activations=["tanh"] * 3, loss="sse"),
    "softmax-ce-3-4-3": dict(
        sizes=[3, 4, 3], activations=["sigmoid", "softmax"], loss="cross_entropy", one_hot=True
    ),
    "batch-6": dict(sizes=[3, 2, 1], activations=["tanh", "sigmoid"], loss="half_sse", samples=6),
    "mnist-784-128-10": dict(
        sizes=[784, 128, 10], activations=["relu", "softmax"], loss="cross_entropy", one_hot=True
    ),
    "tanh-softmax-4-6-5-3-batch": dict(
        sizes=[4, 6, 5, 3],
        activations=["tanh", "tanh", "softmax"],
        loss="cross_entropy",
        samples=4,
        one_hot=True,
    ),
}
PRESETS = ["delta-demo", "batch-demo", "xor", "seed-scalar", "seed-chain"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media folder for the module's smoke tests, so TeX compiles once per formula."""
    return tmp_path_factory.mktemp("delta-media")


def check_scene(scene: TraceScene) -> None:
    assert scene.beats == BEATS
    assert assert_numbers_match_trace(scene) > 0
    # Every text at least 10 px of digit at 480p, no copy in flight over another number,
    # each beat's first new number within 1.5 s of its start (see tests/viewer.py).
    assert_viewable(scene)
    layouts = scene.layouts  # type: ignore[attr-defined]
    assert {layout.beat for layout in layouts} == set(BEATS)
    problems = [p for layout in layouts for p in layout_problems(layout)]
    assert not problems, "\n".join(problems)


def shown_indices(scene: TraceScene, name: str) -> set[tuple[int, int]]:
    """Entries ``name[i,j]`` that appear in any registered expression."""
    pattern = re.compile(rf"\b{name}\[(\d+),(\d+)\]")
    return {(int(i), int(j)) for s in scene.numbers.shown for i, j in pattern.findall(s.expression)}


# -- construct smoke tests ----------------------------------------------------------------

_SCENES: dict[str, tuple[TraceScene, list[str]]] = {}
_NARRATION_LEFT: dict[str, list[float]] = {}
"""Per case, at each beat's start, how much of the previous beat's narration was left."""


def scene_for(case: str, media: Path) -> tuple[TraceScene, list[str]]:
    """The scene constructed on ``case`` (a preset or a name of :data:`CONFIGS`), with the
    sections it opened; each case is constructed once per test session."""
    if case not in _SCENES:
        with pytest.MonkeyPatch.context() as mp:
            for name in ("BACKPROP_TRACE", "BACKPROP_PRESET", "BACKPROP_CONFIG"):
                mp.delenv(name, raising=False)
            mp.delenv("BACKPROP_ITERATION", raising=False)
            mp.delenv("BACKPROP_DECIMALS", raising=False)
            if case in CONFIGS:
                path = write_config(media / f"{case}.toml", **CONFIGS[case])  # type: ignore[arg-type]
                mp.setenv("BACKPROP_CONFIG", str(path))
            else:
                mp.setenv("BACKPROP_PRESET", case)
            sections: list[str] = []
            original = TraceScene.next_section

            def record(self: object, name: str = "unnamed", *args: object, **kw: object) -> None:
                sections.append(name)
                original(self, name, *args, **kw)  # type: ignore[arg-type]

            mp.setattr(TraceScene, "next_section", record)
            left: list[float] = []
            original_beat = TraceScene.beat

            def beat(self: TraceScene, *args: Any, **kw: Any) -> None:
                end = getattr(self, "_narration_end", None)
                if end is not None:
                    left.append(end - self.time)
                original_beat(self, *args, **kw)

            mp.setattr(TraceScene, "beat", beat)
            _SCENES[case] = (run_scene("delta", media), sections)
            _NARRATION_LEFT[case] = left
    return _SCENES[case]


@pytest.mark.parametrize("case", PRESETS + list(CONFIGS))
def test_numbers_beats_and_layouts(case: str, media: Path) -> None:
    scene, sections = scene_for(case, media)
    check_scene(scene)
    assert sections == BEATS
    assert len(scene.renderer.file_writer.subcaptions) == len(BEATS)
    # Each beat's picture stays up while its narration runs: the next beat never starts
    # by waiting for it over an empty screen (see BackpropInMatrixForm.clear).
    left = _NARRATION_LEFT[case]
    assert len(left) == len(BEATS) - 1
    assert max(left) <= 0.05, left


WAITING = ("delta-demo", "tanh-4-6-5-3", "softmax-ce-3-4-3")
"""Traces whose W^(l+1) is wider than its transpose and stands in δ^(l+1)'s place: δ^(l+1)
waits on the board before's spot, and what it stands over comes in after the transpose."""


@pytest.mark.parametrize("case", [c for c in PRESETS + list(CONFIGS) if c not in WAITING])
def test_a_bp2_board_comes_in_whole_before_the_transpose(case: str, media: Path) -> None:
    """While W^(l+1) turns into its transpose the rest of BP2 is already on screen
    (heading, formula, W, δ^(l+1), ⊙, σ'(z^(l)), = and the frame of δ^(l)), none of it
    overlapping (the layout check of :func:`check_scene`)."""
    scene, _ = scene_for(case, media)
    boards = [b for b in scene.layouts if b.name.endswith("_before_transpose")]
    assert len(boards) == scene.L - 1  # type: ignore[attr-defined]
    for board in boards:
        assert len(board.boxes) == 8, (board.name, board.kinds)


@pytest.mark.parametrize("case", list(CONFIGS))
def test_only_shown_entries_are_typeset(case: str, media: Path) -> None:
    scene, _ = scene_for(case, media)
    sizes = CONFIGS[case]["sizes"]
    rows = {i for i in visible_indices(sizes[1], 6) if i is not None}  # type: ignore[index]
    cols = {j for j in visible_indices(sizes[0], 6) if j is not None}  # type: ignore[index]
    assert shown_indices(scene, "W1") <= {(i, j) for i in rows for j in cols}


def test_wide_network_typesets_about_as_much_as_a_small_one(media: Path) -> None:
    wide, _ = scene_for("mnist-784-128-10", media)
    small, _ = scene_for("delta-demo", media)
    # The true last entries are shown after the ellipses.
    assert (127, 783) in shown_indices(wide, "W1")
    assert (9, 127) in shown_indices(wide, "W2")
    assert len(wide.numbers.shown) < 4 * len(small.numbers.shown)


def test_batch_computes_sample_zero_and_elides_samples(media: Path) -> None:
    scene, _ = scene_for("batch-6", media)
    # Products computed in front of the viewer use column 0 only.
    products = [s.expression for s in scene.numbers.shown if "*a0[" in s.expression]
    assert products and all(e.endswith(",0]") for e in products)
    # Six samples are elided to 0, 1, ⋯, 5 in batch matrices.
    assert {j for _, j in shown_indices(scene, "delta1")} == {0, 1, 5}


def test_softmax_cross_entropy_shows_a_minus_y(media: Path) -> None:
    scene, _ = scene_for("softmax-ce-3-4-3", media)
    # BP1 is done as a^(L) - y entry by entry: a, y and δ of the same entry are shown.
    assert {(0, 0), (1, 0), (2, 0)} <= shown_indices(scene, "y")
    assert not shown_indices(scene, "grad_a")  # no Hadamard with ∇_a C


def test_one_layer_network_says_there_is_nothing_to_propagate(media: Path) -> None:
    scene, _ = scene_for("seed-scalar", media)
    assert any(layout.name == "bp2_none" for layout in scene.layouts)  # type: ignore[attr-defined]


# -- bad inputs: one line naming the file, exit 2, before any frame ------------------------


def bad_traces(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.json"
    save_trace(run(load_preset("delta-demo")), good)
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(good.read_text()[:200])
    nan = tmp_path / "nan.json"
    nan.write_text(re.sub(r'"W":\s*\[\[[-0-9.e]+', '"W":[[NaN', good.read_text(), count=1))
    return {"missing": tmp_path / "missing.json", "corrupt": corrupt, "nan": nan}


@pytest.mark.parametrize("kind", ["missing", "corrupt", "nan"])
def test_bad_trace_stops_the_render_with_one_line(kind: str, tmp_path: Path) -> None:
    path = bad_traces(tmp_path)[kind]
    if kind == "nan":
        assert "NaN" in path.read_text()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env["BACKPROP_TRACE"] = str(path)
    media = tmp_path / "media"
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "--media_dir", str(media),
         "scenes/delta.py"],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    assert "Traceback" not in result.stderr
    assert not list(media.rglob("*.mp4")) and not list(media.rglob("*.png"))


# -- golden frames (regenerate with: pytest tests/test_delta_scene.py --set_test) ----------


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=DeltaScene, **GOLDEN)
def test_forward_layer(scene: object) -> None:
    scene.beat("forward_pass", "Forward pass.")  # type: ignore[attr-defined]
    scene.forward_layer(1)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=DeltaScene, **GOLDEN)
def test_backpropagate_layer(scene: object) -> None:
    scene.beat("backpropagate", "BP2.")  # type: ignore[attr-defined]
    scene.backpropagate_layer(1)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("clean_env", "golden_cairo")
@frames_comparison(base_scene=DeltaScene, **GOLDEN)
def test_summary(scene: object) -> None:
    scene.show_summary()  # type: ignore[attr-defined]


# -- the real render ------------------------------------------------------------------------


@pytest.mark.slow
def test_render_ql(tmp_path: Path) -> None:
    video = assert_renders_at_ql("delta", "BackpropInMatrixForm", tmp_path, len(BEATS))
    assert_reviewed(video)


def test_digits_input_image_and_output_probabilities(media: Path) -> None:
    """On a digits trace, sample 0's input is drawn as its 8 × 8 image (row-major, grey
    by intensity) and its ten outputs as bars, recomputed here with a plain forward pass."""
    scene, _ = scene_for("digits", media)
    check_scene(scene)
    step = scene.step
    x = np.asarray(step.input[:, 0]).reshape(8, 8)
    image = scene.input_image  # type: ignore[attr-defined]
    greys = {(r, c): image.color_at(r, c).to_rgb()[0] for r in range(8) for c in range(8)}
    for (r, c), grey in greys.items():
        # Black for 0, white for 1, brighter for larger, in 6 steps: row r, column c.
        assert abs(grey - (0x1C / 255 + (1 - 0x1C / 255) * round(6 * x[r, c]) / 6)) < 0.01, (r, c)
    (W1, b1), (W2, b2) = ((r.W, r.b) for r in step.layers)
    hidden = 1.0 / (1.0 + np.exp(-(W1 @ step.input[:, :1] + b1)))
    z = W2 @ hidden + b2
    p = (np.exp(z - z.max()) / np.exp(z - z.max()).sum())[:, 0]
    bars = scene.output_bars  # type: ignore[attr-defined]
    assert bars.probabilities() == pytest.approx(list(p), abs=2e-3)
    best = int(np.argmax(p))
    assert (best, 0) in shown_indices(scene, "a2")


def test_a_flight_dims_the_numbers_it_passes_over() -> None:
    """A copy flying from the left number to the right one passes over the middle one,
    which is dimmed below the viewer check's 0.4 for the middle of the flight (the watch
    cannot tell: it exempts every text a play animates); the two ends stay lit."""
    from types import SimpleNamespace

    from manim import LEFT, RIGHT, MathTex, TransformFromCopy

    from backprop_anim.board import BoardScene

    left, middle, right = (MathTex(t).shift(x) for t, x in (("0.25", 3 * LEFT),
                                                             ("0.75", 0 * LEFT),
                                                             ("0.50", 3 * RIGHT)))  # fmt: skip
    target = MathTex("0.25").move_to(right)
    board = SimpleNamespace(mobjects=[left, middle, right], covers={}, heading=None)
    dims = BoardScene.flight_dimming(board, [TransformFromCopy(left, target)])  # type: ignore[arg-type]
    built = [d.build() for d in dims]
    assert [a.mobject for a in built] == [middle]
    built[0].begin()
    built[0].interpolate(0.5)
    assert max(float(m.get_fill_opacity()) for m in middle.get_family()[1:]) <= 0.4
    built[0].interpolate(1.0)
    assert max(float(m.get_fill_opacity()) for m in middle.get_family()[1:]) == 1.0
