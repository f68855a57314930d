"""Pure logic of the kit's products and layout checks (no rendering)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from manim import DOWN, RIGHT, Square, VGroup, tempconfig

from backprop_anim import TraceMatrix, registry, tuning
from backprop_anim.layout import (
    Layout,
    boxes_overlap,
    fit_to_frame,
    fits_in_frame,
    keep_in_frame,
    layout_problems,
    overlapping_pairs,
)
from backprop_anim.mobjects import COLUMN_GAP
from backprop_anim.products import (
    dot_expression,
    hadamard_order,
    outer_product_cells,
    round_trip_decimals,
    row_column_pairs,
    sum_terms,
    transpose_moves,
)
from backprop_anim.tuning.texbatch import manim_expression, prewarm_tex
from backprop_core import load_preset, run
from backprop_explain.elide import largest_entry
from backprop_explain.explain import evaluate

# -- which terms are written, in which order -------------------------------------------


def test_sum_terms_show_all_or_first_ellipsis_last() -> None:
    assert sum_terms(3) == [0, 1, 2]
    assert sum_terms(6) == [0, 1, 2, 3, 4, 5]
    assert sum_terms(784) == [0, 1, 2, None, 783]
    assert sum_terms(6, limit=4) == [0, 1, None, 5]


def test_row_column_pairs_light_up_row_j_against_column_s_in_order() -> None:
    assert row_column_pairs(2, 1, 3) == [((2, 0), (0, 1)), ((2, 1), (1, 1)), ((2, 2), (2, 1))]
    elided = row_column_pairs(0, 0, 128)
    assert elided[3] is None
    assert elided[-1] == ((0, 127), (127, 0))
    assert [p[0][1] for p in elided if p is not None] == [0, 1, 2, 127]


def test_dot_expression_is_the_full_sum_and_equals_the_trace() -> None:
    trace = run(load_preset("delta-demo"))
    step = trace.steps[0]
    # Forward: z^(1)[0,0] - b^(1)[0] is row 0 of W^(1) times a^(0).
    expr = dot_expression("W1", "a0", 0, 0, 2)
    assert expr == "W1[0,0]*a0[0,0]+W1[0,1]*a0[1,0]"
    assert evaluate(trace, step, expr) == pytest.approx(
        float(step.layers[0].z[0, 0] - step.layers[0].b[0, 0])
    )
    # BP2: ((W^(2))^T δ^(2))_k ⊙ σ'_k = δ^(1)_k, for every k.
    for k in range(3):
        wtd = evaluate(trace, step, dot_expression("W2", "delta2", k, 0, 2, left_t=True))
        assert wtd * float(step.layers[0].sigma_prime[k, 0]) == pytest.approx(
            float(step.layers[0].delta[k, 0])
        )


def test_transpose_moves_send_row_i_to_column_i() -> None:
    rows, cols = [0, 1], [0, 1, 2]
    moves = transpose_moves(rows, cols, cols, rows)
    assert len(moves) == 6
    assert all(dst == (src[1], src[0]) for src, dst in moves)
    # Elided: only entries shown on both sides move; the ellipses fade.
    big = transpose_moves(
        [0, 1, None, 9], [0, 1, 2, 3, None, 127], [0, 1, 2, 3, None, 127], [0, 1, None, 9]
    )
    assert ((9, 127), (127, 9)) in big
    assert all(None not in src for src, _ in big)


def test_outer_product_grid_cells_sit_level_with_delta_and_under_a() -> None:
    cells = outer_product_cells([0, 1, None, 9], [0, None, 783])
    assert cells[0] == ((0, 0), (0, 0))
    assert ((3, 2), (9, 783)) in cells
    assert len(cells) == 3 * 2
    # Row r of the grid is δ's entry j; column c is aᵀ's entry k.
    for (r, c), (j, k) in cells:
        assert [0, 1, None, 9][r] == j and [0, None, 783][c] == k


def test_hadamard_is_done_top_to_bottom_in_one_column() -> None:
    assert hadamard_order([0, 1, 2]) == [(0, 0), (1, 0), (2, 0)]
    assert hadamard_order([0, 1, None, 9], s=0) == [(0, 0), (1, 0), (9, 0)]


def test_learning_rate_is_written_exactly() -> None:
    assert round_trip_decimals(0.5, 1) == 1
    assert round_trip_decimals(0.0007, 1) == 4
    assert round_trip_decimals(0.007, 3) == 3
    assert round_trip_decimals(2.0, 1) == 1


# -- layout checks ------------------------------------------------------------------------


def test_fits_and_overlaps_on_bounding_boxes() -> None:
    a, b = Square(1), Square(1).shift(RIGHT * 0.5)
    assert overlapping_pairs([a, b]) == [(0, 1)]
    b.shift(RIGHT * 0.6)
    assert overlapping_pairs([a, b]) == []
    assert boxes_overlap((0, 0, 1, 1), (0.5, 0.5, 2, 2))
    assert not boxes_overlap((0, 0, 1, 1), (1, 0, 2, 1))  # touching is fine
    assert fits_in_frame(a)
    assert not fits_in_frame(Square(9))


def test_fit_to_frame_only_shrinks_and_keep_in_frame_only_shifts() -> None:
    big = VGroup(*(Square(2) for _ in range(10))).arrange(RIGHT)
    fit_to_frame(big, margin=0.3)
    assert fits_in_frame(big, margin=0.29)
    small = Square(1)
    fit_to_frame(small)
    assert small.width == pytest.approx(1.0)
    off = Square(2).shift(RIGHT * 7 + DOWN * 4)
    keep_in_frame(off, margin=0.1)
    assert fits_in_frame(off, margin=0.09)
    assert off.width == pytest.approx(2.0)


def test_layout_snapshot_reports_problems_as_recorded() -> None:
    a, b = Square(1), Square(1).shift(RIGHT * 0.5)
    layout = Layout.of("beat", "pair", [a, b])
    a.shift(RIGHT * 20)  # later moves do not change the recorded arrangement
    problems = layout_problems(layout)
    assert len(problems) == 1 and "overlap" in problems[0]
    assert layout_problems(Layout.of("beat", "off", [Square(1).shift(RIGHT * 8)]))[0].endswith(
        "box (7.5, -0.5, 8.5, 0.5)"
    )


# -- one LaTeX run for many numbers --------------------------------------------------------


def test_manim_is_asked_even_for_a_mathtex_built_before() -> None:
    """With the tuning on, a second ``MathTex`` of one string is a copy of the first:
    what manim would typeset is still asked of manim itself."""
    from manim import MathTex

    assert tuning.enable()
    MathTex("0.5")
    assert manim_expression("0.5")[1] == "align*"


def test_prewarm_gives_the_same_glyphs_as_manim_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from manim import MathTex

    texts = ["-0.125", "3.500", r"\frac{\partial C}{\partial W^{(2)}}"]
    assert tuning.enable()  # prewarm_tex is part of the tuning
    with tempconfig({"media_dir": str(tmp_path / "batch"), "verbosity": "WARNING"}):
        assert manim_expression("0.5")[1] == "align*"
        assert prewarm_tex(texts) == 3
        assert prewarm_tex(texts) == 0  # all cached now
        batch = [MathTex(t) for t in texts]
    with tempconfig({"media_dir": str(tmp_path / "alone"), "verbosity": "WARNING"}):
        alone = [MathTex(t) for t in texts]
    for a, b in zip(batch, alone, strict=True):
        pa = np.concatenate([m.points for m in a.family_members_with_points()])
        pb = np.concatenate([m.points for m in b.family_members_with_points()])
        assert pa.shape == pb.shape and np.allclose(pa, pb)


def test_entry_computed_on_screen_is_the_largest_entry() -> None:
    values = np.array([[0.0, 0.1, 0.0], [0.0, -0.5, 0.2], [9.0, 9.0, 9.0]])
    assert largest_entry(values, [0, 1, None], [0, 1, 2]) == (1, 1)
    assert largest_entry(np.zeros((2, 2)), [0, 1], [0, 1]) == (0, 0)


# -- golden frames: compared on the cairo that drew them, required on CI -----------------


def test_golden_frames_run_on_their_cairo_and_fail_on_ci_elsewhere() -> None:
    from conftest import CONTROL_CAIRO, golden_frames_verdict

    assert golden_frames_verdict(CONTROL_CAIRO, ci=True) is None
    assert golden_frames_verdict(CONTROL_CAIRO, ci=False) is None
    skip = golden_frames_verdict(11802, ci=False)
    fail = golden_frames_verdict(11802, ci=True)
    assert skip is not None and "1.18.2" in skip and "1.16.0" in skip
    assert fail is not None and "CI must run them" in fail


@pytest.mark.parametrize("h_buff", [0.8, 1.0, 1.3])
def test_matrix_columns_keep_a_gap_beside_their_widest_entry(h_buff: float) -> None:
    """However closely a board sets its columns, neighbouring entries of a row stay
    :data:`COLUMN_GAP` apart (measured on the glyphs), so "0.063 -0.066" never closes up
    into what reads as a subtraction."""
    numbers = registry(preset="batch-demo")
    for name in ("W1", "a1", "delta2"):
        mat = TraceMatrix(numbers, name, h_buff=h_buff)
        negative = [e for e in mat.get_number_entries() if e.get_tex_string().startswith("-")]
        assert negative, f"{name}: no negative entry to close up against"
        for row in mat.get_rows():
            for left, right in itertools.pairwise(row):
                gap = right.get_left()[0] - left.get_right()[0]
                assert gap >= COLUMN_GAP - 1e-6, (name, left.get_tex_string(), gap)
