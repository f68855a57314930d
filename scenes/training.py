"""A network learning: the loss curve, the weights and gradients as heatmaps, the regions.

For a long trace (default: the ``xor`` preset, 3000 iterations recorded every 10), the
real loss curve (``trace.losses``) draws itself while an iteration counter advances;
beside it, for every layer, ``W^(l)`` and ``∂C/∂W^(l)`` are heatmaps on one shared,
labelled colour scale per quantity; the diagram's edges follow the weights; and for a
network with 2 inputs and 1 output the decision regions on the input plane evolve under
the data points.

On a trace of the handwritten digits (``BACKPROP_PRESET=digits``, any config with
``[data] dataset``), the heatmaps and the diagram give way to what that network is about:
each hidden neuron's 64 incoming weights (its row of ``W^(1)``) drawn as an 8 × 8 picture
on one colour scale for the whole run, a few test images with the network's ten output
probabilities as bars (a forward pass with each shown step's ``W`` and ``b``), and beside
the loss curve the accuracy on the training and the test set at every recorded step, the
current values as numbers.

The video shows a fixed number of recorded iterations (:data:`SHOWN_ITERATIONS`, spread
over the run by :func:`backprop_explain.regions.shown_iterations`), so its length does not
grow with the trace; heatmaps of wide layers keep a fixed cell budget, so a frame costs
about the same whatever the width. Every state is prepared and reached by ``Transform``.

Every view is laid out and shown in the first second of the run, at its first recorded
iteration (a viewer never looks at half an empty frame while the run is introduced); the
next beat adds what explains a view (the colour scales, the hidden units' picture scale)
and the training beat fills the curves in. Every number and label is at least 10 px tall
at 480p (``SMALL_SIZE``).

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
from backprop_anim.digits import PixelImage, ProbabilityBars
from backprop_anim.heatmap import ColourScale, Heatmap
from backprop_anim.layout import Layout
from backprop_anim.regions import RegionsPlot
from backprop_anim.scene import TraceScene
from backprop_anim.style import (
    ACTIVATION_COLOR,
    BODY_SIZE,
    COST_COLOR,
    GRADIENT_COLOR,
    SMALL_SIZE,
    TARGET_COLOR,
    TEXT_COLOR,
    WEIGHT_COLOR,
)
from backprop_core.io import step_accuracy
from backprop_core.network import feedforward
from backprop_core.trace import Step
from backprop_explain.format import tex_literal
from backprop_explain.regions import (
    field_scale,
    has_regions,
    loss_curve,
    shown_iterations,
    symmetric_scale,
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
SHOWN_DIGITS = 4
"""Test images whose predicted probabilities a digits trace shows (the first test
sample of each of the first classes met in the test set)."""
UNIT_SIDE = 0.95
"""Width of one hidden unit's 8 × 8 picture."""
TRAIN_COLOR = ACTIVATION_COLOR
"""The accuracy on the training set (the network's outputs on data it learns from)."""
TEST_COLOR = TARGET_COLOR
"""The accuracy on the held-out test set."""

M = TypeVar("M", bound=Mobject)


def fit_in(mob: M, width: float, height: float | None = None) -> M:
    """Shrink ``mob`` to fit ``width`` (and ``height``); never enlarge."""
    if mob.width > width:
        mob.scale_to_fit_width(width)
    if height is not None and mob.height > height:
        mob.scale_to_fit_height(height)
    return mob


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
        if self.digits_on:
            self._choose_digits()

    def introduce_run(self) -> None:
        if self.digits_on:
            self.introduce_digits()
            return
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
        self.heatmaps, self.heatmap_panel = self._heatmap_panel(first)
        self.regions = RegionsPlot(self.trace, first, side=2.7) if self.regions_on else None
        self._layout(first)
        parts = [self.title, self.loss_panel, self.heatmap_panel, self.diagram]
        parts += [self.regions] if self.regions is not None else []
        self.layouts = [Layout.of("run", "panels", parts)]
        # Every view is in place from the first second; the next beat adds the scales.
        grid, *self.colour_scales = self.heatmap_panel
        views = [self.title, self.loss_panel, self.diagram, grid]
        views += [self.regions] if self.regions is not None else []
        self.play(*(FadeIn(m) for m in views), run_time=0.8)

    def explain_heatmaps(self) -> None:
        if self.digits_on:
            self.explain_pictures()
            return
        self.beat(
            "heatmaps",
            "On the right, every weight matrix W and its gradient as heatmaps: blue for "
            "positive, red for negative, brighter for larger, on one scale for all layers "
            "and all iterations; the gradients' scale is logarithmic, because they shrink "
            "by orders of magnitude. Wide matrices show their first and last entries.",
        )
        grid = self.heatmap_panel[0]
        self.play(*(FadeIn(bar) for bar in self.colour_scales))
        for row in (grid[: len(self.heatmaps)], grid[len(self.heatmaps) :]):
            self.play(Indicate(row, scale_factor=1.05))
        self.wait(1)

    def train(self) -> None:
        if self.digits_on:
            narration = (
                "Now watch it learn: the cost and the accuracies draw themselves up to each "
                "shown step, the hidden units' pictures take that step's weights, and the "
                "bars show what the network now says about each test image."
            )
        else:
            narration = (
                "Now watch it learn: the cost curve draws itself up to each shown iteration, "
                "and the heatmaps and the edges take that iteration's weights and gradients"
                + (", while the regions follow the network's output." if self.regions_on else ".")
            )
        self.beat("training", narration, duration=STEP_SECONDS * (len(self.shown) - 1))
        advance = self._advance_digits if self.digits_on else self._advance
        for previous, k in zip(self.shown, self.shown[1:], strict=False):
            self.play(*advance(previous, k), run_time=STEP_SECONDS)
        self.wait(0.5)

    def conclude(self) -> None:
        if self.digits_on:
            self.conclude_digits()
            return
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

    @property
    def digits_on(self) -> bool:
        """A trace of a named data set (the handwritten digits): pictures, not heatmaps."""
        return self.trace.config.dataset is not None

    def _title(self) -> MathTex:
        c = self.trace.config
        text = (
            rf"\text{{Training {tex_literal(c.name or 'a network')}: "
            rf"{'-'.join(map(str, c.sizes))}, "
            rf"{c.activations[-1]} output, {c.loss.replace('_', ' ')}}}"
        )
        title = MathTex(text, font_size=BODY_SIZE, color=TEXT_COLOR)
        return fit_in(title, config.frame_width - 1).to_edge(UP, buff=0.25)

    def _loss_panel(self, k0: int, size: tuple[float, float] = LOSS_SIZE) -> VGroup:
        """Axes of ``C`` against ``k``, the curve in one piece per shown interval, a dot
        and the counter ``k = …, C = …`` (numbers of iteration ``k0``)."""
        n = self.trace.config.iterations
        top = float(np.max(self.trace.losses)) * 1.08
        axes = Axes(
            x_range=[0, n, n],
            y_range=[0, top, top],
            x_length=size[0],
            y_length=size[1],
            tips=False,
            axis_config={"include_ticks": False, "color": TEXT_COLOR, "stroke_width": 2},
        )
        self.axes = axes
        self.curve: list[VMobject] = []
        self.curve_dot = Dot(self._curve_point(k0), radius=0.06, color=COST_COLOR)
        font = SMALL_SIZE
        last = self.shown[-1]
        x_end = self.numbers.tex("iteration", decimals=0, iteration=last, font_size=font)
        x_end.next_to(axes.x_axis.get_end(), DOWN, buff=0.1)
        x_label = MathTex("k", font_size=font).next_to(axes.x_axis.get_end(), RIGHT, buff=0.2)
        y_label = MathTex("C", font_size=font, color=COST_COLOR)
        y_label.next_to(axes.y_axis.get_end(), UP, buff=0.1)
        first_loss = self.numbers.tex(
            "loss", iteration=self.shown[0], font_size=font, color=COST_COLOR
        )
        first_loss.next_to(axes.c2p(0, self.trace.step(self.shown[0]).loss), LEFT, buff=0.1)
        zero = MathTex("0", font_size=font).next_to(axes.c2p(0, 0), LEFT, buff=0.1)
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

    def _diagram(self, step: Step, width: float, height: float) -> NetworkDiagram:
        """The network spread over ``width × height``, edges styled by ``step``'s weights
        on the run's scale; its sizes are in the title, so no size labels."""
        diagram = NetworkDiagram.fitted(
            self.trace.config.sizes, width, height, radius=0.15, max_neuron_buff=0.6
        )
        diagram.remove(diagram.size_labels)
        diagram.set_weights([r.W for r in step.layers], scale=self.edge_scale)
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

    def _layout(self, first: Step) -> None:
        """Loss top-left, regions and diagram (of ``first``) under it, heatmaps on the
        right."""
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
            self.diagram = self._diagram(first, lower_width - self.regions.width - 0.6, 2.6)
            lower = VGroup(self.regions, self.diagram).arrange(RIGHT, buff=0.6)
        else:
            self.diagram = self._diagram(first, lower_width, 2.9)
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

    # --- a digits trace: hidden units as pictures, test images, accuracies ---------------

    def _choose_digits(self) -> None:
        """The accuracies of every recorded step, the shown test images and their outputs,
        and the pictures' colour scale (``|w|`` over ``W^(1)`` at every shown step)."""
        c = self.trace.config
        assert c.x_test is not None and c.y_test is not None
        acc = {s.iteration: step_accuracy(c, s) for s in self.trace.steps}
        self.numbers.define("acc_train", {k: a[0] for k, a in acc.items()})
        self.numbers.define("acc_test", {k: a[1] for k, a in acc.items()})
        labels = np.argmax(c.y_test, axis=0)
        first = {int(d): int(np.argmax(labels == d)) for d in labels[::-1]}
        self.samples = sorted(first.values())[:SHOWN_DIGITS]
        x = c.x_test[:, self.samples]
        probabilities = {}
        for k in self.shown:
            layers = self.trace.step(k).layers
            probabilities[k] = feedforward(c, [r.W for r in layers], [r.b for r in layers], x)
        self.numbers.define("p_test", probabilities)
        self.numbers.define(
            "W1_scale", symmetric_scale([self.trace.step(k).layers[0].W for k in self.shown])
        )

    def introduce_digits(self) -> None:
        c = self.trace.config
        assert c.x_test is not None
        self.beat(
            "run",
            f"A {'-'.join(map(str, c.sizes))} network learning real handwritten digits: "
            f"{c.x.shape[1]} images of 8 by 8 pixels, in mini-batches of {c.batch_size}, "
            f"with {c.x_test.shape[1]} more held out to test it. On the right, its cost "
            "and its accuracy on both sets; below, what it says about a few test images.",
        )
        first = self.trace.step(self.shown[0])
        self.title = self._title()
        self.loss_panel = self._loss_panel(first.iteration, size=(5.6, 1.45))
        self.accuracy_panel = self._accuracy_panel(first.iteration)
        self.units, self.units_panel = self._units_panel(first)
        self.tests_panel = self._tests_panel(first.iteration)
        self._layout_digits()
        parts = [self.title, self.loss_panel, self.accuracy_panel]
        parts += [self.units_panel, self.tests_panel]
        self.layouts = [Layout.of("run", "panels", parts)]
        self.heatmaps = []
        # Every view from the first second; the pictures' colour scale comes next beat.
        label, grid, _ = self.units_panel
        views = [self.title, self.loss_panel, self.accuracy_panel, self.tests_panel, label, grid]
        self.play(*(FadeIn(m) for m in views), run_time=0.8)

    def explain_pictures(self) -> None:
        self.beat(
            "pictures",
            "On the left, each hidden neuron's 64 incoming weights, one row of W one, drawn "
            "as an 8 by 8 picture in the places of the pixels they weigh: blue for "
            "positive, red for negative, brighter for larger, on one scale for every "
            "neuron and every step.",
        )
        _, grid, bar = self.units_panel
        self.play(FadeIn(bar))
        self.play(Indicate(grid, scale_factor=1.05))
        self.wait(1)

    def conclude_digits(self) -> None:
        self.beat(
            "result",
            "Over the whole run, the accuracy on images it never trained on rose from "
            "chance to what the counter shows.",
        )
        first, last = self.shown[0], self.shown[-1]
        size = BODY_SIZE - 8
        summary = VGroup(
            MathTex(r"\text{test:}", font_size=size, color=TEST_COLOR),
            self.numbers.tex("100*acc_test[iteration]", 1, first, font_size=size),
            MathTex(r"\% \to", font_size=size, color=TEST_COLOR),
            self.numbers.tex("100*acc_test[iteration]", 1, last, font_size=size),
            MathTex(r"\%", font_size=size, color=TEST_COLOR),
        ).arrange(RIGHT, buff=0.1)
        for part in summary[1::2]:
            part.set_color(TEST_COLOR)
        summary.next_to(self.accuracy_panel, DOWN, buff=0.12).align_to(self.accuracy_panel, RIGHT)
        self.layouts.append(Layout.of("result", "summary", [summary, self.tests_panel]))
        self.play(FadeIn(summary), Indicate(self.acc_dots[1], color=TEST_COLOR))
        self.wait(1.5)

    def _accuracy_panel(self, k0: int) -> VGroup:
        """Axes of the train and test accuracy (0 to 1) against ``k``, their curves, dots
        and the counter of both accuracies in per cent (numbers of step ``k0``)."""
        n = self.trace.config.iterations
        axes = Axes(
            x_range=[0, n, n],
            y_range=[0, 1, 1],
            x_length=5.6,
            y_length=1.45,
            tips=False,
            axis_config={"include_ticks": False, "color": TEXT_COLOR, "stroke_width": 2},
        )
        self.acc_axes = axes
        self.acc_curves: list[VMobject] = []
        self.acc_dots = [
            Dot(self._accuracy_point(k0, i), radius=0.05, color=color)
            for i, color in enumerate((TRAIN_COLOR, TEST_COLOR))
        ]
        size = SMALL_SIZE
        y_label = MathTex(r"\text{accuracy}", font_size=SMALL_SIZE)
        y_label.next_to(axes.y_axis.get_end(), UP, buff=0.1).align_to(axes, LEFT)
        one = MathTex("1", font_size=size).next_to(axes.c2p(0, 1), LEFT, buff=0.1)
        zero = MathTex("0", font_size=size).next_to(axes.c2p(0, 0), LEFT, buff=0.1)
        x_label = MathTex("k", font_size=SMALL_SIZE).next_to(axes.x_axis.get_end(), RIGHT, 0.2)
        self.acc_counter = self._accuracy_counter(k0)
        self.acc_counter.next_to(axes.c2p(n, 0), UP + LEFT, buff=0.1)
        return VGroup(axes, y_label, one, zero, x_label, *self.acc_dots, self.acc_counter)

    def _accuracy_point(self, k: int, which: int) -> np.ndarray:
        name = ("acc_train", "acc_test")[which]
        return self.acc_axes.c2p(k, self.numbers.defined[name][k])

    def _accuracy_counter(self, k: int) -> VGroup:
        size = SMALL_SIZE
        parts: list[VMobject] = []
        for label, name, color in (
            ("train", "acc_train", TRAIN_COLOR),
            ("test", "acc_test", TEST_COLOR),
        ):
            parts += [
                MathTex(rf"\text{{{label}}}", font_size=size, color=color),
                self.numbers.tex(f"100*{name}[iteration]", 1, k, font_size=size, color=color),
                MathTex(r"\%", font_size=size, color=color),
            ]
        counter = VGroup(*parts).arrange(RIGHT, buff=0.1)
        counter[3:].shift(0.3 * RIGHT)
        return counter

    def _accuracy_segment(self, a: int, b: int, which: int) -> VMobject:
        """An accuracy curve from step ``a`` to ``b`` through the recorded steps between."""
        ks = [s.iteration for s in self.trace.steps if a <= s.iteration <= b]
        seg = VMobject(stroke_color=(TRAIN_COLOR, TEST_COLOR)[which], stroke_width=3)
        return seg.set_points_as_corners([self._accuracy_point(k, which) for k in ks])

    def _units_panel(self, first: Step) -> tuple[list[PixelImage], VGroup]:
        """Every hidden neuron's row of ``W^(1)`` as a picture, a title and the scale."""
        scale = self.numbers.value("W1_scale")
        W = first.layers[0].W
        units = [PixelImage(W[j], scale=scale, side=UNIT_SIDE) for j in range(W.shape[0])]
        cols = int(np.ceil(np.sqrt(len(units))))
        grid = VGroup(*units).arrange_in_grid(cols=cols, buff=0.12)
        bar = ColourScale(self.numbers, "W1_scale", height=grid.height * 0.8)
        bar.next_to(grid, RIGHT, buff=0.2)
        label = MathTex(
            r"\text{hidden units: rows of }", r"W^{(1)}", font_size=SMALL_SIZE, color=TEXT_COLOR
        )
        label[1].set_color(WEIGHT_COLOR)
        label.next_to(grid, UP, buff=0.15)
        return units, VGroup(label, grid, bar)

    def _tests_panel(self, k0: int) -> VGroup:
        """The shown test images, each with its ten output probabilities as bars and the
        largest probability as a number (step ``k0``)."""
        c = self.trace.config
        assert c.x_test is not None
        self.bars: list[ProbabilityBars] = []
        self.best: list[MathTex] = []
        cells = []
        for s, column in enumerate(self.samples):
            image = PixelImage(c.x_test[:, column], signed=False, side=1.05)
            bars = ProbabilityBars(
                self._probabilities(k0, s), width=1.8, height=0.95, label_size=SMALL_SIZE
            )
            bars.next_to(image, RIGHT, buff=0.12).align_to(image, DOWN)
            best = self._best_number(k0, s, bars)
            self.bars.append(bars)
            self.best.append(best)
            cells.append(VGroup(image, bars, best))
        row = VGroup(*cells).arrange(RIGHT, buff=0.35, aligned_edge=DOWN)
        label = MathTex(r"\text{test images and the network's } a^{(2)}", font_size=SMALL_SIZE)
        label.next_to(row, UP, buff=0.12).align_to(row, LEFT)
        return VGroup(label, row)

    def _probabilities(self, k: int, s: int) -> list[float]:
        return [float(p) for p in self.numbers.defined["p_test"][k][:, s]]

    def _best_number(self, k: int, s: int, bars: ProbabilityBars) -> MathTex:
        """The largest output probability of test image ``s`` at step ``k``, over its bar."""
        best = int(np.argmax(self._probabilities(k, s)))
        number = self.numbers.tex(
            f"p_test[iteration][{best}, {s}]", 2, k, font_size=SMALL_SIZE, color=TEXT_COLOR
        )
        return number.move_to(bars.label_point(best), aligned_edge=DOWN)

    def _layout_digits(self) -> None:
        """Pictures on the left, curves on the right, test images along the bottom."""
        width = config.frame_width
        top = self.title.get_bottom()[1] - 0.2
        self.tests_panel.to_edge(DOWN, buff=0.3)
        fit_in(self.tests_panel, width - 0.8)
        self.tests_panel.set_x(0)
        room = top - self.tests_panel.get_top()[1] - 0.3
        fit_in(self.units_panel, width / 2 - 1.0, room)
        self.units_panel.to_edge(LEFT, buff=0.45).set_y(top - self.units_panel.height / 2)
        curves = VGroup(self.loss_panel, self.accuracy_panel).arrange(DOWN, buff=0.45)
        fit_in(curves, width / 2 - 0.4, room)
        curves.to_edge(RIGHT, buff=0.5).set_y(top - curves.height / 2 - 0.15)

    def _advance_digits(self, previous: int, k: int) -> list[Animation | _AnimationBuilder]:
        """Everything that changes on a digits trace from shown step ``previous`` to ``k``."""
        step = self.trace.step(k)
        counter = self._counter(k).move_to(self.counter, aligned_edge=LEFT)
        acc_counter = self._accuracy_counter(k).move_to(self.acc_counter, aligned_edge=LEFT)
        segment = self._segment(previous, k)
        self.curve.append(segment)
        anims: list[Animation | _AnimationBuilder] = [
            Create(segment),
            cast(_AnimationBuilder, self.curve_dot.animate.move_to(self._curve_point(k))),
            ReplacementTransform(self.counter, counter),
            ReplacementTransform(self.acc_counter, acc_counter),
        ]
        self.counter, self.acc_counter = counter, acc_counter
        for which, dot in enumerate(self.acc_dots):
            curve = self._accuracy_segment(previous, k, which)
            self.acc_curves.append(curve)
            anims += [
                Create(curve),
                cast(_AnimationBuilder, dot.animate.move_to(self._accuracy_point(k, which))),
            ]
        W = step.layers[0].W
        anims += [unit.transition(W[j]) for j, unit in enumerate(self.units)]
        for s, bars in enumerate(self.bars):
            best = self._best_number(k, s, bars)
            anims += [bars.transition(self._probabilities(k, s))]
            anims += [ReplacementTransform(self.best[s], best)]
            self.best[s] = best
        return anims
