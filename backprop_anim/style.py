"""One place for the look of every scene: colours with meaning, precision, sizes.

A colour means one thing in every beat and every scene: a viewer who learned that δ is
orange in the delta video sees orange δ in the network video too. The quantities' colours
and the colours that mean something else (the sign of a value on edges and heatmaps, a
highlight) never coincide: signs are a diverging pair, royal blue and crimson, that no
quantity uses (the gradient is magenta, not red), and the highlight is a lime that no
quantity uses (the cost keeps yellow). ``tests/test_api.py`` checks that the colours are
pairwise far apart.

:class:`Style` holds the same colours as one value, so a lecturer's scene can change them
(``dataclasses.replace(DEFAULT_STYLE, weight=...)``) and give the result to the public
builders of :mod:`backprop_anim.api`; the module constants are :data:`DEFAULT_STYLE`'s
values, which the project's own scenes use.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from manim import (
    BLUE_C,
    GOLD_C,
    GREEN_C,
    GREY_B,
    MAROON_B,
    ORANGE,
    PINK,
    PURPLE_B,
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
GRADIENT_COLOR: ManimColor = PINK
"""``∂C/∂W``, ``∂C/∂b`` and ``∇_a C``."""
COST_COLOR: ManimColor = YELLOW_C
"""The cost ``C``."""
TARGET_COLOR: ManimColor = GOLD_C
"""The target ``y``."""
TEXT_COLOR: ManimColor = WHITE
HIGHLIGHT_COLOR: ManimColor = ManimColor("#C6FF3C")
"""Frames and flashes that point at something (a colour no quantity uses)."""
POSITIVE_COLOR: ManimColor = ManimColor("#3D66E0")
"""Sign colours for edges and heatmaps: positive values."""
NEGATIVE_COLOR: ManimColor = ManimColor("#E0303A")
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


@dataclass(frozen=True)
class Style:
    """The colour of every quantity, of text, of highlights and of signs.

    One field per quantity of the chapter; a public builder or mobject given
    ``style=`` draws each quantity in the style's colour. Frozen, so a style is a value
    (derive one with :func:`dataclasses.replace`) and :data:`DEFAULT_STYLE` cannot be
    changed by accident.

    Examples
    --------
    >>> from dataclasses import replace
    >>> from manim import ManimColor
    >>> mine = replace(DEFAULT_STYLE, weight=ManimColor("#FFFFFF"))
    >>> mine.color_of("W2").to_hex(), DEFAULT_STYLE.color_of("delta1") == DELTA_COLOR
    ('#FFFFFF', True)
    """

    input: ManimColor = INPUT_COLOR
    weight: ManimColor = WEIGHT_COLOR
    bias: ManimColor = BIAS_COLOR
    z: ManimColor = Z_COLOR
    activation: ManimColor = ACTIVATION_COLOR
    sigma_prime: ManimColor = SIGMA_PRIME_COLOR
    delta: ManimColor = DELTA_COLOR
    gradient: ManimColor = GRADIENT_COLOR
    cost: ManimColor = COST_COLOR
    target: ManimColor = TARGET_COLOR
    text: ManimColor = TEXT_COLOR
    highlight: ManimColor = HIGHLIGHT_COLOR
    positive: ManimColor = POSITIVE_COLOR
    negative: ManimColor = NEGATIVE_COLOR

    def color_of(self, name: str) -> ManimColor:
        """The colour of a trace array by its name (``"W2"``, ``"a0"``, ``"dW1"``, ``"y"``).

        ``a0`` is the input ``x``; ``W_next``/``b_next`` (after the update) are weights and
        biases; ``dW``, ``db`` and ``grad_a`` are gradients.
        """
        base = name.rstrip("0123456789")
        if base == "a" and name[1:] == "0":
            return self.input
        color: ManimColor = getattr(self, _FIELD_OF[base])
        return color

    def legend(self) -> tuple[tuple[str, ManimColor], ...]:
        """``(tex, colour)`` pairs of the quantities, as :data:`LEGEND` in this style."""
        pairs = zip(LEGEND, _LEGEND_FIELDS, strict=True)
        return tuple((tex, getattr(self, f)) for (tex, _), f in pairs)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The fields, quantities first (``input`` … ``target``), then the others."""
        return tuple(f.name for f in fields(cls))


_FIELD_OF = {
    "W": "weight", "W_next": "weight", "b": "bias", "b_next": "bias", "z": "z",
    "a": "activation", "sigma_prime": "sigma_prime", "delta": "delta", "dW": "gradient",
    "db": "gradient", "grad_a": "gradient", "y": "target", "loss": "cost", "x": "input",
}  # fmt: skip
_LEGEND_FIELDS = (
    "input", "weight", "bias", "z", "activation", "sigma_prime", "delta", "gradient", "cost",
    "target",
)  # fmt: skip
QUANTITY_FIELDS = _LEGEND_FIELDS
"""The fields of :class:`Style` that are quantities of the chapter."""

DEFAULT_STYLE = Style()
"""The project's colours: the module constants above."""

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
MIN_DIGIT_HEIGHT = 10 * 8.0 / 480
"""The legibility floor: a digit at least 10 px tall at 480p (the frame is 8 units tall),
about 22 px at 1080p, in manim units. Boards elide more rather than shrink below it."""
BUFF = 0.25

# Heatmaps and decision regions (scenes/training.py).
HEATMAP_ZERO_COLOR: ManimColor = ManimColor("#1C1C1C")
"""Heatmap colour of 0; values fade from it to POSITIVE_COLOR or NEGATIVE_COLOR."""
HEATMAP_MAX_CELLS = 10
"""Heatmaps of wider matrices show first entries, a gap and the last (a fixed budget,
so a frame costs about the same whatever the layer width)."""
CLASS_COLORS: tuple[ManimColor, ManimColor] = (ManimColor("#5E6E8C"), GOLD_C)
"""Decision regions and data points: label 0 (a slate no quantity or sign uses), label 1
(the target colour)."""
REGION_OPACITY = 0.55
"""How strongly the regions are tinted (data points are drawn at full colour over them)."""
