"""Plots of a training run against the iteration ``k``, grown point by point.

The question plotted its 20 weights with MATLAB's ``plot(1:20, Warray)``; :class:`RunPlot`
is that plot, built from values the scene reads from the trace, with one animation per
point so a table of the same values can fill in step with it. The cost, which falls by
orders of magnitude, is drawn on a logarithmic axis (a straight line for the scalar case's
geometric convergence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from manim import (
    RIGHT,
    UP,
    Animation,
    AnimationGroup,
    Axes,
    Create,
    Dot,
    FadeIn,
    Line,
    LogBase,
    ManimColor,
    MathTex,
    VGroup,
)

from backprop_anim.style import SMALL_SIZE, TEXT_COLOR

AXIS_NUMBER_SIZE = 24
"""Tick numbers: at least 10 px digit height at 480p (a MathTex digit is 0.0073 units per
point of font size; 10 px is 1/48 of the 8-unit frame height)."""


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving about ``ticks`` intervals over ``span``.

    >>> nice_step(17.4), nice_step(0.3)
    (5.0, 0.1)
    """
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * power:
            return factor * power
    return 10.0 * power


def linear_range(values: Sequence[float], ticks: int = 4) -> tuple[float, float, float]:
    """``(low, high, step)`` of round numbers enclosing ``values``.

    >>> linear_range([-8.59, 8.79])
    (-10.0, 10.0, 5.0)
    """
    low, high = min(values), max(values)
    step = nice_step(high - low, ticks)
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def log_range(values: Sequence[float], ticks: int = 4) -> tuple[float, float, float]:
    """``(low, high, step)`` in decades (exponents of 10) enclosing the positive ``values``.

    >>> log_range([33040.3, 2.1e-6])
    (-6, 6, 3)
    """
    positive = [v for v in values if v > 0] or [1.0]
    low = math.floor(math.log10(min(positive)))
    high = math.ceil(math.log10(max(positive)))
    step = max(1, math.ceil((high - low) / ticks))
    return low, low + step * math.ceil((high - low) / step), step


def _places(step: float) -> int:
    """Decimals that tick labels of spacing ``step`` need (0 for whole steps)."""
    return 0 if float(step).is_integer() else max(0, -math.floor(math.log10(step)))


class RunPlot(VGroup):
    """A quantity against the iteration ``k``: axes, then dots joined by segments.

    Parameters
    ----------
    ks, values
        The iterations and the values at them (same length), read from the trace.
    color
        The quantity's colour (:mod:`backprop_anim.style`).
    y_label
        TeX of the quantity (``"w(k)"``, ``"C"``).
    log_y
        Logarithmic ``y`` axis (values must be positive; others are clipped to the floor).
    width, height
        Size of the axes.

    Examples
    --------
    ::

        plot = RunPlot(range(1, 21), ws, WEIGHT_COLOR, "w(k)")
        self.add(plot)
        self.play(plot.grow(0))     # first dot
        self.play(plot.grow(1))     # segment 0 → 1 and second dot
    """

    def __init__(
        self,
        ks: Sequence[int],
        values: Sequence[float],
        color: ManimColor,
        y_label: str,
        *,
        log_y: bool = False,
        width: float = 5.5,
        height: float = 2.6,
    ) -> None:
        super().__init__()
        self.plot_color = color
        if len(ks) != len(values) or not ks:
            raise ValueError("a run plot needs as many values as iterations, at least one")
        self.ks = list(ks)
        x_step = nice_step(max(self.ks), 4)
        x_range = (0.0, math.ceil(max(self.ks) / x_step) * x_step, x_step)
        if log_y:
            y_range: tuple[float, float, float] = log_range(values)
            floor = 10.0 ** y_range[0]
            values = [max(v, floor) for v in values]
            y_config: dict[str, object] = {"scaling": LogBase(custom_labels=True)}
        else:
            y_range = linear_range(values)
            y_config = {"decimal_number_config": {"num_decimal_places": _places(y_range[2])}}
        self.axes = Axes(
            x_range=x_range,
            y_range=y_range,
            x_length=width,
            y_length=height,
            tips=False,
            axis_config={"include_numbers": True, "font_size": AXIS_NUMBER_SIZE},
            x_axis_config={"decimal_number_config": {"num_decimal_places": 0}},
            y_axis_config=y_config,
        )
        self.x_label = MathTex("k", font_size=SMALL_SIZE, color=TEXT_COLOR)
        self.x_label.next_to(self.axes.x_axis, RIGHT, buff=0.12)
        self.y_label = MathTex(y_label, font_size=SMALL_SIZE, color=color)
        self.y_label.next_to(self.axes.y_axis, UP, buff=0.15)
        self.run_points = [(float(k), float(v)) for k, v in zip(self.ks, values, strict=True)]
        self.dots = VGroup()
        self.segments = VGroup()
        self.add(self.axes, self.x_label, self.y_label)

    def grow(self, i: int) -> Animation:
        """Add point ``i`` (and the segment from point ``i − 1``).

        Dots are placed when this is called, on the axes where they are then (so the plot
        can be laid out first), and kept in :attr:`dots` and :attr:`segments`.
        """
        dot = Dot(self.axes.c2p(*self.run_points[i]), radius=0.045, color=self.plot_color)
        self.dots.add(dot)
        if i == 0:
            return FadeIn(dot, scale=0.5)
        previous = self.axes.c2p(*self.run_points[i - 1])
        segment = Line(previous, dot.get_center(), color=self.plot_color, stroke_width=2.5)
        self.segments.add(segment)
        return AnimationGroup(Create(segment), FadeIn(dot, scale=0.5))

    def get_axes(self) -> Axes:
        return self.axes


__all__ = ["RunPlot", "linear_range", "log_range", "nice_step"]
