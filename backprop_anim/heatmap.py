"""Heatmaps of matrices (``W``, ``∂C/∂W``) on a shared, labelled, banded colour scale.

Why bands: a frame must cost about the same for a 2×2 and a 64×784 matrix. One square per
entry costs one manim mobject each (a 24×24 grid of squares measured 140 ms per frame at
``-ql``), and ``ImageMobject`` cannot be drawn here (manim 0.22's Cairo camera calls
``Image.fromarray(..., mode="RGBA")``, which Pillow 13 rejects). So values are quantized
to ``2 * LEVELS + 1`` colour bands and every band is *one* ``VMobject`` whose sub-paths are
the runs of equal cells in each row (:class:`BandedGrid`): at most 13 mobjects per
heatmap, whatever its size. Wide matrices keep a fixed budget of cells as well (first
entries, a gap, the last entry, as :func:`~backprop_explain.elide.visible_indices` chooses)
and their true shape is written under them. Moving to another iteration cross-fades to a
prepared grid (:meth:`Heatmap.transition`).

Colours: band 0 is :data:`HEATMAP_ZERO_COLOR`; band ``q`` (``-LEVELS..LEVELS``) mixes it
with :data:`POSITIVE_COLOR` or :data:`NEGATIVE_COLOR` by ``|q| / LEVELS``, the same sign
colours as the diagram's edges. A value ``v`` on the scale ``[-s, s]`` falls in band
``round(LEVELS * v / s)`` (saturating beyond ``±s``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    RIGHT,
    UP,
    AnimationGroup,
    FadeIn,
    FadeOut,
    ManimColor,
    MathTex,
    Rectangle,
    VGroup,
    VMobject,
    interpolate_color,
)
from numpy.typing import NDArray

from backprop_anim.numbers import NumberRegistry
from backprop_anim.style import (
    HEATMAP_MAX_CELLS,
    HEATMAP_ZERO_COLOR,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SMALL_SIZE,
    TEXT_COLOR,
)
from backprop_explain.elide import Index, visible_indices

Array = NDArray[np.float64]

LEVELS = 6
"""Bands on each side of 0."""
GAP = -(10**6)
"""Band number of a cell that is not drawn (the gap of an elided matrix)."""


def scaled(values: Array, scale: float, decades: int | None = None) -> Array:
    """Values mapped to ``[-1, 1]``: ``v / s`` (linear), or with ``decades`` a signed log
    scale where ``±s`` is ±1, each decade below it is ``1 / decades`` less, and values
    below ``s · 10^-decades`` are 0.

    Gradients shrink by orders of magnitude while a network learns; on a linear scale
    shared by the whole run, all but the first iterations would be drawn as zeros.

    >>> scaled(np.array([0.1, -0.01, 0.0001, 0.0]), 0.1, decades=2).round(3).tolist()
    [1.0, -0.5, 0.0, 0.0]
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if decades is None:
        return np.clip(v / scale, -1.0, 1.0)
    with np.errstate(divide="ignore"):
        magnitude = np.log10(np.abs(v) / scale)
    t = np.clip(1.0 + magnitude / decades, 0.0, 1.0)
    return np.sign(v) * t


def quantize(
    values: Array, scale: float, levels: int = LEVELS, decades: int | None = None
) -> NDArray[np.int64]:
    """Band numbers ``round(levels * t)`` of the :func:`scaled` values ``t``; NaN cells
    get :data:`GAP`."""
    v = np.asarray(values, dtype=np.float64)
    q = np.rint(scaled(v, scale, decades) * levels).astype(np.int64)
    q[np.isnan(v)] = GAP
    return q


def band_color(q: int, levels: int = LEVELS) -> ManimColor:
    """The colour of band ``q``."""
    end = POSITIVE_COLOR if q >= 0 else NEGATIVE_COLOR
    return interpolate_color(HEATMAP_ZERO_COLOR, end, abs(q) / levels)


def value_color(
    value: float, scale: float, levels: int = LEVELS, decades: int | None = None
) -> ManimColor:
    """The colour a value gets on the scale ``[-scale, scale]`` (see :func:`scaled`)."""
    return band_color(int(quantize(np.array([value]), scale, levels, decades)[0]), levels)


def shown_values(values: Array, rows: Sequence[Index], cols: Sequence[Index]) -> Array:
    """The shown cells of ``values``: NaN where a gap row or column stands."""
    out = np.full((len(rows), len(cols)), np.nan)
    for r, i in enumerate(rows):
        for c, j in enumerate(cols):
            if i is not None and j is not None:
                out[r, c] = values[i, j]
    return out


def row_runs(bands: NDArray[np.int64]) -> dict[int, list[tuple[int, int, int]]]:
    """``{band: [(row, first_col, end_col), ...]}``: maximal runs of equal cells per row.

    >>> row_runs(np.array([[1, 1, 0], [0, 0, 0]]))
    {1: [(0, 0, 2)], 0: [(0, 2, 3), (1, 0, 3)]}
    """
    runs: dict[int, list[tuple[int, int, int]]] = {}
    for r, row in enumerate(bands):
        start = 0
        for c in range(1, len(row) + 1):
            if c == len(row) or row[c] != row[start]:
                runs.setdefault(int(row[start]), []).append((r, start, c))
                start = c
    return runs


def _rectangles_path(rects: list[tuple[float, float, float, float]]) -> NDArray[np.float64]:
    """Cubic Bézier points (4 per side) of closed rectangles ``(x0, y0, x1, y1)``."""
    pts = []
    for x0, y0, x1, y1 in rects:
        corners = np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0], [x0, y0, 0]])
        for a, b in itertools.pairwise(corners):
            pts += [a, a + (b - a) / 3, a + 2 * (b - a) / 3, b]
    return np.array(pts, dtype=np.float64)


class BandedGrid(VGroup):
    """Cells of size ``cell`` coloured by band, one ``VMobject`` per band present.

    ``bands[r, c]`` is the band of the cell in row ``r`` (from the top) and column ``c``;
    :data:`GAP` cells are left empty. ``colors`` maps a band to its colour.
    """

    def __init__(
        self,
        bands: NDArray[np.int64],
        cell: float,
        colors: dict[int, ManimColor],
        opacity: float = 1.0,
    ) -> None:
        super().__init__()
        self.bands = bands
        self.cell = cell
        self.band_mobjects: dict[int, VMobject] = {}
        n_rows = bands.shape[0]
        # A hair of overlap so anti-aliased edges of neighbouring runs leave no seams.
        eps = 0.004
        for q, runs in row_runs(bands).items():
            if q == GAP:
                continue
            rects = [
                (
                    c0 * cell - eps,
                    (n_rows - r - 1) * cell - eps,
                    c1 * cell + eps,
                    (n_rows - r) * cell + eps,
                )
                for r, c0, c1 in runs
            ]
            band = VMobject(fill_color=colors[q], fill_opacity=opacity, stroke_width=0)
            band.set_points(_rectangles_path(rects))
            self.band_mobjects[q] = band
            self.add(band)
        # An invisible frame fixes the grid's extent even if edge cells are gaps.
        self.frame = Rectangle(
            width=bands.shape[1] * cell, height=n_rows * cell, stroke_opacity=0, stroke_width=0
        ).move_to(np.array([bands.shape[1] * cell / 2, n_rows * cell / 2, 0]))
        self.add(self.frame)

    def color_at(self, r: int, c: int) -> ManimColor:
        """The fill colour drawn at the centre of cell ``(r, c)``, read back from the band
        mobject that covers it (``KeyError`` for a gap)."""
        q = int(self.bands[r, c])
        band = self.band_mobjects[q]
        origin = self.frame.get_corner(DOWN + np.array([-1, 0, 0]))
        cell = self.frame.width / self.bands.shape[1]  # as drawn: the grid may be scaled
        centre = origin + np.array([(c + 0.5) * cell, (self.bands.shape[0] - r - 0.5) * cell, 0])
        for sub in band.get_subpaths():
            lo, hi = sub.min(axis=0), sub.max(axis=0)
            if lo[0] <= centre[0] <= hi[0] and lo[1] <= centre[1] <= hi[1]:
                return band.get_fill_color()
        raise KeyError(f"no band covers cell ({r}, {c})")


class Heatmap(VGroup):
    """A matrix drawn as banded cells, its true shape under it.

    Parameters
    ----------
    values
        The matrix, shape ``(rows, cols)``.
    scale
        The colour scale ``s``: ``±s`` is drawn in full sign colour.
    max_width, max_height
        The box the heatmap fits in (cells are square, at most ``max_cell`` wide).
    max_cells
        Cells per dimension before eliding.

    Examples
    --------
    ::

        hm = Heatmap(step.layers[0].W, scale=2.0)
        hm.cell_color(0, 1)                       # the colour drawn for W[0, 1]
        self.play(hm.transition(next_step.layers[0].W))
    """

    def __init__(
        self,
        values: Array,
        scale: float,
        *,
        max_width: float = 1.6,
        max_height: float = 1.6,
        max_cell: float = 0.4,
        max_cells: int = HEATMAP_MAX_CELLS,
        badge: bool = True,
        decades: int | None = None,
    ) -> None:
        super().__init__()
        self.decades = decades
        self.true_shape = (int(values.shape[0]), int(values.shape[1]))
        self.row_indices = visible_indices(values.shape[0], max_cells)
        self.col_indices = visible_indices(values.shape[1], max_cells)
        self.scale_value = scale
        n_rows, n_cols = len(self.row_indices), len(self.col_indices)
        self.cell_size = min(max_width / n_cols, max_height / n_rows, max_cell)
        self.border = Rectangle(
            width=self.cell_size * n_cols,
            height=self.cell_size * n_rows,
            stroke_width=1,
            stroke_color=TEXT_COLOR,
        )
        self.grid = self.grid_of(values)
        self.add(self.grid, self.border)
        if badge:
            rows, cols = self.true_shape
            self.badge = MathTex(rf"{rows}\times {cols}", font_size=SMALL_SIZE)
            self.badge.next_to(self.border, DOWN, buff=0.1)
            self.add(self.badge)

    def grid_of(self, values: Array) -> BandedGrid:
        """The cells of ``values`` (this heatmap's shape) in this heatmap's place."""
        shown = shown_values(values, self.row_indices, self.col_indices)
        bands = quantize(shown, self.scale_value, decades=self.decades)
        colors = {q: band_color(q) for q in range(-LEVELS, LEVELS + 1)}
        return BandedGrid(bands, self.cell_size, colors).move_to(self.border)

    def transition(self, values: Array) -> AnimationGroup:
        """Cross-fade to ``values`` (another iteration's matrix).

        The new grid is not added to this group: ``FadeIn`` adds it to the scene, and
        ``self.grid`` points to it (a submobject would be drawn twice, once as part of
        this group and once as the animation's mobject). Layout moves come before.
        """
        old, new = self.grid, self.grid_of(values)
        self.remove(old)
        self.grid = new
        return AnimationGroup(FadeOut(old), FadeIn(new))

    def cell_color(self, i: int, j: int) -> ManimColor:
        """The colour drawn for true entry ``(i, j)`` (``KeyError`` if it is elided)."""
        if i not in self.row_indices or j not in self.col_indices:
            raise KeyError(f"entry ({i}, {j}) is not shown")
        return self.grid.color_at(self.row_indices.index(i), self.col_indices.index(j))


def scale_decimals(scale: float) -> int:
    """Decimals that write a scale bound with two significant digits (at least 2).

    >>> scale_decimals(2.7), scale_decimals(0.0042)
    (2, 4)
    """
    if scale <= 0:
        return 2
    return max(2, 1 - int(np.floor(np.log10(scale))))


class ColourScale(VGroup):
    """A vertical bar of the bands from ``-s`` (bottom) to ``+s`` (top), labelled with
    registered numbers; placed beside the row of heatmaps it colours.

    ``name`` is the registry name under which the scale was defined
    (:meth:`NumberRegistry.define`), so the labels (``s``, ``-s`` and, on a log scale,
    ``s/10``, ``s/100``, ... at their band edges) are checked against the engine's value
    like every number on screen.
    """

    def __init__(
        self,
        numbers: NumberRegistry,
        name: str,
        *,
        height: float = 1.6,
        width: float = 0.22,
        decades: int | None = None,
    ) -> None:
        super().__init__()
        scale = numbers.value(name)
        n = 2 * LEVELS + 1
        bands = np.arange(LEVELS, -LEVELS - 1, -1, dtype=np.int64)[:, None]
        colors = {q: band_color(q) for q in range(-LEVELS, LEVELS + 1)}
        self.bar = BandedGrid(bands, height / n, colors)
        self.bar.stretch_to_fit_width(width)
        border = Rectangle(width=width, height=height, stroke_width=1, stroke_color=TEXT_COLOR)
        border.move_to(self.bar)
        size = SMALL_SIZE
        d = scale_decimals(scale)
        top = numbers.tex(name, decimals=d, font_size=size)
        bottom = numbers.tex(f"-{name}", decimals=d, font_size=size)
        zero = MathTex("0", font_size=size)
        top.next_to(border.get_corner(UP + RIGHT), RIGHT, buff=0.08)
        bottom.next_to(border.get_corner(DOWN + RIGHT), RIGHT, buff=0.08)
        zero.next_to(border, RIGHT, buff=0.08)
        self.labels = VGroup(top, zero, bottom)
        if decades is not None:
            # s·10^-k sits at t = 1 - k/decades of the upper half.
            for k in range(1, decades):
                expr = f"{name}/{10**k}"
                label = numbers.tex(expr, decimals=scale_decimals(scale / 10**k), font_size=size)
                y = border.get_center()[1] + (1 - k / decades) * height / 2
                label.next_to(border.get_right(), RIGHT, buff=0.08).set_y(y)
                self.labels.add(label)
        self.add(self.bar, border, self.labels)
