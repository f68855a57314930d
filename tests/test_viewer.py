"""The viewer checks of :mod:`viewer` find what they look for, and only that."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from manim import LEFT, RIGHT, UP, FadeIn, MathTex, Scene, TransformFromCopy, tempconfig
from viewer import FLOOR_PX, assert_viewable, digit_px, watched


class Board(Scene):
    """Two numbers side by side; ``fault`` breaks one check."""

    fault = ""

    def construct(self) -> None:
        self.next_section("board")
        if self.fault == "late":
            self.wait(2)
        left = MathTex("0.25", font_size=36).shift(2 * LEFT)
        middle = MathTex("0.75", font_size=36)
        right = MathTex("0.50", font_size=36).shift(2 * RIGHT)
        if self.fault == "small":
            right.scale(0.5)
        self.numbers = SimpleNamespace(
            shown=[SimpleNamespace(mobject=m) for m in (left, middle, right)]
        )
        self.play(FadeIn(left, middle, right))
        self.next_section("flight")
        target = MathTex("0.25", font_size=36).shift(
            2 * RIGHT + (1.5 if self.fault == "" else 0) * UP
        )
        dim = {"dimmed": 0.25}.get(self.fault)
        if dim is None:
            self.play(TransformFromCopy(left, target))
        else:
            # Dimmed by the time the copy reaches it (a fifth of the way).
            fast = middle.animate(rate_func=lambda t: min(1.0, 5 * t)).set_opacity(dim)
            self.play(TransformFromCopy(left, target), fast)


def run(fault: str, tmp_path: Path) -> Scene:
    cls = watched(type("Board", (Board,), {"fault": fault}))
    with tempconfig({"dry_run": True, "media_dir": str(tmp_path), "disable_caching": True,
                     "write_to_movie": False, "verbosity": "WARNING"}):  # fmt: skip
        scene = cls(skip_animations=True)
        scene.render()
    return scene


@pytest.mark.parametrize("fault", ["", "dimmed"])
def test_a_clean_board_passes(fault: str, tmp_path: Path) -> None:
    """A flight above the numbers, or across one dimmed while it passes, is clean."""
    seen = assert_viewable(run(fault, tmp_path))
    assert seen.flights == 1 and seen.texts >= 4


@pytest.mark.parametrize(
    ("fault", "finds"),
    [
        ("small", "px"),
        ("cross", "crosses '0.75'"),
        ("late", "first new number at 2.00 s"),
    ],
)
def test_each_fault_is_found(fault: str, finds: str, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=finds):
        assert_viewable(run(fault, tmp_path))


def test_the_floor_is_ten_pixels_of_digit_at_480p() -> None:
    """A ``0`` of font size 28 is 0.2 units tall: 12 px of the 480 px of 8 units."""
    zero = MathTex("0", font_size=28)
    assert digit_px(zero) == pytest.approx(zero.height * 60, rel=1e-6)
    assert FLOOR_PX == 10.0
