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
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.config import Config, parse_config
from backprop_core.errors import BackpropError
from backprop_core.trace import FORMAT, LAYER_FIELDS, VERSION, LayerRecord, Step, Trace

Array = NDArray[np.float64]

SUFFIXES = (".json", ".npz", ".csv")
LOADABLE = (".json", ".npz")


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
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
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
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


def trace_to_dict(trace: Trace) -> dict[str, Any]:
    """The JSON document of a trace: plain lists, rows first, floats exact."""
    return {
        "format": FORMAT,
        "version": trace.version,
        "package_version": trace.package_version,
        "seed": trace.seed,
        "config": trace.config.to_dict(),
        "losses": trace.losses.tolist(),
        "steps": [
            {
                "iteration": s.iteration,
                "loss": s.loss,
                "loss_after": s.loss_after,
                "input": s.input.tolist(),
                "target": s.target.tolist(),
                "grad_a": s.grad_a.tolist(),
                "layers": [{f: getattr(r, f).tolist() for f in LAYER_FIELDS} for r in s.layers],
            }
            for s in trace.steps
        ],
    }


def _write_json(trace: Trace, f: IO[bytes]) -> None:
    text = json.dumps(trace_to_dict(trace), separators=(",", ":"), allow_nan=False)
    f.write(text.encode("utf-8"))
    f.write(b"\n")


def _npz_arrays(trace: Trace) -> dict[str, Array]:
    steps = trace.steps
    meta = {
        "format": FORMAT,
        "version": trace.version,
        "package_version": trace.package_version,
        "seed": trace.seed,
        "config": trace.config.to_dict(),
    }
    arrays: dict[str, Any] = {
        "meta": np.array(json.dumps(meta)),
        "losses": trace.losses,
        "iteration": np.array([s.iteration for s in steps], dtype=np.int64),
        "loss": np.array([s.loss for s in steps]),
        "loss_after": np.array([s.loss_after for s in steps]),
        "input": np.stack([s.input for s in steps]),
        "target": np.stack([s.target for s in steps]),
        "grad_a": np.stack([s.grad_a for s in steps]),
    }
    for i in range(trace.config.num_layers):
        for f in LAYER_FIELDS:
            arrays[f"layer{i + 1}/{f}"] = np.stack([getattr(s.layers[i], f) for s in steps])
    return arrays


def _write_npz(trace: Trace, f: IO[bytes]) -> None:
    np.savez(f, **_npz_arrays(trace))  # type: ignore[arg-type]


def csv_rows(trace: Trace) -> list[list[str | int | float]]:
    """Header and one row per recorded iteration: losses and per-layer gradient norms."""
    L = trace.config.num_layers
    header: list[str | int | float] = ["iteration", "loss", "loss_after"]
    for l in range(1, L + 1):
        header += [f"dW{l}_norm", f"db{l}_norm"]
    rows = [header]
    for s in trace.steps:
        row: list[str | int | float] = [s.iteration, repr(s.loss), repr(s.loss_after)]
        for r in s.layers:
            row += [repr(float(np.linalg.norm(r.dW))), repr(float(np.linalg.norm(r.db)))]
        rows.append(row)
    return rows


def _write_csv(trace: Trace, f: IO[bytes]) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(csv_rows(trace))
    f.write(text.getvalue().encode("utf-8"))


WRITERS: dict[str, Callable[[Trace, IO[bytes]], None]] = {
    ".json": _write_json,
    ".npz": _write_npz,
    ".csv": _write_csv,
}


def save_trace(trace: Trace, path: str | Path) -> None:
    """Write a trace; the format follows the suffix (``.json``, ``.npz`` or ``.csv``)."""
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise BackpropError(
            str(path), None, f"unknown suffix {path.suffix!r}; use one of {', '.join(SUFFIXES)}"
        )
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
        if doc.get("version") != VERSION:
            raise self.fail(
                "version",
                f"is {doc.get('version')!r}; this backprop-anim reads version {VERSION}: "
                "re-export the trace with this version",
            )
        if not isinstance(doc.get("config"), dict):
            raise self.fail("config", "missing or not an object")
        try:
            return parse_config(doc["config"], source=self.source)
        except BackpropError as exc:
            raise self.fail(f"config.{exc.field}", exc.message) from None


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
    m = config.x.shape[1]
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
        steps.append(
            Step(
                iteration=it,
                loss=c.number(s.get("loss"), f"{where}.loss"),
                loss_after=c.number(s.get("loss_after"), f"{where}.loss_after"),
                input=c.array(s.get("input"), f"{where}.input", (n0, m)),
                target=c.array(s.get("target"), f"{where}.target", (nL, m)),
                grad_a=c.array(s.get("grad_a"), f"{where}.grad_a", (nL, m)),
                layers=tuple(layers),
            )
        )
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
        version=VERSION,
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
    doc["losses"] = get("losses").tolist()
    doc["steps"] = [
        {
            "iteration": int(it),
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
