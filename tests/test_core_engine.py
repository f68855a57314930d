"""Tier 1: the engine computes the right numbers.

- The original question's table (its own MATLAB output) to 5 significant digits.
- Backprop against an independent oracle (central finite differences of the cost) for
  every activation × loss pair the config validation allows, over random shapes, batch
  sizes, seeds, with and without biases (hypothesis).
- The four equations BP1–BP4 and the update rule hold between the recorded arrays.
- ``--every N`` keeps iteration 1, the multiples of N and the last.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, reject, settings
from hypothesis import strategies as st

from backprop_core.activations import ACTIVATIONS
from backprop_core.config import Config, load_preset, parse_config, preset_names
from backprop_core.errors import BackpropError
from backprop_core.gradcheck import check, numerical_gradients
from backprop_core.losses import LOSSES
from backprop_core.trace import Trace, recorded_iterations, run

# --- the original question -------------------------------------------------------------

# The question's weights after iterations 1..20 (W_next of each step), as its MATLAB
# program printed them: 5 significant digits.
QUESTION_WEIGHTS = [
    -8.5948,
    -0.68736,
    3.6233,
    5.9732,
    7.2542,
    7.9525,
    8.3332,
    8.5408,
    8.6539,
    8.7156,
    8.7492,
    8.7675,
    8.7775,
    8.7829,
    8.7859,
    8.7875,
    8.7884,
    8.7889,
    8.7892,
    8.7893,
]
QUESTION_OUTPUT = 50.099
"""``a · w`` after the 20th update, 5.7 × 8.7893..., to 3 decimals."""


def significant(x: float, digits: int = 5) -> float:
    """``x`` rounded to ``digits`` significant digits, as MATLAB's ``format short g``."""
    return float(f"{x:.{digits}g}")


def test_seed_scalar_reproduces_the_question_table() -> None:
    trace = run(load_preset("seed-scalar"))
    assert [s.iteration for s in trace.steps] == list(range(1, 21))
    weights = [significant(s.layers[0].W_next[0, 0]) for s in trace.steps]
    assert weights == QUESTION_WEIGHTS
    final = trace.steps[-1]
    assert round(5.7 * final.layers[0].W_next[0, 0], 3) == QUESTION_OUTPUT
    # loss_after is the cost (a w − y)² at the final w: the output is 50.099, y is 50.1.
    w = final.layers[0].W_next[0, 0]
    assert final.loss_after == pytest.approx((5.7 * w - 50.1) ** 2, rel=1e-9)
    assert final.loss_after < 1e-6


def test_seed_scalar_first_step_by_hand() -> None:
    """Iteration 1 written out: a = x w, C = (a − y)², ∂C/∂w = 2 (a − y) x."""
    step = run(load_preset("seed-scalar")).steps[0]
    (layer,) = step.layers
    a = 5.7 * -23.1
    assert layer.z[0, 0] == pytest.approx(a)
    assert layer.a[0, 0] == pytest.approx(a)
    assert step.loss == pytest.approx((a - 50.1) ** 2)
    assert layer.dW[0, 0] == pytest.approx(2 * (a - 50.1) * 5.7)
    assert layer.W_next[0, 0] == pytest.approx(-23.1 - 0.007 * 2 * (a - 50.1) * 5.7)
    # No bias in the question: b, db and b_next are zeros.
    assert layer.b.tolist() == layer.db.tolist() == layer.b_next.tolist() == [[0.0]]


# --- random networks -------------------------------------------------------------------

HIDDEN = [name for name in ACTIVATIONS if name != "softmax"]
"""Softmax is only allowed on the output layer."""


def allowed_pairs() -> list[tuple[str, str]]:
    """(output activation, loss) pairs the config validation accepts."""
    pairs = []
    for output in ACTIVATIONS:
        for loss in LOSSES:
            if output == "softmax" and loss != "cross_entropy":
                continue
            if loss == "cross_entropy" and output not in ("sigmoid", "softmax"):
                continue
            pairs.append((output, loss))
    return pairs


PAIRS = allowed_pairs()


def test_allowed_pairs_are_exactly_what_validation_accepts() -> None:
    """The strategy below covers every combination validation allows, and no other."""
    for output in ACTIVATIONS:
        for loss in LOSSES:
            doc = config_doc([2, 2], [output], loss, True, 0, 1, iterations=1)
            try:
                parse_config(doc, source="test")
                accepted = True
            except BackpropError:
                accepted = False
            assert accepted == ((output, loss) in PAIRS), (output, loss)
    assert len(PAIRS) == 5 * 3 + 2  # 5 outputs × 3 quadratic losses, plus 2 cross-entropy


def config_doc(
    sizes: list[int],
    activations: list[str],
    loss: str,
    bias: bool,
    seed: int,
    m: int,
    iterations: int = 2,
    learning_rate: float = 0.1,
) -> dict[str, Any]:
    """A config as parsed TOML, with random data suited to the loss."""
    rng = np.random.default_rng(seed + 1000)
    x = rng.standard_normal((m, sizes[0]))
    n_out = sizes[-1]
    if activations[-1] == "softmax":
        y = np.eye(n_out)[rng.integers(0, n_out, m)]
    elif loss == "cross_entropy":
        y = rng.uniform(0, 1, (m, n_out))
    else:
        y = rng.standard_normal((m, n_out))
    return {
        "network": {"sizes": sizes, "activations": activations, "loss": loss, "bias": bias},
        "init": {"seed": seed},
        "data": {"x": x.tolist(), "y": y.tolist()},
        "train": {"learning_rate": learning_rate, "iterations": iterations},
    }


@st.composite
def random_configs(
    draw: st.DrawFn,
    iterations: int = 2,
    pair: tuple[str, str] | None = None,
    hidden_activation: str | None = None,
) -> Config:
    """A valid random config: 1–4 weight layers of width 1–5, a batch of 1–4, any seed.

    ``pair`` fixes the (output activation, loss); ``hidden_activation`` fixes every hidden
    layer's activation (and then there is at least one hidden layer).
    """
    L = draw(st.integers(1 if hidden_activation is None else 2, 4), label="weight layers")
    sizes = draw(st.lists(st.integers(1, 5), min_size=L + 1, max_size=L + 1), label="sizes")
    output, loss = pair or draw(st.sampled_from(PAIRS), label="output, loss")
    if hidden_activation is None:
        hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=L - 1, max_size=L - 1))
    else:
        hidden = [hidden_activation] * (L - 1)
    bias = draw(st.booleans(), label="bias")
    seed = draw(st.integers(0, 2**31 - 1), label="seed")
    m = draw(st.integers(1, 4), label="batch")
    doc = config_doc(sizes, [*hidden, output], loss, bias, seed, m, iterations=iterations)
    return parse_config(doc, source="hypothesis")


# Central differences: truncation error ~ ε² f''' ≈ 1e-12 and rounding ~ 1e-16 |C| / ε ≈
# 1e-9 for the costs here, so |analytic − numeric| ≤ ATOL + RTOL·|numeric| is explicit
# and still three orders of magnitude tighter than a wrong factor of 2 or a missing σ'.
ATOL = 1e-7
RTOL = 1e-5
KINK = 1e-4
"""Examples whose relu/leaky_relu inputs come this close to 0 are skipped: a central
difference across the kink measures neither one-sided derivative."""


def away_from_kinks(config: Config, trace: Trace) -> bool:
    for step in trace.steps:
        for name, layer in zip(config.activations, step.layers, strict=True):
            if name in ("relu", "leaky_relu") and np.min(np.abs(layer.z)) < KINK:
                return False
    return True


SATURATION = 1e-4
"""Examples whose sigmoid or softmax outputs come this close to 0 or 1 under a log loss are
skipped: the cost then takes ``log(1 − a)`` of a number known to ~1e-16 absolutely, and
its central difference is off by ~1e-16 / (1 − a) / ε ≈ 1e-6, the oracle's own error
rather than the engine's (found by hypothesis: 1 − a = 3e-5, differences of 5e-6)."""


def unsaturated(config: Config, trace: Trace) -> bool:
    if config.loss != "cross_entropy":
        return True
    for step in trace.steps:
        a = step.layers[-1].a
        if np.min(np.minimum(a, 1 - a)) < SATURATION:
            return False
    return True


def run_or_reject(config: Config) -> Trace:
    """Record every iteration; a random network whose training diverges (a valid outcome,
    with its own tests in test_core_config.py) is not an example for these properties."""
    try:
        return run(config, every=1)
    except BackpropError:
        reject()


def assert_gradients_match_finite_differences(config: Config) -> None:
    """The trace's dW and db at iterations 1 and 2 against central differences."""
    trace = run_or_reject(config)
    assume(away_from_kinks(config, trace) and unsaturated(config, trace))
    for step in trace.steps:  # iterations 1 and 2: after one update too
        weights = [r.W for r in step.layers]
        biases = [r.b for r in step.layers]
        nws, nbs = numerical_gradients(config, weights, biases)
        for l, (r, nw, nb) in enumerate(zip(step.layers, nws, nbs, strict=True), start=1):
            np.testing.assert_allclose(
                r.dW, nw, rtol=RTOL, atol=ATOL, err_msg=f"dW^({l}) at iteration {step.iteration}"
            )
            if config.bias:
                np.testing.assert_allclose(
                    r.db, nb, rtol=RTOL, atol=ATOL, err_msg=f"db^({l}) at {step.iteration}"
                )
            else:
                assert not r.b.any() and not r.db.any() and not r.b_next.any()


GRADCHECK = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize(("output", "loss"), PAIRS)
@GRADCHECK
@given(data=st.data())
def test_backprop_agrees_with_finite_differences(output: str, loss: str, data: Any) -> None:
    """Every (output activation, loss) pair validation allows; random hidden layers."""
    config = data.draw(random_configs(pair=(output, loss)), label="config")
    assert_gradients_match_finite_differences(config)


@pytest.mark.parametrize("hidden", HIDDEN)
@GRADCHECK
@given(data=st.data())
def test_hidden_activations_agree_with_finite_differences(hidden: str, data: Any) -> None:
    """Every activation in the hidden layers (BP2 multiplies by its σ')."""
    config = data.draw(random_configs(hidden_activation=hidden), label="config")
    assert_gradients_match_finite_differences(config)


@pytest.mark.parametrize("name", preset_names())
def test_presets_pass_the_gradient_check(name: str) -> None:
    result = check(load_preset(name))
    assert result.ok, result
    assert result.count > 0


# --- BP1–BP4 in the recorded trace ------------------------------------------------------

EXACT = {"rtol": 1e-12, "atol": 1e-14}
"""The relations recompute with the same operations, so they hold to rounding."""


def assert_bp_relations(trace: Trace) -> None:
    """Every recorded step obeys BP1–BP4, the update rule and the loss bookkeeping."""
    c = trace.config
    fs = [ACTIVATIONS[name] for name in c.activations]
    loss = LOSSES[c.loss]
    softmax = c.activations[-1] == "softmax"
    for step in trace.steps:
        m = step.input.shape[1]
        layers = step.layers
        # The step's batch: the whole data set, or the columns its ``batch`` names.
        x, y = (c.x, c.y) if step.batch is None else (c.x[:, step.batch], c.y[:, step.batch])
        assert np.array_equal(step.target, y) and np.array_equal(step.input, x)
        # Forward pass: z = W a + b, a = f(z), σ' = f'(z).
        a_prev = step.input
        for r, f in zip(layers, fs, strict=True):
            np.testing.assert_allclose(r.z, r.W @ a_prev + r.b, **EXACT)
            np.testing.assert_allclose(r.a, f.f(r.z), **EXACT)
            np.testing.assert_allclose(r.sigma_prime, f.prime(r.z), **EXACT)
            a_prev = r.a
        out = layers[-1]
        assert step.loss == float(np.mean(loss.cost(out.a, y, softmax)))  # same bits
        np.testing.assert_allclose(step.grad_a, loss.gradient(out.a, y, softmax), **EXACT)
        # BP1: δ^L = ∇_a C ⊙ σ'(z^L), except softmax + cross-entropy where δ^L = a − y.
        if softmax:
            np.testing.assert_allclose(out.delta, out.a - y, rtol=1e-9, atol=1e-12)
        else:
            np.testing.assert_allclose(out.delta, step.grad_a * out.sigma_prime, **EXACT)
        # BP2: δ^l = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^l).
        for lower, upper in pairwise(layers):
            np.testing.assert_allclose(
                lower.delta, (upper.W.T @ upper.delta) * lower.sigma_prime, **EXACT
            )
        a_prevs = [step.input, *(r.a for r in layers[:-1])]
        for r, a_prev in zip(layers, a_prevs, strict=True):
            # BP3: ∂C/∂b = mean over the batch of δ (zeros without biases).
            if c.bias:
                np.testing.assert_allclose(r.db, r.delta.mean(axis=1, keepdims=True), **EXACT)
            else:
                assert not r.db.any() and not r.b.any() and not r.b_next.any()
            # BP4: ∂C/∂W = δ (a^(l-1))ᵀ / m.
            np.testing.assert_allclose(r.dW, r.delta @ a_prev.T / m, **EXACT)
            # Plain gradient descent.
            np.testing.assert_allclose(r.W_next, r.W - c.learning_rate * r.dW, **EXACT)
            np.testing.assert_allclose(r.b_next, r.b - c.learning_rate * r.db, **EXACT)
        # The loss of every iteration is kept, recorded or not.
        assert trace.losses[step.iteration - 1] == step.loss
        if step.iteration < c.iterations and step.batch is None:
            assert trace.losses[step.iteration] == step.loss_after
        # loss_after: the same batch's cost at the updated parameters.
        a_out = step.input
        for r, f in zip(layers, fs, strict=True):
            a_out = f.f(r.W_next @ a_out + r.b_next)
        after = float(np.mean(loss.cost(a_out, y, softmax)))
        np.testing.assert_allclose(step.loss_after, after, rtol=1e-12, atol=1e-15)
    # Consecutive recorded iterations chain: W_next of k is W of k+1 (and, on the same
    # batch, loss_after of k is the loss of k+1).
    for s, t in pairwise(trace.steps):
        if t.iteration == s.iteration + 1:
            assert s.loss_after == t.loss or s.batch is not None
            for r, q in zip(s.layers, t.layers, strict=True):
                assert np.array_equal(r.W_next, q.W) and np.array_equal(r.b_next, q.b)
    for r, W0, b0 in zip(trace.steps[0].layers, c.weights, c.biases, strict=True):
        if trace.steps[0].iteration == 1:
            assert np.array_equal(r.W, W0) and np.array_equal(r.b, b0)


def short(config: Config, iterations: int = 30) -> Config:
    """A preset with fewer iterations, so big data sets stay fast to check."""
    return replace(config, iterations=min(config.iterations, iterations))


@pytest.mark.parametrize("name", preset_names())
def test_presets_obey_bp1_to_bp4(name: str) -> None:
    assert_bp_relations(run(short(load_preset(name)), every=1))


@settings(max_examples=40, deadline=None)
@given(config=random_configs(iterations=5))
def test_random_networks_obey_bp1_to_bp4(config: Config) -> None:
    assert_bp_relations(run_or_reject(config))


def test_softmax_sigma_prime_is_the_jacobian_diagonal() -> None:
    """The trace's σ' for softmax is a(1 − a), for information; δ used the full Jacobian."""
    doc = config_doc([3, 4, 3], ["tanh", "softmax"], "cross_entropy", True, 5, 3)
    trace = run(parse_config(doc, source="test"))
    out = trace.steps[0].layers[-1]
    np.testing.assert_allclose(out.sigma_prime, out.a * (1 - out.a), **EXACT)
    np.testing.assert_allclose(out.delta, out.a - trace.config.y, atol=1e-12)
    assert not np.allclose(out.delta, trace.steps[0].grad_a * out.sigma_prime)


def test_first_step_starts_from_the_config() -> None:
    config = load_preset("delta-demo")
    first = run(config).steps[0]
    for r, W, b in zip(first.layers, config.weights, config.biases, strict=True):
        assert np.array_equal(r.W, W) and np.array_equal(r.b, b)


def test_the_cost_falls_on_every_preset() -> None:
    for name in preset_names():
        trace = run(short(load_preset(name), 200))
        assert trace.steps[-1].loss_after < trace.steps[0].loss, name


# --- recording every N-th iteration -----------------------------------------------------


@given(iterations=st.integers(1, 60), every=st.integers(1, 15))
def test_recorded_iterations(iterations: int, every: int) -> None:
    kept = recorded_iterations(iterations, every)
    expected = sorted({1, iterations} | {k for k in range(1, iterations + 1) if k % every == 0})
    assert kept == expected


@pytest.mark.parametrize(("iterations", "every"), [(1, 1), (1, 5), (10, 3), (12, 4), (7, 50)])
def test_run_every_n(iterations: int, every: int) -> None:
    config = replace(load_preset("delta-demo"), iterations=iterations)
    trace = run(config, every=every)
    assert [s.iteration for s in trace.steps] == recorded_iterations(iterations, every)
    assert trace.config.every == every
    assert len(trace.losses) == iterations
    full = run(config, every=1)
    for s in trace.steps:
        assert s == full.step(s.iteration)  # skipping iterations changes no number
    assert_bp_relations(trace)


def test_config_every_is_the_default() -> None:
    config = load_preset("xor")
    assert config.every == 10
    trace = run(short(config, 25))
    assert [s.iteration for s in trace.steps] == [1, 10, 20, 25]


def test_step_lookup_names_what_was_recorded() -> None:
    trace = run(replace(load_preset("delta-demo"), iterations=30), every=10)
    assert trace.step(20).iteration == 20
    with pytest.raises(KeyError, match=r"iteration 3 is not recorded; recorded: 1, 10, 20, 30"):
        trace.step(3)


def test_runs_are_deterministic() -> None:
    for name in preset_names():
        config = short(load_preset(name), 10)
        assert run(config) == run(config)


def test_recording_shares_arrays_instead_of_copying() -> None:
    """A recorded W_next is the next iteration's W itself: a trace costs references."""
    trace = run(load_preset("delta-demo"), every=1)
    for s, t in pairwise(trace.steps):
        for r, q in zip(s.layers, t.layers, strict=True):
            assert r.W_next is q.W


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(ACTIVATIONS)),
    z=st.lists(
        st.floats(allow_nan=False, allow_infinity=False, min_value=-800, max_value=800)
        | st.sampled_from([0.0, -0.0, 1e-320, -1e-320, 5e-324, 36.7, -36.7, 710.0]),
        min_size=1,
        max_size=12,
    ),
)
def test_derivative_from_the_output_has_the_same_bits_as_from_z(name: str, z: list[float]) -> None:
    """The engine takes σ' from a = f(z) (``prime_of``); the trace must still hold f'(z)."""
    f = ACTIVATIONS[name]
    zs = np.array(z, dtype=np.float64).reshape(-1, 1)
    with np.errstate(over="ignore", under="ignore"):
        expected = f.prime(zs)
        got = f.prime_of(f.f(zs))
    assert expected.tobytes() == got.tobytes()
