"""Slides for manim-slides, one slide per section, from the lecture's own section clips.

``backprop lecture`` renders every part with ``--save_sections``, so it already has one clip
per beat. :func:`write_presentation` writes them as a manim-slides presentation
(``DIR/slides/lecture.json`` and the clips under ``DIR/slides/files/lecture/``), with each
beat's subcaption as the slide's speaker notes, so::

    pip install "backprop-anim[slides]"
    manim-slides present --folder media/lecture/slides lecture
    manim-slides convert --folder media/lecture/slides lecture lecture.html

present or convert the same scenes without a second copy of any scene and without a second
render.

Why not ``manim-slides render`` with a ``Slide`` mix-in: manim-slides 5.7.0 drives manim's
config keys ``write_to_movie``, ``flush_cache`` and an infinite ``max_files_cached``, which
manim 0.22 no longer has (``AttributeError`` / ``ValueError``); shimming those three keys got
further, but it means patching manim's ``ManimConfig`` class at import time and rendering
everything a second time. The presentation file is manim-slides' documented JSON
(``PresentationConfig``: ``slides[].file``, ``rev_file``, ``notes``, ``resolution``,
``background_color``); we write it directly and a test validates it with manim-slides'
own model when manim-slides is installed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from backprop_core.files import atomic_path, write_text_atomically
from backprop_lecture.cache import PartMedia
from backprop_lecture.timeline import Subtitle, parse_srt


def section_notes(media: PartMedia) -> list[str]:
    """Each section's subcaptions (the narration of its beat), joined, in section order."""
    cues = parse_srt(media.srt.read_text("utf-8")) if media.has_srt else []
    notes: list[list[str]] = [[] for _ in media.sections]
    start = 0.0
    bounds = []
    for sec in media.sections:
        end = start + float(sec.frames / media.fps)
        bounds.append((start, end))
        start = end
    for cue in cues:
        k = _section_of(cue, bounds)
        notes[k].append(cue.text.replace("\n", " "))
    return [" ".join(n) for n in notes]


def _section_of(cue: Subtitle, bounds: Sequence[tuple[float, float]]) -> int:
    for k, (_, end) in enumerate(bounds):
        if cue.start < end - 1e-6:
            return k
    return len(bounds) - 1


def _link(src: Path, dst: Path) -> None:
    """Hard-link (cheap, and survives the cache evicting ``src``), else copy; atomically."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def write_presentation(
    media: Sequence[PartMedia],
    folder: Path,
    name: str = "lecture",
    written: list[Path] | None = None,
) -> Path:
    """Write a manim-slides presentation of every section of ``media``; returns its JSON.

    Each section clip becomes a slide (``rev_file`` is the clip itself: we do not render
    reversed animations). Sections without a clip (a scene with no sections) become one
    slide of the part's whole video. Each clip written is appended to ``written``; clips
    of an earlier presentation are left for the caller to remove (it knows which files
    it made, see :mod:`backprop_lecture.owned`).
    """
    files = folder / "files" / name
    files.mkdir(parents=True, exist_ok=True)
    slides: list[dict[str, Any]] = []
    resolution = (854, 480)
    for p, m in enumerate(media, start=1):
        notes = section_notes(m)
        resolution = _resolution(m.video)
        for s, (sec, note) in enumerate(zip(m.sections, notes, strict=True), start=1):
            src = m.folder / "sections" / sec.video if sec.video else m.video
            dst = files / f"{p:02d}-{s:03d}.mp4"
            _link(src, dst)
            if written is not None:
                written.append(dst)
            # Relative to the presentation file's parent folder, as manim-slides reads it,
            # so the output folder can be moved or published as a whole.
            rel = f"{folder.name}/files/{name}/{dst.name}"
            slides.append(
                {
                    "file": rel,
                    "rev_file": rel,
                    "notes": note,
                    "loop": False,
                    "auto_next": False,
                    "playback_rate": 1.0,
                    "reversed_playback_rate": 1.0,
                }
            )
    path = folder / f"{name}.json"
    doc = {"slides": slides, "resolution": list(resolution), "background_color": "#000000"}
    write_text_atomically(path, json.dumps(doc, indent=2))
    return path


def _resolution(video: Path) -> tuple[int, int]:
    import av

    with av.open(str(video)) as c:
        cc = c.streams.video[0].codec_context
        return int(cc.width), int(cc.height)
