"""Formatting and the registry of every number a scene puts on screen.

Each number is created from an expression over the trace (see
:mod:`backprop_core.explain`) and recorded with its text and mobject, so a test can walk
the registry and check that what is on screen equals the trace at the shown precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from manim import MathTex, Mobject
from numpy.typing import NDArray

from backprop_core.explain import evaluate, namespace
from backprop_core.trace import Step, Trace


def fmt(value: float, decimals: int) -> str:
    """A number as shown on screen: fixed decimals, no ``-0.000``, a true minus sign in TeX."""
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text


@dataclass
class Shown:
    """One number on screen: where its value comes from and how it was written."""

    expression: str
    value: float
    text: str
    decimals: int
    mobject: Mobject


@dataclass
class NumberRegistry:
    """Makes number mobjects from trace expressions and remembers each one."""

    trace: Trace
    step: Step
    decimals: int
    shown: list[Shown] = field(default_factory=list)

    def value_array(self, name: str) -> NDArray[np.float64]:
        """A whole named array of the step (``"W2"``, ``"a0"``), for building matrices."""
        return np.asarray(namespace(self.trace, self.step)[name], dtype=np.float64)

    def value(self, expression: str) -> float:
        return evaluate(self.trace, self.step, expression)

    def text(self, expression: str, decimals: int | None = None) -> str:
        return fmt(self.value(expression), self.decimals if decimals is None else decimals)

    def tex(self, expression: str, decimals: int | None = None, **kwargs: object) -> MathTex:
        """A ``MathTex`` of the expression's value, registered."""
        d = self.decimals if decimals is None else decimals
        value = self.value(expression)
        text = fmt(value, d)
        mob = MathTex(text, **kwargs)  # type: ignore[arg-type]
        self.shown.append(Shown(expression, value, text, d, mob))
        return mob

    def register(self, expression: str, mob: Mobject, decimals: int | None = None) -> None:
        """Record a number mobject built elsewhere (its text must be ``fmt`` of the value)."""
        d = self.decimals if decimals is None else decimals
        value = self.value(expression)
        self.shown.append(Shown(expression, value, fmt(value, d), d, mob))
