"""A formula typeset as one line, with registered numbers in place of some of its parts.

``Formula("a^{(L)}", "=", a_num, r"\\times", w_num)`` typesets the whole line as one
``MathTex`` (so baselines and spacing are TeX's), then puts each number mobject made by the
scene's :class:`~backprop_anim.numbers.NumberRegistry` exactly over its part. The numbers
on screen are therefore the registered mobjects themselves, which the tests read back.
"""

from __future__ import annotations

from manim import ManimColor, MathTex, VGroup, VMobject

from backprop_anim.style import BODY_SIZE, TEXT_COLOR

Part = str | tuple[str, ManimColor] | MathTex
"""A TeX string (text colour), a ``(tex, colour)`` pair, or a registered number mobject."""


def _tex(part: Part) -> str:
    if isinstance(part, MathTex):
        return " ".join(part.tex_strings)
    if isinstance(part, tuple):
        return part[0]
    return part


class Formula(VGroup):
    r"""One line of mathematics whose parts are addressable and whose numbers are registered.

    Parameters
    ----------
    *parts
        The line, part by part (see :data:`Part`). Number mobjects must be typeset at the
        same ``font_size`` as the formula.
    font_size
        Size of the whole line.

    Examples
    --------
    ::

        f = Formula(("a^{(L)}", ACTIVATION_COLOR), "=", numbers.tex("a1[0,0]"))
        f.get_part(2)    # the registered number mobject
    """

    def __init__(self, *parts: Part, font_size: float = BODY_SIZE) -> None:
        # An empty part (e.g. a factor that is 1 for this loss) stays an empty placeholder,
        # so part indices do not depend on the trace.
        kept = [p for p in parts if _tex(p).strip()]
        full = MathTex(*(_tex(p) for p in kept), font_size=font_size, color=TEXT_COLOR)
        if len(full.submobjects) != len(kept):
            raise ValueError(f"cannot split {full.tex_string!r} into its {len(kept)} parts")
        typeset_parts = iter(full.submobjects)
        pieces: list[VMobject] = []
        for part in parts:
            if not _tex(part).strip():
                pieces.append(VMobject())
                continue
            typeset = next(typeset_parts)
            if isinstance(part, MathTex):
                part.move_to(typeset)
                pieces.append(part)
                continue
            if isinstance(part, tuple):
                typeset.set_color(part[1])
            pieces.append(typeset)
        super().__init__(*pieces)

    def get_part(self, index: int) -> VMobject:
        """Part ``index`` as given to the constructor (a number is its registered mobject)."""
        part = self.submobjects[index]
        assert isinstance(part, VMobject)
        return part
