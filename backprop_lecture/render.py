"""Rendering parts: one ``manim render`` process per part, ``jobs`` at a time, longest first."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from backprop_core.errors import BackpropError
from backprop_core.files import write_text_atomically
from backprop_lecture.audio import add_section_audio
from backprop_lecture.cache import (
    MANIM_CACHE,
    PartMedia,
    PartNarration,
    Section,
    part_key,
    project_root,
)
from backprop_lecture.media import section_still, video_frames
from backprop_lecture.spec import QUALITIES, Lecture, Part

Status = Literal["cached", "rendered", "failed"]


@dataclass
class PartResult:
    part: Part
    status: Status
    media: PartMedia | None = None
    seconds: float = 0.0
    reason: str = ""
    log: Path | None = None


_ANIMATION = re.compile(rb"Animation (\d+)")


MAX_INFLIGHT_ENCODERS = 4
"""The repository's ``manim.cfg`` setting (measured there), passed as a flag outside it."""


def tex_template() -> Path:
    """The project's TeX template (``backprop_anim/tex_template.tex``), found without
    importing the kit: a small LaTeX install (article + preview, see ``run.sh``) instead
    of manim's default ``standalone`` class, which the project does not install."""
    spec = importlib.util.find_spec("backprop_anim")
    if spec is None or not spec.submodule_search_locations:
        raise BackpropError(None, None, "the scene kit backprop_anim is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "tex_template.tex"


def project_flags() -> list[str]:
    """The project's manim settings as flags, so they apply wherever manim runs.

    Flags win over every ``manim.cfg`` (manim reads the library's, then
    ``~/.config/manim/manim.cfg``, then the working directory's, then the flags), so a
    ``manim.cfg`` in the working directory still sets everything else: background
    colour, codec, pixel format.
    """
    return [
        "--tex_template",
        str(tex_template()),
        "--max-inflight-encoders",
        str(MAX_INFLIGHT_ENCODERS),
    ]


def manim_command(part: Part, quality: str, media_dir: Path) -> list[str]:
    """The ``manim render`` command of one part (sections on, one media folder per part)."""
    cmd = [
        sys.executable,
        "-m",
        "manim",
        "render",
        f"-q{quality}",
        *project_flags(),
        "--save_sections",
        "--media_dir",
        str(media_dir),
        "-v",
        "WARNING",
        "--progress_bar",
        "display",
    ]
    if not MANIM_CACHE:
        cmd.append("--disable_caching")
    return [*cmd, str(part.scene)]


def part_environment(part: Part, narration: PartNarration | None = None) -> dict[str, str]:
    """The process environment of a render: ours without ``BACKPROP_*`` (but
    ``BACKPROP_FAST``, which changes how a scene renders, not what it shows), plus the
    part's (and ``BACKPROP_CUES``, its voice plan, when it has one)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_") or k == "BACKPROP_FAST"
    }
    env.update(part.env())
    if narration is not None:
        env["BACKPROP_CUES"] = str(narration.plan)
    return env


def failure_reason(log: str) -> str:
    """The one line that says why a render failed (our one-line error, or the exception)."""
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", log) if ln.strip()]
    for ln in reversed(lines):
        if ln.startswith("backprop: error:"):
            return ln.removeprefix("backprop: error:").strip()
    for ln in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln) or re.search(r"\w+Error: ", ln):
            return ln.strip("│ ").strip()
    return lines[-1].strip("│ ").strip() if lines else "manim exited without output"


def render_part(
    part: Part,
    quality: str,
    cache: Path,
    cwd: Path,
    on_event: Callable[[Part, str, int], None] | None = None,
    force: bool = False,
    narration: PartNarration | None = None,
) -> PartResult:
    """Render one part unless the cache has it; never raises for a failed render.

    ``on_event(part, status, animations)`` reports progress: ``"rendering"`` with the
    number of animations started so far, then ``"cached"``, ``"rendered"`` or ``"failed"``.
    """
    started = time.perf_counter()
    notify = on_event or (lambda p, s, n: None)
    try:
        key = part_key(part, quality, cwd, narration.key if narration else b"")
    except OSError as exc:
        notify(part, "failed", 0)
        return PartResult(part, "failed", reason=f"cannot read an input: {exc}")
    entry = cache / "parts" / f"{part.name}-{key}"
    if not force and (entry / "meta.json").is_file():
        try:
            media = PartMedia.load(entry)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged entry: render again
        else:
            notify(part, "cached", media.animations)
            return PartResult(part, "cached", media, time.perf_counter() - started)

    # The part's media folder stays between runs: manim's partial movies (reused when
    # MANIM_CACHE) and its TeX cache make a re-render after an edit much cheaper. Only the
    # last run's finished outputs are cleared, so the new ones are unambiguous.
    work = cache / "work" / part.name
    if force:
        shutil.rmtree(work, ignore_errors=True)
    clear_outputs(work)
    work.mkdir(parents=True, exist_ok=True)
    log_path = cache / "logs" / f"{part.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    notify(part, "rendering", 0)
    proc = subprocess.Popen(
        manim_command(part, quality, work.resolve()),
        cwd=project_root(part.scene, cwd),
        env=part_environment(part, narration),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    animations = 0
    chunks: list[bytes] = []
    stream = proc.stdout
    assert stream is not None
    for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
        chunks.append(chunk)
        found = _ANIMATION.findall(chunk)
        if found:
            animations = max(animations, max(int(n) for n in found) + 1)
            notify(part, "rendering", animations)
    code = proc.wait()
    log = b"".join(chunks).decode("utf-8", "replace")
    log_path.write_text(log, "utf-8")
    seconds = time.perf_counter() - started
    if code != 0:
        notify(part, "failed", animations)
        return PartResult(part, "failed", None, seconds, failure_reason(log), log_path)
    try:
        media = _collect(work, entry, quality, animations, seconds)
    except (OSError, ValueError, KeyError) as exc:
        notify(part, "failed", animations)
        return PartResult(
            part, "failed", None, seconds, f"unreadable manim output: {exc}", log_path
        )
    for old in (cache / "parts").glob(f"{part.name}-*"):
        if old != entry:
            shutil.rmtree(old, ignore_errors=True)
    notify(part, "rendered", animations)
    return PartResult(part, "rendered", media, seconds, log=log_path)


def clear_outputs(work: Path) -> None:
    """Remove a media folder's finished videos, subtitles and section clips, keeping
    manim's caches (``partial_movie_files/``, ``Tex/``, ``texts/``)."""
    for folder in work.glob("videos/*/*"):
        for f in [*folder.glob("*.mp4"), *folder.glob("*.srt")]:
            f.unlink()
        shutil.rmtree(folder / "sections", ignore_errors=True)


def _collect(work: Path, entry: Path, quality: str, animations: int, seconds: float) -> PartMedia:
    """Move a finished render's video, subtitles and sections into its cache entry."""
    videos = [p for p in (work / "videos").glob(f"*/{QUALITIES[quality]}/*.mp4")]
    if len(videos) != 1:
        raise ValueError(f"expected one video in {work / 'videos'}, found {len(videos)}")
    video = videos[0]
    scene_class = video.stem
    index_file = video.parent / "sections" / f"{scene_class}.json"
    index = json.loads(index_file.read_text("utf-8")) if index_file.is_file() else []
    tmp = entry.with_name(entry.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "sections").mkdir(parents=True)
    (tmp / "stills").mkdir()
    shutil.move(str(video), tmp / "video.mp4")
    srt = video.with_suffix(".srt")
    has_srt = srt.is_file()
    if has_srt:
        shutil.move(str(srt), tmp / "video.srt")
    fps, frames = video_frames(tmp / "video.mp4")
    sections: list[Section] = []
    for i, s in enumerate(index):
        clip = f"{i:03d}.mp4"
        shutil.move(str(video.parent / "sections" / s["video"]), tmp / "sections" / clip)
        still = f"{i:03d}.png"
        section_still(tmp / "sections" / clip).save(tmp / "stills" / still)
        sections.append(Section(str(s["name"]), clip, int(s["nb_frames"]), still))
    # manim writes section clips without sound: each gets its slice of the part's audio.
    add_section_audio(
        tmp / "video.mp4", [(tmp / "sections" / s.video, s.frames) for s in sections], fps
    )
    if not sections:  # a scene without sections is one section
        section_still(tmp / "video.mp4").save(tmp / "stills" / "000.png")
        sections.append(Section(scene_class, "", frames, "000.png"))
    media = PartMedia(entry, scene_class, fps, frames, sections, animations, seconds, has_srt)
    (tmp / "meta.json").write_text(json.dumps(media.to_json(), indent=2), "utf-8")
    shutil.rmtree(entry, ignore_errors=True)
    tmp.rename(entry)
    return media


def render_parts(
    parts: Sequence[Part],
    quality: str,
    jobs: int,
    cache: Path,
    cwd: Path,
    on_event: Callable[[Part, str, int], None] | None = None,
    force: bool = False,
    narration: Mapping[int, PartNarration] | None = None,
) -> list[PartResult]:
    """Render ``parts`` ``jobs`` at a time (threads waiting on manim processes).

    Parts start longest first (the classic longest-processing-time rule), by their last
    render time; parts never rendered go first, largest scene file first (a rough proxy
    for length). With two workers the long delta part then overlaps all the short ones
    instead of starting last and running alone. Results come back in lecture order.
    """
    history = _load_times(cache)

    def expected(p: Part) -> tuple[bool, float]:
        known = history.get(_time_key(p, quality))
        return (known is not None, -(known if known is not None else p.scene.stat().st_size))

    order = sorted(parts, key=expected)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            p.index: pool.submit(
                render_part, p, quality, cache, cwd, on_event, force, (narration or {}).get(p.index)
            )
            for p in order
        }
        results = [futures[p.index].result() for p in parts]
    for r in results:
        if r.status == "rendered":
            history[_time_key(r.part, quality)] = round(r.seconds, 2)
    _save_times(cache, history)
    return results


def _time_key(part: Part, quality: str) -> str:
    return f"{part.scene} -q{quality}"


def _load_times(cache: Path) -> dict[str, float]:
    try:
        data = json.loads((cache / "times.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _save_times(cache: Path, times: dict[str, float]) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    write_text_atomically(cache / "times.json", json.dumps(times, indent=1, sort_keys=True))


def default_jobs() -> int:
    """The cores this process may use (manim renders a part on one core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ProgressBoard:
    """A live rich display: one line per part with its status, animations and time."""

    def __init__(self, lecture: Lecture, console: Any) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(finished_text="•"),
            TextColumn("{task.description:<24}"),
            TextColumn("{task.fields[status]:<10}"),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks = {
            p.index: self.progress.add_task(
                f"{p.index}. {p.title}"[:24], total=None, status="queued", detail="", start=False
            )
            for p in lecture.parts
        }
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressBoard:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)  # type: ignore[arg-type]

    def event(self, part: Part, status: str, animations: int) -> None:
        task = self.tasks[part.index]
        with self._lock:
            detail = f"{animations} animations" if animations else ""
            if status == "rendering":
                self.progress.start_task(task)
                self.progress.update(task, status="rendering", detail=detail)
            else:
                self.progress.start_task(task)
                self.progress.update(task, status=status, detail=detail, total=1, completed=1)
                self.progress.stop_task(task)
