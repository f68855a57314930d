"""``backprop_anim.renderer``: the extended static frames are manim's, bit for bit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from manim import Circle, Square, tempconfig
from manim.renderer.cairo_renderer import CairoRenderer
from scene_harness import load_scene_module, scene_class

from backprop_anim.renderer import StaticFrameCache, draw_key


class CheckedCache(StaticFrameCache):
    """The cache, and beside it manim's own full redraw of every static frame."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compared = 0
        self.mismatches: list[int] = []

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
def test_every_static_frame_of_delta_equals_manims(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The main video, frames drawn (not written) at 480p: each play's static frame,
    reused or extended, is compared with manim's full redraw of the same mobjects."""
    base = scene_class(load_scene_module("delta"))
    renderer = CheckedCache()

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
    draws = renderer.static_draws
    # Most plays only add on top of the previous still frame (measured: 18 reused,
    # 45 extended, 50 redrawn of 113).
    assert draws["reused"] + draws["extended"] >= 40, draws
