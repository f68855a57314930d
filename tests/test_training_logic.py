"""Pure logic of the training video (backprop_explain.regions): no manim, no rendering."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop_core import load_preset, run
from backprop_core.network import feedforward
from backprop_explain.regions import (
    decision_grid,
    field_scale,
    grid_points,
    has_regions,
    input_bounds,
    largest_entry,
    loss_curve,
    shown_iterations,
    symmetric_scale,
)


@given(
    st.lists(st.integers(1, 10_000), min_size=1, max_size=400, unique=True),
    st.integers(2, 30),
)
def test_shown_iterations_are_recorded_sorted_and_bounded(recorded: list[int], n: int) -> None:
    shown = shown_iterations(recorded, n)
    assert shown == sorted(set(shown))
    assert set(shown) <= set(recorded)
    assert shown[0] == min(recorded) and shown[-1] == max(recorded)
    assert len(shown) <= n


def test_shown_iterations_count_does_not_grow_with_the_trace() -> None:
    assert len(shown_iterations(list(range(1, 100_001)), 12)) == 12
    assert shown_iterations([1, 2, 3], 12) == [1, 2, 3]


def test_shown_iterations_needs_two() -> None:
    with pytest.raises(ValueError, match="first and the last"):
        shown_iterations([1, 2], 1)


def test_symmetric_scale() -> None:
    assert symmetric_scale([np.array([[1.0, -3.0]]), np.array([[2.0]])]) == 3.0
    assert symmetric_scale([np.zeros((2, 2))]) == 1.0


def test_field_scale_covers_all_layers_and_iterations() -> None:
    trace = run(load_preset("xor"))
    its = [1, 1000, 3000]
    expected = max(float(np.abs(r.dW).max()) for k in its for r in trace.step(k).layers)
    assert field_scale(trace, its, "dW") == expected


def test_loss_curve_is_thinned_but_exact() -> None:
    losses = np.linspace(1.0, 0.0, 3000)
    its, values = loss_curve(losses, max_points=400)
    assert len(its) <= 401
    assert its[0] == 1 and its[-1] == 3000
    assert np.array_equal(values, losses[its.astype(int) - 1])


def test_input_bounds_square_around_data() -> None:
    x = np.array([[0.0, 2.0, 1.0], [0.0, 1.0, 0.5]])
    x0, x1, y0, y1 = input_bounds(x, margin=0.0)
    assert (x0, x1) == (0.0, 2.0)
    assert y1 - y0 == pytest.approx(2.0) and (y0 + y1) / 2 == pytest.approx(0.5)


def test_grid_points_in_image_order() -> None:
    pts = grid_points((0.0, 2.0, 0.0, 2.0), 2)
    # Row 0 is the top (largest x_2), column 0 the left.
    assert pts[:, 0].tolist() == [0.5, 1.5]
    assert pts[:, 1].tolist() == [1.5, 1.5]
    assert pts[:, 2].tolist() == [0.5, 0.5]


def test_decision_grid_is_the_network_output() -> None:
    trace = run(load_preset("xor"))
    step = trace.step(3000)
    bounds = input_bounds(trace.config.x)
    grid = decision_grid(trace, step, bounds, 8)
    assert grid.shape == (8, 8)
    pts = grid_points(bounds, 8)
    ws, bs = [r.W for r in step.layers], [r.b for r in step.layers]
    expected = feedforward(trace.config, ws, bs, pts)[0].reshape(8, 8)
    assert np.array_equal(grid, expected)
    # A trained XOR network: the corners (0,1) and (1,0) are class 1, (0,0) and (1,1) not.
    assert grid[0, 0] > 0.5 and grid[-1, -1] > 0.5 and grid[0, -1] < 0.5 and grid[-1, 0] < 0.5


def test_has_regions() -> None:
    assert has_regions(run(load_preset("xor")))
    assert not has_regions(run(load_preset("delta-demo")))


def test_largest_entry_only_among_shown() -> None:
    v = np.array([[0.1, -5.0, 0.2], [0.3, 0.0, -0.4]])
    assert largest_entry(v, [0, 1], [0, 1, 2]) == (0, 1)
    assert largest_entry(v, [0, 1], [0, 2]) == (1, 2)
