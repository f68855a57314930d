"""Manim's Cairo renderer, drawing each play's still background only where it changed.

Before every ``play``, manim draws everything that will not move into a *static frame*,
then draws only the moving mobjects over a copy of it, frame after frame. It draws that
static frame from scratch each time, although a scene like ``delta.py`` mostly *adds*
things between plays: the matrices of the previous play are still there, unchanged, and
the new ones come on top. Measured at ``-ql``, those redraws were about an eighth of the
render.

:class:`StaticFrameCache` remembers the last static frame and the *drawing state* of each
mobject it drew, in the order the camera drew them (points, fill and stroke colours,
widths, joints: everything ``Camera.display_vectorized`` reads). When the new drawing
sequence begins with exactly the old one, it draws only the rest on top of the old frame;
otherwise it draws everything, as manim does. Drawing is sequential compositing into
the same pixel buffer, so the result is the same image bit for bit
(``tests/test_renderer.py`` renders with and without it and compares every frame).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cairo
from manim import Camera, Mobject, VMobject
from manim.renderer.cairo_renderer import CairoRenderer
from manim.utils.iterables import list_update

DrawKey = tuple[Any, ...]


def draw_key(mob: Mobject) -> DrawKey | None:
    """Everything the Cairo camera reads to draw ``mob``; ``None`` if it is no VMobject."""
    if not isinstance(mob, VMobject):
        return None
    return (
        type(mob),
        mob.points.tobytes(),
        mob.fill_rgbas.tobytes(),
        mob.stroke_rgbas.tobytes(),
        mob.background_stroke_rgbas.tobytes(),
        float(mob.stroke_width),
        float(mob.background_stroke_width),
        float(mob.sheen_factor),
        tuple(mob.sheen_direction),
        mob.joint_type,
        mob.cap_style,
        mob.z_index,
        mob.shade_in_3d,
        id(getattr(mob, "background_image", None)),
    )


class StaticFrameCache(CairoRenderer):
    """A :class:`CairoRenderer` that extends the previous static frame when it can."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._static_keys: list[DrawKey] = []
        self._static_frame: Any = None  # manim resets static_image after each play
        self.static_draws = {"reused": 0, "extended": 0, "redrawn": 0}
        """How each static frame was made (for the benchmark and tests)."""

    def save_static_frame_data(self, scene: Any, static_mobjects: Iterable[Mobject]) -> Any:
        mobjects = list(static_mobjects)
        # The sequence the camera really draws (families, duplicates and z-order resolved
        # as manim resolves them), so that "old sequence + the rest" is the same drawing.
        order = self.camera.get_mobjects_to_display(mobjects)
        keys = [draw_key(m) for m in order]
        old_keys, old_image = self._static_keys, self._static_frame
        self._static_keys, self._static_frame = [], None
        if not order or any(k is None for k in keys):
            return super().save_static_frame_data(scene, mobjects)
        n = len(old_keys)
        if old_image is not None and 0 < n <= len(keys) and keys[:n] == old_keys:
            if n == len(keys):
                self.static_draws["reused"] += 1
                self.static_image = old_image
            else:
                self.static_draws["extended"] += 1
                self.camera.set_frame_to_background(old_image)
                self.camera.capture_mobjects(order[n:], include_submobjects=False)
                self.static_image = self.get_frame()
        else:
            self.static_draws["redrawn"] += 1
            super().save_static_frame_data(scene, mobjects)
        self._static_keys = keys  # type: ignore[assignment]
        self._static_frame = self.static_image
        return self.static_image

    def render(self, scene: Any, time: float, moving_mobjects: Any = None) -> None:
        """:meth:`CairoRenderer.render` with one copy of each frame instead of two.

        Manim copies the static frame into the camera's buffer, draws the moving mobjects
        there, then copies the buffer again to hand the frame to the encoder (about 9 % of
        a ``-ql`` render went to these two copies). Here the moving mobjects are drawn
        straight onto a copy of the static frame, and that copy is the frame.
        """
        if self.static_image is None:
            super().render(scene, time, moving_mobjects)
            return
        self.add_frame(self.frame_over_static(scene, moving_mobjects))

    def frame_over_static(self, scene: Any, moving_mobjects: Any) -> Any:
        """The static frame with ``moving_mobjects`` drawn over it, as a new array (what
        ``update_frame`` then ``get_frame`` give)."""
        mobjects = moving_mobjects or list_update(scene.mobjects, scene.foreground_mobjects)
        assert self.static_image is not None  # render() checked it
        frame = self.static_image.copy()
        camera = self.camera
        kept = camera.pixel_array
        camera.pixel_array = frame
        try:
            camera.capture_mobjects(mobjects, include_submobjects=True)
        finally:
            camera.pixel_array = kept
            ctx = camera.pixel_array_to_cairo_context.pop(id(frame), None)
            if ctx is not None:
                ctx.get_target().flush()
        return frame


class PathCacheCamera(Camera):
    """Manim's Cairo camera, replaying a mobject's path when its points did not change.

    For every mobject it draws, every frame, manim turns the points into a Cairo path in
    Python: it splits them into subpaths and calls ``curve_to`` once per Bézier curve (a
    digit has about 30). Most mobjects redrawn during an animation did not move since the
    previous frame: everything manim must redraw because it lies above a moving mobject,
    sub-animations of a ``LaggedStart`` not started or already finished, fades (which change
    colours, not points), and the same glyphs again in the next play's still frame.

    This camera keeps, per mobject, its points and the path Cairo built from them, in
    device space (Cairo's own fixed-point path, copied under the identity matrix). When the
    points are byte for byte the same, it appends that path instead of rebuilding it: the
    same path, so the same pixels.
    """

    max_paths = 50_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paths: dict[int, tuple[bytes, tuple[float, ...], cairo.Path]] = {}
        self.path_hits = 0
        self.path_misses = 0

    def set_cairo_context_path(self, ctx: cairo.Context[Any], vmobject: VMobject) -> Any:
        if len(vmobject.points) == 0:  # manim leaves the context's path as it is
            return super().set_cairo_context_path(ctx, vmobject)
        points = vmobject.points.tobytes()
        m = ctx.get_matrix()
        matrix = (m.xx, m.yx, m.xy, m.yy, m.x0, m.y0)
        cached = self._paths.get(id(vmobject))
        if cached is not None and cached[0] == points and cached[1] == matrix:
            self.path_hits += 1
            ctx.save()
            ctx.identity_matrix()
            ctx.new_path()
            ctx.append_path(cached[2])
            ctx.restore()
            return self
        self.path_misses += 1
        super().set_cairo_context_path(ctx, vmobject)
        ctx.save()
        ctx.identity_matrix()
        path = ctx.copy_path()
        ctx.restore()
        if len(self._paths) >= self.max_paths:
            self._paths.clear()
        self._paths[id(vmobject)] = (points, matrix, path)
        return self
