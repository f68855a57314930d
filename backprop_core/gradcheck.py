"""An independent oracle for backprop: central finite differences of the cost.

``(C(θ + ε) − C(θ − ε)) / 2ε`` for every weight and bias, compared with the engine's
``∂C/∂W`` and ``∂C/∂b``. It uses only :func:`~backprop_core.network.feedforward` and the
cost, never the backward pass, so agreement is evidence and not a tautology.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config
from backprop_core.network import backprop, cost, feedforward, mini_batches

Array = NDArray[np.float64]

EPSILON = 1e-6
TOLERANCE = 1e-5
FLOOR = 1e-4
"""Relative errors are taken against ``max(|analytic| + |numeric|, FLOOR)``, so gradients
that are zero up to rounding do not produce huge ratios out of nothing."""


@dataclass(frozen=True)
class CheckResult:
    """The worst relative error over all parameters, and where it was found."""

    worst: float
    where: str
    count: int

    @property
    def ok(self) -> bool:
        return self.worst <= TOLERANCE


def numerical_gradients(
    config: Config,
    weights: list[Array],
    biases: list[Array],
    eps: float = EPSILON,
    batch: tuple[Array, Array] | None = None,
) -> tuple[list[Array], list[Array]]:
    """Central differences of the batch cost for every entry of every ``W`` and ``b``.

    ``batch`` is ``(x, y)``; by default the whole data set, ``config.x`` and ``config.y``.
    """
    x, y = (config.x, config.y) if batch is None else batch

    def c(ws: list[Array], bs: list[Array]) -> float:
        return cost(config, feedforward(config, ws, bs, x), y)

    nws: list[Array] = []
    nbs: list[Array] = []
    for params, out in ((weights, nws), (biases, nbs)):
        for i, p in enumerate(params):
            grad = np.zeros_like(p)
            for idx in np.ndindex(p.shape):
                plus, minus = p.copy(), p.copy()
                plus[idx] += eps
                minus[idx] -= eps
                ps, ms = list(params), list(params)
                ps[i], ms[i] = plus, minus
                if params is weights:
                    grad[idx] = (c(ps, biases) - c(ms, biases)) / (2 * eps)
                else:
                    grad[idx] = (c(weights, ps) - c(weights, ms)) / (2 * eps)
            out.append(grad)
    return nws, nbs


def relative_error(analytic: Array, numeric: Array) -> Array:
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), FLOOR)


def check(config: Config) -> CheckResult:
    """Compare backprop with finite differences at the first iteration: the config's
    initial parameters on the first step's batch (the whole data set, or with
    ``train.batch_size`` the first mini-batch)."""
    weights, biases = list(config.weights), list(config.biases)
    first = next(mini_batches(config))
    g = backprop(config, weights, biases, first.x, first.y)
    nws, nbs = numerical_gradients(config, weights, biases, batch=(first.x, first.y))
    worst, where, count = 0.0, "none", 0
    pairs = [(f"dW^({l + 1})", g.dW[l], nws[l]) for l in range(len(weights))]
    if config.bias:
        pairs += [(f"db^({l + 1})", g.db[l], nbs[l]) for l in range(len(biases))]
    for name, analytic, numeric in pairs:
        err = relative_error(analytic, numeric)
        count += err.size
        idx = np.unravel_index(int(np.argmax(err)), err.shape)
        if err[idx] >= worst:
            worst = float(err[idx])
            where = f"{name}[{idx[0]}, {idx[1]}]"
    return CheckResult(worst, where, count)
