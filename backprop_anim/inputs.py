"""Which trace a scene shows: the ``BACKPROP_*`` environment variables.

=====================  ====================================================
``BACKPROP_TRACE``     a saved ``.json`` or ``.npz`` trace
``BACKPROP_PRESET``    a preset name, trained on the fly
``BACKPROP_CONFIG``    a TOML config, trained on the fly
``BACKPROP_ITERATION`` the iteration explained (default 1)
``BACKPROP_DECIMALS``  digits shown after the point (default 3)
``BACKPROP_FAST``      ``0`` renders with plain manim, no tuning (default 1)
=====================  ====================================================

A scene class may name its inputs in code too (:class:`SceneSettings`, from the class
attributes ``trace_file``, ``config_file``, ``preset``, ``iteration`` and ``decimals`` of
:class:`~backprop_anim.scene.TraceScene`). The environment wins over the class, setting by
setting: any of ``BACKPROP_TRACE``/``PRESET``/``CONFIG`` replaces the class's source, and
``BACKPROP_ITERATION``/``BACKPROP_DECIMALS`` replace its iteration and decimals. That is
what ``backprop render --preset P`` (which sets the environment) relies on: an option on
the command line overrides what the scene file says, which overrides the defaults.

Bad settings raise :class:`BackpropError`; :func:`inputs_or_exit` and
:func:`fast_or_exit` turn that into one line on standard error and exit status 2 before
any frame is written, through the command's own printer
(:func:`backprop_core.errors.report`): it raises ``SystemExit``, which manim's rich
traceback handler never sees as an error, so no traceback panel is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from backprop_anim.style import DEFAULT_DECIMALS, MAX_DECIMALS
from backprop_core import BackpropError, Trace, load_config, load_preset, load_trace, run
from backprop_core.errors import report
from backprop_core.trace import Step

T = TypeVar("T")

ENV_VARS = (
    "BACKPROP_TRACE",
    "BACKPROP_PRESET",
    "BACKPROP_CONFIG",
    "BACKPROP_ITERATION",
    "BACKPROP_DECIMALS",
    "BACKPROP_FAST",
)


@dataclass(frozen=True)
class SceneInputs:
    """The trace a scene reads, the step it explains and the precision it shows."""

    trace: Trace
    step: Step
    decimals: int
    source: str
    """Where the trace came from, for messages (a path, ``preset NAME`` or a config path)."""


def _int(env: Mapping[str, str], name: str, low: int, high: int | None, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BackpropError(None, name, f"must be a whole number, got {raw!r}") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BackpropError(None, name, f"must be {bound}, got {value}")
    return value


@dataclass(frozen=True)
class SceneSettings:
    """What a scene class says about its inputs; ``None`` leaves a setting to the default.

    ``where`` names the class in messages (``examples/bp2.py: MyScene``); relative paths
    are relative to ``base`` (the folder of the scene's file), so a scene and its config
    can move together.
    """

    trace_file: str | Path | None = None
    config_file: str | Path | None = None
    preset: str | None = None
    iteration: int | None = None
    decimals: int | None = None
    base: Path | None = None
    where: str = "scene"

    def path(self, value: str | Path) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() or self.base is None else self.base / path


def _class_int(settings: SceneSettings, field: str, low: int, high: int | None) -> int | None:
    value = getattr(settings, field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BackpropError(settings.where, field, f"must be a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BackpropError(settings.where, field, f"must be {bound}, got {value}")
    return value


def load_inputs(
    default_preset: str,
    env: Mapping[str, str] | None = None,
    settings: SceneSettings | None = None,
) -> SceneInputs:
    """Resolve the ``BACKPROP_*`` settings (``env`` defaults to ``os.environ``) over the
    scene class's ``settings``, over ``default_preset`` (see the module docstring)."""
    env = os.environ if env is None else env
    settings = SceneSettings() if settings is None else settings
    given = [n for n in ("BACKPROP_TRACE", "BACKPROP_PRESET", "BACKPROP_CONFIG") if env.get(n)]
    if len(given) > 1:
        raise BackpropError(None, " and ".join(given), "set only one of them")
    in_class = [
        n for n in ("trace_file", "config_file", "preset") if getattr(settings, n) is not None
    ]
    if len(in_class) > 1:
        raise BackpropError(settings.where, " and ".join(in_class), "set only one of them")
    if env.get("BACKPROP_TRACE"):
        source = env["BACKPROP_TRACE"]
        trace = load_trace(source)
    elif env.get("BACKPROP_CONFIG"):
        source = env["BACKPROP_CONFIG"]
        trace = run(load_config(source), source=source)
    elif env.get("BACKPROP_PRESET"):
        name = env["BACKPROP_PRESET"]
        source = f"preset {name}"
        trace = run(load_preset(name), source=source)
    elif settings.trace_file is not None:
        source = str(settings.path(settings.trace_file))
        trace = load_trace(source)
    elif settings.config_file is not None:
        source = str(settings.path(settings.config_file))
        trace = run(load_config(source), source=source)
    else:
        name = settings.preset or default_preset
        source = f"preset {name}"
        trace = run(load_preset(name), source=source)
    class_iteration = _class_int(settings, "iteration", 1, None)
    iteration = _int(env, "BACKPROP_ITERATION", 1, None, class_iteration or 1)
    try:
        step = trace.step(iteration)
    except KeyError as exc:
        option = "BACKPROP_ITERATION" if env.get("BACKPROP_ITERATION") else "iteration"
        raise BackpropError(source, option, str(exc.args[0])) from None
    class_decimals = _class_int(settings, "decimals", 0, MAX_DECIMALS)
    default_decimals = DEFAULT_DECIMALS if class_decimals is None else class_decimals
    decimals = _int(env, "BACKPROP_DECIMALS", 0, MAX_DECIMALS, default_decimals)
    return SceneInputs(trace, step, decimals, source)


def load_fast(env: Mapping[str, str] | None = None) -> bool:
    """``BACKPROP_FAST``: whether the scene base turns the render tuning on
    (:mod:`backprop_anim.tuning`). Unset or ``1``: on; ``0``: plain manim."""
    env = os.environ if env is None else env
    raw = env.get("BACKPROP_FAST", "").strip()
    if raw not in ("", "0", "1"):
        raise BackpropError(None, "BACKPROP_FAST", f"must be 0 or 1, got {raw!r}")
    return raw != "0"


def _or_exit(load: Callable[[], T]) -> T:
    """``load()``, or one line on stderr and exit status 2 (no traceback)."""
    try:
        return load()
    except BackpropError as exc:
        report(exc)


def inputs_or_exit(default_preset: str, settings: SceneSettings | None = None) -> SceneInputs:
    """:func:`load_inputs`, or one line on stderr and exit status 2 (no traceback)."""
    return _or_exit(lambda: load_inputs(default_preset, settings=settings))


def fast_or_exit() -> bool:
    """:func:`load_fast`, or one line on stderr and exit status 2 (no traceback)."""
    return _or_exit(load_fast)
