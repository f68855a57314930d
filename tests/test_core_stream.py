"""Tier 1: traces streamed to disk step by step (issue 2, ``--every`` with flat memory).

``run(config, on_record=writer.add)`` passes each completed step to a writer of
:func:`backprop_core.io.open_trace_writer` and keeps none. The streamed file must be the
same bytes as :func:`save_trace` of the in-memory trace (``.json``, ``.csv``) or load
equal (``.npz``); a run that fails part-way leaves no file and keeps a good one; and the
peak memory of a streamed run does not grow with the number of iterations.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backprop_cli import cli
from backprop_cli.cli import main
from backprop_core.config import Config, load_preset, parse_config, preset_text
from backprop_core.errors import BackpropError
from backprop_core.io import (
    NpzTraceWriter,
    load_trace,
    open_trace_writer,
    save_trace,
    trace_to_dict,
)
from backprop_core.trace import Step, Trace, recorded_iterations, run


def random_config(
    sizes: tuple[int, ...] = (4, 5, 3, 2), m: int = 3, iterations: int = 17
) -> Config:
    """Softmax + cross-entropy on a small batch, seeded: every optional part of a trace."""
    rng = np.random.default_rng(5)
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    return parse_config(
        {
            "network": {
                "sizes": list(sizes),
                "activations": ["tanh"] * (len(sizes) - 2) + ["softmax"],
                "loss": "cross_entropy",
            },
            "init": {"seed": 11},
            "data": {"x": rng.standard_normal((m, sizes[0])).tolist(), "y": y.tolist()},
            "train": {"learning_rate": 0.3, "iterations": iterations, "every": 4},
        },
        source="random",
    )


CONFIGS = {
    "delta-demo": lambda: load_preset("delta-demo"),
    "seed-scalar": lambda: load_preset("seed-scalar"),
    "random every 4": random_config,
}


def stream(config: Config, path: Path, every: int | None = None) -> Trace:
    """What ``backprop trace`` does: run with the writer as the sink."""
    if every is not None:
        config = replace(config, every=every)
    n = len(recorded_iterations(config.iterations, config.every))
    with open_trace_writer(path, config, n) as writer:
        trace = run(config, on_record=writer.add, on_loss=writer.add_loss)
        writer.finish()
    return trace


@pytest.mark.parametrize("name", CONFIGS)
def test_streamed_json_is_byte_identical_to_save_trace(name: str, tmp_path: Path) -> None:
    config = CONFIGS[name]()
    streamed = stream(config, tmp_path / "streamed.json")
    assert streamed.steps == ()  # nothing kept in memory
    in_memory = run(config)
    save_trace(in_memory, tmp_path / "saved.json")
    data = (tmp_path / "streamed.json").read_bytes()
    assert data == (tmp_path / "saved.json").read_bytes()
    # ... and both are the documented document, written compactly in one go.
    whole = json.dumps(trace_to_dict(in_memory), separators=(",", ":"), allow_nan=False)
    assert data == whole.encode() + b"\n"
    assert list(json.loads(data)) == [
        "format",
        "version",
        "package_version",
        "seed",
        "config",
        "steps",
        "losses",
    ]
    assert streamed.losses.size == 0  # the losses went to the file, not into memory
    assert np.array_equal(load_trace(tmp_path / "streamed.json").losses, in_memory.losses)


@pytest.mark.parametrize("name", CONFIGS)
def test_streamed_npz_loads_equal(name: str, tmp_path: Path) -> None:
    config = CONFIGS[name]()
    stream(config, tmp_path / "streamed.npz")
    in_memory = run(config)
    save_trace(in_memory, tmp_path / "saved.npz")
    assert load_trace(tmp_path / "streamed.npz") == in_memory
    assert load_trace(tmp_path / "saved.npz") == in_memory
    with (
        np.load(tmp_path / "streamed.npz", allow_pickle=False) as a,
        np.load(tmp_path / "saved.npz", allow_pickle=False) as b,
    ):
        assert a.files == b.files
        for key in a.files:
            assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key
    with zipfile.ZipFile(tmp_path / "streamed.npz") as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no scratch


def test_streamed_npz_matches_numpy_savez(tmp_path: Path) -> None:
    """Entry names, order, shapes and dtypes as ``np.savez`` writes them."""
    trace = run(random_config())
    stream(random_config(), tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz", allow_pickle=False) as f:
        assert f["layer3/W"].shape == (len(trace.steps), 2, 3)
        assert f["iteration"].dtype == np.int64
        assert f["iteration"].tolist() == [1, 4, 8, 12, 16, 17]
        assert f["meta"].dtype.kind == "U"
        assert f.files[:8] == [
            "meta",
            "losses",
            "iteration",
            "loss",
            "loss_after",
            "input",
            "target",
            "grad_a",
        ]


def test_streamed_csv_is_byte_identical(tmp_path: Path) -> None:
    config = random_config()
    stream(config, tmp_path / "streamed.csv")
    save_trace(run(config), tmp_path / "saved.csv")
    assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "saved.csv").read_bytes()


def diverging() -> Config:
    """The question's neuron with a learning rate far too big: it overflows part-way."""
    return replace(load_preset("seed-scalar"), learning_rate=1.0, iterations=400, every=1)


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_divergence_mid_run_leaves_no_file(suffix: str, tmp_path: Path) -> None:
    seen: list[int] = []
    path = tmp_path / f"t{suffix}"
    config = diverging()
    with (
        pytest.raises(BackpropError, match=r"training diverged|smaller train\.learning_rate"),
        open_trace_writer(path, config, config.iterations) as writer,
    ):

        def record(step: Step) -> None:
            seen.append(step.iteration)
            writer.add(step)

        run(config, on_record=record)
    assert len(seen) > 10  # steps were written before it failed ...
    assert list(tmp_path.iterdir()) == []  # ... yet neither the file nor a scratch one is left


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_a_failing_sink_keeps_the_good_file(suffix: str, tmp_path: Path) -> None:
    config = load_preset("delta-demo")
    path = tmp_path / f"t{suffix}"
    save_trace(run(config), path)
    good = path.read_bytes()

    class BoomError(Exception):
        pass

    with pytest.raises(BoomError), open_trace_writer(path, config, config.iterations) as writer:

        def record(step: Step) -> None:
            writer.add(step)
            if step.iteration == 20:
                raise BoomError

        run(config, on_record=record)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_writer_closed_before_finish_writes_nothing(tmp_path: Path) -> None:
    config = load_preset("delta-demo")
    path = tmp_path / "t.npz"
    with (
        pytest.raises(RuntimeError, match="before finish"),
        open_trace_writer(path, config, config.iterations) as writer,
    ):
        run(config, on_record=writer.add)
    assert list(tmp_path.iterdir()) == []


def test_the_announced_number_of_steps_is_checked(tmp_path: Path) -> None:
    config = load_preset("delta-demo")
    with (
        pytest.raises(ValueError, match="49 steps written, 50 announced"),
        open_trace_writer(tmp_path / "t.json", config, config.iterations) as writer,
    ):
        run(replace(config, iterations=49), on_record=writer.add, on_loss=writer.add_loss)
        writer.add_loss(0.0)
        writer.finish()
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_fails_before_training(tmp_path: Path) -> None:
    with pytest.raises(BackpropError, match=r"unknown suffix '\.txt'"):
        open_trace_writer(tmp_path / "t.txt", load_preset("delta-demo"), 50).__enter__()
    assert list(tmp_path.iterdir()) == []


def peak_bytes(fn: Callable[[], object]) -> int:
    """Peak traced bytes (NumPy buffers included) while ``fn`` runs, above the start."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_streamed_peak_memory_does_not_grow_with_iterations(tmp_path: Path) -> None:
    """200-64-10, batch 16, every=10, to ``.npz``: 11 vs 41 recorded steps, the same peak.

    (``.json`` streams through the same sink; under tracemalloc its many small Python
    objects make the same check take seconds, so it is measured in benchmarks/engine.py.)

    One step here holds about 0.33 MB (three 64×200 weight matrices: W, dW, W_next), so
    the 30 more steps of 400 iterations would add about 10 MB if they were kept, as the
    in-memory run shows.
    """
    config = replace(random_config((200, 64, 10), m=16, iterations=100), every=10)
    longer = replace(config, iterations=400)
    step = run(replace(config, iterations=1)).steps[0]
    step_bytes = sum(a.nbytes for layer in step.layers for a in vars(layer).values())
    small = peak_bytes(lambda: stream(config, tmp_path / "a.npz"))
    large = peak_bytes(lambda: stream(longer, tmp_path / "b.npz"))
    assert large <= small + step_bytes // 2, (small, large, step_bytes)
    in_memory = peak_bytes(lambda: run(longer))
    assert in_memory > large + 20 * step_bytes, (in_memory, large, step_bytes)
    print(f"streamed peak: {small} B at 100, {large} B at 400; in memory {in_memory} B")


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_cli_peak_memory_is_flat_in_the_iteration_count(
    suffix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`backprop trace` of the 2-2-1 XOR net, 2 recorded steps: 100 and 1,000 iterations
    reach the same peak, so no loss is kept per iteration, in the engine, the writer or
    the summary.

    The peaks are tracemalloc's, in this process: of training, and of the rest of the
    command (``finish`` and the summary). Reading the config peaks higher and comes
    before, so it would hide the figures. Here the losses are copied into the output 16
    at a time (not ``backprop_core.io.LOSS_CHUNK``) and ``.npz`` members 1 KiB at a time,
    so that both runs copy several chunks and no fixed buffer hides what grows. Keeping
    the 900 more losses would add 7.2 kB as a float64 array and 29 kB as a list of
    floats; the bound is a quarter of the first.
    """
    monkeypatch.setattr("backprop_core.io.LOSS_CHUNK", 16)
    monkeypatch.setattr(NpzTraceWriter, "CHUNK", 1024)
    marks: list[int] = []

    def mark() -> None:
        """End the current phase: its peak above its start; then start the next one."""
        current, peak = tracemalloc.get_traced_memory()
        if marks:
            marks[-1] = peak - marks[-1]
        tracemalloc.reset_peak()
        marks.append(current)

    def measured_run(*args: Any, **kwargs: Any) -> Trace:
        mark()
        trace = run(*args, **kwargs)
        mark()
        return trace

    monkeypatch.setattr(cli, "run", measured_run)

    def trace(iterations: int) -> tuple[int, int]:
        """Peak bytes of training, and of the rest (``finish`` and the summary)."""
        config = tmp_path / f"xor{iterations}.toml"
        config.write_text(
            preset_text("xor")
            .replace("iterations = 3000", f"iterations = {iterations}")
            .replace("every = 10", f"every = {iterations}")
        )
        out = tmp_path / f"xor{iterations}{suffix}"
        monkeypatch.setattr(sys, "argv", ["backprop", "trace", "-c", str(config), "-o", str(out)])
        gc.collect()
        marks.clear()
        tracemalloc.start()
        try:
            main()
            mark()
        finally:
            tracemalloc.stop()
        assert "Loss 0.8" in capsys.readouterr().out  # the summary's first loss
        if suffix != ".csv":
            assert len(load_trace(out).losses) == iterations
        return marks[0], marks[1]

    trace(10)  # imports and caches outside the figures
    small, large = trace(100), trace(1000)
    print(f"`backprop trace` to {suffix}, peaks (training, rest): {small} B, 100 iterations;")
    print(f"{large} B, 1,000 iterations")
    for phase in (0, 1):
        assert large[phase] - small[phase] < 900 * 8 // 4, (small, large)


def test_npz_entries_are_the_bytes_numpy_save_writes(tmp_path: Path) -> None:
    """Each entry (headers included) is what ``np.save`` writes for the loaded array."""
    path = tmp_path / "t.npz"
    stream(random_config(), path)
    with zipfile.ZipFile(path) as z, np.load(path, allow_pickle=False) as f:
        for key in f.files:
            expected = io.BytesIO()
            np.save(expected, f[key], allow_pickle=False)
            assert z.read(f"{key}.npy") == expected.getvalue(), key


def test_npz_scratch_files_live_beside_the_output(tmp_path: Path) -> None:
    """Scratch rows go to the output's folder (same disk, never a RAM-backed /tmp)."""
    config = load_preset("delta-demo")
    seen: list[set[str]] = []
    with open_trace_writer(tmp_path / "t.npz", config, config.iterations) as writer:

        def record(step: Step) -> None:
            writer.add(step)
            seen.append({p.name.split(".")[1] for p in tmp_path.iterdir() if p.is_dir()})

        run(config, on_record=record, on_loss=writer.add_loss)
        writer.finish()
    assert seen[0] == {"t"}  # .t.npz.XXXX.backprop-tmp.YYYY, named after the output
    assert [p.name for p in tmp_path.iterdir()] == ["t.npz"]


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_cli_divergence_keeps_the_good_file(
    suffix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`backprop trace` streams: a run that diverges half-way leaves the old file as it was."""

    out = tmp_path / f"t{suffix}"
    save_trace(run(load_preset("seed-scalar")), out)
    good = out.read_bytes()
    config = tmp_path / "fast.toml"
    config.write_text(
        preset_text("seed-scalar")
        .replace("learning_rate = 0.007", "learning_rate = 1.0")
        .replace("iterations = 20", "iterations = 400")
    )
    monkeypatch.setattr(sys, "argv", ["backprop", "trace", "-c", str(config), "-o", str(out)])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert len(err.splitlines()) == 1 and "diverged" in err and "Traceback" not in err
    assert out.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, "fast.toml"])
