"""The trace: every number of a training run that a video, a table or a handout shows.

A :class:`Trace` holds the normalised :class:`~backprop_core.config.Config` and one
:class:`Step` per recorded iteration; a step holds one :class:`LayerRecord` per layer
``l = 1..L``. All are frozen dataclasses of NumPy arrays, in the shapes of
:mod:`backprop_core.network`. Traces are saved and loaded by :mod:`backprop_core.io`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config
from backprop_core.errors import BackpropError
from backprop_core.network import (
    Batch,
    Gradients,
    Indices,
    Parameters,
    backprop,
    cost,
    feedforward,
    train,
)
from backprop_core.version import __version__

Array = NDArray[np.float64]

FORMAT = "backprop-trace"
VERSION = 2
"""The newest format version; this package reads every version in :data:`VERSIONS`."""
VERSIONS = (1, 2)


def format_version(config: Config) -> int:
    """The lowest format version that describes a trace of ``config``.

    Version 2 adds mini-batches (``train.batch_size``, each step's ``epoch`` and
    ``batch``) and named data sets (``data.dataset``); a trace that uses neither is
    version 1, byte for byte what a version-1 writer writes.
    """
    return 2 if config.batch_size is not None or config.dataset is not None else 1


LAYER_FIELDS = ("W", "b", "z", "a", "sigma_prime", "delta", "dW", "db", "W_next", "b_next")


@dataclass(frozen=True, eq=False)
class LayerRecord:
    """Layer ``l`` at one iteration. Shapes: ``W, dW, W_next`` are ``(n_l, n_{l-1})``;
    ``b, db, b_next`` are ``(n_l, 1)``; ``z, a, sigma_prime, delta`` are ``(n_l, m)``.

    ``W`` and ``b`` are the values before the update, ``W_next`` and ``b_next`` after it.
    For a softmax layer ``sigma_prime`` is the diagonal ``a(1 − a)`` of its Jacobian (see
    :func:`backprop_core.activations.softmax_prime`); ``delta`` used the full Jacobian.
    Without biases, ``b``, ``db`` and ``b_next`` are zeros.
    """

    W: Array
    b: Array
    z: Array
    a: Array
    sigma_prime: Array
    delta: Array
    dW: Array
    db: Array
    W_next: Array
    b_next: Array

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LayerRecord) and all(
            np.array_equal(getattr(self, f), getattr(other, f)) for f in LAYER_FIELDS
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class Step:
    """One recorded iteration (step) ``k``, counted from 1.

    ``loss`` is the cost of the step's batch before the update, ``loss_after`` the cost of
    the same batch after it (with the whole data set as the batch, the next iteration's
    ``loss``). ``input`` is ``a^(0)``, ``(n_0, m)``; ``target`` is ``y``, ``(n_L, m)``;
    ``grad_a`` is ``∇_a C_x`` per sample, ``(n_L, m)``. With mini-batches, ``epoch``
    counts the passes over the data from 1 and ``batch`` lists the columns of
    ``config.x`` that are ``input``'s columns, in order; without, both are ``None``.
    """

    iteration: int
    loss: float
    loss_after: float
    input: Array
    target: Array
    grad_a: Array
    layers: tuple[LayerRecord, ...]
    epoch: int | None = None
    batch: Indices | None = None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Step):
            return False
        if self.batch is None or other.batch is None:
            same_batch = self.batch is None and other.batch is None
        else:
            same_batch = np.array_equal(self.batch, other.batch)
        return (
            same_batch
            and self.epoch == other.epoch
            and self.iteration == other.iteration
            and self.loss == other.loss
            and self.loss_after == other.loss_after
            and np.array_equal(self.input, other.input)
            and np.array_equal(self.target, other.target)
            and np.array_equal(self.grad_a, other.grad_a)
            and self.layers == other.layers
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, eq=False)
class Trace:
    """A recorded training run: its config and the recorded steps, in order."""

    config: Config
    steps: tuple[Step, ...]
    package_version: str = __version__
    losses: Array = field(default_factory=lambda: np.zeros(0))
    """The loss of every iteration ``1..iterations`` (recorded or not), for loss curves."""

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def version(self) -> int:
        """The format version of this trace (:func:`format_version` of its config)."""
        return format_version(self.config)

    def step(self, iteration: int) -> Step:
        """The recorded step of iteration ``iteration``; a clear error if it was skipped."""
        for s in self.steps:
            if s.iteration == iteration:
                return s
        recorded = [s.iteration for s in self.steps]
        shown = ", ".join(map(str, recorded[:8])) + (" …" if len(recorded) > 8 else "")
        raise KeyError(f"iteration {iteration} is not recorded; recorded: {shown}")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Trace)
            and self.config == other.config
            and self.steps == other.steps
            and self.package_version == other.package_version
            and np.array_equal(self.losses, other.losses)
        )

    __hash__ = None  # type: ignore[assignment]


def is_recorded(k: int, iterations: int, every: int) -> bool:
    """Whether iteration ``k`` is kept by ``--every N``: 1, every N-th, and the last."""
    return k == 1 or k == iterations or k % every == 0


def count_recorded(iterations: int, every: int) -> int:
    """How many iterations :func:`is_recorded` keeps, without listing them."""
    multiples = iterations // every
    first = 1 if every != 1 else 0  # iteration 1 unless it is already a multiple
    last = 1 if iterations % every != 0 and iterations != 1 else 0
    return multiples + first + last


def recorded_iterations(iterations: int, every: int) -> list[int]:
    """The iterations :func:`is_recorded` keeps, as a list (for tests and small runs;
    :func:`run` and ``backprop trace`` never build it, so memory stays flat)."""
    return [k for k in range(1, iterations + 1) if is_recorded(k, iterations, every)]


def _step(
    k: int, batch: Batch, g: Gradients, before: Parameters, after: Parameters, loss_after: float
) -> Step:
    layers = tuple(
        LayerRecord(
            W=W,
            b=b,
            z=z,
            a=a,
            sigma_prime=sp,
            delta=d,
            dW=dW,
            db=db,
            W_next=W_next,
            b_next=b_next,
        )
        for W, b, z, a, sp, d, dW, db, W_next, b_next in zip(
            *before,
            g.z,
            g.a[1:],
            g.sigma_prime,
            g.delta,
            g.dW,
            g.db,
            *after,
            strict=True,
        )
    )
    mini = batch.indices is not None
    return Step(
        k,
        g.loss,
        loss_after,
        batch.x,
        batch.y,
        g.grad_a,
        layers,
        epoch=batch.epoch if mini else None,
        batch=batch.indices,
    )


def _loss_after(config: Config, k: int, after: Parameters, batch: Batch, source: str) -> float:
    """The cost of ``batch`` at the updated parameters; an error if it is not finite."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loss = cost(config, feedforward(config, *after, batch.x), batch.y)
    if not np.isfinite(loss):
        raise BackpropError(
            source,
            f"iteration {k}, layer {config.num_layers} (output): loss_after",
            f"became {loss} (training diverged); try a smaller train.learning_rate",
        )
    return loss


def run(
    config: Config,
    every: int | None = None,
    progress: Callable[[int], None] | None = None,
    source: str = "config",
    on_record: Callable[[Step], None] | None = None,
    on_loss: Callable[[float], None] | None = None,
) -> Trace:
    """Train ``config`` and record every ``every``-th iteration (default: ``config.every``).

    A step's ``loss_after`` is its batch's cost after the update. With the whole data set
    as the batch that is the next iteration's loss, so a recorded step waits one iteration
    for it (after the last update one more forward pass gives it); a mini-batch step
    computes it at once with one forward pass over its batch.
    ``progress(k)`` is called after each iteration (the CLI draws a progress bar with it).

    With ``on_record``, each completed step is passed to it (in order) and *not* kept:
    the returned trace then has no steps. With ``on_loss``, each iteration's loss is
    passed to it (in order) and not kept either: the returned trace's ``losses`` is
    empty. With both, memory stays at one step however long the run and whatever the
    number of iterations (``backprop trace`` streams to its file this way, see
    :func:`backprop_core.io.open_trace_writer`). Without them, the full trace.
    """
    every = config.every if every is None else every
    steps: list[Step] = []
    losses = np.empty(config.iterations if on_loss is None else 0)
    pending: tuple[int, Batch, Gradients, Parameters, Parameters] | None = None
    emit = steps.append if on_record is None else on_record

    def record(k: int, batch: Batch, g: Gradients, before: Parameters, after: Parameters) -> None:
        nonlocal pending
        if on_loss is None:
            losses[k - 1] = g.loss
        else:
            on_loss(g.loss)
        if pending is not None:
            emit(_step(*pending, g.loss))
            pending = None
        if not is_recorded(k, config.iterations, every):
            pass
        elif batch.indices is None:  # the whole data set: the next iteration's loss
            pending = (k, batch, g, before, after)
        else:
            emit(_step(k, batch, g, before, after, _loss_after(config, k, after, batch, source)))
        if progress is not None:
            progress(k)

    final = train(config, on_step=record, source=source)
    if pending is not None:
        k, batch = pending[0], pending[1]
        emit(_step(*pending, _loss_after(config, k, final, batch, source)))
    if config.every != every:
        config = replace(config, every=every)
    return Trace(config=config, steps=tuple(steps), losses=losses)


def gradients_at(config: Config, step: Step) -> Gradients:
    """Recompute a step's forward and backward pass (used by checks and tests)."""
    return backprop(
        config, [r.W for r in step.layers], [r.b for r in step.layers], step.input, step.target
    )


__all__ = [
    "FORMAT",
    "LAYER_FIELDS",
    "VERSION",
    "VERSIONS",
    "LayerRecord",
    "Step",
    "Trace",
    "count_recorded",
    "format_version",
    "is_recorded",
    "recorded_iterations",
    "run",
]
