"""backprop-anim's Manim plugin: what ``manim plugins -l`` lists as ``backprop_anim``.

Manim imports every module of the ``manim.plugins`` entry-point group whenever it starts
(``import manim`` loads them, half-way through its own import), so this module imports
nothing (not manim, not the kit) and changes nothing: importing it cannot patch manim or
slow it down. The kit itself is imported by the scenes that use it::

    from backprop_anim.scene import TraceScene

and ``backprop render SCENE`` renders the packaged scenes or a scene file of your own with
the project's TeX template (see ``docs/render.md``).
"""

from __future__ import annotations

__all__ = ["PACKAGE", "SCENES_PACKAGE"]

PACKAGE = "backprop_anim"
"""The scene kit's package, imported by scenes (never by this module)."""

SCENES_PACKAGE = "backprop_scenes"
"""The packaged scene files (the repository's ``scenes/``), rendered by path."""
