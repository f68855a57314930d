"""Data sets for the presets, NumPy only, seeded and shipped: nothing is downloaded.

Small synthetic 2-D sets: each generator returns ``x`` of shape ``(2, m)`` (one column
per sample, coordinates roughly in ``[-1.5, 1.5]``) and labels ``y`` of shape ``(1, m)``
with values 0 or 1. And one real set, the UCI handwritten digits (:func:`digits`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def xor(m: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Points around the four corners of the square; label 1 where exactly one is positive."""
    corners = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    pick = np.arange(m) % 4
    x = corners[pick] + noise * rng.standard_normal((m, 2))
    y = ((corners[pick, 0] > 0) != (corners[pick, 1] > 0)).astype(np.float64)
    return x.T, y[None, :]


def moons(m: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``)."""
    half = m // 2
    t_out = np.linspace(0, np.pi, m - half)
    t_in = np.linspace(0, np.pi, half)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)
    x = np.concatenate([outer, inner]) + noise * rng.standard_normal((m, 2))
    x = (x - np.array([0.5, 0.25])) / 1.2
    y = np.concatenate([np.zeros(m - half), np.ones(half)])
    return x.T, y[None, :]


def circles(m: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """A small circle inside a large one; label 1 on the inner circle."""
    half = m // 2
    t = rng.uniform(0, 2 * np.pi, m)
    radius = np.where(np.arange(m) < half, 0.5, 1.2)
    x = np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)
    x += noise * rng.standard_normal((m, 2))
    y = (np.arange(m) < half).astype(np.float64)
    return x.T, y[None, :]


def spirals(m: int, noise: float, rng: np.random.Generator) -> tuple[Array, Array]:
    """Two interleaved spirals, a classic hard case for a small network."""
    half = m // 2
    t = np.sqrt(np.linspace(0.05, 1, m - half)) * 3 * np.pi
    s = np.sqrt(np.linspace(0.05, 1, half)) * 3 * np.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / (3 * np.pi) * 1.4
    b = -np.stack([s * np.cos(s), s * np.sin(s)], axis=1) / (3 * np.pi) * 1.4
    x = np.concatenate([a, b]) + noise * rng.standard_normal((m, 2))
    y = np.concatenate([np.zeros(m - half), np.ones(half)])
    return x.T, y[None, :]


GENERATORS: dict[str, Callable[[int, float, np.random.Generator], tuple[Array, Array]]] = {
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spirals": spirals,
}


def generate(name: str, samples: int, noise: float, seed: int) -> tuple[Array, Array]:
    """Draw ``samples`` points of the named data set with ``np.random.default_rng(seed)``."""
    x, y = GENERATORS[name](samples, noise, np.random.default_rng(seed))
    return np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(y, dtype=np.float64)


# --- handwritten digits -----------------------------------------------------------------

DIGITS_SAMPLES = 1797
"""Images in the shipped copy of the UCI digits (scikit-learn's ``load_digits``)."""
DIGITS_CLASSES = 10
DIGITS_PIXELS = 64
"""An 8 × 8 image, row-major: pixel ``8 · row + column``."""
DIGITS_MAX = 16
"""Each pixel counts the inked pixels of a 4 × 4 block of the 32 × 32 scan: 0..16."""


@dataclass(frozen=True, eq=False)
class Split:
    """A data set's training and test samples, one sample per column.

    ``train_index`` and ``test_index`` are the samples' positions in the shipped file, in
    the order of the columns (increasing).
    """

    x: Array
    y: Array
    x_test: Array
    y_test: Array
    train_index: NDArray[np.int64]
    test_index: NDArray[np.int64]


@cache
def digits_file() -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The shipped images, ``(1797, 64)`` pixels ``0..16``, and their labels ``0..9``.

    ``backprop_core/data/digits.npz`` is scikit-learn's ``digits.csv.gz`` as two
    ``uint8`` arrays (45 KB; see ``backprop_core/data/LICENSE-digits.txt``): nothing is
    downloaded and scikit-learn is not needed. The arrays are read-only.
    """
    with resources.files("backprop_core").joinpath("data/digits.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as arrays:
            pixels, labels = arrays["pixels"], arrays["labels"]
    pixels.flags.writeable = False
    labels.flags.writeable = False
    return pixels, labels


def digits(samples: int, test_fraction: float, seed: int) -> Split:
    """The handwritten digits as columns, split into training and test samples.

    The split is a pure function of its arguments, so a trace needs only them to rebuild
    it: ``order = np.random.default_rng(seed).permutation(1797)``; the first ``samples``
    entries of ``order`` are used; the first ``n_test = floor(test_fraction · samples)``
    of those are the test set and the rest the training set, each sorted back into the
    file's order. Inputs are the pixels scaled to ``[0, 1]`` (``pixel / 16``, exact in
    binary), ``(64, m)``; targets are one-hot, ``(10, m)``, ``y[label, i] = 1``.
    """
    pixels, labels = digits_file()
    order = np.random.default_rng(seed).permutation(DIGITS_SAMPLES)[:samples]
    n_test = math.floor(test_fraction * samples)
    test_index = np.sort(order[:n_test])
    train_index = np.sort(order[n_test:])

    def columns(index: NDArray[np.int64]) -> tuple[Array, Array]:
        x = pixels[index].T / float(DIGITS_MAX)
        y = np.zeros((DIGITS_CLASSES, len(index)))
        y[labels[index], np.arange(len(index))] = 1.0
        return np.ascontiguousarray(x), y

    x, y = columns(train_index)
    x_test, y_test = columns(test_index)
    return Split(x, y, x_test, y_test, train_index, test_index)
