"""Which entries of a long vector or a wide matrix are shown (pure logic, no manim).

Large layers are shown as their first entries, an ellipsis and the last entry, with a
badge that still gives the true shape, so a 784-128-10 network renders as readably and
about as fast as a 2-3-2 one.
"""

from __future__ import annotations

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
