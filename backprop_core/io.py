"""Saving and loading traces: ``.json`` (public format), ``.npz`` (compact), ``.csv`` (summary).

The JSON layout is documented in ``docs/trace-format.md``; its top-level names are fixed
because other tools read them. Every file is written atomically (a temporary file in the
same folder, then a rename), so a failure never leaves a partial file or clobbers a good
one. Loading validates everything and raises :class:`BackpropError` naming the file and
the field at fault.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config, parse_config
from backprop_core.errors import BackpropError
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


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
    with atomic_file(path) as f:
        write(f)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``path``, renamed over ``path`` only if the block succeeds.

    Any exception inside the block (a failed write, a training run that diverges, an
    interrupt) removes the temporary file and leaves an existing ``path`` untouched; an
    ``OSError`` becomes a one-line :class:`BackpropError`. The yielded file's ``name`` is
    the temporary path, so writers can put scratch files in the same folder.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BackpropError(str(path), None, f"folder {str(directory)!r} does not exist; create it")
    if path.is_dir():
        raise BackpropError(str(path), None, "is a folder; give a file name such as trace.json")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise BackpropError(str(path), None, f"cannot write here ({exc.strerror})") from None
    os.close(fd)
    try:
        # Reopened by name so that ``f.name`` is the temporary path; closed before the rename.
        f = open(tmp, "wb")
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise BackpropError(str(path), None, f"cannot write here ({exc.strerror})") from None
    try:
        with f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise BackpropError(
            str(path), None, f"cannot write ({exc.strerror}); nothing was written"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
    loss only at the end (:class:`JsonTraceWriter` writes the same bytes in that order).
    """
    doc = _header(trace.config, trace.package_version)
    doc["version"] = trace.version
    doc["steps"] = [_step_to_dict(s) for s in trace.steps]
    doc["losses"] = trace.losses.tolist()
    return doc


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


class TraceWriter(Protocol):
    """Writes a trace one completed step at a time (see :func:`open_trace_writer`).

    ``add`` is called once per recorded step, in order, ``finish`` once at the end with
    the loss of every iteration; only the current step is ever held in memory.
    """

    def add(self, step: Step) -> None: ...

    def finish(self, losses: Array) -> None: ...


class _Counting:
    """Counts steps against the announced number, so a short or long stream is caught."""

    def __init__(self, config: Config, n_steps: int) -> None:
        self.config = config
        self.n_steps = n_steps
        self.count = 0
        self.finished = False

    def _next(self) -> int:
        if self.finished:
            raise ValueError("add() after finish()")
        if self.count >= self.n_steps:
            raise ValueError(f"more steps than the {self.n_steps} announced")
        self.count += 1
        return self.count - 1

    def _finish(self, losses: Array) -> None:
        if self.count != self.n_steps:
            raise ValueError(f"{self.count} steps written, {self.n_steps} announced")
        if losses.shape != (self.config.iterations,):
            raise ValueError(
                f"losses has shape {losses.shape}, expected ({self.config.iterations},)"
            )
        self.finished = True


class JsonTraceWriter(_Counting):
    """The ``.json`` format, streamed: header, then each step's object, then ``losses``."""

    def __init__(
        self, f: IO[bytes], config: Config, n_steps: int, package_version: str = __version__
    ) -> None:
        super().__init__(config, n_steps)
        self.f = f
        head = _dumps(_header(config, package_version))
        f.write(head[:-1] + b',"steps":[')  # the header object, left open

    def add(self, step: Step) -> None:
        if self._next():
            self.f.write(b",")
        self.f.write(_dumps(_step_to_dict(step)))

    def finish(self, losses: Array) -> None:
        self._finish(losses)
        self.f.write(b'],"losses":' + _dumps(losses.tolist()) + b"}\n")


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
    the resident high-water mark by 306 MiB; written sequentially, by 0). ``finish``
    copies the files into the archive in 1 MiB chunks (``ZIP_STORED``, entries
    ``key.npy``, as ``np.savez`` writes them), so ``np.load(allow_pickle=False)`` and
    :func:`load_trace` read it unchanged.
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
        self.iterations: list[int] = []
        self.loss: list[float] = []
        self.loss_after: list[float] = []
        self.epochs: list[int] = []
        self.dir = Path(tempfile.mkdtemp(prefix=".npz-parts.", dir=scratch))
        self.shapes = _stacked_keys(config)
        self.files: dict[str, IO[bytes]] = {}
        try:
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
        self._next()
        self.iterations.append(step.iteration)
        self.loss.append(step.loss)
        self.loss_after.append(step.loss_after)
        rows: dict[str, Any] = {"input": step.input, "target": step.target, "grad_a": step.grad_a}
        if step.epoch is not None:
            self.epochs.append(step.epoch)
            rows["batch"] = step.batch
        for i, layer in enumerate(step.layers):
            for f in LAYER_FIELDS:
                rows[f"layer{i + 1}/{f}"] = getattr(layer, f)
        for key, part in self.files.items():
            row = np.ascontiguousarray(rows[key], dtype=self._dtype(key))
            if row.shape != self.shapes[key]:
                raise ValueError(f"{key} has shape {row.shape}, expected {self.shapes[key]}")
            part.write(row.data)

    def finish(self, losses: Array) -> None:
        self._finish(losses)
        small: dict[str, Any] = {
            "losses": np.asarray(losses, dtype=np.float64),
            "iteration": np.array(self.iterations, dtype=np.int64),
            "loss": np.array(self.loss, dtype=np.float64),
            "loss_after": np.array(self.loss_after, dtype=np.float64),
        }
        if self.config.batch_size is not None:
            small["epoch"] = np.array(self.epochs, dtype=np.int64)
        with zipfile.ZipFile(self.f, mode="w", compression=zipfile.ZIP_STORED) as archive:
            with archive.open("meta.npy", "w", force_zip64=True) as entry:
                self._write_meta(entry)
            for key, value in small.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, value, allow_pickle=False)
            for key, part in self.files.items():
                part.flush()
                part.seek(0)
                with archive.open(f"{key}.npy", "w", force_zip64=True) as entry:
                    shutil.copyfileobj(part, entry, self.CHUNK)
        self.close()

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
    """The ``.csv`` summary, streamed: the header, then one row per step."""

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

    def finish(self, losses: Array) -> None:
        self._finish(losses)


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


@contextmanager
def open_trace_writer(
    path: str | Path, config: Config, n_steps: int, package_version: str = __version__
) -> Iterator[TraceWriter]:
    """Stream a trace into ``path`` (format by suffix), atomically.

    ``config`` is the trace's config (its ``every`` as recorded) and ``n_steps`` the
    number of steps that will be added (``len(recorded_iterations(...))``). Call
    ``add(step)`` per completed step and ``finish(losses)`` at the end, inside the
    block. The file appears only when the block ends after ``finish``; an exception (or a
    block that never calls ``finish``) leaves nothing behind and keeps an existing file.

    Examples
    --------
    >>> with open_trace_writer("t.npz", config, n) as writer:  # doctest: +SKIP
    ...     trace = run(config, on_record=writer.add)
    ...     writer.finish(trace.losses)
    """
    path = Path(path)
    suffix = _check_suffix(path)
    with atomic_file(path) as f:
        writer = _make_writer(suffix, f, config, n_steps, package_version)
        try:
            yield writer
            if not writer.finished:
                raise RuntimeError(f"{path}: the trace writer was closed before finish()")
        finally:
            if isinstance(writer, NpzTraceWriter):
                writer.close()


def _save_with(suffix: str) -> Callable[[Trace, IO[bytes]], None]:
    """A ``WRITERS`` entry: the in-memory trace, fed through the streaming writer."""

    def write(trace: Trace, f: IO[bytes]) -> None:
        writer = _make_writer(suffix, f, trace.config, len(trace.steps), trace.package_version)
        try:
            for step in trace.steps:
                writer.add(step)
            writer.finish(trace.losses)
        finally:
            if isinstance(writer, NpzTraceWriter):
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
    writer = WRITERS[suffix]
    write_atomically(path, lambda f: writer(trace, f))


# --- reading -------------------------------------------------------------------------------


class _Checker:
    """Validates a loaded document, naming ``file: field`` in every error."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, message: str) -> BackpropError:
        return BackpropError(self.source, field, message)

    def array(self, value: Any, field: str, shape: tuple[int, ...]) -> Array:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
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
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise self.fail(field, f"must be a finite number, got {value!r}")
        return float(value)

    def header(self, doc: Any) -> Config:
        if not isinstance(doc, dict):
            raise self.fail("format", "not a backprop trace (expected a JSON object)")
        if doc.get("format") != FORMAT:
            raise self.fail("format", f"is {doc.get('format')!r}, expected {FORMAT!r}")
        version = doc.get("version")
        if isinstance(version, bool) or version not in VERSIONS:
            known = " and ".join(map(str, VERSIONS))
            raise self.fail(
                "version",
                f"is {version!r}; this backprop-anim reads versions {known}: "
                "re-export the trace with this version",
            )
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
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise self.fail(f"{where}.epoch", f"must be a whole number ≥ 1, got {epoch!r}")
        raw = s.get("batch")
        n = config.x.shape[1]
        if (
            not isinstance(raw, list)
            or len(raw) != config.m
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < n for i in raw)
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


def trace_from_dict(doc: Any, source: str) -> Trace:
    """Validate a JSON document and build the :class:`Trace` it describes."""
    c = _Checker(source)
    config = c.header(doc)
    m = config.m
    expected = shapes(config, m)
    raw_steps = doc.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise c.fail("steps", "missing or empty; a trace records at least one iteration")
    steps = []
    for i, s in enumerate(raw_steps):
        where = f"steps[{i}]"
        if not isinstance(s, dict):
            raise c.fail(where, "must be an object")
        it = s.get("iteration")
        if isinstance(it, bool) or not isinstance(it, int) or it < 1:
            raise c.fail(f"{where}.iteration", f"must be a whole number ≥ 1, got {it!r}")
        layers_raw = s.get("layers")
        if not isinstance(layers_raw, list) or len(layers_raw) != config.num_layers:
            raise c.fail(f"{where}.layers", f"must list {config.num_layers} layers")
        layers = []
        for l, layer in enumerate(layers_raw):
            if not isinstance(layer, dict):
                raise c.fail(f"{where}.layers[{l}]", "must be an object")
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
    if not isinstance(losses, list) or len(losses) != config.iterations:
        raise c.fail("losses", f"must list the loss of all {config.iterations} iterations")
    losses_arr = c.array(losses, "losses", (config.iterations,))
    return Trace(
        config=config,
        steps=tuple(steps),
        package_version=str(doc.get("package_version", "")),
        losses=losses_arr,
    )


def _npz_to_dict(arrays: Any, source: str) -> dict[str, Any]:
    """Rebuild the JSON document layout from the stacked arrays of an ``.npz`` file."""
    c = _Checker(source)
    if "meta" not in arrays.files:
        raise c.fail("meta", "missing; not a backprop trace")
    try:
        doc = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError:
        raise c.fail("meta", "is not valid JSON; the file is corrupted") from None
    if not isinstance(doc, dict):
        raise c.fail("meta", "must be a JSON object")

    def get(key: str) -> Array:
        if key not in arrays.files:
            raise c.fail(key, "missing array")
        return np.asarray(arrays[key])

    iterations = get("iteration")
    config = doc.get("config")
    network = config.get("network") if isinstance(config, dict) else None
    sizes = network.get("sizes") if isinstance(network, dict) else None
    L = len(sizes) - 1 if isinstance(sizes, list) else 0
    per_layer = {(l, f): get(f"layer{l + 1}/{f}") for l in range(max(L, 0)) for f in LAYER_FIELDS}
    stacked = {k: get(k) for k in ("loss", "loss_after", "input", "target", "grad_a")}
    for key, arr in [
        *stacked.items(),
        *((f"layer{l + 1}/{f}", a) for (l, f), a in per_layer.items()),
    ]:
        if len(arr) != len(iterations):
            raise c.fail(key, f"has {len(arr)} entries for {len(iterations)} iterations")
    # Mini-batch traces (version 2) also stack each step's epoch and batch indices.
    batches = {k: get(k) for k in ("epoch", "batch") if k in arrays.files}
    for key, arr in batches.items():
        if len(arr) != len(iterations):
            raise c.fail(key, f"has {len(arr)} entries for {len(iterations)} iterations")
    doc["losses"] = get("losses").tolist()
    doc["steps"] = [
        {
            "iteration": int(it),
            **{k: v[i].tolist() for k, v in batches.items()},
            **{k: (float(v[i]) if v.ndim == 1 else v[i]) for k, v in stacked.items()},
            "layers": [{f: per_layer[(l, f)][i] for f in LAYER_FIELDS} for l in range(L)],
        }
        for i, it in enumerate(iterations)
    ]
    return doc


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
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError) as exc:
            raise BackpropError(
                source, None, f"not valid JSON, truncated or corrupted ({exc}); re-export it"
            ) from None
        return trace_from_dict(doc, source)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise BackpropError(source, None, "is a single .npy array, not a .npz trace")
        with loaded as arrays:
            doc = _npz_to_dict(arrays, source)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BackpropError(
            source, None, f"not a readable .npz, truncated or corrupted ({exc}); re-export it"
        ) from None
    return trace_from_dict(doc, source)
