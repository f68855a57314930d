"""Skipping manim's per-frame update walk while nothing on screen has an updater."""

from __future__ import annotations

from manim import Scene


class UpdateWalk:
    """Whether a scene needs :meth:`Scene.update_mobjects` on the next frame.

    Manim calls ``update(dt)`` on every mobject of the scene, recursively down to each
    glyph, on every frame, to run updaters. Our scenes change numbers by transforming
    between prepared states, never by updaters, so that walk visits a few hundred glyphs
    per frame for nothing (about 5 % of a ``-ql`` render). Whether any mobject on screen
    has an updater is looked up once per ``play`` (``wait`` is a ``play`` too): the scene
    calls :meth:`reset` when what is on screen may have changed.
    """

    def __init__(self) -> None:
        self._needed: bool | None = None

    def reset(self) -> None:
        """Forget the answer: mobjects were added or removed."""
        self._needed = None

    def needed(self, scene: Scene) -> bool:
        """True if some mobject of ``scene`` has an updater (manim's walk must run)."""
        if self._needed is None:
            self._needed = any(m.updaters for m in scene.get_mobject_family_members())
        return self._needed
