"""One place for the look of every scene: colours with meaning, precision, sizes.

A colour means the same quantity in every beat and every scene: a viewer who learned
that δ is orange in the delta video sees orange δ in the network video too.
"""

from __future__ import annotations

from manim import (
    BLUE_C,
    GOLD_C,
    GREEN_C,
    GREY_B,
    MAROON_B,
    ORANGE,
    PURPLE_B,
    RED_C,
    TEAL_C,
    WHITE,
    YELLOW_C,
    ManimColor,
)

INPUT_COLOR: ManimColor = GREY_B
"""``x = a^(0)``."""
WEIGHT_COLOR: ManimColor = BLUE_C
"""``W^(l)`` and its entries, edges of the diagram."""
BIAS_COLOR: ManimColor = PURPLE_B
"""``b^(l)``."""
Z_COLOR: ManimColor = TEAL_C
"""Weighted inputs ``z^(l)``."""
ACTIVATION_COLOR: ManimColor = GREEN_C
"""Activations ``a^(l)``."""
SIGMA_PRIME_COLOR: ManimColor = MAROON_B
"""``σ'(z^(l))``."""
DELTA_COLOR: ManimColor = ORANGE
"""Errors ``δ^(l)``."""
GRADIENT_COLOR: ManimColor = RED_C
"""``∂C/∂W``, ``∂C/∂b`` and ``∇_a C``."""
COST_COLOR: ManimColor = YELLOW_C
"""The cost ``C``."""
TARGET_COLOR: ManimColor = GOLD_C
"""The target ``y``."""
TEXT_COLOR: ManimColor = WHITE
HIGHLIGHT_COLOR: ManimColor = YELLOW_C
POSITIVE_COLOR: ManimColor = BLUE_C
"""Sign colours for edges and heatmaps: positive values."""
NEGATIVE_COLOR: ManimColor = RED_C
"""Sign colours for edges and heatmaps: negative values."""

LEGEND = (
    ("x", INPUT_COLOR),
    ("W", WEIGHT_COLOR),
    ("b", BIAS_COLOR),
    ("z", Z_COLOR),
    ("a", ACTIVATION_COLOR),
    ("\\sigma'", SIGMA_PRIME_COLOR),
    ("\\delta", DELTA_COLOR),
    ("\\partial C", GRADIENT_COLOR),
    ("C", COST_COLOR),
    ("y", TARGET_COLOR),
)
"""``(tex, colour)`` pairs of the legend shown at the start of every scene."""

DEFAULT_DECIMALS = 3
"""Digits after the point when ``BACKPROP_DECIMALS`` is not set."""
MAX_DECIMALS = 8

MAX_ROWS = 6
"""Vectors and matrices taller than this are elided: first rows, ⋮, last row."""
MAX_COLS = 6
"""Matrices wider than this are elided: first columns, ⋯, last column."""
MAX_BATCH = 4
"""Batches of more samples than this show first columns, ⋯, last column."""

TITLE_SIZE = 40
BODY_SIZE = 32
SMALL_SIZE = 24
MATRIX_ENTRY_SIZE = 30
BUFF = 0.25

# Heatmaps and decision regions (scenes/training.py).
HEATMAP_ZERO_COLOR: ManimColor = ManimColor("#1C1C1C")
"""Heatmap colour of 0; values fade from it to POSITIVE_COLOR or NEGATIVE_COLOR."""
HEATMAP_MAX_CELLS = 10
"""Heatmaps of wider matrices show first entries, a gap and the last (a fixed budget,
so a frame costs about the same whatever the layer width)."""
CLASS_COLORS: tuple[ManimColor, ManimColor] = (ManimColor("#C45BAA"), GOLD_C)
"""Decision regions and data points: label 0, label 1 (1 is the target colour)."""
REGION_OPACITY = 0.55
"""How strongly the regions are tinted (data points are drawn at full colour over them)."""
