"""``backprop_anim.tuning.svgcache``: a cached ``MathTex`` is the same as one built afresh."""

from __future__ import annotations

import numpy as np
from manim import BLUE, MathTex, config

from backprop_anim import tuning
from backprop_anim.tuning.svgcache import _original_mathtex_init


def fresh(*tex: str, **kwargs: object) -> MathTex:
    mob = MathTex.__new__(MathTex)
    _original_mathtex_init(mob, *tex, **kwargs)
    return mob


def assert_same(a: MathTex, b: MathTex) -> None:
    fa, fb = a.get_family(), b.get_family()
    assert [type(m) for m in fa] == [type(m) for m in fb]
    for ma, mb in zip(fa, fb, strict=True):
        np.testing.assert_array_equal(ma.points, mb.points)
        np.testing.assert_array_equal(ma.fill_rgbas, mb.fill_rgbas)
        np.testing.assert_array_equal(ma.stroke_rgbas, mb.stroke_rgbas)
    assert a.tex_string == b.tex_string
    assert a.tex_strings == b.tex_strings


def test_second_mathtex_is_a_copy_equal_to_a_fresh_build() -> None:
    assert tuning.enable()
    args, kwargs = (r"0.279", r"\cdot", "x"), {"font_size": 30, "color": BLUE}
    first = MathTex(*args, **kwargs)
    second = MathTex(*args, **kwargs)
    assert_same(second, fresh(*args, **kwargs))
    assert_same(second, first)
    # A copy: no mobject is shared, and moving one leaves the other where it was.
    assert not {id(m) for m in first.get_family()} & {id(m) for m in second.get_family()}
    second.shift(np.array([1.0, 0.0, 0.0]))
    assert not np.allclose(first.get_center(), second.get_center())
    assert second.tex_template is config.tex_template


def test_other_arguments_are_other_entries() -> None:
    assert tuning.enable()
    a = MathTex("0.5", font_size=30)
    b = MathTex("0.5", font_size=40)
    c = MathTex("0.5", font_size=30, color=BLUE)
    assert a.height < b.height
    assert not np.array_equal(a.get_family()[-1].fill_rgbas, c.get_family()[-1].fill_rgbas)
