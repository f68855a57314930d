"""The whole command: render or reuse every part, then assemble the outputs."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backprop_core.errors import BackpropError
from backprop_core.files import copy_atomically, write_text_atomically
from backprop_lecture.cache import PartMedia, PartNarration
from backprop_lecture.media import (
    PREVIEW_FPS,
    PREVIEW_SCENE,
    PREVIEW_SECONDS,
    PREVIEW_WIDTH,
    join_videos,
    preview_gif,
)
from backprop_lecture.owned import OutputFolder
from backprop_lecture.render import PartResult, default_jobs, render_parts
from backprop_lecture.spec import DEFAULT_OUT, QUALITIES, Lecture, Part
from backprop_lecture.timeline import (
    chapter_entries,
    chapters,
    compose_srt,
    joined_subtitles,
    platform_chapters,
    timeline,
)


@dataclass
class LectureResult:
    results: list[PartResult]
    out: Path
    seconds: float
    join: str = ""
    outputs: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[PartResult]:
        return [r for r in self.results if r.status == "failed"]


def assemble(
    lecture: Lecture,
    results: Sequence[PartResult],
    out: Path,
    owned: OutputFolder | None = None,
) -> tuple[str, list[Path]]:
    """Write the joined video, subtitles, chapters, stills and preview into ``out``; when
    parts have sound (their cues' voices), the joined video carries it, each part's audio
    exactly as long as its video.

    Every file written is recorded in ``owned`` (the folder's marker, see
    :mod:`backprop_lecture.owned`); nothing is deleted here: files an earlier build wrote
    and this one does not are removed by ``owned`` alone, and only those.
    """
    if owned is None:
        with OutputFolder(out) as own:
            found = assemble(lecture, results, out, own)
            own.complete = len(found[1]) > 0
            return found
    add = owned.add
    media = [r.media for r in results if r.media is not None]
    parts = [r.part for r in results if r.media is not None]
    written: list[Path] = []
    # Each part on its own (kept even if another part failed).
    parts_dir = out / "parts"
    parts_dir.mkdir(exist_ok=True)
    for p, m in zip(parts, media, strict=True):
        copy_atomically(m.video, add(parts_dir / f"{p.name}.mp4"))
        if m.has_srt:
            copy_atomically(m.srt, add(parts_dir / f"{p.name}.srt"))
    if len(media) != len(results):
        return "", written
    line = timeline(media)
    join = join_videos([m.video for m in media], add(out / "lecture.mp4"))
    written.append(out / "lecture.mp4")
    subs = joined_subtitles(media, line)
    from backprop_lecture.audio import join_audio, mux_audio

    track = join_audio([(m.video, m.duration) for m in media])
    if track is not None:
        mux_audio(out / "lecture.mp4", track, out / "lecture.mp4")
        join += " + voice"
    write_text_atomically(add(out / "lecture.srt"), compose_srt(subs))
    write_text_atomically(add(out / "chapters.txt"), chapters(parts, media, line))
    write_text_atomically(
        add(out / "chapters-youtube.txt"), platform_chapters(chapter_entries(parts, media, line))
    )
    written += [out / "lecture.srt", out / "chapters.txt"]
    stills = out / "stills"
    stills.mkdir(exist_ok=True)
    for p, m in zip(parts, media, strict=True):
        for i, sec in enumerate(m.sections):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", sec.name).strip("-").lower() or "section"
            copy_atomically(
                m.folder / "stills" / sec.still,
                add(stills / f"{p.name}-{i + 1:02d}-{slug}.png"),
            )
    written.append(stills)
    from backprop_lecture.slides import write_presentation

    slide_files: list[Path] = []
    written.append(add(write_presentation(media, out / "slides", written=slide_files)))
    for f in slide_files:
        add(f)
    handouts = out / "handouts"
    handouts.mkdir(exist_ok=True)
    for p, m in zip(parts, media, strict=True):
        for f in sorted(_part_handouts(p, m).iterdir()):
            copy_atomically(f, add(handouts / f.name))
    written.append(handouts)
    k = next((i for i, p in enumerate(parts) if p.scene.stem == PREVIEW_SCENE), 0)
    copy_atomically(_part_preview(media[k]), add(out / "preview.gif"))
    written.append(out / "preview.gif")
    return join, written


def _part_handouts(part: Part, media: PartMedia) -> Path:
    """The part's handouts, made once per cache entry and handout code (a second run
    only copies them: the assembly must stay cheap when one part changed)."""
    import backprop_explain.format
    import backprop_lecture.handout

    code = b"".join(
        Path(m.__file__ or "").read_bytes()
        for m in (backprop_lecture.handout, backprop_explain.format)
    )
    folder = media.folder / f"handouts-{hashlib.sha256(code).hexdigest()[:12]}"
    if not folder.is_dir():
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_handouts([part], tmp)
        tmp.rename(folder)
    return folder


def _part_preview(media: PartMedia) -> Path:
    """The part's preview GIF (from its second section on), made once per cache entry."""
    starts = [0, *itertools.accumulate(s.frames for s in media.sections)]
    start = float(starts[1] / media.fps) if len(media.sections) > 1 else 0.0
    gif = media.folder / (
        f"preview-{start:.3f}-{PREVIEW_SECONDS}-{PREVIEW_FPS}-{PREVIEW_WIDTH}.gif"
    )
    if not gif.is_file():
        preview_gif(media.video, gif, start=start)
    return gif


SCENE_INPUTS = ("default_preset", "preset", "trace_file", "config_file", "iteration", "decimals")
"""The class attributes of a ``TraceScene`` that name its inputs (``docs/api.md``)."""


def scene_inputs(scene: Path) -> dict[str, object]:
    """The inputs a scene file's class names, as constants (read from its source, not
    imported: importing would import manim): the first class that sets any of
    :data:`SCENE_INPUTS`, e.g. ``{"config_file": "net.toml", "iteration": 2}``."""
    import ast

    for node in ast.walk(ast.parse(scene.read_text("utf-8"))):
        if not isinstance(node, ast.ClassDef) or node.decorator_list:
            continue  # decorated classes (dataclasses) are not scenes
        found: dict[str, object] = {}
        for stmt in node.body:
            targets = (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else []
            )
            value = getattr(stmt, "value", None)
            if not isinstance(value, ast.Constant):
                continue
            for t in targets:
                if isinstance(t, ast.Name) and t.id in SCENE_INPUTS:
                    found[t.id] = value.value
        if found:
            return found
    return {}


def scene_default_preset(scene: Path) -> str:
    """The ``default_preset`` a scene file's class sets, else the kit's default."""
    value = scene_inputs(scene).get("default_preset")
    return value if isinstance(value, str) else "delta-demo"


def part_trace(part: Part) -> Any:
    """The trace a part's video shows, computed the way the scene computes it: the part's
    own input, else the one its scene class names (paths relative to the scene file),
    else the scene's ``default_preset``."""
    from backprop_core import load_config, load_preset, load_trace, run

    if part.trace is not None:
        return load_trace(part.trace)
    if part.config is not None:
        return run(load_config(part.config), source=str(part.config))
    named = scene_inputs(part.scene)
    if part.preset is None and isinstance(named.get("trace_file"), str):
        return load_trace(part.scene.parent / str(named["trace_file"]))
    if part.preset is None and isinstance(named.get("config_file"), str):
        path = part.scene.parent / str(named["config_file"])
        return run(load_config(path), source=str(path))
    preset = named.get("preset")
    name = part.preset or (preset if isinstance(preset, str) else scene_default_preset(part.scene))
    return run(load_preset(name), source=f"preset {name}")


def part_step(part: Part) -> tuple[int, int]:
    """The iteration and decimals a part's video shows: the part's, else its scene
    class's, else 1 and the handouts' default."""
    from backprop_lecture.handout import DEFAULT_DECIMALS

    named = scene_inputs(part.scene)
    iteration, decimals = named.get("iteration"), named.get("decimals")
    if part.iteration is not None or not isinstance(iteration, int):
        iteration = 1 if part.iteration is None else part.iteration
    if part.decimals is not None or not isinstance(decimals, int):
        decimals = DEFAULT_DECIMALS if part.decimals is None else part.decimals
    return iteration, decimals


def part_values(part: Part) -> tuple[Callable[[str], float], int]:
    """How ``part``'s placeholders are evaluated: on the trace and step its video shows,
    at its precision, with the names of :mod:`backprop_explain.explain`."""
    from backprop_explain.explain import evaluate

    trace = part_trace(part)
    iteration, decimals = part_step(part)
    step = trace.step(iteration)
    return (lambda expression: evaluate(trace, step, expression)), decimals


def write_handouts(parts: Sequence[Part], folder: Path) -> Path:
    """Each part's worked solution and exercise sheet, from the trace its video shows, at
    its iteration and precision: ``NN-scene.md``/``.tex`` and ``NN-scene-exercise.md``/``.tex``.
    """
    from backprop_lecture.handout import write_handout

    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        trace = part_trace(part)
        iteration, decimals = part_step(part)
        for blank, suffix in ((False, ""), (True, "-exercise")):
            for ext in (".md", ".tex"):
                path = folder / f"{part.name}{suffix}{ext}"
                write_handout(trace, path, iteration, decimals, blank, source=part.name)
    return folder


def build_lecture(
    lecture: Lecture,
    out: Path = DEFAULT_OUT,
    quality: str = "l",
    jobs: int | None = None,
    cwd: Path | None = None,
    on_event: Callable[[Part, str, int], None] | None = None,
    force: bool = False,
    voice: str | None = None,
    script: Path | None = None,
    note: Callable[[str], None] = lambda s: None,
    plans: Mapping[int, PartNarration] | None = None,
) -> LectureResult:
    """Render (or reuse) every part, then assemble the outputs; never raises for a failed
    part: failures are in the result, finished parts are kept in ``out/parts``.

    ``voice`` (a folder of recordings or ``"espeak"``) and ``script`` (an edited script)
    are prepared before anything renders (:func:`backprop_lecture.voice.prepare_narration`):
    a bad one raises :class:`BackpropError` then; ``plans`` are voice plans prepared
    already (the command prepares them before it shows progress)."""
    if quality not in QUALITIES:
        raise BackpropError(None, "--quality", f"must be one of {', '.join(QUALITIES)}")
    cwd = Path.cwd() if cwd is None else cwd
    jobs = jobs or default_jobs()
    started = time.perf_counter()
    # Claimed (checked and locked) before anything is rendered into it.
    with OutputFolder(out) as owned:
        cache = out / ".cache"
        from backprop_lecture.voice import prepare_narration

        if plans is None:
            plans = prepare_narration(lecture.parts, voice, script, cache, cwd, note, part_values)
        results = render_parts(lecture.parts, quality, jobs, cache, cwd, on_event, force, plans)
        join, written = assemble(lecture, results, out, owned)
        owned.complete = bool(written)
    return LectureResult(results, out, time.perf_counter() - started, join, written)


def iter_outputs(result: LectureResult) -> Iterator[str]:
    """Lines of the closing report: one per part, then the outputs or the failures."""
    for r in result.results:
        m = r.media
        what = f"{m.duration:6.1f} s of video" if m else ""
        yield f"{r.part.name:<14} {r.status:<8} {r.seconds:6.1f} s  {what}"
        if r.status == "failed":
            yield f"    {r.reason}" + (f" (log: {r.log})" if r.log else "")
