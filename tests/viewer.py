"""What a viewer sees, checked on the mobjects of a construct run (no frames drawn).

:class:`Watch` is mixed into a scene class by :func:`watched`; while the scene runs with
animations skipped it looks at every ``play``:

- **legibility**: every text on screen (``MathTex``, ``Tex``, ``Text``, ``DecimalNumber``
  …) has a digit height of at least :data:`FLOOR_PX` pixels at 480p. The digit height is
  the text's font size times the height of a ``0`` per point of its class, measured here
  (TeX's and Pango's digits differ); sub- and superscripts are TeX's own smaller sizes of
  a legible base and are not measured apart.
- **clean flights**: a text that moves across the board (a ``Transform`` of any kind
  whose start and end are apart) does not overlap another visible text at a quarter,
  half and three quarters of its way. Texts where a flight of the play starts or lands
  (the eye follows the flights from there and to there), texts that
  the play animates themselves, dimmed texts (opacity at most :data:`DIM`), texts under
  an opaque cover drawn after them and texts the same play brings in (not visible as it
  starts) do not count. Whether a dimming goes deep enough is the kit's own test
  (``test_a_flight_dims_the_numbers_it_passes_over``). And no two flights of one play
  print over each other at any of :data:`PAIR_SAMPLES` of it (waiting, in the air or
  landed, unless dimmed or hidden), except pairs that leave from one place or land in
  one place (``tests/test_flights.py`` checks the kit's ``Apart`` frame by frame).
- **first number**: in every beat that brings in a number of the trace, the first one
  starts to appear within :data:`FIRST_NUMBER_S` seconds of the beat's start.

The scene's time is the renderer's clock, which advances by every ``play`` and ``wait``
also when animations are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from manim import (
    DL,
    UR,
    AnimationGroup,
    DecimalNumber,
    MathTex,
    Mobject,
    Scene,
    SingleStringMathTex,
    Text,
    Transform,
    VMobject,
    config,
)
from manim.mobject.text.text_mobject import MarkupText

FLOOR_PX = 10.0
"""The smallest digit height at 480p (about 22 px at 1080p)."""
FIRST_NUMBER_S = 1.5
DIM = 0.4
SAMPLES = (0.25, 0.5, 0.75)
PAIR_SAMPLES = tuple(i / 20 for i in range(1, 20))
"""Where two flights of one play are compared: finer, for flights that start one after another."""
FLIGHT = 0.5
"""A move of at least this many units between start and end is a flight."""
SLACK = 0.02
"""Boxes touching by less than this (units) do not overlap: glyph boxes are tight."""

TEXT_TYPES = (SingleStringMathTex, Text, MarkupText, DecimalNumber)
Box = tuple[float, float, float, float]


@cache
def digit_per_point(kind: str) -> float:
    """Height of a ``0`` per point of font size, in units, for TeX or Pango text."""
    zero = Text("0") if kind == "text" else MathTex("0")
    return float(zero.height / zero.font_size)


def digit_px(mob: Mobject) -> float:
    """The digit height of a text mobject, in pixels at 480p."""
    kind = "text" if isinstance(mob, (Text, MarkupText)) else "tex"
    units = float(mob.font_size) * digit_per_point(kind)  # type: ignore[attr-defined]
    return units * 480 / config.frame_height


def box(mob: Mobject) -> Box:
    lo, hi = mob.get_critical_point(DL), mob.get_critical_point(UR)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def overlap(a: Box, b: Box, slack: float = SLACK) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack


def texts(mob: Mobject) -> Iterator[Mobject]:
    """The outermost text mobjects in ``mob``'s family (a text's glyphs are not texts)."""
    if isinstance(mob, TEXT_TYPES):
        yield mob
        return
    for sub in mob.submobjects:
        yield from texts(sub)


def opacity(mob: Mobject) -> float:
    values = [
        max(float(m.get_fill_opacity()), float(m.get_stroke_opacity()) if m.stroke_width else 0.0)
        for m in mob.get_family()
        if isinstance(m, VMobject) and m.has_points()
    ]
    return max(values, default=0.0)


def leaves(animations: list[Any]) -> Iterator[Any]:
    for a in animations:
        if isinstance(a, AnimationGroup):
            yield from leaves(list(a.animations))
        else:
            yield a


def is_number(mob: Mobject) -> bool:
    """A text that shows a number or an indexed symbol (not a bracket, not an operator)."""
    text = label(mob)
    return any(c.isdigit() for c in text) and not text.lstrip().startswith(("\\left", "\\right"))


def label(mob: Mobject) -> str:
    if isinstance(mob, SingleStringMathTex):
        return mob.tex_string
    if isinstance(mob, (Text, MarkupText)):
        return mob.text
    return type(mob).__name__


@dataclass
class Seen:
    """What the watch found; each list holds one line per problem."""

    small: list[str] = field(default_factory=list)
    crossings: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    flights: int = 0
    texts: int = 0


class Watch:
    """Mixed into a Scene (see :func:`watched`); fills :attr:`seen`."""

    seen: Seen

    def setup(self) -> None:
        super().setup()  # type: ignore[misc]
        self.seen = Seen()
        self._beat: str = "(start)"
        self._beat_start = 0.0
        self._before: set[int] = set()
        self._first: float | None = None
        self._checked: set[tuple[int, float]] = set()

    # -- the clock and the beats ------------------------------------------------------
    @property
    def _now(self) -> float:
        return float(self.renderer.time)  # type: ignore[attr-defined]

    def next_section(self, name: str = "unnamed", *args: Any, **kwargs: Any) -> None:
        self._close_beat()
        super().next_section(name, *args, **kwargs)  # type: ignore[misc]
        self._beat, self._beat_start = name, self._now
        self._before = self._numbers_present()
        self._first = None

    def _close_beat(self) -> None:
        self._watch_sizes()
        if self._first is not None and self._first - self._beat_start > FIRST_NUMBER_S + 1e-6:
            self.seen.late.append(
                f"[{self._beat}] first new number at {self._first - self._beat_start:.2f} s"
            )

    def tear_down(self) -> None:
        self._close_beat()
        self._first = None
        super().tear_down()  # type: ignore[misc]

    def _numbers_present(self) -> set[int]:
        scene: Any = self
        on = {id(m) for m in scene.get_mobject_family_members()}
        numbers = getattr(scene, "numbers", None)
        shown = numbers.shown if numbers is not None else []
        return {id(s.mobject) for s in shown if id(s.mobject) in on}

    # -- each play --------------------------------------------------------------------
    def begin_animations(self) -> None:
        super().begin_animations()  # type: ignore[misc]
        scene: Any = self
        start = self._now - float(scene.duration)
        if self._first is None:
            coming = self._numbers_present()
            coming |= {
                id(a.target_mobject) for a in leaves(scene.animations) if isinstance(a, Transform)
            }
            shown = getattr(scene, "numbers", None)
            ids = {id(s.mobject) for s in shown.shown} if shown is not None else set()
            if (coming & ids) - self._before:
                self._first = start
        self._watch_flights(list(scene.animations))

    def play_internal(self, skip_rendering: bool = False) -> None:
        super().play_internal(skip_rendering)  # type: ignore[misc]
        self._watch_sizes(new_only=True)

    def _visible_texts(
        self, moving: set[int], skip: set[int] | None = None
    ) -> list[tuple[Mobject, Box]]:
        """Texts on screen, not moving, not dimmed, not under a later opaque cover
        (and not in ``skip``)."""
        scene: Any = self
        order = {id(m): i for i, m in enumerate(scene.mobjects)}
        covers = [
            (order[id(c)], box(c))
            for c in getattr(scene, "covers", {}).values()
            if id(c) in order and float(c.get_fill_opacity()) >= 0.5
        ]
        w, h = config.frame_width / 2, config.frame_height / 2
        found: list[tuple[Mobject, Box]] = []
        for at, top in enumerate(scene.mobjects):
            for t in texts(top):
                if id(t) in moving or (skip and id(t) in skip) or opacity(t) <= DIM:
                    continue
                b = box(t)
                cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                if not (-w < cx < w and -h < cy < h):
                    continue
                hidden = any(
                    i > at and c[0] <= b[0] and c[1] <= b[1] and c[2] >= b[2] and c[3] >= b[3]
                    for i, c in covers
                )
                if not hidden:
                    found.append((t, b))
        return found

    def _watch_sizes(self, new_only: bool = False) -> None:
        """Sizes of the texts on screen: after a play only those not seen yet (cheap);
        at a beat's end all of them, for texts scaled since they came."""
        skip = {key[0] for key in self._checked} if new_only else set()
        for t, _ in self._visible_texts(set(), skip):
            px = round(digit_px(t), 1)
            if (id(t), px) in self._checked:
                continue
            self._checked.add((id(t), px))
            self.seen.texts += 1
            if px < FLOOR_PX - 1e-6:
                self.seen.small.append(f"[{self._beat}] {label(t)!r}: {px:.1f} px")

    def _watch_flights(self, animations: list[Any]) -> None:
        flights = []
        for a in leaves(animations):
            if not isinstance(a, Transform) or not any(True for _ in texts(a.mobject)):
                continue
            start, end = a.starting_mobject, a.target_copy
            if start is None or end is None or len(start.get_all_points()) == 0:
                continue
            if float(((start.get_center() - end.get_center()) ** 2).sum()) ** 0.5 >= FLIGHT:
                flights.append((a, box(start), box(end)))
        if not flights:
            return
        self.seen.flights += len(flights)
        # The flights themselves are out of the comparison; a text the play changes in
        # place (fading, dimming) counts as it is at each sample.
        moving = {id(m) for f, _, _ in flights for m in f.mobject.get_family()}
        # What the play brings in (the line its flights build, a board under a lifting
        # curtain) is where the eye goes with the flights, like where they land.
        shown = {id(t) for t, _ in self._visible_texts(set())}
        ends = [b for _, came, lands in flights for b in (came, lands)]
        for alpha in SAMPLES:
            for a in animations:
                a.interpolate(alpha)
            others = [
                (o, b) for o, b in self._visible_texts(moving) if id(o) in shown and is_number(o)
            ]
            others = [(o, b) for o, b in others if not any(overlap(b, e) for e in ends)]
            for flight in (f for f, _, _ in flights):
                for t in texts(flight.mobject):
                    if not is_number(t):
                        continue
                    tb = box(t)
                    for other, ob in others:
                        if overlap(tb, ob):
                            self.seen.crossings.append(
                                f"[{self._beat}] {label(t)!r} at {alpha:.2f} of its flight "
                                f"crosses {label(other)!r} at t={self._now:.2f} s"
                            )
        self._watch_flights_apart(animations, flights)

    def _watch_flights_apart(
        self, animations: list[Any], flights: list[tuple[Any, Box, Box]]
    ) -> None:
        """No two flights of a play overlap at any of :data:`PAIR_SAMPLES` of it, unless
        they start or land at the same place (copies of one number, terms of one sum)."""
        pairs = [
            (i, j)
            for i in range(len(flights))
            for j in range(i + 1, len(flights))
            if not overlap(flights[i][1], flights[j][1])
            and not overlap(flights[i][2], flights[j][2])
        ]
        if not pairs:
            return
        for alpha in PAIR_SAMPLES:
            for a in animations:
                a.interpolate(alpha)
            numbers = [
                [(t, box(t)) for t in texts(f.mobject) if is_number(t) and opacity(t) > DIM]
                for f, _, _ in flights
            ]
            for i, j in pairs:
                for t, tb in numbers[i]:
                    hit = next((u for u, ub in numbers[j] if overlap(tb, ub)), None)
                    if hit is not None:
                        self.seen.crossings.append(
                            f"[{self._beat}] {label(t)!r} and {label(hit)!r}, both in flight, "
                            f"meet at {alpha:.2f} of the play at t={self._now:.2f} s"
                        )
                        break


def watched(cls: type[Scene]) -> type[Scene]:
    """``cls`` with :class:`Watch` mixed in (same name, so the scene's files are its own)."""
    return type(cls.__name__, (Watch, cls), {"__module__": cls.__module__})


def assert_viewable(
    scene: Scene, small: bool = True, flights: bool = True, first: bool = True
) -> Seen:
    """The watched ``scene`` broke none of the checks asked for; returns what it saw."""
    assert isinstance(scene, Watch), "run the scene through watched()"
    seen = scene.seen
    problems = (
        (seen.small if small else [])
        + (seen.crossings if flights else [])
        + (seen.late if first else [])
    )
    assert seen.texts > 0, "no text was seen on screen"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(dict.fromkeys(problems))
    return seen
