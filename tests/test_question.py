"""Logic tests for :mod:`backprop_explain.question` (no rendering)."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from backprop_core import load_preset, run
from backprop_explain.question import (
    EPSILONS,
    chain_factors,
    cost_at,
    last_layer_first_schedule,
    residual_at,
    sensitivities,
    simultaneous_trajectory,
    train_last_layer_first,
    with_activation,
)

A, W, Y = 5.7, -23.1, 50.1
ANALYTIC = 2 * A * (A * W - Y)  # ∂C/∂w = a^(L-1) · 2(a^(L) − y) = −2072.178


def test_sensitivity_ratios_converge_to_the_analytic_derivative() -> None:
    config = load_preset("seed-scalar")
    nudges = sensitivities(config, config.weights, config.biases, layer=1)
    assert [n.epsilon for n in nudges] == list(EPSILONS)
    errors = [abs(n.ratio - ANALYTIC) for n in nudges]
    # Forward differences: the error is ε · ∂²C/∂w² / 2 = ε a² exactly for this quadratic.
    for n, err in zip(nudges, errors, strict=True):
        assert err == pytest.approx(n.epsilon * A**2, rel=1e-6)
    assert all(later < earlier for earlier, later in pairwise(errors))
    assert nudges[-1].ratio == pytest.approx(ANALYTIC, abs=0.04)


def test_nudge_moves_output_by_input_times_epsilon() -> None:
    config = load_preset("seed-scalar")
    for n in sensitivities(config, config.weights, config.biases, layer=1):
        assert n.d_output == pytest.approx(A * n.epsilon)
        assert n.output == pytest.approx(A * (W + n.epsilon))
        assert n.cost == pytest.approx((A * (W + n.epsilon) - Y) ** 2)


def test_sensitivity_agrees_with_the_engine_gradient() -> None:
    trace = run(load_preset("seed-scalar"))
    step = trace.step(1)
    nudges = sensitivities(trace.config, [r.W for r in step.layers], [r.b for r in step.layers], 1)
    assert nudges[-1].ratio == pytest.approx(step.layers[0].dW[0, 0], abs=0.04)


def test_chain_factors_multiply_to_the_engine_gradient() -> None:
    for act in ("identity", "sigmoid"):
        config = with_activation(load_preset("seed-chain"), act)
        f = chain_factors(config)
        product = f.a0 * f.sigma_prime1 * f.w2 * f.sigma_prime2 * f.grad_a
        assert product == pytest.approx(f.product, rel=1e-12)
    identity = chain_factors(load_preset("seed-chain"))
    assert (identity.sigma_prime1, identity.sigma_prime2) == (1.0, 1.0)
    sig = chain_factors(with_activation(load_preset("seed-chain"), "sigmoid"))
    s1 = 1 / (1 + np.exp(-5.7 * 0.5))
    assert sig.sigma_prime1 == pytest.approx(s1 * (1 - s1))
    assert sig.z2 == pytest.approx(0.8 * s1)


def test_chain_factors_need_a_chain() -> None:
    with pytest.raises(ValueError, match="1-1-1"):
        chain_factors(load_preset("seed-scalar"))


def test_schedule_fits_the_last_layer_first() -> None:
    assert last_layer_first_schedule(2, 20) == [2] * 10 + [1] * 10
    assert last_layer_first_schedule(3, 8) == [3, 3, 3, 2, 2, 2, 1, 1]


def test_both_orders_spend_the_same_evaluations_and_differ() -> None:
    config = load_preset("seed-chain")
    simultaneous = simultaneous_trajectory(run(config))
    sequential = train_last_layer_first(config)
    assert len(simultaneous) == len(sequential) == config.iterations + 1
    assert np.allclose(simultaneous.entry(1)[0], sequential.entry(1)[0])
    assert not np.allclose(simultaneous.entry(1), sequential.entry(1))
    # The sequential order moves along one axis at a time: first only w^(L), then only w^(L-1).
    w1, w2 = sequential.entry(1), sequential.entry(2)
    assert np.all(w1[:11] == w1[0]) and np.all(np.diff(w2[:11]) > 0)
    assert np.all(w2[10:] == w2[10]) and np.all(np.diff(w1[10:]) > 0)
    # Gradient descent converges in the same budget; the question's order does not.
    assert simultaneous.costs[-1] < 1e-10 < sequential.costs[-1]


def test_simultaneous_first_step_is_parallel_to_minus_gradient() -> None:
    config = load_preset("seed-chain")
    traj = simultaneous_trajectory(run(config))
    step = np.array([traj.entry(1)[1] - traj.entry(1)[0], traj.entry(2)[1] - traj.entry(2)[0]])
    # An independent gradient: central differences of the cost surface.
    h = 1e-6
    w1, w2 = 0.5, 0.8
    grad = np.array(
        [
            (cost_at(config, w1 + h, w2) - cost_at(config, w1 - h, w2)) / (2 * h),
            (cost_at(config, w1, w2 + h) - cost_at(config, w1, w2 - h)) / (2 * h),
        ]
    )
    cos = step @ -grad / (np.linalg.norm(step) * np.linalg.norm(grad))
    assert cos == pytest.approx(1.0, abs=1e-9)
    assert np.linalg.norm(step) == pytest.approx(config.learning_rate * np.linalg.norm(grad))
    # The sequential first step is along the w^(L) axis only, not along −∇C.
    seq = train_last_layer_first(config)
    seq_step = np.array([seq.entry(1)[1] - 0.5, seq.entry(2)[1] - 0.8])
    assert seq_step[0] == 0.0
    assert seq_step @ -grad / (np.linalg.norm(seq_step) * np.linalg.norm(grad)) < 0.9


def test_simultaneous_trajectory_needs_every_iteration() -> None:
    trace = run(load_preset("seed-chain"), every=5)
    with pytest.raises(ValueError, match="every iteration"):
        simultaneous_trajectory(trace)


def test_cost_surface_of_the_chain() -> None:
    config = load_preset("seed-chain")
    # C = (x w1 w2 − y)², and its valley a^(L) = y is the hyperbola w1 w2 = y / x.
    assert cost_at(config, 0.5, 0.8) == pytest.approx((5.7 * 0.4 - 50.1) ** 2)
    assert residual_at(config, 0.5, 0.8) == pytest.approx(5.7 * 0.4 - 50.1)
    assert residual_at(config, 1.0, 50.1 / 5.7) == pytest.approx(0.0, abs=1e-12)
    assert cost_at(config, 2.0, 50.1 / 5.7 / 2.0) == pytest.approx(0.0, abs=1e-20)
