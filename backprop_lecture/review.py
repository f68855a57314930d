"""``backprop review VIDEO``: what a viewer would call dead air or an empty frame, with times.

A rendered video is decoded frame by frame (PyAV, the luma plane at a quarter of its
resolution) and each frame is reduced to three numbers:

- its *ink*: the share of pixels that differ from the background;
- whether only the heading is on screen: nothing inked below the heading band (the top
  :data:`HEADING_BAND` of the frame, where every scene puts its beat's title);
- its *spread*: the share of the frame's width between the 2nd and 98th percentiles of
  its ink, left to right (stray glyphs at one edge do not count as using the frame).

A beat is a section of the video (manim's ``--save_sections`` index beside the video) or,
without one, a subtitle cue of its ``.srt``; without either the whole video is one beat.
Two kinds of stretch are reported:

- **dead air**: longer than :data:`DEAD_AIR_SECONDS` where the ink is under
  :data:`DEAD_AIR_INK` of the fullest frame of the same beat, or only the heading shows.
  The fullest frame is looked for after the beat's first :data:`HANDOVER_SECONDS`: the
  scenes change the heading over the previous beat's board and fade that board as the
  beat's own comes in, so those frames show the previous beat's picture (a dense network
  diagram would otherwise set the measure for a beat of equations). Every frame of the
  beat, the first ones too, is measured against it;
- **narrow**: longer than :data:`NARROW_SECONDS` where the spread is under
  :data:`NARROW_SPREAD` of the width.

The thresholds are the ones a lecturer reviewing a course video would use: a second of a
bare title reads as a stall, and a picture in one half of the frame for three seconds
looks unfinished at 480p.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.errors import BackpropError
from backprop_lecture.timeline import parse_srt

DEAD_AIR_SECONDS = 0.8
DEAD_AIR_INK = 0.35
NARROW_SECONDS = 3.0
NARROW_SPREAD = 0.5
HANDOVER_SECONDS = 1.2
"""How long the previous beat's board may still show at a beat's start (a heading's
cross-fade and the board's fade-out, with a margin)."""
HEADING_BAND = 0.14
"""The top share of the frame's height that holds a beat's heading."""
INK_THRESHOLD = 32
"""A pixel is ink when its luma differs from the background's by more than this (0-255)."""
SAMPLE = 4
"""Every SAMPLE-th pixel of every SAMPLE-th row is looked at: glyphs at 480p are still
several samples tall, and decoding, not measuring, then bounds the time."""


@dataclass(frozen=True)
class Beat:
    """A named stretch of the video, in frames ``[start, end)``."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Finding:
    """One reported stretch: ``kind`` is ``"dead air"`` or ``"narrow"``."""

    kind: str
    beat: str
    start: float
    end: float
    detail: str

    def line(self) -> str:
        return f"{self.start:7.2f}-{self.end:7.2f} s  {self.kind:<8}  [{self.beat}]  {self.detail}"


@dataclass(frozen=True)
class FrameStats:
    """Per-frame measurements of a whole video (arrays of one entry per frame)."""

    fps: Fraction
    ink: NDArray[np.float64]
    heading_only: NDArray[np.bool_]
    spread: NDArray[np.float64]


def measure(video: Path) -> FrameStats:
    """Decode ``video`` once and measure every frame (see the module's docstring)."""
    import av

    inks: list[float] = []
    heading_only: list[bool] = []
    spreads: list[float] = []
    background: int | None = None
    try:
        container = av.open(str(video))
    except (OSError, av.error.FFmpegError) as e:
        raise BackpropError(
            str(video), None, f"not a readable video ({e.__class__.__name__}); give an .mp4"
        ) from None
    with container:
        stream = container.streams.video[0]
        fps = Fraction(stream.average_rate or stream.base_rate or 15)
        for frame in container.decode(stream):
            plane = frame.planes[0]
            data = np.frombuffer(memoryview(plane), np.uint8)
            luma = data.reshape(plane.height, plane.line_size)
            luma = luma[::SAMPLE, : plane.width : SAMPLE].astype(np.int16)
            if background is None:
                background = _background(luma)
            ink = np.abs(luma - background) > INK_THRESHOLD
            band = max(1, round(HEADING_BAND * ink.shape[0]))
            inks.append(float(ink.mean()))
            heading_only.append(bool(ink[:band].any()) and not ink[band:].any())
            spreads.append(_spread(ink))
    return FrameStats(fps, np.array(inks), np.array(heading_only, dtype=bool), np.array(spreads))


def _background(luma: NDArray[Any]) -> int:
    """The most common luma on the frame's border: scenes keep a margin there, whereas a
    full board may cover more than half of the frame."""
    border = np.concatenate((luma[0], luma[-1], luma[:, 0], luma[:, -1]))
    values, counts = np.unique(border, return_counts=True)
    return int(values[np.argmax(counts)])


def _spread(ink: NDArray[np.bool_]) -> float:
    """Share of the width between the 2nd and 98th percentiles of the ink, left to right."""
    columns = ink.sum(axis=0).astype(np.float64)
    total = columns.sum()
    if total == 0:
        return 0.0
    cumulative = np.cumsum(columns) / total
    left = int(np.searchsorted(cumulative, 0.02))
    right = int(np.searchsorted(cumulative, 0.98))
    return float((right - left + 1) / ink.shape[1])


def beats(video: Path, fps: Fraction, frames: int) -> list[Beat]:
    """The video's beats: manim's section index beside it, else its ``.srt`` cues."""
    index = video.parent / "sections" / f"{video.stem}.json"
    if index.is_file():
        return _section_beats(json.loads(index.read_text("utf-8")), frames)
    srt = video.with_suffix(".srt")
    if srt.is_file():
        cues = parse_srt(srt.read_text("utf-8"))
        starts = [round(c.start * fps) for c in cues]
        if starts:
            starts[0] = 0
            ends = [*starts[1:], frames]
            return [
                Beat(c.text.splitlines()[0][:40], s, e)
                for c, s, e in zip(cues, starts, ends, strict=True)
                if e > s
            ]
    return [Beat(video.stem, 0, frames)]


def _section_beats(sections: Sequence[dict[str, Any]], frames: int) -> list[Beat]:
    out: list[Beat] = []
    start = 0
    for s in sections:
        end = min(frames, start + int(s["nb_frames"]))
        if end > start:
            out.append(Beat(str(s["name"]), start, end))
        start = end
    return out or [Beat("video", 0, frames)]


def _runs(flags: NDArray[np.bool_]) -> Iterable[tuple[int, int]]:
    """``[start, end)`` of every run of true values."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True)


def review(video: Path) -> list[Finding]:
    """Every dead-air and narrow stretch of ``video``, in time order."""
    stats = measure(video)
    frames = len(stats.ink)
    if frames == 0:
        raise BackpropError(str(video), None, "the video has no frames; render it again")
    findings: list[Finding] = []
    seconds = float(1 / stats.fps)
    handover = round(HANDOVER_SECONDS / seconds)
    for beat in beats(video, stats.fps, frames):
        ink = stats.ink[beat.start : beat.end]
        fullest = float((ink[handover:] if len(ink) > 2 * handover else ink).max())
        bare = stats.heading_only[beat.start : beat.end]
        dead = (ink < DEAD_AIR_INK * fullest) | bare
        for a, b in _runs(dead):
            if (b - a) * seconds > DEAD_AIR_SECONDS:
                what = (
                    "only the heading"
                    if bare[a:b].mean() >= 0.5
                    else f"ink {ink[a:b].mean() / fullest:.0%} of the beat's fullest frame"
                )
                findings.append(_finding("dead air", beat, a, b, seconds, what))
        spread = stats.spread[beat.start : beat.end]
        for a, b in _runs((spread < NARROW_SPREAD) & (ink > 0)):
            if (b - a) * seconds > NARROW_SECONDS:
                what = f"ink spans {spread[a:b].mean():.0%} of the width"
                findings.append(_finding("narrow", beat, a, b, seconds, what))
    return sorted(findings, key=lambda f: (f.start, f.kind))


def _finding(kind: str, beat: Beat, a: int, b: int, seconds: float, detail: str) -> Finding:
    return Finding(kind, beat.name, (beat.start + a) * seconds, (beat.start + b) * seconds, detail)
