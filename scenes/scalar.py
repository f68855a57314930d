r"""The question's one-weight example, told correctly with the engine's numbers.

``a^(L) = a^(L-1) w`` with ``a^(L-1) = 5.7``, ``w = −23.1``, target ``y = 50.1``: the cost,
the sensitivity ``ΔC/Δw`` of a nudge, the chain rule (with the question's slip
``∂a^(L)/∂w = a^(L)`` corrected to ``a^(L-1)``), 20 steps of gradient descent with
``R = 0.007`` as a table and a plot (the question's MATLAB output), and the result.

Render::

    manim render -ql scenes/scalar.py

Inputs: the ``seed-scalar`` preset by default; ``BACKPROP_TRACE``, ``BACKPROP_PRESET``,
``BACKPROP_CONFIG``, ``BACKPROP_ITERATION`` and ``BACKPROP_DECIMALS`` as for every scene
(see :mod:`backprop_anim.inputs`). The trace must be a 1-1 network without bias, identity
activation, one sample and a squared-error loss; anything else stops with one line.
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    GREY_B,
    LEFT,
    RIGHT,
    UP,
    Create,
    Cross,
    Dot,
    FadeIn,
    FadeOut,
    Indicate,
    ManimColor,
    MathTex,
    NumberLine,
    SurroundingRectangle,
    Text,
    VGroup,
    Write,
)
from numpy.typing import NDArray

from backprop_anim import style
from backprop_anim.diagram import NetworkDiagram
from backprop_anim.formula import Formula
from backprop_anim.plots import RunPlot
from backprop_anim.story import StoryScene, require, significant_decimals, trimmed_decimals
from backprop_explain import provenance
from backprop_explain.elide import visible_indices
from backprop_explain.provenance import Entry, Source
from backprop_explain.question import sensitivities

A_PREV = (r"a^{(L-1)}", style.ACTIVATION_COLOR)
A_OUT = (r"a^{(L)}", style.ACTIVATION_COLOR)
W = ("w", style.WEIGHT_COLOR)
Y = ("y", style.TARGET_COLOR)
C = ("C", style.COST_COLOR)
R = ("R", style.TEXT_COLOR)
DC_DW = (r"\frac{\partial C}{\partial w}", style.GRADIENT_COLOR)
DA_DW = (r"\frac{\partial a^{(L)}}{\partial w}", style.ACTIVATION_COLOR)
DC_DA = (r"\frac{\partial C}{\partial a^{(L)}}", style.GRADIENT_COLOR)

LOSS_FACTOR = {"sse": "2", "mse": "2", "half_sse": ""}
"""The factor in front of ``(a^(L) − y)`` in ``∂C/∂a^(L)`` (one output, one sample)."""
LOSS_HALF = {"sse": "", "mse": "", "half_sse": r"\tfrac{1}{2}"}
"""The factor in front of ``(a^(L) − y)²`` in ``C``."""

TABLE_ROWS = 20
"""Iterations listed in the table; longer runs are elided (first rows, ⋮, last row)."""
PREDICTION = provenance.product(Entry("a", 0, (0, 0)), Entry("W_next", 1, (0, 0)))
"""The network's output after an update, ``a^(L-1) · w``: the input times the new weight."""
MATLAB_DIGITS = 5
"""MATLAB's short format: the question's output has five significant digits."""


class ScalarScene(StoryScene):
    """The question's example: one weight, its cost, its gradient and 20 descent steps."""

    default_preset = "seed-scalar"

    def setup(self) -> None:
        super().setup()
        cfg = self.trace.config
        shape = "-".join(map(str, cfg.sizes))
        require(
            self.inputs,
            cfg.sizes == (1, 1),
            "network.sizes",
            f"scalar.py needs a 1-1 network (one input, one weight), got {shape}; "
            "use scenes/delta.py for larger networks",
        )
        require(
            self.inputs,
            cfg.activations == ("identity",) and not cfg.bias,
            "network",
            "scalar.py shows a^(L) = a^(L-1) w: it needs activations = identity and bias = false",
        )
        require(
            self.inputs,
            cfg.loss in LOSS_FACTOR,
            "network.loss",
            f"scalar.py shows a squared error; choose one of {', '.join(LOSS_FACTOR)}",
        )
        require(
            self.inputs,
            cfg.x.shape[1] == 1,
            "data.x",
            f"scalar.py shows one sample, got {cfg.x.shape[1]}; use scenes/delta.py for batches",
        )
        self.factor = LOSS_FACTOR[cfg.loss]
        self.half = LOSS_HALF[cfg.loss]
        self.last = self.trace.steps[-1].iteration

    # -- the table of contents ---------------------------------------------------------
    def construct(self) -> None:
        self.show_network()
        self.show_cost()
        self.show_sensitivity()
        self.show_chain_rule()
        self.show_gradient_descent()
        self.show_result()
        self.finish_beats()

    # -- numbers -------------------------------------------------------------------------
    def num(
        self,
        expression: str | Source,
        color: ManimColor = style.TEXT_COLOR,
        *,
        iteration: int | None = None,
        decimals: int | None = None,
        font_size: float = style.BODY_SIZE,
    ) -> MathTex:
        """A registered number (a trace expression, or a source of
        :mod:`~backprop_explain.provenance`), trailing zeros trimmed unless ``decimals``
        is given."""
        text = expression if isinstance(expression, str) else provenance.expression(expression)
        if decimals is None:
            decimals = trimmed_decimals(self.numbers.value(text, iteration), self.numbers.decimals)
        if isinstance(expression, str):
            return self.numbers.tex(text, decimals, iteration, font_size=font_size, color=color)
        return self.numbers.tex_of(
            expression, decimals, iteration, font_size=font_size, color=color
        )

    def rate(self, font_size: float = style.BODY_SIZE) -> MathTex:
        """The learning rate ``R``, with at least its three significant digits."""
        eta = self.numbers.value("eta")
        most = max(self.numbers.decimals, significant_decimals(eta, 3))
        return self.num("eta", decimals=trimmed_decimals(eta, most), font_size=font_size)

    def title(self, text: str) -> Text:
        return Text(text, font_size=style.TITLE_SIZE).to_edge(UP, buff=0.4)

    def neuron_picture(
        self, weight: NDArray[np.float64], w_label: Formula, output: MathTex
    ) -> VGroup:
        """The 1-1 network drawn large: ``a^(L-1)`` and ``a^(L)`` over their neurons, ``w``
        on the edge, the values under the neurons.

        Parts: diagram, layer labels, ``w`` label, input value, output value.
        """
        net = NetworkDiagram([1, 1], weights=[weight], layer_buff=3.8, radius=0.55)
        net.remove(net.size_labels)
        labels = VGroup(
            net.layer_label(0, A_PREV[0], font_size=style.BODY_SIZE + 4).set_color(A_PREV[1]),
            net.layer_label(1, A_OUT[0], font_size=style.BODY_SIZE + 4).set_color(A_OUT[1]),
        )
        w_label.next_to(net.get_edge(1, 0, 0), UP, buff=0.2)
        in_value = self.num("a0[0,0]", style.ACTIVATION_COLOR)
        in_value.next_to(net.get_neuron(0, 0), DOWN, buff=0.25)
        output.next_to(net.get_neuron(1, 0), DOWN, buff=0.25)
        return VGroup(net, labels, w_label, in_value, output)

    # -- beats ---------------------------------------------------------------------------
    def show_network(self) -> None:
        a0, w, a1, y = (self.say(e) for e in ("a0[0,0]", "W1[0,0]", "a1[0,0]", "y[0,0]"))
        self.beat(
            "network",
            f"The question's neuron: a(L) = a(L-1) times w. With a(L-1) = {a0} and w = {w} "
            f"the output is {a1}, far from the wanted {y}.",
        )
        title = self.title("One neuron, one weight")
        heading = self.change_heading(title)
        picture = self.neuron_picture(
            self.step.layers[0].W,
            Formula(W, "=", self.num("W1[0,0]", style.WEIGHT_COLOR)),
            self.num("a1[0,0]", style.ACTIVATION_COLOR),
        )
        forward = Formula(
            A_OUT, "=", A_PREV, W, "=", self.num("a0[0,0]"), r"\times", "(",
            self.num("W1[0,0]"), ")", "=", self.num("a1[0,0]", style.ACTIVATION_COLOR),
        )  # fmt: skip
        target = Formula(
            r"\text{wanted: }", A_OUT, "^*", "=", Y, "=", self.num("y[0,0]", style.TARGET_COLOR)
        )
        column = VGroup(forward, target).arrange(DOWN, aligned_edge=LEFT, buff=0.45)
        # The board of this beat and the next: the neuron on the left, its numbers on the
        # right, where the cost's lines come under the target.
        picture.move_to(LEFT * 3.4 + DOWN * 0.2)
        column.next_to(picture, RIGHT, buff=1.1).align_to(picture, UP).shift(DOWN * 0.2)
        self.record_layout("network and forward pass", title, picture, forward, target)
        net, labels, w_label, in_value, out_value = picture
        self.play(*heading, Create(net), FadeIn(labels), FadeIn(in_value), FadeIn(w_label))
        self.play(Write(forward))
        self.play(FadeIn(out_value), Indicate(forward.get_part(-1)))
        self.play(FadeIn(target))
        self.wait()
        self.picture, self.forward, self.target = picture, forward, target

    def show_cost(self) -> None:
        self.beat(
            "cost",
            f"The cost measures the miss: C = {self.half} (a(L) minus y) squared "
            f"= {self.say('loss')}.",
        )
        title = self.title("The cost")
        heading = self.change_heading(title)
        definition = Formula(C, "=", self.half, r"\left(", A_OUT, "-", Y, r"\right)^{2}")
        numbers = Formula(
            "=", self.half, r"\left(", self.num("a1[0,0]", style.ACTIVATION_COLOR), "-",
            self.num("y[0,0]", style.TARGET_COLOR), r"\right)^{2}", "=",
            self.num("loss", style.COST_COLOR),
        )  # fmt: skip
        lines = VGroup(definition, numbers).arrange(DOWN, aligned_edge=LEFT, buff=0.4)
        numbers.shift(RIGHT * (definition.get_part(1).get_x() - numbers.get_part(0).get_x()))
        lines.next_to(self.target, DOWN, buff=0.7, aligned_edge=LEFT)
        self.record_layout(
            "cost", title, self.picture, self.forward, self.target, definition, numbers
        )
        self.play(*heading, Write(definition))
        self.play(Write(numbers))
        self.play(Indicate(numbers.get_part(-1)))
        self.wait()

    def show_sensitivity(self) -> None:
        nudges = sensitivities(
            self.trace.config, [r.W for r in self.step.layers], [r.b for r in self.step.layers], 1
        )
        for i, n in enumerate(nudges):
            self.numbers.define(f"eps{i}", n.epsilon)
            self.numbers.define(f"nudge_a{i}", n.output)
            self.numbers.define(f"nudge_C{i}", n.cost)
            self.numbers.define(f"d_a{i}", n.d_output)
            self.numbers.define(f"d_C{i}", n.d_cost)
            self.numbers.define(f"ratio{i}", n.ratio)
        self.beat(
            "sensitivity",
            "Nudge w by a small epsilon and watch a(L) and C move. The ratio of the change in C "
            "to the change in w settles, as epsilon shrinks, on the derivative dC/dw = "
            f"{self.say('dW1[0,0]')}.",
        )
        title = self.title("Sensitivity: nudge w by ε")
        heading = self.change_heading(title)
        moved = ("W1[0,0]+eps{}", "nudge_a{}", "nudge_C{}")
        rows = VGroup(
            self.nudge_row(W, "W1[0,0]", moved[0].format(0), "eps0", style.WEIGHT_COLOR),
            self.nudge_row(A_OUT, "a1[0,0]", moved[1].format(0), "d_a0", style.ACTIVATION_COLOR),
            self.nudge_row(C, "loss", moved[2].format(0), "d_C0", style.COST_COLOR),
        ).arrange(DOWN, buff=1.0)
        for r in rows[1:]:  # number lines one under the other, whatever the labels' widths
            r.shift(RIGHT * (rows[0][1][0].get_x() - r[1][0].get_x()))
        table = self.ratio_table(len(nudges))
        exact = Formula(DC_DW, "=", self.num("dW1[0,0]", style.GRADIENT_COLOR))
        box = SurroundingRectangle(exact, color=style.GRADIENT_COLOR, buff=0.15)
        right = VGroup(table, VGroup(exact, box)).arrange(DOWN, buff=0.6)
        VGroup(rows, right).arrange(RIGHT, buff=0.9).next_to(title, DOWN, buff=0.7)
        note = Text(
            "As ε shrinks, ΔC/Δw settles on the derivative ∂C/∂w.", font_size=style.SMALL_SIZE + 2
        ).to_edge(DOWN, buff=0.6)
        self.record_layout("nudges and ratios", title, *rows, table, VGroup(exact, box), note)
        self.play(*self.leave(), *heading, *self.arrive(*(r[:3] for r in rows), table[0]))
        for r in rows:
            self.play(FadeIn(r[3]), FadeIn(r[4]), r[2].animate.move_to(r[5]), run_time=0.8)
        self.play(FadeIn(table[1]))
        self.play(*(FadeOut(r[3]) for r in rows), *(FadeOut(r[4]) for r in rows))
        for i, row in enumerate(table[2:], start=1):
            targets = [
                r[1][0].n2p(self.numbers.value(m.format(i)))
                for r, m in zip(rows, moved, strict=True)
            ]
            self.play(
                FadeIn(row),
                *(r[2].animate.move_to(t) for r, t in zip(rows, targets, strict=True)),
                run_time=0.9,
            )
        self.play(FadeIn(exact), Create(box), FadeIn(note))
        self.wait()

    def nudge_row(
        self,
        symbol: tuple[str, ManimColor],
        before: str,
        after: str,
        delta: str,
        color: ManimColor,
    ) -> VGroup:
        """``symbol``, a number line with the value before and after the nudge, and Δ.

        Parts: label, line, moving dot, value before, value after, target point of the dot,
        Δ formula (the dot starts on the value before).
        """
        v0, v1 = self.numbers.value(before), self.numbers.value(after)
        span = abs(v1 - v0) or 1.0
        low, high = min(v0, v1) - 0.6 * span, max(v0, v1) + 0.6 * span
        line = NumberLine(
            x_range=[low, high, (high - low) / 8], length=4.2, include_tip=False, color=GREY_B
        )
        label = MathTex(symbol[0], font_size=style.BODY_SIZE, color=symbol[1])
        label.next_to(line, LEFT, buff=0.3)
        start = Dot(line.n2p(v0), color=style.TEXT_COLOR, radius=0.07)
        dot = Dot(line.n2p(v0), color=color, radius=0.08)
        end = Dot(line.n2p(v1), radius=0.0)
        size = style.SMALL_SIZE
        before_mob = self.num(before, style.TEXT_COLOR, font_size=size).next_to(start, UP, 0.15)
        after_mob = self.num(after, color, font_size=size).next_to(end, DOWN, 0.15)
        d = Formula(
            (rf"\Delta {symbol[0]}", color), "=", self.num(delta, color, font_size=size),
            font_size=size,
        )  # fmt: skip
        d.next_to(line, RIGHT, buff=0.3)
        return VGroup(label, VGroup(line, start, before_mob), dot, after_mob, d, end)

    def ratio_table(self, count: int) -> VGroup:
        """Header and one row per ε: ``ε`` and ``ΔC/Δw`` (numbers from the nudges)."""
        size = style.SMALL_SIZE + 4
        header = VGroup(
            MathTex(r"\varepsilon", font_size=size),
            MathTex(r"\Delta C / \Delta w", font_size=size, color=style.GRADIENT_COLOR),
        )
        cells: list[MathTex] = [*header]
        for i in range(count):
            eps = self.numbers.value(f"eps{i}")
            cells.append(self.num(f"eps{i}", decimals=significant_decimals(eps, 1), font_size=size))
            cells.append(self.num(f"ratio{i}", style.GRADIENT_COLOR, font_size=size))
        grid = VGroup(*cells).arrange_in_grid(
            rows=count + 1, cols=2, buff=(0.7, 0.25), col_alignments="rr"
        )
        return VGroup(*(VGroup(*grid[2 * i : 2 * i + 2]) for i in range(count + 1)))

    def show_chain_rule(self) -> None:
        self.beat(
            "chain rule",
            "The chain rule: dC/dw is da(L)/dw times dC/da(L). The first factor is a(L-1), "
            f"the input {self.say('a0[0,0]')}, not a(L): the question wrote a(L) by a "
            "slip, but its iteration formula used the right factor, a(L-1).",
        )
        title = self.title("The chain rule")
        heading = self.change_heading(title)
        rule = Formula(DC_DW, "=", DA_DW, r"\cdot", DC_DA)
        # Each factor, then their product: every line's "=" under the rule's.
        first = Formula(DA_DW, "=", A_PREV, "=", self.num("a0[0,0]", style.ACTIVATION_COLOR))
        second = Formula(
            DC_DA, "=", self.factor, r"\left(", A_OUT, "-", Y, r"\right)", "=",
            self.num("grad_a[0,0]", style.GRADIENT_COLOR),
        )  # fmt: skip
        values = Formula(
            DC_DW, "=", self.num("a0[0,0]", style.ACTIVATION_COLOR), r"\cdot", "(",
            self.num("grad_a[0,0]", style.GRADIENT_COLOR), ")", "=",
            self.num("dW1[0,0]", style.GRADIENT_COLOR),
        )  # fmt: skip
        lines = VGroup(rule, first, second, values).arrange(DOWN, aligned_edge=LEFT, buff=0.4)
        for line in (first, second, values):
            line.shift(RIGHT * (rule.get_part(1).get_x() - line.get_part(1).get_x()))
        # The derivation on the left, the question's line and its correction on the right.
        slip = self.slip_note()
        board = VGroup(lines, slip).arrange(RIGHT, buff=1.2, aligned_edge=UP).scale(1.1)
        board.move_to(DOWN * 0.4)
        self.record_layout("chain rule and the slip", title, rule, first, second, values, slip)
        self.play(*self.leave(), *heading, *self.arrive(rule, first, slip[0], slip[1]))
        self.play(Indicate(rule.get_part(2)), Indicate(first.get_part(2)))
        self.play(Write(second))
        self.play(Write(values))
        self.play(Indicate(values.get_part(-1)))
        self.play(Create(slip[2]))
        self.play(FadeIn(slip[3]))
        self.wait(2)

    def slip_note(self) -> VGroup:
        """The question's line ``∂a/∂W = a^(L-1)W/W = a^(L)``, crossed out, and the fix.

        Parts: what the question wrote (text), its line, the cross over its ``a^(L)``, the
        correction (text, formula, why), one under the other.
        """
        size = style.SMALL_SIZE + 4
        said = Text("The question wrote", font_size=size)
        wrong = VGroup(
            MathTex(
                r"\frac{\partial a^{(L)}}{\partial w} = \frac{a^{(L-1)} w}{w} =",
                font_size=style.BODY_SIZE,
            ),
            MathTex(r"a^{(L)}", font_size=style.BODY_SIZE),
        ).arrange(RIGHT, buff=0.15)
        fix = Text("a slip: it is", font_size=size)
        right = Formula(DA_DW, "=", A_PREV, font_size=style.BODY_SIZE)
        why = VGroup(
            Text("its iteration formula", font_size=size),
            VGroup(
                Text("already used", font_size=size),
                MathTex(r"a^{(L-1)}", font_size=style.BODY_SIZE, color=A_PREV[1]),
            ).arrange(RIGHT, buff=0.15),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        correction = VGroup(VGroup(fix, right).arrange(RIGHT, buff=0.3), why)
        correction.arrange(DOWN, aligned_edge=LEFT, buff=0.3)
        VGroup(said, wrong, correction).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        cross = Cross(wrong[1], stroke_width=4, scale_factor=1.3)  # after the layout
        return VGroup(said, wrong, cross, correction)

    def show_gradient_descent(self) -> None:
        self.beat(
            "gradient descent",
            f"Gradient descent with R = {self.say('eta')}: "
            "w(k+1) = w(k) minus R dC/dw. "
            "The first step in full, then all iterations: the table and the plot of w against k "
            "are the question's own MATLAB output, and the cost falls by orders of magnitude.",
        )
        title = self.title("Gradient descent")
        heading = self.change_heading(title)
        rule = Formula(
            ("w(k+1)", style.WEIGHT_COLOR), "=", ("w(k)", style.WEIGHT_COLOR), "-", R,
            (r"\frac{\partial C}{\partial w}(k)", style.GRADIENT_COLOR), ",", r"\quad", R, "=",
            self.rate(),
        )  # fmt: skip
        first = self.first_step()
        table = self.weight_table()
        plots = self.run_plots()
        # The rule, its first step and the table on the left; the plots fill in beside it.
        left = VGroup(rule, first, table).arrange(DOWN, aligned_edge=LEFT, buff=0.4)
        VGroup(left, plots).arrange(RIGHT, buff=0.6).next_to(title, DOWN, buff=0.35)
        self.record_layout("update rule, first step, table and plots", title, rule, first,
                           table, *plots)  # fmt: skip
        self.play(*self.leave(), *heading, *self.arrive(rule, first, table[0], plots))
        self.play(Indicate(first.get_part(-1)))
        w_plot, c_plot = plots
        for row, points in zip(table[1], self.row_points, strict=True):
            grow = [p.grow(i) for i in points for p in (w_plot, c_plot)]
            self.play(FadeIn(row), *grow, run_time=0.35)
        for plot in plots:  # the grown points become part of their plot, to stay with it
            assert isinstance(plot, RunPlot)
            self.remove(*plot.segments, *plot.dots)
            plot.add(plot.segments, plot.dots)
        self.wait()
        self.plots = plots

    def first_step(self) -> Formula:
        """``w(1) = w(0) − R ∂C/∂w = −23.1 − 0.007 × (−2072.178) = −8.5948``."""
        k = self.step.iteration
        return Formula(
            (f"w({k})", style.WEIGHT_COLOR), "=", self.num("W1[0,0]", style.WEIGHT_COLOR), "-",
            self.rate(),
            r"\times", "(", self.num("dW1[0,0]", style.GRADIENT_COLOR), ")", "=",
            self.num(
                "W_next1[0,0]", style.WEIGHT_COLOR,
                decimals=self.matlab_decimals(k),
            ),
        )  # fmt: skip

    def weight_table(self) -> VGroup:
        """Header and one row per iteration: ``k`` and ``w(k)`` in MATLAB's five digits.

        Two blocks side by side; row ``k`` shows ``W^(1)`` after update ``k`` (``W_next1`` of
        iteration ``k``), as the question's ``w = w - r*a*2*(a*w - y)`` prints it. Runs
        longer than :data:`TABLE_ROWS` are elided; ``self.row_points`` lists, per row, the
        plot points that appear with it (an elided row brings all the points it hides).
        """
        size = style.SMALL_SIZE + 2
        its = [s.iteration for s in self.trace.steps]
        shown = visible_indices(len(its), TABLE_ROWS)
        rows = []
        self.row_points: list[list[int]] = []
        self.table_numbers: list[MathTex] = []
        for n, i in enumerate(shown):
            if i is None:
                dots = MathTex(r"\vdots", font_size=size)
                rows.append(VGroup(dots, dots.copy().set_opacity(0)))
                self.row_points.append(list(range(n, len(its) - 1)))
                continue
            k = its[i]
            number = self.num(
                "W_next1[0,0]", style.WEIGHT_COLOR, iteration=k,
                decimals=self.matlab_decimals(k), font_size=size,
            )  # fmt: skip
            rows.append(VGroup(MathTex(str(k), font_size=size), number))
            self.table_numbers.append(number)
            self.row_points.append([i])
        half = (len(rows) + 1) // 2
        blocks, headers = VGroup(), VGroup()
        for chunk in (rows[:half], rows[half:]):
            if not chunk:
                continue
            header = VGroup(
                MathTex("k", font_size=size),
                MathTex("w(k)", font_size=size, color=style.WEIGHT_COLOR),
            )
            cells = [*header, *(cell for row in chunk for cell in row)]
            VGroup(*cells).arrange_in_grid(
                rows=len(chunk) + 1, cols=2, buff=(0.45, 0.12), col_alignments="rr"
            )
            blocks.add(VGroup(header, *chunk))
            headers.add(header)
        blocks.arrange(RIGHT, buff=0.6, aligned_edge=UP)
        return VGroup(headers, VGroup(*rows))

    def run_plots(self) -> VGroup:
        """``w(k)`` (as the question's MATLAB plot) and ``C`` after update ``k``, log scale."""
        its = [s.iteration for s in self.trace.steps]
        ws = [self.numbers.value("W_next1[0,0]", k) for k in its]
        costs = [self.numbers.value("loss_after", k) for k in its]
        w_plot = RunPlot(its, ws, style.WEIGHT_COLOR, "w(k)", width=4.6, height=2.5)
        c_plot = RunPlot(its, costs, style.COST_COLOR, "C(k)", log_y=True, width=4.6, height=2.3)
        return VGroup(w_plot, c_plot).arrange(DOWN, buff=0.5)

    def matlab_decimals(self, iteration: int) -> int:
        """Decimals of ``w`` after update ``iteration`` in MATLAB's five significant digits."""
        return significant_decimals(self.numbers.value("W_next1[0,0]", iteration), MATLAB_DIGITS)

    def show_result(self) -> None:
        k = self.last
        self.beat(
            "result",
            f"After {k} iterations a(L-1) times w = {self.say('a0[0,0]')} times "
            f"{self.numbers.text('W_next1[0,0]', self.matlab_decimals(k), k)} = "
            f"{self.numbers.text(provenance.expression(PREDICTION), iteration=k)}: "
            f"the wanted {self.say('y[0,0]')}.",
        )
        title = self.title("The result")
        heading = self.change_heading(title)
        picture = self.neuron_picture(
            self.trace.step(k).layers[0].W_next,
            Formula((f"w({k})", style.WEIGHT_COLOR), "=", self.final_weight()),
            self.num(PREDICTION, style.ACTIVATION_COLOR, iteration=k,
                     decimals=self.numbers.decimals),
        )  # fmt: skip
        product = Formula(
            A_PREV, r"\cdot", (f"w({k})", style.WEIGHT_COLOR), "=",
            self.num("a0[0,0]", style.ACTIVATION_COLOR), r"\times", self.final_weight(),
        )  # fmt: skip
        value = Formula(
            "=", self.num(PREDICTION, style.ACTIVATION_COLOR, iteration=k,
                          decimals=self.numbers.decimals),
            r"\approx", self.num("y[0,0]", style.TARGET_COLOR), "=", Y,
        )  # fmt: skip
        result = VGroup(product, value).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        value.shift(RIGHT * (product.get_part(3).get_x() - value.get_part(0).get_x()))
        box = SurroundingRectangle(result, color=style.HIGHLIGHT_COLOR, buff=0.25)
        # The plots stay; the trained neuron and its output take the table's place.
        left = VGroup(picture, VGroup(result, box)).arrange(DOWN, buff=0.8)
        left.next_to(self.plots, LEFT, buff=0.8)
        self.record_layout("result", title, picture, VGroup(result, box), *self.plots)
        net, labels, w_label, in_value, out_value = picture
        self.play(*self.leave(self.plots), *heading,
                  *self.arrive(net, labels, in_value, w_label))  # fmt: skip
        self.play(FadeIn(out_value))
        self.play(Write(result))
        self.play(Create(box))
        self.wait(2)

    def final_weight(self) -> MathTex:
        """``w`` after the last update, in MATLAB's five digits (the table's last row)."""
        k = self.last
        return self.num("W_next1[0,0]", style.WEIGHT_COLOR, iteration=k,
                        decimals=self.matlab_decimals(k))  # fmt: skip


__all__ = ["ScalarScene"]
