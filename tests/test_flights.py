"""Flights that never meet (``backprop_anim.flights.Apart``), checked on the mobjects
themselves: the group is played frame by frame (interpolated at many points) and every
flight's box and opacity measured as they are, not as the plan expects them to be."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from manim import (
    DL,
    LEFT,
    RIGHT,
    UR,
    Animation,
    Create,
    FadeIn,
    FadeOut,
    Line,
    MathTex,
    Mobject,
    ReplacementTransform,
    Transform,
    TransformFromCopy,
    rush_into,
    smooth,
)

from backprop_anim.flights import SAMPLES, Apart, Course

VISIBLE = 0.4
"""A number more opaque than this prints over another (the watch's threshold)."""
FRAMES = 240


def box(mob: Mobject) -> tuple[float, float, float, float]:
    lo, hi = mob.get_corner(DL), mob.get_corner(UR)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0.01 and min(a[3], b[3]) - max(a[1], b[1]) > 0.01


def opacity(mob: Mobject) -> float:
    return max(float(m.get_fill_opacity()) for m in mob.get_family() if m.has_points())


def meetings(
    group: Apart, flights: list[Animation], ends: list[tuple[Mobject, Mobject]]
) -> list[str]:
    """Frames at which two visible flights overlap (pairs with one start or one landing
    are left out, as the watch does)."""
    pairs = [
        (i, j)
        for i, j in itertools.combinations(range(len(flights)), 2)
        if not overlap(box(ends[i][0]), box(ends[j][0]))
        and not overlap(box(ends[i][1]), box(ends[j][1]))
    ]
    group.begin()
    found = []
    for k in range(FRAMES + 1):
        group.interpolate(k / FRAMES)
        for i, j in pairs:
            a, b = flights[i].mobject, flights[j].mobject
            if opacity(a) > VISIBLE and opacity(b) > VISIBLE and overlap(box(a), box(b)):
                found.append(f"{i} and {j} at {k / FRAMES:.3f}")
    group.finish()
    return found


def number(text: str, x: float, y: float) -> MathTex:
    return MathTex(text).move_to((x, y, 0.0))


def grid(
    rows: int, cols: int, left: float = -2.0, top: float = 1.0
) -> dict[tuple[int, int], MathTex]:
    return {
        (i, j): number(f"{i}{j}.{i + j}", left + 1.3 * j, top - 0.6 * i)
        for i in range(rows)
        for j in range(cols)
    }


def test_two_numbers_changing_places_pass_each_other() -> None:
    a, b = number("0.25", -2, 0), number("0.75", 2, 0)
    to_a, to_b = number("0.75", -2, 0), number("0.25", 2, 0)
    ends = [(a.copy(), to_b.copy()), (b.copy(), to_a.copy())]
    flights: list[Animation] = [ReplacementTransform(a, to_b), ReplacementTransform(b, to_a)]
    group = Apart(*flights)
    assert meetings(group, flights, ends) == []
    assert box(flights[0].mobject) == pytest.approx(box(ends[0][1]), abs=1e-6)


def test_a_matrix_turning_into_its_transpose_in_place_never_prints_two_numbers_at_once() -> None:
    """The 2 × 3 of delta-demo's W^(2) standing where its 3 × 2 transpose goes: every
    entry lands where another still is, and two of them change places."""
    W, WT = grid(2, 3), grid(3, 2)
    moves = [(W[i, j], WT[j, i]) for i, j in W if (i, j) != (0, 0)]
    ends = [(w.copy(), t.copy()) for w, t in moves]
    flights: list[Animation] = [ReplacementTransform(w, t) for w, t in moves]
    group = Apart(*flights)
    assert meetings(group, flights, ends) == []
    for flight, (_, end) in zip(flights, ends, strict=True):
        assert box(flight.mobject) == pytest.approx(box(end), abs=1e-6)
        assert opacity(flight.mobject) == pytest.approx(1.0)


def test_copies_into_a_line_wait_where_their_ways_cross() -> None:
    """Four numbers fly down into a line in the reverse of their order, a fifth fades in:
    straight and all at once, the middle ones would meet."""
    sources = [number(f"{k}.5", -3 + 2 * k, 1.5) for k in range(4)]
    line = [number(f"{k}.5", 3 - 1.6 * k, -1.5) for k in range(4)] + [number("9.9", -3.5, -1.5)]
    ends = [(s.copy(), t.copy()) for s, t in zip(sources, line, strict=False)] + [
        (line[-1].copy(), line[-1].copy())
    ]
    flights: list[Animation] = [
        *(TransformFromCopy(s, t) for s, t in zip(sources, line, strict=False)),
        FadeIn(line[-1]),
    ]
    group = Apart(*flights, lag_ratio=0.15)
    assert group.left == 0
    assert meetings(group, flights, ends) == []


def test_a_copy_shows_nothing_before_it_leaves() -> None:
    sources = [number("0.1", -2, 1), number("0.2", 2, 1)]
    line = [number("0.2", -2, -1), number("0.1", 2, -1)]
    flights = [TransformFromCopy(sources[1], line[0]), TransformFromCopy(sources[0], line[1])]
    group = Apart(*flights)
    starts = group.starts
    assert starts[1] > 0  # the second waits for the first (their ways cross)
    group.begin()
    group.interpolate(0.5 * starts[1] / group.run_time)
    assert opacity(flights[1].mobject) == 0.0
    group.finish()
    assert opacity(flights[1].mobject) == pytest.approx(1.0)


@pytest.mark.parametrize("shift", [0.0, 0.3, 1.0])
def test_flights_that_never_meet_leave_together(shift: float) -> None:
    """A whole row moving down together meets nothing: no one waits."""
    row = [number(f"{k}.0", -3 + 1.5 * k, 1) for k in range(4)]
    to = [number(f"{k}.0", -3 + 1.5 * k + shift, -1) for k in range(4)]
    group = Apart(*(ReplacementTransform(r, t) for r, t in zip(row, to, strict=True)))
    assert np.allclose(group.starts, 0.0)


@pytest.mark.parametrize("way", ["animations", "into_place"])
def test_the_public_transpose_keeps_its_flights_apart(way: str) -> None:
    """``transpose(...)`` of the public API: W^(1) of batch-demo (3 × 2) beside its
    transpose, copied over or moved."""
    from backprop_anim import registry, transpose

    t = transpose(registry(preset="batch-demo"), "W", 1)
    group = next(a for a in getattr(t, way)() if isinstance(a, Apart))
    flights = list(group.animations)
    ends = [
        (t.original.get_entry(*a).copy(), t.transposed.get_entry(*b).copy()) for a, b in t.moves
    ]
    assert meetings(group, flights, ends) == []


def test_every_number_shows_as_it_is_once_the_last_has_landed() -> None:
    """The play may run on after the group (a longer animation beside it): nothing stays
    dimmed or hidden then, without waiting for manim's ``finish``."""
    W, WT = grid(2, 3), grid(3, 2)
    moves = [(W[i, j], WT[j, i]) for i, j in W if (i, j) != (0, 0)]
    flights = [ReplacementTransform(w, t) for w, t in moves]
    group = Apart(*flights)
    group.begin()
    for k in range(FRAMES + 1):
        group.interpolate(k / FRAMES)
    assert [opacity(f.mobject) for f in flights] == pytest.approx([1.0] * len(flights))


def test_a_number_faded_out_stays_out_when_a_flight_passes_over_it() -> None:
    """δ's entries fade into their neurons one after another: one that has faded out is
    not brought back, dimmed, when the next passes over its neuron."""
    neuron = number("0", 0, 0)
    first, second = number("0.1", -2, 2), number("0.2", -4, 2)
    through = number("0.2", 2, -2)  # the second's way passes over the neuron
    flights: list[Animation] = [
        FadeOut(first.copy(), target_position=neuron.get_center(), scale=0.3),
        ReplacementTransform(second, through),
    ]
    group = Apart(*flights, lag_ratio=1.0)
    group.begin()
    for k in range(FRAMES + 1):
        group.interpolate(k / FRAMES)
        if group.anim_group_time > group.starts[0] + 1.0:
            assert opacity(flights[0].mobject) < 0.05


def test_what_is_not_a_transform_is_left_as_it_is() -> None:
    """A ``Create`` in the group draws as it would on its own (it is not hidden as a
    copy waiting to leave)."""
    line = Line(LEFT, RIGHT)
    flights: list[Animation] = [ReplacementTransform(number("1", -3, 1), number("1", 3, 1))]
    group = Apart(*flights, Create(line), lag_ratio=0.5)
    group.begin()
    for k in range(FRAMES + 1):
        group.interpolate(k / FRAMES)
    assert float(line.get_stroke_opacity()) == pytest.approx(1.0)


@pytest.mark.parametrize("rate", [smooth, rush_into])
@pytest.mark.parametrize("kind", ["move", "copy", "arc"])
def test_the_plan_follows_each_flight_where_it_is(kind: str, rate: Any) -> None:
    """The boxes the plan compares are where manim puts the number at each point of its
    time (measured on the mobject), for a move, a copy (which manim plays backwards) and
    an arc, at an even and an uneven rate."""
    source, target = number("0.25", -3, 1), number("0.750", 2, -1)
    if kind == "copy":
        flight: Transform = TransformFromCopy(source, target, rate_func=rate)
    else:
        flight = ReplacementTransform(
            source, target, rate_func=rate, path_arc=np.pi / 2 if kind == "arc" else 0.0
        )
    course = Course(flight)
    flight.begin()
    for k in range(0, SAMPLES + 1, 5):
        flight.interpolate(k / SAMPLES)
        assert box(flight.mobject) == pytest.approx(tuple(course.boxes[k]), abs=0.03), k
