r"""The four equations of backpropagation (BP1–BP4) and the update, in LaTeX.

One source for every place that writes them: each beat of ``scenes/delta.py``, its
summary, ``scenes/chain.py``'s bridge to matrices and the handouts
(:mod:`backprop_lecture.handout`). Pure strings, no manim, so the lecture layer can use
them too.

A layer is an ``int`` (``2`` gives ``W^{(2)}``, and its next layer ``W^{(3)}``) or a
symbol (``"l"`` gives ``W^{(l)}`` and ``W^{(l+1)}``). With ``batch=True`` the matrices of a
batch are written in capitals (``\Delta^{(l)}``, ``A^{(l-1)}``: one column per sample) and
the gradients carry their ``1/m``.

>>> print(bp2(1))
\delta^{(1)} = \big((W^{(2)})^T \delta^{(2)}\big) \odot \sigma'(z^{(1)})
>>> print(bp4("l", batch=True))
\frac{\partial C}{\partial W^{(l)}} = \frac{1}{m}\,\Delta^{(l)} (A^{(l-1)})^T
"""

from __future__ import annotations

from typing import Literal

Layer = int | str
"""A layer number, or a symbol such as ``"l"`` or ``"L"``."""

Output = Literal["elementwise", "softmax", "softmax_ce"]
"""How BP1 reads for the output layer: ``∇_a C ⊙ σ'(z)`` for an activation applied entry
by entry, ``Jᵀ ∇_a C`` for softmax, ``a − y`` for softmax with cross-entropy."""

GRAD_A = r"\nabla_a C"
"""The gradient of the cost with respect to the output activations."""

MEAN = r"\frac{1}{m}"
"""The batch mean's factor in BP3 and BP4."""

_BATCH = {"a": "A", "z": "Z", r"\delta": r"\Delta"}


def shifted(l: Layer, by: int) -> str:
    """``l + by`` written as a layer: ``2`` for ``(1, 1)``, ``l+1`` for ``("l", 1)``."""
    if isinstance(l, int):
        return str(l + by)
    return f"{l}{by:+d}" if by else str(l)


def sym(base: str, l: Layer, batch: bool = False, t: bool = False) -> str:
    """``a^{(l)}``, or the batch matrix ``A^{(l)}``; ``t`` transposes it.

    >>> sym("a", 0, batch=True, t=True)
    '(A^{(0)})^T'
    """
    name = _BATCH.get(base, base) if batch else base
    tex = f"{name}^{{({l})}}"
    return f"({tex})^T" if t else tex


def partial(of: str, l: Layer) -> str:
    r"""``\frac{\partial C}{\partial W^{(l)}}`` for ``of = "W"`` (``"b"``, ``"w_{jk}"``)."""
    return rf"\frac{{\partial C}}{{\partial {of}^{{({l})}}}}"


def sigma_prime(l: Layer, batch: bool = False) -> str:
    r"""``\sigma'(z^{(l)})``."""
    return rf"\sigma'({sym('z', l, batch)})"


def bp1_parts(
    L: Layer = "L", output: Output = "elementwise", grad: str = GRAD_A
) -> tuple[str, ...]:
    """BP1 in parts (one per quantity, for colouring); ``"".join`` reads as :func:`bp1`."""
    delta = rf"\delta^{{({L})}}"
    if output == "softmax_ce":
        return delta, " = ", rf"a^{{({L})}} - y"
    if output == "softmax":
        return delta, " = ", "J^T ", grad
    return delta, " = ", grad, r" \odot ", sigma_prime(L)


def bp1(L: Layer = "L", output: Output = "elementwise", grad: str = GRAD_A) -> str:
    """BP1, the output error ``δ^(L)``, for the network's output layer."""
    return "".join(bp1_parts(L, output, grad))


def back_propagated(l: Layer) -> str:
    """``(W^(l+1))ᵀ δ^(l+1)``: the error of layer ``l + 1`` carried back to layer ``l``."""
    nxt = shifted(l, 1)
    return rf"(W^{{({nxt})}})^T \delta^{{({nxt})}}"


def bp2_parts(l: Layer = "l") -> tuple[str, ...]:
    """BP2 in the parts a transform can move one by one (``"".join`` reads as :func:`bp2`)."""
    nxt = shifted(l, 1)
    return (
        rf"\delta^{{({l})}}",
        " = ",
        r"\big(",
        rf"(W^{{({nxt})}})^T",
        rf" \delta^{{({nxt})}}",
        r"\big)",
        r" \odot ",
        sigma_prime(l),
    )


def bp2(l: Layer = "l") -> str:
    """BP2, the error of a hidden layer from the next one's."""
    return "".join(bp2_parts(l))


def bp3_parts(l: Layer = "l", batch: bool = False) -> tuple[str, ...]:
    """BP3 in parts; ``"".join`` reads as :func:`bp3`."""
    rhs = rf"{MEAN}\sum_x \delta^{{({l})}}_x" if batch else rf"\delta^{{({l})}}"
    return partial("b", l), " = ", rhs


def bp3(l: Layer = "l", batch: bool = False) -> str:
    """BP3, the gradient of the biases: ``δ`` itself, or its mean over the samples."""
    return "".join(bp3_parts(l, batch))


def bp4_parts(l: Layer = "l", batch: bool = False) -> tuple[str, ...]:
    """BP4 in parts; ``"".join`` reads as :func:`bp4`."""
    scale = rf"{MEAN}\," if batch else ""
    delta = scale + sym(r"\delta", l, batch)
    return partial("W", l), " = ", delta, " " + sym("a", shifted(l, -1), batch, t=True)


def bp4(l: Layer = "l", batch: bool = False) -> str:
    """BP4, the gradient of the weights: ``δ aᵀ`` (``(1/m) Δ Aᵀ`` for a batch)."""
    return "".join(bp4_parts(l, batch))


def update(q: Literal["W", "b"], l: Layer = "l") -> str:
    """Gradient descent's step for ``W^(l)`` or ``b^(l)``: ``p ← p − η ∂C/∂p``."""
    return rf"{q}^{{({l})}} \leftarrow {q}^{{({l})}} - \eta\,{partial(q, l)}"


def named(label: str, equation: str) -> str:
    r"""``\text{BP1}\quad …``: an equation with its name in front (the summary)."""
    return rf"\text{{{label}}}\quad {equation}"
