"""Small synthetic 2-D data sets, NumPy only and seeded, so presets need no download.

Each generator returns ``x`` of shape ``(2, m)`` (one column per sample, coordinates
roughly in ``[-1.5, 1.5]``) and labels ``y`` of shape ``(1, m)`` with values 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable

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
