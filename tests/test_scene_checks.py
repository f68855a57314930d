"""The scene checks fail on a wrong number.

Product lines are built with the kit's builders on real traces, then a fault is planted
(a wrong operator, a dropped transpose, an index off by one, a missing ``1/m``) and the
harness must reject the result: it recomputes every number from the trace's arrays and
rebuilds each line's claim, so a fault that keeps the scene self-consistent still shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from manim import tempconfig
from scene_harness import assert_registry_matches_trace

import backprop_anim.numbers as numbers_module
from backprop_anim.numbers import NumberRegistry
from backprop_anim.products import (
    Factor,
    RowColumnProduct,
    entrywise_line,
    outer_line,
    update_line,
)
from backprop_anim.style import (
    ACTIVATION_COLOR,
    BIAS_COLOR,
    DELTA_COLOR,
    GRADIENT_COLOR,
    INPUT_COLOR,
    SIGMA_PRIME_COLOR,
    WEIGHT_COLOR,
    Z_COLOR,
)
from backprop_core import load_preset, run
from backprop_explain import provenance
from backprop_explain.provenance import Operand


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("checks-media")
    with tempconfig({"media_dir": str(path), "verbosity": "WARNING"}):
        yield path


def registry(preset: str) -> NumberRegistry:
    trace = run(load_preset(preset))
    return NumberRegistry(trace, trace.steps[0], 3)


def forward(numbers: NumberRegistry) -> RowColumnProduct:
    """``z^(1)[0, 0] = W^(1)[0, :] a^(0)[:, 0] + b^(1)[0]``, both lines."""
    return RowColumnProduct(
        numbers,
        Factor("W", 1, WEIGHT_COLOR),
        Factor("a", 0, INPUT_COLOR),
        (0, 0),
        label="z =",
        add=Factor("b", 1, BIAS_COLOR),
        result=Factor("z", 1, Z_COLOR),
        values=True,
    )


def backpropagate(numbers: NumberRegistry, k: int = 0) -> None:
    """BP2 for row ``k`` of layer 1: ``((W^(2))ᵀ δ^(2))_k · σ'_k = δ^(1)_k``."""
    back = RowColumnProduct(
        numbers,
        Factor("W", 2, WEIGHT_COLOR, transpose=True),
        Factor("delta", 2, DELTA_COLOR),
        (k, 0),
        label="(W^T d)_k =",
    )
    entrywise_line(
        numbers, back, Factor("sigma_prime", 1, SIGMA_PRIME_COLOR), (k, 0),
        Factor("delta", 1, DELTA_COLOR),
    )  # fmt: skip


def gradient(numbers: NumberRegistry, divisor: int) -> None:
    """``∂C/∂W^(2)[0, 1] = (1/m) Σ_s δ^(2)[0, s] a^(1)[1, s]``."""
    outer_line(
        numbers, Factor("delta", 2, DELTA_COLOR), Factor("a", 1, ACTIVATION_COLOR), (0, 1),
        Factor("dW", 2, GRADIENT_COLOR), divisor=divisor, label=["g ="],
    )  # fmt: skip


def test_true_lines_pass(media: Path) -> None:
    numbers = registry("delta-demo")
    forward(numbers)
    for k in range(3):
        backpropagate(numbers, k)
    gradient(numbers, divisor=1)
    update_line(
        numbers, Factor("W", 2, WEIGHT_COLOR), Factor("dW", 2, GRADIENT_COLOR), (0, 1),
        Factor("W_next", 2, WEIGHT_COLOR), label=["w:"], eta_decimals=1,
    )  # fmt: skip
    batch = registry("batch-demo")
    gradient(batch, divisor=int(batch.step.input.shape[1]))
    assert assert_registry_matches_trace(numbers) > 20
    assert assert_registry_matches_trace(batch) > 5


def test_a_wrong_operator_in_a_product_is_caught(
    media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # W*a written as W+a: the number shown is the value of the wrong expression.
    monkeypatch.setattr(
        numbers_module, "expression", lambda s: provenance.expression(s).replace("*", "+")
    )
    numbers = registry("delta-demo")
    forward(numbers)
    with pytest.raises(AssertionError, match="registry says"):
        assert_registry_matches_trace(numbers)


def test_a_dropped_transpose_is_caught(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (Wᵀ)[k, j] read as W[k, j]: the line shows entries of W where Wᵀ's belong.
    monkeypatch.setattr(Operand, "entry", lambda self, i, j: provenance.Entry(
        self.quantity, self.layer, (i, j)))  # fmt: skip
    numbers = registry("delta-demo")
    backpropagate(numbers, k=0)
    with pytest.raises(AssertionError, match="left factor"):
        assert_registry_matches_trace(numbers)


def test_an_index_off_by_one_is_caught(media: Path) -> None:
    numbers = registry("delta-demo")
    product = forward(numbers)
    product.record.at = (1, 0)  # the line claims row 1 but shows row 0's numbers
    with pytest.raises(AssertionError):
        assert_registry_matches_trace(numbers)


def test_a_missing_one_over_m_is_caught(media: Path) -> None:
    numbers = registry("batch-demo")
    gradient(numbers, divisor=1)
    with pytest.raises(AssertionError, match="divides by 1"):
        assert_registry_matches_trace(numbers)
