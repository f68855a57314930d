"""How a number, or a user's text, is written, in the video and on paper alike.

The scene kit (:mod:`backprop_anim.numbers`) and the handouts
(:mod:`backprop_lecture.handout`) both format with :func:`fmt`, so a number on a worksheet
reads exactly as it did on screen, and both put a trace's name into LaTeX through
:func:`tex_literal`, so a name cannot run TeX commands in a video or a handout. It lives
here because ``backprop_core`` never imports manim.
"""

from __future__ import annotations

from backprop_core.errors import printable


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


_TEX_LITERAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}


def tex_literal(text: str) -> str:
    """``text`` as inert LaTeX: every special character escaped, so no command, ``$…$``
    math, ``\\input`` or ``\\write18`` of the input reaches TeX. Letters beyond Latin-1
    (which pdflatex's default UTF-8 input cannot typeset) are written as their escape
    (``\\u4e2d``), so a name never halts the compilation."""
    safe = "".join(
        ch if ch < "\u0100" else ch.encode("ascii", "backslashreplace").decode("ascii")
        for ch in printable(text)
    )
    return "".join(_TEX_LITERAL.get(ch, ch) for ch in safe)
