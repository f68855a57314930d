"""The base of every backprop-anim scene: inputs, number registry and beats."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from manim import Scene, TexTemplate, config

from backprop_anim import tuning
from backprop_anim.cues import WORDS_PER_SECOND as WORDS_PER_SECOND  # re-exported
from backprop_anim.cues import CueMixin
from backprop_anim.inputs import SceneInputs, fast_or_exit, inputs_or_exit
from backprop_anim.numbers import NumberRegistry

TEX_TEMPLATE = Path(__file__).with_name("tex_template.tex")
"""The project's TeX template: article + preview, the small LaTeX install of ``run.sh``."""


def use_project_tex_template() -> None:
    """Typeset with :data:`TEX_TEMPLATE` unless this render chose a template of its own.

    Manim's default template needs the ``standalone`` class, which the project does not
    install; the repository's ``manim.cfg`` names ours, but outside the repository
    ``manim render`` would fall back to manim's. A template from a ``manim.cfg``
    (``tex_template_file``) or ``--tex_template`` wins. ``manim render`` restores its
    config after every scene, so this lasts one scene's render.
    """
    if config.tex_template_file or config.tex_template != TexTemplate():
        return
    config.tex_template = TexTemplate.from_file(TEX_TEMPLATE)


class TraceScene(CueMixin, Scene):
    """A scene that reads one trace (chosen by ``BACKPROP_*``) and narrates beats.

    Subclasses set :attr:`default_preset` and write ``construct()`` as a list of beats,
    each starting with :meth:`beat`, which opens a section (``--save_sections`` writes one
    clip per beat) and adds the beat's subcaption (manim writes the ``.srt``).

    Making one turns the render tuning on (:func:`backprop_anim.tuning.enable`) unless
    ``BACKPROP_FAST=0``; the frames are the same either way.
    """

    default_preset = "delta-demo"
    hold_for_narration = False
    """If true, a beat does not end before its subcaption has been shown in full (the
    next beat waits for it), so subcaptions never overlap; call :meth:`finish_beats` at
    the end of ``construct()``."""
    inputs: SceneInputs
    numbers: NumberRegistry
    tuned: bool
    """Whether this scene renders with :mod:`backprop_anim.tuning` (``BACKPROP_FAST``)."""

    def __init__(self, renderer: Any = None, **kwargs: Any) -> None:
        # The render tuning (backprop_anim.tuning) unless BACKPROP_FAST=0: manim's Cairo
        # renderer extending each play's static frame instead of redrawing it, with a
        # camera that replays unchanged paths, and the update walk skipped while nothing
        # has an updater. A renderer given by the caller (manim's test utilities give
        # their own) or the OpenGL renderer is used as it is.
        self.tuned = fast_or_exit() and tuning.enable()
        self._update_walk = tuning.UpdateWalk() if self.tuned else None
        if renderer is None and self.tuned:
            renderer = tuning.cairo_renderer(
                camera_class=kwargs.get("camera_class"),
                skip_animations=kwargs.get("skip_animations", False),
            )
        super().__init__(renderer=renderer, **kwargs)

    def setup(self) -> None:
        use_project_tex_template()
        # Load (and validate) the trace before any frame is written.
        self.inputs = inputs_or_exit(self.default_preset)
        self.numbers = NumberRegistry(self.inputs.trace, self.inputs.step, self.inputs.decimals)
        self.beats: list[str] = []
        self._narration_end: float | None = None

    def play(self, *animations: Any, **kwargs: Any) -> None:
        if self._update_walk is not None:
            self._update_walk.reset()  # what is on screen may have changed
            tuning.encoders_in_background()
        super().play(*animations, **kwargs)

    def update_mobjects(self, dt: float) -> None:
        """:meth:`Scene.update_mobjects`, skipped while the tuning is on and nothing on
        screen has an updater (see :class:`backprop_anim.tuning.UpdateWalk`)."""
        if self._update_walk is None or self._update_walk.needed(self):
            super().update_mobjects(dt)

    @property
    def trace(self):  # type: ignore[no-untyped-def]
        return self.inputs.trace

    @property
    def step(self):  # type: ignore[no-untyped-def]
        return self.inputs.step

    # -- beats and their cues (see backprop_anim.cues) ---------------------------------
    def beat(self, name: str, narration: str = "", duration: float | None = None) -> None:
        """Start a beat: a new section named ``name``; its ``narration`` paragraph is the
        beat's first cue (``duration`` replaces its reading time when it has no voice).
        Further cues: ``with self.cue(text): self.play(...)``."""
        self.finish_beats()
        self.beats.append(name)
        self.next_section(name)
        self.start_beat_cues(name)
        if narration:
            self.open_cue(narration, duration=duration)

    def finish_beats(self, lead: float = 0.0) -> None:
        """End the open cue: wait until its voice (or, with :attr:`hold_for_narration`,
        its reading) has ended, or until ``lead`` seconds before, for a transition that
        plays under its last words."""
        self.close_cue(lead)
