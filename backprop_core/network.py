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
- Gradient descent: ``W ← W − η ∂C/∂W``, ``b ← b − η ∂C/∂b`` for every layer, all from
  the same forward pass. Without ``train.batch_size`` every step uses the whole data set
  (full-batch gradient descent); with it, each step uses a mini-batch of ``m =
  batch_size`` samples, shuffled each epoch (:func:`mini_batches`), and BP1–BP4 are the
  same equations with the batch as the matrix's columns.

Arrays are never updated in place, so a recorded ``W_next`` is the next iteration's ``W``
(the same object, no copy): recording a trace costs references, not memory copies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
Indices = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Gradients:
    """Everything one forward and backward pass computes, named as in the trace.

    ``a[l]`` is ``a^(l)`` for ``l = 0..L`` (``a[0] = x``); the other lists hold layers
    ``l = 1..L`` at index ``l - 1``: ``z``, ``sigma_prime`` and ``delta`` are ``(n_l, m)``,
    ``dW`` is ``(n_l, n_{l-1})`` and ``db`` is ``(n_l, 1)``. ``grad_a`` is ``∇_a C_x`` per
    sample, ``(n_L, m)``; ``loss`` is the batch cost ``C``.
    """

    z: list[Array]
    a: list[Array]
    sigma_prime: list[Array]
    grad_a: Array
    delta: list[Array]
    dW: list[Array]
    db: list[Array]
    loss: float


def cost(config: Config, a: Array, y: Array) -> float:
    """The batch cost ``C = (1/m) Σ_x C_x`` of output activations ``a``."""
    softmax_output = config.activations[-1] == "softmax"
    return float(np.mean(LOSSES[config.loss].cost(a, y, softmax_output)))


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
    """One forward pass and the four equations of backpropagation, for a batch.

    The steps are the chapter's algorithm: feed forward, the output error (BP1), the
    error of each earlier layer (BP2), then the gradients (BP3, BP4).
    """
    fs = [ACTIVATIONS[name] for name in config.activations]
    loss = LOSSES[config.loss]
    softmax_output = config.activations[-1] == "softmax"
    L = len(weights)
    m = x.shape[1]
    # Feedforward: z^(l) = W^(l) a^(l-1) + b^(l) and a^(l) = f(z^(l)), keeping both.
    a = [x]
    z = []
    for W, b, f in zip(weights, biases, fs, strict=True):
        z.append(W @ a[-1] + b)
        a.append(f.f(z[-1]))
    # σ'(z^(l)), from a^(l) = f(z^(l)): for the sigmoid the textbook σ(z)(1 − σ(z)).
    sigma_prime = [f.prime_of(a_l) for f, a_l in zip(fs, a[1:], strict=True)]
    # BP1: the output error δ^(L) = ∇_a C ⊙ σ'(z^(L)) (for softmax, Jᵀ ∇_a C).
    grad_a = loss.gradient(a[L], y, softmax_output)
    delta = [softmax_backward(a[L], grad_a) if softmax_output else grad_a * sigma_prime[L - 1]]
    # BP2: the error of each earlier layer, δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l)).
    for l in range(L - 1, 0, -1):
        delta.insert(0, (weights[l].T @ delta[0]) * sigma_prime[l - 1])
    # BP3 and BP4: the gradients, averaged over the m columns of the batch.
    if config.bias:
        db = [np.mean(d, axis=1, keepdims=True) for d in delta]
    else:
        db = [np.zeros_like(b) for b in biases]
    dW = [d @ a_prev.T / m for d, a_prev in zip(delta, a[:-1], strict=True)]
    # The batch cost C = (1/m) Σ_x C_x.
    c = float(np.mean(loss.cost(a[L], y, softmax_output)))
    return Gradients(z, a, sigma_prime, grad_a, delta, dW, db, c)


def check_finite(g: Gradients, iteration: int, source: str) -> None:
    """Stop with a clear message the moment training produces NaN or infinity.

    Checks every ``z``, the loss and every ``δ``, and names the first culprit in the order
    the numbers were computed. ``∂C/∂W`` is not scanned: a non-finite entry of
    ``W − η ∂C/∂W`` makes the whole row of the next iteration's ``z`` non-finite, so it is
    caught one iteration later, and :func:`train` checks the final parameters itself.
    """
    hint = "(training diverged); try a smaller train.learning_rate"
    for l, z in enumerate(g.z, start=1):
        if not np.isfinite(z).all():
            raise BackpropError(
                source, f"iteration {iteration}, layer {l}: z", f"is not finite {hint}"
            )
    L = len(g.z)
    if not np.isfinite(g.loss):
        raise BackpropError(
            source, f"iteration {iteration}, layer {L} (output): loss", f"became {g.loss} {hint}"
        )
    for l in range(L, 0, -1):
        if not np.isfinite(g.delta[l - 1]).all():
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


@dataclass(frozen=True, eq=False)
class Batch:
    """The samples one step trains on: ``x`` is ``(n_0, m)``, ``y`` is ``(n_L, m)``."""

    epoch: int
    """The pass over the data this step belongs to, counted from 1."""
    indices: Indices | None
    """The columns of ``config.x`` the batch holds, in the order of its columns; ``None``
    for the whole data set in its own order (full batch: ``x`` is ``config.x`` itself)."""
    x: Array
    y: Array


def mini_batches(config: Config) -> Iterator[Batch]:
    """The batch of every step ``k = 1..iterations``, in order.

    Without ``batch_size``: the whole data set at every step, step ``k`` being epoch
    ``k``. With ``batch_size = B`` over ``n`` training samples: one generator,
    ``np.random.default_rng(shuffle_seed)``, draws ``order = rng.permutation(n)`` at the
    start of each epoch; the epoch's steps take ``order[0:B]``, ``order[B:2B]``, ... for
    ``n // B`` full batches, and the last ``n mod B`` samples of ``order`` sit that epoch
    out, so every step has exactly ``B`` columns. ``iterations`` counts steps, not
    epochs; a run stops in the middle of an epoch if that is where its count ends.
    """
    if config.batch_size is None:
        for k in range(1, config.iterations + 1):
            yield Batch(k, None, config.x, config.y)
        return
    rng = np.random.default_rng(config.shuffle_seed)
    n, B = config.x.shape[1], config.batch_size
    for k in range(config.iterations):
        epoch, i = divmod(k, n // B)
        if i == 0:
            order = rng.permutation(n)
        indices = order[i * B : (i + 1) * B]
        yield Batch(epoch + 1, indices, config.x[:, indices], config.y[:, indices])


def train(
    config: Config,
    on_step: Callable[[int, Batch, Gradients, Parameters, Parameters], None] | None = None,
    source: str = "config",
) -> Parameters:
    """Gradient descent for ``config.iterations`` steps, one per batch of :func:`mini_batches`.

    ``on_step(k, batch, gradients, before, after)`` sees every step ``k = 1..iterations``
    with its batch and the ``(weights, biases)`` before and after its update; the trace
    recorder (:func:`backprop_core.trace.run`) is one such observer. Returns the final
    parameters.
    """
    weights = list(config.weights)
    biases = list(config.biases)
    eta = config.learning_rate
    # Overflow is reported by check_finite as one clear error, not as NumPy warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for k, batch in enumerate(mini_batches(config), start=1):
            g = backprop(config, weights, biases, batch.x, batch.y)
            check_finite(g, k, source)
            # Gradient descent: p − η ∂C/∂p for every W and b, new arrays (see the module doc).
            new_weights = [W - eta * dW for W, dW in zip(weights, g.dW, strict=True)]
            new_biases = [b - eta * db for b, db in zip(biases, g.db, strict=True)]
            if on_step is not None:
                on_step(k, batch, g, (weights, biases), (new_weights, new_biases))
            weights, biases = new_weights, new_biases
    _check_parameters((weights, biases), config.iterations, source)
    return weights, biases


def accuracy(
    config: Config, weights: Sequence[Array], biases: Sequence[Array], x: Array, y: Array
) -> float:
    """The fraction of samples (columns) whose largest output is their target's class.

    Meant for classification configs (:attr:`Config.is_classification`); ties go to the
    first class, as ``np.argmax`` breaks them.
    """
    a = feedforward(config, weights, biases, x)
    return float(np.mean(np.argmax(a, axis=0) == np.argmax(y, axis=0)))
