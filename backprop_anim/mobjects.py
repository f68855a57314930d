"""Reusable mobjects that build themselves from a trace (shaped like Manim's ``Matrix``)."""

from __future__ import annotations

from typing import Self

from manim import DOWN, LEFT, RIGHT, UP, ManimColor, MathTex, Matrix, Square, VGroup, VMobject

from backprop_anim.numbers import NumberRegistry, entry_source
from backprop_anim.style import (
    DEFAULT_STYLE,
    LEGEND,
    MATRIX_ENTRY_SIZE,
    MAX_BATCH,
    MAX_COLS,
    MAX_ROWS,
    SMALL_SIZE,
    Style,
)
from backprop_explain.elide import Index, visible_indices

COLUMN_GAP = 0.2
"""The least space between two columns' entries at :data:`MATRIX_ENTRY_SIZE` (about one
and a half digits), in scene units; it scales with the entries' font size."""


def shape_tex(rows: int, cols: int) -> str:
    return rf"{rows}\times {cols}"


class TraceMatrix(Matrix):
    """A matrix of the trace, its entries written at the scene's precision.

    Entries come from the :class:`NumberRegistry`, one expression per entry
    (``f"{name}[{i},{j}]"``), so each number on screen is recorded with its origin.
    Dimensions longer than the limits are elided: first entries, ``⋮``/``⋯``, last.

    Parameters
    ----------
    numbers
        The registry of the scene (it knows the trace, the step and the precision).
    name
        The quantity's name in :mod:`backprop_explain.explain` (``"W2"``, ``"delta1"``, ``"a0"``).
    color
        The quantity's colour; by default ``style``'s colour of the quantity.
    transpose
        Show the transpose (entry ``(i, j)`` on screen is ``name[j, i]``).
    max_rows, max_cols
        Elision limits; by default :data:`MAX_ROWS` and, for activations and other
        ``(n, m)`` batch quantities, :data:`MAX_BATCH` columns, else :data:`MAX_COLS`.
    style
        The colours (:class:`~backprop_anim.style.Style`) used when ``color`` is not given.
    h_buff, v_buff
        The distances between neighbouring columns (right edge to right edge, as manim
        aligns entries) and rows; a board that must hold several matrices at a legible
        size sets them closer. Columns never come closer than :data:`COLUMN_GAP` between
        the widest entry and its neighbour.

    Examples
    --------
    >>> from backprop_anim import TraceMatrix, registry
    >>> numbers = registry(preset="delta-demo")
    >>> W = TraceMatrix(numbers, "W2")
    >>> W.true_shape, W.get_entry(0, 1).get_tex_string()     # W^(2)[0, 1], 3 decimals
    ((2, 3), '-0.200')
    """

    BATCH_LIKE = ("z", "a", "sigma_prime", "delta", "y", "grad_a")
    """Quantities with one column per sample: elided to :data:`MAX_BATCH` columns."""

    def __init__(
        self,
        numbers: NumberRegistry,
        name: str,
        color: ManimColor | None = None,
        *,
        style: Style = DEFAULT_STYLE,
        transpose: bool = False,
        max_rows: int | None = None,
        max_cols: int | None = None,
        font_size: float = MATRIX_ENTRY_SIZE,
        h_buff: float = 1.3,
        v_buff: float = 0.6,
        **kwargs: object,
    ) -> None:
        if color is None:
            color = style.color_of(name)
        value = numbers.value_array(name)
        if transpose:
            value = value.T
        self.true_shape: tuple[int, int] = (int(value.shape[0]), int(value.shape[1]))
        batch_like = name.rstrip("0123456789") in self.BATCH_LIKE
        default_cols = MAX_BATCH if batch_like and not transpose else MAX_COLS
        self.row_indices: list[Index] = visible_indices(value.shape[0], max_rows or MAX_ROWS)
        self.col_indices: list[Index] = visible_indices(value.shape[1], max_cols or default_cols)
        self.quantity = name
        self.quantity_color: ManimColor = color
        """The quantity's colour (entries, brackets, symbol); ``self.color`` is manim's."""
        self.transposed = transpose
        self._gap = COLUMN_GAP * font_size / MATRIX_ENTRY_SIZE
        cells = [[self._cell(i, j, numbers) for j in self.col_indices] for i in self.row_indices]
        super().__init__(
            cells,
            element_to_mobject=MathTex,
            element_to_mobject_config={"font_size": font_size, "color": color},
            bracket_config={"color": color},
            h_buff=h_buff,
            v_buff=v_buff,
            **kwargs,  # type: ignore[arg-type]
        )
        self._entry_at: dict[tuple[int, int], MathTex] = {}
        for r, i in enumerate(self.row_indices):
            for c, j in enumerate(self.col_indices):
                if i is None or j is None:
                    continue
                mob = self.get_rows()[r][c]
                assert isinstance(mob, MathTex)
                self._entry_at[(i, j)] = mob
                ti, tj = (j, i) if transpose else (i, j)
                numbers.register(
                    self._expression(i, j, numbers),
                    mob,
                    source=entry_source(name, ti, tj),
                )

    def _organize_mob_matrix(self, matrix: list[list[VMobject]]) -> Self:
        # Entries are right-aligned h_buff apart, so the gap before a column is h_buff less
        # that column's width: at a compact spacing "0.063 -0.066" closes up into
        # "0.063-0.066", which reads as a subtraction.
        widest = max((m.width for row in matrix for m in row), default=0.0)
        self.h_buff = max(self.h_buff, widest + self._gap)
        return super()._organize_mob_matrix(matrix)

    def _cell(self, i: Index, j: Index, numbers: NumberRegistry) -> str:
        if i is None and j is None:
            return r"\ddots"
        if i is None:
            return r"\vdots"
        if j is None:
            return r"\cdots"
        return numbers.text(self._expression(i, j, numbers))

    def _expression(self, i: int, j: int, numbers: NumberRegistry) -> str:
        r, c = (j, i) if self.transposed else (i, j)
        return f"{self.quantity}[{r},{c}]"

    @property
    def is_elided(self) -> bool:
        return None in self.row_indices or None in self.col_indices

    def get_entry(self, i: int, j: int) -> MathTex:
        """The mobject of true entry ``(i, j)`` (of the shown, maybe transposed, matrix)."""
        return self._entry_at[(i, j)]

    def has_entry(self, i: int, j: int) -> bool:
        return (i, j) in self._entry_at

    def get_number_entries(self) -> list[MathTex]:
        """The shown numbers (no ``⋮``/``⋯``), row by row."""
        return list(self._entry_at.values())

    def get_shell(self) -> VGroup:
        """Brackets and ellipses: the matrix before its numbers are filled in."""
        numbers = set(map(id, self._entry_at.values()))
        dots = [e for e in self.get_entries() if id(e) not in numbers]
        return VGroup(*self.get_brackets(), *dots)

    def shape_badge(self, font_size: float = SMALL_SIZE) -> MathTex:
        """The true shape, ``n×m``, placed under the matrix."""
        badge = MathTex(shape_tex(*self.true_shape), font_size=font_size, color=self.color)
        return badge.next_to(self, DOWN, buff=0.15)

    def name_label(self, tex: str, font_size: float = SMALL_SIZE + 6) -> MathTex:
        """The quantity's symbol, placed left of the matrix."""
        return MathTex(tex, font_size=font_size, color=self.quantity_color).next_to(
            self, LEFT, buff=0.15
        )


def color_legend(font_size: float = SMALL_SIZE, style: Style | None = None) -> VGroup:
    """The colour of every quantity (:data:`~backprop_anim.style.LEGEND`, or ``style``'s
    legend), in one row.

    Examples
    --------
    >>> from backprop_anim import DEFAULT_STYLE, color_legend
    >>> legend = color_legend(style=DEFAULT_STYLE)
    >>> len(legend), legend[6][1].get_color() == DEFAULT_STYLE.delta     # swatch + symbol
    (10, True)
    """
    items = VGroup()
    for tex, color in LEGEND if style is None else style.legend():
        swatch = Square(side_length=0.18, color=color, fill_opacity=1.0, stroke_width=0)
        items.add(
            VGroup(swatch, MathTex(tex, font_size=font_size, color=color)).arrange(RIGHT, buff=0.08)
        )
    return items.arrange(RIGHT, buff=0.35)


def labelled(matrix: TraceMatrix, tex: str, badge_size: float = SMALL_SIZE) -> VGroup:
    """``matrix`` with its symbol over it and its true shape (``badge_size``) under it."""
    label = MathTex(tex, font_size=SMALL_SIZE + 6, color=matrix.quantity_color)
    label.next_to(matrix, direction=UP, buff=0.15)
    return VGroup(label, matrix, matrix.shape_badge(badge_size))
