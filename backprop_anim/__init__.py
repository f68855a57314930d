"""backprop-anim's scene kit: build Manim scenes whose every number comes from a trace.

The public API, for a lecturer's own scenes (``docs/api.md``), is what ``__all__`` lists:

==========================  ==========================================================
:class:`TraceScene`         the scene base: loads a trace, beats (sections + subcaptions)
:class:`TraceMatrix`        a matrix of the trace, entries registered with their origin
:class:`NetworkDiagram`     neurons and weighted edges
:func:`row_times_column`    ``(A B)_ij`` term by term (:mod:`backprop_anim.api`)
:func:`hadamard`            ``A_ij · B_ij``
:func:`outer_product`       ``(δ aᵀ / m)_jk``
:func:`transpose`           ``W`` and ``Wᵀ`` with the moves of each entry
:class:`Apart`              flights played so that no two numbers print over each other
:func:`registry`            the numbers of a trace outside a scene
:class:`NumberRegistry`     what ``self.numbers`` is
:class:`Style`              the colours; :data:`DEFAULT_STYLE` is the project's
==========================  ==========================================================

Importing this package imports nothing else: Manim imports the plugin module
(:mod:`backprop_anim.plugin`) half-way through its own import, so the names above are
loaded on first use (PEP 562), and ``from backprop_anim import TraceMatrix`` imports
manim then. The project's own scenes import the kit's modules directly.
"""

from __future__ import annotations

# Not even `typing` is imported (the plugin test checks the modules an import adds):
# mypy reads a module-level TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from backprop_anim.api import (
        Hadamard,
        OuterProduct,
        RowColumn,
        Transpose,
        hadamard,
        outer_product,
        registry,
        row_times_column,
        transpose,
    )
    from backprop_anim.diagram import NetworkDiagram
    from backprop_anim.flights import Apart
    from backprop_anim.mobjects import TraceMatrix, color_legend
    from backprop_anim.numbers import NumberRegistry
    from backprop_anim.scene import TraceScene
    from backprop_anim.style import DEFAULT_STYLE, Style

_HOME = {
    "Apart": "backprop_anim.flights",
    "TraceScene": "backprop_anim.scene",
    "TraceMatrix": "backprop_anim.mobjects",
    "color_legend": "backprop_anim.mobjects",
    "NetworkDiagram": "backprop_anim.diagram",
    "NumberRegistry": "backprop_anim.numbers",
    "Style": "backprop_anim.style",
    "DEFAULT_STYLE": "backprop_anim.style",
    "row_times_column": "backprop_anim.api",
    "hadamard": "backprop_anim.api",
    "outer_product": "backprop_anim.api",
    "transpose": "backprop_anim.api",
    "registry": "backprop_anim.api",
    "RowColumn": "backprop_anim.api",
    "Hadamard": "backprop_anim.api",
    "OuterProduct": "backprop_anim.api",
    "Transpose": "backprop_anim.api",
}

__all__ = [
    "DEFAULT_STYLE",
    "Apart",
    "Hadamard",
    "NetworkDiagram",
    "NumberRegistry",
    "OuterProduct",
    "RowColumn",
    "Style",
    "TraceMatrix",
    "TraceScene",
    "Transpose",
    "color_legend",
    "hadamard",
    "outer_product",
    "registry",
    "row_times_column",
    "transpose",
]


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'backprop_anim' has no attribute {name!r}")
    value = getattr(__import__(home, fromlist=[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
