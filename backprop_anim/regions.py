"""The input plane: the network's decision regions under the data points.

For a network with 2 inputs and 1 output, :class:`RegionsPlot` draws the output
``a^(L)`` over a square of the input plane (computed by
:func:`backprop_explain.regions.decision_grid`), quantized to bands of probability like a
contour map, and the data points over it, coloured by their label. Each band is one
``VMobject`` (:class:`~backprop_anim.heatmap.BandedGrid`), so a frame costs a handful of
mobjects whatever the grid resolution; training cross-fades to the regions of a later
iteration (:meth:`RegionsPlot.transition`).
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    AnimationGroup,
    Dot,
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

from backprop_anim.heatmap import BandedGrid
from backprop_anim.style import (
    CLASS_COLORS,
    HEATMAP_ZERO_COLOR,
    REGION_OPACITY,
    SMALL_SIZE,
    TEXT_COLOR,
)
from backprop_core.trace import Step, Trace
from backprop_explain.regions import Bounds, decision_grid, input_bounds

RESOLUTION = 40
"""Grid points per side of the regions."""
REGION_LEVELS = 8
"""Output ``a^(L) ∈ [0, 1]`` is drawn in ``REGION_LEVELS + 1`` bands."""


def region_bands(outputs: NDArray[np.float64]) -> NDArray[np.int64]:
    """Band ``round(REGION_LEVELS * a)`` of each output ``a`` (clipped to ``[0, 1]``)."""
    return np.rint(np.clip(outputs, 0.0, 1.0) * REGION_LEVELS).astype(np.int64)


def region_color(q: int) -> ManimColor:
    """Band ``q``: the label-0 colour at 0, the label-1 colour at ``REGION_LEVELS``, mixed
    in between, tinted over the background by :data:`REGION_OPACITY`."""
    mixed = interpolate_color(CLASS_COLORS[0], CLASS_COLORS[1], q / REGION_LEVELS)
    return interpolate_color(HEATMAP_ZERO_COLOR, mixed, REGION_OPACITY)


class RegionsPlot(VGroup):
    """The decision regions of one recorded step and the data points, in a square.

    Parameters
    ----------
    trace, step
        The run and the iteration whose network is drawn (weights before its update).
    side
        Side of the square on screen.
    bounds
        The rectangle of the input plane; by default :func:`input_bounds` of the data.

    Examples
    --------
    ::

        plot = RegionsPlot(trace, trace.steps[0])
        self.play(plot.transition(trace.steps[-1]))
    """

    def __init__(
        self,
        trace: Trace,
        step: Step,
        *,
        side: float = 2.8,
        bounds: Bounds | None = None,
        resolution: int = RESOLUTION,
    ) -> None:
        super().__init__()
        self.trace = trace
        self.bounds = bounds or input_bounds(trace.config.x)
        self.resolution = resolution
        self.side = side
        self.border = Rectangle(width=side, height=side, stroke_width=1, stroke_color=TEXT_COLOR)
        self.grid = self.grid_of(step)
        self.dots = self._dots()
        # Inputs count from 0, as the trace's rows of x do.
        x0 = MathTex("x_0", font_size=SMALL_SIZE).next_to(self.border, DOWN, buff=0.08)
        x1 = MathTex("x_1", font_size=SMALL_SIZE).next_to(self.border, LEFT, buff=0.08)
        self.axis_labels = VGroup(x0, x1)
        self.legend = self._legend().next_to(x0, DOWN, buff=0.1)
        self.add(self.grid, self.border, self.dots, self.axis_labels, self.legend)

    def grid_of(self, step: Step) -> BandedGrid:
        """The regions of ``step``'s network, in this plot's place."""
        grid = decision_grid(self.trace, step, self.bounds, self.resolution)
        colors = {q: region_color(q) for q in range(REGION_LEVELS + 1)}
        bands = BandedGrid(region_bands(grid), self.side / self.resolution, colors)
        return bands.move_to(self.border)

    def transition(self, step: Step) -> AnimationGroup:
        """Cross-fade to the regions of ``step`` (see :meth:`Heatmap.transition`); the data
        points stay on top (their ``z_index``)."""
        old, new = self.grid, self.grid_of(step)
        self.remove(old)
        self.grid = new
        return AnimationGroup(FadeOut(old), FadeIn(new))

    def to_screen(self, x1: float, x2: float) -> NDArray[np.float64]:
        """Where input ``(x1, x2)`` is drawn."""
        x0, x_1, y0, y_1 = self.bounds
        left, bottom = self.border.get_left()[0], self.border.get_bottom()[1]
        return np.array(
            [
                left + (x1 - x0) / (x_1 - x0) * self.side,
                bottom + (x2 - y0) / (y_1 - y0) * self.side,
                0.0,
            ]
        )

    def _legend(self) -> VGroup:
        """``● y = 0   ● y = 1``: the label colours of points and regions."""
        items = VGroup()
        for label in (0, 1):
            dot = Dot(radius=0.07, color=CLASS_COLORS[label], stroke_width=0.8)
            dot.set_stroke(TEXT_COLOR)
            text = MathTex(f"y = {label}", font_size=SMALL_SIZE)
            items.add(VGroup(dot, text).arrange(RIGHT, buff=0.08))
        return items.arrange(RIGHT, buff=0.35)

    def dot_centres(self) -> NDArray[np.float64]:
        """Where each sample is drawn now, shape ``(m, 3)``."""
        x = self.trace.config.x
        return np.array([self.to_screen(float(x[0, i]), float(x[1, i])) for i in range(x.shape[1])])

    def _dots(self) -> VGroup:
        """The data points: one ``VMobject`` per label whose sub-paths are the dots (two
        mobjects for 200 points, so they add little to every frame).
        Sub-path ``n`` of ``dots[label]`` is the ``n``-th sample with that label."""
        x, y = self.trace.config.x, self.trace.config.y
        radius = 0.09 if x.shape[1] <= 20 else 0.045
        centres = self.dot_centres()
        labels = (y[0] > 0.5).astype(int)
        dots = VGroup()
        for label in (0, 1):
            merged = VMobject(
                fill_color=CLASS_COLORS[label],
                fill_opacity=1,
                stroke_width=0.8,
                stroke_color=TEXT_COLOR,
            )
            for centre in centres[labels == label]:
                merged.append_points(Dot(centre, radius=radius).points)
            dots.add(merged)
        dots.set_z_index(2)
        self.border.set_z_index(2)
        return dots
