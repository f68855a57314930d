"""Mini-batch gradient descent, the digits data set and the traces they make.

- The engine with ``batch_size`` against an oracle written out here: slice the batch's
  columns, forward, BP1–BP4, update, one step per batch of a seeded permutation per epoch.
- Without ``batch_size`` every preset's trace is byte for byte what the engine wrote
  before mini-batches existed (a fixture of hashes).
- The split and the shuffling are deterministic for a seed; traces of mini-batches save,
  stream and load in JSON and NPZ, and a reader rejects an inconsistent one.
- The ``digits`` preset reaches the test accuracy its file documents; the CSV and
  ``backprop show`` report accuracy, checked against a forward pass written here.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backprop_cli.cli import cli
from backprop_core.activations import ACTIVATIONS
from backprop_core.config import Config, load_preset, parse_config, preset_names
from backprop_core.datasets import digits
from backprop_core.errors import BackpropError
from backprop_core.io import load_trace, open_trace_writer, save_trace, trace_to_dict
from backprop_core.losses import LOSSES
from backprop_core.network import mini_batches, train
from backprop_core.trace import recorded_iterations, run

# --- full batch: byte-identical traces ------------------------------------------------

FULL_BATCH_JSON_SHA256 = {
    # sha256 of the JSON trace of each preset, its iterations capped at 200, as the engine
    # wrote it before mini-batches existed (commit 2694473). Four are also the bytes of
    # a1ae47e; batch-demo (m = 3) and moons, circles, spirals (m = 200) differ from
    # a1ae47e in last bits since BP4 divides δ aᵀ by m after the product, as the chapter
    # writes it (m not a power of two).
    "batch-demo": "5409d594b46046f5d1fc9125d0eb84a14aa1d0a747a73d8e1bbd3607296d9ffa",
    "circles": "76f9d1030c0b4295c48ab9d83862e145f290d1742359eff59d4f1f482afe67d7",
    "delta-demo": "2fd50921ab028dc87a225bd7d9fb8c5a8a8fec63dcbe9edc96d2a68668b96070",
    "moons": "b6ca38b4e23d2e302435accc876b3e57011e63e98ab21fccaeb0df13096ea495",
    "seed-chain": "27e340711ddf9ff853778980aada222118a16f62ee6e95e488d814e052458c33",
    "seed-scalar": "f11d17f304ec12c043833ef283bd65771afe689a0ccc48af7b65e2af21f42c3b",
    "spirals": "be9c09793ca3469b896a932e8bc62a24ad72b11fb200a02930e556f8ecd5df1b",
    "xor": "e29fad64286ab5cc09486d4533fd783c926c02d082f6419158e6f393702f0b82",
}


def short(config: Config, iterations: int = 200) -> Config:
    return replace(config, iterations=min(config.iterations, iterations))


@pytest.mark.parametrize("name", sorted(FULL_BATCH_JSON_SHA256))
def test_full_batch_traces_are_byte_identical(name: str, tmp_path: Path) -> None:
    config = short(load_preset(name))
    assert config.batch_size is None
    path = tmp_path / "t.json"
    save_trace(run(config), path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == FULL_BATCH_JSON_SHA256[name]
    doc = json.loads(path.read_text())
    assert doc["version"] == 1
    assert "batch_size" not in doc["config"]["train"]
    assert not {"epoch", "batch"} & doc["steps"][0].keys()


def test_every_full_batch_preset_has_a_hash() -> None:
    full = [n for n in preset_names() if load_preset(n).batch_size is None]
    assert sorted(full) == sorted(FULL_BATCH_JSON_SHA256)


# --- the oracle -----------------------------------------------------------------------


def oracle(config: Config) -> list[dict[str, Any]]:
    """Mini-batch gradient descent written out plainly, independent of the engine's loop.

    Each epoch draws a permutation of the n training samples from one generator seeded
    with ``shuffle_seed`` and cuts it into n // B batches of B; each batch is one step.
    Returns per step: epoch, batch indices, loss, loss_after, dW, db and the updated W, b.
    """
    rng = np.random.default_rng(config.shuffle_seed)
    n, B = config.x.shape[1], config.batch_size
    assert B is not None
    fs = [ACTIVATIONS[name] for name in config.activations]
    loss = LOSSES[config.loss]
    softmax = config.activations[-1] == "softmax"
    W = [w.copy() for w in config.weights]
    b = [v.copy() for v in config.biases]
    steps: list[dict[str, Any]] = []
    epoch = 0
    while len(steps) < config.iterations:
        epoch += 1
        order = rng.permutation(n)
        for i in range(n // B):
            if len(steps) == config.iterations:
                break
            cols = order[i * B : (i + 1) * B]
            x, y = config.x[:, cols], config.y[:, cols]
            # forward, keeping z and a
            a, z = [x], []
            for Wl, bl, f in zip(W, b, fs, strict=True):
                z.append(Wl @ a[-1] + bl)
                a.append(f.f(z[-1]))
            # BP1, with σ' from z (not from a) and softmax's δ = a − y
            g = loss.gradient(a[-1], y, softmax)
            delta = [a[-1] - y if softmax else g * fs[-1].prime(z[-1])]
            # BP2
            for l in range(len(W) - 1, 0, -1):
                delta.insert(0, (W[l].T @ delta[0]) * fs[l - 1].prime(z[l - 1]))
            # BP3, BP4: sums over the batch's B columns, divided by B
            db = [d.sum(axis=1, keepdims=True) / B for d in delta]
            if not config.bias:
                db = [np.zeros_like(v) for v in b]
            dW = [(d @ ap.T) / B for d, ap in zip(delta, a[:-1], strict=True)]
            cost = float(np.sum(loss.cost(a[-1], y, softmax)) / B)
            W = [Wl - config.learning_rate * d for Wl, d in zip(W, dW, strict=True)]
            b = [bl - config.learning_rate * d for bl, d in zip(b, db, strict=True)]
            # loss_after: the same batch's cost at the updated W, b (one more forward pass)
            out = x
            for Wl, bl, f in zip(W, b, fs, strict=True):
                out = f.f(Wl @ out + bl)
            after = float(np.sum(loss.cost(out, y, softmax)) / B)
            steps.append(
                {
                    "epoch": epoch,
                    "batch": cols,
                    "loss": cost,
                    "loss_after": after,
                    "dW": dW,
                    "db": db,
                    "W": W,
                    "b": b,
                }
            )
    return steps


PAIRS = [("sigmoid", "sse"), ("identity", "half_sse"), ("softmax", "cross_entropy")]


@st.composite
def batch_configs(draw: st.DrawFn) -> Config:
    """A random network on random data with a random batch size and shuffle seed."""
    L = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 4), min_size=L + 1, max_size=L + 1))
    output, loss = draw(st.sampled_from(PAIRS))
    hidden = draw(st.lists(st.sampled_from(["sigmoid", "tanh"]), min_size=L - 1, max_size=L - 1))
    n = draw(st.integers(1, 9), label="training samples")
    B = draw(st.integers(1, n), label="batch_size")
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0]))
    if output == "softmax":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    else:
        y = rng.standard_normal((n, sizes[-1]))
    doc = {
        "network": {
            "sizes": sizes,
            "activations": [*hidden, output],
            "loss": loss,
            "bias": draw(st.booleans()),
        },
        "init": {"seed": seed},
        "data": {"x": x.tolist(), "y": y.tolist()},
        "train": {
            "learning_rate": 0.05,
            "iterations": draw(st.integers(1, 3 * (n // B) + 2), label="iterations"),
            "batch_size": B,
            "shuffle_seed": draw(st.integers(0, 1000)),
        },
    }
    return parse_config(doc, source="hypothesis")


TIGHT = {"rtol": 1e-10, "atol": 1e-13}
"""The oracle sums and divides where the engine takes means: equal to rounding."""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=batch_configs())
def test_mini_batch_engine_matches_the_oracle(config: Config) -> None:
    trace = run(config, every=1)
    expected = oracle(config)
    assert len(trace.steps) == len(expected) == config.iterations
    for step, want in zip(trace.steps, expected, strict=True):
        assert step.epoch == want["epoch"]
        assert step.batch is not None and step.batch.tolist() == want["batch"].tolist()
        assert np.array_equal(step.input, config.x[:, want["batch"]])
        assert np.array_equal(step.target, config.y[:, want["batch"]])
        np.testing.assert_allclose(step.loss, want["loss"], **TIGHT)
        np.testing.assert_allclose(step.loss_after, want["loss_after"], **TIGHT)
        for r, dW, db, W, b in zip(
            step.layers, want["dW"], want["db"], want["W"], want["b"], strict=True
        ):
            np.testing.assert_allclose(r.dW, dW, **TIGHT)
            np.testing.assert_allclose(r.db, db, **TIGHT)
            np.testing.assert_allclose(r.W_next, W, **TIGHT)
            np.testing.assert_allclose(r.b_next, b, **TIGHT)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), data=st.data())
def test_each_epoch_is_a_permutation_cut_into_full_batches(n: int, data: Any) -> None:
    B = data.draw(st.integers(1, n))
    per_epoch = n // B
    iterations = data.draw(st.integers(1, 4 * per_epoch))
    doc = {
        "network": {"sizes": [1, 1], "activations": ["identity"], "loss": "sse"},
        "data": {"x": [[float(i)] for i in range(n)], "y": [[0.0]] * n},
        "train": {"learning_rate": 0.01, "iterations": iterations, "batch_size": B},
    }
    batches = list(mini_batches(parse_config(doc, source="test")))
    assert len(batches) == iterations
    for k, batch in enumerate(batches):
        assert batch.epoch == k // per_epoch + 1
        assert batch.indices is not None and len(batch.indices) == B
        assert np.array_equal(batch.x[0], batch.indices.astype(float))  # the columns named
    for e in {b.epoch for b in batches}:
        seen = np.concatenate([b.indices for b in batches if b.epoch == e])  # type: ignore[misc]
        assert len(set(seen.tolist())) == len(seen)  # no sample twice in an epoch


# --- determinism ------------------------------------------------------------------------


def small_digits(**train: Any) -> Config:
    doc = {
        "network": {
            "sizes": [64, 5, 10],
            "activations": ["sigmoid", "softmax"],
            "loss": "cross_entropy",
        },
        "init": {"seed": 1},
        "data": {"dataset": "digits", "samples": 120, "test_fraction": 0.25, "seed": 3},
        "train": {"learning_rate": 0.5, "iterations": 7, "every": 3, "batch_size": 16, **train},
    }
    return parse_config(doc, source="test")


def test_shuffling_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    save_trace(run(small_digits()), a)
    save_trace(run(small_digits()), b)
    assert a.read_bytes() == b.read_bytes()
    one = run(small_digits(shuffle_seed=1)).steps[0].batch
    other = run(small_digits(shuffle_seed=2)).steps[0].batch
    assert one is not None and other is not None and not np.array_equal(one, other)


def test_the_split_is_deterministic_for_a_seed() -> None:
    s, t = digits(300, 0.2, seed=5), digits(300, 0.2, seed=5)
    assert np.array_equal(s.train_index, t.train_index) and np.array_equal(s.x, t.x)
    assert len(s.test_index) == 60 and len(s.train_index) == 240
    assert not set(s.train_index.tolist()) & set(s.test_index.tolist())
    other = digits(300, 0.2, seed=6)
    assert not np.array_equal(s.test_index, other.test_index)
    # The documented rule, rebuilt by hand: the first samples of the seeded permutation.
    order = np.random.default_rng(5).permutation(1797)[:300]
    assert np.array_equal(s.test_index, np.sort(order[:60]))
    assert np.array_equal(s.train_index, np.sort(order[60:]))


# --- traces of mini-batches -------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_mini_batch_traces_round_trip(suffix: str, tmp_path: Path) -> None:
    trace = run(small_digits())
    assert [s.iteration for s in trace.steps] == recorded_iterations(7, 3)
    path = tmp_path / f"t{suffix}"
    save_trace(trace, path)
    loaded = load_trace(path)
    assert loaded == trace
    assert loaded.version == 2
    assert loaded.config.x_test is not None and loaded.config.x_test.shape == (64, 30)
    streamed = tmp_path / f"s{suffix}"
    with open_trace_writer(streamed, trace.config, len(trace.steps)) as writer:
        run(trace.config, on_record=writer.add, on_loss=writer.add_loss)
        writer.finish()
    assert load_trace(streamed) == trace
    if suffix == ".json":
        assert streamed.read_bytes() == path.read_bytes()


def test_mini_batch_json_fields(tmp_path: Path) -> None:
    doc = trace_to_dict(run(small_digits()))
    assert doc["version"] == 2
    assert doc["config"]["data"] == {
        "dataset": "digits",
        "samples": 120,
        "test_fraction": 0.25,
        "seed": 3,
    }
    assert doc["config"]["train"]["batch_size"] == 16
    assert doc["config"]["train"]["shuffle_seed"] == 0
    step = doc["steps"][1]
    assert list(step)[:3] == ["iteration", "epoch", "batch"]
    assert step["iteration"] == 3 and step["epoch"] == 1 and len(step["batch"]) == 16


def test_npz_stacks_epochs_and_batches(tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    trace = run(small_digits())
    save_trace(trace, path)
    with np.load(path, allow_pickle=False) as f:
        assert f["epoch"].tolist() == [s.epoch for s in trace.steps]
        assert f["batch"].shape == (len(trace.steps), 16) and f["batch"].dtype == np.int64
        assert f["input"].shape == (len(trace.steps), 64, 16)


def edited(tmp_path: Path, change: Any) -> Path:
    path = tmp_path / "t.json"
    save_trace(run(small_digits()), path)
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"][0]["batch"].__setitem__(0, 999), r"steps\[0\]\.batch: must list 16"),
        (lambda d: d["steps"][0].pop("epoch"), r"steps\[0\]\.epoch: must be a whole number"),
        (
            lambda d: d["steps"][0]["batch"].reverse(),
            r"steps\[0\]\.input: is not the columns `batch` of the config's data",
        ),
        (lambda d: d.update(version=1), r"version: is 1, but the config uses train\.batch_size"),
    ],
)
def test_inconsistent_mini_batch_traces_are_rejected(
    change: Any, message: str, tmp_path: Path
) -> None:
    path = edited(tmp_path, change)
    with pytest.raises(BackpropError, match=message) as exc:
        load_trace(path)
    assert str(exc.value).startswith(str(path)) and "\n" not in str(exc.value)


# --- config validation ------------------------------------------------------------------


def digits_doc(data: dict[str, Any] | None = None, **train: Any) -> dict[str, Any]:
    return {
        "network": {"sizes": [64, 10], "activations": ["softmax"], "loss": "cross_entropy"},
        "data": {"dataset": "digits", **(data or {})},
        "train": {"learning_rate": 0.1, "iterations": 2, **train},
    }


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (digits_doc(batch_size=0), r"train\.batch_size: must be between 1 and .*\(1438\), got 0"),
        (digits_doc(batch_size=2000), r"train\.batch_size: must be between 1 and"),
        (digits_doc(batch_size=3.5), r"train\.batch_size: must be a whole number"),
        (digits_doc(shuffle_seed=1), r"train\.shuffle_seed: given without train\.batch_size"),
        (digits_doc({"dataset": "mnist"}), r"data\.dataset: unknown data set 'mnist'"),
        (digits_doc({"x": [[1.0]]}), r"data\.x: cannot be combined with data\.dataset"),
        (digits_doc({"test_fraction": 1.0}), r"data\.test_fraction: must be at least 0 and below"),
        (digits_doc({"samples": 0}), r"data\.samples: must be between 2 and 1797, got 0"),
        (digits_doc({"seed": "a"}), r"data\.seed: must be a whole number"),
        (
            {
                **digits_doc(),
                "network": {"sizes": [2, 10], "activations": "softmax", "loss": "cross_entropy"},
            },
            r"network\.sizes: data\.dataset 'digits' needs 64 inputs",
        ),
    ],
)
def test_bad_digits_and_batch_configs(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(BackpropError, match=message) as exc:
        parse_config(doc, source="my.toml")
    assert str(exc.value).startswith("my.toml: ") and "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (digits_doc({"seed": -1}), r"data\.seed: must be at least 0"),
        (digits_doc({"seed": True}), r"data\.seed: must be a whole number"),
        (digits_doc({"test_fraction": True}), r"data\.test_fraction: must be a number"),
        (digits_doc({"datset": "digits"}), r"data\.datset: unknown key; did you mean 'dataset'"),
        (digits_doc(batch_size=4, shuffle_seed=-1), r"train\.shuffle_seed: must be at least 0"),
        (digits_doc(batch_size=4, shufle_seed=1), r"did you mean 'shuffle_seed'"),
        (
            {
                "network": {"sizes": [1, 1], "activations": "identity", "loss": "sse"},
                "data": {"x": [[0.0]], "y": [[0.0]], "test_fraction": 0.5},
                "train": {"learning_rate": 0.1, "iterations": 1},
            },
            r"data\.test_fraction: only splits a named data set",
        ),
    ],
)
def test_the_strict_schema_covers_data_sets_and_batches(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(BackpropError, match=message) as exc:
        parse_config(doc, source="my.toml")
    assert str(exc.value).startswith("my.toml: ") and "\n" not in str(exc.value)


def test_version_2_steps_are_strict_but_keep_extensions(tmp_path: Path) -> None:
    def load(change: Any) -> str:
        try:
            load_trace(edited(tmp_path, change))
        except BackpropError as exc:
            return str(exc)
        return "accepted"

    assert "steps[0].epoch: must be a whole number" in load(
        lambda d: d["steps"][0].update(epoch=1.0)
    )
    assert "steps[0].batch: must list 16" in load(lambda d: d["steps"][0]["batch"].append(True))
    assert "steps[0].bacth: unknown key; did you mean 'batch'" in load(
        lambda d: d["steps"][0].update(bacth=[])
    )
    assert "version: is True" in load(lambda d: d.update(version=True))
    assert load(lambda d: d["steps"][0].update(x_note="kept")) == "accepted"
    full = tmp_path / "full.json"
    save_trace(run(load_preset("xor")), full)
    doc = json.loads(full.read_text())
    doc["steps"][0]["epoch"] = 1
    full.write_text(json.dumps(doc))
    with pytest.raises(BackpropError, match=r"steps\[0\]\.epoch: unknown key"):
        load_trace(full)


def test_version_2_npz_members_are_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    save_trace(run(small_digits()), path)
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    assert {"epoch.npy", "batch.npy"} <= set(members)
    for name, array, message in [
        ("epoch.npy", np.ones(3), r"epoch: must hold whole numbers"),
        ("batch.npy", np.zeros((1, 64), dtype=np.int64), r"batch: has 1 entries"),
    ]:
        buf = io.BytesIO()
        np.save(buf, array)
        bad = tmp_path / f"bad-{name}.npz"
        with zipfile.ZipFile(bad, "w") as z:
            for key, data in {**members, name: buf.getvalue()}.items():
                z.writestr(key, data)
        with pytest.raises(BackpropError, match=message):
            load_trace(bad)
    missing = tmp_path / "missing.npz"
    with zipfile.ZipFile(missing, "w") as z:
        for key, data in members.items():
            if key != "batch.npy":
                z.writestr(key, data)
    with pytest.raises(BackpropError, match=r"batch: missing array"):
        load_trace(missing)


def test_digits_defaults() -> None:
    config = parse_config(digits_doc(), source="test")
    assert config.dataset is not None and config.dataset.to_dict() == {
        "dataset": "digits",
        "samples": 1797,
        "test_fraction": 0.2,
        "seed": 0,
    }
    assert config.x.shape == (64, 1438) and config.y.shape == (10, 1438)
    assert config.batch_size is None and config.m == 1438
    assert config.is_classification


# --- the digits preset and accuracy -----------------------------------------------------

DIGITS_TEST_ACCURACY = 0.96
"""The digits preset's file documents 96.9 % on the held-out images after training."""


def accuracy_by_hand(
    config: Config, weights: list[Any], biases: list[Any], x: Any, y: Any
) -> float:
    a = x
    for W, b, name in zip(weights, biases, config.activations, strict=True):
        z = W @ a + b
        a = 1 / (1 + np.exp(-z)) if name == "sigmoid" else np.exp(z) / np.exp(z).sum(axis=0)
    return float(np.sum(a.argmax(axis=0) == y.argmax(axis=0)) / x.shape[1])


def test_the_digits_preset_learns_the_digits() -> None:
    config = load_preset("digits")
    assert config.batch_size == 32 and config.sizes == (64, 16, 10)
    weights, biases = train(config)
    assert config.x_test is not None and config.y_test is not None
    test = accuracy_by_hand(config, weights, biases, config.x_test, config.y_test)
    train_acc = accuracy_by_hand(config, weights, biases, config.x, config.y)
    assert test > DIGITS_TEST_ACCURACY
    assert train_acc > test


def test_csv_and_show_report_accuracy(tmp_path: Path) -> None:
    config = small_digits()
    trace = run(config)
    path = tmp_path / "t.csv"
    save_trace(trace, path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert config.x_test is not None and config.y_test is not None
    for row, step in zip(rows, trace.steps, strict=True):
        weights, biases = [r.W for r in step.layers], [r.b for r in step.layers]
        assert float(row["train_accuracy"]) == pytest.approx(
            accuracy_by_hand(config, weights, biases, config.x, config.y), abs=1e-12
        )
        assert float(row["test_accuracy"]) == pytest.approx(
            accuracy_by_hand(config, weights, biases, config.x_test, config.y_test), abs=1e-12
        )
    trace_path = tmp_path / "t.json"
    save_trace(trace, trace_path)
    result = CliRunner().invoke(cli, ["show", str(trace_path), "-k", "7"])
    assert result.exit_code == 0, result.output
    last = trace.steps[-1]
    weights, biases = [r.W for r in last.layers], [r.b for r in last.layers]
    train_pct = 100 * accuracy_by_hand(config, weights, biases, config.x, config.y)
    test_pct = 100 * accuracy_by_hand(config, weights, biases, config.x_test, config.y_test)
    assert (
        f"accuracy before the update: train {train_pct:.1f}% of 90 samples, "
        f"test {test_pct:.1f}% of 30"
    ) in result.output


def test_show_has_no_accuracy_for_regression(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace(run(load_preset("batch-demo")), path)
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 0 and "accuracy" not in result.output


def test_a_trace_of_the_preset_stays_small(tmp_path: Path) -> None:
    """Recorded once per epoch: 31 steps, under 6 MB of JSON."""
    trace = run(load_preset("digits"))
    assert len(trace.steps) == 31
    path = tmp_path / "t.json"
    save_trace(trace, path)
    assert path.stat().st_size < 6_000_000
