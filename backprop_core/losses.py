"""Costs of one sample ``C_x`` and their gradients ``∇_a C_x``, side by side.

Each function takes the output activations ``a`` and targets ``y`` of shape ``(n_L, m)``
(one column per sample) and returns the per-sample cost (shape ``(m,)``) or the
per-sample gradient (shape ``(n_L, m)``). The cost of a batch is the mean over samples,
``C = (1/m) Σ_x C_x``; the engine divides by ``m`` where BP3 and BP4 sum over the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def sse(a: Array, y: Array) -> Array:
    return np.sum((a - y) ** 2, axis=0)


def sse_gradient(a: Array, y: Array) -> Array:
    return 2.0 * (a - y)


def half_sse(a: Array, y: Array) -> Array:
    return 0.5 * np.sum((a - y) ** 2, axis=0)


def half_sse_gradient(a: Array, y: Array) -> Array:
    return a - y


def mse(a: Array, y: Array) -> Array:
    return np.mean((a - y) ** 2, axis=0)


def mse_gradient(a: Array, y: Array) -> Array:
    return 2.0 * (a - y) / a.shape[0]


def cross_entropy(a: Array, y: Array, softmax_output: bool) -> Array:
    """Categorical ``−Σ y ln a`` after softmax; binary ``−Σ [y ln a + (1−y) ln(1−a)]`` else."""
    if softmax_output:
        return -np.sum(y * np.log(a), axis=0)
    return -np.sum(y * np.log(a) + (1.0 - y) * np.log(1.0 - a), axis=0)


def cross_entropy_gradient(a: Array, y: Array, softmax_output: bool) -> Array:
    if softmax_output:
        return -y / a
    return (a - y) / (a * (1.0 - a))


@dataclass(frozen=True)
class Loss:
    """A cost ``C_x``, its gradient ``∇_a C_x`` and how both are written on screen."""

    name: str
    cost: Callable[[Array, Array, bool], Array]
    gradient: Callable[[Array, Array, bool], Array]
    latex: str
    """``C_x`` in LaTeX, with ``a`` for the output activations and ``y`` for the target."""
    gradient_latex: str
    """``∇_a C_x`` in LaTeX."""


def _plain(f: Callable[[Array, Array], Array]) -> Callable[[Array, Array, bool], Array]:
    """Adapt a cost that does not depend on the output activation."""
    return lambda a, y, softmax_output: f(a, y)


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("sse", _plain(sse), _plain(sse_gradient), r"\sum_j (a_j - y_j)^2", r"2(a - y)"),
        Loss(
            "half_sse",
            _plain(half_sse),
            _plain(half_sse_gradient),
            r"\tfrac{1}{2}\sum_j (a_j - y_j)^2",
            r"a - y",
        ),
        Loss(
            "mse",
            _plain(mse),
            _plain(mse_gradient),
            r"\tfrac{1}{n}\sum_j (a_j - y_j)^2",
            r"\tfrac{2}{n}(a - y)",
        ),
        Loss(
            "cross_entropy",
            cross_entropy,
            cross_entropy_gradient,
            r"-\sum_j \left[y_j \ln a_j + (1-y_j)\ln(1-a_j)\right]",
            r"\frac{a - y}{a(1-a)}",
        ),
    )
}

SOFTMAX_CROSS_ENTROPY_LATEX = r"-\sum_j y_j \ln a_j"
SOFTMAX_CROSS_ENTROPY_GRADIENT_LATEX = r"-\frac{y}{a}"
