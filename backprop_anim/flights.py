"""Flights that never meet: numbers moving in one play wait for each other (:class:`Apart`).

Several numbers moving at once (copies flying into a written-out product, the entries of a
matrix turning into its transpose, two matrices changing places) would print over each
other for a moment wherever their ways cross. :class:`Apart` plays them like manim's
``LaggedStart``, but a flight that would meet another in the air waits, in steps of a
tenth of a flight, until its way is clear. Each flight is followed along its own path
(the transform's ``path_func``) at its own rate function, and compared with every flight
planned before it.

- Two flights in the air never come closer than :data:`CLEARANCE`. Where no wait keeps
  them apart (two numbers changing places on one line always meet), all of them fly on
  arcs, one way or the other, as two numbers changing places do in manim's ``Swap``.
- A number waiting to leave or landed already is passed over as little as waiting can
  manage, and while a flight passes over it, it dims to :data:`DIMMED` (the kit dims
  numbers standing still the same way, see ``BoardScene.flight_dimming``).
- A copy (``TransformFromCopy``, ``FadeIn``) shows nothing before it leaves: it would
  only print on its source.

Pairs of flights that leave from one place (copies of one number) or land in one place
are not compared: the viewer follows them from there and to there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from manim import Animation, AnimationGroup, Mobject, Transform, TransformFromCopy, config

from backprop_anim.layout import Box, bounding_box, boxes_overlap

SAMPLES = 40
"""Points followed along each flight (its own time from 0 to 1)."""
STEP = 4
"""A waiting flight tries again every ``STEP`` samples: a tenth of a flight."""
LONGEST_WAIT = 4.0
"""The longest a flight waits for those before it, in flights; past this it leaves at its
least crowded moment (and the watch of the tests reports where it meets another)."""
FAINT = 0.4
"""A number at most this opaque does not print over another (the tests' watch agrees)."""
DIMMED = 0.25
"""The opacity of a number while a flight passes over it: one that waits or has landed
here, one standing still in ``BoardScene.flight_dimming``."""
ARCS = (np.pi / 2, -np.pi / 2, np.pi, -np.pi)
"""The arcs tried, in turn, for flights that cannot keep apart on their own paths: a
quarter turn as in manim's ``Swap``, then a half turn (two neighbours that change places
then turn about their midpoint, always a whole distance apart)."""
MARGIN = 2
"""Samples before and after a pass over a number during which it stays dimmed."""
CLEARANCE = 0.08
"""How far apart (units) two numbers stay at every sample: glyph boxes are tight, and the
frames fall between the samples."""


class Course:
    """Where a flight's box is at each of :data:`SAMPLES` + 1 points of its own time."""

    def __init__(self, animation: Animation) -> None:
        rate, way = animation.rate_func, np.linspace(0.0, 1.0, SAMPLES + 1)
        self.copy = _is_copy(animation)
        if isinstance(animation, TransformFromCopy):
            # It plays its own transform backwards: at ``u`` that transform is at
            # ``rate(1 - u)`` of its way, from the number's place to the source.
            self.boxes, self.seen = _along(animation, np.array([rate(1 - u) for u in way]))
        elif isinstance(animation, Transform):
            self.boxes, self.seen = _along(animation, np.array([rate(u) for u in way]))
        else:  # something that stays where it is
            self.boxes = np.tile(_row(animation.mobject), (SAMPLES + 1, 1))
            self.seen = np.ones(SAMPLES + 1, dtype=bool)
        # What it covers from halfway to the sample before to halfway to the one after
        # (a long flight moves far between two samples): what the checks compare.
        b = self.boxes
        before, after = np.vstack([b[:1], b[:-1]]), np.vstack([b[1:], b[-1:]])
        self.swept = np.hstack(
            [
                np.minimum(b[:, :2], (b[:, :2] + np.minimum(before[:, :2], after[:, :2])) / 2),
                np.maximum(b[:, 2:], (b[:, 2:] + np.maximum(before[:, 2:], after[:, 2:])) / 2),
            ]
        )
        w, h = config.frame_width / 2, config.frame_height / 2
        self.outside = int(
            np.count_nonzero((b[:, 0] < -w) | (b[:, 2] > w) | (b[:, 1] < -h) | (b[:, 3] > h))
        )
        """Samples at which some of it is off the frame (an arc that swings too wide)."""

    @property
    def start(self) -> Box:
        """Where it leaves from."""
        return _box(self.boxes[0])

    @property
    def end(self) -> Box:
        """Where it lands."""
        return _box(self.boxes[-1])

    @property
    def span(self) -> Box:
        """The box around the whole of its way (an arc's bulge too)."""
        lo, hi = self.boxes[:, :2].min(axis=0), self.boxes[:, 2:].max(axis=0)
        return _box(np.concatenate([lo, hi]))

    def compared(self, other: Course) -> bool:
        """Whether the two are kept apart: not if they leave from one place or land in
        one place (the viewer follows them from there and to there)."""
        return not boxes_overlap(self.start, other.start) and not boxes_overlap(self.end, other.end)


def _is_copy(animation: Animation) -> bool:
    """Whether ``animation`` brings in a copy (of a source that stays) or fades in, and
    so shows nothing of itself before it starts. Other animations (``Create`` …) are left
    as they are."""
    return isinstance(animation, TransformFromCopy) or (
        isinstance(animation, Transform) and animation.is_introducer()
    )


def _along(animation: Transform, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The boxes of a transform at ``times`` of its way from its mobject to its target
    (the centre follows the animation's path, the size changes evenly) and whether it can
    be seen there (a number fading out, as into a neuron, is not once it is fainter than
    :data:`FAINT`)."""
    mob, target = animation.mobject, cast(Any, animation.target_mobject)
    if target is None or len(target.get_all_points()) == 0:  # a fade's is empty
        target = animation.create_target()
    a, b = _row(mob), _row(target)
    ca, cb = np.append((a[:2] + a[2:]) / 2, 0.0), np.append((b[:2] + b[2:]) / 2, 0.0)
    centres = np.array([np.asarray(animation.path_func(ca[None], cb[None], t))[0] for t in times])[
        :, :2
    ]
    half = ((a[2:] - a[:2]) + ((b[2:] - b[:2]) - (a[2:] - a[:2])) * times[:, None]) / 2
    seen = _opacity(mob) + (_opacity(target) - _opacity(mob)) * times > FAINT
    return np.hstack([centres - half, centres + half]), seen


def _opacity(mob: Any) -> float:
    family = cast(Mobject, mob).get_family()
    return max((float(m.get_fill_opacity()) for m in family if m.has_points()), default=0.0)


def _row(mob: Any) -> np.ndarray:
    return np.array([*bounding_box(cast(Mobject, mob))], dtype=float)


def _box(row: np.ndarray) -> Box:
    return float(row[0]), float(row[1]), float(row[2]), float(row[3])


def _near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether boxes (in the last axis) come closer than :data:`CLEARANCE`."""
    across = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    up = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return (across > -CLEARANCE) & (up > -CLEARANCE)


def plan(courses: Sequence[Course], lag: int = 0) -> tuple[list[int], int, int]:
    """The sample at which each flight leaves, in the given order, each at least ``lag``
    samples after the one before: the first at which it meets none planned before it;
    else, within :data:`LONGEST_WAIT`, the one at which it meets fewest in the air, then
    lands on fewest that have not left yet, then passes over fewest that wait or have
    landed (those dim). Also how many samples of the plan have two flights too close in
    the air or one off the frame (0: none), and how many landings are on a number that
    has not left yet (it dims until it leaves)."""
    starts: list[int] = []
    left = stacked = 0
    wait = int(LONGEST_WAIT * SAMPLES)
    for i, course in enumerate(courses):
        rivals = [j for j in range(i) if course.compared(courses[j])]
        others, leaves = [courses[j] for j in rivals], [starts[j] for j in rivals]
        earliest = starts[-1] + lag if starts else 0
        best: tuple[tuple[int, int, int], int] | None = None
        for start in range(earliest, earliest + wait + 1, STEP):
            meets = _meetings(course, start, others, leaves)
            if best is None or meets < best[0]:
                best = (meets, start)
            if meets == (0, 0, 0):
                break
        assert best is not None
        starts.append(best[1])
        left += best[0][0] + course.outside
        stacked += best[0][1]
    return starts, left, stacked


def _meetings(
    course: Course, start: int, rivals: Sequence[Course], starts: Sequence[int]
) -> tuple[int, int, int]:
    """Samples at which ``course`` leaving at ``start`` comes too close to one of
    ``rivals`` (leaving at ``starts``) while both are in the air; the rivals it lands on
    before they leave or that land on it before it leaves; and the samples at which one
    in the air passes over the other while it waits or after it has landed."""
    if not rivals:
        return 0, 0, 0
    boxes = np.stack([r.swept for r in rivals])  # (rivals, SAMPLES + 1, 4)
    seen = np.stack([r.seen for r in rivals])
    leave = np.array(starts)[:, None]
    copies = np.array([r.copy for r in rivals])[:, None]
    air = np.arange(1, SAMPLES)
    rows = np.arange(len(rivals))[:, None]
    # While it is in the air: each rival wherever it is then (waiting, flying, landed).
    index = start + air[None, :] - leave
    at = np.clip(index, 0, SAMPLES)
    shows = (~copies | (index > 0)) & seen[rows, at] & course.seen[air]
    near = _near(course.swept[air][None], boxes[rows, at]) & shows
    flying = (index > 0) & (index < SAMPLES)
    both = int(np.count_nonzero(near & flying))
    rest = int(np.count_nonzero(near & ~flying))
    # While a rival is in the air: this one waiting or landed.
    index = leave + air[None, :] - start
    at = np.clip(index, 0, SAMPLES)
    shows = (index > 0) if course.copy else np.ones_like(index, dtype=bool)
    shows &= course.seen[at] & seen[:, air] & ((index <= 0) | (index >= SAMPLES))
    rest += int(np.count_nonzero(_near(course.swept[at], boxes[:, air]) & shows))
    # Landed on one that has not left yet: two numbers at rest, one on the other.
    mine_first = (leave[:, 0] >= start + SAMPLES) & ~copies[:, 0]
    mine_first &= _near(course.swept[-1][None], boxes[:, 0])
    theirs_first = (leave[:, 0] + SAMPLES <= start) & (not course.copy)
    theirs_first &= _near(course.swept[0][None], boxes[:, -1])
    stacked = int(np.count_nonzero(mine_first | theirs_first))
    return both, stacked, rest


class Apart(AnimationGroup):
    """``flights`` played one after another where their ways would cross (see the module).

    Each flight takes ``flight_time`` seconds and leaves at least ``lag_ratio`` of a flight
    after the one before it (as in ``LaggedStart``), later if it would meet a flight before
    it. The group's run time is the time to the last landing, unless ``run_time`` is given.
    :attr:`left` counts the samples the plan could not keep clear (0 for a clean plan).

    Examples
    --------
    Two numbers changing places (on a straight line they would meet halfway):

    >>> from manim import LEFT, RIGHT, MathTex, ReplacementTransform
    >>> a, b = MathTex("0.25").shift(2 * LEFT), MathTex("0.75").shift(2 * RIGHT)
    >>> swap = Apart(ReplacementTransform(a, b.copy()), ReplacementTransform(b, a.copy()))
    >>> swap.left
    0

    In a scene, ``self.play(swap)``; the kit's own products and transposes use it.
    """

    def __init__(
        self,
        *flights: Animation,
        flight_time: float = 1.0,
        lag_ratio: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if not flights:
            raise ValueError("Apart needs at least one flight")
        courses, samples, self.left = self.route(flights, round(lag_ratio * SAMPLES))
        for flight in flights:
            flight.run_time = flight_time
        self.flight_time = flight_time
        self.samples = samples
        self.starts = [s / SAMPLES * flight_time for s in samples]
        self.copies = [c.copy for c in courses]
        self.passed = _passed_over(courses, samples)
        self.dimmed: set[int] = set()
        super().__init__(*flights, **kwargs)

    @staticmethod
    def route(flights: Sequence[Animation], lag: int) -> tuple[list[Course], list[int], int]:
        """The plan of :func:`plan` on the flights' own paths; where two of them still
        meet in the air or one lands on another before it leaves, the first of
        :data:`ARCS` on which none do (or the plan that meets least). Each transform is
        left on the path its plan takes."""
        own: list[Any] = [
            (f.path_arc, f.path_func) if isinstance(f, Transform) else None for f in flights
        ]
        best: tuple[tuple[int, int], list[Course], list[int], float | None] | None = None
        for arc in (None, *ARCS):
            for f in flights:
                if isinstance(f, Transform) and arc is not None:
                    f.path_arc = arc
            courses = [Course(f) for f in flights]
            starts, left, stacked = plan(courses, lag)
            if best is None or (left, stacked) < best[0]:
                best = ((left, stacked), courses, starts, arc)
            if (left, stacked) == (0, 0):
                break
        assert best is not None
        (left, _), courses, starts, arc = best
        for f, path in zip(flights, own, strict=True):
            if isinstance(f, Transform):
                if arc is None:
                    f.path_arc, f.path_func = path
                else:
                    f.path_arc = arc
        return courses, starts, left

    def build_animations_with_timings(self) -> None:
        super().build_animations_with_timings()
        if self.animations:
            timings = self.anims_with_timings
            timings["start"] = self.starts
            timings["end"] = timings["start"] + np.array([a.run_time for a in self.animations])

    def begin(self) -> None:
        super().begin()
        self._dim(0.0)

    def interpolate(self, alpha: float) -> None:
        super().interpolate(alpha)
        self._dim(self.anim_group_time)

    def _dim(self, now: float) -> None:
        """A copy that has not left yet is hidden; a number that waits or has landed is
        dimmed while a flight passes over it, and shows as it is once it has passed."""
        sample = min(round(now / self.flight_time * SAMPLES), self.passed.shape[1] - 1)
        if now >= self.max_end_time:  # all have landed (the play may go on longer)
            sample = self.passed.shape[1] - 1
        for i, flight in enumerate(self.animations):
            index = sample - self.samples[i]
            if 0 < index < SAMPLES:
                self.dimmed.discard(i)
                continue
            if self.copies[i] and index <= 0:
                flight.mobject.set_opacity(0.0)
            elif self.passed[i, sample]:
                flight.mobject.set_opacity(DIMMED)
                self.dimmed.add(i)
            elif i in self.dimmed:
                flight.interpolate(0.0 if index <= 0 else 1.0)
                self.dimmed.discard(i)


def _passed_over(courses: Sequence[Course], starts: Sequence[int]) -> np.ndarray:
    """For each flight and each sample of the play, whether it waits or has landed under
    a flight in the air then, or waits under one that has landed on it (a pair that
    leaves or lands in one place does not count)."""
    length = max(starts, default=0) + SAMPLES + 1
    g = np.arange(length)
    index = g[None, :] - np.array(starts)[:, None]  # (flights, length)
    boxes = np.stack([c.swept for c in courses])[
        np.arange(len(courses))[:, None], np.clip(index, 0, SAMPLES)
    ]
    air = (index > 0) & (index < SAMPLES)
    passed = np.zeros_like(air)
    for i, ci in enumerate(courses):
        for j, cj in enumerate(courses):
            if i == j or not ci.compared(cj):
                continue
            near = _near(boxes[i], boxes[j]) & cj.seen[np.clip(index[j], 0, SAMPLES)]
            near &= ci.seen[np.clip(index[i], 0, SAMPLES)]  # faded out: nothing to dim
            # Under one in the air, or waiting under one that has landed on it.
            passed[i] |= near & ~air[i] & (air[j] | ((index[i] <= 0) & (index[j] >= SAMPLES)))
    # A little before and after: the frames fall between the samples.
    wide = passed.copy()
    for k in range(1, MARGIN + 1):
        wide[:, k:] |= passed[:, :-k]
        wide[:, :-k] |= passed[:, k:]
    wide[:, -1] = False  # all have landed: none is passed over any more
    return wide & ~air
