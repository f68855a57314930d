"""The documented limits of configs and traces, checked before any array is made.

The project animates networks a viewer can follow and records every number of a run,
so it has natural bounds; each is far above what a video, a handout or a lecture uses
and low enough that no input of under 10 MB makes a command use more than about 1 GB.
``docs/trace-format.md`` (section *Limits*) gives the same table and the reasons.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

MAX_LAYERS = 16
"""Weight layers ``L``: a diagram of more than a dozen columns is unreadable at 1080p."""

MAX_WIDTH = 4096
"""Neurons in one layer: MNIST's 784 inputs with room; a scene shows 6 of them anyway."""

MAX_PARAMETERS = 1_000_000
"""Weights and biases together (784-128-10 has 101,770): a step records ``W``, ``dW`` and
``W_next``, 24 MB at the limit."""

MAX_SAMPLES = 100_000
"""Samples ``m`` in the data (a generator's ``samples`` is checked before it draws)."""

MAX_STEP_VALUES = 16_000_000
"""Numbers one recorded step holds (weights, activations, deltas for all ``m`` samples):
128 MB, the memory a run holds at once."""

MAX_ITERATIONS = 1_000_000
"""Training iterations: a loaded trace keeps every iteration's loss for the loss curve
(8 bytes each, 8 MB at the limit; ``backprop trace`` streams them to the file), and a
curve is drawn on a few thousand pixels."""

MAX_TRACE_BYTES = 512 << 20
"""Numbers a loaded trace may hold (all recorded steps, as float64): 512 MiB. Checked from
the declared shapes (the ``.npy`` headers of an ``.npz``) before anything is inflated."""

MAX_CONFIG_BYTES = 16 << 20
"""Size of a TOML config: explicit 784×128 weights as text are about 2 MB."""

MAX_JSON_BYTES = 128 << 20
"""Size of a ``.json`` trace: parsed, JSON takes about 4 times its size in memory (a float
in a list costs 32 bytes); larger runs belong in ``.npz`` (``backprop trace`` refuses to
start a ``.json`` trace it estimates above this)."""

MAX_META_BYTES = 256 << 20
"""Size of an ``.npz`` trace's ``meta`` member (its config as JSON, stored as UCS-4, four
bytes a character): the largest config within the limits above fits."""

MAX_SEED = 2**63 - 1
"""Seeds are ``0 ≤ seed ≤ 2⁶³ − 1``: they are stored as int64 and NumPy wants them ≥ 0."""

MAX_INT = 2**63 - 1
"""Whole numbers in configs and traces fit an int64 (TOML's own integer range)."""


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a network of ``sizes``."""
    return sum(n * p + n for p, n in pairwise(sizes))


def step_values(sizes: Sequence[int], m: int) -> int:
    """Numbers one recorded step holds: ``input``, ``target``, ``grad_a`` and per layer
    ``W, dW, W_next`` (weights), ``b, db, b_next`` and ``z, a, σ', δ`` (``n_l × m``)."""
    layers = sum(3 * n * p + 3 * n + 4 * n * m for p, n in pairwise(sizes))
    return sizes[0] * m + 2 * sizes[-1] * m + layers


def size_problem(sizes: Sequence[int]) -> str | None:
    """Why ``sizes`` exceeds a limit (a message ending in the fix), or ``None``."""
    if len(sizes) - 1 > MAX_LAYERS:
        return f"has {len(sizes) - 1} layers; at most {MAX_LAYERS} are allowed"
    widest = max(sizes)
    if widest > MAX_WIDTH:
        return f"has a layer of {widest} neurons; at most {MAX_WIDTH} are allowed"
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        return f"needs {count} parameters; at most {MAX_PARAMETERS:,} are allowed".replace(",", " ")
    return None


def data_problem(sizes: Sequence[int], m: int) -> str | None:
    """Why ``m`` samples through ``sizes`` exceed a limit, or ``None``."""
    if m > MAX_SAMPLES:
        return f"has {m} samples; at most {MAX_SAMPLES} are allowed"
    values = step_values(sizes, m)
    if values > MAX_STEP_VALUES:
        return (
            f"{m} samples through {'-'.join(map(str, sizes))} make {values} numbers per "
            f"iteration; at most {MAX_STEP_VALUES} are allowed: use fewer samples"
        )
    return None
