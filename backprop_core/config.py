"""Configs: a network, its data and its training run, read from TOML and validated.

Every check here names the file and the field it found wrong, so that a user who typed a
config by hand knows what to fix (see :class:`~backprop_core.errors.BackpropError`).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from backprop_core.activations import ACTIVATIONS
from backprop_core.datasets import (
    DIGITS_CLASSES,
    DIGITS_PIXELS,
    DIGITS_SAMPLES,
    GENERATORS,
    digits,
    generate,
)
from backprop_core.errors import BackpropError, did_you_mean
from backprop_core.files import read_limited
from backprop_core.limits import (
    MAX_CONFIG_BYTES,
    MAX_INT,
    MAX_ITERATIONS,
    MAX_SAMPLES,
    MAX_SEED,
    data_problem,
    size_problem,
)
from backprop_core.losses import LOSSES

Array = NDArray[np.float64]

PRESET_PACKAGE = "backprop_core.presets"

KEYS: dict[str, dict[str, str]] = {
    "": {
        "name": "text",
        "description": "text",
        "network": "table",
        "init": "table",
        "data": "table",
        "train": "table",
    },
    "network": {"sizes": "list", "activations": "text or list", "loss": "text", "bias": "boolean"},
    "init": {"seed": "whole number", "weights": "list", "biases": "list"},
    "data": {
        "x": "list",
        "y": "list",
        "generator": "text",
        "samples": "whole number",
        "noise": "number",
        "seed": "whole number",
        "dataset": "text",
        "test_fraction": "number",
    },
    "train": {
        "learning_rate": "number",
        "iterations": "whole number",
        "every": "whole number",
        "batch_size": "whole number",
        "shuffle_seed": "whole number",
    },
}
"""Every key a config may hold, per section (``""`` is the top level), with its type: the
one table the strict schema checks against. An unknown key is an error that suggests the
nearest valid one, so a typo (``[intit]``, ``evry``) never silently does nothing."""

REQUIRED_SECTIONS = ("network", "data", "train")

# The keys of named data sets and of mini-batches, and their defaults. A config without
# them is full-batch gradient descent on explicit or generated data (trace version 1).
DATASET_KEYS = ("dataset", "samples", "test_fraction", "seed")
"""``[data]`` for a named data set: ``dataset = "digits"`` (the only one), ``samples``
(a subset), and ``test_fraction`` and ``seed`` of the split (see
:func:`backprop_core.datasets.digits`)."""
DATASET_DEFAULTS = {"samples": DIGITS_SAMPLES, "test_fraction": 0.2, "seed": 0}
BATCH_KEYS = ("batch_size", "shuffle_seed")
"""``[train]`` for mini-batch gradient descent: ``batch_size`` samples per step (absent:
the whole data set, in its order, at every step) and ``shuffle_seed``, the seed of the
permutation drawn each epoch (see :func:`backprop_core.network.mini_batches`)."""
BATCH_DEFAULTS = {"shuffle_seed": 0}
DATASETS = ("digits",)


@dataclass(frozen=True)
class DatasetSpec:
    """A named data set and its split: everything needed to rebuild its samples."""

    name: str
    samples: int
    test_fraction: float
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.name,
            "samples": self.samples,
            "test_fraction": self.test_fraction,
            "seed": self.seed,
        }


@dataclass(frozen=True, eq=False)
class Config:
    """A fully resolved training run: every initial weight and sample is explicit.

    ``weights[l-1]`` is ``W^(l)`` of shape ``(n_l, n_{l-1})``; ``biases[l-1]`` is ``b^(l)`` of
    shape ``(n_l, 1)`` (zeros when ``bias`` is false); ``x`` is ``(n_0, m)`` and ``y`` is
    ``(n_L, m)``, one column per training sample. A named data set also has a test set,
    ``x_test`` and ``y_test`` (else ``None``), which training never sees.
    """

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    bias: bool
    seed: int
    weights: tuple[Array, ...]
    biases: tuple[Array, ...]
    x: Array
    y: Array
    learning_rate: float
    iterations: int
    every: int = 1
    name: str = ""
    description: str = ""
    batch_size: int | None = None
    """Samples per step; ``None``: every step uses the whole data set (full batch)."""
    shuffle_seed: int = 0
    dataset: DatasetSpec | None = None
    """The named data set ``x`` and ``y`` come from, or ``None`` (explicit or generated)."""
    x_test: Array | None = None
    y_test: Array | None = None

    @property
    def num_layers(self) -> int:
        """``L``, the number of weight layers."""
        return len(self.sizes) - 1

    @property
    def m(self) -> int:
        """The chapter's ``m``: the number of samples (columns) of every step's batch."""
        return self.x.shape[1] if self.batch_size is None else self.batch_size

    @property
    def is_classification(self) -> bool:
        """A softmax output, or two or more outputs with one-hot targets: the largest
        output is the predicted class, so accuracy means something."""
        if self.activations[-1] == "softmax":
            return True
        y = self.y
        one_hot = bool(np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=0) == 1))
        return self.sizes[-1] >= 2 and one_hot

    def to_dict(self) -> dict[str, Any]:
        """The normalised config as plain JSON-ready data (the trace stores this)."""
        return {
            "name": self.name,
            "description": self.description,
            "network": {
                "sizes": list(self.sizes),
                "activations": list(self.activations),
                "loss": self.loss,
                "bias": self.bias,
            },
            "init": {
                "seed": self.seed,
                "weights": [w.tolist() for w in self.weights],
                **({"biases": [b[:, 0].tolist() for b in self.biases]} if self.bias else {}),
            },
            "data": (
                self.dataset.to_dict()
                if self.dataset is not None
                else {"x": self.x.T.tolist(), "y": self.y.T.tolist()}
            ),
            "train": {
                "learning_rate": self.learning_rate,
                "iterations": self.iterations,
                "every": self.every,
                **(
                    {"batch_size": self.batch_size, "shuffle_seed": self.shuffle_seed}
                    if self.batch_size is not None
                    else {}
                ),
            },
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(repr(self.to_dict()))


def preset_names() -> list[str]:
    """The names of the presets shipped inside the package, sorted."""
    files = resources.files(PRESET_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml"))


def preset_text(name: str) -> str:
    """The TOML text of a preset, for users who want to copy it."""
    if name not in preset_names():
        raise BackpropError(
            f"preset {name!r}",
            None,
            f"no such preset; choose one of {', '.join(preset_names())}",
        )
    return resources.files(PRESET_PACKAGE).joinpath(f"{name}.toml").read_text("utf-8")


def load_preset(name: str) -> Config:
    """The config of a shipped preset."""
    text = preset_text(name)
    return parse_config(tomllib.loads(text), source=f"preset {name}", default_name=name)


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    path = Path(path)
    source = str(path)
    raw = read_limited(path, MAX_CONFIG_BYTES, "config")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BackpropError(source, None, f"cannot read the file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BackpropError(source, None, f"not valid TOML ({exc}); fix the syntax") from None
    except RecursionError:
        raise BackpropError(source, None, "not valid TOML (nested too deeply)") from None
    return parse_config(data, source=source, default_name=path.stem)


class _Reader:
    """Typed access to a TOML table that reports ``file: section.field: problem``."""

    def __init__(self, data: dict[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def fail(self, field: str, message: str) -> BackpropError:
        return BackpropError(self.source, field, message)

    def table(self, name: str, required: bool = True) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(f"[{name}]", "missing section; add it (see `backprop presets`)")
            return {}
        if not isinstance(value, dict):
            raise self.fail(name, "must be a table like [" + name + "]")
        return value

    def get(self, section: dict[str, Any], sname: str, key: str, default: Any = ...) -> Any:
        if key not in section:
            if default is ...:
                raise self.fail(f"{sname}.{key}", "missing field; add it")
            return default
        return section[key]

    def keys(self, section: dict[str, Any], sname: str) -> None:
        """Refuse keys not in :data:`KEYS` and values of the wrong type, exactly."""
        valid = KEYS[sname]
        for key, value in section.items():
            field = f"{sname}.{key}" if sname else str(key)
            if key not in valid:
                hint = did_you_mean(str(key), valid)
                what = "section" if not sname and isinstance(value, dict) else "key"
                where = f"[{key}]" if what == "section" else field
                raise self.fail(_short(where), f"unknown {what}; {hint}valid: {', '.join(valid)}")
            kind = valid[key]
            if kind in _GENERIC and not _is_kind(value, kind):
                raise self.fail(field, f"must be {_GENERIC[kind]}, got {_short(repr(value))}")

    def integer(
        self,
        section: dict[str, Any],
        sname: str,
        key: str,
        default: Any = ...,
        low: int | None = None,
        high: int = MAX_INT,
        why: str = "",
    ) -> int:
        value = self.get(section, sname, key, default)
        field = f"{sname}.{key}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"must be a whole number, got {_short(repr(value))}")
        if low is not None and value < low:
            raise self.fail(field, f"must be at least {low}{why}, got {_short(repr(value))}")
        if value > high:
            raise self.fail(field, f"must be at most {high}{why}, got {_short(repr(value))}")
        if value < -MAX_INT:
            raise self.fail(field, f"is too large, got {_short(repr(value))}")
        return value

    def number(self, section: dict[str, Any], sname: str, key: str, default: Any = ...) -> float:
        value = self.get(section, sname, key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{sname}.{key}", f"must be a number, got {_short(repr(value))}")
        if isinstance(value, int) and abs(value) > MAX_INT:
            raise self.fail(f"{sname}.{key}", f"is too large, got {_short(repr(value))}")
        if not math.isfinite(value):
            raise self.fail(f"{sname}.{key}", f"must be finite, got {value!r}")
        return float(value)

    def matrix(self, value: Any, field: str) -> Array:
        """A list of equal-length lists of finite numbers, as a float array."""
        if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
            raise self.fail(field, "must be a non-empty list of lists of numbers")
        if len({len(r) for r in value}) != 1 or not value[0]:
            raise self.fail(field, "rows must be non-empty and of equal length")
        for row in value:
            for v in row:
                if type(v) is not float and type(v) is not int:
                    raise self.fail(field, f"must contain only numbers, got {_short(repr(v))}")
                if type(v) is int and abs(v) > MAX_INT:
                    raise self.fail(field, f"numbers must be below 2^63, got {_short(repr(v))}")
                if not math.isfinite(v):
                    raise self.fail(field, f"must contain only finite numbers, got {v!r}")
        return np.array(value, dtype=np.float64)


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters, so a 10 MB value makes a one-line message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_GENERIC = {"whole number": "a whole number", "number": "a number", "boolean": "true or false"}
"""Kinds checked for every key at once; text, lists and tables are checked by their readers
(which know the valid choices and shapes, and say them)."""


def _is_kind(value: Any, kind: str) -> bool:
    """Whether ``value`` has the exact type ``kind`` names (a bool is not a number)."""
    if kind == "whole number":
        return type(value) is int
    if kind == "number":
        return type(value) in (int, float)
    if kind == "boolean":
        return type(value) is bool
    if kind == "text":
        return isinstance(value, str)
    if kind == "table":
        return isinstance(value, dict)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, (str, list))  # "text or list"


def parse_config(data: dict[str, Any], source: str, default_name: str = "") -> Config:
    """Validate parsed TOML and resolve it into a :class:`Config`.

    Missing initial weights and biases are drawn from ``np.random.default_rng(seed)``:
    ``W ~ N(0, 1/n_in)`` and ``b ~ N(0, 1)``, as Nielsen's ``network2`` does.
    """
    r = _Reader(data, source)
    if not isinstance(data, dict):
        raise r.fail("config", "must be a table")
    for section in REQUIRED_SECTIONS:
        if section not in data:
            raise r.fail(f"[{section}]", "missing section; add it (see `backprop presets`)")
    net = r.table("network")
    init = r.table("init", required=False)
    dat = r.table("data")
    train = r.table("train")
    r.keys(data, "")
    for sname, table in (("network", net), ("init", init), ("data", dat), ("train", train)):
        r.keys(table, sname)

    sizes_raw = r.get(net, "network", "sizes")
    if (
        not isinstance(sizes_raw, list)
        or len(sizes_raw) < 2
        or not all(type(s) is int and s > 0 for s in sizes_raw)
    ):
        raise r.fail(
            "network.sizes", "must list at least two positive whole numbers, input size first"
        )
    sizes = tuple(sizes_raw)
    problem = size_problem(sizes) if len(sizes) <= 64 and max(sizes) <= MAX_INT else "is too big"
    if problem:
        raise r.fail("network.sizes", f"{problem} (see docs/trace-format.md, Limits)")
    L = len(sizes) - 1

    acts_raw = r.get(net, "network", "activations")
    if isinstance(acts_raw, str):
        acts_raw = [acts_raw] * L
    if not isinstance(acts_raw, list) or len(acts_raw) != L:
        raise r.fail(
            "network.activations",
            f"needs one activation per layer after the input ({L}), got {acts_raw!r}",
        )
    for i, act in enumerate(acts_raw):
        if not isinstance(act, str) or act not in ACTIVATIONS:
            raise r.fail(
                f"network.activations[{i}]",
                f"unknown activation {act!r}; choose one of {', '.join(ACTIVATIONS)}",
            )
    activations = tuple(acts_raw)
    if "softmax" in activations[:-1]:
        raise r.fail("network.activations", "softmax is only allowed on the output layer")

    loss = r.get(net, "network", "loss")
    if not isinstance(loss, str) or loss not in LOSSES:
        raise r.fail("network.loss", f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if activations[-1] == "softmax" and loss != "cross_entropy":
        raise r.fail(
            "network.loss",
            'a softmax output needs loss = "cross_entropy" (then δ^(L) = a − y)',
        )
    if loss == "cross_entropy" and activations[-1] not in ("sigmoid", "softmax"):
        raise r.fail(
            "network.loss",
            f"cross_entropy needs a sigmoid or softmax output layer, got {activations[-1]!r}",
        )
    bias = r.get(net, "network", "bias", True)
    if not isinstance(bias, bool):
        raise r.fail("network.bias", f"must be true or false, got {bias!r}")

    seed = r.integer(init, "init", "seed", 0, low=0, high=MAX_SEED, why=" (a seed is ≥ 0)")

    # The data (its size bounded first) before any weight is drawn: nothing of a size the
    # limits refuse is ever allocated. The data's own seed keeps both draws independent.
    spec: DatasetSpec | None = None
    x_test = y_test = None
    if "dataset" in dat:
        spec = _dataset_spec(r, dat, sizes)
        split = digits(spec.samples, spec.test_fraction, spec.seed)
        x, y, x_test, y_test = split.x, split.y, split.x_test, split.y_test
    else:
        x, y = _data(r, dat, sizes, activations[-1], loss)
    problem = data_problem(sizes, x.shape[1])
    if problem:
        raise r.fail("data", f"{problem} (see docs/trace-format.md, Limits)")

    learning_rate = r.number(train, "train", "learning_rate")
    if learning_rate <= 0:
        raise r.fail("train.learning_rate", f"must be positive, got {learning_rate!r}")
    iterations = r.integer(
        train, "train", "iterations", high=MAX_ITERATIONS, why=" (see docs/trace-format.md, Limits)"
    )
    if iterations <= 0:
        raise r.fail("train.iterations", f"must be a positive whole number, got {iterations}")
    every = r.integer(train, "train", "every", 1)
    if every <= 0:
        raise r.fail("train.every", f"must be a positive whole number, got {every}")
    batch_size, shuffle_seed = _batching(r, train, x.shape[1])

    rng = np.random.default_rng(seed)
    weights = _weights(r, init, sizes, rng)
    biases = _biases(r, init, sizes, bias, rng)

    name = data.get("name", default_name)
    description = data.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise r.fail("name", "name and description must be strings")
    return Config(
        sizes=sizes,
        activations=activations,
        loss=loss,
        bias=bias,
        seed=seed,
        weights=tuple(weights),
        biases=tuple(biases),
        x=x,
        y=y,
        learning_rate=learning_rate,
        iterations=iterations,
        every=every,
        name=name,
        description=description,
        batch_size=batch_size,
        shuffle_seed=shuffle_seed,
        dataset=spec,
        x_test=x_test,
        y_test=y_test,
    )


def _batching(r: _Reader, train: dict[str, Any], m: int) -> tuple[int | None, int]:
    """``train.batch_size`` and ``train.shuffle_seed`` (see :data:`BATCH_KEYS`)."""
    if "batch_size" not in train:
        if "shuffle_seed" in train:
            raise r.fail("train.shuffle_seed", "given without train.batch_size; add batch_size")
        return None, 0
    batch_size = r.integer(train, "train", "batch_size")
    if not 1 <= batch_size <= m:
        raise r.fail(
            "train.batch_size",
            f"must be between 1 and the number of training samples ({m}), got {batch_size}",
        )
    shuffle_seed = r.integer(
        train,
        "train",
        "shuffle_seed",
        BATCH_DEFAULTS["shuffle_seed"],
        low=0,
        high=MAX_SEED,
        why=" (a seed is ≥ 0)",
    )
    return batch_size, shuffle_seed


def _dataset_spec(r: _Reader, dat: dict[str, Any], sizes: tuple[int, ...]) -> DatasetSpec:
    """``[data] dataset = "digits"`` and its split (see :data:`DATASET_KEYS`)."""
    name = dat["dataset"]
    if not isinstance(name, str) or name not in DATASETS:
        raise r.fail(
            "data.dataset", f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}"
        )
    for other in ("x", "y", "generator", "noise"):
        if other in dat:
            raise r.fail(f"data.{other}", f"cannot be combined with data.dataset; remove {other}")
    samples = r.integer(dat, "data", "samples", DATASET_DEFAULTS["samples"])
    if not 2 <= samples <= DIGITS_SAMPLES:
        raise r.fail("data.samples", f"must be between 2 and {DIGITS_SAMPLES}, got {samples}")
    test_fraction = r.number(dat, "data", "test_fraction", DATASET_DEFAULTS["test_fraction"])
    if not 0 <= test_fraction < 1 or math.floor(test_fraction * samples) >= samples:
        raise r.fail("data.test_fraction", f"must be at least 0 and below 1, got {test_fraction!r}")
    seed = r.integer(
        dat, "data", "seed", DATASET_DEFAULTS["seed"], low=0, high=MAX_SEED, why=" (a seed is ≥ 0)"
    )
    if sizes[0] != DIGITS_PIXELS or sizes[-1] != DIGITS_CLASSES:
        raise r.fail(
            "network.sizes",
            f"data.dataset {name!r} needs {DIGITS_PIXELS} inputs (8 × 8 pixels) and "
            f"{DIGITS_CLASSES} outputs (one per digit), got {list(sizes)}",
        )
    return DatasetSpec(name, samples, test_fraction, seed)


def _weights(
    r: _Reader, init: dict[str, Any], sizes: tuple[int, ...], rng: np.random.Generator
) -> list[Array]:
    given = r.get(init, "init", "weights", None)
    if given is not None and (not isinstance(given, list) or len(given) != len(sizes) - 1):
        raise r.fail("init.weights", f"needs one matrix per layer ({len(sizes) - 1})")
    weights = []
    for l in range(1, len(sizes)):
        drawn = rng.standard_normal((sizes[l], sizes[l - 1])) / np.sqrt(sizes[l - 1])
        if given is None:
            weights.append(drawn)
            continue
        w = r.matrix(given[l - 1], f"init.weights[{l - 1}]")
        if w.shape != (sizes[l], sizes[l - 1]):
            raise r.fail(
                f"init.weights[{l - 1}]",
                f"W^({l}) must be {sizes[l]}×{sizes[l - 1]} (n_{l} rows, n_{l - 1} columns) "
                f"for sizes {list(sizes)}, got {w.shape[0]}×{w.shape[1]}",
            )
        weights.append(w)
    return weights


def _biases(
    r: _Reader, init: dict[str, Any], sizes: tuple[int, ...], bias: bool, rng: np.random.Generator
) -> list[Array]:
    given = r.get(init, "init", "biases", None)
    if given is not None and not bias:
        raise r.fail("init.biases", "given but network.bias = false; remove one of them")
    if given is not None and (not isinstance(given, list) or len(given) != len(sizes) - 1):
        raise r.fail("init.biases", f"needs one list per layer ({len(sizes) - 1})")
    biases = []
    for l in range(1, len(sizes)):
        drawn = rng.standard_normal((sizes[l], 1))
        if not bias:
            biases.append(np.zeros((sizes[l], 1)))
        elif given is None:
            biases.append(drawn)
        else:
            b = r.matrix([given[l - 1]], f"init.biases[{l - 1}]")
            if b.shape[1] != sizes[l]:
                raise r.fail(
                    f"init.biases[{l - 1}]",
                    f"b^({l}) needs {sizes[l]} values for sizes {list(sizes)}, got {b.shape[1]}",
                )
            biases.append(b.T.copy())
    return biases


def _data(
    r: _Reader, dat: dict[str, Any], sizes: tuple[int, ...], output: str, loss: str
) -> tuple[Array, Array]:
    if "test_fraction" in dat:
        raise r.fail("data.test_fraction", "only splits a named data set; add data.dataset")
    if "generator" in dat:
        gen = dat["generator"]
        if not isinstance(gen, str) or gen not in GENERATORS:
            raise r.fail(
                "data.generator",
                f"unknown generator {gen!r}; choose one of {', '.join(GENERATORS)}",
            )
        samples = r.integer(
            dat, "data", "samples", 100, high=MAX_SAMPLES, why=" (see docs/trace-format.md, Limits)"
        )
        if samples <= 0:
            raise r.fail("data.samples", f"must be positive, got {samples}")
        noise = r.number(dat, "data", "noise", 0.1)
        if noise < 0:
            raise r.fail("data.noise", f"must be at least 0, got {noise!r}")
        seed = r.integer(dat, "data", "seed", 0, low=0, high=MAX_SEED, why=" (a seed is ≥ 0)")
        if sizes[0] != 2 or sizes[-1] != 1:
            raise r.fail("network.sizes", f"data.generator {gen!r} needs 2 inputs and 1 output")
        return generate(gen, samples, noise, seed)
    x = r.matrix(r.get(dat, "data", "x"), "data.x").T.copy()
    y = r.matrix(r.get(dat, "data", "y"), "data.y").T.copy()
    if x.shape[0] != sizes[0]:
        raise r.fail(
            "data.x", f"each sample needs {sizes[0]} inputs (network.sizes[0]), got {x.shape[0]}"
        )
    if y.shape[0] != sizes[-1]:
        raise r.fail(
            "data.y", f"each target needs {sizes[-1]} outputs (network.sizes[-1]), got {y.shape[0]}"
        )
    if x.shape[1] != y.shape[1]:
        raise r.fail("data.y", f"{y.shape[1]} targets for {x.shape[1]} samples in data.x")
    if loss == "cross_entropy":
        if np.any((y < 0) | (y > 1)):
            raise r.fail("data.y", "cross_entropy targets must lie in [0, 1]")
        if output == "softmax" and not np.allclose(y.sum(axis=0), 1.0):
            raise r.fail("data.y", "softmax targets must sum to 1 for each sample (one-hot)")
    return x, y
