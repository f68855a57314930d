"""What the training video derives from a trace: shown iterations, colour scales, regions.

The training scene shows a long run in a fixed number of frames, so it must choose which
recorded iterations to show, one colour scale per quantity for all of them, a loss curve
with a bounded number of points, and the network's output over the input plane (the
decision regions). These are numbers on screen or shapes drawn from numbers, so they are
computed here, in plain NumPy, where tests can check them without rendering.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from backprop_core.network import feedforward
from backprop_core.trace import Step, Trace
from backprop_explain.elide import largest_entry

Array = NDArray[np.float64]

Bounds = tuple[float, float, float, float]
"""``(x_min, x_max, y_min, y_max)`` of a rectangle of the input plane."""


def shown_iterations(recorded: Sequence[int], count: int, power: float = 2.0) -> list[int]:
    """About ``count`` recorded iterations spread over the run, first and last kept.

    The video's length must not grow with the trace, so a run of 3000 iterations and one
    of 30 are both shown as ``count`` states. Each target ``k_1 + t^power (k_K - k_1)``
    (``t`` evenly spaced in ``[0, 1]``) picks the nearest recorded iteration; duplicates
    are dropped, so a short trace shows all of its recorded iterations. ``power = 2``
    shows the early iterations, where the loss falls fastest, more densely (``power = 1``
    is even spacing).

    >>> shown_iterations([1, 10, 20, 30, 40, 50], 3, power=1)
    [1, 30, 50]
    >>> shown_iterations(list(range(1, 101)), 5)
    [1, 7, 26, 57, 100]
    """
    if count < 2:
        raise ValueError("show at least the first and the last iteration")
    its = np.asarray(sorted(recorded), dtype=np.float64)
    if its.size == 0:
        raise ValueError("the trace has no recorded iterations")
    targets = its[0] + np.linspace(0.0, 1.0, count) ** power * (its[-1] - its[0])
    picks = [int(its[np.argmin(np.abs(its - t))]) for t in targets]
    return sorted(set(picks))


def symmetric_scale(arrays: Sequence[Array]) -> float:
    """The largest ``|value|`` over ``arrays``: one colour scale ``[-s, s]`` for all of them.

    Sharing one scale over layers and iterations lets a viewer compare colours across
    heatmaps and watch gradients shrink as the network learns. Returns 1.0 if all are 0.
    """
    s = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return s if s > 0 else 1.0


def field_scale(trace: Trace, iterations: Sequence[int], field: str) -> float:
    """:func:`symmetric_scale` of one :class:`~backprop_core.trace.LayerRecord` field
    (``"W"``, ``"dW"``) over every layer of the given recorded iterations."""
    return symmetric_scale([getattr(r, field) for k in iterations for r in trace.step(k).layers])


def weight_scale(trace: Trace, iterations: Sequence[int]) -> float:
    """The largest ``|w|`` over every ``W`` before and after the shown updates (edge widths)."""
    arrays = [a for k in iterations for r in trace.step(k).layers for a in (r.W, r.W_next)]
    return symmetric_scale(arrays)


def loss_curve(losses: Array, max_points: int = 400) -> tuple[Array, Array]:
    """``(iterations, losses)`` of the loss curve with at most about ``max_points`` points.

    Iterations are counted from 1. Long runs are thinned with a regular stride (the first
    and last iteration always kept) so drawing the curve costs the same for any length.
    """
    n = int(losses.shape[0])
    if n == 0:
        return np.zeros(0), np.zeros(0)
    stride = max(1, int(np.ceil(n / max_points)))
    idx = np.arange(0, n, stride)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return (idx + 1).astype(np.float64), np.asarray(losses, dtype=np.float64)[idx]


def input_bounds(x: Array, margin: float = 0.25) -> Bounds:
    """A square around the 2-D inputs ``x`` (shape ``(2, m)``) with a relative margin.

    Square, so the plane is not stretched on screen; centred on the data.
    """
    if x.shape[0] != 2:
        raise ValueError(f"decision regions need 2 inputs, got {x.shape[0]}")
    lo, hi = x.min(axis=1), x.max(axis=1)
    centre = (lo + hi) / 2
    half = float(np.max(hi - lo)) / 2 or 1.0
    half *= 1 + margin
    return (
        float(centre[0] - half),
        float(centre[0] + half),
        float(centre[1] - half),
        float(centre[1] + half),
    )


def grid_points(bounds: Bounds, resolution: int) -> Array:
    """The centres of a ``resolution × resolution`` grid over ``bounds`` as inputs,
    shape ``(2, resolution²)``; point ``i * resolution + j`` is row ``i`` from the top
    (largest ``x_2``) and column ``j`` from the left, the order of image pixels."""
    x0, x1, y0, y1 = bounds
    step_x = (x1 - x0) / resolution
    step_y = (y1 - y0) / resolution
    xs = x0 + step_x * (np.arange(resolution) + 0.5)
    ys = y1 - step_y * (np.arange(resolution) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()])


def decision_grid(trace: Trace, step: Step, bounds: Bounds, resolution: int) -> Array:
    """The network's output ``a^(L)`` (first output) over the input plane, at ``step``.

    Uses the weights *before* the step's update, the network the step's loss measures.
    Returns shape ``(resolution, resolution)``, row 0 at the top (image order, see
    :func:`grid_points`).
    """
    config = trace.config
    if config.sizes[0] != 2:
        raise ValueError(f"decision regions need 2 inputs, got {config.sizes[0]}")
    x = grid_points(bounds, resolution)
    out = feedforward(config, [r.W for r in step.layers], [r.b for r in step.layers], x)
    return out[0].reshape(resolution, resolution)


def has_regions(trace: Trace) -> bool:
    """Whether the input plane can be drawn: 2 inputs and 1 output."""
    return trace.config.sizes[0] == 2 and trace.config.sizes[-1] == 1


__all__ = [
    "Bounds",
    "decision_grid",
    "field_scale",
    "grid_points",
    "has_regions",
    "input_bounds",
    "largest_entry",
    "loss_curve",
    "shown_iterations",
    "symmetric_scale",
    "weight_scale",
]
