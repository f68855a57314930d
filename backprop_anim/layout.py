"""Screen management: keep groups inside the 16:9 frame and check that nothing overlaps.

The checks work on bounding boxes (``get_critical_point``), so they are cheap and need no
rendering: a scene records the parts of each arrangement it shows as a :class:`Layout`,
and tests call :func:`layout_problems` on every recorded layout, for every trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from manim import DL, UR, Mobject, config

FRAME_MARGIN = 0.15
"""Space kept free along the frame's edges (manim units)."""

Box = tuple[float, float, float, float]
"""``(x_min, y_min, x_max, y_max)``."""


def bounding_box(mob: Mobject) -> Box:
    """The axis-aligned box of ``mob`` and its submobjects."""
    lo = mob.get_critical_point(DL)
    hi = mob.get_critical_point(UR)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def frame_box(margin: float = 0.0) -> Box:
    """The visible frame (14.22 × 8 units at 16:9), shrunk by ``margin``."""
    w, h = config.frame_width / 2, config.frame_height / 2
    return -w + margin, -h + margin, w - margin, h - margin


def fits_in_frame(mob: Mobject, margin: float = 0.0, tol: float = 1e-6) -> bool:
    """Whether ``mob`` lies inside the frame with ``margin`` to spare."""
    x0, y0, x1, y1 = bounding_box(mob)
    f0, g0, f1, g1 = frame_box(margin)
    return x0 >= f0 - tol and y0 >= g0 - tol and x1 <= f1 + tol and y1 <= g1 + tol


def boxes_overlap(a: Box, b: Box, gap: float = 0.0) -> bool:
    """Whether two boxes intersect (touching edges do not count)."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def overlapping_pairs(mobs: Sequence[Mobject], gap: float = 0.0) -> list[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of mobjects whose bounding boxes intersect."""
    boxes = [bounding_box(m) for m in mobs]
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes_overlap(boxes[i], boxes[j], gap)
    ]


def fit_to_frame(
    mob: Mobject,
    margin: float = FRAME_MARGIN,
    max_width: float | None = None,
    max_height: float | None = None,
) -> Mobject:
    """Shrink ``mob`` (never enlarge it) so it fits the frame, or the given size, with margin.

    Only scales; the caller places the group (``move_to``, ``to_edge``) afterwards.
    """
    f0, g0, f1, g1 = frame_box(margin)
    width = min(f1 - f0, max_width if max_width is not None else np.inf)
    height = min(g1 - g0, max_height if max_height is not None else np.inf)
    if mob.width > width:
        mob.scale_to_fit_width(width)
    if mob.height > height:
        mob.scale_to_fit_height(height)
    return mob


def keep_in_frame(mob: Mobject, margin: float = FRAME_MARGIN) -> Mobject:
    """Shift ``mob`` (no scaling) the least needed to bring it inside the frame."""
    x0, y0, x1, y1 = bounding_box(mob)
    f0, g0, f1, g1 = frame_box(margin)
    dx = (f0 - x0) if x0 < f0 else (f1 - x1) if x1 > f1 else 0.0
    dy = (g0 - y0) if y0 < g0 else (g1 - y1) if y1 > g1 else 0.0
    mob.shift(np.array([dx, dy, 0.0]))
    return mob


def box_in_frame(box: Box, margin: float = 0.0, tol: float = 1e-6) -> bool:
    """Whether ``box`` lies inside the frame with ``margin`` to spare."""
    f0, g0, f1, g1 = frame_box(margin)
    return box[0] >= f0 - tol and box[1] >= g0 - tol and box[2] <= f1 + tol and box[3] <= g1 + tol


@dataclass
class Layout:
    """One arrangement a beat shows: parts that must fit the frame and not overlap.

    The parts' boxes are taken when the layout is recorded (:meth:`of`), because the
    same mobjects may move later in the scene.
    """

    beat: str
    name: str
    boxes: list[Box] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, beat: str, name: str, parts: Sequence[Mobject]) -> Layout:
        return cls(beat, name, [bounding_box(p) for p in parts], [type(p).__name__ for p in parts])


def layout_problems(layout: Layout, margin: float = 0.0) -> list[str]:
    """Human-readable problems of a layout (empty when it is clean)."""
    problems = []
    where = f"{layout.beat}/{layout.name}"
    for i, box in enumerate(layout.boxes):
        if not box_in_frame(box, margin):
            problems.append(
                f"{where}: part {i} ({layout.kinds[i]}) leaves the frame: "
                f"box {tuple(round(v, 2) for v in box)}"
            )
    n = len(layout.boxes)
    for i in range(n):
        for j in range(i + 1, n):
            if boxes_overlap(layout.boxes[i], layout.boxes[j]):
                problems.append(
                    f"{where}: parts {i} ({layout.kinds[i]}) and {j} ({layout.kinds[j]}) overlap"
                )
    return problems
