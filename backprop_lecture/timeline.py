"""Where parts and sections start in the joined video: subtitles and chapters."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from backprop_lecture.cache import PartMedia
from backprop_lecture.spec import Part

_SRT_TIME = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3})")


@dataclass(frozen=True)
class Subtitle:
    start: float
    end: float
    text: str


def parse_srt(text: str) -> list[Subtitle]:
    """The cues of an SRT file (index lines are ignored, times in seconds)."""
    subs = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = block.splitlines()
        for i, line in enumerate(lines):
            if "-->" in line:
                a, b = (_SRT_TIME.search(x) for x in line.split("-->"))
                if a and b:
                    subs.append(Subtitle(_seconds(a), _seconds(b), "\n".join(lines[i + 1 :])))
                break
    return subs


def _seconds(m: re.Match[str]) -> float:
    h, mi, s, ms = (int(g) for g in m.groups())
    return h * 3600 + mi * 60 + s + ms / 1000


def srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def compose_srt(subs: Sequence[Subtitle]) -> str:
    """An ``.srt`` of ``subs`` in time order, each cue ending at the latest where the next
    begins: players show two overlapping cues stacked, which reads as a glitch."""
    ordered = sorted(subs, key=lambda s: s.start)
    ends = [min(s.end, n.start) for s, n in itertools.pairwise(ordered)]
    ends += [s.end for s in ordered[len(ends) :]]
    return "".join(
        f"{i}\n{srt_time(s.start)} --> {srt_time(end)}\n{s.text}\n\n"
        for i, (s, end) in enumerate(zip(ordered, ends, strict=True), start=1)
    )


def chapter_time(seconds: float) -> str:
    """``HH:MM:SS`` (whole seconds, rounded down), as video platforms read chapters."""
    s = int(seconds + 1e-6)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


@dataclass(frozen=True)
class Timeline:
    """Where every part and section starts in the joined video, in seconds."""

    part_starts: list[float]
    section_starts: list[list[float]]
    total: float


def timeline(media: Sequence[PartMedia]) -> Timeline:
    """Start times from frame counts (exact fractions, so no drift over many parts)."""
    part_starts: list[float] = []
    section_starts: list[list[float]] = []
    t = Fraction(0)
    for m in media:
        part_starts.append(float(t))
        s = t
        starts = []
        for sec in m.sections:
            starts.append(float(s))
            s += Fraction(sec.frames) / m.fps
        section_starts.append(starts)
        t += Fraction(m.frames) / m.fps
    return Timeline(part_starts, section_starts, float(t))


def chapter_entries(
    parts: Sequence[Part], media: Sequence[PartMedia], line: Timeline
) -> list[tuple[float, str, bool]]:
    """``(start, title, is_part)`` for every part and every section, the part first.

    Titles are made one line (:func:`one_line`): a title is one chapter, whatever it holds.
    """
    out: list[tuple[float, str, bool]] = []
    for part, m, start, starts in zip(
        parts, media, line.part_starts, line.section_starts, strict=True
    ):
        title = one_line(part.title)
        out.append((start, title, True))
        for sec, s in zip(m.sections, starts, strict=True):
            out.append((s, f"{title}: {one_line(sec.name.replace('_', ' '))}", False))
    return out


def one_line(text: str) -> str:
    """``text`` with every run of whitespace and control characters (newlines, the
    Unicode line separators, ANSI escapes) made one space, so it cannot add a line.

    >>> one_line("Part one\\n00:00:00 forged\\x1b[2J")
    'Part one 00:00:00 forged [2J'
    """
    return " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text).split())


def chapters(parts: Sequence[Part], media: Sequence[PartMedia], line: Timeline) -> str:
    """One ``HH:MM:SS title`` line per part and per section (the part's name first)."""
    entries = chapter_entries(parts, media, line)
    return "".join(f"{chapter_time(t)} {title}\n" for t, title, _ in entries)


MIN_CHAPTER_SECONDS = 10
"""The shortest chapter video platforms accept (YouTube's rule)."""


def platform_chapters(entries: Sequence[tuple[float, str, bool]]) -> str:
    """Chapters a video platform accepts as they are: the first at ``00:00:00``, times
    increasing, each at least :data:`MIN_CHAPTER_SECONDS` long. A section too close to
    the chapter before it is merged into that chapter; a part too close to a section
    before it replaces that section (a part's title matters more)."""
    kept: list[tuple[int, str, bool]] = []
    for t, title, is_part in entries:
        whole = int(t + 1e-6)
        while is_part and len(kept) > 1 and not kept[-1][2]:
            if whole - kept[-1][0] >= MIN_CHAPTER_SECONDS:
                break
            kept.pop()
        if kept and whole - kept[-1][0] < MIN_CHAPTER_SECONDS:
            continue
        kept.append((whole, title, is_part))
    if kept:
        kept[0] = (0, *kept[0][1:])
    return "".join(f"{chapter_time(t)} {title}\n" for t, title, _ in kept)


def joined_subtitles(media: Sequence[PartMedia], line: Timeline) -> list[Subtitle]:
    subs: list[Subtitle] = []
    for m, start in zip(media, line.part_starts, strict=True):
        if m.has_srt:
            for s in parse_srt(m.srt.read_text("utf-8")):
                subs.append(Subtitle(s.start + start, s.end + start, s.text))
    return subs
