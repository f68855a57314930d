"""The base of every backprop-anim scene: inputs, number registry and beats."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
from typing import Any

from manim import Scene, config
from manim.constants import RendererType

from backprop_anim.cues import WORDS_PER_SECOND as WORDS_PER_SECOND  # re-exported
from backprop_anim.cues import CueMixin
from backprop_anim.inputs import SceneInputs, inputs_or_exit
from backprop_anim.numbers import NumberRegistry
from backprop_anim.tuning import svgcache
from backprop_anim.tuning.renderer import PathCacheCamera, StaticFrameCache

svgcache.install()  # glyphs parsed once, ever (see svgcache)

_MAIN_THREAD = threading.get_native_id()
_RENICED: set[int] = set()


def encoders_in_background(niceness: int = 10) -> None:
    """Lower the priority of this process's other threads: manim's video encoders.

    Manim encodes each animation's frames in a thread of its own while the main thread
    draws the next ones (``max_inflight_encoders`` in ``manim.cfg``), and libx264 starts
    its own threads. On a machine with few cores they take turns with the main thread,
    which is the render's critical path: every frame waits for it, while encoding can
    catch up at any time. With the encoders at a lower priority (``nice`` +10) the main
    thread keeps a core and they use what is left. Measured on 2 cores, ``delta.py`` at
    ``-ql``, seven renders each way in pairs: 13.4 s against 14.8 s on average, faster
    in six pairs and even in one.

    Linux only (threads listed in ``/proc/self/task``); elsewhere, or if not allowed,
    nothing changes. Raising a thread's niceness needs no privilege.
    """
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return
    for tid in tids:
        if tid != _MAIN_THREAD and tid not in _RENICED:
            _RENICED.add(tid)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, niceness)


def reuse_freed_memory() -> bool:
    """Let glibc's ``malloc`` keep big freed blocks for reuse instead of unmapping them.

    Every animation is a partial movie with an x264 encoder of its own, which allocates
    frame buffers of several MB and frees them when its segment closes, and every frame
    drawn is a fresh RGBA array that an encoder thread frees. With glibc's defaults such
    blocks are ``mmap``-ed and handed back to the kernel when freed (or the heap is
    trimmed), so the next segment faults in and zeroes new pages: ``delta.py`` at ``-ql``
    spent 2.2 to 3.1 s of system CPU on it, in 115 segments. Blocks up to 32 MiB (glibc's
    ceiling for this setting) now come from the heap, which is not trimmed, so they are
    reused: system CPU fell to 1.5 to 1.7 s in four paired renders. The cost is that the
    process keeps its peak memory until it exits, which a render process may.

    Returns whether the settings took (glibc on Linux); elsewhere nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt  # glibc; musl has no mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (m_mmap_threshold, 32 << 20),
            (m_trim_threshold, 1 << 30),
            (m_top_pad, 64 << 20),
        )
    )


class TraceScene(CueMixin, Scene):
    """A scene that reads one trace (chosen by ``BACKPROP_*``) and narrates beats.

    Subclasses set :attr:`default_preset` and write ``construct()`` as a list of beats,
    each starting with :meth:`beat`, which opens a section (``--save_sections`` writes one
    clip per beat) and adds the beat's subcaption (manim writes the ``.srt``).
    """

    default_preset = "delta-demo"
    hold_for_narration = False
    """If true, a beat does not end before its subcaption has been shown in full (the
    next beat waits for it), so subcaptions never overlap; call :meth:`finish_beats` at
    the end of ``construct()``."""
    inputs: SceneInputs
    numbers: NumberRegistry

    def __init__(self, renderer: Any = None, **kwargs: Any) -> None:
        # Manim's Cairo renderer, extending each play's static frame instead of redrawing
        # it, with a camera that replays unchanged paths (see backprop_anim.tuning.renderer); a
        # renderer given by the caller (manim's test utilities give their own) or the
        # OpenGL renderer is used as it is.
        if renderer is None and config.renderer == RendererType.CAIRO:
            renderer = StaticFrameCache(
                camera_class=kwargs.get("camera_class", PathCacheCamera),
                skip_animations=kwargs.get("skip_animations", False),
            )
        super().__init__(renderer=renderer, **kwargs)
        reuse_freed_memory()

    def setup(self) -> None:
        # Load (and validate) the trace before any frame is written.
        self.inputs = inputs_or_exit(self.default_preset)
        self.numbers = NumberRegistry(self.inputs.trace, self.inputs.step, self.inputs.decimals)
        self.beats: list[str] = []
        self._narration_end: float | None = None
        self._updaters_on_screen: bool | None = None

    def play(self, *animations: Any, **kwargs: Any) -> None:
        self._updaters_on_screen = None  # what is on screen may have changed
        encoders_in_background()
        super().play(*animations, **kwargs)

    def update_mobjects(self, dt: float) -> None:
        """:meth:`Scene.update_mobjects`, skipped while nothing on screen has an updater.

        Manim calls ``update(dt)`` on every mobject of the scene, recursively down to each
        glyph, on every frame, to run updaters. Our scenes change numbers by transforming
        between prepared states, never by updaters, so this walked a few hundred glyphs per
        frame for nothing (about 5 % of a ``-ql`` render). Whether any mobject on screen has
        an updater is checked once per ``play``/``wait``; if one does, manim's loop runs.
        """
        if self._updaters_on_screen is None:
            self._updaters_on_screen = any(m.updaters for m in self.get_mobject_family_members())
        if self._updaters_on_screen:
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
