"""Speed-ups of manim and of the render process, with the same pixels, behind one switch.

Nothing here acts when imported. :func:`enable` turns everything on, once per process:

- :mod:`~backprop_anim.tuning.svgcache` replaces ``SVGMobject.init_svg_mobject`` (parsed
  glyphs kept on disk, cheap copies) and ``MathTex.__init__`` (a number built twice is
  copied);
- :mod:`~backprop_anim.tuning.process` lets glibc reuse big freed blocks;
- and it allows what the scene base asks for afterwards: :func:`cairo_renderer` (the
  renderer and camera of :mod:`~backprop_anim.tuning.renderer`), :class:`UpdateWalk`
  (the per-frame update walk skipped while nothing has an updater),
  :func:`encoders_in_background` (encoder threads at a lower priority) and
  :func:`~backprop_anim.tuning.texbatch.prewarm_tex` (one LaTeX run for many numbers).

:class:`~backprop_anim.scene.TraceScene` calls :func:`enable` when a scene is made, unless
``BACKPROP_FAST=0``; a scene of one's own that only uses the kit's mobjects gets plain
manim. Every manim function replaced or overridden is written against
:data:`MANIM_VERSION`: :func:`enable` first checks that each still exists with the
parameters it had there, and if one does not, warns once and turns nothing on (the
render is then manim's own, only slower).
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any

import manim.mobject.text.tex_mobject as tex_mobject
from manim import Camera, MathTex, Scene, config
from manim.constants import RendererType
from manim.mobject.svg.svg_mobject import SVGMobject
from manim.renderer.cairo_renderer import CairoRenderer

from backprop_anim.tuning import svgcache
from backprop_anim.tuning.process import encoders_in_background, reuse_freed_memory
from backprop_anim.tuning.renderer import PathCacheCamera, StaticFrameCache
from backprop_anim.tuning.updates import UpdateWalk

__all__ = [
    "EXPECTED",
    "MANIM_VERSION",
    "UpdateWalk",
    "cairo_renderer",
    "enable",
    "enabled",
    "encoders_in_background",
]

MANIM_VERSION = "0.22.0"
"""The manim whose functions the tuning replaces and overrides (their parameters below)."""

Owner = Any
"""A class or module holding a manim function."""

EXPECTED: tuple[tuple[Owner, str, tuple[str, ...]], ...] = (
    # svgcache replaces these two.
    (SVGMobject, "init_svg_mobject", ("self", "use_svg_cache")),
    (
        MathTex,
        "__init__",
        (
            "self",
            "tex_strings",
            "arg_separator",
            "substrings_to_isolate",
            "tex_to_color_map",
            "tex_environment",
            "kwargs",
        ),
    ),
    # texbatch intercepts it to learn the string manim typesets.
    (tex_mobject, "tex_to_svg_file", ("expression", "environment", "tex_template")),
    # renderer.StaticFrameCache overrides the first three and calls the others.
    (
        CairoRenderer,
        "__init__",
        ("self", "file_writer_class", "camera_class", "skip_animations", "kwargs"),
    ),
    (CairoRenderer, "save_static_frame_data", ("self", "scene", "static_mobjects")),
    (CairoRenderer, "render", ("self", "scene", "time", "moving_mobjects")),
    (
        CairoRenderer,
        "update_frame",
        ("self", "scene", "mobjects", "include_submobjects", "ignore_skipping", "kwargs"),
    ),
    (CairoRenderer, "get_frame", ("self",)),
    (CairoRenderer, "add_frame", ("self", "frame", "num_frames")),
    # renderer.PathCacheCamera overrides the first two and calls the others.
    (
        Camera,
        "__init__",
        (
            "self",
            "background_image",
            "frame_center",
            "image_mode",
            "n_channels",
            "pixel_array_dtype",
            "cairo_line_width_multiple",
            "use_z_index",
            "background",
            "pixel_height",
            "pixel_width",
            "frame_height",
            "frame_width",
            "frame_rate",
            "background_color",
            "background_opacity",
            "kwargs",
        ),
    ),
    (Camera, "set_cairo_context_path", ("self", "ctx", "vmobject")),
    (Camera, "capture_mobjects", ("self", "mobjects", "kwargs")),
    (
        Camera,
        "get_mobjects_to_display",
        ("self", "mobjects", "include_submobjects", "excluded_mobjects"),
    ),
    (Camera, "set_frame_to_background", ("self", "background")),
    # TraceScene skips it while nothing has an updater (UpdateWalk).
    (Scene, "update_mobjects", ("self", "dt")),
)
"""``(owner, attribute, parameter names)`` of every manim function the tuning replaces,
overrides or calls in an override, as in :data:`MANIM_VERSION`."""

_state: bool | None = None


def mismatch(owner: Owner, name: str, params: tuple[str, ...]) -> str | None:
    """Why ``owner.name`` is not the function written for, or ``None`` if it is."""
    where = f"{getattr(owner, '__module__', '')}.{getattr(owner, '__qualname__', '')}"
    if inspect.ismodule(owner):
        where = owner.__name__
    target = f"{where}.{name}"
    function: Callable[..., Any] | None = getattr(owner, name, None)
    if function is None or not callable(function):
        return f"{target} is missing"
    try:
        found = tuple(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return f"{target} has no signature"
    if found != params:
        return f"{target} takes ({', '.join(found)}), not ({', '.join(params)})"
    return None


def enable() -> bool:
    """Turn the tuning on for this process; returns whether it is on (idempotent).

    If a manim function in :data:`EXPECTED` is missing or takes other parameters, warns
    once (one line naming it) and leaves everything as it is: it returns ``False`` now and
    on every later call.
    """
    global _state
    if _state is not None:
        return _state
    for owner, name, params in EXPECTED:
        problem = mismatch(owner, name, params)
        if problem is not None:
            warnings.warn(
                f"backprop_anim.tuning: {problem} (written for manim {MANIM_VERSION}); "
                "the render tuning stays off",
                RuntimeWarning,
                stacklevel=2,
            )
            _state = False
            return False
    svgcache.install()
    reuse_freed_memory()
    _state = True
    return True


def enabled() -> bool:
    """Whether :func:`enable` turned the tuning on in this process."""
    return _state is True


def cairo_renderer(
    camera_class: type[Camera] | None = None, skip_animations: bool = False
) -> StaticFrameCache | None:
    """A :class:`StaticFrameCache` (camera :class:`PathCacheCamera` unless another is
    given) if the tuning is on and manim renders with Cairo, else ``None`` (manim's own)."""
    if not enabled() or config.renderer != RendererType.CAIRO:
        return None
    return StaticFrameCache(
        camera_class=camera_class or PathCacheCamera, skip_animations=skip_animations
    )
