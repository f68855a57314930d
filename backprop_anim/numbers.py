"""Formatting and the registry of every number a scene puts on screen.

Each number is created from an expression over a recorded step (see
:mod:`backprop_explain.explain`) and recorded with its text and mobject, so a test can walk
the registry and check that what is on screen equals the trace at the shown precision.
Values the engine derives outside a step (e.g. finite-difference ratios) are added with
:meth:`NumberRegistry.define` and can then be used in expressions like any trace name.

A number can also carry its :mod:`~backprop_explain.provenance` (:meth:`NumberRegistry.tex_of`):
the trace entries it is or is computed from, as data. The expression is then written from
that source, and tests recompute the value from the source and the trace's arrays alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from manim import MathTex, Mobject
from numpy.typing import NDArray

from backprop_core.trace import Step, Trace
from backprop_explain.explain import evaluate, namespace
from backprop_explain.format import fmt
from backprop_explain.provenance import (
    Entry,
    LineRecord,
    Source,
    expression,
    parse_entry,
    parse_name,
)

__all__ = ["NumberRegistry", "Shown", "entry_source", "fmt"]


@dataclass
class Shown:
    """One number on screen: where its value comes from and how it was written."""

    expression: str
    iteration: int
    value: float
    text: str
    decimals: int
    mobject: Mobject
    source: Source | None = None
    """What the number is, as trace entries (``None``: only its expression is known)."""


@dataclass
class NumberRegistry:
    """Makes number mobjects from trace expressions and remembers each one.

    ``iteration`` arguments pick another recorded step than the scene's own (for tables
    of a whole run); by default expressions are evaluated at ``step``. A
    :class:`~backprop_anim.scene.TraceScene` has one as ``self.numbers``; outside a scene,
    :func:`backprop_anim.registry` makes one.

    Examples
    --------
    >>> from backprop_anim import registry
    >>> numbers = registry(preset="delta-demo")
    >>> numbers.text("W1[0,0]"), numbers.text("loss", decimals=2)
    ('0.200', '0.48')
    >>> z = numbers.tex("z1[0,0]", color="#5CD0B3")   # a MathTex, registered with its origin
    >>> numbers.shown[-1].expression, numbers.shown[-1].text
    ('z1[0,0]', '0.100')
    """

    trace: Trace
    step: Step
    decimals: int
    shown: list[Shown] = field(default_factory=list)
    defined: dict[str, Any] = field(default_factory=dict)
    lines: list[LineRecord] = field(default_factory=list)
    """What every product line on screen claims (see :mod:`backprop_explain.provenance`)."""

    def define(self, name: str, value: Any) -> None:
        """Make an engine-derived value available to expressions under ``name``."""
        self.defined[name] = value

    def _step(self, iteration: int | None) -> Step:
        return self.step if iteration is None else self.trace.step(iteration)

    def value_array(self, name: str, iteration: int | None = None) -> NDArray[np.float64]:
        """A whole named array of a step (``"W2"``, ``"a0"``), for building matrices."""
        ns = {**namespace(self.trace, self._step(iteration)), **self.defined}
        return np.asarray(ns[name], dtype=np.float64)

    def value(self, expression: str, iteration: int | None = None) -> float:
        return evaluate(self.trace, self._step(iteration), expression, self.defined)

    def text(
        self, expression: str, decimals: int | None = None, iteration: int | None = None
    ) -> str:
        return fmt(
            self.value(expression, iteration), self.decimals if decimals is None else decimals
        )

    def tex(
        self,
        expression: str,
        decimals: int | None = None,
        iteration: int | None = None,
        **kwargs: Any,
    ) -> MathTex:
        """A ``MathTex`` of the expression's value, registered."""
        mob = MathTex(self.text(expression, decimals, iteration), **kwargs)
        self.register(expression, mob, decimals, iteration)
        return mob

    def tex_of(
        self,
        source: Source,
        decimals: int | None = None,
        iteration: int | None = None,
        **kwargs: Any,
    ) -> MathTex:
        """A ``MathTex`` of the value of ``source``, registered with that provenance."""
        expr = expression(source)
        mob = MathTex(self.text(expr, decimals, iteration), **kwargs)
        self.register(expr, mob, decimals, iteration, source)
        return mob

    def register(
        self,
        expression: str,
        mob: Mobject,
        decimals: int | None = None,
        iteration: int | None = None,
        source: Source | None = None,
    ) -> int:
        """Record a number mobject built elsewhere (its text must be ``fmt`` of the value);
        returns its index in :attr:`shown`. A plain entry (``"W2[0,1]"``) or scalar
        (``"eta"``) is given its source without being asked."""
        if source is None and expression not in self.defined:
            source = parse_entry(expression)
        d = self.decimals if decimals is None else decimals
        value = self.value(expression, iteration)
        it = self._step(iteration).iteration
        self.shown.append(Shown(expression, it, value, fmt(value, d), d, mob, source))
        return len(self.shown) - 1

    def mark(self) -> tuple[int, int]:
        """Where the registry stands: :meth:`rollback` forgets what was registered since
        (a board built and then discarded for a more compact one never reaches the screen)."""
        return len(self.shown), len(self.lines)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget the numbers and product lines registered since ``mark``."""
        del self.shown[mark[0] :]
        del self.lines[mark[1] :]

    def index_of(self, mob: Mobject) -> int:
        """The index in :attr:`shown` of the registered number ``mob``."""
        for n in range(len(self.shown) - 1, -1, -1):
            if self.shown[n].mobject is mob:
                return n
        raise KeyError("not a registered number")


def entry_source(name: str, i: int, j: int) -> Source | None:
    """The :class:`~backprop_explain.provenance.Entry` of ``name[i, j]`` for trace arrays."""
    parsed = parse_name(name)
    return None if parsed is None else Entry(parsed[0], parsed[1], (i, j))
