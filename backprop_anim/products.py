"""Matrix products done in front of the viewer: row × column, Hadamard, outer product.

Two layers, as in Manim's own ``Table``:

- pure logic (no rendering): which terms of a sum are written out, in which order the
  factors light up, which entries of ``W`` land where in ``Wᵀ``, how the outer-product
  grid is laid out. Tests check these without manim rendering anything;
- :class:`TokenLine`, a line like ``0.200·1.000 + (−0.400)·0.500 + 0.100`` whose every
  number is registered from a trace expression, and small helpers that *return*
  animations (only a scene's beats play them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from manim import (
    RIGHT,
    AnimationGroup,
    Create,
    FadeIn,
    LaggedStart,
    ManimColor,
    MathTex,
    Mobject,
    SurroundingRectangle,
    TransformFromCopy,
    VGroup,
)

from backprop_anim.numbers import NumberRegistry
from backprop_anim.style import BODY_SIZE, HIGHLIGHT_COLOR, MAX_COLS, TEXT_COLOR
from backprop_explain.elide import Index, visible_indices

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

    >>> dot_expression("W2", "d2", 0, 0, 2, left_t=True)
    'W2[0,0]*d2[0,0]+W2[1,0]*d2[1,0]'
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


@dataclass(frozen=True)
class Num:
    """A number token of a :class:`TokenLine`: a trace expression and its colour.

    ``wrap`` puts negative values in parentheses (factors of a product).
    """

    expression: str
    color: ManimColor = TEXT_COLOR
    wrap: bool = False
    decimals: int | None = None


Token = str | Num


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
        for token in tokens:
            if isinstance(token, str):
                op = MathTex(token, font_size=font_size, color=TEXT_COLOR)
                self.decor.append(op)
                self.add(op)
                continue
            num = numbers.tex(
                token.expression, token.decimals, font_size=font_size, color=token.color
            )
            self.nums.append(num)
            if token.wrap and num.tex_strings[0].startswith("-"):
                left = MathTex("(", font_size=font_size, color=TEXT_COLOR)
                right = MathTex(")", font_size=font_size, color=TEXT_COLOR)
                self.decor += [left, right]
                self.add(VGroup(left, num, right).arrange(RIGHT, buff=0.03))
            else:
                self.add(num)
        self.arrange(RIGHT, buff=buff)


def frame_cells(mobs: Sequence[Mobject], color: ManimColor = HIGHLIGHT_COLOR) -> VGroup:
    """Rectangles around ``mobs`` (a row, a column, an entry) for highlighting."""
    return VGroup(*(SurroundingRectangle(m, color=color, buff=0.06) for m in mobs))


def assemble(
    line: TokenLine, sources: Sequence[Mobject | None], lag_ratio: float = 0.15
) -> AnimationGroup:
    """Numbers of ``line`` fly out of copies of ``sources`` (one per number, in order);
    operators fade in. A ``None`` source makes that number fade in."""
    flights = []
    for num, src in zip(line.nums, sources, strict=True):
        flights.append(FadeIn(num) if src is None else TransformFromCopy(src, num))
    return AnimationGroup(LaggedStart(*flights, lag_ratio=lag_ratio), FadeIn(VGroup(*line.decor)))


def highlight(
    mobs: Sequence[Mobject], color: ManimColor = HIGHLIGHT_COLOR
) -> tuple[VGroup, Create]:
    """Rectangles around ``mobs`` and the animation drawing them."""
    rects = frame_cells(mobs, color)
    return rects, Create(rects)
