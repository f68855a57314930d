"""The lecture file: parts in order, each a scene and the ``BACKPROP_*`` settings it reads.

Every mistake is a :class:`BackpropError` naming the file and the field
(``lecture.toml: parts[2].scene: ...``), raised before anything renders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from backprop_core.config import preset_names
from backprop_core.errors import BackpropError

QUALITIES = {"l": "480p15", "m": "720p30", "h": "1080p60", "p": "1440p60", "k": "2160p60"}
"""manim's ``-q`` letters and the folder names it renders into."""


DEFAULT_OUT = Path("media/lecture")


DEFAULT_SCENE_ORDER = ("scalar", "chain", "delta", "network", "training")


PART_KEYS = ("scene", "title", "trace", "preset", "config", "iteration", "decimals")


TOP_KEYS = ("title", "parts")


MAX_DECIMALS = 8


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
    return Path(str(resources.files("backprop_lecture").joinpath("lectures/default.toml")))


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
