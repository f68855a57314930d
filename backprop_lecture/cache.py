"""The part cache: a finished part is reused while nothing its video depends on changes.

An entry ``OUT/.cache/parts/NN-scene-KEY/`` holds the part's video, subtitles, section
clips, section stills and ``meta.json`` (written last: an entry without it is unfinished).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from backprop_core import __version__
from backprop_lecture.spec import Part

MANIM_CACHE = True
"""Whether parts render with manim's own partial-movie cache (each part keeps its media
folder under ``OUT/.cache/work/`` between runs).

Measured with ``benchmarks/lecture.py --manim-cache network`` (``scenes/network.py`` at
``-ql``, 25-31 animations, a shared 2-core machine, two runs at 20:22 and 20:26 UTC):
first render 27.8 / 37.1 s with ``--disable_caching`` against 26.9 / 31.5 s with the
cache, so no measurable hashing cost on a first render; after an edit the warm cache
re-renders in 12.1 / 10.9 s instead of a full render. (An earlier measurement, before the
kit typeset numbers in one LaTeX run and dropped SVG path trees, had found the cache 22 %
slower on a first render and no faster after an edit; hence the measurement is kept.)
"""

CACHE_FORMAT = "parts-v2"
"""Bumped when a cache entry's layout or meaning changes (this file is not in the key)."""


RENDERED_PACKAGES = ("backprop_core", "backprop_explain", "backprop_anim")
"""The packages a scene's frames depend on: the engine, what it explains and the kit.

The lecture pipeline and the command are packages of their own, so editing them never
re-renders a part; every file under these three is hashed, subpackages included.
"""

SOURCE_SUFFIXES = (".py", ".tex", ".toml", ".npz")


def _kit_files() -> list[Path]:
    """Every source file under :data:`RENDERED_PACKAGES`, recursively, in a stable order.

    Paths are absolute; :func:`part_key` labels each by its path inside the packages, so a
    file moved between subpackages changes the key too.
    """
    import importlib.util

    files: list[Path] = []
    for name in RENDERED_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        root = Path(spec.origin).resolve().parent
        files += [
            p
            for p in root.rglob("*")
            if p.suffix in SOURCE_SUFFIXES and p.is_file() and "__pycache__" not in p.parts
        ]
    return sorted(files)


def _package_path(file: Path) -> str:
    """``file``'s path from its top-level package folder, e.g. ``backprop_anim/tuning/x.py``."""
    for i, part in enumerate(file.parts):
        if part in RENDERED_PACKAGES:
            return "/".join(file.parts[i:])
    return file.name


def project_root(scene: Path, cwd: Path) -> Path:
    """Where manim runs for ``scene``: the nearest folder above it with a ``manim.cfg``
    (our TeX template lives there), else the current directory."""
    for folder in scene.parents:
        if (folder / "manim.cfg").is_file():
            return folder
    return cwd


@dataclass(frozen=True)
class PartNarration:
    """A part's voice plan (``backprop_lecture.voice``): the JSON file the scene reads
    through ``BACKPROP_CUES``, and what of it the part's video depends on."""

    plan: Path
    key: bytes
    """Every cue's text and the hash of its voice's bytes (in :func:`part_key`)."""
    voiced: tuple[Any, ...] = ()


def part_key(part: Part, quality: str, cwd: Path, narration: bytes = b"") -> str:
    """A hash of everything the part's video depends on.

    The scene file's bytes, the kit's and engine's sources, the trace or config bytes,
    the settings, the quality, manim's config file, the package and manim versions, and
    with a voice plan its cue texts and the hashes of its recordings' bytes (so
    re-recording one cue re-renders only its part).
    """
    h = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        h.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    add("version", f"{__version__} manim {_manim_version()} {CACHE_FORMAT} {MANIM_CACHE}".encode())
    add("scene", part.scene.read_bytes())
    for f in _kit_files():
        add(f"kit {_package_path(f)}", f.read_bytes())
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
    if narration:
        add("narration", narration)
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
