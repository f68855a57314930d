"""``backprop_anim.tuning.renderer``: extended still frames and replayed paths are manim's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cairo
import numpy as np
import pytest
from manim import Camera, Circle, Square, tempconfig
from manim.renderer.cairo_renderer import CairoRenderer
from scene_harness import load_scene_module, scene_class

from backprop_anim.tuning.renderer import PathCacheCamera, StaticFrameCache, draw_key


def device_path(ctx: cairo.Context) -> list[tuple[int, tuple[float, ...]]]:
    ctx.save()
    ctx.identity_matrix()
    path = list(ctx.copy_path())
    ctx.restore()
    return path


class CheckedCamera(PathCacheCamera):
    """The path cache, and beside each replayed path the one manim would have built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path_mismatches = 0

    def set_cairo_context_path(self, ctx: cairo.Context, vmobject: Any) -> Any:
        hits = self.path_hits
        super().set_cairo_context_path(ctx, vmobject)
        if self.path_hits > hits:
            replayed = device_path(ctx)
            Camera.set_cairo_context_path(self, ctx, vmobject)
            if device_path(ctx) != replayed:
                self.path_mismatches += 1
        return self


class CheckedCache(StaticFrameCache):
    """The cache, and beside it manim's own full redraw of every static frame."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compared = 0
        self.mismatches: list[int] = []
        self.frames = 0
        self.frame_mismatches = 0

    def save_static_frame_data(self, scene: Any, static_mobjects: Any) -> Any:
        mobjects = list(static_mobjects)
        got = super().save_static_frame_data(scene, mobjects)
        want = CairoRenderer.save_static_frame_data(self, scene, mobjects)
        self.compared += 1
        same = got is None and want is None
        if got is not None and want is not None:
            same = bool(np.array_equal(got, want))
        if not same:
            self.mismatches.append(self.num_plays)
        self.static_image = self._static_frame = got
        return got

    def frame_over_static(self, scene: Any, moving_mobjects: Any) -> Any:
        got = super().frame_over_static(scene, moving_mobjects)
        self.update_frame(scene, moving_mobjects)  # manim's way: into the camera's buffer
        self.frames += 1
        if not np.array_equal(got, self.get_frame()):
            self.frame_mismatches += 1
        return got


def test_draw_key_changes_with_anything_the_camera_draws() -> None:
    square = Square()
    key = draw_key(square)
    assert key == draw_key(square.copy())
    assert draw_key(square.copy().shift([0.001, 0, 0])) != key
    assert draw_key(square.copy().set_fill(opacity=0.5)) != key
    assert draw_key(square.copy().set_stroke(width=1)) != key
    assert draw_key(square.copy().set_color("#123456")) != key
    assert draw_key(Circle()) != key


@pytest.mark.slow
def test_delta_draws_what_manim_draws(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The main video, frames drawn (not written) at 480p: each play's static frame,
    reused or extended, is compared with manim's full redraw of the same mobjects, each
    frame drawn over a copy of it with manim's frame, and each replayed path with the
    path manim builds from the points."""
    base = scene_class(load_scene_module("delta"))
    renderer = CheckedCache(camera_class=CheckedCamera)

    class Checked(base):  # type: ignore[valid-type, misc]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(renderer=renderer, **kwargs)

    settings = {
        "dry_run": True,
        "media_dir": str(tmp_path),
        "disable_caching": True,
        "write_to_movie": False,
        "verbosity": "WARNING",
        "pixel_width": 854,
        "pixel_height": 480,
        "frame_rate": 15,
    }
    with tempconfig(settings):
        Checked().render()
    assert renderer.compared > 100
    assert renderer.mismatches == []
    assert renderer.frames > 1000
    assert renderer.frame_mismatches == 0
    draws = renderer.static_draws
    # Most plays only add on top of the previous still frame (measured: 18 reused,
    # 45 extended, 50 redrawn of 113).
    assert draws["reused"] + draws["extended"] >= 40, draws
    camera = renderer.camera
    assert isinstance(camera, CheckedCamera)
    assert camera.path_mismatches == 0
    # About 40 % of the paths drawn are replayed (measured: 18,443 of 46,652).
    assert camera.path_hits >= 0.3 * (camera.path_hits + camera.path_misses)


def test_reuse_freed_memory_takes_on_glibc() -> None:
    """The malloc settings are accepted where glibc runs (CI's Debian), else a no-op."""
    import platform
    import sys

    from backprop_anim.tuning.process import reuse_freed_memory

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert reuse_freed_memory() is glibc
