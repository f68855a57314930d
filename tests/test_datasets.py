"""The bundled 2-D data sets and the presets built on them: seeded, shaped, balanced."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_core import load_preset, run
from backprop_core.datasets import GENERATORS, generate

NAMES = sorted(GENERATORS)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_points(name: str) -> None:
    x1, y1 = generate(name, 50, 0.1, seed=7)
    x2, y2 = generate(name, 50, 0.1, seed=7)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)


@pytest.mark.parametrize("name", NAMES)
def test_other_seed_other_points(name: str) -> None:
    x1, _ = generate(name, 50, 0.1, seed=1)
    x2, _ = generate(name, 50, 0.1, seed=2)
    assert not np.array_equal(x1, x2)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("m", [4, 7, 101])
def test_shapes_and_labels(name: str, m: int) -> None:
    x, y = generate(name, m, 0.1, seed=0)
    assert x.shape == (2, m) and y.shape == (1, m)
    assert x.dtype == np.float64 and y.dtype == np.float64
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("name", NAMES)
def test_labels_are_balanced(name: str) -> None:
    _, y = generate(name, 200, 0.1, seed=0)
    assert abs(float(y.mean()) - 0.5) <= 0.02


@pytest.mark.parametrize("name", NAMES)
def test_noise_free_points_stay_in_the_plotted_range(name: str) -> None:
    x, _ = generate(name, 200, 0.0, seed=0)
    assert np.max(np.abs(x)) <= 1.6


@pytest.mark.parametrize("name", ["moons", "spirals", "circles"])
def test_generator_presets_learn(name: str) -> None:
    """Each generator preset visibly learns: the loss falls tenfold and all points end
    on the right side of 0.5."""
    trace = run(load_preset(name))
    assert trace.config.x.shape == (2, 200)
    assert trace.losses[-1] < trace.losses[0] / 10
    last = trace.steps[-1]
    accuracy = np.mean((last.layers[-1].a > 0.5) == (last.target > 0.5))
    assert accuracy >= 0.99
