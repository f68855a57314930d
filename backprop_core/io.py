"""Saving and loading traces: ``.json`` (public format), ``.npz`` (compact), ``.csv`` (summary).

The JSON layout is documented in ``docs/trace-format.md``; its top-level names are fixed
because other tools read them. Every file is written atomically through
:mod:`backprop_core.files` (a locked temporary file beside the output, then a rename), so
a failure never leaves a partial file or clobbers a good one. Loading validates
everything against a strict schema and the documented limits (:mod:`backprop_core.limits`)
before it allocates, and raises :class:`BackpropError` naming the file and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config, parse_config
from backprop_core.errors import BackpropError, did_you_mean
from backprop_core.files import (
    TEMP_MARK,
    atomic_file,
    read_limited,
    scratch_file,
    write_atomically,
)
from backprop_core.limits import (
    MAX_INT,
    MAX_JSON_BYTES,
    MAX_META_BYTES,
    MAX_TRACE_BYTES,
    step_values,
)
from backprop_core.network import accuracy
from backprop_core.trace import (
    FORMAT,
    LAYER_FIELDS,
    VERSIONS,
    LayerRecord,
    Step,
    Trace,
    format_version,
)
from backprop_core.version import __version__

Array = NDArray[np.float64]

SUFFIXES = (".json", ".npz", ".csv")
LOADABLE = (".json", ".npz")


# --- writing -------------------------------------------------------------------------------


def _header(config: Config, package_version: str) -> dict[str, Any]:
    """The fields that come before the steps, in the JSON document and in ``.npz`` meta."""
    return {
        "format": FORMAT,
        "version": format_version(config),
        "package_version": package_version,
        "seed": config.seed,
        "config": config.to_dict(),
    }


def _step_to_dict(s: Step) -> dict[str, Any]:
    batch = {} if s.batch is None else {"epoch": s.epoch, "batch": s.batch.tolist()}
    return {
        "iteration": s.iteration,
        **batch,
        "loss": s.loss,
        "loss_after": s.loss_after,
        "input": s.input.tolist(),
        "target": s.target.tolist(),
        "grad_a": s.grad_a.tolist(),
        "layers": [{f: getattr(r, f).tolist() for f in LAYER_FIELDS} for r in s.layers],
    }


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The JSON document of a trace: plain lists, rows first, floats exact.

    ``losses`` comes after ``steps``, because a streamed trace knows every iteration's
    loss only at the end (:class:`JsonTraceWriter` writes the same bytes in that order,
    copying the losses from a scratch file).
    """
    doc = _header(trace.config, trace.package_version)
    doc["version"] = trace.version
    doc["steps"] = [_step_to_dict(s) for s in trace.steps]
    doc["losses"] = trace.losses.tolist()
    return doc


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


class TraceWriter(Protocol):
    """Writes a trace one completed step and one loss at a time (see :func:`open_trace_writer`).

    ``add`` is called once per recorded step, in order, ``add_loss`` once per iteration,
    in order, and ``finish`` once at the end; only the current step is ever held in
    memory, and no loss (the losses wait in a scratch file beside the output).
    """

    def add(self, step: Step) -> None: ...

    def add_loss(self, loss: float) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None: ...


_FLOAT64 = struct.Struct("<d")
"""One loss in a scratch file: little-endian float64, the bytes of ``losses``' ``.npy``."""

LOSS_CHUNK = 1 << 12
"""Losses copied from the scratch file into the output at a time (32 KiB of float64): the
memory ``finish`` needs for them, whatever the number of iterations."""


def _spooled(spool: IO[bytes]) -> Iterator[Array]:
    """The float64 losses of a scratch file, :data:`LOSS_CHUNK` at a time, from the start."""
    spool.flush()
    spool.seek(0)
    while data := spool.read(LOSS_CHUNK * _FLOAT64.size):
        yield np.frombuffer(data, dtype="<f8")


class _Counting:
    """Counts steps against the announced number and losses against the iterations, so a
    short or long stream is caught."""

    def __init__(self, config: Config, n_steps: int) -> None:
        self.config = config
        self.n_steps = n_steps
        self.count = 0
        self.n_losses = 0
        self.finished = False

    def _next(self) -> int:
        if self.finished:
            raise ValueError("add() after finish()")
        if self.count >= self.n_steps:
            raise ValueError(f"more steps than the {self.n_steps} announced")
        self.count += 1
        return self.count - 1

    def _next_loss(self) -> None:
        if self.finished:
            raise ValueError("add_loss() after finish()")
        if self.n_losses >= self.config.iterations:
            raise ValueError(f"more losses than the {self.config.iterations} iterations")
        self.n_losses += 1

    def _finish(self) -> None:
        if self.count != self.n_steps:
            raise ValueError(f"{self.count} steps written, {self.n_steps} announced")
        if self.n_losses != self.config.iterations:
            raise ValueError(
                f"{self.n_losses} losses added, expected one per iteration "
                f"({self.config.iterations})"
            )
        self.finished = True


class JsonTraceWriter(_Counting):
    """The ``.json`` format, streamed: header, then each step's object, then ``losses``.

    The losses come last in the document but one per iteration during the run, so they
    wait in a scratch file beside the output (:func:`~backprop_core.files.scratch_file`)
    and ``finish`` copies them in, :data:`LOSS_CHUNK` at a time.
    """

    def __init__(
        self, f: IO[bytes], config: Config, n_steps: int, package_version: str = __version__
    ) -> None:
        super().__init__(config, n_steps)
        self.f = f
        self.spool = scratch_file(f, "losses")
        head = _dumps(_header(config, package_version))
        f.write(head[:-1] + b',"steps":[')  # the header object, left open

    def add(self, step: Step) -> None:
        if self._next():
            self.f.write(b",")
        for chunk in _step_chunks(step):
            self.f.write(chunk)

    def add_loss(self, loss: float) -> None:
        self._next_loss()
        self.spool.write(_FLOAT64.pack(loss))

    def finish(self) -> None:
        self._finish()
        # The same bytes as ``_dumps(losses.tolist())``, a chunk of floats at a time.
        self.f.write(b'],"losses":[')
        for i, chunk in enumerate(_spooled(self.spool)):
            if i:
                self.f.write(b",")
            self.f.write(_dumps(chunk.tolist())[1:-1])
        self.f.write(b"]}\n")
        self.close()

    def close(self) -> None:
        """Remove the scratch file (after ``finish``, or after a failure)."""
        self.spool.close()


def _array_chunks(a: Array) -> Iterator[bytes]:
    """``_dumps(a.tolist())`` a row at a time: the same bytes, one row's list in memory."""
    if a.ndim < 2:
        yield _dumps(a.tolist())
        return
    yield b"["
    for i, row in enumerate(a):
        if i:
            yield b","
        yield from _array_chunks(row)
    yield b"]"


def _step_chunks(s: Step) -> Iterator[bytes]:
    """``_dumps(_step_to_dict(s))`` in pieces, so writing a step of a wide network never
    holds the whole step as Python lists (a float in a list costs 32 bytes, not 8)."""
    yield b'{"iteration":' + _dumps(s.iteration)
    if s.batch is not None:
        yield b',"epoch":' + _dumps(s.epoch) + b',"batch":' + _dumps(s.batch.tolist())
    yield b',"loss":' + _dumps(s.loss) + b',"loss_after":' + _dumps(s.loss_after)
    for key in ("input", "target", "grad_a"):
        yield b',"' + key.encode() + b'":'
        yield from _array_chunks(getattr(s, key))
    yield b',"layers":['
    for l, r in enumerate(s.layers):
        yield b",{" if l else b"{"
        for j, f in enumerate(LAYER_FIELDS):
            yield (b',"' if j else b'"') + f.encode() + b'":'
            yield from _array_chunks(getattr(r, f))
        yield b"}"
    yield b"]}"


def _stacked_keys(config: Config) -> dict[str, tuple[int, ...]]:
    """Every ``.npz`` array stacked per step, with one step's shape, in ``np.savez`` order.

    All are float64 but a mini-batch trace's ``batch``, int64 (see :data:`INT_KEYS`).
    """
    m = config.m
    n0, nL = config.sizes[0], config.sizes[-1]
    keys: dict[str, tuple[int, ...]] = {} if config.batch_size is None else {"batch": (m,)}
    keys.update({"input": (n0, m), "target": (nL, m), "grad_a": (nL, m)})
    per_layer = shapes(config, m)
    for i in range(config.num_layers):
        for f in LAYER_FIELDS:
            keys[f"layer{i + 1}/{f}"] = per_layer[f][i]
    return keys


INT_KEYS = frozenset({"batch"})
"""Stacked ``.npz`` arrays of sample indices (int64); every other one is float64."""


class NpzTraceWriter(_Counting):
    """The ``.npz`` format, streamed through one scratch ``.npy`` file per stacked array.

    The number of steps ``S`` is known in advance, so each stacked array's file gets its
    ``.npy`` header for shape ``(S, ...)`` at once and each step appends its row. The rows
    are plain sequential writes, not a memory map: mapped pages stay resident and make the
    process grow with ``S`` (measured: 400 rows of 784 KiB through ``open_memmap`` raise
    the resident high-water mark by 306 MiB; written sequentially, by 0). The losses,
    one per iteration, go the same way into a file of their own with the header for
    shape ``(iterations,)``. ``finish`` copies the files into the archive in chunks
    (``ZIP_STORED``, entries ``key.npy``, as ``np.savez`` writes them), so
    ``np.load(allow_pickle=False)`` and :func:`load_trace` read it unchanged.
    """

    CHUNK = 1 << 20

    def __init__(
        self,
        f: IO[bytes],
        config: Config,
        n_steps: int,
        package_version: str = __version__,
        scratch: Path | None = None,
    ) -> None:
        super().__init__(config, n_steps)
        self.f = f
        self.meta = json.dumps(_header(config, package_version))
        self.iterations = np.zeros(n_steps, dtype=np.int64)
        self.loss = np.zeros(n_steps)
        self.loss_after = np.zeros(n_steps)
        self.epochs = np.zeros(n_steps, dtype=np.int64)
        # Named after the output's temporary file, so a killed run's folder is found and
        # removed by the next write of that output (backprop_core.files.clean_stale).
        name = getattr(f, "name", None)
        prefix = f"{Path(name).name}." if isinstance(name, str) else f".npz-parts{TEMP_MARK}."
        self.dir = Path(tempfile.mkdtemp(prefix=prefix, dir=scratch))
        self.shapes = _stacked_keys(config)
        self.files: dict[str, IO[bytes]] = {}
        self.losses: IO[bytes] | None = None
        try:
            self.losses = open(self.dir / "losses.npy", "w+b")  # closed in close()
            header = {"descr": "<f8", "fortran_order": False, "shape": (config.iterations,)}
            np.lib.format.write_array_header_1_0(self.losses, header)
            for i, (key, shape) in enumerate(self.shapes.items()):
                part = open(self.dir / f"{i}.npy", "w+b")  # closed in close()
                self.files[key] = part
                header = {
                    "descr": np.lib.format.dtype_to_descr(self._dtype(key)),
                    "fortran_order": False,
                    "shape": (n_steps, *shape),
                }
                np.lib.format.write_array_header_1_0(part, header)
        except BaseException:
            self.close()
            raise

    def add(self, step: Step) -> None:
        i = self._next()
        self.iterations[i] = step.iteration
        self.loss[i] = step.loss
        self.loss_after[i] = step.loss_after
        rows: dict[str, Any] = {"input": step.input, "target": step.target, "grad_a": step.grad_a}
        if step.epoch is not None:
            self.epochs[i] = step.epoch
            rows["batch"] = step.batch
        for i, layer in enumerate(step.layers):
            for f in LAYER_FIELDS:
                rows[f"layer{i + 1}/{f}"] = getattr(layer, f)
        for key, part in self.files.items():
            row = np.ascontiguousarray(rows[key], dtype=self._dtype(key))
            if row.shape != self.shapes[key]:
                raise ValueError(f"{key} has shape {row.shape}, expected {self.shapes[key]}")
            part.write(row.data)

    def add_loss(self, loss: float) -> None:
        self._next_loss()
        assert self.losses is not None
        self.losses.write(_FLOAT64.pack(loss))

    def finish(self) -> None:
        self._finish()
        assert self.losses is not None
        small: dict[str, Any] = {
            "iteration": self.iterations,
            "loss": self.loss,
            "loss_after": self.loss_after,
        }
        if self.config.batch_size is not None:
            small["epoch"] = self.epochs
        with zipfile.ZipFile(self.f, mode="w", compression=zipfile.ZIP_STORED) as archive:
            with archive.open("meta.npy", "w", force_zip64=True) as entry:
                self._write_meta(entry)
            self._copy(archive, "losses", self.losses, LOSS_CHUNK * _FLOAT64.size)
            for key, value in small.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, value, allow_pickle=False)
            for key, part in self.files.items():
                self._copy(archive, key, part, self.CHUNK)
        self.close()

    @staticmethod
    def _copy(archive: zipfile.ZipFile, key: str, part: IO[bytes], chunk: int) -> None:
        """Scratch file ``part`` (header and rows) as member ``key.npy``, ``chunk`` bytes at
        a time."""
        part.flush()
        part.seek(0)
        with archive.open(f"{key}.npy", "w", force_zip64=True) as entry:
            shutil.copyfileobj(part, entry, chunk)

    @staticmethod
    def _dtype(key: str) -> np.dtype[Any]:
        return np.dtype(np.int64 if key in INT_KEYS else np.float64)

    def _write_meta(self, entry: IO[bytes]) -> None:
        """``np.array(meta)`` as ``.npy``, without building it: the same bytes, in chunks.

        A 0-d unicode array is UCS-4, four bytes per character; for a 784-128-10 config
        (its initial weights and data are in the JSON) that is 12 MiB, and ``np.save``
        would hold it twice more. Encoding slices of the string keeps one chunk at a time.
        """
        dtype = np.dtype(f"<U{len(self.meta)}")
        header = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": (),
        }
        np.lib.format.write_array_header_1_0(entry, header)
        chunk = self.CHUNK // 4
        for start in range(0, len(self.meta), chunk):
            entry.write(self.meta[start : start + chunk].encode("utf-32-le"))

    def close(self) -> None:
        """Remove the scratch files (after ``finish``, or after a failure)."""
        if self.losses is not None:
            self.losses.close()
        for part in self.files.values():
            part.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def csv_header(config: Config) -> list[str | int | float]:
    """The CSV header: losses, accuracy for classification, per-layer gradient norms."""
    header: list[str | int | float] = ["iteration", "loss", "loss_after"]
    if config.is_classification:
        header.append("train_accuracy")
        if _has_test_set(config):
            header.append("test_accuracy")
    for l in range(1, config.num_layers + 1):
        header += [f"dW{l}_norm", f"db{l}_norm"]
    return header


def _has_test_set(config: Config) -> bool:
    return config.x_test is not None and config.x_test.shape[1] > 0


def step_accuracy(config: Config, s: Step) -> tuple[float, float | None]:
    """The step's accuracy on the training set and on the test set (``None`` without one).

    Measured with the step's ``W`` and ``b``, before its update, as its ``loss`` is.
    """
    weights = [r.W for r in s.layers]
    biases = [r.b for r in s.layers]
    train = accuracy(config, weights, biases, config.x, config.y)
    if not _has_test_set(config):
        return train, None
    assert config.x_test is not None and config.y_test is not None
    return train, accuracy(config, weights, biases, config.x_test, config.y_test)


def csv_row(config: Config, s: Step) -> list[str | int | float]:
    """One recorded iteration's CSV row."""
    row: list[str | int | float] = [s.iteration, repr(s.loss), repr(s.loss_after)]
    if config.is_classification:
        train, test = step_accuracy(config, s)
        row += [repr(train)] + ([] if test is None else [repr(test)])
    for r in s.layers:
        row += [repr(float(np.linalg.norm(r.dW))), repr(float(np.linalg.norm(r.db)))]
    return row


def csv_rows(trace: Trace) -> list[list[str | int | float]]:
    """Header and one row per recorded iteration (see :func:`csv_header`)."""
    return [csv_header(trace.config), *(csv_row(trace.config, s) for s in trace.steps)]


class CsvTraceWriter(_Counting):
    """The ``.csv`` summary, streamed: the header, then one row per step (the losses of
    the iterations between are counted, not written)."""

    def __init__(
        self, f: IO[bytes], config: Config, n_steps: int, package_version: str = __version__
    ) -> None:
        super().__init__(config, n_steps)
        self.f = f
        self._write(csv_header(config))

    def _write(self, row: list[str | int | float]) -> None:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(row)
        self.f.write(text.getvalue().encode("utf-8"))

    def add(self, step: Step) -> None:
        self._next()
        self._write(csv_row(self.config, step))

    def add_loss(self, loss: float) -> None:
        self._next_loss()

    def finish(self) -> None:
        self._finish()

    def close(self) -> None:
        """Nothing to remove: the summary has no scratch file."""


def _scratch_beside(f: IO[bytes]) -> Path | None:
    name = getattr(f, "name", None)
    return Path(name).parent if isinstance(name, str) else None


def _make_writer(
    suffix: str, f: IO[bytes], config: Config, n_steps: int, package_version: str
) -> JsonTraceWriter | NpzTraceWriter | CsvTraceWriter:
    if suffix == ".npz":
        return NpzTraceWriter(f, config, n_steps, package_version, _scratch_beside(f))
    if suffix == ".csv":
        return CsvTraceWriter(f, config, n_steps, package_version)
    return JsonTraceWriter(f, config, n_steps, package_version)


def _check_suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise BackpropError(
            str(path), None, f"unknown suffix {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
    return suffix


JSON_BYTES_PER_NUMBER = 26
"""A float64 written by ``repr`` with its comma and its share of brackets: at most 26
bytes (``-1.2345678901234567e-308,``), so the estimate never falls short of the file."""


def check_writable(path: Path, config: Config, n_steps: int) -> None:
    """Refuse, before training, a trace the readers would refuse for its size.

    ``.npz``: its recorded steps against :data:`MAX_TRACE_BYTES`; ``.json``: its estimated
    size (:data:`JSON_BYTES_PER_NUMBER` per number) against :data:`MAX_JSON_BYTES`.
    """
    c = _Checker(str(path))
    suffix = path.suffix.lower()
    if suffix in LOADABLE:
        _check_memory(c, config, n_steps)
    if suffix == ".json":
        numbers = n_steps * step_values(config.sizes, config.m) + config.iterations
        estimate = numbers * JSON_BYTES_PER_NUMBER
        if estimate > MAX_JSON_BYTES:
            raise c.fail(
                None,
                f"this trace would be about {estimate >> 20} MiB of JSON; the limit is "
                f"{MAX_JSON_BYTES >> 20} MiB (see docs/trace-format.md, Limits): write .npz "
                "or record fewer steps with --every",
            )


@contextmanager
def open_trace_writer(
    path: str | Path, config: Config, n_steps: int, package_version: str = __version__
) -> Iterator[TraceWriter]:
    """Stream a trace into ``path`` (format by suffix), atomically.

    ``config`` is the trace's config (its ``every`` as recorded) and ``n_steps`` the
    number of steps that will be added (``count_recorded(...)``). Call
    ``add(step)`` per completed step, ``add_loss(loss)`` per iteration and ``finish()``
    at the end, inside the block. The file appears only when the block ends after
    ``finish``; an exception (or a block that never calls ``finish``) leaves nothing
    behind, scratch files included, and keeps an existing file.

    Examples
    --------
    >>> with open_trace_writer("t.npz", config, n) as writer:  # doctest: +SKIP
    ...     run(config, on_record=writer.add, on_loss=writer.add_loss)
    ...     writer.finish()
    """
    path = Path(path)
    suffix = _check_suffix(path)
    check_writable(path, config, n_steps)
    with atomic_file(path) as f:
        writer = _make_writer(suffix, f, config, n_steps, package_version)
        try:
            yield writer
            if not writer.finished:
                raise RuntimeError(f"{path}: the trace writer was closed before finish()")
        finally:
            writer.close()


def _save_with(suffix: str) -> Callable[[Trace, IO[bytes]], None]:
    """A ``WRITERS`` entry: the in-memory trace, fed through the streaming writer."""

    def write(trace: Trace, f: IO[bytes]) -> None:
        writer = _make_writer(suffix, f, trace.config, len(trace.steps), trace.package_version)
        try:
            for step in trace.steps:
                writer.add(step)
            for loss in trace.losses:  # one at a time, as a run hands them over
                writer.add_loss(float(loss))
            writer.finish()
        finally:
            writer.close()

    return write


WRITERS: dict[str, Callable[[Trace, IO[bytes]], None]] = {s: _save_with(s) for s in SUFFIXES}


def save_trace(trace: Trace, path: str | Path) -> None:
    """Write a trace; the format follows the suffix (``.json``, ``.npz`` or ``.csv``).

    The same writers as :func:`open_trace_writer`, fed from memory, so a saved and a
    streamed trace are the same bytes (``.json``, ``.csv``) or load equal (``.npz``).
    """
    path = Path(path)
    suffix = _check_suffix(path)
    check_writable(path, trace.config, len(trace.steps))
    writer = WRITERS[suffix]
    write_atomically(path, lambda f: writer(trace, f))


# --- reading -------------------------------------------------------------------------------

TOP_KEYS = ("format", "version", "package_version", "seed", "config", "steps", "losses")
"""Every top-level key of a trace document (and, but for the last two, of ``.npz`` meta)."""

STEP_KEYS = ("iteration", "loss", "loss_after", "input", "target", "grad_a", "layers")
"""Every key of one step."""
BATCH_STEP_KEYS = (*STEP_KEYS[:1], "epoch", "batch", *STEP_KEYS[1:])
"""Every key of one step of a mini-batch trace (``train.batch_size``, version 2)."""


def _unknown(c: _Checker, keys: Any, valid: tuple[str, ...], where: str) -> None:
    """Refuse a key not in ``valid``, suggesting the nearest valid one."""
    for key in keys:
        if key not in valid and not str(key).startswith("x_"):
            hint = did_you_mean(str(key), valid)
            field = f"{where}.{key}" if where else str(key)
            raise c.fail(_short(field), f"unknown key; {hint}valid: {', '.join(valid)}")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _numbers_only(value: Any) -> bool:
    """Whether nested lists hold only ints and floats (a bool or ``"1.5"`` is no number)."""
    stack = [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(v)
        elif type(v) is not float and (type(v) is not int or abs(v) > MAX_INT):
            return False
    return True


class _Checker:
    """Validates a loaded document, naming ``file: field`` in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str | None, message: str) -> BackpropError:
        return BackpropError(self.source, field, message)

    def array(self, value: Any, field: str, shape: tuple[int, ...]) -> Array:
        if isinstance(value, np.ndarray):
            if value.dtype != np.float64:
                raise self.fail(field, f"must be float64, got {value.dtype}; re-export the trace")
            arr = value
        else:
            if not _numbers_only(value):
                raise self.fail(
                    field, "must be a matrix of numbers (nested lists, rows first)"
                ) from None
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError, OverflowError):
                raise self.fail(
                    field, "must be a matrix of numbers (nested lists, rows first)"
                ) from None
        if arr.shape != shape:
            want = "×".join(map(str, shape))
            got = "×".join(map(str, arr.shape)) or "a scalar"
            raise self.fail(field, f"has shape {got}, expected {want} from the config's sizes")
        if not np.all(np.isfinite(arr)):
            raise self.fail(field, "contains NaN or infinity; re-export the trace")
        return arr

    def number(self, value: Any, field: str) -> float:
        if (
            type(value) not in (int, float)
            or (type(value) is int and abs(value) > MAX_INT)
            or not math.isfinite(value)
        ):
            raise self.fail(field, f"must be a finite number, got {_short(repr(value))}")
        return float(value)

    def header(self, doc: Any) -> Config:
        if not isinstance(doc, dict):
            raise self.fail("format", "not a backprop trace (expected a JSON object)")
        if doc.get("format") != FORMAT:
            raise self.fail("format", f"is {_short(repr(doc.get('format')))}, expected {FORMAT!r}")
        version = doc.get("version")
        if type(version) is not int or version not in VERSIONS:
            known = " and ".join(map(str, VERSIONS))
            raise self.fail(
                "version",
                f"is {_short(repr(version))}; this backprop-anim reads versions {known}: "
                "re-export the trace with this version",
            )
        _unknown(self, doc, TOP_KEYS, "")
        if not isinstance(doc.get("package_version", ""), str):
            raise self.fail("package_version", "must be text")
        seed = doc.get("seed", 0)
        if type(seed) is not int or not 0 <= seed <= MAX_INT:
            raise self.fail("seed", f"must be a whole number ≥ 0, got {_short(repr(seed))}")
        if not isinstance(doc.get("config"), dict):
            raise self.fail("config", "missing or not an object")
        try:
            config = parse_config(doc["config"], source=self.source)
        except BackpropError as exc:
            raise self.fail(f"config.{exc.field}", exc.message) from None
        if format_version(config) > version:
            raise self.fail(
                "version",
                f"is {version}, but the config uses train.batch_size or data.dataset "
                f"(version {format_version(config)}); the file is inconsistent, re-export it",
            )
        return config

    def batch(self, s: dict[str, Any], where: str, config: Config) -> tuple[int, Any]:
        """A mini-batch step's ``epoch`` and ``batch`` (indices into ``config.x``'s columns)."""
        epoch = s.get("epoch")
        if type(epoch) is not int or not 1 <= epoch <= config.iterations:
            raise self.fail(
                f"{where}.epoch",
                f"must be a whole number from 1 to {config.iterations} (train.iterations), "
                f"got {_short(repr(epoch))}",
            )
        raw = s.get("batch")
        n = config.x.shape[1]
        if (
            type(raw) is not list
            or len(raw) != config.m
            or not all(type(i) is int and 0 <= i < n for i in raw)
            or len(set(raw)) != len(raw)
        ):
            raise self.fail(
                f"{where}.batch",
                f"must list {config.m} distinct sample indices in 0..{n - 1} (train.batch_size)",
            )
        return epoch, np.array(raw, dtype=np.int64)


def shapes(config: Config, m: int) -> dict[str, list[tuple[int, ...]]]:
    """The expected shape of every layer field, per layer, for a batch of ``m``."""
    n = config.sizes
    out: dict[str, list[tuple[int, ...]]] = {}
    for f in LAYER_FIELDS:
        per_layer: list[tuple[int, ...]] = []
        for l in range(1, len(n)):
            if f in ("W", "dW", "W_next"):
                per_layer.append((n[l], n[l - 1]))
            elif f in ("b", "db", "b_next"):
                per_layer.append((n[l], 1))
            else:
                per_layer.append((n[l], m))
        out[f] = per_layer
    return out


def _check_memory(c: _Checker, config: Config, n_steps: int) -> None:
    """Refuse a trace whose recorded steps would exceed :data:`MAX_TRACE_BYTES`."""
    need = 8 * n_steps * step_values(config.sizes, config.m)
    if need > MAX_TRACE_BYTES:
        raise c.fail(
            "steps",
            f"{n_steps} recorded steps need {need >> 20} MiB; at most "
            f"{MAX_TRACE_BYTES >> 20} MiB are allowed (see docs/trace-format.md, Limits): "
            "record fewer with --every",
        )


def trace_from_dict(doc: Any, source: str) -> Trace:
    """Validate a JSON document and build the :class:`Trace` it describes."""
    c = _Checker(source)
    config = c.header(doc)
    m = config.m
    expected = shapes(config, m)
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise c.fail("steps", "missing or empty; a trace records at least one iteration")
    if len(raw_steps) > config.iterations:
        raise c.fail("steps", f"has {len(raw_steps)} steps for {config.iterations} iterations")
    _check_memory(c, config, len(raw_steps))
    step_keys = STEP_KEYS if config.batch_size is None else BATCH_STEP_KEYS
    steps = []
    for i, s in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(s, dict):
            raise c.fail(where, "must be an object")
        _unknown(c, s, step_keys, where)
        it = s.get("iteration")
        if type(it) is not int or not 1 <= it <= config.iterations:
            raise c.fail(
                f"{where}.iteration",
                f"must be a whole number from 1 to {config.iterations}, got {_short(repr(it))}",
            )
        layers_raw = s.get("layers")
        if not isinstance(layers_raw, list) or len(layers_raw) != config.num_layers:
            raise c.fail(f"{where}.layers", f"must list {config.num_layers} layers")
        layers = []
        for l, layer in enumerate(layers_raw):
            if not isinstance(layer, dict):
                raise c.fail(f"{where}.layers[{l}]", "must be an object")
            _unknown(c, layer, LAYER_FIELDS, f"{where}.layers[{l}]")
            values = {}
            for f in LAYER_FIELDS:
                if f not in layer:
                    raise c.fail(f"{where}.layers[{l}].{f}", "missing field")
                values[f] = c.array(layer[f], f"{where}.layers[{l}].{f}", expected[f][l])
            layers.append(LayerRecord(**values))
        n0, nL = config.sizes[0], config.sizes[-1]
        step = Step(
            iteration=it,
            loss=c.number(s.get("loss"), f"{where}.loss"),
            loss_after=c.number(s.get("loss_after"), f"{where}.loss_after"),
            input=c.array(s.get("input"), f"{where}.input", (n0, m)),
            target=c.array(s.get("target"), f"{where}.target", (nL, m)),
            grad_a=c.array(s.get("grad_a"), f"{where}.grad_a", (nL, m)),
            layers=tuple(layers),
        )
        if config.batch_size is not None:
            epoch, batch = c.batch(s, where, config)
            for name, array, data in (
                ("input", step.input, config.x),
                ("target", step.target, config.y),
            ):
                if not np.array_equal(array, data[:, batch]):
                    raise c.fail(
                        f"{where}.{name}",
                        "is not the columns `batch` of the config's data; re-export the trace",
                    )
            step = replace(step, epoch=epoch, batch=batch)
        steps.append(step)
    iterations = [s.iteration for s in steps]
    if iterations != sorted(set(iterations)):
        raise c.fail("steps", "iterations must be increasing and distinct")
    losses = doc.get("losses")
    if isinstance(losses, list) and len(losses) != config.iterations:
        raise c.fail("losses", f"must list the loss of all {config.iterations} iterations")
    if not isinstance(losses, (list, np.ndarray)):
        raise c.fail("losses", f"must list the loss of all {config.iterations} iterations")
    losses_arr = c.array(losses, "losses", (config.iterations,))
    return Trace(
        config=config,
        steps=tuple(steps),
        package_version=str(doc.get("package_version", "")),
        losses=losses_arr,
    )


_NPZ_SMALL = ("losses", "iteration", "loss", "loss_after")
_NPZ_STACKED = ("input", "target", "grad_a")
_NPZ_BATCHES = ("epoch", "batch")
"""The members of a mini-batch trace only: each step's epoch and its batch's indices."""
_ZIP_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}


class _NpzReader:
    """The members of an ``.npz`` trace, each checked from its ``.npy`` header (dtype,
    shape, size) before a byte of its data is inflated, against a total budget.

    ``np.load`` would inflate whatever a member declares (a 2.6 MB zip bomb declares
    gigabytes); here a member is read only once its shape is the one the config
    implies, and never more bytes than that shape holds.
    """

    def __init__(self, archive: zipfile.ZipFile, source: str) -> None:
        self.c = _Checker(source)
        self.archive = archive
        self.budget = MAX_TRACE_BYTES
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            name = info.filename
            if info.flag_bits & 0x1:
                raise self.c.fail(name, "is encrypted; a trace's members must be plain")
            if info.compress_type not in _ZIP_METHODS:
                raise self.c.fail(
                    name,
                    f"uses compression method {info.compress_type}; only stored and deflate "
                    "members are read: re-export the trace",
                )
            if not name.endswith(".npy") or name[:-4] in self.members:
                raise self.c.fail(_short(name), "unexpected member; not a backprop trace")
            self.members[name[:-4]] = info

    def check_names(self, num_layers: int, batched: bool) -> None:
        valid = (
            "meta",
            *_NPZ_SMALL,
            *(_NPZ_BATCHES if batched else ()),
            *_NPZ_STACKED,
            *(f"layer{l + 1}/{f}" for l in range(num_layers) for f in LAYER_FIELDS),
        )
        _unknown(self.c, self.members, valid, "")
        for key in valid:
            if key not in self.members:
                raise self.c.fail(key, "missing array")

    def require_meta(self) -> None:
        if "meta" not in self.members:
            raise self.c.fail("meta", "missing; not a backprop trace")

    def read(
        self, key: str, kind: str, shape: tuple[int, ...] | None, step_field: str = ""
    ) -> NDArray[Any]:
        """Member ``key``: ``kind`` ``"f"`` (float64) or ``"i"`` (integers); ``shape``
        ``None`` for a 1-d array of any length; ``step_field`` names one step's slice of a
        stacked array in a shape error."""
        value = self._read(key, kind, shape, step_field)
        assert not isinstance(value, str)
        return value

    def read_text(self, key: str) -> str:
        """Member ``key``, a 0-d UCS-4 text array, as a string."""
        value = self._read(key, "U", (), "")
        assert isinstance(value, str)
        return value

    def _read(
        self, key: str, kind: str, shape: tuple[int, ...] | None, step_field: str
    ) -> NDArray[Any] | str:
        if key not in self.members:
            raise self.c.fail(key, "missing array")
        with self.archive.open(self.members[key]) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise self.c.fail(key, f"has .npy version {version}; re-export the trace")
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            got, fortran, dtype = read_header(f)
            self._check_dtype(key, kind, dtype)
            if kind == "U":
                want: tuple[int, ...] = ()
            elif shape is None:
                want = got if len(got) == 1 else (-1,)
            else:
                want = shape
            if got != want and step_field and len(got) == len(want) and got[0] == want[0]:
                text, need = "×".join(map(str, got[1:])), "×".join(map(str, want[1:]))
                raise self.c.fail(
                    step_field, f"has shape {text}, expected {need} from the config's sizes"
                )
            if got != want and step_field and got[:1] != want[:1]:
                count = got[0] if got else "no"
                raise self.c.fail(key, f"has {count} entries for {want[0]} iterations")
            if got != want:
                text = "×".join(map(str, got)) or "a scalar"
                need = "×".join(map(str, want)) if shape is not None else "a list"
                raise self.c.fail(key, f"has shape {text}, expected {need}")
            nbytes = math.prod(got) * dtype.itemsize
            limit = MAX_META_BYTES if kind == "U" else self.budget
            if nbytes > limit:
                raise self.c.fail(
                    key,
                    f"declares {nbytes >> 20} MiB; at most {limit >> 20} MiB are read "
                    "(see docs/trace-format.md, Limits)",
                )
            if kind == "U":
                return self._text(f, key, nbytes)
            self.budget -= nbytes
            arr = np.empty(got, dtype=dtype, order="F" if fortran else "C")
            view = memoryview(arr.reshape(-1, order="A").view(np.uint8))  # type: ignore[arg-type]
            done = 0
            while done < nbytes:
                n = f.readinto(view[done:])  # type: ignore[attr-defined]
                if not n:
                    raise self.c.fail(key, "is truncated; re-export the trace")
                done += n
            return arr

    def _text(self, f: IO[bytes], key: str, nbytes: int) -> str:
        """A UCS-4 member decoded a chunk at a time (a character costs 1 byte in the
        string, 4 in the file); a first chunk that is not a JSON object stops at once,
        so a bomb of zeros is refused after 1 MiB, not after its declared size."""
        parts: list[str] = []
        done = 0
        while done < nbytes:
            chunk = f.read(min(1 << 20, nbytes - done))
            if not chunk or len(chunk) % 4:
                raise self.c.fail(key, "is truncated; re-export the trace")
            try:
                text = chunk.decode("utf-32-le")
            except UnicodeDecodeError:
                raise self.c.fail(key, "is not valid text; the file is corrupted") from None
            if not done and not text.lstrip().startswith("{"):
                raise self.c.fail(key, "must be a JSON object; not a backprop trace")
            parts.append(text)
            done += len(chunk)
        return "".join(parts).rstrip("\x00")

    def _check_dtype(self, key: str, kind: str, dtype: np.dtype[Any]) -> None:
        if dtype.hasobject:
            raise BackpropError(
                self.c.source,
                None,
                f"not a readable .npz: {key} holds pickled objects, which a trace never "
                "does; re-export it",
            )
        if kind == "f" and dtype == np.dtype("<f8"):
            return
        if kind == "i" and dtype.kind in "iu" and dtype.itemsize <= 8 and dtype.byteorder != ">":
            return
        if kind == "U" and dtype.kind == "U" and dtype.byteorder != ">":
            return
        want = {"f": "float64", "i": "whole numbers (int64)", "U": "text"}[kind]
        raise self.c.fail(key, f"must hold {want}, got {dtype}; re-export the trace")


def _npz_to_dict(archive: zipfile.ZipFile, source: str) -> dict[str, Any]:
    """Rebuild the JSON document layout from an ``.npz`` trace, checking before inflating."""
    r = _NpzReader(archive, source)
    c = r.c
    r.require_meta()
    meta = r.read_text("meta")
    try:
        doc = json.loads(meta)
    except json.JSONDecodeError:
        raise c.fail("meta", "is not valid JSON; the file is corrupted") from None
    if not isinstance(doc, dict):
        raise c.fail("meta", "must be a JSON object")
    _unknown(c, doc, TOP_KEYS[:-2], "meta")
    config = c.header(doc)
    L = config.num_layers
    batched = config.batch_size is not None
    r.check_names(L, batched)
    iterations = r.read("iteration", "i", None)
    S = len(iterations)
    if not 1 <= S <= config.iterations:
        raise c.fail("iteration", f"has {S} entries; expected 1 to {config.iterations}")
    if iterations.min() < 1 or iterations.max() > config.iterations:
        raise c.fail("iteration", f"must lie between 1 and {config.iterations}")
    _check_memory(c, config, S)
    m = config.m
    n0, nL = config.sizes[0], config.sizes[-1]
    expected = shapes(config, m)
    losses = r.read("losses", "f", (config.iterations,))
    # Mini-batch traces (version 2) also stack each step's epoch and batch indices.
    batches: dict[str, NDArray[Any]] = (
        {
            "epoch": r.read("epoch", "i", (S,)),
            "batch": r.read("batch", "i", (S, m), "steps[0].batch"),
        }
        if batched
        else {}
    )
    stacked: dict[str, NDArray[Any]] = {
        "loss": r.read("loss", "f", (S,)),
        "loss_after": r.read("loss_after", "f", (S,)),
        "input": r.read("input", "f", (S, n0, m), "steps[0].input"),
        "target": r.read("target", "f", (S, nL, m), "steps[0].target"),
        "grad_a": r.read("grad_a", "f", (S, nL, m), "steps[0].grad_a"),
    }
    per_layer = {
        (l, f): r.read(f"layer{l + 1}/{f}", "f", (S, *expected[f][l]), f"steps[0].layers[{l}].{f}")
        for l in range(L)
        for f in LAYER_FIELDS
    }
    doc["losses"] = losses
    doc["steps"] = [
        {
            "iteration": int(it),
            **{k: v[i].tolist() for k, v in batches.items()},
            **{k: (float(v[i]) if v.ndim == 1 else v[i]) for k, v in stacked.items()},
            "layers": [{f: per_layer[(l, f)][i] for f in LAYER_FIELDS} for l in range(L)],
        }
        for i, it in enumerate(iterations.tolist())
    ]
    return doc


_NPZ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    ValueError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
    KeyError,
)


def load_trace(path: str | Path) -> Trace:
    """Read and validate a ``.json`` or ``.npz`` trace."""
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in LOADABLE:
        raise BackpropError(
            source, None, f"cannot load {suffix or 'a file without suffix'}; use .json or .npz"
        )
    if not path.is_file():
        raise BackpropError(source, None, "file not found; check the path or run `backprop trace`")
    if suffix == ".json":
        data = read_limited(path, MAX_JSON_BYTES, ".json trace")
        try:
            doc = json.loads(data.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise BackpropError(
                source,
                None,
                f"not valid JSON, truncated or corrupted ({_short(str(exc), 120)}); re-export it",
            ) from None
        return trace_from_dict(doc, source)
    try:
        with open(path, "rb") as f:
            if f.read(6) == b"\x93NUMPY":
                raise BackpropError(source, None, "is a single .npy array, not a .npz trace")
        with zipfile.ZipFile(path) as archive:
            doc = _npz_to_dict(archive, source)
    except BackpropError:
        raise
    except _NPZ_ERRORS as exc:
        raise BackpropError(
            source,
            None,
            f"not a readable .npz, truncated or corrupted ({_short(str(exc), 120)}); re-export it",
        ) from None
    return trace_from_dict(doc, source)
