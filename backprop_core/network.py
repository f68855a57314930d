r"""Backpropagation in matrix form: the engine.

Notation (Nielsen, *Neural Networks and Deep Learning*, chapter 2), written down once:

- Layers ``l = 1..L``; ``a^(0) = x`` is the input. Layer ``l`` has ``n_l`` neurons.
- ``W^(l)`` has shape ``(n_l, n_{l-1})``: ``W^(l)[j, k]`` joins neuron ``k`` of layer ``l-1``
  to neuron ``j`` of layer ``l``. ``b^(l)`` has shape ``(n_l, 1)``.
- A batch of ``m`` samples is a matrix with ``m`` columns, one sample per column.
- Forward: ``z^(l) = W^(l) a^(l-1) + b^(l)``, ``a^(l) = f_l(z^(l))``.
- Cost: ``C = (1/m) Σ_x C_x`` with ``C_x`` one of :mod:`backprop_core.losses`.
- Backward, the four equations:

  - BP1 ``δ^(L) = ∇_a C_x ⊙ σ'(z^(L))``   (softmax: ``δ^(L) = Jᵀ ∇_a C_x``, ``= a − y`` with
    cross-entropy)
  - BP2 ``δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l))``
  - BP3 ``∂C/∂b^(l) = (1/m) Σ_x δ^(l)``
  - BP4 ``∂C/∂W^(l) = (1/m) δ^(l) (a^(l-1))ᵀ``

  ``δ^(l)`` keeps one column per sample; the ``1/m`` of the batch mean appears in BP3/BP4.
- Plain gradient descent: ``W ← W − η ∂C/∂W``, ``b ← b − η ∂C/∂b`` for every layer, all
  from the same forward pass.

Arrays are never updated in place, so a recorded ``W_next`` is the next iteration's ``W``
(the same object, no copy): recording a trace costs references, not memory copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from backprop_core.activations import ACTIVATIONS, softmax_backward
from backprop_core.config import Config
from backprop_core.errors import BackpropError
from backprop_core.losses import LOSSES

Array = NDArray[np.float64]
Parameters = tuple[list[Array], list[Array]]
"""``(weights, biases)``, one array per layer ``l = 1..L``."""


@dataclass(frozen=True, eq=False)
class Gradients:
    """Everything one forward and backward pass computes, per layer ``l = 1..L``.

    ``zs[l-1]``, ``activations[l]`` (with ``activations[0] = x``), ``sigma_primes[l-1]`` and
    ``deltas[l-1]`` have shape ``(n_l, m)``; ``nabla_w[l-1]`` is ``(n_l, n_{l-1})`` and
    ``nabla_b[l-1]`` is ``(n_l, 1)``. ``grad_a`` is ``∇_a C_x`` per sample, ``(n_L, m)``.
    """

    zs: list[Array]
    activations: list[Array]
    sigma_primes: list[Array]
    grad_a: Array
    deltas: list[Array]
    nabla_w: list[Array]
    nabla_b: list[Array]
    loss: float


def batch_mean(costs: Array) -> float:
    """``(1/m) Σ_x C_x``: the same bits as ``np.mean`` (one sum, one division), without
    its dispatch, which cost more than the sum of 64 numbers itself."""
    return float(costs.sum() / costs.shape[0])


def cost(config: Config, a: Array, y: Array) -> float:
    """The batch cost ``C = (1/m) Σ_x C_x`` of output activations ``a``."""
    softmax_output = config.activations[-1] == "softmax"
    return batch_mean(LOSSES[config.loss].cost(a, y, softmax_output))


def feedforward(
    config: Config, weights: Sequence[Array], biases: Sequence[Array], x: Array
) -> Array:
    """``a^(L)`` for inputs ``x`` of shape ``(n_0, m)``."""
    a = x
    for W, b, name in zip(weights, biases, config.activations, strict=True):
        a = ACTIVATIONS[name].f(W @ a + b)
    return a


def backprop(
    config: Config, weights: Sequence[Array], biases: Sequence[Array], x: Array, y: Array
) -> Gradients:
    """One forward pass and the four equations of backpropagation, for a batch."""
    fs = [ACTIVATIONS[name] for name in config.activations]
    m = x.shape[1]
    # Forward pass: keep every z and a.
    activation = x
    activations = [x]
    zs = []
    for W, b, f in zip(weights, biases, fs, strict=True):
        z = W @ activation
        z += b  # in place: the same sum as W a + b, without a second (n_l, m) array
        zs.append(z)
        activation = f.f(z)
        activations.append(activation)
    sigma_primes = [f.prime_of(a) for f, a in zip(fs, activations[1:], strict=True)]
    softmax_output = config.activations[-1] == "softmax"
    loss = LOSSES[config.loss]
    # BP1: the output error.
    grad_a = loss.gradient(activation, y, softmax_output)
    if softmax_output:
        delta = softmax_backward(activation, grad_a)
    else:
        delta = grad_a * sigma_primes[-1]
    deltas = [delta]
    # BP2: pass the error back through W^T and the derivative of each layer.
    for l in range(len(weights) - 1, 0, -1):
        delta = (weights[l].T @ delta) * sigma_primes[l - 1]
        deltas.insert(0, delta)
    # BP3 and BP4: gradients, averaged over the batch.
    nabla_b = [d.sum(axis=1, keepdims=True) / m for d in deltas]
    if not config.bias:
        nabla_b = [np.zeros_like(b) for b in nabla_b]
    # The 1/m divides δ (n_l × m numbers) before the product instead of the product
    # (n_l × n_{l-1}): the same formula, the same bits when m is a power of two (else
    # they may differ in the last place), and at 784-128-10 100,352 divisions fewer per
    # iteration, about 5 % of it. Each kept ∂C/∂W is written to memory once, by the product.
    nabla_w = [(d / m) @ a.T for d, a in zip(deltas, activations[:-1], strict=True)]
    c = batch_mean(loss.cost(activation, y, softmax_output))
    return Gradients(zs, activations, sigma_primes, grad_a, deltas, nabla_w, nabla_b, c)


def check_finite(g: Gradients, iteration: int, source: str) -> None:
    """Stop with a clear message the moment training produces NaN or infinity.

    Checks the loss and every ``z`` and ``δ`` (small ``(n_l, m)`` arrays), and names the
    first culprit in the order the numbers were computed. ``∂C/∂W`` is not scanned here:
    a non-finite entry of ``W − η ∂C/∂W`` makes the whole row of the next iteration's
    ``z`` non-finite, so it is caught one iteration later, and :func:`train` checks the
    final parameters itself. (Scanning every ``∂C/∂W`` cost 5 % of a 784-128-10 run.)
    """
    # Fast path, one sum instead of a test per array: a sum is finite only if every term
    # is (a sum that overflows merely takes the slow path, which then finds nothing).
    total = g.loss + sum(np.add.reduce(a, axis=None) for a in (*g.zs, *g.deltas))
    if math.isfinite(total):
        return
    hint = "(training diverged); try a smaller train.learning_rate"
    for l, z in enumerate(g.zs, start=1):
        if not np.isfinite(z).all():
            raise BackpropError(
                source, f"iteration {iteration}, layer {l}: z", f"is not finite {hint}"
            )
    L = len(g.zs)
    if not np.isfinite(g.loss):
        raise BackpropError(
            source, f"iteration {iteration}, layer {L} (output): loss", f"became {g.loss} {hint}"
        )
    for l in range(L, 0, -1):
        if not np.isfinite(g.deltas[l - 1]).all():
            raise BackpropError(
                source, f"iteration {iteration}, layer {l}: delta", f"is not finite {hint}"
            )


def _check_parameters(params: Parameters, iteration: int, source: str) -> None:
    """The final ``W`` and ``b`` must be finite too (see :func:`check_finite`)."""
    for name, arrays in (("W_next", params[0]), ("b_next", params[1])):
        for l, p in enumerate(arrays, start=1):
            if not np.isfinite(p).all():
                raise BackpropError(
                    source,
                    f"iteration {iteration}, layer {l}: {name}",
                    "is not finite (training diverged); try a smaller train.learning_rate",
                )


def descend(p: Array, eta: float, gradient: Array) -> Array:
    """One gradient-descent step, ``p − η ∂C/∂p``, as a new array (``p`` is not changed).

    The result is written over the temporary ``η ∂C/∂p``: one new array instead of two.
    A trace keeps every updated ``W``, so this halves the fresh memory written per update
    (recording a 784-128-10 run got about 8 % faster; the values are the same bits).
    """
    step = eta * gradient
    return np.subtract(p, step, out=step)


def train(
    config: Config,
    on_step: Callable[[int, Gradients, Parameters, Parameters], None] | None = None,
    source: str = "config",
) -> Parameters:
    """Plain gradient descent for ``config.iterations`` iterations over the whole batch.

    ``on_step(k, gradients, before, after)`` sees every iteration ``k = 1..iterations``
    with the ``(weights, biases)`` before and after its update; the trace recorder
    (:func:`backprop_core.trace.run`) is one such observer. Returns the final parameters.
    """
    weights = list(config.weights)
    biases = list(config.biases)
    eta = config.learning_rate
    # Overflow is reported by check_finite as one clear error, not as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k in range(1, config.iterations + 1):
            g = backprop(config, weights, biases, config.x, config.y)
            check_finite(g, k, source)
            new_weights = [descend(W, eta, nw) for W, nw in zip(weights, g.nabla_w, strict=True)]
            new_biases = [descend(b, eta, nb) for b, nb in zip(biases, g.nabla_b, strict=True)]
            if on_step is not None:
                on_step(k, g, (weights, biases), (new_weights, new_biases))
            weights, biases = new_weights, new_biases
    _check_parameters((weights, biases), config.iterations, source)
    return weights, biases
