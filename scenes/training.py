"""A network learning: the loss curve, the weights and gradients as heatmaps, the regions.

For a long trace (default: the ``xor`` preset, 3000 iterations recorded every 10), the
real loss curve (``trace.losses``) draws itself while an iteration counter advances;
beside it, for every layer, ``W^(l)`` and ``∂C/∂W^(l)`` are heatmaps on one shared,
labelled colour scale per quantity; the diagram's edges follow the weights; and for a
network with 2 inputs and 1 output the decision regions on the input plane evolve under
the data points.

The video shows a fixed number of recorded iterations (:data:`SHOWN_ITERATIONS`, spread
over the run by :func:`backprop_explain.regions.shown_iterations`), so its length does not
grow with the trace; heatmaps of wide layers keep a fixed cell budget, so a frame costs
about the same whatever the width. Every state is prepared and reached by ``Transform``.

Render: ``manim render -ql scenes/training.py``; choose the trace with ``BACKPROP_TRACE``,
``BACKPROP_PRESET`` (e.g. ``moons``, ``spirals``) or ``BACKPROP_CONFIG``.
"""

from __future__ import annotations

from typing import TypeVar, cast

import numpy as np
from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Animation,
    Axes,
    Create,
    Dot,
    FadeIn,
    Indicate,
    MathTex,
    Mobject,
    ReplacementTransform,
    Transform,
    VGroup,
    VMobject,
    config,
)
from manim.mobject.mobject import _AnimationBuilder

from backprop_anim.diagram import NetworkDiagram
from backprop_anim.heatmap import ColourScale, Heatmap
from backprop_anim.layout import Layout
from backprop_anim.regions import RegionsPlot
from backprop_anim.scene import TraceScene
from backprop_anim.style import (
    BODY_SIZE,
    COST_COLOR,
    GRADIENT_COLOR,
    SMALL_SIZE,
    TEXT_COLOR,
    WEIGHT_COLOR,
)
from backprop_core.trace import Step
from backprop_explain.format import tex_literal
from backprop_explain.regions import (
    field_scale,
    has_regions,
    loss_curve,
    shown_iterations,
    weight_scale,
)

SHOWN_ITERATIONS = 12
"""Recorded iterations shown, whatever the length of the run."""
STEP_SECONDS = 1.0
"""Duration of the move from one shown iteration to the next."""
LOSS_SIZE = (6.0, 2.4)
"""Width and height of the loss axes."""
HEATMAP_BOX = 2.0
"""Largest side of one heatmap."""
GRADIENT_DECADES = 3
"""``∂C/∂W`` heatmaps use a log colour scale over this many decades below the largest
gradient (gradients shrink by orders of magnitude over a run); ``W`` is linear."""

M = TypeVar("M", bound=Mobject)


def fit_in(mob: M, width: float, height: float | None = None) -> M:
    """Shrink ``mob`` to fit ``width`` (and ``height``); never enlarge."""
    if mob.width > width:
        mob.scale_to_fit_width(width)
    if height is not None and mob.height > height:
        mob.scale_to_fit_height(height)
    return mob


def fit_box(mob: Mobject, width: float, height: float, max_scale: float = 1.2) -> Mobject:
    """Scale ``mob`` to fill ``width × height`` as far as it can, enlarging at most by
    ``max_scale`` (its labels grow with it)."""
    return mob.scale(min(width / mob.width, height / mob.height, max_scale))


class TrainingScene(TraceScene):
    """Gradient descent over a whole run, shown at a fixed number of recorded iterations."""

    default_preset = "xor"
    hold_for_narration = True

    def setup(self) -> None:
        super().setup()
        self.choose_iterations()

    def construct(self) -> None:
        self.introduce_run()
        self.explain_heatmaps()
        self.train()
        self.conclude()
        self.finish_beats()

    # --- beats -----------------------------------------------------------------------

    def choose_iterations(self) -> None:
        """Which recorded iterations are shown, and the colour scales shared by all."""
        recorded = [s.iteration for s in self.trace.steps]
        self.shown = shown_iterations(recorded, SHOWN_ITERATIONS)
        self.numbers.define("W_scale", field_scale(self.trace, self.shown, "W"))
        self.numbers.define("dW_scale", field_scale(self.trace, self.shown, "dW"))
        self.edge_scale = weight_scale(self.trace, self.shown)

    def introduce_run(self) -> None:
        c = self.trace.config
        self.beat(
            "run",
            f"A {'-'.join(map(str, c.sizes))} network trained by gradient descent for "
            f"{c.iterations} iterations. On the left, its cost over the run"
            + (
                " and what it decides for every point of the input plane."
                if self.regions_on
                else "."
            ),
        )
        first = self.trace.step(self.shown[0])
        self.title = self._title()
        self.loss_panel = self._loss_panel(first.iteration)
        self.diagram = self._diagram(first)
        self.heatmaps, self.heatmap_panel = self._heatmap_panel(first)
        self.regions = RegionsPlot(self.trace, first, side=2.7) if self.regions_on else None
        self._layout()
        parts = [self.title, self.loss_panel, self.heatmap_panel, self.diagram]
        parts += [self.regions] if self.regions is not None else []
        self.layouts = [Layout.of("run", "panels", parts)]
        self.play(FadeIn(self.title), FadeIn(self.loss_panel))
        lower = [self.diagram] + ([self.regions] if self.regions is not None else [])
        self.play(*(FadeIn(m) for m in lower))

    def explain_heatmaps(self) -> None:
        self.beat(
            "heatmaps",
            "On the right, every weight matrix W and its gradient as heatmaps: blue for "
            "positive, red for negative, brighter for larger, on one scale for all layers "
            "and all iterations; the gradients' scale is logarithmic, because they shrink "
            "by orders of magnitude. Wide matrices show their first and last entries.",
        )
        self.play(FadeIn(self.heatmap_panel))
        self.wait(1)

    def train(self) -> None:
        self.beat(
            "training",
            "Now watch it learn: the cost curve draws itself up to each shown iteration, "
            "and the heatmaps and the edges take that iteration's weights and gradients"
            + (", while the regions follow the network's output." if self.regions_on else "."),
            duration=STEP_SECONDS * (len(self.shown) - 1),
        )
        for previous, k in zip(self.shown, self.shown[1:], strict=False):
            self.play(*self._advance(previous, k), run_time=STEP_SECONDS)
        self.wait(0.5)

    def conclude(self) -> None:
        self.beat("result", "Over the whole run, the cost fell from its first to its last value.")
        first, last = self.shown[0], self.shown[-1]
        size = BODY_SIZE - 6
        summary = VGroup(
            MathTex("C:", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss", iteration=first, font_size=size, color=COST_COLOR),
            MathTex(r"\to", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss", iteration=last, font_size=size, color=COST_COLOR),
        ).arrange(RIGHT, buff=0.12)
        summary.next_to(self.counter, DOWN, buff=0.15).align_to(self.counter, RIGHT)
        self.play(FadeIn(summary), Indicate(self.curve_dot, color=COST_COLOR))
        self.wait(1.5)

    # --- helpers: each builds mobjects or returns animations --------------------------

    @property
    def regions_on(self) -> bool:
        return has_regions(self.trace)

    def _title(self) -> MathTex:
        c = self.trace.config
        text = (
            rf"\text{{Training {tex_literal(c.name or 'a network')}: "
            rf"{'-'.join(map(str, c.sizes))}, "
            rf"{c.activations[-1]} output, {c.loss.replace('_', ' ')}}}"
        )
        title = MathTex(text, font_size=BODY_SIZE, color=TEXT_COLOR)
        return fit_in(title, config.frame_width - 1).to_edge(UP, buff=0.25)

    def _loss_panel(self, k0: int) -> VGroup:
        """Axes of ``C`` against ``k``, the curve in one piece per shown interval, a dot
        and the counter ``k = …, C = …`` (numbers of iteration ``k0``)."""
        n = self.trace.config.iterations
        top = float(np.max(self.trace.losses)) * 1.08
        axes = Axes(
            x_range=[0, n, n],
            y_range=[0, top, top],
            x_length=LOSS_SIZE[0],
            y_length=LOSS_SIZE[1],
            tips=False,
            axis_config={"include_ticks": False, "color": TEXT_COLOR, "stroke_width": 2},
        )
        self.axes = axes
        self.curve: list[VMobject] = []
        self.curve_dot = Dot(self._curve_point(k0), radius=0.06, color=COST_COLOR)
        size = SMALL_SIZE
        last = self.shown[-1]
        x_end = self.numbers.tex("iteration", decimals=0, iteration=last, font_size=size - 4)
        x_end.next_to(axes.x_axis.get_end(), DOWN, buff=0.1)
        x_label = MathTex("k", font_size=size).next_to(axes.x_axis.get_end(), RIGHT, buff=0.2)
        y_label = MathTex("C", font_size=size, color=COST_COLOR)
        y_label.next_to(axes.y_axis.get_end(), UP, buff=0.1)
        first_loss = self.numbers.tex(
            "loss", iteration=self.shown[0], font_size=size - 6, color=COST_COLOR
        )
        first_loss.next_to(axes.c2p(0, self.trace.step(self.shown[0]).loss), LEFT, buff=0.1)
        zero = MathTex("0", font_size=size - 6).next_to(axes.c2p(0, 0), LEFT, buff=0.1)
        self.counter = self._counter(k0)
        self.counter.next_to(axes.c2p(n, top), DOWN + LEFT, buff=0.0)
        return VGroup(axes, x_end, x_label, y_label, first_loss, zero, self.curve_dot, self.counter)

    def _segment(self, a: int, b: int) -> VMobject:
        """The loss curve from iteration ``a`` to ``b`` (thinned, exact at both ends)."""
        its, vals = loss_curve(self.trace.losses)
        keep = (its > a) & (its < b)
        xs = np.concatenate([[a], its[keep], [b]])
        ys = np.concatenate([[self.trace.losses[a - 1]], vals[keep], [self.trace.losses[b - 1]]])
        seg = VMobject(stroke_color=COST_COLOR, stroke_width=3)
        return seg.set_points_as_corners([self.axes.c2p(x, y) for x, y in zip(xs, ys, strict=True)])

    def _curve_point(self, k: int) -> np.ndarray:
        return self.axes.c2p(k, self.trace.losses[k - 1])

    def _counter(self, k: int) -> VGroup:
        size = SMALL_SIZE + 2
        counter = VGroup(
            MathTex("k =", font_size=size),
            self.numbers.tex("iteration", decimals=0, iteration=k, font_size=size),
            MathTex(r"C =", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss", iteration=k, font_size=size, color=COST_COLOR),
        ).arrange(RIGHT, buff=0.12)
        counter[2:].shift(0.35 * RIGHT)
        return counter

    def _diagram(self, step: Step) -> NetworkDiagram:
        layers = step.layers
        diagram = NetworkDiagram(
            self.trace.config.sizes, radius=0.13, neuron_buff=0.12, layer_buff=0.9
        )
        diagram.set_weights([r.W for r in layers], scale=self.edge_scale)
        return diagram

    def _heatmap_panel(self, first: Step) -> tuple[list[tuple[int, str, Heatmap]], VGroup]:
        """One column per layer (``W^(l)`` over ``∂C/∂W^(l)``) and the two colour scales."""
        L = len(first.layers)
        box = min(HEATMAP_BOX, 5.4 / L - 0.35)
        heatmaps: list[tuple[int, str, Heatmap]] = []
        rows: list[list[VMobject]] = [[], [], [], []]
        for l, r in enumerate(first.layers, start=1):
            w = Heatmap(
                r.W, self.numbers.value("W_scale"), max_width=box, max_height=box, max_cell=0.9
            )
            g = Heatmap(
                r.dW,
                self.numbers.value("dW_scale"),
                max_width=box,
                max_height=box,
                max_cell=0.9,
                decades=GRADIENT_DECADES,
            )
            heatmaps += [(l, "W", w), (l, "dW", g)]
            rows[0].append(MathTex(rf"W^{{({l})}}", font_size=SMALL_SIZE, color=WEIGHT_COLOR))
            rows[1].append(w)
            rows[2].append(
                MathTex(
                    rf"\partial C / \partial W^{{({l})}}",
                    font_size=SMALL_SIZE,
                    color=GRADIENT_COLOR,
                )
            )
            rows[3].append(g)
        cells = [m for row in rows for m in row]
        grid = VGroup(*cells).arrange_in_grid(rows=4, cols=L, buff=(0.35, 0.15))
        w_maps = [hm for _, name, hm in heatmaps if name == "W"]  # row 1 of the grid
        g_maps = [hm for _, name, hm in heatmaps if name == "dW"]  # row 3
        w_bar = ColourScale(self.numbers, "W_scale", height=max(h.border.height for h in w_maps))
        g_bar = ColourScale(
            self.numbers,
            "dW_scale",
            height=max(h.border.height for h in g_maps),
            decades=GRADIENT_DECADES,
        )
        w_bar.next_to(grid, RIGHT, buff=0.3).match_y(VGroup(*w_maps))
        g_bar.next_to(grid, RIGHT, buff=0.3).match_y(VGroup(*g_maps))
        return heatmaps, VGroup(grid, w_bar, g_bar)

    def _layout(self) -> None:
        """Loss top-left, regions and diagram under it, heatmaps on the right."""
        width, height = config.frame_width, config.frame_height
        self.loss_panel.to_corner(UP + LEFT, buff=0.5).shift(0.55 * DOWN)
        fit_in(self.heatmap_panel, width / 2 - 0.7, height - 1.4)
        top = self.title.get_bottom()[1] - 0.2
        bottom = -height / 2 + 0.3
        self.heatmap_panel.to_edge(RIGHT, buff=0.35).set_y((top + bottom) / 2)
        if self.heatmap_panel.get_top()[1] > self.loss_panel.get_top()[1]:
            self.heatmap_panel.align_to(self.loss_panel, UP)
        lower_width = self.loss_panel.width
        if self.regions is not None:
            fit_box(self.diagram, lower_width - self.regions.width - 0.6, 2.6)
            lower = VGroup(self.regions, self.diagram).arrange(RIGHT, buff=0.6)
        else:
            fit_box(self.diagram, lower_width, 2.9)
            lower = VGroup(self.diagram)
        lower.next_to(self.loss_panel, DOWN, buff=0.45).align_to(self.loss_panel, LEFT)
        space_right = self.heatmap_panel.get_left()[0] - 0.3
        if lower.get_right()[0] > space_right:
            lower.shift((space_right - lower.get_right()[0]) * RIGHT)

    def _advance(self, previous: int, k: int) -> list[Animation | _AnimationBuilder]:
        """Everything that changes from shown iteration ``previous`` to ``k``."""
        step = self.trace.step(k)
        counter = self._counter(k).move_to(self.counter, aligned_edge=LEFT)
        segment = self._segment(previous, k)
        self.curve.append(segment)
        anims: list[Animation | _AnimationBuilder] = [
            Create(segment),
            # manim types `.animate` as the builder or the mobject; it is the builder.
            cast(_AnimationBuilder, self.curve_dot.animate.move_to(self._curve_point(k))),
            ReplacementTransform(self.counter, counter),
        ]
        self.counter = counter
        layers = step.layers
        for l, name, hm in self.heatmaps:
            values = layers[l - 1].W if name == "W" else layers[l - 1].dW
            anims.append(hm.transition(values))
        anims.append(
            Transform(
                self.diagram.edges,
                self.diagram.edges_styled([r.W for r in layers], scale=self.edge_scale),
            )
        )
        if self.regions is not None:
            anims.append(self.regions.transition(step))
        return anims
