"""Helpers shared by the videos of the original question (``scalar.py``, ``chain.py``).

Two things the general kit does not need: how many digits to show so the question's own
numbers read as the question wrote them (``5.7``, ``−23.1``, ``−131.67``; its MATLAB output
``−8.5948``, ``−0.68736``), and a check that a trace has the shape a story scene tells.
Both only choose *how* a trace value is written; the value always comes from the trace
through the :class:`~backprop_anim.numbers.NumberRegistry`, which records the decimals used.

And how one board gives way to the next: :meth:`StoryScene.leave` fades out what the next
board does not keep while :meth:`StoryScene.arrive` fades the next one in, in the two halves
of one play, and :meth:`StoryScene.change_heading` swaps the heading in place, so a beat
opens on its content instead of a bare heading.
"""

from __future__ import annotations

import math

from manim import Animation, FadeIn, FadeOut, Mobject, smooth

from backprop_anim.inputs import SceneInputs
from backprop_anim.layout import Layout
from backprop_anim.numbers import fmt
from backprop_anim.scene import TraceScene
from backprop_core.errors import BackpropError, report


def trimmed_decimals(value: float, decimals: int) -> int:
    """The decimals of ``fmt(value, decimals)`` once trailing zeros are dropped.

    ``5.7`` at 3 decimals is written ``5.7`` (not ``5.700``), ``−131.67000000000002`` is
    ``−131.67``: the question's numbers appear as it wrote them, and ``decimals`` (the
    scene's ``BACKPROP_DECIMALS``) stays the most ever shown.

    >>> trimmed_decimals(5.7, 3), trimmed_decimals(-131.67000000000002, 3)
    (1, 2)
    >>> trimmed_decimals(33040.3329, 3), trimmed_decimals(2.0, 3)
    (3, 0)
    """
    text = fmt(value, decimals)
    if "." not in text:
        return 0
    return len(text.split(".")[1].rstrip("0"))


def significant_decimals(value: float, digits: int = 5) -> int:
    """Decimals that show ``value`` with ``digits`` significant digits (MATLAB's short format).

    MATLAB prints ``w = -8.5948``, ``w = -0.68736``: five significant digits, so the table of
    the 20 iterations matches the question's output character for character.

    >>> significant_decimals(-8.59475, 5), significant_decimals(-0.687362, 5)
    (4, 5)
    >>> significant_decimals(123.456, 5), significant_decimals(0.0, 5)
    (2, 4)
    """
    if value == 0 or not math.isfinite(value):
        return digits - 1
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value))))
    # Rounding can add a digit (9.99996 -> 10.000): then one decimal fewer.
    rounded = float(fmt(value, decimals))
    if rounded != 0 and math.floor(math.log10(abs(rounded))) > math.floor(math.log10(abs(value))):
        decimals = max(0, decimals - 1)
    return decimals


def first_half(t: float) -> float:
    """A rate function that runs its animation in the first half of the play."""
    return smooth(min(1.0, 2.0 * t))


def second_half(t: float) -> float:
    """A rate function that runs its animation in the second half of the play."""
    return smooth(max(0.0, 2.0 * t - 1.0))


def require(inputs: SceneInputs, ok: bool, field: str, message: str) -> None:
    """Stop a story scene whose trace it cannot tell: one line on stderr, exit status 2.

    Raises nothing when ``ok``; otherwise prints ``backprop: error: SOURCE: FIELD: MESSAGE``
    (the :func:`~backprop_anim.inputs.inputs_or_exit` style) before any frame is written.
    """
    if ok:
        return
    report(BackpropError(inputs.source, field, message))


class StoryScene(TraceScene):
    """A :class:`TraceScene` for the question's story: beats last as long as their narration
    (the kit's :attr:`~TraceScene.hold_for_narration`), layouts are recorded for the tests,
    numbers are said in the narration as they are shown, and boards carry over (what stays
    stays, the rest leaves as the next board arrives).
    """

    hold_for_narration = True

    def setup(self) -> None:
        super().setup()
        self.layouts: list[Layout] = []
        self.heading: Mobject | None = None
        """The beat's heading on screen (see :meth:`change_heading`)."""
        self._old_heading: Mobject | None = None

    def record_layout(self, name: str, *parts: Mobject) -> None:
        """Remember an arrangement (its parts' boxes now) for the layout tests."""
        self.layouts.append(Layout.of(self.beats[-1] if self.beats else "", name, parts))

    def say(self, expression: str, iteration: int | None = None) -> str:
        """A trace value as the narration says it (trailing zeros trimmed)."""
        value = self.numbers.value(expression, iteration)
        return fmt(value, trimmed_decimals(value, self.numbers.decimals))

    def leave(self, *keep: Mobject) -> list[Animation]:
        """Fade out what is on screen except ``keep`` (top-level mobjects), in the first half
        of the play that brings the next board in (:meth:`arrive`): the frame is bare for a
        moment only, and the two boards never print over each other."""
        kept = {id(m) for m in (*keep, self.heading, self._old_heading) if m is not None}
        return [FadeOut(m, rate_func=first_half) for m in self.mobjects if id(m) not in kept]

    def arrive(self, *mobs: Mobject) -> list[Animation]:
        """Fade ``mobs`` in during the second half of the play (after :meth:`leave`)."""
        return [FadeIn(m, rate_func=second_half) for m in mobs]

    def change_heading(self, heading: Mobject) -> list[Animation]:
        """Put ``heading`` where the current one is: the old one leaves and the new one
        arrives in the same play (:meth:`leave`, :meth:`arrive`); no heading yet, it fades in."""
        old = self.heading
        self.heading = heading
        self._old_heading = old  # faded here, so :meth:`leave` leaves it alone
        if old is None:
            return [FadeIn(heading)]
        return [FadeOut(old, rate_func=first_half), *self.arrive(heading)]
