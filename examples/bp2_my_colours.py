"""BP2 of my own 3-4-2 network, in my colours, beside my own text.

Render from this folder or any other::

    manim render -ql examples/bp2_my_colours.py BP2MyColours
    backprop render examples/bp2_my_colours.py            # the same, with typed options

The network is ``my_network.toml`` beside this file; ``backprop render ... --preset xor``
(or ``BACKPROP_PRESET=xor``) shows another run without editing the file.
"""

from __future__ import annotations

from dataclasses import replace

from manim import DOWN, LEFT, RIGHT, UP, FadeIn, ManimColor, MathTex, Tex, VGroup, Write

from backprop_anim import DEFAULT_STYLE, TraceMatrix, TraceScene, hadamard, row_times_column

MY_STYLE = replace(
    DEFAULT_STYLE,
    weight=ManimColor("#FFB000"),
    delta=ManimColor("#00C2FF"),
    sigma_prime=ManimColor("#B28DFF"),
    highlight=ManimColor("#FFFFFF"),
)
"""My colours: amber weights, cyan errors, lilac σ', white frames."""

LAYER = 1
"""The layer whose error BP2 computes: δ^(1) from δ^(2)."""


class BP2MyColours(TraceScene):
    config_file = "my_network.toml"
    iteration = 1
    decimals = 2
    hold_for_narration = True  # each subtitle is shown in full before the next beat

    def construct(self) -> None:
        self.title()
        self.operands()
        self.one_entry()
        self.my_text()
        self.finish_beats()

    def title(self) -> None:
        self.beat("BP2", "BP2 carries the error of a layer back to the layer before it.")
        heading = MathTex(
            r"\delta^{(1)} = \big((W^{(2)})^{T} \delta^{(2)}\big) \odot \sigma'(z^{(1)})",
            font_size=40,
        ).to_edge(UP)
        self.play(Write(heading))
        self.heading = heading

    def operands(self) -> None:
        self.beat("The operands", "Here are the transposed weights and the output error.")
        l = LAYER
        self.WT = TraceMatrix(self.numbers, f"W{l + 1}", transpose=True, style=MY_STYLE)
        self.d = TraceMatrix(self.numbers, f"delta{l + 1}", style=MY_STYLE)
        self.sp = TraceMatrix(self.numbers, f"sigma_prime{l}", style=MY_STYLE)
        board = VGroup(self.WT, self.d, MathTex(r"\odot"), self.sp).arrange(RIGHT, buff=0.4)
        board.next_to(self.heading, DOWN, buff=0.5).to_edge(LEFT, buff=0.6)
        self.play(FadeIn(board))

    def one_entry(self) -> None:
        self.beat("One entry", "Row one of the transpose times the error, times sigma prime.")
        k = 1
        back = row_times_column(
            self.numbers, "W", LAYER + 1, "delta", LAYER + 1,
            row=k, transpose_left=True, values=False, style=MY_STYLE,
            label=rf"\big((W^{{(2)}})^T\delta^{{(2)}}\big)_{{{k}}} =",
        )  # fmt: skip
        bp2 = hadamard(
            self.numbers, back, LAYER, "sigma_prime", LAYER,
            result=("delta", LAYER), row=k, style=MY_STYLE,
        )  # fmt: skip
        lines = VGroup(back.mobject, bp2.mobject).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        lines.next_to(self.WT, DOWN, buff=0.7, aligned_edge=LEFT)
        for animation in back.animations(self.WT, self.d):
            self.play(animation)
        self.play(*bp2.animations(back.result, self.sp))

    def my_text(self) -> None:
        self.beat("In my words", "The error flows back along the same weights.")
        note = VGroup(
            Tex(r"Same weights,\\ read backwards:", font_size=30),
            Tex(r"column $k$ of $W^{(2)}$", font_size=30, color=MY_STYLE.weight),
            Tex(r"collects the errors $\delta^{(2)}$", font_size=30, color=MY_STYLE.delta),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.2)
        note.to_edge(RIGHT, buff=0.5).shift(0.6 * UP)
        self.play(FadeIn(note, shift=0.2 * LEFT))
