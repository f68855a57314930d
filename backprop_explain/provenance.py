"""Where a number on screen comes from, as data: entries of a step and sums of products.

A scene shows two kinds of numbers: entries of a recorded quantity (``W^(2)[0, 1]``) and
values computed from such entries in front of the viewer (a term ``w·a``, the sum of a
row times a column). Each is described here by a :class:`Source` that names the trace's
quantities, layers and indices, not by a formula string. The kit writes the expression
the registry evaluates from the source (:func:`expression`); a test recomputes the value
from the source and the trace's arrays by itself, so a wrong operator, index or factor
in the kit shows up as a number that differs from the trace.

A :class:`LineRecord` says what a whole line on screen claims (``z^(1)[0, 0]`` is row 0 of
``W^(1)`` times column 0 of ``a^(0)``, plus ``b^(1)[0]``), so a test can rebuild the
claim from the trace and compare it with the numbers the line shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Quantity = Literal[
    "W", "b", "z", "a", "sigma_prime", "delta", "dW", "db", "W_next", "b_next", "y", "grad_a"
]  # fmt: skip
"""The trace's names of a layer's arrays (:class:`~backprop_core.trace.LayerRecord`) and
of the step's target ``y`` and output gradient ``grad_a`` (which take no layer number)."""

STEP_QUANTITIES: frozenset[str] = frozenset({"y", "grad_a"})
"""Quantities of the whole step, written without a layer number."""

ScalarName = Literal["eta", "m", "loss", "loss_after", "iteration"]


@dataclass(frozen=True)
class Entry:
    """Entry ``index`` of quantity ``quantity`` of layer ``layer`` (``a`` of layer 0 is the
    input ``x``; ``y`` and ``grad_a`` belong to the output layer)."""

    quantity: Quantity
    layer: int
    index: tuple[int, int]

    @property
    def name(self) -> str:
        """The array's name in :mod:`backprop_explain.explain` (``"W2"``, ``"y"``)."""
        return self.quantity if self.quantity in STEP_QUANTITIES else f"{self.quantity}{self.layer}"


@dataclass(frozen=True)
class Scalar:
    """A scalar of the step or its run: ``eta``, ``m``, ``loss``, ``loss_after``, ..."""

    name: ScalarName


@dataclass(frozen=True)
class Term:
    """A product of factors, negated when ``sign`` is ``-1``."""

    factors: tuple[Source, ...]
    sign: Literal[1, -1] = 1


@dataclass(frozen=True)
class Combination:
    """``(Σ terms) / divisor``: a sum of products, e.g. one entry of a matrix product."""

    terms: tuple[Term, ...]
    divisor: Scalar | None = None


Source = Entry | Scalar | Term | Combination
"""Anything a number on screen can be: an entry, a scalar, or computed from them."""


def product(*factors: Source) -> Term:
    """The term ``factors[0] · factors[1] · …``."""
    return Term(tuple(factors))


def expression(source: Source) -> str:
    """The :mod:`backprop_explain.explain` expression of ``source``.

    >>> expression(product(Entry("W", 2, (0, 1)), Entry("delta", 2, (0, 0))))
    'W2[0,1]*delta2[0,0]'
    """
    if isinstance(source, Entry):
        i, j = source.index
        return f"{source.name}[{i},{j}]"
    if isinstance(source, Scalar):
        return source.name
    if isinstance(source, Term):
        text = "*".join(
            expression(f) if isinstance(f, Entry | Scalar) else f"({expression(f)})"
            for f in source.factors
        )
        return f"-({text})" if source.sign < 0 else text
    sum_text = "+".join(f"({expression(t)})" for t in source.terms)
    return sum_text if source.divisor is None else f"({sum_text})/{source.divisor.name}"


def parse_name(name: str) -> tuple[Quantity, int] | None:
    """``("W", 2)`` for ``"W2"``, ``("y", 0)`` for ``"y"``; ``None`` for other names.

    >>> parse_name("sigma_prime1"), parse_name("grad_a"), parse_name("W_scale")
    (('sigma_prime', 1), ('grad_a', 0), None)
    """
    if name in STEP_QUANTITIES:
        return name, 0  # type: ignore[return-value]
    base = name.rstrip("0123456789")
    if base == name or base not in _LAYER_QUANTITIES:
        return None
    return base, int(name[len(base) :])  # type: ignore[return-value]


def parse_entry(text: str) -> Entry | Scalar | None:
    """The source of a plain expression, ``"W2[0,1]"`` or ``"eta"``; ``None`` otherwise.

    >>> parse_entry("delta1[2,0]"), parse_entry("m"), parse_entry("a0[0,0]*W1[0,0]")
    (Entry(quantity='delta', layer=1, index=(2, 0)), Scalar(name='m'), None)
    """
    if text in _SCALARS:
        return Scalar(text)  # type: ignore[arg-type]
    match = _ENTRY.fullmatch(text)
    if match is None:
        return None
    parsed = parse_name(match[1])
    if parsed is None:
        return None
    return Entry(parsed[0], parsed[1], (int(match[2]), int(match[3])))


_ENTRY = re.compile(r"([A-Za-z_]+\d*)\[(\d+),(\d+)\]")
_SCALARS = frozenset({"eta", "m", "loss", "loss_after", "iteration"})
_LAYER_QUANTITIES = frozenset(
    {"W", "b", "z", "a", "sigma_prime", "delta", "dW", "db", "W_next", "b_next"}
)


LineKind = Literal["row_column", "hadamard", "difference", "outer", "update"]


@dataclass(frozen=True)
class Operand:
    """A matrix of a product: quantity ``quantity`` of layer ``layer``, maybe transposed."""

    quantity: Quantity
    layer: int
    transpose: bool = False

    def entry(self, i: int, j: int) -> Entry:
        """The trace entry at row ``i``, column ``j`` of this (maybe transposed) matrix."""
        return Entry(self.quantity, self.layer, (j, i) if self.transpose else (i, j))


@dataclass
class LineRecord:
    """What a line of numbers on screen claims, for a test to rebuild from the trace.

    ``kind`` and the operands say which computation the line writes out for entry ``at``
    of the result:

    - ``row_column``: ``(left @ right)[at]`` (``+ add[at[0], 0]`` if ``add``), term ``k`` is
      ``left[i, k] · right[k, j]``;
    - ``hadamard`` / ``difference``: ``left[at] · right[at]`` / ``left[at] − right[at]``;
    - ``outer``: ``(left @ rightᵀ)[at] / divisor``, term ``s`` is ``left[i, s] · right[j, s]``
      (``δ aᵀ / m``: a sum over the samples);
    - ``update``: ``left[at] − η · right[at]``.

    ``shown`` are the inner indices written out (the others are elided as ``⋯``);
    ``numbers`` maps each role to the id of the registered number showing it:
    ``("left", k)``, ``("right", k)``, ``("term", k)``, ``("add", 0)``, ``("sum", 0)``,
    ``("eta", 0)``, ``("result", 0)``. ``left_value`` replaces ``left`` by a number shown
    earlier (BP2's ``(Wᵀδ)_k`` times ``σ'``). ``result`` is the trace quantity the line
    ends on, if any; ``divisor`` is the ``m`` the line divides by (1 when it does not).
    """

    kind: LineKind
    at: tuple[int, int]
    left: Operand | None
    right: Operand
    shown: tuple[int, ...] = ()
    add: Operand | None = None
    result: Operand | None = None
    divisor: int = 1
    left_value: int | None = None
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
