"""The bundled 2-D data sets and the presets built on them: seeded, shaped, balanced."""

from __future__ import annotations

import numpy as np
import pytest

from backprop_core import load_preset, run
from backprop_core.datasets import GENERATORS, digits, digits_file, generate

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


# --- the handwritten digits -------------------------------------------------------------

DIGITS_SHA256 = "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826"
"""Of ``pixels.tobytes() + labels.tobytes()``, as backprop_core/data/LICENSE-digits.txt
states: scikit-learn's digits.csv.gz, values unchanged."""


def test_the_shipped_digits_are_scikit_learns() -> None:
    import hashlib

    pixels, labels = digits_file()
    assert pixels.shape == (1797, 64) and pixels.dtype == np.uint8
    assert labels.shape == (1797,) and labels.dtype == np.uint8
    assert hashlib.sha256(pixels.tobytes() + labels.tobytes()).hexdigest() == DIGITS_SHA256
    assert pixels.max() == 16 and labels.max() == 9
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert not pixels.flags.writeable


def test_digits_are_scaled_pixels_and_one_hot_targets() -> None:
    split = digits(1797, 0.2, seed=0)
    pixels, labels = digits_file()
    assert split.x.shape == (64, 1438) and split.x_test.shape == (64, 359)
    # Column j is sample train_index[j]: its pixels / 16 and its label one-hot.
    j = 17
    i = split.train_index[j]
    assert np.array_equal(split.x[:, j] * 16, pixels[i].astype(float))
    assert split.y[:, j].tolist() == np.eye(10)[labels[i]].tolist()
    assert 0 <= split.x.min() and split.x.max() <= 1
    assert np.all(split.y.sum(axis=0) == 1) and np.all(split.y_test.sum(axis=0) == 1)
    assert sorted([*split.train_index, *split.test_index]) == list(range(1797))


def test_the_digits_license_ships_beside_the_data() -> None:
    from importlib import resources

    text = resources.files("backprop_core").joinpath("data/LICENSE-digits.txt").read_text()
    assert "CC BY 4.0" in text and DIGITS_SHA256 in text
