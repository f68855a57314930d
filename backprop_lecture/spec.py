"""The lecture file: parts in order, each a scene and the ``BACKPROP_*`` settings it reads.

Every mistake is a :class:`BackpropError` naming the file and the field
(``lecture.toml: parts[2].scene: ...``), raised before anything renders.
"""

from __future__ import annotations

import difflib
import importlib.util
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
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


SCENES_PACKAGE = "backprop_scenes"
"""The installed name of the repository's ``scenes/`` folder (see ``pyproject.toml``)."""


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


def packaged_scenes_dir() -> Path | None:
    """The folder of the scenes shipped with the package (``scenes/`` of the repository).

    In a source checkout run without installing (``PYTHONPATH=.``), the checkout's own
    ``scenes/`` beside this package; otherwise the installed package ``backprop_scenes``
    (``pyproject.toml`` maps ``scenes/`` to it). Found without importing anything.
    """
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "scenes" / "__init__.py").is_file():
        return checkout / "scenes"
    spec = importlib.util.find_spec(SCENES_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def packaged_scene_names() -> list[str]:
    """The names ``backprop render NAME`` and a lecture's ``scene = "NAME"`` accept."""
    folder = packaged_scenes_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in folder.glob("*.py") if not p.name.startswith("_"))


def packaged_scene(name: str) -> Path | None:
    """The packaged scene file called ``name`` (``delta`` → ``.../delta.py``), if any."""
    folder = packaged_scenes_dir()
    if folder is None or name.startswith("_") or not name.isidentifier():
        return None
    file = folder / f"{name}.py"
    return file if file.is_file() else None


def suggestion(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the nearest of ``choices``, or nothing."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_lecture(
    path: str | Path | None = None,
    cwd: Path | None = None,
    allow_outside_scenes: bool = False,
) -> Lecture:
    """Read and validate a lecture file (``None``: the default lecture).

    A lecture's scenes are Python programs that run, so a ``scene`` path must stay inside
    the lecture file's folder (after following ``..`` and symbolic links) unless
    ``allow_outside_scenes``. A relative ``path`` is read from ``cwd`` (default: the
    current directory). Every error is a :class:`BackpropError` naming the file and the
    field (``parts[2].scene``), raised before anything is rendered.
    """
    cwd = Path.cwd() if cwd is None else cwd
    is_default = path is None
    file = default_lecture_path() if path is None else cwd / Path(path)
    source = "default lecture" if is_default else str(path)
    if not file.is_file():
        raise BackpropError(source, None, "file not found; check the path")
    try:
        doc = tomllib.loads(file.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BackpropError(source, None, f"not valid TOML ({exc})") from None
    for key in doc:
        if key not in TOP_KEYS:
            raise BackpropError(
                source,
                key,
                f"unknown setting{suggestion(key, TOP_KEYS)}; "
                f"a lecture has {' and '.join(TOP_KEYS)}",
            )
    title = _text(doc.get("title", "Lecture"), lambda m: BackpropError(source, "title", m))
    raw_parts = doc.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise BackpropError(source, "parts", "missing or empty; add [[parts]] tables")
    base = file.parent.resolve()
    parts: list[Part] = []
    skipped: list[str] = []
    for i, raw in enumerate(raw_parts):
        part = _parse_part(raw, i, source, base, is_default, allow_outside_scenes)
        if part is None:
            skipped.append(str(raw.get("scene")))
            continue
        parts.append(part)
    if not parts:
        where = packaged_scenes_dir()
        raise BackpropError(
            source,
            "parts",
            f"none of the scenes exists in {where or 'the package'}; reinstall backprop-anim",
        )
    parts = [_renumber(p, i) for i, p in enumerate(parts, start=1)]
    return Lecture(title, tuple(parts), source, tuple(skipped))


def _text(value: Any, fail: Callable[[str], BackpropError]) -> str:
    """A title: one line of text (a newline would add lines to ``chapters.txt``)."""
    if not isinstance(value, str):
        raise fail(f"must be text, got {value!r}")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        raise fail("must be one line of text without control characters")
    return value


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
    raw: Any, i: int, source: str, base: Path, is_default: bool, allow_outside: bool
) -> Part | None:
    where = f"parts[{i}]"

    def fail(key: str | None, message: str) -> BackpropError:
        return BackpropError(source, f"{where}.{key}" if key else where, message)

    if not isinstance(raw, dict):
        raise fail(None, "must be a table ([[parts]])")
    for key in raw:
        if key not in PART_KEYS:
            raise fail(
                key,
                f"unknown setting{suggestion(key, PART_KEYS)}; a part has {', '.join(PART_KEYS)}",
            )
    scene_raw = raw.get("scene")
    if not isinstance(scene_raw, str) or not scene_raw:
        raise fail("scene", "missing; name a scene (delta) or a scene file (scenes/delta.py)")
    scene = _scene_file(scene_raw, base, is_default, allow_outside, lambda m: fail("scene", m))
    if scene is None:
        return None
    title = _text(
        raw.get("title", scene.stem.replace("_", " ").capitalize()), lambda m: fail("title", m)
    )
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


def _scene_file(
    raw: str,
    base: Path,
    is_default: bool,
    allow_outside: bool,
    fail: Callable[[str], BackpropError],
) -> Path | None:
    """The scene file a part names: a path (relative to the lecture file's folder ``base``)
    or a bare name (``base/scenes/NAME.py`` if it exists, else the packaged scene).

    Scene files are programs, so one outside ``base`` (``..``, an absolute path elsewhere,
    a symbolic link out) is refused unless ``allow_outside``; the packaged scenes are
    part of the installed program and always allowed. ``None``: a scene of the default
    lecture that is not packaged (left out).
    """
    is_path = raw.endswith(".py") or "/" in raw or "\\" in raw
    if is_default:
        scene = packaged_scene(raw)
        return scene
    if is_path:
        scene = (base / raw).resolve()
    else:
        local = base / "scenes" / f"{raw}.py"
        packaged = packaged_scene(raw)
        if local.is_file() or local.is_symlink() or packaged is None:
            scene = local.resolve()
        else:
            return packaged
    if not allow_outside and not scene.is_relative_to(base):
        raise fail(
            f"{raw!r} is {scene}, outside the lecture file's folder {base}; a scene is a "
            "Python program that runs: move it beside the lecture file, or pass "
            "--allow-outside-scenes if you trust it"
        )
    if not scene.is_file():
        if is_path:
            raise fail(f"no scene file {scene}; check the path (relative to {base})")
        names = packaged_scene_names()
        raise fail(
            f"unknown scene {raw!r}{suggestion(raw, names)}: no {base / 'scenes' / (raw + '.py')} "
            f"and no packaged scene of that name; packaged scenes: {', '.join(names) or 'none'}"
        )
    if scene.suffix != ".py":
        raise fail(f"a scene is a .py file, got {scene.name}")
    return scene


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
