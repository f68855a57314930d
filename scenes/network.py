"""One iteration of backpropagation on the network diagram, with the trace's numbers.

The view 3Blue1Brown made familiar, driven by a real trace: edges coloured by the sign of
their weight and as thick as it is large; activations light the neurons layer by layer;
the errors δ flow back from the output neuron by neuron; the edges then show ∂C/∂W and
the weights move by the update. One weight ``w_jk^(l)`` (the shown edge with the largest
``|∂C/∂w|``) is followed across every view: its edge, its entry of ``W^(l)``, its term of
``z_j`` and its gradient ``δ_j a_k``.

Render: ``manim render -ql scenes/network.py`` (default preset ``delta-demo``); choose a
trace with ``BACKPROP_TRACE``/``BACKPROP_PRESET``/``BACKPROP_CONFIG``, the iteration with
``BACKPROP_ITERATION`` and the precision with ``BACKPROP_DECIMALS``. In a batch, the
neurons show the first sample (column 0) and the gradients are the batch means.

Indices on screen count from 0, as in the trace and in ``scenes/delta.py``: ``w_jk^(l)``
joins neuron ``k`` of layer ``l-1`` to neuron ``j`` of layer ``l``, the first neuron of
a layer is neuron 0. Layers are numbered as in Nielsen's book (``a^(0)`` is the input).

The frame is shared the same way in every beat: the network fills the left half, drawn
as large as the box allows (:meth:`NetworkDiagram.fitted`: the box sets the spacing, the
neurons keep the radius their numbers need); the right half holds the rule of the beat
(forward, cost, backward, gradient), one more line per beat, until the followed weight's
matrix, term, gradient and update take its place.
"""

from __future__ import annotations

from typing import TypeVar

from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    Animation,
    AnimationGroup,
    FadeIn,
    FadeOut,
    Indicate,
    LaggedStart,
    Line,
    ManimColor,
    MathTex,
    Mobject,
    ShowPassingFlash,
    SurroundingRectangle,
    Transform,
    VGroup,
    Write,
    config,
)

from backprop_anim.diagram import NetworkDiagram
from backprop_anim.layout import Layout
from backprop_anim.mobjects import TraceMatrix
from backprop_anim.numbers import NumberRegistry
from backprop_anim.products import Factor, Tex, outer_line, term_line, update_line
from backprop_anim.scene import TraceScene
from backprop_anim.style import (
    ACTIVATION_COLOR,
    BIAS_COLOR,
    BODY_SIZE,
    COST_COLOR,
    DELTA_COLOR,
    GRADIENT_COLOR,
    HIGHLIGHT_COLOR,
    INPUT_COLOR,
    MAX_ROWS,
    NEGATIVE_COLOR,
    POSITIVE_COLOR,
    SMALL_SIZE,
    TEXT_COLOR,
    WEIGHT_COLOR,
    Z_COLOR,
)
from backprop_explain.elide import visible_indices
from backprop_explain.provenance import Quantity
from backprop_explain.regions import largest_entry, symmetric_scale

NEURON_FONT = SMALL_SIZE
"""Font size of the values written inside and under the neurons: a digit about 10 px tall
at 480p, the legibility floor of every number on screen."""
MIN_RADIUS = 0.42
DIAGRAM_BOX = (6.3, 5.5)
"""Width and height of the diagram's box, the left half of the frame under the caption."""
PANEL_WIDTH = 6.6
"""Width of the right half's panel."""

M = TypeVar("M", bound=Mobject)


def neuron_radius(decimals: int) -> float:
    """The radius whose circle holds the widest value at ``decimals`` (``-0.123``) at
    :data:`NEURON_FONT`, so nothing written in a neuron is shrunk below the floor."""
    widest = MathTex("-0." + "0" * decimals, font_size=NEURON_FONT).width
    return max(MIN_RADIUS, widest / 1.7)


def build_diagram(numbers: NumberRegistry) -> NetworkDiagram:
    """The step's network with edges styled by ``W^(l)``, spread over :data:`DIAGRAM_BOX`;
    the size labels leave room for the δ written under the lowest neurons."""
    width, height = DIAGRAM_BOX
    return NetworkDiagram.fitted(
        numbers.trace.config.sizes,
        width,
        height,
        radius=neuron_radius(numbers.decimals),
        weights=[r.W for r in numbers.step.layers],
        label_buff=0.3 + MathTex("0", font_size=NEURON_FONT).height,
    )


def chosen_weight(numbers: NumberRegistry, diagram: NetworkDiagram) -> tuple[int, int, int]:
    """``(l, j, k)`` of the drawn edge with the largest ``|∂C/∂W^(l)[j, k]|``."""
    best: tuple[int, int, int] | None = None
    best_value = -1.0
    for l, r in enumerate(numbers.step.layers, start=1):
        rows, cols = diagram.shown_neurons(l), diagram.shown_neurons(l - 1)
        j, k = largest_entry(r.dW, rows, cols)
        if abs(float(r.dW[j, k])) > best_value:
            best, best_value = (l, j, k), abs(float(r.dW[j, k]))
    assert best is not None
    return best


def fewest_shown(n: int, index: int) -> int:
    """The tightest elision of ``n`` entries (``max_rows``/``max_cols`` of
    :class:`TraceMatrix`) that still shows entry ``index``: a wide ``W`` then fits the
    panel at the legible size."""
    for limit in (4, MAX_ROWS):
        if index in visible_indices(n, limit):
            return limit
    return n


def fit_in(mob: M, width: float) -> M:
    """Shrink ``mob`` to ``width`` if it is wider (never enlarge)."""
    if mob.width > width:
        mob.scale_to_fit_width(width)
    return mob


class NetworkScene(TraceScene):
    """Forward pass, backward pass, gradients and update of one iteration on the diagram."""

    default_preset = "delta-demo"
    hold_for_narration = True

    def setup(self) -> None:
        super().setup()
        self.layouts: list[Layout] = []

    def construct(self) -> None:
        self.introduce_network()
        self.forward_pass()
        self.show_cost()
        self.backward_pass()
        self.show_gradients()
        self.link_one_weight()
        self.update_weights()
        self.finish_beats()

    # --- beats -----------------------------------------------------------------------

    def introduce_network(self) -> None:
        self.beat(
            "network",
            "This is the network of the trace. Each line is one weight: blue if it is "
            "positive, red if negative, thicker the larger it is. Indices count from 0, "
            "as in the trace.",
        )
        self.diagram = build_diagram(self.numbers).to_edge(LEFT, buff=0.6)
        self.title = self._title()
        self.edge_caption = self._edge_caption(r"\text{edges: } W^{(l)}", WEIGHT_COLOR)
        top = self.edge_caption.get_bottom()[1] - 0.3
        self.diagram.set_y(top - DIAGRAM_BOX[1] / 2)
        self.rules = self._rules()
        self.play(
            FadeIn(self.title),
            Write(self.diagram),
            FadeIn(self.edge_caption),
            FadeIn(self.rules[0]),
        )
        self.wait(0.5)

    def forward_pass(self) -> None:
        m = self.step.input.shape[1]
        sample = "" if m == 1 else f" Neurons show sample 0 of the batch of {m}."
        self.beat(
            "forward",
            "Forward pass: the input enters on the left, and each layer's activations "
            "a = sigma(W a + b) light its neurons, one layer after the other." + sample,
        )
        self.values: dict[tuple[int, int], MathTex] = {}
        self.play(FadeIn(self.rules[1], shift=0.1 * DOWN), self._light_layer(0))
        for l in range(1, self.diagram.num_layers + 1):
            self.play(self._flow(l, ACTIVATION_COLOR, backwards=False))
            self.play(self._light_layer(l))
        self.wait(0.5)

    def show_cost(self) -> None:
        self.beat("cost", "The output is compared with the target: this is the cost C.")
        self.cost = self.rules[2]
        parts = [self.title, self.edge_caption, self.diagram, *self.rules]
        self.layouts.append(Layout.of("cost", "diagram and rules", parts))
        self.play(
            FadeIn(self.cost, shift=0.1 * DOWN),
            Indicate(self.diagram.get_layer(self.diagram.num_layers), color=COST_COLOR),
        )
        self.wait(0.5)

    def backward_pass(self) -> None:
        self.beat(
            "backward",
            "Backward pass: the error delta starts at the output and flows back through "
            "the transposed weights, neuron by neuron, down to the first hidden layer.",
        )
        self.deltas: dict[tuple[int, int], MathTex] = {}
        L = self.diagram.num_layers
        self.play(FadeIn(self.rules[3], shift=0.1 * DOWN), self._show_deltas(L))
        for l in range(L - 1, 0, -1):
            self.play(self._flow(l + 1, DELTA_COLOR, backwards=True))
            self.play(self._show_deltas(l))
        self.wait(0.5)

    def show_gradients(self) -> None:
        self.beat(
            "gradients",
            "Each weight's gradient is delta of the neuron it enters times the activation "
            "it comes from. Now the lines show the gradient: colour is its sign, width its "
            "size.",
        )
        dWs = [r.dW for r in self.step.layers]
        target = self.diagram.edges_styled(dWs, symmetric_scale(dWs))
        caption = self._edge_caption(
            r"\text{edges: } \partial C / \partial W^{(l)}", GRADIENT_COLOR
        )
        self.play(
            FadeIn(self.rules[4], shift=0.1 * DOWN),
            Transform(self.diagram.edges, target),
            Transform(self.edge_caption, caption),
            run_time=1.5,
        )
        self.wait(0.5)

    def link_one_weight(self) -> None:
        l, j, k = self.picked = chosen_weight(self.numbers, self.diagram)
        self.beat(
            "one-weight",
            f"Follow one weight, the one with the largest gradient: w {j} {k} of "
            f"layer {l}. It is one line of the diagram, one entry of the matrix W, one "
            "term of z, and its gradient is delta times a.",
        )
        edge = self.diagram.get_edge(l, j, k)
        self.edge_marker = edge.copy().set_stroke(HIGHLIGHT_COLOR, width=7, opacity=1)
        self.panel = self._weight_panel(l, j, k)
        self.play(
            FadeOut(self.rules),
            FadeIn(self.edge_marker),
            FadeIn(self.panel[0], shift=0.1 * DOWN),
        )
        for part in self.panel[1:3]:
            self.play(FadeIn(part, shift=0.1 * DOWN))
        self.play(Indicate(self.edge_marker, color=HIGHLIGHT_COLOR))
        self.wait(1)

    def update_weights(self) -> None:
        change = "smaller" if self.step.loss_after < self.step.loss else "not smaller"
        self.beat(
            "update",
            "Gradient descent moves every weight against its gradient, by the learning "
            "rate eta times the gradient. The lines show the new weights, and the cost "
            f"after the step is {change}.",
        )
        update, costs = self.panel[3:]
        parts = [self.title, self.edge_caption, self.diagram, *self.panel]
        self.layouts.append(Layout.of("update", "diagram and linked weight", parts))
        self.play(FadeIn(update))
        Ws = [r.W for r in self.step.layers]
        Wn = [r.W_next for r in self.step.layers]
        scale = symmetric_scale(Ws + Wn)
        caption = self._edge_caption(
            r"\text{edges: } W^{(l)} \text{ after the update}", WEIGHT_COLOR
        )
        self.play(
            Transform(self.diagram.edges, self.diagram.edges_styled(Wn, scale)),
            Transform(self.edge_caption, caption),
            FadeOut(self.edge_marker),
            run_time=1.5,
        )
        self.play(FadeIn(costs))
        self.wait(1.5)

    # --- helpers: each returns mobjects or an animation -------------------------------

    def _title(self) -> VGroup:
        t = self.trace.config
        sizes = "-".join(map(str, t.sizes))
        title = MathTex(
            rf"\text{{One iteration on the network: {sizes}, iteration }}",
            font_size=BODY_SIZE,
            color=TEXT_COLOR,
        )
        k = self.numbers.tex("iteration", decimals=0, font_size=BODY_SIZE, color=TEXT_COLOR)
        group = VGroup(title, k).arrange(RIGHT, buff=0.12)
        k.align_to(title, UP)
        return fit_in(group, config.frame_width - 1).to_edge(UP, buff=0.3)

    def _edge_caption(self, tex: str, color: object) -> VGroup:
        plus = Line(0.25 * LEFT, 0.25 * RIGHT, color=POSITIVE_COLOR, stroke_width=5)
        minus = Line(0.25 * LEFT, 0.25 * RIGHT, color=NEGATIVE_COLOR, stroke_width=5)
        caption = VGroup(
            MathTex(tex, font_size=SMALL_SIZE, color=color),
            plus,
            MathTex("> 0", font_size=SMALL_SIZE, color=TEXT_COLOR),
            minus,
            MathTex("< 0", font_size=SMALL_SIZE, color=TEXT_COLOR),
        ).arrange(RIGHT, buff=0.15)
        caption[1].shift(0.15 * RIGHT)
        caption[2].shift(0.15 * RIGHT)
        caption[3:].shift(0.4 * RIGHT)
        caption.next_to(self.title, DOWN, buff=0.25)
        return caption.align_to(self.diagram, LEFT)

    def _rules(self) -> VGroup:
        """The right half before the followed weight: what the edges and indices mean,
        then one rule per beat (forward, cost, backward, gradient), all in place from the
        start so the beats only fade their line in."""
        size = BODY_SIZE - 4
        key = VGroup(
            MathTex(
                r"w^{(l)}_{jk}",
                r":\ \text{neuron } k \text{ of layer } l-1 \to \text{neuron } j "
                r"\text{ of layer } l",
                font_size=SMALL_SIZE,
            ),
            MathTex(r"\text{Indices count from 0, as in the trace.}", font_size=SMALL_SIZE),
        )
        key[0][0].set_color(WEIGHT_COLOR)
        if self.step.input.shape[1] > 1:
            key.add(
                VGroup(
                    MathTex(r"\text{neurons: sample 0 of}", font_size=SMALL_SIZE),
                    self.numbers.tex("m", decimals=0, font_size=SMALL_SIZE),
                ).arrange(RIGHT, buff=0.1)
            )
        key.arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        forward = MathTex(
            "a^{(l)}", r"= \sigma(", "W^{(l)}", "a^{(l-1)}", "+", "b^{(l)}", ")",
            font_size=size,
        )  # fmt: skip
        for i, color in ((0, ACTIVATION_COLOR), (2, WEIGHT_COLOR), (3, ACTIVATION_COLOR)):
            forward[i].set_color(color)
        forward[5].set_color(BIAS_COLOR)
        cost = VGroup(
            MathTex("C", "=", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss", font_size=size, color=COST_COLOR),
        ).arrange(RIGHT, buff=0.15)
        backward = VGroup(
            MathTex(r"\delta^{(L)}", r"= \partial C / \partial z^{(L)}", font_size=size),
            MathTex(
                r"\delta^{(l)}", "=", r"(W^{(l+1)})^T", r"\delta^{(l+1)}",
                r"\odot \sigma'(z^{(l)})", font_size=size,
            ),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)  # fmt: skip
        for line in backward:
            line[0].set_color(DELTA_COLOR)
        backward[1][2].set_color(WEIGHT_COLOR)
        backward[1][3].set_color(DELTA_COLOR)
        gradient = MathTex(
            r"\frac{\partial C}{\partial w^{(l)}_{jk}}", "=", r"\delta^{(l)}_j", "a^{(l-1)}_k",
            font_size=size,
        )  # fmt: skip
        gradient[0].set_color(GRADIENT_COLOR)
        gradient[2].set_color(DELTA_COLOR)
        gradient[3].set_color(ACTIVATION_COLOR)
        rules = VGroup(key, forward, cost, backward, gradient)
        rules.arrange(DOWN, aligned_edge=LEFT, buff=0.45)
        top = self.edge_caption.get_bottom()[1] - 0.3
        return rules.to_edge(RIGHT, buff=0.5).set_y(top - rules.height / 2)

    def _neuron_value(self, l: int, j: int, expression: str, color: object) -> MathTex:
        neuron = self.diagram.get_neuron(l, j)
        mob = self.numbers.tex(expression, font_size=NEURON_FONT, color=color)
        fit_in(mob, 1.7 * neuron.width / 2)
        return mob.move_to(neuron)

    def _light_layer(self, l: int) -> Animation:
        name = "a0" if l == 0 else f"a{l}"
        color = INPUT_COLOR if l == 0 else ACTIVATION_COLOR
        anims = []
        for j in self.diagram.shown_neurons(l):
            neuron = self.diagram.get_neuron(l, j)
            value = self._neuron_value(l, j, f"{name}[{j},0]", color)
            self.values[(l, j)] = value
            level = min(abs(float(self.numbers.value(f"{name}[{j},0]"))), 1.0)
            anims.append(
                AnimationGroup(
                    # AnimationGroup builds `.animate` itself; manim's hint names Animation only.
                    neuron.animate.set_fill(color, opacity=0.1 + 0.3 * level).set_stroke(color),  # type: ignore[arg-type]
                    FadeIn(value),
                )
            )
        return LaggedStart(*anims, lag_ratio=0.25)

    def _flow(self, l: int, color: object, backwards: bool) -> Animation:
        """A pulse along every drawn edge of ``W^(l)``, forwards or backwards."""
        pulses = []
        for j in self.diagram.shown_neurons(l):
            for k in self.diagram.shown_neurons(l - 1):
                edge = self.diagram.get_edge(l, j, k)
                start, end = edge.get_start(), edge.get_end()
                if backwards:
                    start, end = end, start
                line = Line(start, end, stroke_width=5, color=color)
                pulses.append(ShowPassingFlash(line, time_width=0.5))
        return AnimationGroup(*pulses, run_time=0.8)

    def _show_deltas(self, l: int) -> Animation:
        anims = []
        for j in self.diagram.shown_neurons(l):
            neuron = self.diagram.get_neuron(l, j)
            label = self.numbers.tex(f"delta{l}[{j},0]", font_size=NEURON_FONT, color=DELTA_COLOR)
            label.next_to(neuron, DOWN, buff=0.04)
            self.deltas[(l, j)] = label
            # AnimationGroup builds `.animate` itself; manim's hint names Animation only.
            anims.append(AnimationGroup(neuron.animate.set_stroke(DELTA_COLOR), FadeIn(label)))  # type: ignore[arg-type]
        return LaggedStart(*anims, lag_ratio=0.4)

    def _weight_panel(self, l: int, j: int, k: int) -> VGroup:
        """``W^(l)`` with the entry boxed, the term of ``z_j`` and the gradient, stacked."""
        w = rf"w^{{({l})}}_{{{j}{k}}}"
        a_k = rf"a^{{({l - 1})}}_{{{k}}}"
        rows, cols = self.step.layers[l - 1].W.shape
        matrix = TraceMatrix(
            self.numbers,
            f"W{l}",
            WEIGHT_COLOR,
            max_rows=fewest_shown(rows, j),
            max_cols=fewest_shown(cols, k),
            font_size=26,
        )
        label = MathTex(rf"W^{{({l})}} =", font_size=BODY_SIZE, color=WEIGHT_COLOR)
        matrix_row = VGroup(label, matrix).arrange(RIGHT, buff=0.2)
        fit_in(matrix_row, PANEL_WIDTH)
        box = SurroundingRectangle(matrix.get_entry(j, k), color=HIGHLIGHT_COLOR, buff=0.06)
        matrix_row.add(box)

        z_sum = MathTex(
            rf"z^{{({l})}}_{{{j}}}",
            rf"= \sum_k w^{{({l})}}_{{{j}k}} a^{{({l - 1})}}_k + b^{{({l})}}_{{{j}}}",
            font_size=BODY_SIZE - 4,
        )
        z_sum[0].set_color(Z_COLOR)
        size = BODY_SIZE - 4
        term = term_line(
            self.numbers,
            self._factor("W", l),
            self._factor("a", l - 1),
            (j, 0),
            k,
            label=[
                Tex(rf"k = {k}:\ "),
                Tex(w, WEIGHT_COLOR),
                Tex(a_k, self._factor("a", l - 1).color),
                "=",
            ],
            times=r"\times",
            font_size=size,
            buff=0.13,
        )
        term.add(SurroundingRectangle(VGroup(term[1], term[2]), color=HIGHLIGHT_COLOR, buff=0.05))
        z_row = VGroup(z_sum, term).arrange(DOWN, aligned_edge=LEFT, buff=0.15)

        rows = [
            matrix_row,
            z_row,
            self._gradient_line(l, j, k),
            self._update_line(l, j, k),
            self._cost_before_after(),
        ]
        panel = VGroup(*rows).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        fit_in(panel, PANEL_WIDTH)
        top = self.edge_caption.get_bottom()[1] - 0.3
        if panel.height > top + config.frame_height / 2 - 0.3:
            panel.scale_to_fit_height(top + config.frame_height / 2 - 0.3)
        panel.to_edge(RIGHT, buff=0.4).set_y(top - panel.height / 2)
        return panel

    def _factor(self, quantity: Quantity, l: int) -> Factor:
        """An operand of a product line, in its quantity's colour."""
        colors: dict[str, ManimColor] = {
            "W": WEIGHT_COLOR,
            "delta": DELTA_COLOR,
            "dW": GRADIENT_COLOR,
        }
        if quantity == "a":
            return Factor("a", l, ACTIVATION_COLOR if l > 0 else INPUT_COLOR)
        return Factor(quantity, l, colors[quantity])

    def _gradient_line(self, l: int, j: int, k: int) -> VGroup:
        dw = rf"\frac{{\partial C}}{{\partial w^{{({l})}}_{{{j}{k}}}}}"
        d_j = rf"\delta^{{({l})}}_{{{j}}}"
        a_k = rf"a^{{({l - 1})}}_{{{k}}}"
        m = self.step.input.shape[1]
        if m == 1:
            delta, a = self._factor("delta", l), self._factor("a", l - 1)
            return outer_line(
                self.numbers,
                delta,
                a,
                (j, k),
                self._factor("dW", l),
                divisor=1,
                label=[Tex(dw, GRADIENT_COLOR), "=", Tex(d_j, DELTA_COLOR), Tex(a_k, a.color), "="],
                times=r"\times",
                font_size=BODY_SIZE - 4,
                buff=0.13,
            )
        # A batch: the gradient is the mean of δ_j a_k over the samples (BP4).
        line = VGroup(
            MathTex(dw, font_size=BODY_SIZE - 4, color=GRADIENT_COLOR),
            MathTex(rf"= \frac{{1}}{{{m}}} \sum_x {d_j} {a_k} =", font_size=BODY_SIZE - 4),
            self.numbers.tex(f"dW{l}[{j},{k}]", font_size=BODY_SIZE - 4, color=GRADIENT_COLOR),
        )
        return line.arrange(RIGHT, buff=0.1)

    def _update_line(self, l: int, j: int, k: int) -> VGroup:
        w = rf"w^{{({l})}}_{{{j}{k}}}"
        size = BODY_SIZE - 4
        rule = MathTex(w, r"\leftarrow", w, r"- \eta \frac{\partial C}{\partial w}", font_size=size)
        line = update_line(
            self.numbers,
            self._factor("W", l),
            self._factor("dW", l),
            (j, k),
            Factor("W_next", l, WEIGHT_COLOR),
            label=[rule, "="],
            eta_decimals=self.numbers.decimals,
            times=r"\times",
            font_size=size,
            buff=0.1,
        )
        line[0][0].set_color(WEIGHT_COLOR)
        line[0][2].set_color(WEIGHT_COLOR)
        return line

    def _cost_before_after(self) -> VGroup:
        size = BODY_SIZE - 4
        costs = VGroup(
            MathTex(r"C \text{ before: }", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss", font_size=size, color=COST_COLOR),
            MathTex(r"C \text{ after: }", font_size=size, color=COST_COLOR),
            self.numbers.tex("loss_after", font_size=size, color=COST_COLOR),
        ).arrange(RIGHT, buff=0.12)
        costs[2].shift(0.5 * RIGHT)
        costs[3].shift(0.5 * RIGHT)
        return costs
