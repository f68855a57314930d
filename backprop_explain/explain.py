"""Named quantities of one step, so every number a scene shows has a provenance.

A scene never computes a number: it asks for an *expression* over the step's arrays, in
the book's notation with 1-based layer numbers, and shows the value. Numbers built from
trace entries also carry their :mod:`~backprop_explain.provenance` (which entries, which
layer, which indices), from which tests recompute them without this module. Names:

===================  ==========================================  =================
name                 meaning                                     shape
===================  ==========================================  =================
``Wl``               ``W^(l)`` before the update                 ``(n_l, n_{l-1})``
``bl``               ``b^(l)`` before the update                 ``(n_l, 1)``
``zl``               ``z^(l)``                                   ``(n_l, m)``
``al``               ``a^(l)``; ``a0`` is the input ``x``        ``(n_l, m)``
``sigma_primel``     ``σ'(z^(l))`` as recorded                   ``(n_l, m)``
``deltal``           ``δ^(l)``                                   ``(n_l, m)``
``dWl``              ``∂C/∂W^(l)``                               ``(n_l, n_{l-1})``
``dbl``              ``∂C/∂b^(l)``                               ``(n_l, 1)``
``W_nextl``          ``W^(l)`` after the update                  ``(n_l, n_{l-1})``
``b_nextl``          ``b^(l)`` after the update                  ``(n_l, 1)``
``y``                the target                                  ``(n_L, m)``
``grad_a``           ``∇_a C_x`` per sample                      ``(n_L, m)``
``loss``             ``C`` before the update; ``loss_after``     scalar
``eta``              the learning rate ``η``; ``m`` batch size   scalar
``iteration``        the step's iteration ``k`` (counted from 1)  scalar
===================  ==========================================  =================

Each name is the trace's own field name (:class:`~backprop_core.trace.LayerRecord`,
:class:`~backprop_core.trace.Step`) followed by the layer number, so one quantity has
one name in the engine, the trace and on screen (``delta1`` is ``δ^(1)``, ``dW1`` is
``∂C/∂W^(1)``).

Expressions are Python arithmetic over these names, e.g. ``"W2[0,1]*a1[1,0]"``.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from backprop_core.trace import Step, Trace

_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Subscript,
    ast.Tuple,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
    ast.Pow,
    ast.Slice,
)


def namespace(trace: Trace, step: Step) -> dict[str, Any]:
    """The names an expression may use for ``step`` (see the module docstring)."""
    ns: dict[str, Any] = {
        "a0": step.input,
        "y": step.target,
        "grad_a": step.grad_a,
        "loss": step.loss,
        "loss_after": step.loss_after,
        "eta": trace.config.learning_rate,
        "m": step.input.shape[1],
        "iteration": step.iteration,
    }
    for l, r in enumerate(step.layers, start=1):
        ns.update(
            {
                f"W{l}": r.W,
                f"b{l}": r.b,
                f"z{l}": r.z,
                f"a{l}": r.a,
                f"sigma_prime{l}": r.sigma_prime,
                f"delta{l}": r.delta,
                f"dW{l}": r.dW,
                f"db{l}": r.db,
                f"W_next{l}": r.W_next,
                f"b_next{l}": r.b_next,
            }
        )
    return ns


def evaluate(
    trace: Trace, step: Step, expression: str, extra: dict[str, Any] | None = None
) -> float:
    """The value of ``expression`` at ``step``; only arithmetic and indexing are allowed.

    ``extra`` adds names (values the engine derived outside the step).
    """
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"not allowed in a quantity expression: {expression!r}")
    value = eval(
        compile(tree, "<quantity>", "eval"),
        {"__builtins__": {}},
        {**namespace(trace, step), **(extra or {})},
    )
    return float(np.asarray(value).reshape(()))
