r"""``backprop lecture``: render a lecture's parts with manim and join them into one video.

A *lecture file* (TOML) lists the parts in order; each part is a scene file and the
``BACKPROP_*`` settings it reads::

    title = "Backpropagation in matrix form"

    [[parts]]
    scene = "delta"               # scenes/delta.py (a bare name), or a path to a .py file
    title = "Backpropagation, layer by layer"
    preset = "delta-demo"         # at most one of trace / preset / config
    iteration = 1                 # optional: BACKPROP_ITERATION
    decimals = 3                  # optional: BACKPROP_DECIMALS

Bare scene names resolve to ``scenes/NAME.py`` under the current directory (the project
checkout); paths, traces and configs resolve against the lecture file's folder. The
default lecture (``backprop_anim/lectures/default.toml``) lists scalar → chain → delta →
network → training and keeps the parts whose scene file exists.

Rendering drives ``manim render`` in one subprocess per part (stdin closed, its own
``--media_dir``, environment ``BACKPROP_*`` from the part), ``jobs`` at a time. A part is
cached under ``OUT/.cache/parts/`` keyed by a hash of everything its video depends on
(:func:`part_key`), so a second run re-renders only the parts that changed. Then the
finished parts are assembled into ``OUT``:

- ``lecture.mp4``: the parts' packets remuxed with shifted timestamps (no re-encoding)
  when their streams agree, else decoded and re-encoded once;
- ``lecture.srt``: every part's subcaptions, shifted by the part's start;
- ``chapters.txt``: ``HH:MM:SS title`` for every part and every section, and
  ``chapters-youtube.txt``, the subset a video platform accepts (≥ 10 s apart);
- ``stills/``: the last frame of every section, as PNG;
- ``preview.gif``: a few seconds of the delta part, small, for a course page;
- ``parts/``: each part's own video and subtitles;
- ``handouts/``: each part's worked solution and exercise sheet (:mod:`backprop_core.handout`);
- ``slides/``: a manim-slides presentation, one slide per section (:mod:`backprop_anim.slides`).

This module does not import manim (it only reads manim's outputs, with PyAV and Pillow),
so ``backprop lecture --help`` is instant and ``backprop_core`` stays manim-free.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from backprop_core import __version__
from backprop_core.config import preset_names
from backprop_core.errors import BackpropError

QUALITIES = {"l": "480p15", "m": "720p30", "h": "1080p60", "p": "1440p60", "k": "2160p60"}
"""manim's ``-q`` letters and the folder names it renders into."""

DEFAULT_OUT = Path("media/lecture")
DEFAULT_SCENE_ORDER = ("scalar", "chain", "delta", "network", "training")
PART_KEYS = ("scene", "title", "trace", "preset", "config", "iteration", "decimals")
TOP_KEYS = ("title", "parts")
MAX_DECIMALS = 8

MANIM_CACHE = False
"""Whether parts render with manim's own partial-movie cache.

Measured (see the report in ``benchmarks/lecture.py``): manim hashes every ``play`` before
rendering it, which costs more on a first render than the cache saves, and our part
cache already skips unchanged parts, so parts render with ``--disable_caching``.
"""

CACHE_FORMAT = "parts-v2"
"""Bumped when a cache entry's layout or meaning changes (this file is not in the key)."""

NOT_RENDERED = frozenset(
    {
        "lecture.py",
        "narration.py",
        "slides.py",
        "cli.py",
        "__main__.py",
        "handout.py",
        "gradcheck.py",
    }
)
"""Source files no scene's frames depend on (left out of :func:`part_key`)."""

PREVIEW_SCENE = "delta"
PREVIEW_SECONDS = 6.0
PREVIEW_FPS = 8
PREVIEW_WIDTH = 320

Status = Literal["cached", "rendered", "failed"]


# --- the lecture file ----------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part of a lecture: a scene file and the settings its render reads."""

    index: int
    """1-based position in the lecture."""
    scene: Path
    title: str
    trace: Path | None = None
    preset: str | None = None
    config: Path | None = None
    iteration: int | None = None
    decimals: int | None = None

    @property
    def name(self) -> str:
        """A short unique name for files: ``02-chain``."""
        return f"{self.index:02d}-{self.scene.stem}"

    def env(self) -> dict[str, str]:
        """The ``BACKPROP_*`` variables of this part (unset ones are absent)."""
        env: dict[str, str] = {}
        if self.trace is not None:
            env["BACKPROP_TRACE"] = str(self.trace)
        if self.preset is not None:
            env["BACKPROP_PRESET"] = self.preset
        if self.config is not None:
            env["BACKPROP_CONFIG"] = str(self.config)
        if self.iteration is not None:
            env["BACKPROP_ITERATION"] = str(self.iteration)
        if self.decimals is not None:
            env["BACKPROP_DECIMALS"] = str(self.decimals)
        return env


@dataclass(frozen=True)
class Lecture:
    title: str
    parts: tuple[Part, ...]
    source: str
    skipped: tuple[str, ...] = ()
    """Scenes of the default lecture left out because their file does not exist yet."""


def default_lecture_path() -> Path:
    """The lecture shipped with the package."""
    return Path(str(resources.files("backprop_anim").joinpath("lectures/default.toml")))


def _scene_names(scenes_dir: Path) -> str:
    names = sorted(p.stem for p in scenes_dir.glob("*.py") if not p.name.startswith("_"))
    return ", ".join(names) if names else "none"


def load_lecture(path: str | Path | None = None, cwd: Path | None = None) -> Lecture:
    """Read and validate a lecture file (``None``: the default lecture).

    Every error is a :class:`BackpropError` naming the file and the field
    (``parts[2].scene``), raised before anything is rendered.
    """
    cwd = Path.cwd() if cwd is None else cwd
    is_default = path is None
    file = default_lecture_path() if path is None else Path(path)
    source = "default lecture" if is_default else str(file)
    if not file.is_file():
        raise BackpropError(source, None, "file not found; check the path")
    try:
        doc = tomllib.loads(file.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BackpropError(source, None, f"not valid TOML ({exc})") from None
    for key in doc:
        if key not in TOP_KEYS:
            raise BackpropError(
                source, key, f"unknown setting; a lecture has {' and '.join(TOP_KEYS)}"
            )
    title = doc.get("title", "Lecture")
    if not isinstance(title, str):
        raise BackpropError(source, "title", f"must be text, got {title!r}")
    raw_parts = doc.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise BackpropError(source, "parts", "missing or empty; add [[parts]] tables")
    base = file.parent
    parts: list[Part] = []
    skipped: list[str] = []
    for i, raw in enumerate(raw_parts):
        part = _parse_part(raw, i, source, base, cwd, is_default)
        if part is None:
            skipped.append(str(raw.get("scene")))
            continue
        parts.append(part)
    if not parts:
        raise BackpropError(
            source, "parts", f"none of the scenes exists yet in {cwd / 'scenes'}; write one first"
        )
    parts = [_renumber(p, i) for i, p in enumerate(parts, start=1)]
    return Lecture(title, tuple(parts), source, tuple(skipped))


def _renumber(part: Part, index: int) -> Part:
    return Part(
        index,
        part.scene,
        part.title,
        part.trace,
        part.preset,
        part.config,
        part.iteration,
        part.decimals,
    )


def _parse_part(
    raw: Any, i: int, source: str, base: Path, cwd: Path, is_default: bool
) -> Part | None:
    where = f"parts[{i}]"

    def fail(key: str | None, message: str) -> BackpropError:
        return BackpropError(source, f"{where}.{key}" if key else where, message)

    if not isinstance(raw, dict):
        raise fail(None, "must be a table ([[parts]])")
    for key in raw:
        if key not in PART_KEYS:
            raise fail(key, f"unknown setting; a part has {', '.join(PART_KEYS)}")
    scene_raw = raw.get("scene")
    if not isinstance(scene_raw, str) or not scene_raw:
        raise fail("scene", "missing; name a scene (delta) or a scene file (scenes/delta.py)")
    if scene_raw.endswith(".py") or "/" in scene_raw:
        scene = (base / scene_raw).resolve()
    else:
        scene = (cwd / "scenes" / f"{scene_raw}.py").resolve()
    if not scene.is_file():
        if is_default:
            return None
        raise fail(
            "scene",
            f"unknown scene {scene_raw!r}: no file {scene}; "
            f"scenes in {cwd / 'scenes'}: {_scene_names(cwd / 'scenes')}",
        )
    title = raw.get("title", scene.stem.replace("_", " ").capitalize())
    if not isinstance(title, str):
        raise fail("title", f"must be text, got {title!r}")
    given = [k for k in ("trace", "preset", "config") if k in raw]
    if len(given) > 1:
        raise fail(" and ".join(given), "set only one of them")
    trace = config = None
    preset = None
    for key in given:
        value = raw[key]
        if not isinstance(value, str) or not value:
            raise fail(key, f"must be text, got {value!r}")
        if key == "preset":
            if value not in preset_names():
                raise fail(
                    key, f"unknown preset {value!r}; choose one of {', '.join(preset_names())}"
                )
            preset = value
            continue
        file = (base / value).resolve()
        if not file.is_file():
            raise fail(key, f"file not found: {file}")
        if key == "trace":
            if file.suffix.lower() not in (".json", ".npz"):
                raise fail(key, f"a trace is a .json or .npz file, got {file.name}")
            trace = file
        else:
            config = file
    iteration = _integer(raw, "iteration", 1, None, fail)
    decimals = _integer(raw, "decimals", 0, MAX_DECIMALS, fail)
    return Part(i + 1, scene, title, trace, preset, config, iteration, decimals)


def _integer(
    raw: dict[str, Any],
    key: str,
    low: int,
    high: int | None,
    fail: Callable[[str | None, str], BackpropError],
) -> int | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(key, f"must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise fail(key, f"must be {bound}, got {value}")
    return value


# --- the part cache ------------------------------------------------------------------------


def _kit_files() -> list[Path]:
    """Source files every scene depends on: the scene kit and the engine.

    The command-line and lecture machinery (:data:`NOT_RENDERED`) are left out: editing
    them does not change a single frame, so it must not re-render every part.
    """
    import backprop_core

    anim = Path(__file__).resolve().parent
    core = Path(backprop_core.__file__).resolve().parent
    files = [p for p in anim.glob("*") if p.suffix in (".py", ".tex")]
    files += [p for p in core.rglob("*") if p.suffix in (".py", ".toml")]
    return sorted(p for p in files if p.name not in NOT_RENDERED)


def project_root(scene: Path, cwd: Path) -> Path:
    """Where manim runs for ``scene``: the nearest folder above it with a ``manim.cfg``
    (our TeX template lives there), else the current directory."""
    for folder in scene.parents:
        if (folder / "manim.cfg").is_file():
            return folder
    return cwd


def part_key(part: Part, quality: str, cwd: Path) -> str:
    """A hash of everything the part's video depends on.

    The scene file's bytes, the kit's and engine's sources, the trace or config bytes,
    the settings, the quality, manim's config file, and the package and manim versions.
    """
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    add("version", f"{__version__} manim {_manim_version()} {CACHE_FORMAT} {MANIM_CACHE}".encode())
    add("scene", part.scene.read_bytes())
    for f in _kit_files():
        add(f"kit {f.name}", f.read_bytes())
    root = project_root(part.scene, cwd)
    cfg = root / "manim.cfg"
    add("manim.cfg", cfg.read_bytes() if cfg.is_file() else b"")
    for label, file in (("trace", part.trace), ("config", part.config)):
        if file is not None:
            add(label, file.read_bytes())
    settings = {
        k: v for k, v in part.env().items() if k not in ("BACKPROP_TRACE", "BACKPROP_CONFIG")
    }
    add("settings", json.dumps(settings, sort_keys=True).encode())
    add("quality", quality.encode())
    return h.hexdigest()[:20]


def _manim_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("manim")
    except PackageNotFoundError:
        return "missing"


@dataclass
class Section:
    """A section of a part (one beat): its name, clip, frames and still."""

    name: str
    video: str
    frames: int
    still: str


@dataclass
class PartMedia:
    """A finished part in the cache: what the assembly step needs, from ``meta.json``."""

    folder: Path
    scene_class: str
    fps: Fraction
    frames: int
    sections: list[Section]
    animations: int
    render_seconds: float
    has_srt: bool

    @property
    def video(self) -> Path:
        return self.folder / "video.mp4"

    @property
    def srt(self) -> Path:
        return self.folder / "video.srt"

    @property
    def duration(self) -> float:
        return float(self.frames / self.fps)

    def to_json(self) -> dict[str, Any]:
        return {
            "scene_class": self.scene_class,
            "fps": str(self.fps),
            "frames": self.frames,
            "sections": [s.__dict__ for s in self.sections],
            "animations": self.animations,
            "render_seconds": self.render_seconds,
            "has_srt": self.has_srt,
        }

    @classmethod
    def load(cls, folder: Path) -> PartMedia:
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        return cls(
            folder,
            meta["scene_class"],
            Fraction(meta["fps"]),
            meta["frames"],
            [Section(**s) for s in meta["sections"]],
            meta["animations"],
            meta["render_seconds"],
            meta["has_srt"],
        )


@dataclass
class PartResult:
    part: Part
    status: Status
    media: PartMedia | None = None
    seconds: float = 0.0
    reason: str = ""
    log: Path | None = None


# --- rendering -----------------------------------------------------------------------------

_ANIMATION = re.compile(rb"Animation (\d+)")


def manim_command(part: Part, quality: str, media_dir: Path) -> list[str]:
    """The ``manim render`` command of one part (sections on, one media folder per part)."""
    cmd = [
        sys.executable,
        "-m",
        "manim",
        "render",
        f"-q{quality}",
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


def part_environment(part: Part) -> dict[str, str]:
    """The process environment of a render: ours without ``BACKPROP_*``, plus the part's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env.update(part.env())
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
) -> PartResult:
    """Render one part unless the cache has it; never raises for a failed render.

    ``on_event(part, status, animations)`` reports progress: ``"rendering"`` with the
    number of animations started so far, then ``"cached"``, ``"rendered"`` or ``"failed"``.
    """
    started = time.perf_counter()
    notify = on_event or (lambda p, s, n: None)
    try:
        key = part_key(part, quality, cwd)
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

    work = cache / "work" / part.name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    log_path = cache / "logs" / f"{part.name}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    notify(part, "rendering", 0)
    proc = subprocess.Popen(
        manim_command(part, quality, work.resolve()),
        cwd=project_root(part.scene, cwd),
        env=part_environment(part),
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
        shutil.rmtree(work, ignore_errors=True)  # partial movies; the log says why
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
    shutil.rmtree(work, ignore_errors=True)
    notify(part, "rendered", animations)
    return PartResult(part, "rendered", media, seconds, log=log_path)


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
            p.index: pool.submit(render_part, p, quality, cache, cwd, on_event, force)
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
    _write_text(cache / "times.json", json.dumps(times, indent=1, sort_keys=True))


def default_jobs() -> int:
    """The cores this process may use (manim renders a part on one core)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# --- reading and joining videos (PyAV) -----------------------------------------------------


def video_frames(path: Path) -> tuple[Fraction, int]:
    """``(frames per second, number of frames)`` of a video's first stream."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rate = Fraction(s.base_rate or s.average_rate or 0)
        frames = s.frames or sum(1 for _ in c.demux(s) if _.size)
        return rate, int(frames)


def last_frame(path: Path) -> Any:
    """The last frame of a video as a Pillow image (seek near the end, decode the rest)."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        if s.duration:
            c.seek(s.duration, stream=s, backward=True, any_frame=False)
        frames = deque(c.decode(s), maxlen=1)
        if not frames:  # seeking failed: decode from the start
            c.seek(0)
            frames = deque(c.decode(s), maxlen=1)
        if not frames:
            raise ValueError(f"{path} has no frames")
        frame = frames[0]
        return frame.to_image()  # type: ignore[no-untyped-call]


STILL_INK = 0.9
"""A section's still is its last frame holding at least this share of the section's
fullest frame's ink (non-background pixels); see :func:`section_still`."""


def _luma(frame: Any) -> Any:
    """The luma plane sampled every 4th pixel (no colour conversion: this runs on every
    frame of every section)."""
    import numpy as np

    plane = frame.planes[0]
    luma = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
    return luma[::4, : plane.width : 4].astype(np.int16)


def section_still(path: Path) -> Any:
    """The still of a section: its finished board, usually its last frame.

    A beat often ends by fading its board out, may begin with the previous beat's board
    still on screen, and a still caught mid-transform shows half-moved symbols: none of
    these makes a slide or a thumbnail. So the still is the last *settled* frame (equal
    to the frame before it: a hold, or the end of an animation) of the section's second
    half whose ink (non-background pixels) is at least :data:`STILL_INK` of the fullest
    such frame. Without settled frames there, settled frames anywhere; without those,
    any frame. One pass: the latest frame above the threshold of the fullest frame *so
    far* is, at the end, the latest above the final threshold (a later, fuller frame
    would have replaced it).
    """
    import av

    # (late and settled, settled, any) -> (top ink so far, chosen frame)
    best: dict[str, tuple[float, Any]] = {}
    previous = None
    with av.open(str(path)) as c:
        half = (c.streams.video[0].frames or 0) // 2
        for i, frame in enumerate(c.decode(video=0)):
            luma = _luma(frame)
            settled = previous is not None and float(abs(luma - previous).mean()) < 0.02
            previous = luma
            ink = float((luma > 32).mean())
            kinds = ["any"] + (["settled"] if settled else [])
            kinds += ["late"] if settled and i >= half else []
            for kind in kinds:
                top, chosen = best.get(kind, (0.0, None))
                top = max(top, ink)
                best[kind] = (top, frame if ink >= STILL_INK * top else chosen)
    for kind in ("late", "settled", "any"):
        if kind in best:
            return best[kind][1].to_image()
    raise ValueError(f"{path} has no frames")


def _signature(stream: Any) -> tuple[Any, ...]:
    cc = stream.codec_context
    return (
        cc.name,
        cc.width,
        cc.height,
        cc.pix_fmt,
        Fraction(stream.base_rate or 0),
        stream.time_base,
        bytes(cc.extradata or b""),
    )


def join_videos(inputs: Sequence[Path], out: Path) -> str:
    """Join videos in order into ``out``; returns ``"remux"`` or ``"re-encode"``.

    When every input's stream has the same codec, size, pixel format, frame rate, time
    base and codec headers (all parts rendered at one quality do), packets are copied with
    their timestamps shifted by the duration of the parts before them: no quality loss and
    about as fast as copying the files. Otherwise the frames are decoded and re-encoded.
    """
    import av

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.mp4")
    containers = [av.open(str(p)) for p in inputs]
    try:
        streams = [c.streams.video[0] for c in containers]
        same = len({_signature(s) for s in streams}) == 1
        with av.open(str(tmp), "w") as output:
            if same:
                _remux(containers, streams, output)
            else:
                _reencode(containers, streams, output)
        os.replace(tmp, out)
    finally:
        for c in containers:
            c.close()
        tmp.unlink(missing_ok=True)
    return "remux" if same else "re-encode"


def _remux(containers: Sequence[Any], streams: Sequence[Any], output: Any) -> None:
    ostream = output.add_stream_from_template(streams[0])
    offset = 0
    for c, s in zip(containers, streams, strict=True):
        packets = [p for p in c.demux(s) if p.dts is not None]
        if not packets:
            continue
        start = min(p.pts for p in packets if p.pts is not None)
        end = max(p.pts + (p.duration or 0) for p in packets if p.pts is not None)
        # A part lasts its frame count at the nominal rate (the last frame's packet may be
        # a few ticks short), so part starts here agree with the subtitles and chapters.
        ticks = len(packets) / (Fraction(s.base_rate or 1) * s.time_base)
        length = int(ticks) if ticks.denominator == 1 else end - start
        for p in packets:
            p.pts = p.pts - start + offset
            p.dts = p.dts - start + offset
            p.stream = ostream
            output.mux(p)
        offset += length


def _reencode(containers: Sequence[Any], streams: Sequence[Any], output: Any) -> None:
    first = streams[0]
    rate = Fraction(first.base_rate or 15)
    ostream = output.add_stream("libx264", rate=rate)
    ostream.width = first.codec_context.width
    ostream.height = first.codec_context.height
    ostream.pix_fmt = "yuv420p"
    index = 0
    for c, s in zip(containers, streams, strict=True):
        for frame in c.decode(s):
            frame = frame.reformat(width=ostream.width, height=ostream.height, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1) / rate
            index += 1
            for packet in ostream.encode(frame):
                output.mux(packet)
    for packet in ostream.encode(None):
        output.mux(packet)


def video_duration(path: Path) -> float:
    """Seconds of video in a file, from its frame count and rate."""
    rate, frames = video_frames(path)
    return float(frames / rate)


# --- subtitles and chapters ----------------------------------------------------------------

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
    return "".join(
        f"{i}\n{srt_time(s.start)} --> {srt_time(s.end)}\n{s.text}\n\n"
        for i, s in enumerate(subs, start=1)
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
    """``(start, title, is_part)`` for every part and every section, the part first."""
    out: list[tuple[float, str, bool]] = []
    for part, m, start, starts in zip(
        parts, media, line.part_starts, line.section_starts, strict=True
    ):
        out.append((start, part.title, True))
        for sec, s in zip(m.sections, starts, strict=True):
            out.append((s, f"{part.title}: {sec.name.replace('_', ' ')}", False))
    return out


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


# --- the preview GIF -----------------------------------------------------------------------


def preview_gif(
    video: Path,
    out: Path,
    start: float = 0.0,
    seconds: float = PREVIEW_SECONDS,
    fps: int = PREVIEW_FPS,
    width: int = PREVIEW_WIDTH,
) -> int:
    """A short, small looping GIF from ``video`` (frames scaled down by PyAV, written by
    Pillow); returns the number of frames. Much lighter than manim's own GIF writer."""
    import av

    images = []
    with av.open(str(video)) as c:
        s = c.streams.video[0]
        rate = float(s.base_rate or 15)
        step = max(1, round(rate / fps))
        first = int(start * rate)
        count = int(seconds * rate)
        height = 0
        for i, frame in enumerate(c.decode(s)):
            if i < first:
                continue
            if i >= first + count:
                break
            if (i - first) % step:
                continue
            if not height:
                height = round(frame.height * width / frame.width / 2) * 2
            small = frame.reformat(width=width, height=height, format="rgb24")
            images.append(small.to_image())  # type: ignore[no-untyped-call]
    if not images:
        raise ValueError(f"{video} has no frames after {start:.1f} s")
    palette = [im.quantize(colors=64) for im in images]
    tmp = out.with_name(f".{out.name}.tmp")
    palette[0].save(
        tmp,
        format="GIF",
        save_all=True,
        append_images=palette[1:],
        duration=round(1000 * step / rate),
        loop=0,
        optimize=True,
    )
    os.replace(tmp, out)
    return len(images)


# --- the whole command ---------------------------------------------------------------------


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
    lecture: Lecture, results: Sequence[PartResult], out: Path, narrate: bool = False
) -> tuple[str, list[Path]]:
    """Write the joined video, subtitles, chapters, stills and preview into ``out``;
    with ``narrate``, the subtitles spoken by espeak-ng become the video's audio track."""
    media = [r.media for r in results if r.media is not None]
    parts = [r.part for r in results if r.media is not None]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    # Each part on its own (kept even if another part failed).
    parts_dir = out / "parts"
    parts_dir.mkdir(exist_ok=True)
    for p, m in zip(parts, media, strict=True):
        _copy(m.video, parts_dir / f"{p.name}.mp4")
        if m.has_srt:
            _copy(m.srt, parts_dir / f"{p.name}.srt")
    if len(media) != len(results):
        return "", written
    line = timeline(media)
    join = join_videos([m.video for m in media], out / "lecture.mp4")
    written.append(out / "lecture.mp4")
    subs = joined_subtitles(media, line)
    if narrate:
        from backprop_anim.narration import narrate as speak_into

        speak_into(out / "lecture.mp4", [(s.start, s.end, s.text) for s in subs], line.total)
        join += " + narration"
    _write_text(out / "lecture.srt", compose_srt(subs))
    _write_text(out / "chapters.txt", chapters(parts, media, line))
    _write_text(
        out / "chapters-youtube.txt", platform_chapters(chapter_entries(parts, media, line))
    )
    written += [out / "lecture.srt", out / "chapters.txt"]
    stills = out / "stills"
    shutil.rmtree(stills, ignore_errors=True)
    stills.mkdir()
    for p, m in zip(parts, media, strict=True):
        for i, sec in enumerate(m.sections):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", sec.name).strip("-").lower() or "section"
            _copy(m.folder / "stills" / sec.still, stills / f"{p.name}-{i + 1:02d}-{slug}.png")
    written.append(stills)
    from backprop_anim.slides import write_presentation

    written.append(write_presentation(media, out / "slides"))
    written.append(write_handouts(parts, out / "handouts"))
    k = next((i for i, p in enumerate(parts) if p.scene.stem == PREVIEW_SCENE), 0)
    secs = line.section_starts[k]
    start = (secs[1] - line.part_starts[k]) if len(secs) > 1 else 0.0
    preview_gif(media[k].video, out / "preview.gif", start=start)
    written.append(out / "preview.gif")
    return join, written


def scene_default_preset(scene: Path) -> str:
    """The ``default_preset`` a scene file's class sets (read from its source, not
    imported: importing would import manim), else the kit's default."""
    import ast

    for node in ast.walk(ast.parse(scene.read_text("utf-8"))):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if (
                    isinstance(stmt, ast.Assign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "default_preset" for t in stmt.targets
                    )
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                ):
                    return stmt.value.value
    return "delta-demo"


def part_trace(part: Part) -> Any:
    """The trace a part's video shows, computed the way the scene computes it."""
    from backprop_core import load_config, load_preset, load_trace, run

    if part.trace is not None:
        return load_trace(part.trace)
    if part.config is not None:
        return run(load_config(part.config), source=str(part.config))
    name = part.preset or scene_default_preset(part.scene)
    return run(load_preset(name), source=f"preset {name}")


def write_handouts(parts: Sequence[Part], folder: Path) -> Path:
    """Each part's worked solution and exercise sheet, from the trace its video shows, at
    its iteration and precision: ``NN-scene.md``/``.tex`` and ``NN-scene-exercise.md``/``.tex``.
    """
    from backprop_core.handout import DEFAULT_DECIMALS, write_handout

    folder.mkdir(parents=True, exist_ok=True)
    for part in parts:
        trace = part_trace(part)
        decimals = DEFAULT_DECIMALS if part.decimals is None else part.decimals
        iteration = 1 if part.iteration is None else part.iteration
        for blank, suffix in ((False, ""), (True, "-exercise")):
            for ext in (".md", ".tex"):
                path = folder / f"{part.name}{suffix}{ext}"
                write_handout(trace, path, iteration, decimals, blank, source=part.name)
    return folder


def _copy(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)


def build_lecture(
    lecture: Lecture,
    out: Path = DEFAULT_OUT,
    quality: str = "l",
    jobs: int | None = None,
    cwd: Path | None = None,
    on_event: Callable[[Part, str, int], None] | None = None,
    force: bool = False,
    narrate: bool = False,
) -> LectureResult:
    """Render (or reuse) every part, then assemble the outputs; never raises for a failed
    part: failures are in the result, finished parts are kept in ``out/parts``."""
    if quality not in QUALITIES:
        raise BackpropError(None, "--quality", f"must be one of {', '.join(QUALITIES)}")
    cwd = Path.cwd() if cwd is None else cwd
    jobs = jobs or default_jobs()
    started = time.perf_counter()
    cache = out / ".cache"
    results = render_parts(lecture.parts, quality, jobs, cache, cwd, on_event, force)
    join, written = assemble(lecture, results, out, narrate)
    return LectureResult(results, out, time.perf_counter() - started, join, written)


# --- progress display ----------------------------------------------------------------------


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


def iter_outputs(result: LectureResult) -> Iterator[str]:
    """Lines of the closing report: one per part, then the outputs or the failures."""
    for r in result.results:
        m = r.media
        what = f"{m.duration:6.1f} s of video" if m else ""
        yield f"{r.part.name:<14} {r.status:<8} {r.seconds:6.1f} s  {what}"
        if r.status == "failed":
            yield f"    {r.reason}" + (f" (log: {r.log})" if r.log else "")
