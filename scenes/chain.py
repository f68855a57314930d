r"""The question's two-weight chain, the correct chain rule, and the bridge to matrices.

``a^(L-2) → w^(L-1) → a^(L-1) → w^(L) → a^(L)`` (layers 1 and 2 of a 1-1-1 network, so
``a^(L-2) = x``) drawn as a computational graph; the five factors of ``∂C/∂w^(L-1)`` each
found on an arrow of the graph (identity and sigmoid versions); the question's training
order (fit ``w^(L)`` first) against gradient descent over the cost's contours; and the same
product of factors for layers of many neurons: ``w → Wᵀ`` and ``· σ' → ⊙``, the delta rule.

Render::

    manim render -ql scenes/chain.py

Inputs: the ``seed-chain`` preset by default; ``BACKPROP_TRACE``, ``BACKPROP_PRESET``,
``BACKPROP_CONFIG``, ``BACKPROP_ITERATION`` and ``BACKPROP_DECIMALS`` as for every scene.
The trace must be a 1-1-1 network without bias, one sample, a squared-error loss and every
iteration recorded; anything else stops with one line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from manim import (
    DOWN,
    GREY_B,
    LEFT,
    RIGHT,
    UP,
    Arrow,
    Axes,
    Create,
    Cross,
    Dot,
    FadeIn,
    FadeOut,
    Indicate,
    LaggedStart,
    Line,
    ManimColor,
    MathTex,
    ReplacementTransform,
    SurroundingRectangle,
    Text,
    VGroup,
    VMobject,
    Write,
)
from manim.mobject.text.tex_mobject import MathTexPart

from backprop_anim import style
from backprop_anim.formula import Formula
from backprop_anim.graph import ComputationalGraph, Node
from backprop_anim.plots import AXIS_NUMBER_SIZE, linear_range
from backprop_anim.story import StoryScene, require, trimmed_decimals
from backprop_core.activations import ACTIVATIONS
from backprop_explain import equations
from backprop_explain.question import (
    Array,
    chain_factors,
    cost_at,
    residual_at,
    simultaneous_trajectory,
    train_last_layer_first,
    with_activation,
)

LOSS_FACTOR = {"sse": "2", "mse": "2", "half_sse": ""}
"""The factor in front of ``(a^(L) − y)`` in ``∂C/∂a^(L)`` (one output, one sample)."""

FACTORS = (
    # (TeX of the factor, TeX of its value, trace expression, ChainFactors field, graph edge)
    (r"\frac{\partial z^{(L-1)}}{\partial w^{(L-1)}}", "a^{(L-2)}", "a0[0,0]", "a0", ("w1", "z1")),
    (r"\frac{\partial a^{(L-1)}}{\partial z^{(L-1)}}", r"\sigma'(z^{(L-1)})", "sigma_prime1[0,0]",
     "sigma_prime1", ("z1", "a1")),
    (r"\frac{\partial z^{(L)}}{\partial a^{(L-1)}}", "w^{(L)}", "W2[0,0]", "w2", ("a1", "z2")),
    (r"\frac{\partial a^{(L)}}{\partial z^{(L)}}", r"\sigma'(z^{(L)})", "sigma_prime2[0,0]",
     "sigma_prime2", ("z2", "a2")),
    (r"\frac{\partial C}{\partial a^{(L)}}", "{factor}(a^{(L)} - y)", "grad_a[0,0]", "grad_a",
     ("a2", "C")),
)  # fmt: skip
"""The chain rule for ``∂C/∂w^(L-1)``, factor by factor, and where each lives."""

BP2_PARTS = equations.bp2_parts("l")
"""BP2 in parts, so the scalar rule can turn into it part by part."""
BRIDGE = (0, 1, 3, 4, 6, 7)
"""``δ^(L-1) = w^(L) δ^(L) σ'`` → ``δ^(l) = ((W^(l+1))ᵀ δ^(l+1)) ⊙ σ'``, part to part."""

FACTOR_COLORS = (
    style.ACTIVATION_COLOR,
    style.SIGMA_PRIME_COLOR,
    style.WEIGHT_COLOR,
    style.SIGMA_PRIME_COLOR,
    style.GRADIENT_COLOR,
)

GRAPH_RADIUS = 0.6
"""Node circles large enough for ``a^{(L-2)}`` at the body size plus 4 (legible at 480p)."""

SIMULTANEOUS_COLOR = style.GRADIENT_COLOR
"""Gradient descent's path: every step is ``−R ∇C``."""
SEQUENTIAL_COLOR = GREY_B
"""The question's order: one weight at a time."""


class ChainScene(StoryScene):
    """The two-weight chain: graph, chain rule, training order, and the delta rule."""

    default_preset = "seed-chain"

    def setup(self) -> None:
        super().setup()
        cfg = self.trace.config
        shape = "-".join(map(str, cfg.sizes))
        require(
            self.inputs,
            cfg.sizes == (1, 1, 1),
            "network.sizes",
            f"chain.py needs a 1-1-1 network (two weights in a chain), got {shape}; "
            "use scenes/delta.py for larger networks",
        )
        require(
            self.inputs,
            not cfg.bias and cfg.loss in LOSS_FACTOR,
            "network",
            "chain.py shows z = w a and a squared error: it needs bias = false and loss = "
            + " or ".join(LOSS_FACTOR),
        )
        require(
            self.inputs,
            cfg.x.shape[1] == 1,
            "data.x",
            f"chain.py shows one sample, got {cfg.x.shape[1]}; use scenes/delta.py for batches",
        )
        require(
            self.inputs,
            [s.iteration for s in self.trace.steps] == list(range(1, cfg.iterations + 1)),
            "train.every",
            "chain.py draws the whole path of the weights: record every iteration (every = 1)",
        )
        self.factor = LOSS_FACTOR[cfg.loss]
        self.last = self.trace.steps[-1].iteration
        self.first = self.trace.steps[0].iteration
        self.identity = cfg.activations == ("identity", "identity")
        # Engine-derived numbers: the same chain with another activation (sigmoid, or the
        # identity when the trace is already sigmoid), and the question's training order.
        self.other = "identity" if set(cfg.activations) == {"sigmoid"} else "sigmoid"
        other = chain_factors(with_activation(cfg, self.other))
        for name, value in other.as_dict("alt_").items():
            self.numbers.define(name, value)
        self.simultaneous = simultaneous_trajectory(self.trace)
        self.sequential = train_last_layer_first(cfg)
        self.numbers.define("seq_w1_end", float(self.sequential.entry(1)[-1]))
        self.numbers.define("seq_w2_end", float(self.sequential.entry(2)[-1]))
        self.numbers.define("seq_cost_end", float(self.sequential.costs[-1]))

    # -- the table of contents ---------------------------------------------------------
    def construct(self) -> None:
        self.show_graph()
        self.show_chain_rule()
        self.show_training_orders()
        self.show_bridge()
        self.finish_beats()

    # -- helpers -------------------------------------------------------------------------
    def num(
        self,
        expression: str,
        color: ManimColor = style.TEXT_COLOR,
        *,
        iteration: int | None = None,
        font_size: float = style.BODY_SIZE,
    ) -> MathTex:
        """A registered number, trailing zeros trimmed."""
        value = self.numbers.value(expression, iteration)
        decimals = trimmed_decimals(value, self.numbers.decimals)
        return self.numbers.tex(expression, decimals, iteration, font_size=font_size, color=color)

    def title(self, text: str) -> Text:
        return Text(text, font_size=style.TITLE_SIZE).to_edge(UP, buff=0.35)

    def activation_name(self) -> str:
        acts = set(self.trace.config.activations)
        return acts.pop() if len(acts) == 1 else " and ".join(self.trace.config.activations)

    # -- beats ---------------------------------------------------------------------------
    def show_graph(self) -> None:
        self.beat("graph")  # two cues, each over the animations it speaks about
        title = self.title("Two weights in a chain")
        graph = self.build_graph(font_size=style.BODY_SIZE + 4)
        act = ACTIVATIONS[self.trace.config.activations[0]]
        rules = VGroup(
            MathTex(r"z^{(l)} = w^{(l)} a^{(l-1)}", font_size=style.BODY_SIZE),
            MathTex(rf"a^{{(l)}} = \sigma(z^{{(l)}}) = {act.latex.replace('z', 'z^{(l)}')}",
                    font_size=style.BODY_SIZE),
            MathTex(r"C = (a^{(L)} - y)^2", font_size=style.BODY_SIZE),
        ).arrange(RIGHT, buff=0.8)  # fmt: skip
        rules.next_to(graph, DOWN, buff=0.7)
        VGroup(graph, rules).move_to(DOWN * 0.3)
        self.record_layout("graph", title, graph, rules)
        with self.cue("The question's two-weight chain as a computational graph.", "graph"):
            self.play(FadeIn(title), FadeIn(graph.edges), FadeIn(graph.nodes))
            self.play(FadeIn(graph.values))
        with self.cue(
            "w(L-1) and a(L-2) make z(L-1), which makes a(L-1); with w(L) that makes z(L) and "
            f"a(L), and with y the cost C = {self.say('loss')}.",
            "values",
        ):
            # The order of the computation: each arrow in turn, from the inputs to C.
            self.play(
                LaggedStart(*(Indicate(e, color=style.HIGHLIGHT_COLOR) for e in graph.edges),
                            lag_ratio=0.4),
                run_time=2,
            )  # fmt: skip
            self.play(Write(rules))
            self.wait()
        self.graph = graph
        self.graph_title = VGroup(title, rules)

    def build_graph(self, font_size: float) -> ComputationalGraph:
        """The graph of the chain with every node's value from the trace."""
        nodes = [
            Node("a0", "a^{(L-2)}", style.ACTIVATION_COLOR, 0, 1),
            Node("w1", "w^{(L-1)}", style.WEIGHT_COLOR, 1, 0),
            Node("z1", "z^{(L-1)}", style.Z_COLOR, 1, 1),
            Node("a1", "a^{(L-1)}", style.ACTIVATION_COLOR, 2, 1),
            Node("w2", "w^{(L)}", style.WEIGHT_COLOR, 3, 0),
            Node("z2", "z^{(L)}", style.Z_COLOR, 3, 1),
            Node("a2", "a^{(L)}", style.ACTIVATION_COLOR, 4, 1),
            Node("y", "y", style.TARGET_COLOR, 5, 0),
            Node("C", "C", style.COST_COLOR, 5, 1),
        ]
        edges = [
            ("a0", "z1"), ("w1", "z1"), ("z1", "a1"), ("a1", "z2"), ("w2", "z2"),
            ("z2", "a2"), ("a2", "C"), ("y", "C"),
        ]  # fmt: skip
        graph = ComputationalGraph(
            nodes, edges, font_size=font_size, radius=GRAPH_RADIUS, col_buff=0.85, row_buff=0.75
        )
        size = style.SMALL_SIZE + 6  # still 10 px at 480p on the graph scaled to 0.8
        for key, expr, color in (
            ("a0", "a0[0,0]", style.ACTIVATION_COLOR),
            ("z1", "z1[0,0]", style.Z_COLOR),
            ("a1", "a1[0,0]", style.ACTIVATION_COLOR),
            ("z2", "z2[0,0]", style.Z_COLOR),
            ("a2", "a2[0,0]", style.ACTIVATION_COLOR),
            ("C", "loss", style.COST_COLOR),
        ):
            graph.attach(self.num(expr, color, font_size=size), key, DOWN)
        for key, expr, color in (
            ("w1", "W1[0,0]", style.WEIGHT_COLOR),
            ("w2", "W2[0,0]", style.WEIGHT_COLOR),
            ("y", "y[0,0]", style.TARGET_COLOR),
        ):
            graph.attach(self.num(expr, color, font_size=size), key, RIGHT)
        return graph

    def show_chain_rule(self) -> None:
        act = self.activation_name()
        self.beat(
            "chain rule",
            "The chain rule for the earlier weight has five factors, one per arrow of the graph "
            "from w(L-1) to C. "
            + (
                "With identity activations both sigma-prime factors are 1; "
                if self.identity
                else f"Here sigma is {act}, so the sigma-prime factors are not 1; "
            )
            + (
                "with sigmoids they shrink the product. "
                if self.other == "sigmoid"
                else "with identity activations they would be 1. "
            )
            + "The question wrote dW(L)/da(L-1): the factor is da(L)/da(L-1), which is "
            + ("w(L) here." if self.identity else "sigma-prime of z(L) times w(L)."),
        )
        table = self.factor_table()
        header, symbols, ours, other = table
        assert isinstance(header, VGroup) and isinstance(symbols, VGroup)
        assert isinstance(ours, VGroup) and isinstance(other, VGroup)
        # The graph moves up and the factors come under it, in one move.
        graph = self.graph.copy().scale(0.8).to_edge(UP, buff=0.3)
        table.next_to(graph, DOWN, buff=0.45)
        self.play(FadeOut(self.graph_title), self.graph.animate.become(graph),
                  *self.arrive(header, symbols), run_time=0.8)  # fmt: skip
        for i, (*_, edge) in enumerate(FACTORS):
            column = VGroup(header[i + 1], symbols[i + 1])
            box = SurroundingRectangle(column, color=style.HIGHLIGHT_COLOR, buff=0.08)
            arrow = self.graph.get_edge(*edge)
            self.play(
                Create(box),
                arrow.animate.set_color(style.HIGHLIGHT_COLOR).set_stroke(width=7),
                FadeIn(ours[i + 1]),
                run_time=0.7,
            )
            self.play(
                FadeOut(box),
                arrow.animate.set_color(self.graph_color(edge)).set_stroke(width=3),
                run_time=0.6,
            )
        self.play(FadeIn(ours[0]), FadeIn(ours[-1]))
        if self.identity:
            ones = VGroup(ours[2], ours[4])
            self.play(Indicate(ones, color=style.SIGMA_PRIME_COLOR))
        self.play(FadeIn(other))
        slip = self.slip_note().next_to(table, DOWN, buff=0.4)
        self.record_layout("factors", self.graph, table, slip)
        self.play(FadeIn(slip[0]), FadeIn(slip[1]))
        self.play(Create(slip[2]))
        self.play(FadeIn(slip[3]))
        self.wait(2)

    def graph_color(self, edge: tuple[str, str]) -> ManimColor:
        """The colour of an arrow: the colour of the node it leaves."""
        return self.graph.get_node(edge[0])[0].get_color()

    def factor_table(self) -> VGroup:
        """Rows: the factors, what each equals, their numbers here and with another activation.

        Columns: a row label, the five factors, and their product ``∂C/∂w^(L-1)`` (the
        engine's BP4 value: the trace's ``dW1``, or the other chain's ``product``).
        """
        size = style.SMALL_SIZE + 2
        label_size = style.SMALL_SIZE
        act = self.activation_name()
        header: list[VMobject] = [
            MathTex(r"\frac{\partial C}{\partial w^{(L-1)}} =", font_size=size)
        ]
        header += [
            MathTex(f, font_size=size, color=c)
            for (f, *_), c in zip(FACTORS, FACTOR_COLORS, strict=True)
        ]
        header.append(blank())
        symbols: list[VMobject] = [blank()]
        symbols += [
            MathTex(v.replace("{factor}", self.factor), font_size=size, color=c)
            for (_, v, *_), c in zip(FACTORS, FACTOR_COLORS, strict=True)
        ]
        symbols.append(MathTex(r"\text{product}", font_size=size))
        ours: list[VMobject] = [Text(f"{act}:", font_size=label_size)]
        ours += [
            self.num(e, c, font_size=size)
            for (_, _, e, *_), c in zip(FACTORS, FACTOR_COLORS, strict=True)
        ]
        ours.append(self.num("dW1[0,0]", style.GRADIENT_COLOR, font_size=size))
        other: list[VMobject] = [Text(f"{self.other}:", font_size=label_size)]
        other += [
            self.num(f"alt_{n}", c, font_size=size)
            for (_, _, _, n, _), c in zip(FACTORS, FACTOR_COLORS, strict=True)
        ]
        other.append(self.num("alt_product", style.GRADIENT_COLOR, font_size=size))
        cells = [*header, *symbols, *ours, *other]
        VGroup(*cells).arrange_in_grid(rows=4, cols=7, buff=(0.45, 0.3))
        n = 7
        return VGroup(*(VGroup(*cells[r * n : (r + 1) * n]) for r in range(4)))

    def slip_note(self) -> VGroup:
        """The question's factor ``∂W^(L)/∂a^(L-1)``, crossed out, and what it is."""
        size = style.SMALL_SIZE + 2
        said = Text("The question wrote", font_size=size)
        wrong = MathTex(r"\frac{\partial W^{(L)}}{\partial a^{(L-1)}}", font_size=style.BODY_SIZE)
        right = MathTex(
            r"\text{it is }\ \frac{\partial a^{(L)}}{\partial a^{(L-1)}}"
            r" = \sigma'(z^{(L)})\, w^{(L)}",
            r"\ =\ w^{(L)}" if self.identity else "",
            font_size=style.BODY_SIZE,
        )
        row = VGroup(said, wrong, right).arrange(RIGHT, buff=0.5)
        cross = Cross(wrong, stroke_width=4, scale_factor=0.9)  # after the layout
        return VGroup(row[0], row[1], cross, row[2])

    def show_training_orders(self) -> None:
        k = self.last
        self.beat(
            "training order",
            "Gradient descent updates both weights from the same forward pass: each step is "
            "minus R times the gradient, perpendicular to the contour of C. The question fits "
            "w(L) first and then w(L-1): one axis at a time. With the same "
            f"{k} gradient evaluations it ends at C = {self.say('seq_cost_end')}, "
            f"gradient descent at C = {self.say('loss_after', k)}.",
        )
        title = self.title("What gradient descent really does")
        left = self.weight_plane(
            self.simultaneous.entry(1), self.simultaneous.entry(2), SIMULTANEOUS_COLOR
        )
        right = self.weight_plane(
            self.sequential.entry(1), self.sequential.entry(2), SEQUENTIAL_COLOR
        )
        small = style.SMALL_SIZE
        captions = (
            Text("gradient descent: both at once", font_size=small, color=SIMULTANEOUS_COLOR),
            Text("the question: w(L) first, then w(L-1)", font_size=small, color=SEQUENTIAL_COLOR),
        )
        results = (
            self.final_cost("loss_after", iteration=k),
            self.final_cost("seq_cost_end"),
        )
        panels = VGroup(
            *(
                VGroup(caption, plane, result).arrange(DOWN, buff=0.2)
                for caption, plane, result in zip(captions, (left, right), results, strict=True)
            )
        ).arrange(RIGHT, buff=1.2)
        panels.next_to(title, DOWN, buff=0.25)
        note = Text(
            "−∇C is perpendicular to the contour: only updating both weights follows it.",
            font_size=style.SMALL_SIZE,
        ).to_edge(DOWN, buff=0.25)
        self.record_layout("two orders", title, *panels, note)
        self.play(
            *self.leave(),
            *self.arrive(title, *captions, *(p.axes_group for p in (left, right)),
                         *(p.contours for p in (left, right))),
        )  # fmt: skip
        # Both paths start at the same weights, at the same cost.
        self.play(FadeIn(left.start), FadeIn(right.start), *(FadeIn(r[:3]) for r in results))
        for i in range(len(left.steps)):
            self.play(Create(left.steps[i]), Create(right.steps[i]), run_time=0.3)
        self.play(*(FadeIn(r[3:]) for r in results))
        why = self.gradient_arrow(left)
        self.play(Create(why), FadeIn(note))
        self.wait(2)

    def final_cost(self, expression: str, iteration: int | None = None) -> Formula:
        """``C = …`` at the start, an arrow, and ``C`` after the run's gradient evaluations.

        Parts: ``C``, ``=``, the start's cost (the trace's first loss: both paths start at
        the trace's initial weights), the arrow, the end's cost.
        """
        size = style.SMALL_SIZE + 4
        return Formula(
            ("C", style.COST_COLOR), "=",
            self.num("loss", style.COST_COLOR, iteration=self.first, font_size=size),
            rf"\xrightarrow{{\text{{{self.last} steps}}}}",
            self.num(expression, style.COST_COLOR, iteration=iteration, font_size=size),
            font_size=size,
        )  # fmt: skip

    def weight_plane(self, w1: Array, w2: Array, color: ManimColor) -> WeightPlane:
        """Axes ``(w^(L-1), w^(L))`` with the cost's contours and a path, step by step.

        Contours: the level of ``C`` at each of the first points of gradient descent's path
        (so each of its steps starts on a contour), and the valley ``C = 0``. Attributes:
        ``axes_group``, ``contours``, ``start``, ``steps``.
        """
        sim1, sim2 = self.simultaneous.entry(1), self.simultaneous.entry(2)
        seq1, seq2 = self.sequential.entry(1), self.sequential.entry(2)
        # One range for both axes (equal units, so "perpendicular to the contour" looks it).
        values = [0.0, *sim1, *sim2, *seq1, *seq2]
        low, high, step = linear_range([min(values), max(values)], ticks=4)
        axes = Axes(
            x_range=[low, high, step], y_range=[low, high, step], x_length=3.9, y_length=3.9,
            tips=False, axis_config={"include_numbers": True, "font_size": AXIS_NUMBER_SIZE,
                                     "decimal_number_config": {"num_decimal_places": 0}},
        )  # fmt: skip
        # Axis names outside the box of the axes, where no path or contour can reach them.
        size = style.SMALL_SIZE
        labels = VGroup(
            MathTex("w^{(L-1)}", font_size=size, color=style.WEIGHT_COLOR)
            .next_to(axes, DOWN, buff=0.1)
            .align_to(axes, RIGHT),
            MathTex("w^{(L)}", font_size=size, color=style.WEIGHT_COLOR)
            .next_to(axes, LEFT, buff=0.1)
            .align_to(axes, UP),
        )
        cfg = self.trace.config

        def level(c: float) -> Callable[[float, float], float]:
            return lambda u, v: cost_at(cfg, u, v) - c

        contours = VGroup(
            *(
                axes.plot_implicit_curve(
                    level(float(c)),
                    color=style.COST_COLOR, stroke_width=1.5, stroke_opacity=0.45,
                )
                for c in self.simultaneous.costs[:7]
            ),
            axes.plot_implicit_curve(
                lambda u, v: residual_at(cfg, u, v), color=style.COST_COLOR, stroke_width=2.5
            ),
        )  # fmt: skip
        points = [axes.c2p(a, b) for a, b in zip(w1, w2, strict=True)]
        start = Dot(points[0], color=color, radius=0.06)
        steps = VGroup(
            *(
                Line(p, q, color=color, stroke_width=3).add(Dot(q, color=color, radius=0.035))
                for p, q in itertools.pairwise(points)
            )
        )
        return WeightPlane(axes, labels, contours, start, steps)

    def gradient_arrow(self, plane: WeightPlane) -> VGroup:
        """``−∇C`` at the start, drawn along gradient descent's first step (its direction)."""
        axes = plane.axes
        w1, w2 = self.simultaneous.entry(1), self.simultaneous.entry(2)
        start, first = axes.c2p(w1[0], w2[0]), axes.c2p(w1[1], w2[1])
        direction = (first - start) / max(1e-9, float(((first - start) ** 2).sum() ** 0.5))
        arrow = Arrow(start, start + 1.2 * direction, buff=0, color=style.HIGHLIGHT_COLOR)
        label = MathTex(r"-\nabla C", font_size=style.SMALL_SIZE, color=style.HIGHLIGHT_COLOR)
        label.next_to(arrow.get_end(), RIGHT, buff=0.05)
        return VGroup(arrow, label)

    def show_bridge(self) -> None:
        self.beat(
            "bridge",
            "The same product for layers of many neurons: collect the factors after each "
            "weight into delta. The scalar w(L) becomes the transposed matrix W(l+1), and "
            "multiplying by sigma-prime becomes the entrywise product: the delta rule, and "
            "the four equations of backpropagation in matrix form.",
        )
        title = self.title("From the chain to matrices")
        scalar = self.scalar_rules()
        rows = self.four_equations()
        box = SurroundingRectangle(rows, color=style.DELTA_COLOR, buff=0.25)
        names = VGroup(
            *(
                Text(name, font_size=style.SMALL_SIZE, color=GREY_B)
                .next_to(box, LEFT, buff=0.25)
                .set_y(eq.get_y())
                for name, eq in zip(("BP1", "BP2", "BP3", "BP4"), rows, strict=True)
            )
        )
        right = VGroup(names, rows, box)
        # The chain's rules on the left; on the right the four equations, BP2's place empty
        # until the scalar rule for delta has turned into it.
        board = VGroup(scalar, right).arrange(RIGHT, buff=0.9).next_to(title, DOWN, buff=0.5)
        why = self.bridge_notes().next_to(board, DOWN, buff=0.45).set_x(0)
        others = [eq for n, eq in enumerate(rows) if n != 1]
        self.record_layout(
            "scalar rules and three equations", title, scalar, VGroup(box, *others), *names
        )
        self.play(*self.leave(), *self.arrive(title, scalar, box, names, *others))
        self.play(Indicate(scalar[1]))
        # The scalar weight becomes the transposed matrix, the product with σ' becomes ⊙:
        # part i of the scalar rule turns into part BRIDGE[i] of the matrix rule, in its row
        # (the scalar rule stays on the left).
        rule, after = scalar[1], rows[1]
        self.play(
            *(ReplacementTransform(rule[i].copy(), after[j]) for i, j in enumerate(BRIDGE)),
            FadeIn(after[2]),
            FadeIn(after[5]),
            run_time=2,
        )
        self.remove(*after)
        self.add(after)
        self.record_layout("scalar rules, the four equations and what changes", title, scalar,
                           VGroup(rows, box), *names, why)  # fmt: skip
        self.play(FadeIn(why))
        self.wait(2)

    def scalar_rules(self) -> VGroup:
        """``δ^(L)``, ``δ^(L-1)`` and ``∂C/∂w^(L-1)`` of the chain, with the trace's values."""
        size = style.BODY_SIZE + 2
        return VGroup(
            Formula((r"\delta^{(L)}", style.DELTA_COLOR), "=", self.factor, r"(a^{(L)} - y)",
                    r"\,", (r"\sigma'(z^{(L)})", style.SIGMA_PRIME_COLOR), "=",
                    self.num("delta2[0,0]", style.DELTA_COLOR), font_size=size),
            Formula((r"\delta^{(L-1)}", style.DELTA_COLOR), "=", ("w^{(L)}", style.WEIGHT_COLOR),
                    (r"\delta^{(L)}", style.DELTA_COLOR), r"\,",
                    (r"\sigma'(z^{(L-1)})", style.SIGMA_PRIME_COLOR), "=",
                    self.num("delta1[0,0]", style.DELTA_COLOR), font_size=size),
            Formula((r"\frac{\partial C}{\partial w^{(L-1)}}", style.GRADIENT_COLOR), "=",
                    (r"\delta^{(L-1)}", style.DELTA_COLOR), ("a^{(L-2)}", style.ACTIVATION_COLOR),
                    "=", self.num("dW1[0,0]", style.GRADIENT_COLOR), font_size=size),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.35)  # fmt: skip

    def bridge_notes(self) -> VGroup:
        """What changes from one neuron per layer to many: ``w → Wᵀ`` and ``· σ' → ⊙``."""
        size = style.SMALL_SIZE + 2
        return VGroup(
            MathTex(
                r"w^{(L)} \;\to\; (W^{(l+1)})^{T}:",
                r"\text{ every neuron of layer } l \text{ collects } \delta"
                r"\text{ from all neurons it feeds}",
                font_size=size,
            ),
            MathTex(
                r"\cdot\,\sigma' \;\to\; \odot\,\sigma':",
                r"\text{ each neuron multiplies by its own } \sigma'(z_j^{(l)})",
                font_size=size,
            ),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.25)

    def four_equations(self) -> VGroup:
        """BP1–BP4 in matrix form, from :mod:`backprop_explain.equations` (as ``delta.py``).

        One per row; BP2 is split into the same parts as the bridge's matrix rule.
        """
        size = style.BODY_SIZE + 2
        parts = (
            equations.bp1_parts("L"),
            BP2_PARTS,
            equations.bp3_parts("l"),
            equations.bp4_parts("l"),
        )
        rows = [color_by_quantity(MathTex(*p, font_size=size)) for p in parts]
        return VGroup(*rows).arrange(DOWN, aligned_edge=LEFT, buff=0.4)


class WeightPlane(VGroup):
    """Axes ``(w^(L-1), w^(L))`` with their labels, the contours, a path's start and its
    steps, in this order, each part also an attribute."""

    def __init__(
        self, axes: Axes, labels: VGroup, contours: VGroup, start: Dot, steps: VGroup
    ) -> None:
        axes_group = VGroup(axes, labels)
        super().__init__(axes_group, contours, start, steps)
        self.axes_group = axes_group
        self.contours = contours
        self.start = start
        self.steps = steps
        self.axes = axes


def blank() -> VMobject:
    """An invisible cell for a table laid out with ``arrange_in_grid``."""
    return Dot(radius=0.01).set_opacity(0)


def color_by_quantity(tex: MathTex) -> MathTex:
    """Colour each part of a backpropagation formula by the quantity it names."""
    for part in tex:
        assert isinstance(part, MathTexPart)
        text = part.tex_string
        if "partial C" in text or "nabla" in text:
            part.set_color(style.GRADIENT_COLOR)
        elif "delta" in text:
            part.set_color(style.DELTA_COLOR)
        elif "sigma" in text:
            part.set_color(style.SIGMA_PRIME_COLOR)
        elif "W" in text or "w" in text:
            part.set_color(style.WEIGHT_COLOR)
        elif "a^" in text:
            part.set_color(style.ACTIVATION_COLOR)
    return tex


__all__ = ["ChainScene"]
