"""How much does recording a trace cost? The engine against a bare NumPy loop.

Run from the repository root::

    .venv/bin/python benchmarks/engine.py                # about a minute on a quiet machine
    .venv/bin/python benchmarks/engine.py --quick        # fewer repeats, smaller memory sweep
    .venv/bin/python benchmarks/engine.py --markdown     # also print the tables as Markdown
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/engine.py   # steadier on a busy machine

For every full-batch preset network and for a 784-128-10 sigmoid network (batch of 64
random samples, 200 iterations, seeded) the same training runs in one process as:

- **bare**: a Nielsen-style loop (forward keeping ``z`` and ``a``, BP1-BP4, update), with no
  recording and no loss, written here independently of :mod:`backprop_core.network`;
- **bare + keep**: the same loop appending every array a trace holds to a list, the least
  any recorder must do: it measures what keeping the numbers costs by itself;
- **engine**: :func:`backprop_core.trace.run` recording *every* iteration (``every=1``),
  which also computes the loss of every iteration and checks for divergence;
- **every=10**: the engine recording every 10th iteration.

The loops take turns and each one's best time of several runs is kept (the minimum is the
least noisy estimate on a shared machine). The bare loop and the engine must end at the
same weights, which is checked. Then the peak memory (tracemalloc, which sees NumPy's
array buffers) of ``run`` at 784-128-10 for growing iteration counts, recording every
iteration, every 10th, and a fixed 11 iterations (``every = iterations / 10``).

Then the streamed path of ``backprop trace`` (``run(config, on_record=writer.add)`` into
a temporary ``.npz`` beside the working directory, see
:func:`backprop_core.io.open_trace_writer`) against keeping the trace in memory, at
784-128-10 and every=10 for 100 to 800 iterations: tracemalloc's peak, and the growth of
the resident-set high-water mark (``VmHWM``) measured in a fresh child process per case,
which also sees pages tracemalloc cannot (``--streaming-only`` prints just these). Last,
at every=1 where every iteration is written, the time of ``run`` alone, ``run`` then
``save_trace`` and the streamed run.

With ``--losses-only``, the losses of a long run of the 2-2-1 ``xor`` preset recording two
steps (``every = iterations``), 30,000 and 300,000 iterations (3,000 and 30,000 with
``--quick``): the growth of the resident high-water mark in a fresh child per case, for
``run`` keeping every loss in memory and for the streamed ``.json``, ``.npz`` and ``.csv``
writers, which spool the losses to a scratch file beside the output (a few minutes, not
part of the default run).

Then the ``digits`` preset (64-16-10, mini-batches of 32, 1,320 steps): the time of
``train`` alone and of ``run`` recording its 31 steps, and the test accuracy it reaches
(``--digits-only`` prints just this line).

The script prints the NumPy/BLAS configuration and the load average, since both change
the figures; it leaves ``OPENBLAS_CORETYPE`` and the thread count as the environment
sets them.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from rich.console import Console
from rich.table import Table

from backprop_core.activations import ACTIVATIONS, softmax_backward
from backprop_core.config import Config, load_preset, preset_names
from backprop_core.io import open_trace_writer, save_trace
from backprop_core.losses import LOSSES
from backprop_core.network import accuracy, train
from backprop_core.trace import recorded_iterations, run

Array = NDArray[np.float64]


def big_config(iterations: int = 200, every: int = 1, seed: int = 0) -> Config:
    """A 784-128-10 sigmoid network on 64 random samples (MNIST-sized), seeded."""
    rng = np.random.default_rng(seed)
    sizes = (784, 128, 10)
    m = 64
    weights = tuple(
        rng.standard_normal((sizes[l], sizes[l - 1])) / np.sqrt(sizes[l - 1])
        for l in range(1, len(sizes))
    )
    biases = tuple(rng.standard_normal((sizes[l], 1)) for l in range(1, len(sizes)))
    x = rng.random((784, m))
    y = np.zeros((10, m))
    y[rng.integers(0, 10, m), np.arange(m)] = 1.0
    return Config(
        sizes=sizes,
        activations=("sigmoid", "sigmoid"),
        loss="half_sse",
        bias=True,
        seed=seed,
        weights=weights,
        biases=biases,
        x=x,
        y=y,
        learning_rate=3.0,
        iterations=iterations,
        every=every,
        name="784-128-10",
    )


def bare_train(config: Config, keep: list[object] | None = None) -> tuple[list[Array], list[Array]]:
    """Nielsen's ``update_mini_batch`` in matrix form: no recording, no loss.

    The activation functions are the engine's own (so both loops compute the same numbers);
    everything else is written out here. With ``keep``, the loop also appends every array a
    trace holds (``z, a, σ', δ, ∂C/∂W, ∂C/∂b`` and the new ``W, b``) to it: the least any
    recorder must do, which measures what keeping the numbers costs by itself. Full batch
    only (the presets with ``batch_size`` are timed by :func:`digits_line`).
    """
    fs = [ACTIVATIONS[name] for name in config.activations]
    gradient = LOSSES[config.loss].gradient
    softmax_output = config.activations[-1] == "softmax"
    weights, biases = list(config.weights), list(config.biases)
    x, y, eta = config.x, config.y, config.learning_rate
    m = x.shape[1]
    L = len(weights)
    for _ in range(config.iterations):
        activation = x
        a = [x]
        zs = []
        for W, b, f in zip(weights, biases, fs, strict=True):
            z = W @ activation + b
            zs.append(z)
            activation = f.f(z)
            a.append(activation)
        grad_a = gradient(activation, y, softmax_output)
        sigma_prime = [f.prime(z) for f, z in zip(fs, zs, strict=True)]
        if softmax_output:
            delta = softmax_backward(activation, grad_a)
        else:
            delta = grad_a * sigma_prime[-1]
        deltas: list[Array] = [np.empty(0)] * L
        dW: list[Array] = [np.empty(0)] * L
        db: list[Array] = [np.empty(0)] * L
        deltas[-1] = delta
        dW[-1] = delta @ a[-2].T / m
        db[-1] = delta.sum(axis=1, keepdims=True) / m
        for l in range(2, L + 1):
            delta = (weights[-l + 1].T @ delta) * sigma_prime[-l]
            deltas[-l] = delta
            dW[-l] = delta @ a[-l - 1].T / m
            db[-l] = delta.sum(axis=1, keepdims=True) / m
        weights = [W - eta * d for W, d in zip(weights, dW, strict=True)]
        if config.bias:
            biases = [b - eta * d for b, d in zip(biases, db, strict=True)]
        if keep is not None:
            keep.append((zs, a, sigma_prime, deltas, dW, db, weights, biases))
    return weights, biases


def best_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """The fastest of ``repeats`` runs of each function, in seconds.

    The functions take turns (a, b, c, a, b, c, ...) so that a burst of load from other
    processes hits all of them alike; garbage from the previous run is freed first.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            start = time.perf_counter()
            result = fn()
            best[name] = min(best[name], time.perf_counter() - start)
            del result
    return best


def blas_line() -> str:
    """Which BLAS NumPy uses, and the environment variables that steer it."""
    try:
        from threadpoolctl import threadpool_info  # type: ignore[import-not-found]

        info = threadpool_info()
        blas = ", ".join(
            f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
            f"{i.get('num_threads')} threads)"
            for i in info
            if i.get("user_api") == "blas"
        )
    except ImportError:
        config = np.show_config(mode="dicts")
        dep = config["Build Dependencies"]["blas"]
        blas = f"{dep.get('name')} {dep.get('version')} ({dep.get('openblas configuration', '')})"
    env = ", ".join(
        f"{k}={os.environ[k]}"
        for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
        if k in os.environ
    )
    return (
        f"NumPy {np.__version__}, BLAS: {' '.join(blas.split())}"
        + (f"; {env}" if env else "; no OPENBLAS_*/OMP_* variables set")
        + f"; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )


@dataclass
class Row:
    name: str
    sizes: str
    batch: int
    iterations: int
    bare: float
    keep: float
    engine: float
    engine10: float

    @property
    def ratio(self) -> float:
        return self.engine / self.bare


HEADERS = [
    "network",
    "sizes",
    "batch",
    "iterations",
    "bare (ms)",
    "bare + keep (ms)",
    "engine (ms)",
    "engine / bare",
    "engine / (bare + keep)",
    "every=10 / bare",
]


def cells(r: Row) -> list[str]:
    return [
        r.name,
        r.sizes,
        str(r.batch),
        str(r.iterations),
        f"{r.bare * 1e3:.1f}",
        f"{r.keep * 1e3:.1f}",
        f"{r.engine * 1e3:.1f}",
        f"{r.ratio:.2f}×",
        f"{r.engine / r.keep:.2f}×",
        f"{r.engine10 / r.bare:.2f}×",
    ]


def measure(config: Config, repeats: int) -> Row:
    """Time the bare loop, the bare loop that keeps its arrays, and the engine."""
    config = replace(config, every=1)
    bare_w, _ = bare_train(config)
    final = run(config, every=1).steps[-1].layers
    for W, rec in zip(bare_w, final, strict=True):  # the same training, the same numbers
        if not np.allclose(W, rec.W_next, rtol=1e-10, atol=1e-12):
            raise SystemExit(f"{config.name}: the bare loop and the engine disagree")
    best = best_times(
        {
            "bare": lambda: bare_train(config),
            "keep": lambda: bare_train(config, keep=[]),
            "engine": lambda: run(config, every=1),
            "engine10": lambda: run(config, every=10),
        },
        repeats,
    )
    return Row(
        config.name,
        "-".join(map(str, config.sizes)),
        config.x.shape[1],
        config.iterations,
        **best,
    )


def peak_mib(fn: Callable[[], object]) -> float:
    """Peak memory traced while ``fn`` runs, in MiB, above what was allocated before.

    tracemalloc sees NumPy's array buffers (NumPy reports them to it).
    """
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return (peak - base) / 2**20


def memory_rows(iteration_counts: list[int]) -> list[list[str]]:
    """Peak memory of ``run`` at 784-128-10 for growing runs, three recording policies."""
    config = big_config()
    rows = []
    for n in iteration_counts:
        row = [str(n)]
        for every in (1, 10, max(1, n // 10)):
            c = replace(config, iterations=n, every=every)
            steps = len(recorded_iterations(n, every))
            mib = peak_mib(partial(run, c))
            row += [f"{steps}", f"{mib:.1f}"]
        rows.append(row)
    return rows


MEMORY_HEADERS = [
    "iterations",
    "every=1: steps",
    "every=1: peak MiB",
    "every=10: steps",
    "every=10: peak MiB",
    "every=n/10: steps",
    "every=n/10: peak MiB",
]


def streamed(config: Config, path: Path) -> int:
    """What ``backprop trace -o PATH`` does: run with the file writer as the sink of the
    steps and of the losses.

    Returns the number of recorded steps; none of them is kept in memory.
    """
    n = len(recorded_iterations(config.iterations, config.every))
    with open_trace_writer(path, config, n) as writer:
        run(config, on_record=writer.add, on_loss=writer.add_loss)
        writer.finish()
    return n


def max_rss_kib() -> int:
    """This process's resident-set high-water mark, KiB.

    ``VmHWM`` from ``/proc/self/status`` where there is one: ``getrusage``'s ``ru_maxrss``
    of a child starts at its *parent's* high-water mark (Linux carries it over fork and
    exec), so in a child of a big benchmark process it never moves. Elsewhere,
    ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def rss_case(mode: str, iterations: int, every: int) -> None:
    """Child process of :func:`rss_mib`: print the growth of the max RSS in KiB.

    The baseline is taken after the imports and the config are built, so the figure is
    what the run itself added to the process's resident high-water mark (NumPy buffers,
    and also any pages a memory map or the allocator keeps, which tracemalloc misses).
    """
    xor, suffix = mode.startswith("xor-"), mode.removeprefix("xor-")
    config = replace(
        load_preset("xor") if xor else big_config(), iterations=iterations, every=every
    )
    run(replace(config, iterations=2))  # warm up NumPy/BLAS buffers outside the figure
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        before = max_rss_kib()
        if mode == "streamed":
            streamed(config, Path(tmp) / "t.npz")
        elif suffix in ("json", "npz", "csv"):
            streamed(config, Path(tmp) / f"t.{suffix}")
        else:
            trace = run(config)
            del trace
        after = max_rss_kib()
    print(after - before)


def rss_mib(mode: str, iterations: int, every: int) -> float:
    """Max-RSS growth of one run in a fresh process, MiB. ``mode``: ``memory`` or
    ``streamed`` at 784-128-10; ``xor-memory``, ``xor-json``, ``xor-npz`` or ``xor-csv``
    for the ``xor`` preset."""
    proc = subprocess.run(
        [sys.executable, __file__, "--rss-case", mode, str(iterations), str(every)],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return int(proc.stdout.split()[-1]) / 1024


def streaming_rows(iteration_counts: list[int], every: int = 10) -> list[list[str]]:
    """Peak memory at 784-128-10, every=10: in memory vs streamed to a temporary .npz."""
    config = big_config()
    rows = []
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        for n in iteration_counts:
            c = replace(config, iterations=n, every=every)
            steps = len(recorded_iterations(n, every))
            memory = peak_mib(partial(run, c))
            stream = peak_mib(partial(streamed, c, Path(tmp) / "t.npz"))
            size = (Path(tmp) / "t.npz").stat().st_size / 2**20
            rows.append(
                [
                    str(n),
                    str(steps),
                    f"{memory:.1f}",
                    f"{stream:.1f}",
                    f"{rss_mib('memory', n, every):.1f}",
                    f"{rss_mib('streamed', n, every):.1f}",
                    f"{size:.0f}",
                ]
            )
    return rows


STREAMING_HEADERS = [
    "iterations",
    "steps (every=10)",
    "in memory: peak MiB",
    "streamed .npz: peak MiB",
    "in memory: max-RSS +MiB",
    "streamed .npz: max-RSS +MiB",
    "file MiB",
]


def losses_rows(iteration_counts: list[int]) -> list[list[str]]:
    """Max-RSS growth of long 2-2-1 runs recording two steps: the losses, kept or streamed."""
    rows = []
    for n in iteration_counts:
        row = [f"{n:,}", f"{n * 8 / 2**20:.2f}"]
        for mode in ("xor-memory", "xor-json", "xor-npz", "xor-csv"):
            row.append(f"{rss_mib(mode, n, n):.2f}")
        rows.append(row)
    return rows


LOSSES_HEADERS = [
    "iterations",
    "losses MiB",
    "run() in memory: max-RSS +MiB",
    "streamed .json: max-RSS +MiB",
    "streamed .npz: max-RSS +MiB",
    "streamed .csv: max-RSS +MiB",
]


def streaming_time_rows(iterations: int, repeats: int) -> list[list[str]]:
    """Wall time at 784-128-10 recording every iteration: what writing the file costs.

    ``run`` alone (in memory, no file), the old ``backprop trace`` path (``run`` then
    ``save_trace``) and the streamed path (``run`` with the writer as its sink), all to
    ``.npz`` in a temporary folder beside the working directory (on disk, not tmpfs).
    """
    config = replace(big_config(), iterations=iterations, every=1)
    rows = []
    with tempfile.TemporaryDirectory(dir=".") as tmp:
        out = Path(tmp) / "t.npz"
        best = best_times(
            {
                "run": lambda: run(config),
                "save": lambda: save_trace(run(config), out),
                "stream": lambda: streamed(config, out),
            },
            repeats,
        )
        size = out.stat().st_size / 2**20
    for name, label in [
        ("run", "run() in memory, no file"),
        ("save", "run() then save_trace()"),
        ("stream", "run(on_record=writer.add), streamed"),
    ]:
        rows.append(
            [
                label,
                f"{best[name] * 1e3:.0f}",
                f"{best[name] / best['run']:.2f}×",
                f"{best[name] / best['save']:.2f}×",
            ]
        )
    rows.append([f"(file: {size:.0f} MiB, {iterations} steps)", "", "", ""])
    return rows


STREAMING_TIME_HEADERS = ["784-128-10, every=1, to .npz", "ms", "/ run", "/ run+save"]


def digits_line(repeats: int) -> str:
    """The digits preset: training time (best of ``repeats``), recording time, accuracy."""
    config = load_preset("digits")
    best = best_times({"train": lambda: train(config), "run": lambda: run(config)}, repeats)
    weights, biases = train(config)
    assert config.x_test is not None and config.y_test is not None
    test = accuracy(config, weights, biases, config.x_test, config.y_test)
    steps = len(recorded_iterations(config.iterations, config.every))
    return (
        f"digits preset ({'-'.join(map(str, config.sizes))}, batch {config.batch_size}, "
        f"{config.iterations} steps): train() {best['train'] * 1e3:.0f} ms, run() recording "
        f"{steps} steps {best['run'] * 1e3:.0f} ms (best of {repeats}); test accuracy "
        f"{test:.1%} of {config.x_test.shape[1]}"
    )


def print_table(console: Console, title: str, headers: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for i, h in enumerate(headers):
        table.add_column(h, justify="left" if i < 2 and not h[0].isdigit() else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)


def markdown(headers: list[str], rows: list[list[str]]) -> str:
    """The same table in Markdown, to paste into the README."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sweep")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per timing")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory sweep")
    parser.add_argument("--markdown", action="store_true", help="also print Markdown tables")
    parser.add_argument(
        "--streaming-only", action="store_true", help="only the streamed-trace tables (issue 2)"
    )
    parser.add_argument(
        "--digits-only", action="store_true", help="only the digits preset's training time"
    )
    parser.add_argument(
        "--losses-only", action="store_true", help="only the losses of long 2-2-1 runs"
    )
    parser.add_argument("--rss-case", nargs=3, metavar=("MODE", "N", "EVERY"), help="internal")
    args = parser.parse_args()
    if args.rss_case:
        rss_case(args.rss_case[0], int(args.rss_case[1]), int(args.rss_case[2]))
        return
    repeats = args.repeats or (3 if args.quick else 7)
    console = Console(width=160)
    console.print(blas_line(), highlight=False)
    if os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        console.print(
            "[yellow]warning: the machine is busy; times are noisy (the best of "
            f"{repeats} is kept, turns alternate between the loops)[/]"
        )
    if args.streaming_only:
        print_streaming(console, args, repeats)
        return
    if args.digits_only:
        console.print(digits_line(repeats), highlight=False)
        return
    if args.losses_only:
        rows = losses_rows([3_000, 30_000] if args.quick else [30_000, 300_000])
        title = "xor (2-2-1), two recorded steps: every iteration's loss, kept or streamed"
        print_table(console, title, LOSSES_HEADERS, rows)
        if args.markdown:
            console.print(
                markdown(LOSSES_HEADERS, rows), highlight=False, markup=False, soft_wrap=True
            )
        return
    presets = [load_preset(n) for n in preset_names()]
    configs = [c for c in presets if c.batch_size is None] + [big_config()]
    rows = [measure(c, repeats) for c in configs]
    timing = [cells(r) for r in rows]
    title = f"Recording every iteration: engine vs bare NumPy (best of {repeats}, wall clock)"
    print_table(console, title, HEADERS, timing)
    big = rows[-1]
    console.print(
        f"784-128-10: engine / bare = {big.ratio:.2f}×; "
        f"keeping the arrays alone costs {big.keep / big.bare:.2f}×",
        highlight=False,
    )
    console.print(digits_line(repeats), highlight=False)
    memory: list[list[str]] = []
    if not args.no_memory:
        memory = memory_rows([100, 200] if args.quick else [100, 200, 400])
        print_table(
            console,
            "Peak memory of run() at 784-128-10, batch 64 (tracemalloc)",
            MEMORY_HEADERS,
            memory,
        )
    if args.markdown:
        console.print(markdown(HEADERS, timing), highlight=False, markup=False, soft_wrap=True)
        if memory:
            console.print(
                markdown(MEMORY_HEADERS, memory), highlight=False, markup=False, soft_wrap=True
            )
    if not args.no_memory:
        print_streaming(console, args, repeats)


def print_streaming(console: Console, args: argparse.Namespace, repeats: int) -> None:
    """The streamed path (issue 2): flat memory at every=10, and its cost at every=1."""
    counts = [100, 200] if args.quick else [100, 200, 400, 800]
    rows = streaming_rows(counts)
    title = "Peak memory at 784-128-10, batch 64, every=10: in memory vs streamed to .npz"
    print_table(console, title, STREAMING_HEADERS, rows)
    times = streaming_time_rows(20 if args.quick else 50, max(2, repeats // 2))
    title = "Writing the trace while training vs after it (best of several, wall clock)"
    print_table(console, title, STREAMING_TIME_HEADERS, times)
    if args.markdown:
        for headers, table in [(STREAMING_HEADERS, rows), (STREAMING_TIME_HEADERS, times)]:
            console.print(markdown(headers, table), highlight=False, markup=False, soft_wrap=True)


if __name__ == "__main__":
    main()
