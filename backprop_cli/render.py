"""``backprop render SCENE``: one scene to a video from any folder, with typed options.

``SCENE`` is a packaged scene (``delta``: the repository's ``scenes/delta.py``, installed
as ``backprop_scenes``) or the path of a scene file of your own. The options are the
``BACKPROP_*`` settings a scene reads, checked here the way a config is checked (one line
naming the option, exit status 2) before manim starts. Then ``python -m manim render``
runs as a process in the current folder (stdin closed) with the project's TeX template and
settings as flags (:func:`backprop_lecture.render.project_flags`), so a ``manim.cfg`` in
the current folder still sets the rest (background colour, codec); see ``docs/render.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
from rich.console import Console

from backprop_cli.script import narration_options, prepare_plans
from backprop_core.config import Config, load_config, load_preset, preset_names
from backprop_core.errors import BackpropError
from backprop_core.io import load_trace
from backprop_lecture.build import scene_default_preset
from backprop_lecture.cache import PartNarration
from backprop_lecture.render import part_environment, project_flags
from backprop_lecture.spec import (
    MAX_DECIMALS,
    QUALITIES,
    Part,
    packaged_scene,
    packaged_scene_names,
    suggestion,
)

console = Console()
err_console = Console(stderr=True)


@dataclass(frozen=True)
class Request:
    """A checked ``backprop render``: what to render, with which settings, to where."""

    scene: Path
    part: Part
    quality: str
    out: Path
    kind: str
    """``"video"``, ``"gif"`` or ``"still"``."""
    sections: bool
    media_dir: Path


def resolve_scene(scene: str) -> Path:
    """A packaged scene's file (``delta``) or a scene file's path (``my/scene.py``)."""
    looks_like_path = scene.endswith(".py") or os.sep in scene or "/" in scene
    if looks_like_path or (Path(scene).is_file() and packaged_scene(scene) is None):
        path = Path(scene).expanduser()
        if not path.is_file():
            raise BackpropError(None, "SCENE", f"no scene file {path}; check the path")
        if path.suffix != ".py":
            raise BackpropError(None, "SCENE", f"a scene file ends in .py, got {path.name}")
        return path.resolve()
    found = packaged_scene(scene)
    if found is None:
        names = packaged_scene_names()
        raise BackpropError(
            None,
            "SCENE",
            f"unknown scene {scene!r}{suggestion(scene, names)}; packaged scenes: "
            f"{', '.join(names) or 'none'} (or give the path of a .py file)",
        )
    return found


def _is_recorded(k: int, config: Config) -> bool:
    """Whether iteration ``k`` is in a trace of ``config`` (1, every ``every``-th, the last)."""
    return 1 <= k <= config.iterations and (k in (1, config.iterations) or k % config.every == 0)


def check_inputs(
    scene: Path,
    preset: str | None,
    trace: Path | None,
    config: Path | None,
    iteration: int | None,
) -> tuple[Path | None, str | None, Path | None]:
    """Load what the scene will load, so a bad input fails here in one line."""
    given = [n for n, v in (("--preset", preset), ("--trace", trace), ("--config", config)) if v]
    if len(given) > 1:
        raise BackpropError(None, " and ".join(given), "give at most one of them")
    if trace is not None:
        loaded = load_trace(trace)
        if iteration is not None:
            try:
                loaded.step(iteration)
            except KeyError as exc:
                raise BackpropError(str(trace), "--iteration", str(exc.args[0])) from None
        return trace.resolve(), None, None
    if config is not None:
        cfg = load_config(config)
        source = str(config)
    else:
        name = preset if preset is not None else scene_default_preset(scene)
        if name not in preset_names():
            option = "--preset" if preset is not None else f"{scene.name}: default_preset"
            raise BackpropError(
                None,
                option,
                f"unknown preset {name!r}{suggestion(name, preset_names())}; "
                f"choose one of {', '.join(preset_names())}",
            )
        cfg = load_preset(name)
        source = f"preset {name}"
    if iteration is not None and not _is_recorded(iteration, cfg):
        raise BackpropError(
            source,
            "--iteration",
            f"iteration {iteration} is not recorded; recorded: 1, {max(2, cfg.every)}, "
            f"{2 * cfg.every if cfg.every > 1 else 3}, …, {cfg.iterations}",
        )
    return None, preset, config.resolve() if config is not None else None


def check_output(
    scene: Path, out: Path | None, still: Path | None, gif: bool, sections: bool
) -> tuple[Path, str]:
    """Where the result goes and what it is; wrong combinations fail in one line."""
    if still is not None:
        for flag, on in (("--gif", gif), ("--sections", sections), ("-o", out is not None)):
            if on:
                raise BackpropError(None, f"--still and {flag}", "a still is one PNG image")
        target, kind, suffix, option = still, "still", ".png", "--still"
    else:
        kind, suffix = ("gif", ".gif") if gif else ("video", ".mp4")
        target, option = (out if out is not None else Path(f"{scene.stem}{suffix}")), "-o"
    if target.suffix.lower() != suffix:
        raise BackpropError(None, option, f"must end in {suffix}, got {target.name}")
    if target.is_dir():
        raise BackpropError(None, option, f"{target} is a folder; name a {suffix} file")
    if not target.resolve().parent.is_dir():
        raise BackpropError(None, option, f"no folder {target.parent}; create it first")
    if any(c in str(target.resolve()) for c in "{}"):
        raise BackpropError(None, option, "manim cannot write to a path with { or }")
    return target.resolve(), kind


def build_request(
    scene: str,
    preset: str | None,
    trace: Path | None,
    config: Path | None,
    iteration: int | None,
    decimals: int | None,
    quality: str,
    out: Path | None,
    sections: bool,
    still: Path | None,
    gif: bool,
    media_dir: Path,
) -> Request:
    """Check every option (nothing renders yet): a :class:`Request`, or a BackpropError."""
    file = resolve_scene(scene)
    trace_file, preset, config_file = check_inputs(file, preset, trace, config, iteration)
    target, kind = check_output(file, out, still, gif, sections)
    part = Part(1, file, file.stem, trace_file, preset, config_file, iteration, decimals)
    return Request(file, part, quality, target, kind, sections, media_dir.resolve())


def manim_render_command(request: Request) -> list[str]:
    """The ``manim render`` process of a request."""
    cmd = [
        sys.executable,
        "-m",
        "manim",
        "render",
        f"-q{request.quality}",
        *project_flags(),
        "--media_dir",
        str(request.media_dir),
        "-o",
        str(request.out),
        "-v",
        "WARNING",
        "--progress_bar",
        "display" if sys.stderr.isatty() else "none",
    ]
    if request.kind == "still":
        cmd.append("--save_last_frame")
    if request.kind == "gif":
        cmd += ["--format", "gif"]
    if request.sections:
        cmd.append("--save_sections")
    return [*cmd, str(request.scene)]


def collect_sections(request: Request, since: float) -> Path | None:
    """Move the sections manim wrote into ``OUT_sections/`` beside the video, each with its
    slice of the video's sound (manim writes section clips silent)."""
    stem = request.out.stem
    indexes = [
        p
        for p in request.media_dir.rglob(f"sections/{stem}.json")
        if p.stat().st_mtime >= since - 1
    ]
    if not indexes:
        return None
    index = max(indexes, key=lambda p: p.stat().st_mtime)
    folder = request.out.with_name(f"{stem}_sections")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    entries = json.loads(index.read_text("utf-8"))
    for entry in entries:
        shutil.move(str(index.parent / entry["video"]), folder / entry["video"])
    shutil.move(str(index), folder / index.name)
    from backprop_lecture.audio import add_section_audio
    from backprop_lecture.media import video_frames

    fps, _ = video_frames(request.out)
    clips = [(folder / e["video"], int(e["nb_frames"])) for e in entries]
    add_section_audio(request.out, clips, fps)
    return folder


def run_render(request: Request, narration: PartNarration | None = None) -> int:
    """Render, show manim's progress, then say where everything went; the exit status."""
    what = {"video": "a video", "gif": "a GIF", "still": "a still"}[request.kind]
    inputs = ", ".join(f"{k}={v}" for k, v in request.part.env().items()) or "scene defaults"
    err_console.print(
        f"Rendering {what} of {request.scene} at {QUALITIES[request.quality]} ({inputs})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    started = time.time()
    # manim's own progress bars (on a terminal) are the progress display.
    proc = subprocess.run(
        manim_render_command(request),
        env=part_environment(request.part, narration),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if proc.returncode != 0:
        if proc.returncode != 2:  # 2: the scene already printed its one-line error
            err_console.print(
                f"backprop: error: {request.scene.name}: manim stopped with status "
                f"{proc.returncode}; its message is above",
                highlight=False,
                markup=False,
            )
        return proc.returncode
    if not request.out.is_file():
        err_console.print(
            f"backprop: error: manim finished but wrote no {request.out}",
            highlight=False,
            markup=False,
        )
        return 1
    label = {"video": "Video", "gif": "GIF", "still": "Still"}[request.kind]
    lines = [f"{label}: {request.out}"]
    if request.kind != "still":
        from backprop_lecture.media import video_frames

        fps, frames = video_frames(request.out)
        lines[0] += f" ({float(frames / fps):.1f} s)" if fps else ""
        srt = request.out.with_suffix(".srt")
        lines.append(f"Subtitles: {srt}" if srt.is_file() else "Subtitles: none (no beats)")
    if request.sections:
        folder = collect_sections(request, started)
        lines.append(f"Sections: {folder}" if folder else "Sections: none written")
    lines.append(f"manim's cache and logs: {request.media_dir}")
    for line in lines:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    return 0


@click.command("render")
@narration_options
@click.argument("scene", metavar="SCENE")
@click.option("--preset", "-p", help="A shipped preset, trained on the fly.")
@click.option(
    "--trace", "-t", "trace_path", type=click.Path(path_type=Path), help="A .json or .npz trace."
)
@click.option(
    "--config", "-c", "config_path", type=click.Path(path_type=Path), help="A TOML config."
)
@click.option("--iteration", "-k", type=int, default=None, help="The iteration explained.")
@click.option(
    "--decimals",
    type=click.IntRange(0, MAX_DECIMALS),
    default=None,
    help="Digits after the point (default: the scene's).",
)
@click.option(
    "-q",
    "--quality",
    type=click.Choice(list(QUALITIES)),
    default="l",
    show_default=True,
    help="manim's quality: l 480p15, m 720p30, h 1080p60, p 1440p60, k 2160p60.",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="The video (default: SCENE.mp4 here); subtitles go beside it as .srt.",
)
@click.option("--sections", is_flag=True, help="Also one clip per beat, in OUT_sections/.")
@click.option(
    "--still",
    type=click.Path(path_type=Path),
    default=None,
    help="Only the last frame, as this PNG.",
)
@click.option("--gif", is_flag=True, help="A GIF instead of an MP4 (-o then ends in .gif).")
@click.option(
    "--media-dir",
    type=click.Path(path_type=Path),
    default=Path("media"),
    show_default=True,
    help="manim's working folder (partial movies, TeX cache, kept between renders).",
)
def render_cmd(
    scene: str,
    preset: str | None,
    trace_path: Path | None,
    config_path: Path | None,
    iteration: int | None,
    decimals: int | None,
    quality: str,
    out: Path | None,
    sections: bool,
    still: Path | None,
    gif: bool,
    media_dir: Path,
    voice: str | None,
    script: Path | None,
) -> None:
    """Render SCENE (a packaged scene such as delta, or a scene file) from any folder.

    With --voice or --script the scene's cues are spoken (or re-worded) and the picture
    waits for every cue's voice; the video and its sections carry the sound."""
    request = build_request(
        scene,
        preset,
        trace_path,
        config_path,
        iteration,
        decimals,
        quality,
        out,
        sections,
        still,
        gif,
        media_dir,
    )
    plans = prepare_plans([request.part], voice, script, request.media_dir / "narration")
    code = run_render(request, plans.get(request.part.index))
    if code:
        sys.exit(code)
