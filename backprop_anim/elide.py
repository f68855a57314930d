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

    >>> visible_indices(3, 6)
    [0, 1, 2]
    >>> visible_indices(128, 6)
    [0, 1, 2, 3, None, 127]
    """
    if limit < 3:
        raise ValueError("an elided dimension needs at least 3 slots")
    if n <= limit:
        return list(range(n))
    return [*range(limit - 2), None, n - 1]


def is_elided(n: int, limit: int) -> bool:
    return n > limit
