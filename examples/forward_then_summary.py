"""The forward pass of one layer, then my own summary slide.

Render from this folder or any other::

    manim render -ql examples/forward_then_summary.py ForwardThenSummary
    backprop render examples/forward_then_summary.py --preset batch-demo   # another run
"""

from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, FadeIn, FadeOut, MathTex, Tex, VGroup, Write

from backprop_anim import DEFAULT_STYLE, TraceMatrix, TraceScene, row_times_column


class ForwardThenSummary(TraceScene):
    preset = "delta-demo"
    hold_for_narration = True  # each subtitle is shown in full before the next beat

    def construct(self) -> None:
        self.board()
        self.rows()
        self.summary()
        self.finish_beats()

    def board(self) -> None:
        self.beat("Layer 1", "The first layer: weights times input, plus the bias.")
        self.W = TraceMatrix(self.numbers, "W1")
        self.x = TraceMatrix(self.numbers, "a0")
        self.b = TraceMatrix(self.numbers, "b1")
        self.z = TraceMatrix(self.numbers, "z1")
        equation = VGroup(self.W, self.x, MathTex("+"), self.b, MathTex("="), self.z).arrange(
            RIGHT, buff=0.3
        )
        equation.scale(0.8).to_edge(UP, buff=0.8)
        self.play(FadeIn(VGroup(*equation[:5])), FadeIn(self.z.get_shell()))
        self.equation = equation

    def rows(self) -> None:
        n = self.z.true_shape[0]
        for j in range(n):
            self.beat(f"Row {j}", f"Row {j} of the weights meets the input.")
            z_j = row_times_column(
                self.numbers, "W", 1, "a", 0, row=j, add=("b", 1), result=("z", 1),
                label=rf"z^{{(1)}}_{{{j}}} =",
            )  # fmt: skip
            z_j.mobject.scale(0.8).next_to(self.equation, DOWN, buff=0.8)
            for animation in z_j.animations(self.W, self.x, self.b):
                self.play(animation)
            self.play(z_j.result.copy().animate.move_to(self.z.get_entry(j, 0)))
            self.play(FadeOut(z_j.mobject))

    def summary(self) -> None:
        self.beat("Summary", "In short: one matrix product per layer.")
        self.play(FadeOut(self.equation))
        self.clear()
        loss = self.numbers.tex("loss", font_size=34, color=DEFAULT_STYLE.cost)
        slide = VGroup(
            Tex(r"\textbf{What to remember}", font_size=44),
            Tex(r"$\bullet$ each layer computes $z = W a + b$", font_size=34),
            Tex(r"$\bullet$ then $a = \sigma(z)$, entry by entry", font_size=34),
            VGroup(Tex(r"$\bullet$ this network's cost: ", font_size=34), loss).arrange(RIGHT),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.35)
        self.play(Write(slide[0]))
        self.play(FadeIn(slide[1:], shift=0.2 * UP, lag_ratio=0.4))
        self.wait(1.0)
