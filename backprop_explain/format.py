"""How a number is written, in the video and on paper alike.

The scene kit (:mod:`backprop_anim.numbers`) and the handouts
(:mod:`backprop_lecture.handout`) both format with :func:`fmt`, so a number on a worksheet
reads exactly as it did on screen. It lives here because ``backprop_core`` never imports
manim.
"""

from __future__ import annotations


def fmt(value: float, decimals: int) -> str:
    """A number as shown: fixed decimals and no ``-0.000``.

    >>> fmt(0.12345, 3)
    '0.123'
    >>> fmt(-0.0001, 3)
    '0.000'
    """
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text
