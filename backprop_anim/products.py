"""Matrix products done in front of the viewer: row × column, Hadamard, outer product.

Two layers, as in Manim's own ``Table``:

- pure logic (no rendering): which terms of a sum are written out, in which order the
  factors light up, which entries of ``W`` land where in ``Wᵀ``, how the outer-product
  grid is laid out. Tests check these without manim rendering anything;
- :class:`TokenLine`, a line like ``0.200·1.000 + (−0.400)·0.500 + 0.100`` whose every
  number is registered from a trace expression, and small helpers that *return*
  animations (only a scene's beats play them);
- the product builders, which take the registry, the operands (a quantity, its layer,
  maybe transposed) and the indices of the entry computed, and return the line with its
  mobjects and animations: :class:`RowColumnProduct` (``(A B)_{ij} = Σ_k A_ik B_kj``),
  :func:`entrywise_line` (Hadamard ``⊙`` or a difference), :func:`outer_line`
  (``(δ aᵀ / m)_{jk}``, a sum over the samples) and :func:`update_line` (``w − η ∂C/∂w``).
  Every number they write comes from a trace entry they name, and each line leaves a
  :class:`~backprop_explain.provenance.LineRecord` of what it claims in the registry, so
  a test can rebuild the claim from the trace alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from manim import (
    RIGHT,
    AnimationGroup,
    Create,
    FadeIn,
    ManimColor,
    MathTex,
    Mobject,
    SurroundingRectangle,
    TransformFromCopy,
    VGroup,
    VMobject,
)

from backprop_anim.flights import Apart
from backprop_anim.mobjects import TraceMatrix
from backprop_anim.numbers import NumberRegistry
from backprop_anim.style import BODY_SIZE, HIGHLIGHT_COLOR, MAX_BATCH, MAX_COLS, TEXT_COLOR
from backprop_explain.elide import Index, visible_indices
from backprop_explain.provenance import (
    Combination,
    Entry,
    LineRecord,
    Operand,
    Quantity,
    Scalar,
    Source,
    product,
)

Cell = tuple[int, int]


# ---------------------------------------------------------------------------------------
# Pure logic
# ---------------------------------------------------------------------------------------


def sum_terms(n: int, limit: int = MAX_COLS) -> list[Index]:
    """The terms ``k`` of a sum over ``n`` written out: all, or first ones, ``⋯``, last.

    The same rule as the matrices' columns, so the highlighted row shows exactly the
    entries that appear in the sum.
    """
    return visible_indices(n, limit)


def row_column_pairs(
    j: int, s: int, n_inner: int, limit: int = MAX_COLS
) -> list[tuple[Cell, Cell] | None]:
    """Factors of entry ``(j, s)`` of a product ``A B``, in the order they light up.

    Each item is ``((j, k), (k, s))``: entry ``(j, k)`` of ``A`` times entry ``(k, s)``
    of ``B``; ``None`` stands for the ``⋯`` of elided terms.

    >>> row_column_pairs(0, 0, 2)
    [((0, 0), (0, 0)), ((0, 1), (1, 0))]
    """
    return [None if k is None else ((j, k), (k, s)) for k in sum_terms(n_inner, limit)]


def dot_expression(
    left: str, right: str, j: int, s: int, n_inner: int, left_t: bool = False
) -> str:
    """The trace expression of entry ``(j, s)`` of ``left @ right`` (``leftᵀ @ right``).

    The full sum over all ``n_inner`` terms, even when the line on screen elides some,
    so the number shown is the true entry.

    >>> dot_expression("W2", "delta2", 0, 0, 2, left_t=True)
    'W2[0,0]*delta2[0,0]+W2[1,0]*delta2[1,0]'
    """
    terms = []
    for k in range(n_inner):
        a = f"{left}[{k},{j}]" if left_t else f"{left}[{j},{k}]"
        terms.append(f"{a}*{right}[{k},{s}]")
    return "+".join(terms)


def transpose_moves(
    rows: Sequence[Index], cols: Sequence[Index], t_rows: Sequence[Index], t_cols: Sequence[Index]
) -> list[tuple[Cell, Cell]]:
    """Entries shown both in ``W`` (``rows × cols``) and in ``Wᵀ``: ``((i, j), (j, i))``.

    These move on screen from row ``i`` to column ``i``; the others fade.
    """
    t_shown = {(a, b) for a in t_rows if a is not None for b in t_cols if b is not None}
    return [
        ((i, j), (j, i))
        for i in rows
        if i is not None
        for j in cols
        if j is not None and (j, i) in t_shown
    ]


def outer_product_cells(rows: Sequence[Index], cols: Sequence[Index]) -> list[tuple[Cell, Cell]]:
    """Grid of ``δ aᵀ``: each shown cell ``(r, c)`` on screen with its true ``(j, k)``.

    Row ``r`` of the grid lies level with entry ``j`` of ``δ`` and column ``c`` under
    entry ``k`` of ``aᵀ``; ``⋮``/``⋯`` slots have no cell.
    """
    return [
        ((r, c), (j, k))
        for r, j in enumerate(rows)
        if j is not None
        for c, k in enumerate(cols)
        if k is not None
    ]


def hadamard_order(rows: Sequence[Index], s: int = 0) -> list[Cell]:
    """Entries ``(i, s)`` of a Hadamard product done one by one, top to bottom."""
    return [(i, s) for i in rows if i is not None]


def round_trip_decimals(value: float, at_least: int, at_most: int = 8) -> int:
    """Fewest decimals ``≥ at_least`` that write ``value`` exactly (e.g. η = 0.0007)."""
    for d in range(at_least, at_most + 1):
        if abs(round(value, d) - value) <= 1e-12 * max(1.0, abs(value)):
            return d
    return at_most


# ---------------------------------------------------------------------------------------
# Mobjects and animations
# ---------------------------------------------------------------------------------------


Role = tuple[str, int]
"""A number's part in a product line: ``("left", k)``, ``("result", 0)``, ... (see
:class:`~backprop_explain.provenance.LineRecord`)."""


@dataclass(frozen=True)
class Num:
    """A number token of a :class:`TokenLine`: a trace expression (or a
    :mod:`~backprop_explain.provenance` source) and its colour.

    ``wrap`` puts negative values in parentheses (factors of a product); ``role`` names
    the number's part in a product line.
    """

    expression: str = ""
    color: ManimColor = TEXT_COLOR
    wrap: bool = False
    decimals: int | None = None
    source: Source | None = None
    role: Role | None = None


@dataclass(frozen=True)
class Tex:
    """A TeX token in a colour of its own (a symbol such as ``\\delta_j``)."""

    tex: str
    color: ManimColor = TEXT_COLOR


Token = str | Tex | Num | VMobject
"""Operators (TeX), coloured TeX, numbers, or a mobject built by the caller."""


class TokenLine(VGroup):
    """A line of TeX operators and registered numbers, laid out left to right.

    Parameters
    ----------
    numbers
        The scene's registry: every :class:`Num` becomes a registered ``MathTex``.
    tokens
        Operators (TeX strings) and :class:`Num` in reading order.

    Examples
    --------
    ::

        line = TokenLine(numbers, [Num("W1[0,0]", WEIGHT_COLOR, wrap=True), r"\\cdot",
                                   Num("a0[0,0]", INPUT_COLOR, wrap=True)])
        line.nums[0]     # the MathTex of W1[0,0]
    """

    def __init__(
        self,
        numbers: NumberRegistry,
        tokens: Sequence[Token],
        font_size: float = BODY_SIZE,
        buff: float = 0.1,
    ) -> None:
        super().__init__()
        self.nums: list[MathTex] = []
        """The number mobjects, in the order of the tokens."""
        self.decor: list[MathTex] = []
        """Operators and parentheses."""
        self.roles: dict[Role, int] = {}
        """The index in ``numbers.shown`` of each number with a role."""
        self._by_role: dict[Role, MathTex] = {}
        for token in tokens:
            if isinstance(token, VMobject):
                self.add(token)
                continue
            if isinstance(token, str | Tex):
                tex, color = (
                    (token, TEXT_COLOR) if isinstance(token, str) else (token.tex, token.color)
                )
                op = MathTex(tex, font_size=font_size, color=color)
                self.decor.append(op)
                self.add(op)
                continue
            if token.source is not None:
                num = numbers.tex_of(
                    token.source, token.decimals, font_size=font_size, color=token.color
                )
            else:
                num = numbers.tex(
                    token.expression, token.decimals, font_size=font_size, color=token.color
                )
            if token.role is not None:
                self.roles[token.role] = len(numbers.shown) - 1
                self._by_role[token.role] = num
            self.nums.append(num)
            if token.wrap and num.tex_strings[0].startswith("-"):
                left = MathTex("(", font_size=font_size, color=TEXT_COLOR)
                right = MathTex(")", font_size=font_size, color=TEXT_COLOR)
                self.decor += [left, right]
                self.add(VGroup(left, num, right).arrange(RIGHT, buff=0.03))
            else:
                self.add(num)
        self.arrange(RIGHT, buff=buff)

    def get_number(self, role: str, k: int = 0) -> MathTex:
        """The number playing ``role`` (for term ``k``), e.g. ``get_number("result")``."""
        return self._by_role[(role, k)]


def frame_cells(mobs: Sequence[Mobject], color: ManimColor = HIGHLIGHT_COLOR) -> VGroup:
    """Rectangles around ``mobs`` (a row, a column, an entry) for highlighting."""
    return VGroup(*(SurroundingRectangle(m, color=color, buff=0.06) for m in mobs))


def assemble(
    line: TokenLine, sources: Sequence[Mobject | None], lag_ratio: float = 0.15
) -> AnimationGroup:
    """Numbers of ``line`` fly out of copies of ``sources`` (one per number, in order, each
    waiting where it would meet another: :class:`~backprop_anim.flights.Apart`); operators
    fade in. A ``None`` source makes that number fade in."""
    flights = []
    for num, src in zip(line.nums, sources, strict=True):
        flights.append(FadeIn(num) if src is None else TransformFromCopy(src, num))
    return AnimationGroup(Apart(*flights, lag_ratio=lag_ratio), FadeIn(VGroup(*line.decor)))


def highlight(
    mobs: Sequence[Mobject], color: ManimColor = HIGHLIGHT_COLOR
) -> tuple[VGroup, Create]:
    """Rectangles around ``mobs`` and the animation drawing them."""
    rects = frame_cells(mobs, color)
    return rects, Create(rects)


# ---------------------------------------------------------------------------------------
# Product builders: one entry of a product, written out with the trace's numbers
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """An operand of a product on screen: a trace quantity of a layer and its colour.

    Examples
    --------
    ::

        Factor("W", 2, WEIGHT_COLOR, transpose=True)   # (W^(2))ᵀ
        Factor("a", 0, INPUT_COLOR)                    # a^(0) = x
    """

    quantity: Quantity
    layer: int
    color: ManimColor
    transpose: bool = False

    @property
    def operand(self) -> Operand:
        return Operand(self.quantity, self.layer, self.transpose)

    def entry(self, i: int, j: int) -> Entry:
        """The trace entry at row ``i``, column ``j`` of this (maybe transposed) matrix."""
        return self.operand.entry(i, j)


@dataclass
class _Line:
    """Tokens of a line being built, and the roles of its numbers."""

    tokens: list[Token] = field(default_factory=list)

    def num(self, source: Source, color: ManimColor, role: Role, wrap: bool = True) -> None:
        self.tokens.append(Num(color=color, wrap=wrap, source=source, role=role))


def _finish(
    numbers: NumberRegistry,
    record: LineRecord,
    tokens: Sequence[Token],
    font_size: float,
    buff: float,
) -> TokenLine:
    """The line of ``tokens``, its numbers' roles copied into ``record``, recorded."""
    line = TokenLine(numbers, tokens, font_size=font_size, buff=buff)
    record.numbers.update(line.roles)
    if not any(r is record for r in numbers.lines):
        numbers.lines.append(record)
    return line


class RowColumnProduct:
    """Entry ``at = (i, j)`` of ``left @ right`` (``+ add``), written out term by term.

    Two lines, as on a blackboard: :meth:`get_terms_line` writes the factors,
    ``label (A_i0)·(B_0j) + (A_i1)·(B_1j) + ⋯ [+ c_i] [= Σ]``, and, if ``values`` is set,
    :meth:`get_values_line` writes each term's value and the result,
    ``= t_0 + t_1 + ⋯ [+ c_i] = R_ij``. Long sums are elided like the matrices' columns
    (:func:`sum_terms`); the sum and the result are always the full, true entry.

    Parameters
    ----------
    numbers
        The scene's registry; every number is registered with its trace entries.
    left, right
        The operands (e.g. ``W^(l)`` and ``a^(l-1)``, or ``(W^(l+1))ᵀ`` and ``δ^(l+1)``).
    at
        The entry ``(i, j)`` of the product computed.
    label
        TeX in front of the terms (``z^{(1)}_{0} =``).
    add
        A column added to the product (the bias ``b^(l)``), or ``None``.
    result
        The quantity the values line ends on (``z^(l)``); ``None`` ends the terms line
        with the sum instead (``= Σ``), for a value used further on (BP2's ``(Wᵀδ)_k``).
    values
        Write the values line.
    limit
        Elide sums longer than this.

    Examples
    --------
    ::

        z = RowColumnProduct(numbers, Factor("W", 1, WEIGHT_COLOR), Factor("a", 0, INPUT_COLOR),
                             (0, 0), label="z_0 =", add=Factor("b", 1, BIAS_COLOR),
                             result=Factor("z", 1, Z_COLOR), values=True)
        self.play(z.highlight(W, a)[1])
        self.play(z.assemble_terms(W, a, b))
    """

    def __init__(
        self,
        numbers: NumberRegistry,
        left: Factor,
        right: Factor,
        at: tuple[int, int],
        *,
        label: str,
        add: Factor | None = None,
        result: Factor | None = None,
        values: bool = False,
        limit: int = MAX_COLS,
        times: str = r"\cdot",
        font_size: float = BODY_SIZE,
        buff: float = 0.1,
    ) -> None:
        i, j = at
        self.at = at
        self.left, self.right, self.add = left, right, add
        n_inner = int(numbers.value_array(_name(left)).shape[0 if left.transpose else 1])
        n_right = int(numbers.value_array(_name(right)).shape[1 if right.transpose else 0])
        if n_inner != n_right:
            raise ValueError(
                f"{_name(left)}{'ᵀ' if left.transpose else ''} has {n_inner} columns but "
                f"{_name(right)}{'ᵀ' if right.transpose else ''} has {n_right} rows"
            )
        self.inner: list[Index] = sum_terms(n_inner, limit)
        self.shown: list[int] = [k for k in self.inner if k is not None]
        self.record = LineRecord(
            "row_column",
            at,
            left.operand,
            right.operand,
            shown=tuple(self.shown),
            add=None if add is None else add.operand,
            result=None if result is None else result.operand,
        )
        terms = [product(left.entry(i, k), right.entry(k, j)) for k in range(n_inner)]
        if add is not None:
            terms.append(product(add.entry(i, 0)))
        self.total: Source = Combination(tuple(terms))
        """The full sum (every term, with ``add``): what the line adds up to."""

        line = _Line([label])
        self._terms(line, lambda k: None, times)
        if result is None:
            line.tokens.append("=")
            line.num(self.total, TEXT_COLOR, ("sum", 0), wrap=False)
        self.terms_line = _finish(numbers, self.record, line.tokens, font_size, buff)
        self.values_line: TokenLine | None = None
        if values:
            vals = _Line(["="])
            self._terms(vals, lambda k: product(left.entry(i, k), right.entry(k, j)), times)
            if result is not None:
                vals.tokens.append("=")
                vals.num(result.entry(i, j), result.color, ("result", 0), wrap=False)
            self.values_line = _finish(numbers, self.record, vals.tokens, font_size, buff)

    def _terms(self, line: _Line, term_value: Callable[[int], Source | None], times: str) -> None:
        i, j = self.at
        for n, k in enumerate(self.inner):
            if n:
                line.tokens.append("+")
            if k is None:
                line.tokens.append(r"\cdots")
                continue
            value = term_value(k)
            if value is None:
                line.num(self.left.entry(i, k), self.left.color, ("left", k))
                line.tokens.append(times)
                line.num(self.right.entry(k, j), self.right.color, ("right", k))
            else:
                line.num(value, TEXT_COLOR, ("term", k))
        if self.add is not None:
            line.tokens.append("+")
            line.num(self.add.entry(i, 0), self.add.color, ("add", 0))

    def get_terms_line(self) -> TokenLine:
        return self.terms_line

    def get_values_line(self) -> TokenLine:
        assert self.values_line is not None, "built without values"
        return self.values_line

    def get_result(self) -> MathTex:
        """The line's last number: the result (values line) or the sum (terms line)."""
        line = self.values_line if self.values_line is not None else self.terms_line
        return line.nums[-1]

    def highlight(self, left: TraceMatrix, right: TraceMatrix) -> tuple[VGroup, Create]:
        """Rectangles around row ``i`` of ``left`` and column ``j`` of ``right`` (the shown
        terms), and the animation drawing them."""
        i, j = self.at
        row = VGroup(*(left.get_entry(i, k) for k in self.shown if left.has_entry(i, k)))
        col = VGroup(*(right.get_entry(k, j) for k in self.shown if right.has_entry(k, j)))
        return highlight([row, col])

    def assemble_terms(
        self, left: TraceMatrix, right: TraceMatrix, add: TraceMatrix | None = None
    ) -> AnimationGroup:
        """The terms line: each factor flies out of its matrix entry."""
        i, j = self.at
        sources: list[Mobject | None] = []
        for k in self.shown:
            sources.append(left.get_entry(i, k) if left.has_entry(i, k) else None)
            sources.append(right.get_entry(k, j) if right.has_entry(k, j) else None)
        if self.add is not None:
            sources.append(add.get_entry(i, 0) if add is not None else None)
        if len(sources) < len(self.terms_line.nums):
            sources.append(None)  # the sum
        return assemble(self.terms_line, sources)

    def assemble_values(self) -> AnimationGroup:
        """The values line: each pair of factors turns into its term, the sum appears."""
        nums = self.terms_line.nums
        sources: list[Mobject | None] = [
            VGroup(*nums[2 * n : 2 * n + 2]) for n in range(len(self.shown))
        ]
        if self.add is not None:
            sources.append(nums[2 * len(self.shown)])
        sources.append(None)
        return assemble(self.get_values_line(), sources)


def _name(f: Factor) -> str:
    return f.operand.entry(0, 0).name


def term_line(
    numbers: NumberRegistry,
    left: Factor,
    right: Factor,
    at: tuple[int, int],
    k: int,
    *,
    label: Sequence[Token],
    times: str = r"\cdot",
    font_size: float = BODY_SIZE,
    buff: float = 0.1,
) -> TokenLine:
    """Term ``k`` of entry ``at = (i, j)`` of ``left @ right``: ``label (A_ik)·(B_kj) = t``.

    One weight's share of ``z_j``, say: ``w_jk a_k``.
    """
    i, j = at
    record = LineRecord("row_column", at, left.operand, right.operand, shown=(k,))
    line = _Line(list(label))
    line.num(left.entry(i, k), left.color, ("left", k))
    line.tokens.append(times)
    line.num(right.entry(k, j), right.color, ("right", k))
    line.tokens.append("=")
    line.num(product(left.entry(i, k), right.entry(k, j)), TEXT_COLOR, ("term", k), wrap=False)
    return _finish(numbers, record, line.tokens, font_size, buff)


def entrywise_line(
    numbers: NumberRegistry,
    left: Factor | RowColumnProduct,
    right: Factor,
    at: tuple[int, int],
    result: Factor,
    *,
    op: Literal["hadamard", "difference"] = "hadamard",
    font_size: float = BODY_SIZE,
) -> TokenLine:
    """``left[at] ⊙ right[at] = result[at]`` (or ``−``): one entry of an entrywise product.

    ``left`` is an operand, or a :class:`RowColumnProduct` whose sum is the left factor
    (BP2: ``((Wᵀ δ)_k) · σ'_k = δ_k``).
    """
    i, j = at
    record = LineRecord("hadamard" if op == "hadamard" else "difference", at, None, right.operand)
    record.result = result.operand
    line = _Line()
    if isinstance(left, RowColumnProduct):
        record.left_value = left.record.numbers[("sum", 0)]
        line.num(left.total, TEXT_COLOR, ("left", 0))
    else:
        record.left = left.operand
        line.num(left.entry(i, j), left.color, ("left", 0))
    line.tokens.append(r"\cdot" if op == "hadamard" else "-")
    line.num(right.entry(i, j), right.color, ("right", 0))
    line.tokens.append("=")
    line.num(result.entry(i, j), result.color, ("result", 0), wrap=False)
    return _finish(numbers, record, line.tokens, font_size, 0.1)


def outer_line(
    numbers: NumberRegistry,
    left: Factor,
    right: Factor,
    at: tuple[int, int],
    result: Factor,
    *,
    divisor: int,
    label: Sequence[Token],
    limit: int = MAX_BATCH,
    times: str = r"\cdot",
    font_size: float = BODY_SIZE,
    buff: float = 0.1,
) -> TokenLine:
    """Entry ``at = (j, k)`` of ``left rightᵀ / divisor``: ``Σ_s left_js · right_ks / m``.

    BP4's ``∂C/∂W_jk = (1/m) Σ_s δ_js a_ks``; with one sample, ``δ_j · a_k``. The samples
    are elided like a batch matrix's columns; ``divisor`` is the batch size ``m`` (a
    ``1/m`` is written when it is not 1).
    """
    j, k = at
    n_samples = int(numbers.value_array(_name(left)).shape[1])
    samples = sum_terms(n_samples, limit)
    shown = tuple(s for s in samples if s is not None)
    mean = divisor != 1
    # The divisor recorded is the one written: the test compares it with the batch size.
    record = LineRecord(
        "outer", at, left.operand, right.operand, shown=shown, result=result.operand,
        divisor=divisor if mean else 1,
    )  # fmt: skip
    line = _Line(list(label))
    if mean:
        line.tokens.append(r"\frac{1}{m}\Big(")
    for n, s in enumerate(samples):
        if n:
            line.tokens.append("+")
        if s is None:
            line.tokens.append(r"\cdots")
            continue
        line.num(left.entry(j, s), left.color, ("left", s))
        line.tokens.append(times)
        line.num(right.entry(k, s), right.color, ("right", s))
    if mean:
        line.tokens.append(r"\Big)")
    line.tokens.append("=")
    line.num(result.entry(j, k), result.color, ("result", 0), wrap=False)
    return _finish(numbers, record, line.tokens, font_size, buff)


def update_line(
    numbers: NumberRegistry,
    param: Factor,
    grad: Factor,
    at: tuple[int, int],
    result: Factor,
    *,
    label: Sequence[Token],
    eta_decimals: int,
    times: str = r"\cdot",
    font_size: float = BODY_SIZE,
    buff: float = 0.1,
) -> TokenLine:
    """``label (p) − η·(g) = p_new``: gradient descent's step for entry ``at``."""
    i, j = at
    record = LineRecord("update", at, param.operand, grad.operand, result=result.operand)
    line = _Line(list(label))
    line.num(param.entry(i, j), param.color, ("left", 0))
    line.tokens.append("-")
    line.tokens.append(
        Num(color=TEXT_COLOR, decimals=eta_decimals, source=Scalar("eta"), role=("eta", 0))
    )
    line.tokens.append(times)
    line.num(grad.entry(i, j), grad.color, ("right", 0))
    line.tokens.append("=")
    line.num(result.entry(i, j), result.color, ("result", 0), wrap=False)
    return _finish(numbers, record, line.tokens, font_size, buff)
