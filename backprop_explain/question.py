r"""What the original question's worked example needs beyond a plain trace.

The question (a one-weight neuron ``a^(L) = a^(L-1) w`` fitted by hand, then a two-weight
chain) motivates three numbers the trace does not hold; each is computed here with the
engine's own :func:`~backprop_core.network.feedforward`, cost and backprop, so a scene can
register them with ``NumberRegistry.define`` and tests can recompute them:

- :func:`sensitivities`: nudge one weight by ``ε`` and watch the output and the cost move;
  the ratio ``ΔC/Δw`` for shrinking ``ε`` converges to the analytic ``∂C/∂w`` (forward
  differences, as the picture of a nudge suggests: the error is about ``ε/2 · ∂²C/∂w²``).
- :func:`chain_factors`: the five factors of the chain rule for the first weight of a 1-1-1
  chain, and :func:`with_activation`, the same chain with another activation (the videos
  show the sigmoid's ``σ'`` factors beside the identity's ``1``).
- :func:`train_last_layer_first`: the question's own training order, which fits ``W^(L)``
  first and only then the earlier weight. Gradient descent does not do this; the videos
  show both trajectories over the cost's contours (:func:`simultaneous_trajectory` is the
  engine's run, read from a trace).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config
from backprop_core.network import backprop, cost, feedforward
from backprop_core.trace import Trace

Array = NDArray[np.float64]

EPSILONS: tuple[float, ...] = (1.0, 0.1, 0.01, 0.001)
"""Nudges shown in the scalar video's sensitivity beat, from visible to infinitesimal."""


@dataclass(frozen=True)
class Nudge:
    """One nudge ``w → w + ε`` of a single weight, with everything it moves.

    ``output`` and ``cost`` are ``a^(L)`` (first output, first sample) and ``C`` after the
    nudge; ``d_output`` and ``d_cost`` are their changes; ``ratio = d_cost / epsilon``.
    """

    epsilon: float
    output: float
    cost: float
    d_output: float
    d_cost: float

    @property
    def ratio(self) -> float:
        """``ΔC/Δw``, the forward-difference estimate of ``∂C/∂w``."""
        return self.d_cost / self.epsilon


def _forward(
    config: Config, weights: Sequence[Array], biases: Sequence[Array]
) -> tuple[float, float]:
    """``(a^(L)[0, 0], C)`` for the config's data."""
    a = feedforward(config, weights, biases, config.x)
    return float(a[0, 0]), cost(config, a, config.y)


def sensitivities(
    config: Config,
    weights: Sequence[Array],
    biases: Sequence[Array],
    layer: int,
    index: tuple[int, int] = (0, 0),
    epsilons: Sequence[float] = EPSILONS,
) -> list[Nudge]:
    """Nudge ``W^(layer)[index]`` by each ``ε`` and record how ``a^(L)`` and ``C`` move.

    Parameters
    ----------
    config
        The network and its data (``x`` of shape ``(n_0, m)``).
    weights, biases
        The parameters at which to nudge (a step's ``W``/``b``), ``W^(l)`` of shape
        ``(n_l, n_{l-1})``; they are not modified.
    layer
        ``l`` in ``1..L``.
    index
        ``(j, k)``: the entry of ``W^(l)`` to nudge.
    epsilons
        The nudges, usually shrinking.
    """
    output0, cost0 = _forward(config, weights, biases)
    nudges = []
    for eps in epsilons:
        nudged = list(weights)
        W = weights[layer - 1].copy()
        W[index] += eps
        nudged[layer - 1] = W
        output, c = _forward(config, nudged, biases)
        nudges.append(Nudge(eps, output, c, output - output0, c - cost0))
    return nudges


def with_activation(config: Config, activation: str) -> Config:
    """The same network, data and initial weights with every layer's activation replaced."""
    return replace(
        config,
        activations=(activation,) * config.num_layers,
        name=f"{config.name} ({activation})",
    )


@dataclass(frozen=True)
class ChainFactors:
    r"""The chain rule for the first weight of a 1-1-1 chain, factor by factor.

    ``∂C/∂w^(L-1) = ∂z^(L-1)/∂w^(L-1) · ∂a^(L-1)/∂z^(L-1) · ∂z^(L)/∂a^(L-1)
    · ∂a^(L)/∂z^(L) · ∂C/∂a^(L) = a^(L-2) · σ'(z^(L-1)) · w^(L) · σ'(z^(L)) · ∂C/∂a^(L)``.
    ``product`` is the engine's ``∂C/∂W^(1)`` (BP4), which equals the product of the five.
    Also the forward values ``z1, a1, z2, a2`` and the cost, for the graph's nodes.
    """

    a0: float
    sigma_prime1: float
    w2: float
    sigma_prime2: float
    grad_a: float
    product: float
    z1: float
    a1: float
    z2: float
    a2: float
    cost: float

    def as_dict(self, prefix: str) -> dict[str, float]:
        """Every field as ``{prefix + name: value}``, ready for ``NumberRegistry.define``."""
        return {prefix + name: float(getattr(self, name)) for name in self.__dataclass_fields__}


def chain_factors(config: Config) -> ChainFactors:
    """The factors of ``∂C/∂w^(L-1)`` at the config's initial weights (a 1-1-1 network)."""
    if config.sizes != (1, 1, 1):
        raise ValueError(f"chain_factors needs a 1-1-1 network, got sizes {config.sizes}")
    g = backprop(config, list(config.weights), list(config.biases), config.x, config.y)
    return ChainFactors(
        a0=float(config.x[0, 0]),
        sigma_prime1=float(g.sigma_prime[0][0, 0]),
        w2=float(config.weights[1][0, 0]),
        sigma_prime2=float(g.sigma_prime[1][0, 0]),
        grad_a=float(g.grad_a[0, 0]),
        product=float(g.dW[0][0, 0]),
        z1=float(g.z[0][0, 0]),
        a1=float(g.a[1][0, 0]),
        z2=float(g.z[1][0, 0]),
        a2=float(g.a[2][0, 0]),
        cost=g.loss,
    )


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A training run seen as a path through weight space.

    ``weights[i]`` is the tuple of ``W^(l)`` after ``i`` gradient evaluations (``i = 0`` is
    the start), ``costs[i]`` its cost; ``updated[i]`` lists the layers the ``i+1``-th update
    changed. Both training orders below spend one gradient evaluation per update, so two
    trajectories of the same length cost the same.
    """

    weights: tuple[tuple[Array, ...], ...]
    costs: Array
    updated: tuple[tuple[int, ...], ...]

    def entry(self, layer: int, index: tuple[int, int] = (0, 0)) -> Array:
        """``W^(layer)[index]`` along the path, shape ``(len(self),)``."""
        return np.array([float(ws[layer - 1][index]) for ws in self.weights])

    def __len__(self) -> int:
        return len(self.weights)


def simultaneous_trajectory(trace: Trace) -> Trajectory:
    """The engine's gradient descent, read from a fully recorded trace.

    Every update changes every layer at once, all from the same forward pass: the step is
    ``−η ∇C``, perpendicular to the contour of ``C`` through the current point.
    """
    steps = trace.steps
    if [s.iteration for s in steps] != list(range(1, trace.config.iterations + 1)):
        raise ValueError("simultaneous_trajectory needs every iteration recorded (every = 1)")
    weights = [tuple(r.W for r in s.layers) for s in steps]
    weights.append(tuple(r.W_next for r in steps[-1].layers))
    costs = np.array([s.loss for s in steps] + [steps[-1].loss_after])
    all_layers = tuple(range(1, trace.config.num_layers + 1))
    return Trajectory(tuple(weights), costs, (all_layers,) * len(steps))


def last_layer_first_schedule(num_layers: int, evaluations: int) -> list[int]:
    """Which layer each update of :func:`train_last_layer_first` changes.

    The evaluations are split into ``L`` consecutive phases, last layer first
    (``L, L-1, …, 1``); the phases are as equal as possible, earlier phases (the later
    layers) taking any remainder. E.g. ``L = 2``, 20 evaluations: ten 2s, then ten 1s.
    """
    base, extra = divmod(evaluations, num_layers)
    schedule: list[int] = []
    for i, layer in enumerate(range(num_layers, 0, -1)):
        schedule += [layer] * (base + (1 if i < extra else 0))
    return schedule


def train_last_layer_first(config: Config, evaluations: int | None = None) -> Trajectory:
    r"""The question's training order: fit ``W^(L)`` first, then the earlier weights.

    The question fits the last weight and then, "because we have found ``W^(L)`` already",
    iterates the earlier weight with ``W^(L)`` held fixed. As an algorithm (block
    coordinate descent, one block per layer):

    1. for ``⌈N/L⌉`` updates, ``W^(L) ← W^(L) − η ∂C/∂W^(L)`` with every other layer frozen;
    2. then the same for ``W^(L-1)`` with ``W^(L)`` frozen at its fitted value; and so on
       down to ``W^(1)`` (see :func:`last_layer_first_schedule`).

    Each update runs one forward and backward pass (the engine's
    :func:`~backprop_core.network.backprop`) and uses only one layer's gradient, so with
    ``N = evaluations`` (default ``config.iterations``) it costs exactly what ``N``
    iterations of gradient descent cost. Biases of a layer move with its weights. Every
    step is along a coordinate axis of weight space, never along ``−∇C``.
    """
    n = config.iterations if evaluations is None else evaluations
    weights = list(config.weights)
    biases = list(config.biases)
    eta = config.learning_rate
    path = [tuple(weights)]
    costs = []
    updated = []
    for layer in last_layer_first_schedule(config.num_layers, n):
        g = backprop(config, weights, biases, config.x, config.y)
        costs.append(g.loss)
        weights[layer - 1] = weights[layer - 1] - eta * g.dW[layer - 1]
        biases[layer - 1] = biases[layer - 1] - eta * g.db[layer - 1]
        path.append(tuple(weights))
        updated.append((layer,))
    costs.append(cost(config, feedforward(config, weights, biases, config.x), config.y))
    return Trajectory(tuple(path), np.array(costs), tuple(updated))


def cost_at(config: Config, w1: float, w2: float) -> float:
    """``C`` of a 1-1-1 chain with weights ``w^(L-1) = w1`` and ``w^(L) = w2``.

    The cost surface over the ``(w1, w2)`` plane, for its contour lines (the initial
    biases are kept).
    """
    ws = [np.array([[w1]]), np.array([[w2]])]
    return cost(config, feedforward(config, ws, config.biases, config.x), config.y)


def residual_at(config: Config, w1: float, w2: float) -> float:
    """``a^(L) − y`` of a 1-1-1 chain (one sample) at weights ``(w1, w2)``.

    Its zero set is the valley ``C = 0``, which no contour ``C = c`` of a positive level
    can draw (the cost only touches zero there, it never changes sign).
    """
    ws = [np.array([[w1]]), np.array([[w2]])]
    a = feedforward(config, ws, config.biases, config.x)
    return float(a[0, 0] - config.y[0, 0])


__all__ = [
    "EPSILONS",
    "ChainFactors",
    "Nudge",
    "Trajectory",
    "chain_factors",
    "cost_at",
    "last_layer_first_schedule",
    "residual_at",
    "sensitivities",
    "simultaneous_trajectory",
    "train_last_layer_first",
    "with_activation",
]
