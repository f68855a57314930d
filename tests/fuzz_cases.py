"""Hostile inputs for the fuzz suite (``tests/test_fuzz.py``) and ``benchmarks/fuzz.py``.

Each ``mutate_*`` function turns a good trace (``.json`` or ``.npz``) or config (TOML)
into a hostile one, driven by a :class:`random.Random`, so hypothesis (``st.randoms``)
and the benchmark's seeded loop draw from the same cases. :func:`outcome` loads one
input in-process and classifies it: ``refused`` (one-line :class:`BackpropError`),
``accepted``, or a failure (any other exception, a multi-line message, a memory peak
over :data:`MEMORY_BOUND`).
"""

from __future__ import annotations

import copy
import io
import json
import random
import tempfile
import tracemalloc
import zipfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from backprop_core import load_preset, run
from backprop_core.config import load_config, parse_config, preset_text
from backprop_core.errors import BackpropError
from backprop_core.io import load_trace, save_trace, trace_to_dict
from backprop_core.trace import LAYER_FIELDS, Trace

MEMORY_BOUND = 256 << 20
"""Peak Python and NumPy allocation (tracemalloc) allowed while one tiny input loads."""

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    False,
    -1,
    0,
    2**31,
    10**30,
    -(10**30),
    1.5,
    -0.0,
    1e308,
    "1.5",
    "",
    "x" * 5000,
    [],
    {},
    [[]],
    [[True, False]],
    [["1", "2"]],
    [[1e308, -1e308]],
    [[10**30]],
    {"a": 1},
    "[/]\x1b[31m$\\input{/etc/hostname}$\n",
    "\udc80",
    [17000, 17000],
    [100000, 100000],
    [2] * 40,
    [2, 0, 1],
    [2, -3, 1],
]

TYPO_KEYS = ["intit", "momentum", "evry", "lerning_rate", "sizez", "seeed", "x_ok", "Steps"]


MINI_BATCH = {
    "name": "mini-batch digits",
    "network": {
        "sizes": [64, 3, 10],
        "activations": ["sigmoid", "softmax"],
        "loss": "cross_entropy",
    },
    "data": {"dataset": "digits", "samples": 40, "test_fraction": 0.25, "seed": 1},
    "train": {"learning_rate": 0.5, "iterations": 6, "every": 2, "batch_size": 5},
}
"""A small version-2 trace (a named data set, mini-batches: each step's ``epoch`` and
``batch``), so the version-2 fields are fuzzed as well as version 1's."""


@cache
def good_trace(mini_batch: bool = False) -> Trace:
    if mini_batch:
        return run(parse_config(copy.deepcopy(MINI_BATCH), "fuzz mini-batch"))
    return run(load_preset("delta-demo"))


@cache
def good_doc(mini_batch: bool = False) -> dict[str, Any]:
    return trace_to_dict(good_trace(mini_batch))


@cache
def good_npz(mini_batch: bool = False) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        save_trace(good_trace(mini_batch), Path(tmp) / "t.npz")
        return (Path(tmp) / "t.npz").read_bytes()


def _paths(doc: Any, prefix: tuple[Any, ...] = (), depth: int = 0) -> list[tuple[Any, ...]]:
    """Every path into ``doc`` (dict keys, and the first entry of lists), a few levels."""
    out = [prefix]
    if depth > 6:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k), depth + 1)
    elif isinstance(doc, list) and doc and not isinstance(doc[0], (int, float)):
        out += _paths(doc[0], (*prefix, 0), depth + 1)
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for k in path[:-1]:
        doc = doc[k]
    doc[path[-1]] = value


def _deep(depth: int) -> Any:
    value: Any = 1.0
    for _ in range(depth):
        value = [value]
    return value


def mutate_doc(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """A structural mutation of a trace document (or a config table)."""
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths)
        kind = rng.randrange(5)
        try:
            if kind == 0:
                _set(doc, path, rng.choice(HOSTILE_VALUES))
            elif kind == 1:
                parent: Any = doc
                for k in path[:-1]:
                    parent = parent[k]
                if isinstance(parent, dict):
                    parent.pop(path[-1], None)
            elif kind == 2:
                parent = doc
                for k in path[:-1]:
                    parent = parent[k]
                if isinstance(parent, dict):
                    parent[rng.choice(TYPO_KEYS)] = parent.get(path[-1])
            elif kind == 3:
                _set(doc, path, _deep(rng.choice([50, 5000])))
            else:
                _set(doc, path, [rng.choice(HOSTILE_VALUES)] * rng.randint(0, 4))
        except (KeyError, IndexError, TypeError):
            pass
    return doc


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Truncate, flip bytes or splice junk."""
    kind = rng.randrange(3)
    if kind == 0:
        return data[: rng.randrange(len(data))]
    if kind == 1:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        return bytes(out)
    at = rng.randrange(len(data))
    return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[at:]


def json_case(rng: random.Random) -> bytes:
    good = good_doc(rng.random() < 0.3)
    if rng.random() < 0.25:
        return mutate_bytes(json.dumps(good).encode(), rng)
    doc = mutate_doc(good, rng)
    try:
        return json.dumps(doc).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return b'{"format": "backprop-trace", "version": 1'


def _npy(array: Any) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=True)
    return buf.getvalue()


def _npy_header_only(shape: tuple[int, ...], descr: str) -> bytes:
    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_STORED, flags: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, value in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            z.writestr(info, value)
            if flags:
                z.getinfo(name).flag_bits |= flags
    return buf.getvalue()


def _zip_bomb(name: str, declared: tuple[int, ...], descr: str, zeros: int) -> bytes:
    """A deflated member whose header declares ``declared`` and whose data is zeros."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open(name, "w", force_zip64=True) as f:
            f.write(_npy_header_only(declared, descr))
            chunk = bytes(1 << 20)
            for _ in range(zeros >> 20):
                f.write(chunk)
    return buf.getvalue()


NPZ_ARRAYS: list[Callable[[Any], Any]] = [
    lambda a: a.astype(np.complex128) + 1j,
    lambda a: a.astype(bool),
    lambda a: a.astype(np.float32),
    lambda a: a.astype(">f8"),
    lambda a: np.array(1.5),
    lambda a: np.full(a.shape, np.inf),
    lambda a: np.full(a.shape, np.nan),
    lambda a: a.reshape(-1),
    lambda a: a[:1],
    lambda a: np.zeros((2, 2, 2, 2)),
    lambda a: np.array([{"pickled": 1}], dtype=object),
    lambda a: np.asfortranarray(a),
    lambda a: np.array(["text"]),
    lambda a: a.astype(np.int64),
    lambda a: a + 0.5,
]


def npz_case(rng: random.Random) -> bytes:
    data = good_npz(rng.random() < 0.3)
    kind = rng.randrange(8)
    if kind == 0:
        return mutate_bytes(data, rng)
    members = _members(data)
    names = sorted(members)
    if kind == 1:  # one member replaced by another dtype or shape
        name = rng.choice(names)
        if name == "meta.npy":
            meta = json.loads(str(np.load(io.BytesIO(members[name]))))
            meta = mutate_doc(meta, rng)
            try:
                text = json.dumps(meta)
            except (ValueError, RecursionError):
                text = "{"
            members[name] = _npy(np.array(text))
        else:
            array = np.load(io.BytesIO(members[name]), allow_pickle=False)
            members[name] = _npy(rng.choice(NPZ_ARRAYS)(array))
        return _zip(members)
    if kind == 2:  # a member removed, renamed or added
        name = rng.choice(names)
        value = members.pop(name)
        if rng.random() < 0.5:
            members[
                rng.choice(["extra.npy", "layer9/W.npy", "x_note.npy", "batch.npy", "meta", name])
            ] = value
        return _zip(members)
    if kind == 3:  # unsupported compression or the encrypted flag
        method = rng.choice([zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, zipfile.ZIP_DEFLATED])
        flags = 0x1 if rng.random() < 0.5 else 0
        return _zip(members, method, flags)
    if kind == 4:  # a header declaring far more than the data holds
        name = rng.choice(names)
        shape = rng.choice([(10**9,), (50, 100000, 100000), (2**40,), (1, 1 << 31)])
        descr = "<U8" if name == "meta.npy" else "<f8"
        members[name] = _npy_header_only(shape, descr) + bytes(64)
        return _zip(members)
    if kind == 5:  # a real deflate bomb: megabytes of zeros behind a giant header
        name = rng.choice(["meta.npy", "layer1/W.npy", "losses.npy"])
        descr = "<U33554432" if name == "meta.npy" else "<f8"
        shape = () if name == "meta.npy" else (1 << 25,)
        return _zip_bomb(name, shape, descr, 8 << 20)
    if kind == 6:  # the iteration array: 0-d, 2-d, fractional, infinite, huge
        members["iteration.npy"] = _npy(
            rng.choice(
                [
                    np.array(1),
                    np.ones((2, 2), dtype=np.int64),
                    np.array([1.5]),
                    np.array([np.inf]),
                    np.array([2**62], dtype=np.int64),
                    np.array([-1], dtype=np.int64),
                    np.arange(1, 10**6, dtype=np.int64),
                    np.array([3, 2], dtype=np.int64),
                ]
            )
        )
        return _zip(members)
    return _zip(members, zipfile.ZIP_DEFLATED)  # a valid variant: deflated members


def toml_case(rng: random.Random) -> bytes:
    text = preset_text(rng.choice(["delta-demo", "moons", "xor", "batch-demo"]))
    kind = rng.randrange(6)
    if kind == 0:
        return mutate_bytes(text.encode(), rng)
    lines = text.splitlines()
    keyed = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    if kind == 1:  # a typo in a key or a section
        i = rng.choice(keyed + [i for i, line in enumerate(lines) if line.startswith("[")])
        line = lines[i]
        at = rng.randrange(1, max(2, line.find("=") if "=" in line else len(line) - 1))
        lines[i] = line[:at] + rng.choice("aeiosx_") + line[at:]
    elif kind == 2:  # a hostile value
        i = rng.choice(keyed)
        key = lines[i].split("=")[0]
        value = rng.choice(
            [
                "true",
                '"1.5"',
                "1.5",
                "-1",
                "0",
                "9223372036854775807",
                "inf",
                "nan",
                "[]",
                "{a = 1}",
                '"[/]\\u001b[31m"',
                "[17000, 17000]",
                "[100000, 100000]",
                "1000000000",
                "[" * 2000 + "]" * 2000,
            ]
        )
        lines[i] = f"{key}= {value}"
    elif kind == 3:  # an unknown section or key
        lines.append(rng.choice(["[intit]\nseed = 1", "[train]\nmomentum = 0.9", "evry = 3"]))
    elif kind == 4:  # data bombs
        lines = [
            line
            for line in lines
            if not line.startswith(("x =", "y =", "samples", "generator", "noise"))
        ]
        at = lines.index("[data]") + 1 if "[data]" in lines else len(lines)
        lines.insert(at, rng.choice(['generator = "moons"\nsamples = 1000000000', "samples = -5"]))
    else:  # deep nesting
        lines.append("deep = " + "[" * 5000 + "1" + "]" * 5000)
    return "\n".join(lines).encode()


CASES: dict[str, tuple[Callable[[random.Random], bytes], str]] = {
    "json trace": (json_case, ".json"),
    "npz trace": (npz_case, ".npz"),
    "toml config": (toml_case, ".toml"),
}


def outcome(path: Path) -> str:
    """``refused`` or ``accepted``; raises AssertionError for a failure."""
    tracemalloc.start()
    try:
        if path.suffix == ".toml":
            load_config(path)
        else:
            trace = load_trace(path)
            _use(trace, path.parent)
        result = "accepted"
    except BackpropError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text, text
        assert text.startswith(str(path)), text
        result = "refused"
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MEMORY_BOUND, f"peak {peak >> 20} MiB"
    return result


def _use(trace: Trace, folder: Path) -> None:
    """What the commands do with an accepted trace: handouts in both formats."""
    from backprop_lecture.handout import build, to_latex, to_markdown

    handout = build(trace, trace.steps[0].iteration)
    to_latex(handout).encode("utf-8")
    to_markdown(handout).encode("utf-8", "backslashreplace")
    for s in trace.steps:
        for layer in s.layers:
            for f in LAYER_FIELDS:
                assert getattr(layer, f).dtype == np.float64
