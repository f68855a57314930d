"""Activation functions, each with its derivative beside it.

The derivative a scene shows as σ'(z) and the number the engine multiplies by come from
the same entry here (Nielsen pairs ``sigmoid`` with ``sigmoid_prime``; micrograd keeps
``_backward`` next to each op). Every function maps a ``(n, m)`` array of
pre-activations ``z`` (one column per sample) to an array of the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

LEAKY_SLOPE = 0.01


def identity(z: Array) -> Array:
    return z.copy()


def identity_prime(z: Array) -> Array:
    return np.ones_like(z)


def sigmoid(z: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime_of(a: Array) -> Array:
    return a * (1.0 - a)


def sigmoid_prime(z: Array) -> Array:
    return sigmoid_prime_of(sigmoid(z))


def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_prime_of(a: Array) -> Array:
    return 1.0 - a**2


def tanh_prime(z: Array) -> Array:
    return tanh_prime_of(np.tanh(z))


def relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def relu_prime(z: Array) -> Array:
    # The derivative at exactly 0 is taken as 0 (a subgradient), as most libraries do.
    return (z > 0).astype(np.float64)


def leaky_relu(z: Array) -> Array:
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def leaky_relu_prime(z: Array) -> Array:
    return np.where(z > 0, 1.0, LEAKY_SLOPE)


def softmax(z: Array) -> Array:
    # Subtracting the column maximum changes nothing mathematically and avoids overflow.
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax_prime(z: Array) -> Array:
    """The diagonal of the softmax Jacobian, ``a_j (1 - a_j)``.

    Softmax couples its outputs, so its derivative is a full Jacobian
    ``J = diag(a) - a aᵀ`` and BP1 is ``δ = Jᵀ ∇_a C``, not a Hadamard product. The trace
    records this diagonal as ``sigma_prime`` for information only; the engine computes
    ``δ`` with the full Jacobian (see :func:`softmax_backward`), which with cross-entropy is
    exactly ``a − y``.
    """
    return sigmoid_prime_of(softmax(z))  # the same a (1 − a)


def softmax_backward(a: Array, grad_a: Array) -> Array:
    """``Jᵀ ∇_a C`` for each column, with ``J = diag(a) − a aᵀ``: ``a ⊙ (g − aᵀ g)``."""
    return a * (grad_a - np.sum(a * grad_a, axis=0, keepdims=True))


@dataclass(frozen=True)
class Activation:
    """An activation ``f``, its derivative ``f'`` and how both are written on screen."""

    name: str
    f: Callable[[Array], Array]
    prime: Callable[[Array], Array]
    prime_of: Callable[[Array], Array]
    """The same derivative computed from the output ``a = f(z)``, as the textbook writes
    ``σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)`` and ``tanh'(z) = 1 − a²``: the engine has ``a`` at
    hand. ``prime_of(f(z))`` has the same bits as ``prime(z)`` (a test checks it), since the
    ``prime`` of sigmoid, tanh and softmax is their ``prime_of`` applied to ``f(z)``; for
    identity (a constant) and relu and leaky relu (``a > 0`` exactly where ``z > 0``),
    ``prime_of`` is ``prime`` itself."""
    latex: str
    """``f(z)`` in LaTeX, with ``z`` for the argument."""
    prime_latex: str
    """``f'(z)`` in LaTeX, in terms of ``z`` or of ``a = f(z)``."""


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("identity", identity, identity_prime, identity_prime, r"z", r"1"),
        Activation(
            "sigmoid",
            sigmoid,
            sigmoid_prime,
            sigmoid_prime_of,
            r"\frac{1}{1+e^{-z}}",
            r"\sigma(z)\,(1-\sigma(z))",
        ),
        Activation("tanh", tanh, tanh_prime, tanh_prime_of, r"\tanh z", r"1-\tanh^2 z"),
        Activation("relu", relu, relu_prime, relu_prime, r"\max(0, z)", r"[z>0]"),
        Activation(
            "leaky_relu",
            leaky_relu,
            leaky_relu_prime,
            leaky_relu_prime,
            rf"\max({LEAKY_SLOPE}z, z)",
            rf"z>0\ ?\ 1 : {LEAKY_SLOPE}",
        ),
        Activation(
            "softmax",
            softmax,
            softmax_prime,
            sigmoid_prime_of,
            r"\frac{e^{z_j}}{\sum_k e^{z_k}}",
            r"a_j(1-a_j)",
        ),
    )
}
