r"""Backpropagation in matrix form, layer by layer, with the numbers of a real run.

Render with ``manim render -ql scenes/delta.py`` from the repository root. The trace comes
from ``BACKPROP_TRACE`` / ``BACKPROP_PRESET`` / ``BACKPROP_CONFIG`` (default: the
``delta-demo`` preset), ``BACKPROP_ITERATION`` picks the iteration and
``BACKPROP_DECIMALS`` the precision. ``--save_sections`` writes one clip per beat and
manim writes the narration as an ``.srt`` beside the video.

Indices on screen count from 0, as in the trace (``W^(l)[j, k]`` joins neuron ``k`` of
layer ``l-1`` to neuron ``j`` of layer ``l``). For a batch, the entry computed in front
of the viewer is always sample 0 (column 0), and the narration says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    Animation,
    FadeIn,
    FadeOut,
    Indicate,
    LaggedStart,
    ManimColor,
    MathTex,
    Mobject,
    ReplacementTransform,
    Text,
    Transform,
    TransformFromCopy,
    VGroup,
    VMobject,
    smooth,
    squish_rate_func,
)

from backprop_anim import style
from backprop_anim.board import MARGIN, READ, TIGHTEST, BoardScene, flies
from backprop_anim.diagram import NetworkDiagram
from backprop_anim.digits import PixelImage, ProbabilityBars
from backprop_anim.flights import Apart
from backprop_anim.layout import (
    bounding_box,
    boxes_overlap,
    fit_to_frame,
    keep_in_frame,
)
from backprop_anim.mobjects import TraceMatrix, color_legend, shape_tex
from backprop_anim.products import (
    Factor,
    Num,
    RowColumnProduct,
    TokenLine,
    assemble,
    entrywise_line,
    hadamard_order,
    highlight,
    outer_line,
    outer_product_cells,
    sum_terms,
    transpose_moves,
    update_line,
)
from backprop_anim.tuning.texbatch import prewarm_tex, trace_number_texts
from backprop_core.activations import ACTIVATIONS
from backprop_core.losses import (
    LOSSES,
    SOFTMAX_CROSS_ENTROPY_GRADIENT_LATEX,
    SOFTMAX_CROSS_ENTROPY_LATEX,
)
from backprop_explain import equations
from backprop_explain.elide import computed_entry, largest_entry, visible_indices

BEATS = (
    "network_and_notation",
    "forward_pass",
    "cost",
    "output_error",
    "backpropagate",
    "gradients",
    "update",
    "summary",
)
"""The section names, in order (one clip each with ``--save_sections``)."""

SAMPLE = 0
"""The sample (column) whose entries are computed in front of the viewer."""
ROW = 0
"""The row whose product is computed in front of the viewer."""

TURN = 0.9
"""Seconds each entry of W takes to fly to its place in the transpose."""

BADGE_SIZE = style.SMALL_SIZE + 6
"""The shapes under the matrices: as large as their symbols (see :meth:`BoardScene.matrix`)."""

Labelled = tuple[VGroup, TraceMatrix]
"""A matrix with its symbol above and its shape below (:meth:`BoardScene.matrix`)."""


@dataclass
class GradientGrid:
    """BP4's grid: ``δ`` left of ``∂C/∂W`` row for row, ``aᵀ`` above it column for column."""

    delta: TraceMatrix
    aT: TraceMatrix
    dW: TraceMatrix
    labels: VGroup
    """The labels of ``δ``, ``aᵀ`` and ``∂C/∂W``."""
    db: Labelled | None
    diagram: NetworkDiagram | None
    """The network with the edge of the entry worked; ``None`` on a board too wide for it
    (see :meth:`BackpropInMatrixForm.gradients_layer`)."""


class BackpropInMatrixForm(BoardScene):
    """The four equations of backpropagation, each matrix product done with real numbers."""

    default_preset = "delta-demo"
    hold_for_narration = True
    dim_under_flights = True

    def setup(self) -> None:
        super().setup()
        # One LaTeX run for every number the matrices can show (see texbatch).
        prewarm_tex(trace_number_texts(self.numbers))
        self.carried: dict[str, VGroup] = {}
        """Labelled matrices left on screen for the next board, by trace name."""

    def construct(self) -> None:
        self.show_network_and_notation()
        self.show_forward_pass()
        self.show_cost()
        self.show_output_error()
        self.backpropagate()
        self.show_gradients()
        self.show_update()
        self.show_summary()
        self.finish_beats()

    # -----------------------------------------------------------------------------------
    # Beat 1: the network and the notation
    # -----------------------------------------------------------------------------------

    def show_network_and_notation(self) -> None:
        self.beat(
            "network_and_notation",
            "Backpropagation in matrix form, with the numbers of a real training run. "
            "Here is the network, the shape of every matrix we will use, and the colours.",
        )
        self.heading = None
        title = Text("Backpropagation in matrix form", font_size=style.TITLE_SIZE)
        config = self.trace.config
        acts = ", ".join(config.activations)
        about = Text(
            f"network {'-'.join(map(str, self.sizes))}, activations {acts}, loss {config.loss}",
            font_size=style.SMALL_SIZE,
        )
        facts = TokenLine(
            self.numbers,
            [
                r"\eta =",
                self.eta_tex(),
                r",\quad m =",
                Num("m", style.TEXT_COLOR, decimals=0),
                rf",\quad \text{{iteration }} {self.step.iteration}",
            ],
            font_size=style.BODY_SIZE - 4,
        )
        weights = [r.W for r in self.step.layers]
        diagram = NetworkDiagram(self.sizes, weights=weights)
        layer_labels = VGroup(
            *(
                diagram.layer_label(l, self.sym("a", l)).set_color(self.act_color(l))
                for l in range(self.L + 1)
            )
        )
        table = self.shape_table()
        middle = VGroup(VGroup(layer_labels, diagram), table).arrange(RIGHT, buff=0.8)
        legend = color_legend()
        note = Text(
            "Indices count from 0, as in the trace."
            + (" Samples are columns." if self.m > 1 else ""),
            font_size=style.SMALL_SIZE - 4,
        )
        body = VGroup(title, about, facts, middle, legend, note).arrange(DOWN, buff=0.3)
        fit_to_frame(body, margin=0.3)
        body.move_to(ORIGIN)
        self.record("overview", [title, about, facts, diagram, table, legend, note])
        # The network comes with the title: the opening frame is never a bare title.
        self.play(
            FadeIn(title, shift=DOWN * 0.2),
            FadeIn(about),
            FadeIn(facts),
            self.reveal(diagram, layer_labels),
            run_time=1.2,
        )
        self.play(LaggedStart(*(FadeIn(row) for row in table), lag_ratio=0.3))
        self.play(FadeIn(legend), FadeIn(note))
        self.wait(READ * 2)
        self.clear(end_of_beat=True)

    def shape_table(self) -> VGroup:
        """One row per layer: the symbols and their true shapes."""
        rows = VGroup()
        m = self.m
        rows.add(
            MathTex(
                self.sym("a", 0),
                "= x",
                r":\ " + shape_tex(self.sizes[0], m),
                font_size=style.SMALL_SIZE + 4,
            ).set_color_by_tex("x", style.INPUT_COLOR)
        )
        for l in range(1, self.L + 1):
            n, n_prev = self.sizes[l], self.sizes[l - 1]
            parts = [
                (f"W^{{({l})}}", style.WEIGHT_COLOR),
                (r":\ " + shape_tex(n, n_prev) + r",\ ", style.TEXT_COLOR),
            ]
            if self.has_bias:
                parts += [
                    (f"b^{{({l})}}", style.BIAS_COLOR),
                    (r":\ " + shape_tex(n, 1) + r",\ ", style.TEXT_COLOR),
                ]
            parts += [
                (self.sym("z", l), style.Z_COLOR),
                (",", style.TEXT_COLOR),
                (self.sym("a", l), style.ACTIVATION_COLOR),
                (",", style.TEXT_COLOR),
                (self.sym(r"\delta", l), style.DELTA_COLOR),
                (r":\ " + shape_tex(n, m), style.TEXT_COLOR),
            ]
            row = MathTex(*(p[0] for p in parts), font_size=style.SMALL_SIZE + 4)
            for piece, (_, color) in zip(row, parts, strict=True):
                piece.set_color(color)
            rows.add(row)
        return rows.arrange(DOWN, aligned_edge=LEFT, buff=0.25)

    # -----------------------------------------------------------------------------------
    # Beat 2: forward pass
    # -----------------------------------------------------------------------------------

    def show_forward_pass(self) -> None:
        sample = f" (sample {SAMPLE}, column {SAMPLE})" if self.m > 1 else ""
        self.beat(
            "forward_pass",
            "Forward pass, layer by layer: z equals W times the previous activations plus b. "
            f"We compute one entry{sample}: a row of W times a column of activations, "
            "summed, plus the bias. Then the activation function, entry by entry.",
        )
        for l in range(1, self.L + 1):
            self.legibly(self.forward_layer, l)
            self.legibly(self.activate_layer, l)

    def forward_product(self, l: int) -> RowColumnProduct:
        """``z^(l)_{j,s} = Σ_k W_jk a_ks + b_j``, written out (two lines)."""
        j, s = ROW, SAMPLE
        product = RowColumnProduct(
            self.numbers,
            self.factor("W", l),
            self.factor("a", l - 1),
            (j, s),
            label=rf"z^{{({l})}}_{{{j}{',' + str(s) if self.m > 1 else ''}}} =",
            add=self.factor("b", l) if self.has_bias else None,
            result=self.factor("z", l),
            values=True,
            limit=self.elision.max_cols,
        )
        line1, line2 = product.get_terms_line(), product.get_values_line()
        VGroup(line1, line2).arrange(DOWN, aligned_edge=LEFT, buff=0.3)
        # Line 2 starts under line 1's "=", so the sums read as one derivation.
        line2.shift(RIGHT * (line1.decor[0].get_right()[0] - line2.decor[0].get_right()[0]))
        return product

    def forward_layer(self, l: int) -> None:
        """``z^(l) = W^(l) a^(l-1) + b^(l)``, one entry computed term by term."""
        self.set_heading(f"Forward pass: layer {l} of {self.L}")
        W_g, W = self.matrix(f"W{l}", style.WEIGHT_COLOR, f"W^{{({l})}}")
        a_g, a = self.matrix(f"a{l - 1}", self.act_color(l - 1), self.sym("a", l - 1))
        z_g, z = self.matrix(f"z{l}", style.Z_COLOR, self.sym("z", l))
        row: list[VMobject] = [W_g, a_g]
        b: TraceMatrix | None = None
        if self.has_bias:
            b_g, b = self.matrix(f"b{l}", style.BIAS_COLOR, f"b^{{({l})}}")
            row[2:] = [self.op("+"), b_g]
        row += [self.op("="), z_g]
        equation = VGroup(*row).arrange(RIGHT, buff=self.elision.buff)
        self.wrap(row, -2)  # (W a + b) over (= z)
        if self.digits_on and l == 1:
            picture = self.digits_picture(l)
            if self.elision.wrap:  # beside z, on the second row (a^(0) has no room above)
                picture.next_to(z_g, RIGHT, buff=0.8)
            else:
                picture.next_to(a_g, UP, buff=0.3)
            equation = VGroup(picture, equation)
            row.insert(0, picture)
        product = self.forward_product(l)
        line1, line2 = product.get_terms_line(), product.get_values_line()
        self.place(VGroup(equation, VGroup(line1, line2)).arrange(DOWN, buff=0.5))
        self.record(f"forward_{l}", [*row, line1, line2])

        # a^(l-1) moves over from the activation board while the rest of this one comes in.
        came = self.carried.pop(f"a{l - 1}", None)
        others = [m for m in row if m is not z_g and (came is None or m is not a_g)]
        if came is not None:
            self.carry(ReplacementTransform(came, a_g))
        # One curtain each: a curtain over the whole row would also hide the carried a^(l-1).
        self.play(self.reveal(*others, self.shell(z_g, z)))
        rects, draw = product.highlight(W, a)
        self.play(draw)
        self.play(product.assemble_terms(W, a, b), run_time=2)
        # Each pair of factors turns into its product; the sum lands in z.
        self.play(product.assemble_values(), run_time=2)
        target = z.get_entry(ROW, SAMPLE)
        self.play(TransformFromCopy(product.get_result(), target), FadeOut(rects))
        rest = [e for e in z.get_number_entries() if e is not target]
        if rest:
            self.play(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        self.wait(READ)
        self.carried[f"z{l}"] = z_g

    @property
    def digits_on(self) -> bool:
        """A trace of the handwritten digits: a^(0) is also drawn as its 8 × 8 image."""
        return self.trace.config.dataset is not None

    def digits_picture(self, l: int) -> VGroup:
        """For layer 1, sample ``SAMPLE``'s input as its 8 × 8 image (the 64 entries of
        its column of ``a^(0)``, which the matrix elides); for the output layer, the
        column's ten class probabilities ``a^(L)`` as bars, the largest one as a number."""
        size = style.SMALL_SIZE + 6  # legible at 480p once the board is fitted
        if l == 1:
            image = self.input_image = PixelImage(
                self.step.input[:, SAMPLE], signed=False, side=1.6
            )
            caption = MathTex(
                rf"{self.sym('a', 0)}\text{{, column {SAMPLE}, as }} 8\times 8",
                font_size=size,
                color=style.INPUT_COLOR,
            )
            return VGroup(image, caption).arrange(DOWN, buff=0.15)
        a = self.step.layers[-1].a[:, SAMPLE]
        best = int(np.argmax(a))
        bars = self.output_bars = ProbabilityBars(
            list(a), width=3.4, height=1.0, label_size=style.SMALL_SIZE + 6
        )
        number = self.numbers.tex(f"a{self.L}[{best},{SAMPLE}]", font_size=size)
        number.next_to(bars.get_bars()[best], UP, buff=0.08)
        caption = MathTex(
            rf"{self.sym('a', self.L)}\text{{, column {SAMPLE}, per class}}",
            font_size=size,
            color=style.ACTIVATION_COLOR,
        )
        return VGroup(VGroup(bars, number), caption).arrange(DOWN, buff=0.15)

    def activate_layer(self, l: int) -> None:
        """``a^(l) = f(z^(l))`` entry by entry."""
        f = ACTIVATIONS[self.activation(l)]
        name = r"\mathrm{softmax}" if f.name == "softmax" else r"\sigma"
        z_g, z = self.matrix(f"z{l}", style.Z_COLOR, self.sym("z", l))
        a_g, a = self.matrix(f"a{l}", style.ACTIVATION_COLOR, self.sym("a", l))
        arrow = MathTex(rf"\xrightarrow{{\ {name}\ }}", font_size=style.BODY_SIZE + 8)
        formula = self.tex(
            rf"{self.sym('a', l)} = {name}({self.sym('z', l)}),\qquad "
            rf"{name}(z) = {f.latex}"
            + (r"\ \text{(" + f.name.replace("_", " ") + ")}" if f.name != "softmax" else "")
        )
        row = VGroup(z_g, arrow, a_g).arrange(RIGHT, buff=0.5)
        if self.digits_on and l == self.L:
            row.add(self.digits_picture(l).next_to(a_g, DOWN, buff=0.3))
        body = VGroup(formula, row).arrange(DOWN, buff=0.6)
        self.place(body)
        self.record(f"activation_{l}", [formula, *row])
        # z^(l) moves over from the forward board while the rest of this one comes in.
        came = self.carried.pop(f"z{l}", None)
        if came is not None:
            self.regroup(came)  # its shell and numbers came separately: it moves as one
        self.clear(keep=[self.heading, came])
        if came is not None:
            self.carry(ReplacementTransform(came, z_g))
        shown = [formula, arrow] if came is not None else [formula, z_g, arrow]
        self.play(self.reveal(*shown, self.shell(a_g, a)))
        flights = [
            TransformFromCopy(z.get_entry(i, c), a.get_entry(i, c))
            for (i, c) in a._entry_at  # row by row: entry by entry
        ]
        self.play(Apart(*flights, lag_ratio=0.25), run_time=2)
        if len(row) > 3:
            self.play(FadeIn(row[3]))
        self.wait(READ)
        # a^(l) stays up: the next forward board (or the cost) uses it.
        self.regroup(a_g)
        self.carried[f"a{l}"] = a_g
        self.clear(keep=[self.heading, a_g], end_of_beat=l == self.L)

    # -----------------------------------------------------------------------------------
    # Beat 3: the cost
    # -----------------------------------------------------------------------------------

    def loss_latex(self) -> tuple[str, str]:
        """``(C_x, ∇_a C_x)`` in LaTeX for the trace's loss and output activation."""
        if self.softmax_ce:
            return SOFTMAX_CROSS_ENTROPY_LATEX, SOFTMAX_CROSS_ENTROPY_GRADIENT_LATEX
        loss = LOSSES[self.trace.config.loss]
        return loss.latex, loss.gradient_latex

    def show_cost(self) -> None:
        self.beat(
            "cost",
            f"The cost compares the output with the target: the {self.trace.config.loss} loss"
            + (", averaged over the samples." if self.m > 1 else "."),
        )
        self.legibly(self.cost_board)

    def cost_board(self) -> None:
        self.set_heading("The cost")
        L = self.L
        cx, _ = self.loss_latex()
        if self.m > 1:
            formula = self.tex(rf"C = \frac{{1}}{{m}}\sum_x C_x,\qquad C_x = {cx}")
        else:
            formula = self.tex(rf"C = {cx}")
        formula.set_color(style.COST_COLOR)
        a_g, _ = self.matrix(f"a{L}", style.ACTIVATION_COLOR, self.sym("a", L))
        y_g, _ = self.matrix("y", style.TARGET_COLOR, "Y" if self.m > 1 else "y")
        mats = VGroup(a_g, y_g).arrange(RIGHT, buff=1.0)
        result = TokenLine(
            self.numbers,
            ["C =", Num("loss", style.COST_COLOR)],
            font_size=style.TITLE_SIZE,
        ).set_color(style.COST_COLOR)
        body = VGroup(formula, mats, result).arrange(DOWN, buff=0.6)
        self.place(body)
        self.record("cost", [formula, a_g, y_g, result])
        came = self.carried.pop(f"a{L}", None)
        if came is not None:
            self.carry(ReplacementTransform(came, a_g))
        self.play(self.reveal(formula, y_g if came is not None else mats))
        self.play(
            TransformFromCopy(VGroup(a_g[1], y_g[1]), result.nums[0]),
            FadeIn(VGroup(*result.decor)),
            run_time=1.5,
        )
        self.wait(READ)
        self.clear(keep=[self.heading], end_of_beat=True)

    # -----------------------------------------------------------------------------------
    # Beat 4: output error (BP1)
    # -----------------------------------------------------------------------------------

    def show_output_error(self) -> None:
        if self.softmax_ce:
            narration = (
                "The output error, BP1. With softmax and cross-entropy it is simply "
                "the output minus the target, entry by entry."
            )
        elif self.softmax_output:
            narration = (
                "The output error, BP1. Softmax couples its outputs, so the gradient "
                "goes through the full Jacobian of softmax."
            )
        else:
            narration = (
                "The output error, BP1: the gradient of the cost times sigma prime of z, "
                "entry by entry. This Hadamard product pairs entries at the same position: "
                "no rows, no columns, no sums."
            )
        self.beat("output_error", narration)
        self.set_heading(f"Output error (BP1), layer L = {self.L}")
        if self.softmax_ce:
            self.legibly(self.output_error_softmax_ce)
        elif self.softmax_output:
            self.legibly(self.output_error_softmax)
        else:
            self.legibly(self.output_error_hadamard)
        # δ^(L) stays up: BP2 carries it back (it moves into place there).
        self.clear(keep=[self.heading, *self.carried.values()], end_of_beat=True)

    def entrywise(
        self,
        formula: VMobject,
        factors: tuple[Factor, Factor, Factor],
        tex: tuple[str, str, str],
        op: str,
        name: str,
        note: VMobject | None = None,
    ) -> None:
        """``left op right = result`` done one entry at a time (column ``SAMPLE``)."""
        mats = [
            self.matrix(f.operand.entry(0, 0).name, f.color, t)
            for f, t in zip(factors, tex, strict=True)
        ]
        (l_g, l_m), (r_g, r_m), (d_g, d_m) = mats
        row = VGroup(l_g, self.op(op), r_g, self.op("="), d_g).arrange(
            RIGHT, buff=self.elision.buff + 0.05
        )
        cells = hadamard_order(d_m.row_indices, SAMPLE)
        kind: Literal["hadamard", "difference"] = "difference" if op == "-" else "hadamard"
        lines = [entrywise_line(self.numbers, *factors[:2], c, factors[2], op=kind) for c in cells]
        body = VGroup(formula, row, lines[0], *([note] if note is not None else []))
        self.place(body.arrange(DOWN, buff=0.5))
        for line in lines[1:]:
            line.scale(lines[0].height / line.height if line.height else 1.0)
            line.move_to(lines[0])
        self.record(name, [formula, *row, lines[0], *([note] if note is not None else [])])
        self.play(self.reveal(formula, VGroup(*row[:4]), self.shell(d_g, d_m)))
        rects: VGroup | None = None
        shown: Mobject | None = None
        for (i, c), line in zip(cells, lines, strict=True):
            new_rects, draw = highlight([l_m.get_entry(i, c), r_m.get_entry(i, c)])
            anims: list[Animation] = [
                ReplacementTransform(rects, new_rects) if rects is not None else draw
            ]
            anims.append(
                ReplacementTransform(shown, line)
                if shown is not None
                else assemble(line, [l_m.get_entry(i, c), r_m.get_entry(i, c), None])
            )
            self.play(*anims, run_time=0.9)
            self.play(TransformFromCopy(line.nums[-1], d_m.get_entry(i, c)), run_time=0.6)
            rects, shown = new_rects, line
        done = {id(d_m.get_entry(*x)) for x in cells}
        rest = [e for e in d_m.get_number_entries() if id(e) not in done]
        end: list[Animation] = [FadeOut(rects)] if rects is not None else []
        if rest:
            end.append(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        if note is not None:
            end.append(FadeIn(note))
        self.play(*end)
        self.wait(READ)
        if self.L > 1:
            self.regroup(d_g)  # its shell and numbers came separately: they leave as one
            self.carried[f"delta{self.L}"] = d_g

    def output_error_hadamard(self) -> None:
        L = self.L
        f = ACTIVATIONS[self.activation(L)]
        _, grad = self.loss_latex()
        formula = self.tex(
            equations.bp1(L) + rf",\qquad \nabla_a C = {grad},\quad \sigma'(z) = {f.prime_latex}"
        )
        note = Text(
            "⊙ multiplies entries at the same position: no rows, no columns, no sums.",
            font_size=style.SMALL_SIZE,
        )
        self.entrywise(
            formula,
            (self.factor("grad_a", L), self.factor("sigma_prime", L), self.factor("delta", L)),
            (r"\nabla_a C", rf"\sigma'({self.sym('z', L)})", self.sym(r"\delta", L)),
            r"\odot",
            "bp1",
            note,
        )

    def output_error_softmax_ce(self) -> None:
        L = self.L
        formula = self.tex(
            equations.bp1(L, "softmax_ce")
            + r"\qquad\text{(softmax with cross-entropy: the Jacobian and } -y/a \text{ cancel)}"
        )
        self.entrywise(
            formula,
            (self.factor("a", L), self.factor("y", L), self.factor("delta", L)),
            (self.sym("a", L), "Y" if self.m > 1 else "y", self.sym(r"\delta", L)),
            "-",
            "bp1",
        )

    def output_error_softmax(self) -> None:
        L = self.L
        _, grad = self.loss_latex()
        formula = self.tex(
            equations.bp1(L, "softmax")
            + rf",\qquad J = \mathrm{{diag}}(a) - a a^T,\quad \nabla_a C = {grad}"
        )
        g_g, _ = self.matrix("grad_a", style.GRADIENT_COLOR, r"\nabla_a C")
        d_g, _ = self.matrix(f"delta{L}", style.DELTA_COLOR, self.sym(r"\delta", L))
        arrow = MathTex(r"\xrightarrow{\ J^T\ }", font_size=style.BODY_SIZE + 8)
        row = VGroup(g_g, arrow, d_g).arrange(RIGHT, buff=0.5)
        body = VGroup(formula, row).arrange(DOWN, buff=0.6)
        self.place(body)
        self.record("bp1", [formula, g_g, arrow, d_g])
        self.play(self.reveal(formula, g_g, arrow))
        self.play(TransformFromCopy(g_g, d_g), run_time=1.5)
        self.wait(READ)
        if L > 1:
            self.carried[f"delta{L}"] = d_g

    # -----------------------------------------------------------------------------------
    # Beat 5: backpropagate (BP2)
    # -----------------------------------------------------------------------------------

    def backpropagate(self) -> None:
        self.beat(
            "backpropagate",
            "Backpropagate, BP2: the transpose of the next layer's weights carries the error "
            "back, row times column, then times sigma prime of z, entry by entry. "
            "The errors travel back to their neurons.",
        )
        if self.L == 1:
            self.set_heading("Backpropagate (BP2)")
            note = Text(
                "One weight layer: the output error is the only error; nothing to propagate.",
                font_size=style.BODY_SIZE - 4,
            )
            self.place(note)
            self.record("bp2_none", [note])
            self.play(FadeIn(note))
            self.wait(READ)
            self.clear(keep=[self.heading], end_of_beat=True)
            return
        for l in range(self.L - 1, 0, -1):
            self.legibly(self.backpropagate_layer, l)
            self.deltas_to_diagram(l)

    def bp2_row(self, l: int) -> int:
        """The row whose error is computed: the largest shown entry of ``δ^(l)``, sample 0."""
        shown_rows = visible_indices(self.sizes[l], TIGHTEST.max_rows)
        k, _ = largest_entry(self.step.layers[l - 1].delta[:, [SAMPLE]], shown_rows, [0])
        return k

    def bp2_lines(self, l: int, k: int) -> tuple[RowColumnProduct, TokenLine]:
        """``((W^(l+1))ᵀ δ^(l+1))_k = Σ_j …`` and ``(that) · σ'_k = δ^(l)_k``."""
        sample = f",{SAMPLE}" if self.m > 1 else ""
        back = RowColumnProduct(
            self.numbers,
            self.factor("W", l + 1, transpose=True),
            self.factor("delta", l + 1),
            (k, SAMPLE),
            label=rf"\big({equations.back_propagated(l)}\big)_{{{k}{sample}}} =",
            limit=self.elision.max_cols,
        )
        line2 = entrywise_line(
            self.numbers,
            back,
            self.factor("sigma_prime", l),
            (k, SAMPLE),
            self.factor("delta", l),
        )
        return back, line2

    def transpose_animations(
        self,
        W_g: VGroup,
        W: TraceMatrix,
        WT_g: VGroup,
        WT: TraceMatrix,
        carried: Sequence[Animation] = (),
    ) -> tuple[list[Animation], float]:
        """``W``'s rows turn into the columns of ``Wᵀ``: shown entries fly, each waiting
        where it would meet another (:class:`~backprop_anim.flights.Apart`), the rest
        fade; and the run time: at least 2 s, longer where the flights wait for each other
        (each takes :data:`TURN` seconds then).

        What does not fly (the diagonal, which stays, and what only one of the two shows)
        is gone before the flights pass over it and back after they have passed, so no
        flight prints over a number standing still.
        """
        moves = transpose_moves(W.row_indices, W.col_indices, WT.row_indices, WT.col_indices)
        pairs = [(W.get_entry(*a), WT.get_entry(*b)) for a, b in moves]
        flights = [(e, t) for e, t in pairs if flies(e, t)]
        # The fades take the first and the last fifth of the play.
        early, late = squish_rate_func(smooth, 0.0, 0.2), squish_rate_func(smooth, 0.8, 1.0)
        flown = {id(e) for e, _ in flights}
        landed = {id(t) for _, t in flights}
        # W's name and shape move to Wᵀ's with the entries, and what is ``carried``
        # (δ^(l+1) into its place) with them: planned together.
        names = [ReplacementTransform(W_g[0], WT_g[0]), ReplacementTransform(W_g[2], WT_g[2])]
        entries = [ReplacementTransform(e, t) for e, t in flights]
        turn = Apart(*carried, *names, *entries, flight_time=TURN)
        return [
            turn,
            *(FadeOut(e, rate_func=early) for e in W.get_entries() if id(e) not in flown),
            *(FadeIn(e, rate_func=late) for e in WT.get_entries() if id(e) not in landed),
            ReplacementTransform(W.get_brackets(), WT.get_brackets()),
        ], max(2.0, turn.run_time)

    def backpropagate_layer(self, l: int) -> None:
        """``δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l))``: transpose, row × column, ⊙."""
        self.set_heading(f"Backpropagate (BP2): layer {l}")
        k, s = self.bp2_row(l), SAMPLE
        W_g, W = self.matrix(f"W{l + 1}", style.WEIGHT_COLOR, f"W^{{({l + 1})}}")
        WT_g, WT = self.matrix(
            f"W{l + 1}", style.WEIGHT_COLOR, f"(W^{{({l + 1})}})^T", transpose=True
        )
        dn_g, dn = self.matrix(f"delta{l + 1}", style.DELTA_COLOR, self.sym(r"\delta", l + 1))
        sp_g, sp = self.matrix(
            f"sigma_prime{l}", style.SIGMA_PRIME_COLOR, rf"\sigma'({self.sym('z', l)})"
        )
        d_g, d = self.matrix(f"delta{l}", style.DELTA_COLOR, self.sym(r"\delta", l))
        row = VGroup(WT_g, dn_g, self.op(r"\odot"), sp_g, self.op("="), d_g)
        row.arrange(RIGHT, buff=self.elision.buff)
        self.wrap(row, 2)  # (Wᵀ δ) over (⊙ σ' = δ)
        f = ACTIVATIONS[self.activation(l)]
        formula = self.tex(equations.bp2(l) + rf",\qquad \sigma'(z) = {f.prime_latex}")
        back, line2 = self.bp2_lines(l, k)
        line1 = back.get_terms_line()
        body = VGroup(formula, row, VGroup(line1, line2).arrange(DOWN, buff=0.3))
        width = WT_g.width
        self.place(body.arrange(DOWN, buff=0.3 if self.elision.wrap else 0.45))
        W_g.scale(WT_g.width / width)  # as the board was scaled to fit
        self.record(f"bp2_{l}", [formula, *row, line1, line2])
        self.transpose_in(l, formula, row, (W_g, W), (WT_g, WT), self.shell(d_g, d))
        # Row k of W^T times column s of δ^(l+1).
        rects, draw = back.highlight(WT, dn)
        self.play(draw)
        self.play(back.assemble_terms(WT, dn), run_time=2)
        rects2, _ = highlight([sp.get_entry(k, s)])
        self.play(ReplacementTransform(rects, rects2))
        self.play(assemble(line2, [back.get_result(), sp.get_entry(k, s), None]), run_time=1.5)
        target = d.get_entry(k, s)
        self.play(TransformFromCopy(line2.nums[-1], target), FadeOut(rects2))
        rest = [e for e in d.get_number_entries() if e is not target]
        if rest:
            self.play(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        self.wait(READ)
        self.delta_group = (d_g, d)

    def transpose_in(
        self,
        l: int,
        formula: Mobject,
        row: VGroup,
        W_pair: tuple[VGroup, TraceMatrix],
        WT_pair: tuple[VGroup, TraceMatrix],
        d_shell: VGroup,
    ) -> None:
        """The BP2 board comes in: δ^(l+1) moves over from the board before, what W^(l+1)
        leaves clear of the equation comes in with it, and W's rows turn into the columns
        of its transpose. If W stands in δ^(l+1)'s place, δ^(l+1) waits where it was (and
        so does what would show over it) and moves in as W turns."""
        (W_g, W), (WT_g, WT), dn_g = W_pair, WT_pair, row[1]
        beside = [*row[1:5], d_shell]
        clear = self.place_to_transpose(W_g, WT_g, formula, beside)
        came = self.carried.pop(f"delta{l + 1}", None)
        waiting = [came] if came is not None and dn_g not in clear else []
        if waiting:
            spot = bounding_box(waiting[0])
            clear = [m for m in clear if not boxes_overlap(spot, bounding_box(m), 0.1)]
        late = [m for m in beside if m not in clear]
        self.record(f"bp2_{l}_before_transpose", [formula, W_g, *clear, *waiting])
        if came is not None and not waiting:
            self.carry(ReplacementTransform(came, dn_g))
        shown = [m for m in clear if came is None or m is not dn_g]
        self.play(self.reveal(formula, W_g, *shown))
        self.wait(0.5)
        moves = [ReplacementTransform(m, dn_g) for m in waiting]
        turn, run_time = self.transpose_animations(W_g, W, WT_g, WT, moves)
        self.play(*turn, run_time=run_time)
        rest = [m for m in late if came is None or m is not dn_g]
        if rest:
            self.play(self.reveal(*rest))

    def place_to_transpose(
        self, W_g: VGroup, WT_g: VGroup, formula: Mobject, beside: Sequence[Mobject]
    ) -> list[Mobject]:
        """Put ``W^(l+1)`` where it shows before it turns into its transpose ``WT_g``, and
        return what of ``beside`` (the rest of the equation) it leaves clear.

        The first place clear of the formula and of all of the equation: under the
        transpose's place, where the products are written later (each entry flies up to
        its place, none waits for another to leave it); the transpose's own; then with its
        right edge at the transpose's (a wide W reaches left instead of over its
        neighbour). If none is, W stands in the transpose's place and the rest comes in
        after it has turned.
        """

        def in_place() -> None:
            keep_in_frame(W_g.move_to(WT_g), MARGIN)
            gap = formula.get_bottom()[1] - W_g.get_top()[1] - 0.1
            if gap < 0:  # W taller than its transpose (10 × 16 beside 16 × 10)
                W_g.shift(gap * UP)

        def clear() -> list[Mobject]:
            w = bounding_box(W_g)
            return [m for m in beside if not boxes_overlap(w, bounding_box(m), 0.1)]

        places = (
            lambda: W_g.next_to(WT_g, DOWN, buff=0.3),
            in_place,
            lambda: W_g.shift((WT_g.get_right()[0] - W_g.get_right()[0]) * RIGHT),
        )
        for place in places:
            in_place()
            place()
            keep_in_frame(W_g, MARGIN)
            w = bounding_box(W_g)
            if len(clear()) == len(beside) and not boxes_overlap(w, bounding_box(formula), 0.1):
                return list(beside)
        in_place()
        return clear()

    def deltas_to_diagram(self, l: int) -> None:
        """The entries of ``δ^(l)`` travel back to their neurons on the diagram."""
        d_g, d = self.delta_group
        diagram = NetworkDiagram(self.sizes, weights=[r.W for r in self.step.layers])
        for later in range(l + 1, self.L + 1):
            self.fill_neurons(diagram, later)
        labels = VGroup(
            *(
                diagram.layer_label(n, self.sym(r"\delta", n)).set_color(style.DELTA_COLOR)
                for n in range(l, self.L + 1)
            )
        )
        target = d_g.copy()
        # δ^(l) on the right, where the BP2 board had it: it moves a little, never across
        # the diagram coming in.
        row = VGroup(VGroup(labels, diagram), target).arrange(RIGHT, buff=1.2)
        self.place(row)
        self.record(f"bp2_{l}_diagram", [target, VGroup(labels, diagram)])
        self.clear(keep=[self.heading, *d_g.get_family()])
        self.regroup(d_g)
        self.play(Transform(d_g, target), self.reveal(diagram, labels), run_time=1.2)
        flights: list[Any] = []
        for (i, c), entry in d._entry_at.items():
            if c != SAMPLE or not diagram.has_neuron(l, i):
                continue
            neuron = diagram.get_neuron(l, i).get_center()
            flights.append(FadeOut(entry.copy(), target_position=neuron, scale=0.3))
        self.play(Apart(*flights, lag_ratio=0.2), run_time=2)
        self.play(*self.fill_animations(diagram, l))
        self.wait(READ)
        # δ^(l) moves into BP2 of layer l - 1, or with the diagram into the gradients of layer 1.
        self.carried[f"delta{l}"] = d_g
        kept: list[Mobject] = [d_g]
        if l == 1:
            self.carried["diagram"] = diagram
            kept.append(diagram)
        self.clear(keep=[self.heading, *kept], end_of_beat=l == 1)

    def delta_opacity(self, l: int, j: int) -> float:
        scale = max(abs(float(v)) for r in self.step.layers for v in r.delta[:, SAMPLE]) or 1.0
        return 0.15 + 0.85 * abs(float(self.step.layers[l - 1].delta[j, SAMPLE])) / scale

    def fill_neurons(self, diagram: NetworkDiagram, l: int) -> NetworkDiagram:
        for j in diagram.shown_neurons(l):
            diagram.get_neuron(l, j).set_fill(style.DELTA_COLOR, opacity=self.delta_opacity(l, j))
        return diagram

    def fill_animations(self, diagram: NetworkDiagram, l: int) -> list[Any]:
        return [
            diagram.get_neuron(l, j).animate.set_fill(
                style.DELTA_COLOR, opacity=self.delta_opacity(l, j)
            )
            for j in diagram.shown_neurons(l)
        ]

    # -----------------------------------------------------------------------------------
    # Beat 6: gradients (BP3, BP4)
    # -----------------------------------------------------------------------------------

    def show_gradients(self) -> None:
        if self.m > 1:
            how = (
                "the gradient of the weights is one over m times delta times A transpose: "
                "each entry sums the products of the samples"
            )
        else:
            how = (
                "the gradient of the weights is the outer product of delta and the previous "
                "activations: entry j k is delta j times a k, the weight of the edge from k to j"
            )
        self.beat(
            "gradients",
            "Gradients, BP3 and BP4: the gradient of the biases is delta; " + how + ".",
        )
        # From layer 1 up: δ^(1), the last error found, is still on the board, and the
        # update (from layer L down) then starts with the gradients just found.
        for l in range(1, self.L + 1):
            self.legibly(self.gradients_layer, l)

    def grad_entry(self, l: int) -> tuple[int, int]:
        """The entry of ``∂C/∂W^(l)`` computed on screen (and in the handout)."""
        return computed_entry(self.step.layers[l - 1].dW, self.sizes[l], self.sizes[l - 1])

    def gradient_labels(
        self, l: int, delta: TraceMatrix, aT: TraceMatrix, dW: TraceMatrix
    ) -> VGroup:
        """The symbols and shapes of ``δ`` (left), ``aᵀ`` (left, or above) and ``∂C/∂W``."""
        d_label = VGroup(
            self.tex(self.sym(r"\delta", l), style.DELTA_COLOR), delta.shape_badge(BADGE_SIZE)
        ).arrange(DOWN, buff=0.1)
        d_label.next_to(delta, LEFT, buff=0.2)
        a_label = VGroup(
            self.tex(self.sym("a", l - 1, t=True), self.act_color(l - 1)),
            aT.shape_badge(BADGE_SIZE),
        ).arrange(DOWN, buff=0.1)
        a_label.next_to(aT, LEFT, buff=0.2)
        if (
            a_label.get_left()[0] < delta.get_right()[0]
            and a_label.get_bottom()[1] < delta.get_top()[1]
        ):
            a_label.next_to(aT, UP, buff=0.15)
        w_label = VGroup(
            self.tex(equations.partial("W", l), style.GRADIENT_COLOR), dW.shape_badge(BADGE_SIZE)
        ).arrange(RIGHT, buff=0.2)
        w_label.next_to(dW, DOWN, buff=0.2)
        return VGroup(d_label, a_label, w_label)

    def gradient_grid(self, l: int) -> GradientGrid:
        """``δ`` left of ``∂C/∂W`` row for row, ``aᵀ`` above it column for column."""
        delta = self.trace_matrix(f"delta{l}", style.DELTA_COLOR)
        aT = self.trace_matrix(
            f"a{l - 1}", self.act_color(l - 1), transpose=True, max_rows=self.elision.max_batch
        )
        dW = self.trace_matrix(f"dW{l}", style.GRADIENT_COLOR)
        delta.next_to(dW, LEFT, buff=0.5)
        delta.shift(UP * (dW.get_rows()[0].get_y() - delta.get_rows()[0].get_y()))
        aT.next_to(dW, UP, buff=0.35)
        aT.shift(RIGHT * (dW.get_columns()[0].get_x() - aT.get_columns()[0].get_x()))
        labels = self.gradient_labels(l, delta, aT, dW)
        db: Labelled | None = None
        if self.has_bias:
            db = self.matrix(f"db{l}", style.GRADIENT_COLOR, equations.partial("b", l))
            db[0].next_to(dW, RIGHT, buff=0.8)
        diagram = NetworkDiagram(self.sizes, weights=[r.W for r in self.step.layers])
        # The grid is what the viewer reads; the diagram only locates the edge (the badges
        # give the sizes, and its ⋮ keep their size).
        diagram.remove(diagram.size_labels)
        diagram.scale(0.65)
        for column in diagram.layers:
            for dots in [m for m in column if isinstance(m, MathTex)]:
                dots.scale(1 / 0.65)
        return GradientGrid(delta, aT, dW, labels, db, diagram)

    def gradient_line(self, l: int, j: int, k: int) -> TokenLine:
        """``∂C/∂w_jk = (1/m)(Σ_s δ_js a_ks) = (∂C/∂W)_jk``, the samples elided."""
        return outer_line(
            self.numbers,
            self.factor("delta", l),
            self.factor("a", l - 1),
            (j, k),
            self.factor("dW", l),
            divisor=self.m,
            limit=self.elision.max_batch,
            label=[rf"\frac{{\partial C}}{{\partial w^{{({l})}}_{{{j}{k}}}}} ="],
        )

    def gradients_layer(self, l: int) -> None:
        """``∂C/∂W^(l) = δ^(l) (a^(l-1))ᵀ`` as a grid, one entry linked to its edge."""
        self.set_heading(f"Gradients (BP3, BP4): layer {l}")
        j, k = self.grad_entry(l)
        batch = self.m > 1
        bp3 = r"\qquad " + equations.bp3(l, batch) if self.has_bias else ""
        formula = self.tex(equations.bp4(l, batch) + bp3)
        g = self.gradient_grid(l)
        d_label, a_label, w_label = g.labels
        grid = VGroup(d_label, g.delta, a_label, g.aT, g.dW, w_label)
        left = VGroup(grid, *([g.db[0]] if g.db is not None else []))
        line = self.gradient_line(l, j, k)
        beside = VGroup(left, *([g.diagram] if g.diagram is not None else []))
        body = VGroup(formula, beside.arrange(RIGHT, buff=0.8), line)
        body.arrange(DOWN, buff=0.45)
        if self.fallback is None and not self.fits(body):
            # Even the tightest elision leaves the numbers under the floor beside the
            # diagram: the grid is what the viewer reads, so the diagram steps aside.
            g.diagram = None
            body = VGroup(formula, left, line).arrange(DOWN, buff=0.45)
        self.place(body)
        self.record(
            f"gradients_{l}",
            [formula, d_label, g.delta, a_label, g.aT, g.dW, w_label]
            + ([g.db[0]] if g.db is not None else [])
            + ([g.diagram] if g.diagram is not None else [])
            + [line],
        )
        if f"delta{l}" in self.carried and "diagram" in self.carried:
            # δ^(1) and the diagram would change sides: the picture leaves first and comes
            # anew with the board, the matrix moves.
            self.play(FadeOut(self.carried.pop("diagram")), run_time=0.3)
        self.play(*self.gradient_arrival(g, formula, l))
        self.gradient_entry(g, line, l, j, k)
        self.gradient_rest(g, j, k)
        self.wait(READ)
        self.clear(keep=[self.heading, *self.gradients_kept(g, l)], end_of_beat=l == self.L)

    def gradient_arrival(self, g: GradientGrid, formula: MathTex, l: int) -> list[Animation]:
        """The board comes in; ``δ^(l)`` or the diagram, if the board before showed it,
        moves into place instead (``δ^(1)`` from BP2, the diagram from layer to layer)."""
        d_label, a_label, w_label = g.labels
        came_delta = self.carried.pop(f"delta{l}", None)
        came_diagram = self.carried.pop("diagram", None)
        shown: list[Mobject] = [formula, a_label, g.aT, w_label, g.dW.get_shell()]
        carry: list[Animation] = []
        if came_delta is not None:
            self.regroup(came_delta)
            target = VGroup(*cast(list[VMobject], [d_label[0], g.delta, d_label[1]]))
            carry.append(ReplacementTransform(came_delta, target))
        else:
            shown += [d_label, g.delta]
        if came_diagram is not None and g.diagram is not None:
            carry.append(ReplacementTransform(came_diagram, g.diagram))
        elif came_diagram is not None:
            carry.append(FadeOut(came_diagram))
        elif g.diagram is not None:
            shown.append(g.diagram)
        if g.db is not None:
            shown.append(self.shell(*g.db))
        return [self.reveal(*shown), *carry]

    def gradients_kept(self, g: GradientGrid, l: int) -> list[Mobject]:
        """What stays for the next board: the diagram for the next layer's gradients; after
        the last layer, ``∂C/∂W^(L)`` and ``∂C/∂b^(L)`` for the update, which starts there."""
        if l < self.L:
            if g.diagram is None:
                return []
            self.carried["diagram"] = g.diagram
            return [g.diagram]
        _, _, w_label = g.labels
        dW = VGroup(*cast(list[VMobject], [w_label[0], g.dW, w_label[1]]))
        self.regroup(dW)
        self.carried[f"dW{l}"] = dW
        if g.db is None:
            return [dW]
        self.regroup(g.db[0])
        self.carried[f"db{l}"] = g.db[0]
        return [dW, g.db[0]]

    def gradient_entry(self, g: GradientGrid, line: TokenLine, l: int, j: int, k: int) -> None:
        """Entry ``(j, k)``: row ``j`` of ``δ`` times column ``k`` of ``aᵀ``, and its edge."""
        shown = [s for s in sum_terms(self.m, style.MAX_BATCH) if s is not None]
        rects, draw = highlight(
            [
                VGroup(*(g.delta.get_entry(j, s) for s in shown if g.delta.has_entry(j, s))),
                VGroup(*(g.aT.get_entry(s, k) for s in shown if g.aT.has_entry(s, k))),
            ]
        )
        self.play(draw)
        sources: list[Mobject | None] = []
        for s in shown:
            sources += [
                g.delta.get_entry(j, s) if g.delta.has_entry(j, s) else None,
                g.aT.get_entry(s, k) if g.aT.has_entry(s, k) else None,
            ]
        self.play(assemble(line, [*sources, None]), run_time=2)
        target = g.dW.get_entry(j, k)
        _, draw_cell = highlight([target])
        self.play(TransformFromCopy(line.nums[-1], target), FadeOut(rects))
        if g.diagram is None:
            self.play(draw_cell)
            return
        edge = g.diagram.get_edge(l, j, k).copy().set_stroke(style.HIGHLIGHT_COLOR, width=7)
        self.play(
            draw_cell,
            FadeIn(edge),
            Indicate(g.diagram.get_neuron(l - 1, k), color=style.HIGHLIGHT_COLOR),
            Indicate(g.diagram.get_neuron(l, j), color=style.HIGHLIGHT_COLOR),
        )

    def gradient_rest(self, g: GradientGrid, j: int, k: int) -> None:
        """The rest of the grid (every cell is a row of ``δ`` times a column of ``aᵀ``), and
        BP3: ``∂C/∂b`` is ``δ`` itself (its mean over the samples for a batch)."""
        rest = [
            g.dW.get_entry(*true)
            for _, true in outer_product_cells(g.dW.row_indices, g.dW.col_indices)
            if true != (j, k)
        ]
        anims = [LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.05)] if rest else []
        if g.db is not None:
            db = g.db[1]
            db_anims = [
                TransformFromCopy(g.delta.get_entry(i, 0), e)
                if self.m == 1 and g.delta.has_entry(i, 0)
                else FadeIn(e)
                for (i, _), e in db._entry_at.items()
            ]
            anims.append(LaggedStart(*db_anims, lag_ratio=0.1))
        if anims:
            self.play(*anims, run_time=1.5)

    # -----------------------------------------------------------------------------------
    # Beat 7: the update
    # -----------------------------------------------------------------------------------

    def show_update(self) -> None:
        self.beat(
            "update",
            "The update: every weight moves against its gradient, W minus eta times the "
            "gradient, and the same for the biases. Then the cost after the step.",
        )
        for l in range(self.L, 0, -1):
            self.legibly(self.update_layer, l)
        self.cost_before_after()

    def update_rows(self, l: int) -> tuple[list[VGroup], list[Labelled]]:
        """``p − η · ∂C/∂p = p_new`` as matrices, for ``W^(l)`` (and ``b^(l)``)."""
        rows: list[VGroup] = []
        created: list[Labelled] = []
        for q, color in (("W", style.WEIGHT_COLOR), ("b", style.BIAS_COLOR)):
            if q == "b" and not self.has_bias:
                continue
            old_g, _ = self.matrix(f"{q}{l}", color, f"{q}^{{({l})}}")
            eta = TokenLine(self.numbers, ["-", self.eta_tex(), r"\cdot"])
            g_g, _ = self.matrix(f"d{q}{l}", style.GRADIENT_COLOR, equations.partial(q, l))
            new_g, new = self.matrix(f"{q}_next{l}", color, rf"{q}^{{({l})}}_{{\text{{new}}}}")
            row = VGroup(old_g, eta, g_g, self.op("="), new_g)
            rows.append(row.arrange(RIGHT, buff=self.elision.buff))
            created.append((new_g, new))
        return rows, created

    def update_layer(self, l: int) -> None:
        j, k = self.grad_entry(l)  # the same weight as in the gradients beat
        self.set_heading(f"The update: layer {l}")
        formula = self.tex(
            equations.update("W", l)
            + (r",\qquad " + equations.update("b", l) if self.has_bias else "")
        )
        rows, created = self.update_rows(l)
        mats = VGroup(*rows).arrange(DOWN, buff=0.3, aligned_edge=LEFT)
        line = update_line(
            self.numbers,
            self.factor("W", l),
            self.factor("dW", l),
            (j, k),
            self.factor("W_next", l),
            label=[rf"w^{{({l})}}_{{{j}{k}}}:"],
            eta_decimals=self.eta_decimals,
        )
        if self.elision == TIGHTEST:  # the rule beside its one entry: the matrices get the height
            self.place(VGroup(mats, VGroup(formula, line).arrange(RIGHT, buff=1.0)).arrange(DOWN))
        else:
            self.place(VGroup(formula, mats, line).arrange(DOWN, buff=0.45))
        self.record(f"update_{l}", [formula, *(p for r in rows for p in r), line])
        shells = [self.shell(g, m) for g, m in created]
        new_groups: list[VMobject] = [g for g, _ in created]
        # The gradients the board before found move into place (∂C/∂W^(L), ∂C/∂b^(L)).
        carry: list[Animation] = []
        for q, r in zip(("W", "b"), rows, strict=False):
            came = self.carried.pop(f"d{q}{l}", None)
            if came is not None:
                carry.append(ReplacementTransform(came, r[2]))
                new_groups.append(r[2])
        others = [p for r in rows for p in r if p not in new_groups]
        self.play(self.reveal(formula, *others, *shells), *([Apart(*carry)] if carry else []))
        W_old = cast(TraceMatrix, rows[0][0][1])
        dW_m = cast(TraceMatrix, rows[0][2][1])
        rects, draw = highlight([W_old.get_entry(j, k), dW_m.get_entry(j, k)])
        self.play(draw)
        self.play(
            assemble(line, [W_old.get_entry(j, k), None, dW_m.get_entry(j, k), None]),
            run_time=1.5,
        )
        first = created[0][1].get_entry(j, k)
        self.play(TransformFromCopy(line.nums[-1], first), FadeOut(rects))
        rest = [e for _, m in created for e in m.get_number_entries() if e is not first]
        if rest:
            self.play(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.05), run_time=1.2)
        self.wait(READ)
        self.clear(keep=[self.heading])

    def cost_before_after(self) -> None:
        self.set_heading("One step of gradient descent")
        it = self.step.iteration
        before = TokenLine(
            self.numbers,
            [rf"\text{{iteration {it}:}}\quad C =", Num("loss", style.COST_COLOR)],
            font_size=style.TITLE_SIZE,
        )
        after = TokenLine(
            self.numbers,
            [r"\text{after the update:}\quad C =", Num("loss_after", style.COST_COLOR)],
            font_size=style.TITLE_SIZE,
        )
        arrow = MathTex(r"\Big\downarrow", font_size=style.TITLE_SIZE)
        # One above the other, large: the two costs fill the board the update leaves.
        row = VGroup(before, arrow, after).arrange(DOWN, buff=0.35)
        self.place(row, grow=2.5)
        self.record("cost_before_after", [before, arrow, after])
        self.play(self.reveal(before))
        self.play(FadeIn(arrow), FadeIn(after))
        self.wait(READ)
        self.clear(keep=[self.heading], end_of_beat=True)

    # -----------------------------------------------------------------------------------
    # Beat 8: summary
    # -----------------------------------------------------------------------------------

    def summary_matrices(self, items: list[tuple[str, ManimColor, str]]) -> VGroup:
        # Symbol and numbers: the shapes were on every board before.
        groups = [VGroup(*self.matrix(name, color, tex)[0][:2]) for name, color, tex in items]
        return VGroup(*groups).arrange(RIGHT, buff=0.4)

    def summary_cells(self) -> list[tuple[str, VMobject]]:
        """Each equation (in general form) beside what it produced in this run."""
        L, batch = self.L, self.m > 1
        grad_layers = [L] if L == 1 else [L, 1]
        mats = self.summary_matrices
        hidden = [
            (f"delta{l}", style.DELTA_COLOR, self.sym(r"\delta", l)) for l in range(L - 1, 0, -1)
        ]
        cells: list[tuple[str, VMobject]] = [
            (
                equations.named("BP1", equations.bp1("L", self.output)),
                mats([(f"delta{L}", style.DELTA_COLOR, self.sym(r"\delta", L))]),
            ),
            (
                equations.named("BP2", equations.bp2("l")),
                mats(hidden[:3])
                if L > 1
                else Text("(one layer: no BP2)", font_size=style.SMALL_SIZE),
            ),
        ]
        grads = [
            ("BP3", "b", equations.bp3("l", batch)),
            ("BP4", "W", equations.bp4("l", batch)),
        ]
        for name, q, eq in grads:
            if q == "b" and not self.has_bias:
                continue
            items = [
                (f"d{q}{l}", style.GRADIENT_COLOR, equations.partial(q, l)) for l in grad_layers
            ]
            cells.append((equations.named(name, eq), mats(items)))
        return cells

    def show_summary(self) -> None:
        self.beat(
            "summary",
            "The four equations of backpropagation in matrix form, each beside the matrices "
            "it produced in this run.",
        )
        self.legibly(self.summary_board)

    def summary_board(self) -> None:
        self.set_heading("The four equations, and what they produced")
        boxes = VGroup(
            *(
                VGroup(self.tex(eq, size=style.SMALL_SIZE + 4), m).arrange(DOWN, buff=0.2)
                for eq, m in self.summary_cells()
            )
        )
        # The cells sit closer on a board that sets its matrices closer.
        boxes.arrange_in_grid(rows=2, cols=2, buff=(3 * self.elision.buff, 0.35))
        self.place(boxes)
        self.record("summary", list(boxes))
        self.play(self.reveal(*boxes))
        self.wait(READ * 2)
