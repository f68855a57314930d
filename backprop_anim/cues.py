"""Narration cues: what a scene says, over which animations, and how long the picture waits.

A beat's narration is a sequence of *cues*. Each has a stable id ``part/beat/cue``: the
scene file's stem, the beat's name slugified and the cue's index in its beat (or a name
the scene gives it), e.g. ``chain/chain-rule/1``. A scene says a cue over a group of
animations with::

    with self.cue("The product for row 0."):
        self.play(...)

and :meth:`~backprop_anim.scene.TraceScene.beat`'s paragraph is the beat's first cue,
spoken over the whole beat. A cue lasts its voice's duration when the pipeline gave it a
recording, its reading time (:data:`WORDS_PER_SECOND`) otherwise. Its animations keep
their pace; when they end before the voice does, the picture holds until the voice has
ended plus :data:`CUE_GAP`, so nothing is sped up, cut or overlapped. The cue's subtitle
(manim's subcaption) and its sound (manim's ``add_sound``) start where the cue starts.

Two environment variables connect a scene to the pipeline (``backprop_lecture``, which
never imports manim, so everything crosses as files):

``BACKPROP_CUES``
    a JSON *voice plan*, ``{"cues": {ID: {"text": ..., "audio": WAV, "duration": S}}}``;
    every key optional. ``text`` replaces the scene's text (an edited script), ``audio``
    is added at the cue's start and ``duration`` (its length) times the hold.
``BACKPROP_CUES_OUT``
    a path: when the scene ends it writes every cue it said there, as JSON
    ``{"cues": [{"id", "text", "duration", "start", "voiced"}]}`` (``backprop script``
    collects a scene's cues with ``manim render --dry_run`` and this variable).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from backprop_core.errors import report

WORDS_PER_SECOND = 2.6
"""Reading speed that times a cue without a voice."""

MIN_READING_SECONDS = 2.0
"""The shortest reading time: a two-word cue still stays up long enough to read."""

CUE_GAP = 0.25
"""Silence after a voiced cue before the next one starts (seconds)."""

PLAN_ENV = "BACKPROP_CUES"
COLLECT_ENV = "BACKPROP_CUES_OUT"


def reading_time(text: str) -> float:
    """Seconds to read ``text`` at :data:`WORDS_PER_SECOND` (at least the minimum)."""
    return max(MIN_READING_SECONDS, len(text.split()) / WORDS_PER_SECOND)


def slug(name: str) -> str:
    """``"forward_pass"`` -> ``"forward-pass"``: the beat part of a cue id."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "beat"


@dataclass
class Cue:
    """One cue as said: its id, text, start (scene seconds) and duration."""

    id: str
    text: str
    start: float
    duration: float
    voiced: bool
    explicit: bool

    @property
    def end(self) -> float:
        """When the next cue may start: the voice's end plus the gap (a reading's end)."""
        return self.start + self.duration + (CUE_GAP if self.voiced else 0.0)


def load_plan(env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The voice plan named by :data:`PLAN_ENV` (empty without one); a plan that cannot
    be read stops the render with one line, before any frame is written."""
    path = (os.environ if env is None else env).get(PLAN_ENV, "")
    if not path:
        return {}
    try:
        cues = json.loads(Path(path).read_text("utf-8"))["cues"]
        if not isinstance(cues, dict):
            raise TypeError("cues is not a table")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        report(f"{path}: {PLAN_ENV}: unreadable voice plan ({exc})")
    return {str(k): dict(v) for k, v in cues.items()}


class CueMixin:
    """Cues for a :class:`~manim.Scene`: ids, subtitles, sounds and the hold after them.

    The scene base mixes this in; it needs manim's ``time``, ``wait``, ``add_subcaption``
    and ``add_sound``, and the scene's :attr:`hold_for_narration`.
    """

    hold_for_narration: bool = False
    time: float
    _narration_end: float | None

    # -- state (created on first use, so a scene's own setup order does not matter) ----
    def _cue_state(self) -> dict[str, Any]:
        state: dict[str, Any] | None = getattr(self, "_cues_state", None)
        if state is None:
            state = {
                "plan": load_plan(),
                "said": [],
                "open": None,
                "beat": "start",
                "index": 0,
                "ids": set(),
            }
            self._cues_state = state
        return state

    @property
    def cues_said(self) -> list[Cue]:
        """Every cue said so far, in order."""
        return list(self._cue_state()["said"])

    def cue_part(self) -> str:
        """The part of this scene's cue ids: its file's stem."""
        import inspect

        try:
            return Path(inspect.getfile(type(self))).stem
        except (TypeError, OSError):
            return type(self).__name__

    def cue_id(self, name: str | None = None) -> str:
        """The id the next cue of the current beat gets (``name`` replaces its index)."""
        state = self._cue_state()
        base = f"{self.cue_part()}/{state['beat']}/{slug(name) if name else state['index']}"
        cue_id, n = base, 2
        while cue_id in state["ids"]:
            cue_id, n = f"{base}-{n}", n + 1
        return cue_id

    # -- the API scenes use ------------------------------------------------------------
    def start_beat_cues(self, beat: str) -> None:
        """A new beat: cue indices restart and ids carry the beat's name."""
        state = self._cue_state()
        state["beat"], state["index"] = slug(beat), 0

    @contextmanager
    def cue(
        self, text: str, name: str | None = None, duration: float | None = None
    ) -> Iterator[Cue]:
        """Say ``text`` over the animations played inside the ``with`` block; at its end
        the picture holds until the cue's voice (or reading) has ended."""
        said = self.open_cue(text, name, duration, explicit=True)
        yield said
        self.close_cue()

    def open_cue(
        self, text: str, name: str | None = None, duration: float | None = None,
        explicit: bool = False,
    ) -> Cue:  # fmt: skip
        """Start a cue now (closing the open one first): its subtitle and sound."""
        self.close_cue(hold=explicit)
        state = self._cue_state()
        cue_id = self.cue_id(name)
        state["ids"].add(cue_id)
        state["index"] += 1
        entry = state["plan"].get(cue_id, {})
        text = str(entry.get("text", text))
        audio = entry.get("audio")
        if audio and entry.get("duration") is not None:
            length, voiced = float(entry["duration"]), True
        else:
            length, voiced = (reading_time(text) if duration is None else duration), False
        said = Cue(cue_id, text, float(self.time), length, voiced, explicit)
        self.add_subcaption(text, duration=length)  # type: ignore[attr-defined]
        if voiced:
            self.add_sound(str(audio))  # type: ignore[attr-defined]
        state["said"].append(said)
        state["open"] = said
        self._narration_end = said.end
        return said

    def close_cue(self, lead: float = 0.0, hold: bool = False) -> None:
        """End the open cue: hold until its voice has ended (``lead`` seconds earlier, for a
        transition that plays under its last words). A paragraph cue without a voice holds
        only with :attr:`hold_for_narration`, or ``hold`` (an explicit cue follows it)."""
        state = self._cue_state()
        said: Cue | None = state["open"]
        if said is None:
            return
        if lead <= 0:
            state["open"] = None  # with a lead it stays open: the next cue waits for its end
        holds = hold or said.voiced or said.explicit or self.hold_for_narration
        if not holds:
            return
        if said.end - lead - self.time > 0.05:
            self.wait(said.end - lead - self.time)  # type: ignore[attr-defined]
        if lead <= 0:
            # A wait is a whole number of frames, rounded down: top it up frame by frame so
            # the next cue never starts before this one has ended (at most a frame or two).
            from manim import config

            for _ in range(3):
                if said.end - self.time <= 1e-6:
                    break
                self.wait(1.5 / config.frame_rate)  # type: ignore[attr-defined]

    def write_cues(self) -> None:
        """Write the cues said to :data:`COLLECT_ENV`'s file, if it is set."""
        out = os.environ.get(COLLECT_ENV, "")
        if out:
            said = [asdict(c) for c in self._cue_state()["said"]]
            tmp = Path(out).with_name(f".{Path(out).name}.tmp")
            tmp.write_text(json.dumps({"cues": said}, indent=1), "utf-8")
            os.replace(tmp, out)

    def tear_down(self) -> None:
        # The last cue's voice ends before the video does; then the cues are reported. A
        # render of an animation range (`-n START,END`) that stopped early has no end to
        # hold: manim catches its EndSceneEarlyException in construct() only.
        from manim.utils.exceptions import EndSceneEarlyException

        with suppress(EndSceneEarlyException):
            self.close_cue()
        self.write_cues()
        super().tear_down()  # type: ignore[misc]
