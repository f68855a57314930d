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
from typing import Any

from manim import (
    DOWN,
    LEFT,
    RIGHT,
    UL,
    UP,
    Animation,
    AnimationGroup,
    FadeIn,
    FadeOut,
    Indicate,
    LaggedStart,
    ManimColor,
    MathTex,
    Mobject,
    Rectangle,
    ReplacementTransform,
    Text,
    Transform,
    TransformFromCopy,
    VGroup,
    config,
)

from backprop_anim import style
from backprop_anim.diagram import NetworkDiagram
from backprop_anim.layout import Layout, bounding_box, fit_to_frame, keep_in_frame
from backprop_anim.mobjects import TraceMatrix, color_legend, labelled, shape_tex
from backprop_anim.products import (
    Num,
    Token,
    TokenLine,
    assemble,
    dot_expression,
    hadamard_order,
    highlight,
    outer_product_cells,
    round_trip_decimals,
    row_column_pairs,
    sum_terms,
    transpose_moves,
)
from backprop_anim.scene import TraceScene
from backprop_anim.tuning.texbatch import prewarm_tex, trace_number_texts
from backprop_core.activations import ACTIVATIONS
from backprop_core.losses import (
    LOSSES,
    SOFTMAX_CROSS_ENTROPY_GRADIENT_LATEX,
    SOFTMAX_CROSS_ENTROPY_LATEX,
)
from backprop_explain.elide import largest_entry, visible_indices

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

MAX_GROW = 1.35
"""How much :meth:`BackpropInMatrixForm.place` may enlarge a small arrangement."""
MARGIN = 0.3
FRAME_W, FRAME_H = 14.2, 8.0

READ = 1.5
"""Pause after a result, so it can be read (a frozen frame: nearly free to render)."""
CLEAR_TIME = 0.5
"""How long :meth:`BackpropInMatrixForm.clear` takes to fade the screen out."""


class BackpropInMatrixForm(TraceScene):
    """The four equations of backpropagation, each matrix product done with real numbers."""

    default_preset = "delta-demo"
    hold_for_narration = True

    def setup(self) -> None:
        super().setup()
        self.layouts: list[Layout] = []
        """Every arrangement shown, for the tests' fit and overlap checks."""
        self.heading: Mobject | None = None
        self.covers: dict[int, Rectangle] = {}
        """Covers on screen, by id (see :meth:`cover`)."""
        # One LaTeX run for every number the matrices can show (see texbatch).
        prewarm_tex(trace_number_texts(self.numbers))

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
    # Facts about the trace (read, never computed)
    # -----------------------------------------------------------------------------------

    @property
    def L(self) -> int:
        return len(self.step.layers)

    @property
    def m(self) -> int:
        return int(self.step.input.shape[1])

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self.trace.config.sizes)

    @property
    def has_bias(self) -> bool:
        return bool(self.trace.config.bias)

    def activation(self, l: int) -> str:
        return str(self.trace.config.activations[l - 1])

    @property
    def softmax_output(self) -> bool:
        return self.activation(self.L) == "softmax"

    @property
    def softmax_ce(self) -> bool:
        return self.softmax_output and self.trace.config.loss == "cross_entropy"

    # -----------------------------------------------------------------------------------
    # Notation helpers
    # -----------------------------------------------------------------------------------

    def sym(self, base: str, l: int | str, t: bool = False) -> str:
        """``a^{(l)}``, or the batch matrix ``A^{(l)}`` when there are several samples."""
        batch = {"a": "A", "z": "Z", r"\delta": r"\Delta"}
        name = batch.get(base, base) if self.m > 1 else base
        tex = f"{name}^{{({l})}}"
        return f"({tex})^T" if t else tex

    def act_color(self, l: int) -> ManimColor:
        return style.INPUT_COLOR if l == 0 else style.ACTIVATION_COLOR

    def matrix(
        self, name: str, color: ManimColor, tex: str, **kwargs: object
    ) -> tuple[VGroup, TraceMatrix]:
        """A trace matrix with its symbol above and its true shape below."""
        mat = TraceMatrix(self.numbers, name, color, **kwargs)  # type: ignore[arg-type]
        return labelled(mat, tex), mat

    @staticmethod
    def shell(group: VGroup, mat: TraceMatrix) -> VGroup:
        """A labelled matrix without its numbers (they arrive by animation)."""
        return VGroup(group[0], mat.get_shell(), group[2])

    def op(self, tex: str) -> MathTex:
        return MathTex(tex, font_size=style.BODY_SIZE + 4, color=style.TEXT_COLOR)

    def tex(
        self, tex: str, color: ManimColor = style.TEXT_COLOR, size: float = style.BODY_SIZE
    ) -> MathTex:
        return MathTex(tex, font_size=size, color=color)

    # -----------------------------------------------------------------------------------
    # Screen management
    # -----------------------------------------------------------------------------------

    def set_heading(self, text: str) -> Mobject:
        """The beat's title, top left; cross-fades from the previous one.

        By curtains (see :meth:`curtain`): a cover fades in over the old title while the new
        one, above that cover, is uncovered. On screen this is a cross-fade; manim redraws
        two rectangles and one title per frame instead of morphing every glyph of both
        (``FadeTransform`` of two titles cost 0.3 s a heading at ``-ql``).
        """
        new = Text(text, font_size=style.TITLE_SIZE - 8, color=style.TEXT_COLOR)
        new.to_corner(UL, buff=0.3)
        old = self.heading
        if old is not None and old in self.mobjects:
            cover = self.curtain(old).set_fill(opacity=0.0)
            self.add(cover)
            self.play(cover.animate.set_fill(opacity=1.0), self.reveal(new), run_time=0.6)
            self.remove(old, cover)
        else:
            self.play(self.reveal(new), run_time=0.5)
        self.heading = new
        return new

    def place(self, body: Mobject, grow: float = MAX_GROW) -> Mobject:
        """Fit ``body`` into the frame under the heading and centre it there.

        Small bodies grow (up to ``grow`` times) so they use the frame; large ones shrink.
        """
        top = 0.0 if self.heading is None else self.heading.height + 0.5
        room_w, room_h = FRAME_W - 2 * MARGIN, FRAME_H - 2 * MARGIN - top
        factor = min(room_w / body.width, room_h / body.height, grow)
        body.scale(factor)
        fit_to_frame(body, margin=MARGIN, max_height=room_h)
        body.move_to(DOWN * top / 2)
        return body

    def record(self, name: str, parts: Sequence[Mobject]) -> None:
        """Remember an arrangement so tests can check it fits and nothing overlaps."""
        beat = self.beats[-1] if self.beats else "?"
        heading = [self.heading] if self.heading is not None else []
        self.layouts.append(Layout.of(beat, name, [*heading, *parts]))

    # Fading by curtains: on a plain background, fading a rectangle of the background
    # colour over a group looks exactly like fading the group, but manim then copies one
    # rectangle instead of every glyph of every matrix (FadeIn/FadeOut copy their mobject
    # twice); this halves the cost of a matrix beat.

    def curtain(self, mob: Mobject, pad: float = 0.04) -> Rectangle:
        """An opaque rectangle of the background colour over ``mob``'s bounding box."""
        x0, y0, x1, y1 = bounding_box(mob)
        rect = self.cover(x1 - x0 + 2 * pad, y1 - y0 + 2 * pad, opacity=1.0)
        return rect.move_to([(x0 + x1) / 2, (y0 + y1) / 2, 0])

    def cover(self, width: float, height: float, opacity: float) -> Rectangle:
        """A rectangle of the background colour whose place in the drawing order is kept
        (:meth:`play` never lifts it: it must stay over what it covers and under what
        is shown above it)."""
        rect = Rectangle(
            width=width,
            height=height,
            fill_color=config.background_color,
            fill_opacity=opacity,
            stroke_width=0,
        )
        self.covers[id(rect)] = rect
        return rect

    def reveal(self, *mobs: Mobject, lag_ratio: float = 0.0) -> Animation:
        """Put ``mobs`` on screen under curtains; the animation returned lifts them."""
        covers = [self.curtain(m) for m in mobs]
        self.add(*mobs, *covers)
        return LaggedStart(*(FadeOut(c) for c in covers), lag_ratio=lag_ratio)

    def clear(self, keep: Sequence[Mobject] = (), end_of_beat: bool = False) -> None:
        """Fade out everything but ``keep`` (one thing at a time on screen).

        At the ``end_of_beat``, the picture first stays up until the beat's narration has
        been shown (the fade overlaps its last half second): a narration longer than its
        beat otherwise ran on over an empty screen (2.6 s of black after the overview, 3.6
        to 5 s after BP1, 8.7 s after the one-layer BP2 note on ``seed-scalar``). The video
        is as long as before; the wait moves from the start of the next beat to here.
        """
        keep_ids = {id(m) for k in keep for m in k.get_family()}
        gone = [m for m in self.mobjects if id(m) not in keep_ids]
        if not gone:
            return
        if end_of_beat:
            self.finish_beats(lead=CLEAR_TIME)
        cover = self.cover(FRAME_W + 1, FRAME_H + 1, opacity=0.0)
        self.add(cover)
        self.bring_to_front(*(m for m in self.mobjects if id(m) in keep_ids))
        self.play(cover.animate.set_fill(opacity=1.0), run_time=CLEAR_TIME)
        self.remove(*gone, cover)
        self.covers.clear()  # nothing is covered any more

    def play(self, *animations: Any, **kwargs: Any) -> None:
        """:meth:`Scene.play`, with what it animates on screen lifted to the top first.

        Manim redraws, every frame, the first animated mobject *and everything drawn after
        it*. A highlight fading out or an entry already on screen being transformed made
        it redraw every matrix and line added since (up to 240 glyphs for 10 animated).
        Lifting the animated mobjects to the top of the drawing order changes nothing on
        screen (layouts do not overlap, see :meth:`record`), except for covers, which are
        never lifted: they must stay between what they hide and what is above them.
        """
        on_screen = {id(m) for m in self.get_mobject_family_members()}
        lift: list[Mobject] = []

        def visit(items: Sequence[Any]) -> None:
            for item in items:
                if isinstance(item, AnimationGroup):
                    visit(item.animations)
                    continue
                mob = getattr(item, "mobject", None)
                if isinstance(mob, Mobject) and id(mob) in on_screen and id(mob) not in self.covers:
                    lift.append(mob)

        visit(animations)
        if lift:
            self.bring_to_front(*lift)
        super().play(*animations, **kwargs)

    def regroup(self, group: Mobject) -> None:
        """Swap a group's pieces on screen for the group itself, to move it as one."""
        family = {id(m) for m in group.get_family()}
        self.remove(*[m for m in self.mobjects if id(m) in family])
        self.add(group)

    def eta_tex(self) -> Num:
        decimals = round_trip_decimals(self.trace.config.learning_rate, 1)
        return Num("eta", style.TEXT_COLOR, decimals=decimals)

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
            font_size=style.SMALL_SIZE,
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
        body.move_to(0)
        self.record("overview", [title, about, facts, diagram, table, legend, note])
        self.play(FadeIn(title, shift=DOWN * 0.2), FadeIn(about), FadeIn(facts))
        self.play(self.reveal(diagram, layer_labels), run_time=1.2)
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
            self.forward_layer(l)
            self.activate_layer(l)

    def forward_layer(self, l: int) -> None:
        """``z^(l) = W^(l) a^(l-1) + b^(l)``, one entry computed term by term."""
        self.set_heading(f"Forward pass: layer {l} of {self.L}")
        j, s = ROW, SAMPLE
        W_g, W = self.matrix(f"W{l}", style.WEIGHT_COLOR, f"W^{{({l})}}")
        a_g, a = self.matrix(f"a{l - 1}", self.act_color(l - 1), self.sym("a", l - 1))
        z_g, z = self.matrix(f"z{l}", style.Z_COLOR, self.sym("z", l))
        row: list[Mobject] = [W_g, a_g]
        if self.has_bias:
            b_g, b = self.matrix(f"b{l}", style.BIAS_COLOR, f"b^{{({l})}}")
            row[2:] = [self.op("+"), b_g]
        row += [self.op("="), z_g]
        equation = VGroup(*row).arrange(RIGHT, buff=0.3)

        pairs = row_column_pairs(j, s, self.sizes[l - 1])
        prefix = rf"z^{{({l})}}_{{{j}{',' + str(s) if self.m > 1 else ''}}} ="
        terms: list[Token] = [prefix]
        products: list[Token] = ["="]
        for n, pair in enumerate(pairs):
            if n:
                terms.append("+")
                products.append("+")
            if pair is None:
                terms.append(r"\cdots")
                products.append(r"\cdots")
                continue
            (_, k), _ = pair
            terms += [
                Num(f"W{l}[{j},{k}]", style.WEIGHT_COLOR, wrap=True),
                r"\cdot",
                Num(f"a{l - 1}[{k},{s}]", self.act_color(l - 1), wrap=True),
            ]
            products.append(Num(f"W{l}[{j},{k}]*a{l - 1}[{k},{s}]", wrap=True))
        if self.has_bias:
            terms += ["+", Num(f"b{l}[{j},0]", style.BIAS_COLOR, wrap=True)]
            products += ["+", Num(f"b{l}[{j},0]", style.BIAS_COLOR, wrap=True)]
        products += ["=", Num(f"z{l}[{j},{s}]", style.Z_COLOR)]
        line1 = TokenLine(self.numbers, terms)
        line2 = TokenLine(self.numbers, products)
        lines = VGroup(line1, line2).arrange(DOWN, aligned_edge=LEFT, buff=0.3)
        # Line 2 starts under line 1's "=", so the sums read as one derivation.
        line2.shift(RIGHT * (line1.decor[0].get_right()[0] - line2.decor[0].get_right()[0]))
        body = VGroup(equation, lines).arrange(DOWN, buff=0.5)
        self.place(body)
        self.record(f"forward_{l}", [*row, line1, line2])

        others = [m for m in row if m not in (z_g,)]
        self.play(self.reveal(VGroup(*others), self.shell(z_g, z)))
        sources: list[Mobject | None] = []
        for pair in pairs:
            if pair is not None:
                (wj, wk), (ak, asmp) = pair
                sources += [W.get_entry(wj, wk), a.get_entry(ak, asmp)]
        if self.has_bias:
            sources.append(b.get_entry(j, 0))
        w_row = [W.get_entry(j, k) for (_, k), _ in (p for p in pairs if p is not None)]
        a_col = [a.get_entry(k, s) for _, (k, _) in (p for p in pairs if p is not None)]
        rects, draw = highlight([VGroup(*w_row), VGroup(*a_col)])
        self.play(draw)
        self.play(assemble(line1, sources), run_time=2)
        # Each pair of factors turns into its product; the sum lands in z.
        factor_pairs = [VGroup(*line1.nums[2 * i : 2 * i + 2]) for i in range(len(w_row))]
        p_sources: list[Mobject | None] = [*factor_pairs]
        if self.has_bias:
            p_sources.append(line1.nums[-1])
        p_sources.append(None)
        self.play(assemble(line2, p_sources), run_time=2)
        target = z.get_entry(j, s)
        self.play(TransformFromCopy(line2.nums[-1], target), FadeOut(rects))
        rest = [e for e in z.get_number_entries() if e is not target]
        if rest:
            self.play(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        self.wait(READ)

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
        body = VGroup(formula, row).arrange(DOWN, buff=0.6)
        self.place(body)
        self.record(f"activation_{l}", [formula, z_g, arrow, a_g])
        self.clear(keep=[self.heading] if self.heading else [])
        self.play(self.reveal(formula, z_g, arrow, self.shell(a_g, a)))
        flights = [
            TransformFromCopy(z.get_entry(i, c), a.get_entry(i, c))
            for (i, c) in a._entry_at  # row by row: entry by entry
        ]
        self.play(LaggedStart(*flights, lag_ratio=0.25), run_time=2)
        self.wait(READ)
        self.clear(keep=[self.heading] if self.heading else [], end_of_beat=l == self.L)

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
        self.play(self.reveal(formula))
        self.play(self.reveal(mats))
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
            self.output_error_softmax_ce()
        elif self.softmax_output:
            self.output_error_softmax()
        else:
            self.output_error_hadamard()
        self.clear(keep=[self.heading], end_of_beat=True)

    def _entrywise(
        self,
        formula: Mobject,
        left: tuple[VGroup, TraceMatrix],
        op: str,
        right: tuple[VGroup, TraceMatrix],
        result: tuple[VGroup, TraceMatrix],
        line_for: dict[str, str],
        name: str,
        note: Mobject | None = None,
    ) -> None:
        """``left op right = result`` done one entry at a time (column ``SAMPLE``)."""
        (l_g, l_m), (r_g, r_m), (d_g, d_m) = left, right, result
        colors = [l_m.quantity_color, r_m.quantity_color, d_m.quantity_color]
        row = VGroup(l_g, self.op(op), r_g, self.op("="), d_g).arrange(RIGHT, buff=0.35)
        cells = hadamard_order(d_m.row_indices, SAMPLE)
        lines = []
        for i, c in cells:
            lines.append(
                TokenLine(
                    self.numbers,
                    [
                        Num(line_for["left"].format(i=i, s=c), colors[0], wrap=True),
                        line_for["op"],
                        Num(line_for["right"].format(i=i, s=c), colors[1], wrap=True),
                        "=",
                        Num(line_for["result"].format(i=i, s=c), colors[2]),
                    ],
                )
            )
        parts: list[Mobject] = [formula, row]
        body_items: list[Mobject] = [formula, row, lines[0]]
        if note is not None:
            body_items.append(note)
        body = VGroup(*body_items).arrange(DOWN, buff=0.5)
        self.place(body)
        for line in lines[1:]:
            line.scale(lines[0].height / line.height if line.height else 1.0)
            line.move_to(lines[0])
        parts = [formula, *row, lines[0], *([note] if note is not None else [])]
        self.record(name, parts)
        self.play(self.reveal(formula))
        self.play(self.reveal(VGroup(*row[:4]), self.shell(d_g, d_m)))
        rects: VGroup | None = None
        shown: Mobject | None = None
        for (i, c), line in zip(cells, lines, strict=True):
            new_rects, draw = highlight([l_m.get_entry(i, c), r_m.get_entry(i, c)])
            anims = [ReplacementTransform(rects, new_rects) if rects is not None else draw]
            anims.append(
                ReplacementTransform(shown, line)
                if shown is not None
                else assemble(line, [l_m.get_entry(i, c), r_m.get_entry(i, c), None])
            )
            self.play(*anims, run_time=0.9)
            self.play(TransformFromCopy(line.nums[-1], d_m.get_entry(i, c)), run_time=0.6)
            rects, shown = new_rects, line
        rest = [
            e for e in d_m.get_number_entries() if not any(e is d_m.get_entry(*x) for x in cells)
        ]
        anims = [FadeOut(rects)] if rects is not None else []
        if rest:
            anims.append(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        if note is not None:
            anims.append(FadeIn(note))
        self.play(*anims)
        self.wait(READ)

    def output_error_hadamard(self) -> None:
        L = self.L
        f = ACTIVATIONS[self.activation(L)]
        _, grad = self.loss_latex()
        formula = self.tex(
            rf"\delta^{{({L})}} = \nabla_a C \odot \sigma'(z^{{({L})}}),\qquad "
            rf"\nabla_a C = {grad},\quad \sigma'(z) = {f.prime_latex}"
        )
        note = Text(
            "⊙ multiplies entries at the same position: no rows, no columns, no sums.",
            font_size=style.SMALL_SIZE,
        )
        self._entrywise(
            formula,
            self.matrix("ga", style.GRADIENT_COLOR, r"\nabla_a C"),
            r"\odot",
            self.matrix(f"sp{L}", style.SIGMA_PRIME_COLOR, rf"\sigma'({self.sym('z', L)})"),
            self.matrix(f"d{L}", style.DELTA_COLOR, self.sym(r"\delta", L)),
            {
                "left": "ga[{i},{s}]",
                "op": r"\cdot",
                "right": f"sp{L}[{{i}},{{s}}]",
                "result": f"d{L}[{{i}},{{s}}]",
            },
            "bp1",
            note,
        )

    def output_error_softmax_ce(self) -> None:
        L = self.L
        formula = self.tex(
            rf"\delta^{{({L})}} = a^{{({L})}} - y\qquad"
            r"\text{(softmax with cross-entropy: the Jacobian and } -y/a \text{ cancel)}"
        )
        self._entrywise(
            formula,
            self.matrix(f"a{L}", style.ACTIVATION_COLOR, self.sym("a", L)),
            "-",
            self.matrix("y", style.TARGET_COLOR, "Y" if self.m > 1 else "y"),
            self.matrix(f"d{L}", style.DELTA_COLOR, self.sym(r"\delta", L)),
            {
                "left": f"a{L}[{{i}},{{s}}]",
                "op": "-",
                "right": "y[{i},{s}]",
                "result": f"d{L}[{{i}},{{s}}]",
            },
            "bp1",
        )

    def output_error_softmax(self) -> None:
        L = self.L
        _, grad = self.loss_latex()
        formula = self.tex(
            rf"\delta^{{({L})}} = J^T \nabla_a C,\qquad J = \mathrm{{diag}}(a) - a a^T,"
            rf"\quad \nabla_a C = {grad}"
        )
        g_g, _ = self.matrix("ga", style.GRADIENT_COLOR, r"\nabla_a C")
        d_g, _ = self.matrix(f"d{L}", style.DELTA_COLOR, self.sym(r"\delta", L))
        arrow = MathTex(r"\xrightarrow{\ J^T\ }", font_size=style.BODY_SIZE + 8)
        row = VGroup(g_g, arrow, d_g).arrange(RIGHT, buff=0.5)
        body = VGroup(formula, row).arrange(DOWN, buff=0.6)
        self.place(body)
        self.record("bp1", [formula, g_g, arrow, d_g])
        self.play(self.reveal(formula))
        self.play(self.reveal(g_g, arrow))
        self.play(TransformFromCopy(g_g, d_g), run_time=1.5)
        self.wait(READ)

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
            self.backpropagate_layer(l)
            self.deltas_to_diagram(l)

    def backpropagate_layer(self, l: int) -> None:
        """``δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ σ'(z^(l))``: transpose, row × column, ⊙."""
        self.set_heading(f"Backpropagate (BP2): layer {l}")
        # The row whose error is computed: the largest shown entry of δ^(l), sample 0.
        shown_rows = visible_indices(self.sizes[l], style.MAX_ROWS)
        k, _ = largest_entry(self.step.layers[l - 1].delta[:, [SAMPLE]], shown_rows, [0])
        s = SAMPLE
        n_next = self.sizes[l + 1]
        W_g, W = self.matrix(f"W{l + 1}", style.WEIGHT_COLOR, f"W^{{({l + 1})}}")
        WT_g, WT = self.matrix(
            f"W{l + 1}", style.WEIGHT_COLOR, f"(W^{{({l + 1})}})^T", transpose=True
        )
        dn_g, dn = self.matrix(f"d{l + 1}", style.DELTA_COLOR, self.sym(r"\delta", l + 1))
        sp_g, sp = self.matrix(f"sp{l}", style.SIGMA_PRIME_COLOR, rf"\sigma'({self.sym('z', l)})")
        d_g, d = self.matrix(f"d{l}", style.DELTA_COLOR, self.sym(r"\delta", l))
        row = VGroup(WT_g, dn_g, self.op(r"\odot"), sp_g, self.op("="), d_g)
        row.arrange(RIGHT, buff=0.3)
        f = ACTIVATIONS[self.activation(l)]
        formula = self.tex(
            rf"\delta^{{({l})}} = \big((W^{{({l + 1})}})^T \delta^{{({l + 1})}}\big)"
            rf" \odot \sigma'(z^{{({l})}}),\qquad \sigma'(z) = {f.prime_latex}"
        )
        pairs = row_column_pairs(k, s, n_next)
        sum_expr = dot_expression(f"W{l + 1}", f"d{l + 1}", k, s, n_next, left_t=True)
        sample = f",{s}" if self.m > 1 else ""
        terms: list[Token] = [
            rf"\big((W^{{({l + 1})}})^T \delta^{{({l + 1})}}\big)_{{{k}{sample}}} ="
        ]
        for n, pair in enumerate(pairs):
            if n:
                terms.append("+")
            if pair is None:
                terms.append(r"\cdots")
                continue
            (_, j), _ = pair
            terms += [
                Num(f"W{l + 1}[{j},{k}]", style.WEIGHT_COLOR, wrap=True),
                r"\cdot",
                Num(f"d{l + 1}[{j},{s}]", style.DELTA_COLOR, wrap=True),
            ]
        terms += ["=", Num(sum_expr)]
        line1 = TokenLine(self.numbers, terms)
        line2 = TokenLine(
            self.numbers,
            [
                Num(sum_expr, wrap=True),
                r"\cdot",
                Num(f"sp{l}[{k},{s}]", style.SIGMA_PRIME_COLOR, wrap=True),
                "=",
                Num(f"d{l}[{k},{s}]", style.DELTA_COLOR),
            ],
        )
        lines = VGroup(line1, line2).arrange(DOWN, buff=0.3)
        body = VGroup(formula, row, lines).arrange(DOWN, buff=0.45)
        self.place(body)
        keep_in_frame(W_g.move_to(WT_g), MARGIN)
        self.record(f"bp2_{l}", [formula, *row, line1, line2])
        self.record(f"bp2_{l}_before_transpose", [formula, W_g])

        # W^(l+1) appears, then its rows turn into columns.
        self.play(self.reveal(formula, W_g))
        self.wait(0.5)
        moves = transpose_moves(W.row_indices, W.col_indices, WT.row_indices, WT.col_indices)
        moved = {id(W.get_entry(*a)) for a, _ in moves}
        landed = {id(WT.get_entry(*b)) for _, b in moves}
        self.play(
            *(ReplacementTransform(W.get_entry(*a), WT.get_entry(*b)) for a, b in moves),
            *(FadeOut(e) for e in W.get_entries() if id(e) not in moved),
            *(FadeIn(e) for e in WT.get_entries() if id(e) not in landed),
            ReplacementTransform(W.get_brackets(), WT.get_brackets()),
            ReplacementTransform(W_g[0], WT_g[0]),
            ReplacementTransform(W_g[2], WT_g[2]),
            run_time=2,
        )
        self.play(self.reveal(VGroup(*row[1:5]), self.shell(d_g, d)))
        # Row k of W^T times column s of δ^(l+1).
        shown = [p for p in pairs if p is not None]
        rects, draw = highlight(
            [
                VGroup(*(WT.get_entry(kk, j) for (kk, j), _ in shown)),
                VGroup(*(dn.get_entry(j, ss) for _, (j, ss) in shown)),
            ]
        )
        self.play(draw)
        sources: list[Mobject | None] = []
        for (kk, j), (_, ss) in shown:
            sources += [WT.get_entry(kk, j), dn.get_entry(j, ss)]
        self.play(assemble(line1, [*sources, None]), run_time=2)
        rects2, _ = highlight([sp.get_entry(k, s)])
        self.play(ReplacementTransform(rects, rects2))
        self.play(assemble(line2, [line1.nums[-1], sp.get_entry(k, s), None]), run_time=1.5)
        target = d.get_entry(k, s)
        self.play(TransformFromCopy(line2.nums[-1], target), FadeOut(rects2))
        rest = [e for e in d.get_number_entries() if e is not target]
        if rest:
            self.play(LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.1))
        self.wait(READ)
        self.delta_group = (d_g, d)

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
        row = VGroup(target, VGroup(labels, diagram)).arrange(RIGHT, buff=1.2)
        self.place(row)
        self.record(f"bp2_{l}_diagram", [target, VGroup(labels, diagram)])
        self.clear(keep=[self.heading, *d_g.get_family()])
        self.regroup(d_g)
        self.play(Transform(d_g, target))
        self.play(self.reveal(diagram, labels))
        copies, flights = [], []
        for (i, c), entry in d._entry_at.items():
            if c != SAMPLE or not diagram.has_neuron(l, i):
                continue
            copy = entry.copy()
            copies.append(copy)
            flights.append(copy.animate.move_to(diagram.get_neuron(l, i)).scale(0.3))
        self.play(LaggedStart(*flights, lag_ratio=0.2), run_time=2)
        self.play(FadeOut(*copies), *self.fill_animations(diagram, l))
        self.wait(READ)
        self.clear(keep=[self.heading], end_of_beat=l == 1)

    def delta_opacity(self, l: int, j: int) -> float:
        scale = max(abs(float(v)) for r in self.step.layers for v in r.delta[:, SAMPLE]) or 1.0
        return 0.15 + 0.85 * abs(float(self.step.layers[l - 1].delta[j, SAMPLE])) / scale

    def fill_neurons(self, diagram: NetworkDiagram, l: int) -> NetworkDiagram:
        for j in diagram.shown_neurons(l):
            diagram.get_neuron(l, j).set_fill(style.DELTA_COLOR, opacity=self.delta_opacity(l, j))
        return diagram

    def fill_animations(self, diagram: NetworkDiagram, l: int) -> list[object]:
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
        for l in range(self.L, 0, -1):
            self.gradients_layer(l)

    def grad_entry(self, l: int) -> tuple[int, int]:
        """The entry of ``∂C/∂W^(l)`` computed on screen: the largest shown one."""
        rows = visible_indices(self.sizes[l], style.MAX_ROWS)
        cols = visible_indices(self.sizes[l - 1], style.MAX_COLS)
        return largest_entry(self.step.layers[l - 1].dW, rows, cols)

    def gradients_layer(self, l: int) -> None:
        """``∂C/∂W^(l) = δ^(l) (a^(l-1))ᵀ`` as a grid, one entry linked to its edge."""
        self.set_heading(f"Gradients (BP3, BP4): layer {l}")
        j, k = self.grad_entry(l)
        batch = self.m > 1
        scale = r"\frac{1}{m}\," if batch else ""
        bp4 = (
            rf"\frac{{\partial C}}{{\partial W^{{({l})}}}} = {scale}"
            + self.sym(r"\delta", l)
            + r"\,"
            + self.sym("a", l - 1, t=True)
        )
        bp3 = rf"\qquad \frac{{\partial C}}{{\partial b^{{({l})}}}} = " + (
            rf"\frac{{1}}{{m}}\sum_x \delta^{{({l})}}_x" if batch else rf"\delta^{{({l})}}"
        )
        formula = self.tex(bp4 + (bp3 if self.has_bias else ""))
        delta = TraceMatrix(self.numbers, f"d{l}", style.DELTA_COLOR)
        aT = TraceMatrix(
            self.numbers,
            f"a{l - 1}",
            self.act_color(l - 1),
            transpose=True,
            max_rows=style.MAX_BATCH,
        )
        dW = TraceMatrix(self.numbers, f"dW{l}", style.GRADIENT_COLOR)
        # The grid: δ to the left of ∂C/∂W, row for row; aᵀ above it, column for column.
        delta.next_to(dW, LEFT, buff=0.5)
        delta.shift(UP * (dW.get_rows()[0].get_y() - delta.get_rows()[0].get_y()))
        aT.next_to(dW, UP, buff=0.35)
        aT.shift(RIGHT * (dW.get_columns()[0].get_x() - aT.get_columns()[0].get_x()))
        d_label = VGroup(
            self.tex(self.sym(r"\delta", l), style.DELTA_COLOR), delta.shape_badge()
        ).arrange(DOWN, buff=0.1)
        d_label.next_to(delta, LEFT, buff=0.2)
        a_label = VGroup(
            self.tex(self.sym("a", l - 1, t=True), self.act_color(l - 1)), aT.shape_badge()
        ).arrange(DOWN, buff=0.1)
        a_label.next_to(aT, LEFT, buff=0.2)
        if (
            a_label.get_left()[0] < delta.get_right()[0]
            and a_label.get_bottom()[1] < delta.get_top()[1]
        ):
            a_label.next_to(aT, UP, buff=0.15)
        w_label = VGroup(
            self.tex(rf"\frac{{\partial C}}{{\partial W^{{({l})}}}}", style.GRADIENT_COLOR),
            dW.shape_badge(),
        ).arrange(RIGHT, buff=0.2)
        w_label.next_to(dW, DOWN, buff=0.2)
        grid = VGroup(d_label, delta, a_label, aT, dW, w_label)
        blocks: list[Mobject] = [grid]
        db_g: VGroup | None = None
        if self.has_bias:
            db_g, db = self.matrix(
                f"db{l}", style.GRADIENT_COLOR, rf"\frac{{\partial C}}{{\partial b^{{({l})}}}}"
            )
            db_g.next_to(dW, RIGHT, buff=0.8)
            blocks.append(db_g)
        diagram = NetworkDiagram(self.sizes, weights=[r.W for r in self.step.layers])
        # The grid is what the viewer reads; the diagram only locates the edge.
        diagram.scale(0.65)
        left = VGroup(*blocks)
        top = VGroup(left, diagram).arrange(RIGHT, buff=0.8)

        terms = sum_terms(self.m, style.MAX_BATCH)
        tokens: list[Token] = [
            rf"\frac{{\partial C}}{{\partial w^{{({l})}}_{{{j}{k}}}}} ="
            + (r"\frac{1}{m}\Big(" if batch else "")
        ]
        for n, s in enumerate(terms):
            if n:
                tokens.append("+")
            if s is None:
                tokens.append(r"\cdots")
                continue
            tokens += [
                Num(f"d{l}[{j},{s}]", style.DELTA_COLOR, wrap=True),
                r"\cdot",
                Num(f"a{l - 1}[{k},{s}]", self.act_color(l - 1), wrap=True),
            ]
        if batch:
            tokens.append(r"\Big)")
        tokens += ["=", Num(f"dW{l}[{j},{k}]", style.GRADIENT_COLOR)]
        line = TokenLine(self.numbers, tokens)
        body = VGroup(formula, top, line).arrange(DOWN, buff=0.45)
        self.place(body)
        self.record(
            f"gradients_{l}",
            [
                formula,
                d_label,
                delta,
                a_label,
                aT,
                dW,
                w_label,
                *([db_g] if db_g else []),
                diagram,
                line,
            ],
        )
        self.play(self.reveal(formula))
        self.play(
            self.reveal(
                VGroup(d_label, delta, a_label, aT, w_label),
                dW.get_shell(),
                diagram,
                *([self.shell(db_g, db)] if db_g is not None else []),
            )
        )
        shown = [s for s in terms if s is not None]
        rects, draw = highlight(
            [
                VGroup(*(delta.get_entry(j, s) for s in shown if delta.has_entry(j, s))),
                VGroup(*(aT.get_entry(s, k) for s in shown if aT.has_entry(s, k))),
            ]
        )
        self.play(draw)
        sources: list[Mobject | None] = []
        for s in shown:
            sources += [
                delta.get_entry(j, s) if delta.has_entry(j, s) else None,
                aT.get_entry(s, k) if aT.has_entry(s, k) else None,
            ]
        self.play(assemble(line, [*sources, None]), run_time=2)
        target = dW.get_entry(j, k)
        edge = diagram.get_edge(l, j, k).copy().set_stroke(style.HIGHLIGHT_COLOR, width=7)
        _, draw_cell = highlight([target])
        self.play(TransformFromCopy(line.nums[-1], target), FadeOut(rects))
        self.play(
            draw_cell,
            FadeIn(edge),
            Indicate(diagram.get_neuron(l - 1, k), color=style.HIGHLIGHT_COLOR),
            Indicate(diagram.get_neuron(l, j), color=style.HIGHLIGHT_COLOR),
        )
        # The rest of the grid: every cell is (row of δ) × (column of aᵀ).
        rest = [
            dW.get_entry(*true)
            for _, true in outer_product_cells(dW.row_indices, dW.col_indices)
            if true != (j, k)
        ]
        anims = [LaggedStart(*(FadeIn(e) for e in rest), lag_ratio=0.05)] if rest else []
        if db_g is not None:
            # BP3: ∂C/∂b is δ itself (its mean over the samples for a batch).
            db_anims = [
                TransformFromCopy(delta.get_entry(i, 0), e)
                if self.m == 1 and delta.has_entry(i, 0)
                else FadeIn(e)
                for (i, _), e in db._entry_at.items()
            ]
            anims.append(LaggedStart(*db_anims, lag_ratio=0.1))
        if anims:
            self.play(*anims, run_time=1.5)
        self.wait(READ)
        self.clear(keep=[self.heading], end_of_beat=l == 1)

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
            self.update_layer(l)
        self.cost_before_after()

    def update_layer(self, l: int) -> None:
        j, k = self.grad_entry(l)  # the same weight as in the gradients beat
        self.set_heading(f"The update: layer {l}")
        formula = self.tex(
            rf"W^{{({l})}} \leftarrow W^{{({l})}} - \eta\,"
            rf"\frac{{\partial C}}{{\partial W^{{({l})}}}}"
            + (
                rf",\qquad b^{{({l})}} \leftarrow b^{{({l})}} - \eta\,"
                rf"\frac{{\partial C}}{{\partial b^{{({l})}}}}"
                if self.has_bias
                else ""
            )
        )
        rows = []
        created: list[tuple[VGroup, TraceMatrix]] = []
        for q, color in (("W", style.WEIGHT_COLOR), ("b", style.BIAS_COLOR)):
            if q == "b" and not self.has_bias:
                continue
            old_g, _ = self.matrix(f"{q}{l}", color, f"{q}^{{({l})}}")
            eta = TokenLine(self.numbers, ["-", self.eta_tex(), r"\cdot"])
            g_g, _ = self.matrix(
                f"d{q}{l}", style.GRADIENT_COLOR, rf"\frac{{\partial C}}{{\partial {q}^{{({l})}}}}"
            )
            new_g, new = self.matrix(f"{q}next{l}", color, rf"{q}^{{({l})}}_{{\text{{new}}}}")
            rows.append(VGroup(old_g, eta, g_g, self.op("="), new_g).arrange(RIGHT, buff=0.3))
            created.append((new_g, new))
        mats = VGroup(*rows).arrange(DOWN, buff=0.4, aligned_edge=LEFT)
        line = TokenLine(
            self.numbers,
            [
                rf"w^{{({l})}}_{{{j}{k}}}:",
                Num(f"W{l}[{j},{k}]", style.WEIGHT_COLOR, wrap=True),
                "-",
                self.eta_tex(),
                r"\cdot",
                Num(f"dW{l}[{j},{k}]", style.GRADIENT_COLOR, wrap=True),
                "=",
                Num(f"Wnext{l}[{j},{k}]", style.WEIGHT_COLOR),
            ],
        )
        body = VGroup(formula, mats, line).arrange(DOWN, buff=0.45)
        self.place(body)
        parts = [formula, *(p for r in rows for p in r), line]
        self.record(f"update_{l}", parts)
        self.play(self.reveal(formula))
        shells = [self.shell(g, m) for g, m in created]
        others = [p for r in rows for p in r if p not in [g for g, _ in created]]
        self.play(self.reveal(VGroup(*others), *shells))
        W_row = rows[0]
        W_old: TraceMatrix = W_row[0][1]
        dW_m: TraceMatrix = W_row[2][1]
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
        arrow = MathTex(r"\longrightarrow", font_size=style.TITLE_SIZE)
        row = VGroup(before, arrow, after).arrange(RIGHT, buff=0.5)
        self.place(row)
        self.record("cost_before_after", [before, arrow, after])
        self.play(FadeIn(before))
        self.play(FadeIn(arrow), FadeIn(after))
        self.wait(READ)
        self.clear(end_of_beat=True)
        self.heading = None

    # -----------------------------------------------------------------------------------
    # Beat 8: summary
    # -----------------------------------------------------------------------------------

    def show_summary(self) -> None:
        self.beat(
            "summary",
            "The four equations of backpropagation in matrix form, each beside the matrices "
            "it produced in this run.",
        )
        self.set_heading("The four equations, and what they produced")
        L = self.L
        size = style.SMALL_SIZE
        if self.softmax_ce:
            bp1 = r"\text{BP1}\quad \delta^{(L)} = a^{(L)} - y"
        elif self.softmax_output:
            bp1 = r"\text{BP1}\quad \delta^{(L)} = J^T \nabla_a C"
        else:
            bp1 = r"\text{BP1}\quad \delta^{(L)} = \nabla_a C \odot \sigma'(z^{(L)})"
        bp2 = (
            r"\text{BP2}\quad \delta^{(l)} = "
            r"\big((W^{(l+1)})^T \delta^{(l+1)}\big) \odot \sigma'(z^{(l)})"
        )
        if self.m > 1:
            bp3 = (
                r"\text{BP3}\quad \frac{\partial C}{\partial b^{(l)}} = "
                r"\frac{1}{m}\sum_x \delta^{(l)}_x"
            )
            bp4 = (
                r"\text{BP4}\quad \frac{\partial C}{\partial W^{(l)}} = "
                r"\frac{1}{m}\,\Delta^{(l)} (A^{(l-1)})^T"
            )
        else:
            bp3 = r"\text{BP3}\quad \frac{\partial C}{\partial b^{(l)}} = \delta^{(l)}"
            bp4 = (
                r"\text{BP4}\quad \frac{\partial C}{\partial W^{(l)}} = \delta^{(l)} (a^{(l-1)})^T"
            )
        grad_layers = [L] if L == 1 else [L, 1]

        def mats(items: list[tuple[str, ManimColor, str]]) -> VGroup:
            groups = [
                self.matrix(name, color, tex, font_size=size)[0] for name, color, tex in items
            ]
            return VGroup(*groups).arrange(RIGHT, buff=0.4)

        cells = [
            (bp1, mats([(f"d{L}", style.DELTA_COLOR, self.sym(r"\delta", L))])),
            (
                bp2,
                mats(
                    [
                        (f"d{l}", style.DELTA_COLOR, self.sym(r"\delta", l))
                        for l in range(L - 1, 0, -1)
                    ][:3]
                )
                if L > 1
                else Text("(one layer: no BP2)", font_size=size),
            ),
        ]
        if self.has_bias:
            cells.append(
                (
                    bp3,
                    mats(
                        [
                            (
                                f"db{l}",
                                style.GRADIENT_COLOR,
                                rf"\frac{{\partial C}}{{\partial b^{{({l})}}}}",
                            )
                            for l in grad_layers
                        ]
                    ),
                )
            )
        cells.append(
            (
                bp4,
                mats(
                    [
                        (
                            f"dW{l}",
                            style.GRADIENT_COLOR,
                            rf"\frac{{\partial C}}{{\partial W^{{({l})}}}}",
                        )
                        for l in grad_layers
                    ]
                ),
            )
        )
        boxes = VGroup(
            *(
                VGroup(self.tex(eq, size=style.SMALL_SIZE + 4), m).arrange(DOWN, buff=0.3)
                for eq, m in cells
            )
        )
        boxes.arrange_in_grid(rows=2, cols=2, buff=(0.9, 0.6))
        self.place(boxes)
        self.record("summary", list(boxes))
        self.play(self.reveal(*boxes, lag_ratio=0.5), run_time=3)
        self.wait(READ * 2)
