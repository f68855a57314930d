"""The part cache: a finished part is reused while nothing its video depends on changes.

An entry ``OUT/.cache/parts/NN-scene-KEY/`` holds the part's video, subtitles, section
clips, section stills and ``meta.json`` (written last: an entry without it is unfinished).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from backprop_anim.lecture.spec import Part
from backprop_core import __version__

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


NOT_RENDERED = frozenset(
    {
        "narration.py",
        "slides.py",
        "cli.py",
        "__main__.py",
        "handout.py",
        "gradcheck.py",
    }
)
"""Source files no scene's frames depend on (left out of :func:`part_key`)."""


def _kit_files() -> list[Path]:
    """Source files every scene depends on: the scene kit and the engine.

    The command-line and lecture machinery (:data:`NOT_RENDERED`) are left out: editing
    them does not change a single frame, so it must not re-render every part.
    """
    import backprop_core

    anim = Path(__file__).resolve().parents[1]
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


def copy_atomically(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def write_text_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, "utf-8")
    os.replace(tmp, path)
