"""Pictures of the handwritten digits: 8 × 8 images, hidden units' weights, class bars.

A hidden neuron of a network on 8 × 8 images has 64 incoming weights, one per pixel (a
row of ``W^(1)``); laid out in the image's own row-major order they are a picture of what
the neuron looks for, drawn in the sign colours of the heatmaps (blue positive, red
negative, on one scale shared by every picture and every iteration). An input image is
drawn in greys, black 0 to white 1. Both are :class:`~backprop_anim.heatmap.BandedGrid`
cells: a picture costs at most ``2 * LEVELS + 1`` mobjects, however many pixels it has.

:class:`ProbabilityBars` draws a network's ten output probabilities as a bar chart, one
bar per class, labelled ``0..9``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from manim import (
    DOWN,
    ORIGIN,
    RIGHT,
    WHITE,
    AnimationGroup,
    FadeIn,
    FadeOut,
    Line,
    ManimColor,
    MathTex,
    Rectangle,
    Transform,
    VGroup,
    interpolate_color,
)
from numpy.typing import NDArray

from backprop_anim.heatmap import LEVELS, BandedGrid, band_color, quantize
from backprop_anim.style import (
    ACTIVATION_COLOR,
    HEATMAP_ZERO_COLOR,
    HIGHLIGHT_COLOR,
    SMALL_SIZE,
    TEXT_COLOR,
)

Array = NDArray[np.float64]

IMAGE_SHAPE = (8, 8)
"""Rows and columns of one digit image (pixels in row-major order in ``x``'s columns)."""


def sign_colors() -> dict[int, ManimColor]:
    """Band colours of weights: the heatmaps' sign colours."""
    return {q: band_color(q) for q in range(-LEVELS, LEVELS + 1)}


def grey_colors() -> dict[int, ManimColor]:
    """Band colours of pixel intensities in ``[0, 1]``: black to white."""
    return {q: interpolate_color(HEATMAP_ZERO_COLOR, WHITE, q / LEVELS) for q in range(LEVELS + 1)}


class PixelImage(VGroup):
    """A vector of ``rows · cols`` values drawn as a picture of square cells.

    Parameters
    ----------
    values
        The pixels in row-major order (``values[r * cols + c]`` is row ``r`` from the
        top, column ``c`` from the left), as a digit image is stored.
    shape
        ``(rows, cols)``.
    scale
        ``±scale`` is drawn in full colour (values beyond it saturate).
    signed
        Sign colours (weights) if true, else greys from 0 to ``scale`` (intensities).
    side
        The picture's width.

    Examples
    --------
    ::

        unit = PixelImage(step.layers[0].W[3], scale=s)     # hidden neuron 3
        digit = PixelImage(config.x_test[:, 0], signed=False)
        self.play(unit.transition(next_step.layers[0].W[3]))
    """

    def __init__(
        self,
        values: Array,
        shape: tuple[int, int] = IMAGE_SHAPE,
        *,
        scale: float = 1.0,
        signed: bool = True,
        side: float = 1.0,
    ) -> None:
        super().__init__()
        self.shape = shape
        self.scale_value = scale
        self.signed = signed
        self.cell_size = side / shape[1]
        self.border = Rectangle(
            width=side,
            height=self.cell_size * shape[0],
            stroke_width=1,
            stroke_color=TEXT_COLOR,
        )
        self.grid = self.grid_of(values)
        self.add(self.grid, self.border)

    def _bands(self, values: Array) -> NDArray[np.int64]:
        pixels = np.asarray(values, dtype=np.float64).reshape(self.shape)
        bands = quantize(pixels, self.scale_value)
        return bands if self.signed else np.clip(bands, 0, LEVELS)

    def grid_of(self, values: Array) -> BandedGrid:
        """The cells of ``values`` in this picture's place."""
        colors = sign_colors() if self.signed else grey_colors()
        return BandedGrid(self._bands(values), self.cell_size, colors).move_to(self.border)

    def transition(self, values: Array) -> AnimationGroup:
        """Cross-fade to ``values`` (another iteration's weights); as
        :meth:`backprop_anim.heatmap.Heatmap.transition`, the new grid is added by its
        ``FadeIn``, not to this group."""
        old, new = self.grid, self.grid_of(values)
        self.remove(old)
        self.grid = new
        return AnimationGroup(FadeOut(old), FadeIn(new))

    def color_at(self, r: int, c: int) -> ManimColor:
        """The colour drawn for pixel ``(r, c)`` (row from the top)."""
        return self.grid.color_at(r, c)

    def get_grid(self) -> BandedGrid:
        return self.grid


class ProbabilityBars(VGroup):
    """Class probabilities as bars on a baseline, labelled ``0..n−1`` under it.

    The largest probability's bar is highlighted (the network's prediction). Bars keep
    their place when the probabilities change: :meth:`transition` moves each bar's top.

    Parameters
    ----------
    probabilities
        One value in ``[0, 1]`` per class.
    width, height
        The chart's size; a bar of probability 1 is ``height`` tall.
    label_height
        The largest height of the class digits under the bars (they also fit their slot).
    """

    MIN_HEIGHT = 1e-3
    """A zero bar's height (a rectangle needs one)."""

    def __init__(
        self,
        probabilities: Sequence[float],
        *,
        width: float = 1.5,
        height: float = 0.7,
        color: ManimColor = ACTIVATION_COLOR,
        label_height: float = 0.12,
    ) -> None:
        super().__init__()
        self.aspect = height / width
        self.bar_color = color
        self.n = len(probabilities)
        self.baseline = Line(ORIGIN, width * RIGHT, stroke_width=1, color=TEXT_COLOR)
        self.bars = VGroup(*self._bars_of(probabilities))
        self.labels = VGroup(
            *(
                MathTex(str(c), font_size=SMALL_SIZE - 8, color=TEXT_COLOR)
                .scale_to_fit_height(min(0.7 * self.slot, label_height))
                .next_to(self.baseline.point_from_proportion((c + 0.5) / self.n), DOWN, buff=0.05)
                for c in range(self.n)
            )
        )
        self.add(self.baseline, self.bars, self.labels)

    @property
    def slot(self) -> float:
        """The width of one class's slot, as drawn (the chart may have been scaled)."""
        return float(self.baseline.width) / self.n

    @property
    def bar_height(self) -> float:
        """The height of a bar of probability 1, as drawn."""
        return float(self.baseline.width) * self.aspect

    def _bars_of(self, probabilities: Sequence[float]) -> list[Rectangle]:
        best = int(np.argmax(probabilities))
        bars = []
        origin = self.baseline.get_start()
        for c, p in enumerate(probabilities):
            h = max(float(p) * self.bar_height, self.MIN_HEIGHT)
            bar = Rectangle(
                width=0.7 * self.slot,
                height=h,
                stroke_width=0,
                fill_color=HIGHLIGHT_COLOR if c == best else self.bar_color,
                fill_opacity=1.0,
            )
            bar.move_to(origin + np.array([(c + 0.5) * self.slot, 0, 0]), aligned_edge=DOWN)
            bars.append(bar)
        return bars

    def transition(self, probabilities: Sequence[float]) -> Transform:
        """Move the bars to ``probabilities`` (another iteration's outputs)."""
        return Transform(self.bars, VGroup(*self._bars_of(probabilities)))

    def get_bars(self) -> VGroup:
        return self.bars

    def probabilities(self) -> list[float]:
        """The probabilities the bars show, read back from their heights."""
        return [float(b.height / self.bar_height) for b in self.bars]

    def label_point(self, c: int, buff: float = 0.06) -> np.ndarray:
        """Where a label of class ``c`` goes: above its slot, over a bar of probability 1
        (a number put there never covers a bar, whatever the probabilities)."""
        x = self.baseline.get_start()[0] + (c + 0.5) * self.slot
        y = self.baseline.get_y() + self.bar_height + buff
        return np.array([x, y, 0.0])


__all__ = ["IMAGE_SHAPE", "PixelImage", "ProbabilityBars", "grey_colors", "sign_colors"]
