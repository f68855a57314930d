"""Which entries of a long vector or a wide matrix are shown (pure logic, no manim).

Large layers are shown as their first entries, an ellipsis and the last entry, with a
badge that still gives the true shape, so a 784-128-10 network renders as readably and
about as fast as a 2-3-2 one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Index = int | None
"""A shown index, or ``None`` for the ellipsis (⋮ or ⋯)."""


def visible_indices(n: int, limit: int) -> list[Index]:
    """Indices shown for a dimension of length ``n`` in at most ``limit`` slots.

    Up to ``limit`` entries are all shown. A longer dimension shows ``limit − 3`` first
    entries (at least 2), the ellipsis and the last entry: one slot less than it could,
    so an elided matrix is visibly more compact than a full one of the same limit, and a
    784-128-10 network's ``W^(1)`` shows 4 × 4 numbers, not 5 × 5 (it read as crowded at
    480p, and each shown number is typeset, copied and drawn in every beat).

    >>> visible_indices(6, 6)
    [0, 1, 2, 3, 4, 5]
    >>> visible_indices(128, 6)
    [0, 1, 2, None, 127]
    >>> visible_indices(64, 4)
    [0, 1, None, 63]
    """
    if limit < 4:
        raise ValueError("an elided dimension needs at least 4 slots")
    if n <= limit:
        return list(range(n))
    return [*range(max(2, limit - 3)), None, n - 1]


def is_elided(n: int, limit: int) -> bool:
    return n > limit


def largest_entry(values: Any, rows: Sequence[Index], cols: Sequence[Index]) -> tuple[int, int]:
    """The shown entry ``(i, j)`` of largest ``|values[i][j]|`` (the first one on ties).

    ``rows`` and ``cols`` are shown indices (``None``, the ellipsis, is skipped), so the
    entry a scene computes in front of the viewer, or the edge it follows, is one it
    draws, and not a dull zero (a dead ReLU gives whole rows of zeros). ``values`` is a
    matrix (an array or nested sequences).

    >>> largest_entry([[1.0, -3.0], [2.0, 3.0]], [0, 1], [0, None, 1])
    (0, 1)
    """
    best: tuple[int, int] | None = None
    best_value = -1.0
    for i in rows:
        for j in cols:
            if i is None or j is None:
                continue
            v = abs(float(values[i][j]))
            if v > best_value:
                best, best_value = (i, j), v
    if best is None:
        raise ValueError("no shown entry to choose from")
    return best


KEPT_LIMIT = 4
"""The smallest limit of :func:`visible_indices` a board of the video uses: indices shown
at this limit are on screen at every elision of a board."""


def computed_entry(values: Any, n_rows: int, n_cols: int) -> tuple[int, int]:
    """The entry of an ``n_rows × n_cols`` matrix that a scene works out in front of the
    viewer, and a handout writes out: the largest among the indices every elision of the
    video shows (so the video and the handout compute the same one)."""
    return largest_entry(
        values, visible_indices(n_rows, KEPT_LIMIT), visible_indices(n_cols, KEPT_LIMIT)
    )
