"""The product builders of the public API: one entry of a product, written out from a trace.

Each builder takes the trace's numbers (a :class:`~backprop_anim.numbers.NumberRegistry`,
the scene's ``self.numbers``, or a :class:`~backprop_core.Trace`), the operands by
quantity and layer, and the indices of the entry computed. It *returns* what it built: a
small dataclass whose ``.mobject`` the caller places and whose ``.animations(...)`` the
caller plays, so a lecturer's ``construct()`` stays in charge of the timing. Every number
it writes is a trace entry or a sum of products of trace entries, registered with its
origin in the registry, so a test can recompute it from the trace's arrays.

These are a thin facade over :mod:`backprop_anim.products`, the kit the project's own
scenes use; the names here are the stable ones.

=========================  ===============================================================
:func:`row_times_column`   ``(A B)_{ij} = Σ_k A_ik B_kj`` (+ a bias), e.g. ``z = W a + b``
:func:`hadamard`           ``A_ij · B_ij = C_ij``, e.g. BP1 ``δ = ∇_a C ⊙ σ'(z)`` or BP2
:func:`outer_product`      ``(δ aᵀ / m)_{jk}``, BP4's ``∂C/∂W``
:func:`transpose`          ``W`` and ``Wᵀ``, each entry moving from row ``i`` to column ``i``
:func:`registry`           the numbers of a trace (a preset, a config, a saved trace)
=========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast, get_args

from manim import (
    DOWN,
    LEFT,
    RIGHT,
    Animation,
    Arrow,
    FadeIn,
    MathTex,
    ReplacementTransform,
    TransformFromCopy,
    VGroup,
)

from backprop_anim.flights import Apart
from backprop_anim.mobjects import TraceMatrix
from backprop_anim.numbers import NumberRegistry
from backprop_anim.products import (
    Factor,
    RowColumnProduct,
    Tex,
    TokenLine,
    entrywise_line,
    highlight,
    outer_line,
    transpose_moves,
)
from backprop_anim.style import BODY_SIZE, DEFAULT_DECIMALS, DEFAULT_STYLE, Style
from backprop_core import Trace, load_config, load_preset, load_trace, run
from backprop_explain.provenance import STEP_QUANTITIES, LineRecord, Quantity

__all__ = [
    "Hadamard",
    "OuterProduct",
    "RowColumn",
    "Transpose",
    "hadamard",
    "outer_product",
    "registry",
    "row_times_column",
    "transpose",
]

Numbers = NumberRegistry | Trace
"""What the builders read numbers from: a scene's registry, or a trace (iteration 1)."""


def registry(
    trace: Trace | None = None,
    *,
    preset: str | None = None,
    config_file: str | Path | None = None,
    trace_file: str | Path | None = None,
    iteration: int = 1,
    decimals: int = DEFAULT_DECIMALS,
) -> NumberRegistry:
    """The numbers of one step of a trace, for building mobjects outside a scene.

    A :class:`~backprop_anim.scene.TraceScene` has its own (``self.numbers``); this is
    for a plain manim ``Scene``, a notebook or a test. Give exactly one of ``trace``,
    ``preset``, ``config_file`` (trained now) or ``trace_file``.

    Examples
    --------
    >>> from backprop_anim import registry
    >>> numbers = registry(preset="delta-demo", iteration=1, decimals=2)
    >>> numbers.text("W1[0,1]")
    '-0.40'
    """
    given = [v for v in (trace, preset, config_file, trace_file) if v is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of trace, preset, config_file, trace_file")
    if trace is None:
        if preset is not None:
            trace = run(load_preset(preset), source=f"preset {preset}")
        elif config_file is not None:
            trace = run(load_config(config_file), source=str(config_file))
        else:
            assert trace_file is not None
            trace = load_trace(trace_file)
    return NumberRegistry(trace, trace.step(iteration), decimals)


def _numbers(numbers: Numbers) -> NumberRegistry:
    return numbers if isinstance(numbers, NumberRegistry) else registry(numbers)


QUANTITIES: tuple[str, ...] = get_args(Quantity)
"""The trace's quantity names a builder's operand may be."""


def _factor(quantity: str, layer: int, style: Style, transpose: bool = False) -> Factor:
    if quantity not in QUANTITIES:
        raise ValueError(f"unknown quantity {quantity!r}; one of {', '.join(QUANTITIES)}")
    name = quantity if quantity in STEP_QUANTITIES else f"{quantity}{layer}"
    return Factor(cast(Quantity, quantity), layer, style.color_of(name), transpose)


def _text_colour(line: TokenLine, style: Style, roles: Sequence[tuple[str, int]]) -> None:
    """Operators and computed numbers (terms, sums) in ``style.text``."""
    for mob in line.decor:
        mob.set_color(style.text)
    for role in roles:
        line.get_number(*role).set_color(style.text)


@dataclass
class RowColumn:
    """Entry ``(row, col)`` of a product ``A B`` written out: what :func:`row_times_column`
    returns.

    Attributes
    ----------
    mobject
        The terms line over the values line (a ``VGroup``): place it, then play
        :meth:`animations`.
    product
        The kit's :class:`~backprop_anim.products.RowColumnProduct` (its lines and roles).
    result
        The number the lines end on: the entry of the result quantity, or the sum.
    value
        That number's value, read from the trace.

    Examples
    --------
    >>> from backprop_anim import registry, row_times_column
    >>> p = row_times_column(registry(preset="delta-demo"), "W", 2, "a", 1, row=0)
    >>> p.record.kind, p.record.at, p.product.shown
    ('row_column', (0, 0), [0, 1, 2])
    """

    mobject: VGroup
    product: RowColumnProduct
    result: MathTex
    value: float
    style: Style

    @property
    def record(self) -> LineRecord:
        """What the lines claim, for a test to rebuild from the trace."""
        return self.product.record

    def animations(
        self,
        left: TraceMatrix | None = None,
        right: TraceMatrix | None = None,
        add: TraceMatrix | None = None,
    ) -> list[Animation]:
        """What to play, in order: with the operands' matrices on screen, frame row
        ``row`` of ``left`` and column ``col`` of ``right``, fly each factor out of its
        entry, then turn each pair into its term; without them, the lines fade in."""
        p = self.product
        out: list[Animation] = []
        if left is not None and right is not None:
            i, j = p.at
            row = VGroup(*(left.get_entry(i, k) for k in p.shown if left.has_entry(i, k)))
            col = VGroup(*(right.get_entry(k, j) for k in p.shown if right.has_entry(k, j)))
            out.append(highlight([row, col], self.style.highlight)[1])
            out.append(p.assemble_terms(left, right, add))
        else:
            out.append(FadeIn(p.get_terms_line()))
        if p.values_line is not None:
            out.append(p.assemble_values())
        return out


def row_times_column(
    numbers: Numbers,
    left: str,
    left_layer: int,
    right: str,
    right_layer: int,
    *,
    row: int,
    col: int = 0,
    transpose_left: bool = False,
    add: tuple[str, int] | None = None,
    result: tuple[str, int] | None = None,
    label: str = "",
    values: bool = True,
    style: Style = DEFAULT_STYLE,
    font_size: float = BODY_SIZE,
) -> RowColumn:
    """Entry ``(row, col)`` of ``left @ right`` (``leftᵀ @ right``), term by term.

    Parameters
    ----------
    numbers
        The scene's ``self.numbers`` or a trace.
    left, left_layer, right, right_layer
        The operands by quantity and layer: ``"W", l, "a", l - 1`` for ``W^(l) a^(l-1)``.
    row, col
        The entry computed (``col`` is the sample in a batch).
    transpose_left
        Use ``(left)ᵀ``: BP2's ``(W^(l+1))ᵀ δ^(l+1)``.
    add, result
        A column added (``("b", l)``) and the quantity the values line ends on
        (``("z", l)``); without ``result`` the terms line ends on the sum.
    label
        TeX in front of the terms (``z_0 =``).
    values
        Also write the values line (each term's value, then the result).
    style
        The colours of the operands, the text and the highlight.

    Examples
    --------
    >>> from backprop_anim import registry, row_times_column
    >>> numbers = registry(preset="delta-demo")
    >>> z = row_times_column(numbers, "W", 1, "a", 0, row=0, add=("b", 1), result=("z", 1))
    >>> z.result.get_tex_string(), round(z.value, 3)     # z^(1)[0, 0] = 0.2·1 − 0.4·0.5 + 0.1
    ('0.100', 0.1)
    >>> len(z.animations())                              # terms, then values
    2
    """
    numbers = _numbers(numbers)
    product = RowColumnProduct(
        numbers,
        _factor(left, left_layer, style, transpose_left),
        _factor(right, right_layer, style),
        (row, col),
        label=label,
        add=None if add is None else _factor(*add, style),
        result=None if result is None else _factor(*result, style),
        values=values,
        font_size=font_size,
    )
    lines = [product.get_terms_line()]
    _text_colour(lines[0], style, [r for r in lines[0].roles if r[0] == "sum"])
    if product.values_line is not None:
        lines.append(product.values_line)
        _text_colour(lines[1], style, [r for r in lines[1].roles if r[0] == "term"])
    group = VGroup(*lines).arrange(DOWN, aligned_edge=LEFT, buff=0.3)
    # The entry computed: the result quantity's entry, or (without one) the sum.
    res = product.get_result() if result is not None else lines[0].get_number("sum")
    return RowColumn(group, product, res, numbers.shown[numbers.index_of(res)].value, style)


@dataclass
class Hadamard:
    """``left[at] · right[at] = result[at]``: what :func:`hadamard` returns.

    Attributes
    ----------
    mobject
        The line (a :class:`~backprop_anim.products.TokenLine`).
    result
        The result's number; ``value`` is its value from the trace.

    Examples
    --------
    >>> from backprop_anim import hadamard, registry
    >>> h = hadamard(registry(preset="delta-demo"), "grad_a", 2, "sigma_prime", 2,
    ...              result=("delta", 2), row=1)
    >>> h.record.kind, len(h.mobject.nums)       # left, right, result
    ('hadamard', 3)
    """

    mobject: TokenLine
    result: MathTex
    value: float
    record: LineRecord

    def animations(
        self, left: TraceMatrix | MathTex | None = None, right: TraceMatrix | None = None
    ) -> list[Animation]:
        """Each factor flies out of its entry in ``left``/``right`` (a matrix, or for
        ``left`` the sum of a :class:`RowColumn`) when given; the line fades in otherwise."""
        i, j = self.record.at
        sources = [left.get_entry(i, j) if isinstance(left, TraceMatrix) else left]
        sources.append(right.get_entry(i, j) if right is not None else None)
        flights: list[Animation] = [
            FadeIn(num) if src is None else TransformFromCopy(src, num)
            for num, src in zip(self.mobject.nums[:2], sources, strict=True)
        ]
        return [Apart(*flights), FadeIn(VGroup(*self.mobject.decor, self.result))]


def hadamard(
    numbers: Numbers,
    left: str | RowColumn,
    left_layer: int,
    right: str,
    right_layer: int,
    *,
    result: tuple[str, int],
    row: int,
    col: int = 0,
    style: Style = DEFAULT_STYLE,
    font_size: float = BODY_SIZE,
) -> Hadamard:
    """Entry ``(row, col)`` of an entrywise (Hadamard) product, ``left ⊙ right = result``.

    ``left`` is a quantity of layer ``left_layer``, or a :func:`row_times_column` whose
    sum is the left factor (BP2: ``((W^(l+1))ᵀ δ^(l+1))_k · σ'(z^(l))_k = δ^(l)_k``; then
    ``left_layer`` is not used). ``y`` and ``grad_a`` take no layer (any number will do).

    Examples
    --------
    >>> from backprop_anim import hadamard, registry
    >>> numbers = registry(preset="delta-demo")
    >>> bp1 = hadamard(numbers, "grad_a", 2, "sigma_prime", 2, result=("delta", 2), row=0)
    >>> import numpy as np
    >>> L = numbers.step.layers[-1]
    >>> bool(np.isclose(bp1.value, numbers.step.grad_a[0, 0] * L.sigma_prime[0, 0]))
    True
    """
    numbers = _numbers(numbers)
    left_arg: Factor | RowColumnProduct = (
        left.product if isinstance(left, RowColumn) else _factor(left, left_layer, style)
    )
    line = entrywise_line(
        numbers,
        left_arg,
        _factor(right, right_layer, style),
        (row, col),
        _factor(*result, style),
        font_size=font_size,
    )
    _text_colour(line, style, [("left", 0)] if isinstance(left, RowColumn) else [])
    res = line.get_number("result")
    record = numbers.lines[-1]
    return Hadamard(line, res, numbers.shown[numbers.index_of(res)].value, record)


@dataclass
class OuterProduct:
    """``(left rightᵀ / m)[row, col]`` written out: what :func:`outer_product` returns.

    ``mobject`` is the line, ``result`` its last number and ``value`` that number's value;
    ``record.shown`` lists the samples written out.

    Examples
    --------
    >>> from backprop_anim import outer_product, registry
    >>> o = outer_product(registry(preset="batch-demo"), "delta", 1, "a", 0, row=0, col=1)
    >>> o.record.kind, o.record.divisor > 1          # a batch: (1/m) Σ_s
    ('outer', True)
    """

    mobject: TokenLine
    result: MathTex
    value: float
    record: LineRecord

    def animations(
        self, left: TraceMatrix | None = None, right: TraceMatrix | None = None
    ) -> list[Animation]:
        """Each factor ``left_js``, ``right_ks`` flies out of its entry (matrices given),
        or fades in; then the operators and the result appear."""
        j, k = self.record.at
        flights: list[Animation] = []
        for s in self.record.shown:
            for name, matrix, r in (("left", left, j), ("right", right, k)):
                num = self.mobject.get_number(name, s)
                if matrix is not None and matrix.has_entry(r, s):
                    flights.append(TransformFromCopy(matrix.get_entry(r, s), num))
                else:
                    flights.append(FadeIn(num))
        return [Apart(*flights), FadeIn(VGroup(*self.mobject.decor, self.result))]


def outer_product(
    numbers: Numbers,
    left: str,
    left_layer: int,
    right: str,
    right_layer: int,
    *,
    row: int,
    col: int,
    result: tuple[str, int] | None = None,
    label: str | None = None,
    style: Style = DEFAULT_STYLE,
    font_size: float = BODY_SIZE,
) -> OuterProduct:
    """Entry ``(row, col)`` of ``left rightᵀ / m``, a sum over the samples.

    BP4: ``outer_product(numbers, "delta", l, "a", l - 1, row=j, col=k)`` writes
    ``∂C/∂w^(l)_jk = (1/m) Σ_s δ^(l)_js a^(l-1)_ks``; ``result`` defaults to ``("dW", l)``
    with ``l = left_layer``, ``m`` is the trace's batch size.

    Examples
    --------
    >>> from backprop_anim import outer_product, registry
    >>> numbers = registry(preset="delta-demo")
    >>> dW = outer_product(numbers, "delta", 2, "a", 1, row=1, col=0)
    >>> step = numbers.step
    >>> round(dW.value, 6) == round(float(step.layers[1].delta[1, 0] * step.layers[0].a[0, 0]), 6)
    True
    """
    numbers = _numbers(numbers)
    result = ("dW", left_layer) if result is None else result
    left_factor = _factor(left, left_layer, style)
    m = int(numbers.value_array(left_factor.operand.entry(0, 0).name).shape[1])
    symbol = rf"\partial w^{{({left_layer})}}_{{{row}{col}}}"
    tex = label if label is not None else rf"\frac{{\partial C}}{{{symbol}}} ="
    line = outer_line(
        numbers,
        left_factor,
        _factor(right, right_layer, style),
        (row, col),
        _factor(*result, style),
        divisor=m,
        label=[Tex(tex, style.color_of(f"{result[0]}{result[1]}"))],
        font_size=font_size,
    )
    _text_colour(line, style, [])
    res = line.get_number("result")
    return OuterProduct(line, res, numbers.shown[numbers.index_of(res)].value, numbers.lines[-1])


@dataclass
class Transpose:
    """A matrix and its transpose side by side: what :func:`transpose` returns.

    Attributes
    ----------
    original, transposed
        The two :class:`TraceMatrix` (``transposed.get_entry(j, i)`` shows
        ``original.get_entry(i, j)``'s number).
    mobject
        ``original``, an arrow and ``transposed`` in a row; place it, then play
        :meth:`animations`.
    moves
        ``((i, j), (j, i))`` for each entry shown in both.

    Examples
    --------
    >>> from backprop_anim import registry, transpose
    >>> t = transpose(registry(preset="delta-demo"), "W", 1)
    >>> t.moves[:2]
    [((0, 0), (0, 0)), ((0, 1), (1, 0))]
    """

    original: TraceMatrix
    transposed: TraceMatrix
    arrow: Arrow
    mobject: VGroup
    moves: list[tuple[tuple[int, int], tuple[int, int]]]

    def animations(self) -> list[Animation]:
        """Brackets appear, then each entry flies from row ``i`` of the original to
        column ``i`` of the transpose (entries shown only in the transpose fade in)."""
        landed = {id(self.transposed.get_entry(*b)) for _, b in self.moves}
        return [
            FadeIn(self.arrow),
            TransformFromCopy(self.original.get_brackets(), self.transposed.get_brackets()),
            Apart(
                *(
                    TransformFromCopy(self.original.get_entry(*a), self.transposed.get_entry(*b))
                    for a, b in self.moves
                )
            ),
            *(FadeIn(e) for e in self.transposed.get_entries() if id(e) not in landed),
        ]

    def into_place(self) -> list[Animation]:
        """The original itself turning into its transpose (no copy left behind)."""
        return [
            Apart(
                *(
                    ReplacementTransform(self.original.get_entry(*a), self.transposed.get_entry(*b))
                    for a, b in self.moves
                )
            )
        ]


def transpose(
    numbers: Numbers,
    quantity: str,
    layer: int,
    *,
    style: Style = DEFAULT_STYLE,
) -> Transpose:
    """``quantity^(layer)`` and its transpose, with the moves of each entry.

    Examples
    --------
    >>> from backprop_anim import registry, transpose
    >>> t = transpose(registry(preset="delta-demo"), "W", 2)
    >>> t.original.true_shape, t.transposed.true_shape
    ((2, 3), (3, 2))
    >>> t.transposed.get_entry(1, 0).get_tex_string() == t.original.get_entry(0, 1).get_tex_string()
    True
    """
    numbers = _numbers(numbers)
    name = quantity if quantity in STEP_QUANTITIES else f"{quantity}{layer}"
    original = TraceMatrix(numbers, name, style=style)
    transposed = TraceMatrix(numbers, name, style=style, transpose=True)
    arrow = Arrow(LEFT, RIGHT, color=style.text)
    group = VGroup(original, arrow, transposed).arrange(RIGHT, buff=0.4)
    moves = transpose_moves(
        original.row_indices, original.col_indices, transposed.row_indices, transposed.col_indices
    )
    return Transpose(original, transposed, arrow, group, moves)
