"""Each activation's derivative against central differences of the function itself.

The engine multiplies by ``prime_of(a)`` with ``a = f(z)``. Checking it against ``prime``
would hold by construction (each ``prime`` is written as ``prime_of(f(z))``), so these
tests derive the expected numbers from ``f`` alone: ``(f(z + h) − f(z − h)) / 2h``. For
softmax, whose outputs are coupled, the backward product ``Jᵀ g`` is checked against
central differences of ``g · softmax(z)``, and the diagonal ``a_j(1 − a_j)`` the trace
records against central differences of ``softmax_j`` in ``z_j``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_core.activations import ACTIVATIONS, Array, softmax, softmax_backward

H = 1e-5
"""Central-difference step: truncation ~ h² f''' ≈ 1e-10, rounding ~ 1e-16 / h ≈ 1e-11."""
RTOL = 1e-7
ATOL = 1e-9
"""Tighter than a derivative off by 0.1 % (1e-3 relative) by four orders of magnitude."""

ELEMENTWISE = [name for name in ACTIVATIONS if name != "softmax"]

# A grid over the range activations see in training, kept away from relu's kink at 0
# (a central difference across it measures neither one-sided derivative).
Z = np.concatenate([np.linspace(-8.0, -1e-3, 97), np.linspace(1e-3, 8.0, 97)]).reshape(-1, 1)


def central(f: Callable[[Array], Array], z: Array) -> Array:
    """``f'(z)`` from ``f`` alone."""
    return (f(z + H) - f(z - H)) / (2 * H)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_prime_of_matches_central_differences_of_f(name: str) -> None:
    f = ACTIVATIONS[name]
    got = f.prime_of(f.f(Z))
    np.testing.assert_allclose(got, central(f.f, Z), rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=50, deadline=None)
@given(
    z=st.floats(min_value=-20.0, max_value=20.0, allow_nan=False).filter(lambda v: abs(v) > 1e-3)
)
def test_prime_of_matches_central_differences_anywhere(name: str, z: float) -> None:
    f = ACTIVATIONS[name]
    zs = np.array([[z]])
    np.testing.assert_allclose(f.prime_of(f.f(zs)), central(f.f, zs), rtol=RTOL, atol=ATOL)


vectors = st.lists(
    st.floats(min_value=-6.0, max_value=6.0, allow_nan=False), min_size=1, max_size=6
)


@settings(max_examples=60, deadline=None)
@given(z=vectors, seed=st.integers(0, 2**31 - 1))
def test_softmax_backward_matches_central_differences(z: list[float], seed: int) -> None:
    """``Jᵀ g`` is the gradient of ``g · softmax(z)``: checked coordinate by coordinate."""
    zs = np.array(z).reshape(-1, 1)
    g = np.random.default_rng(seed).standard_normal(zs.shape)
    expected = np.empty_like(zs)
    for j in range(zs.shape[0]):
        e = np.zeros_like(zs)
        e[j] = H
        expected[j] = (np.sum(g * softmax(zs + e)) - np.sum(g * softmax(zs - e))) / (2 * H)
    got = softmax_backward(softmax(zs), g)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=ATOL)


@settings(max_examples=60, deadline=None)
@given(z=vectors)
def test_softmax_prime_of_is_the_jacobian_diagonal(z: list[float]) -> None:
    """The ``sigma_prime`` a softmax layer records: ``∂ softmax_j / ∂ z_j``."""
    f = ACTIVATIONS["softmax"]
    zs = np.array(z).reshape(-1, 1)
    expected = np.empty_like(zs)
    for j in range(zs.shape[0]):
        e = np.zeros_like(zs)
        e[j] = H
        expected[j] = (softmax(zs + e)[j] - softmax(zs - e)[j]) / (2 * H)
    np.testing.assert_allclose(f.prime_of(f.f(zs)), expected, rtol=RTOL, atol=ATOL)
