"""Tier 1: traces survive saving and loading, and bad trace files get one clear line.

Every loadable format gives back a trace equal to the one saved (floats exactly); the
same config gives a byte-identical JSON file; every way a trace file can be wrong names
the file and the field; a failing write leaves no partial file and keeps a good one.
"""

from __future__ import annotations

import csv
import json
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pytest

from backprop_core import files
from backprop_core import io as trace_io
from backprop_core.config import Config, load_preset, parse_config, preset_names
from backprop_core.errors import BackpropError
from backprop_core.io import csv_rows, load_trace, save_trace, trace_to_dict
from backprop_core.trace import LAYER_FIELDS, VERSION, Trace, run


def short(config: Config, iterations: int = 25) -> Config:
    """Big presets (200-sample data sets) with fewer iterations keep the files small."""
    return replace(config, iterations=min(config.iterations, iterations))


def random_config() -> Config:
    """A 3-layer config with every optional part: biases, batch, seeded init, tanh/relu."""
    rng = np.random.default_rng(42)
    return parse_config(
        {
            "network": {
                "sizes": [4, 5, 3, 2],
                "activations": ["tanh", "leaky_relu", "softmax"],
                "loss": "cross_entropy",
            },
            "init": {"seed": 11},
            "data": {
                "x": rng.standard_normal((3, 4)).tolist(),
                "y": np.eye(2)[[0, 1, 1]].tolist(),
            },
            "train": {"learning_rate": 0.3, "iterations": 17, "every": 4},
        },
        source="random",
    )


CONFIGS = {name: lambda name=name: short(load_preset(name)) for name in preset_names()}
CONFIGS["random"] = random_config


@pytest.fixture(scope="module")
def traces() -> dict[str, Trace]:
    return {name: run(make()) for name, make in CONFIGS.items()}


@pytest.fixture(scope="module")
def delta_demo() -> Trace:
    return run(load_preset("delta-demo"))


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".npz"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_save_load_round_trip(
    name: str, suffix: str, traces: dict[str, Trace], tmp_path: Path
) -> None:
    trace = traces[name]
    path = tmp_path / f"trace{suffix}"
    save_trace(trace, path)
    loaded = load_trace(path)
    assert loaded == trace
    # Equality is exact: spot-check that no float lost a bit on the way.
    for s, t in zip(trace.steps, loaded.steps, strict=True):
        for r, q in zip(s.layers, t.layers, strict=True):
            for f in LAYER_FIELDS:
                assert getattr(r, f).tobytes() == getattr(q, f).tobytes()
        assert s.loss.hex() == t.loss.hex()
    assert loaded.losses.tobytes() == trace.losses.tobytes()
    assert loaded.config.every == trace.config.every
    assert loaded.seed == trace.seed


def test_json_has_the_public_names(delta_demo: Trace, tmp_path: Path) -> None:
    """The names other tools read (docs/trace-format.md) and the shapes, rows first."""
    path = tmp_path / "t.json"
    save_trace(delta_demo, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "backprop-trace"
    assert doc["version"] == 1  # a full-batch trace on explicit data: version 1
    assert {"package_version", "seed", "config", "losses", "steps"} <= doc.keys()
    assert len(doc["losses"]) == delta_demo.config.iterations
    step = doc["steps"][0]
    assert step["iteration"] == 1
    assert {"loss", "loss_after", "input", "target", "grad_a", "layers"} <= step.keys()
    assert len(step["layers"]) == 2  # l = 1..L
    layer1 = step["layers"][0]
    assert set(layer1) == set(LAYER_FIELDS)
    # delta-demo is 2-3-2 on one sample: W^(1) is 3×2 and W^(1)[j][k] joins k → j.
    assert layer1["W"] == [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]]
    assert layer1["b"] == [[0.1], [-0.2], [0.3]]
    assert np.array(layer1["z"]).shape == (3, 1)
    assert step["input"] == [[1.0], [0.5]]  # samples are columns
    assert doc["config"]["data"]["x"] == [[1.0, 0.5]]  # but one list per sample in config


def test_same_config_gives_byte_identical_json(tmp_path: Path) -> None:
    for name, make in CONFIGS.items():
        a, b = tmp_path / f"{name}-a.json", tmp_path / f"{name}-b.json"
        save_trace(run(make()), a)
        save_trace(run(make()), b)
        assert a.read_bytes() == b.read_bytes(), name


def test_csv_has_header_and_one_row_per_recorded_iteration(
    traces: dict[str, Trace], tmp_path: Path
) -> None:
    trace = traces["random"]  # 3 layers, every 4 of 17 iterations
    path = tmp_path / "t.csv"
    save_trace(trace, path)
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        "iteration",
        "loss",
        "loss_after",
        "train_accuracy",  # a softmax output: a classification trace (no test set)
        "dW1_norm",
        "db1_norm",
        "dW2_norm",
        "db2_norm",
        "dW3_norm",
        "db3_norm",
    ]
    assert [int(r[0]) for r in rows[1:]] == [1, 4, 8, 12, 16, 17]
    for row, step in zip(rows[1:], trace.steps, strict=True):
        assert float(row[1]) == step.loss and float(row[2]) == step.loss_after
        for l, layer in enumerate(step.layers):
            assert float(row[4 + 2 * l]) == np.linalg.norm(layer.dW)
            assert float(row[5 + 2 * l]) == np.linalg.norm(layer.db)
    assert rows == [[str(v) for v in r] for r in csv_rows(trace)]


def test_csv_cannot_be_loaded_back(delta_demo: Trace, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    save_trace(delta_demo, path)
    with pytest.raises(BackpropError, match=r"t\.csv: cannot load \.csv; use \.json or \.npz"):
        load_trace(path)


def test_unknown_suffix(delta_demo: Trace, tmp_path: Path) -> None:
    with pytest.raises(BackpropError, match=r"t\.txt: unknown suffix '\.txt'; use one of"):
        save_trace(delta_demo, tmp_path / "t.txt")
    assert not (tmp_path / "t.txt").exists()


def test_npz_loads_without_pickle(delta_demo: Trace, tmp_path: Path) -> None:
    """The .npz holds plain arrays and a JSON string; np.load never needs pickle."""
    path = tmp_path / "t.npz"
    save_trace(delta_demo, path)
    with np.load(path, allow_pickle=False) as arrays:
        assert arrays["iteration"].tolist() == list(range(1, 51))
        assert arrays["layer1/W"].shape == (50, 3, 2)  # stacked over recorded steps
        assert arrays["input"].shape == (50, 2, 1)
        meta = json.loads(str(arrays["meta"]))
        assert meta["format"] == "backprop-trace" and meta["version"] == 1
        assert all(arrays[k].dtype != object for k in arrays.files)


# --- bad trace files ------------------------------------------------------------------


def saved(trace: Trace, path: Path) -> Path:
    save_trace(trace, path)
    return path


def edit_json(path: Path, change: Any) -> Path:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return path


def one_line(exc: pytest.ExceptionInfo[BackpropError], path: Path) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_missing_file(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"nope{suffix}"
    with pytest.raises(BackpropError, match=r"nope\.(json|npz): file not found") as exc:
        load_trace(path)
    one_line(exc, path)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_truncated_file(suffix: str, delta_demo: Trace, tmp_path: Path) -> None:
    path = saved(delta_demo, tmp_path / f"t{suffix}")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackpropError, match=r"truncated or corrupted.*re-export it") as exc:
        load_trace(path)
    one_line(exc, path)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_empty_file(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"")
    with pytest.raises(BackpropError, match=r"truncated or corrupted") as exc:
        load_trace(path)
    one_line(exc, path)


def test_corrupted_json(delta_demo: Trace, tmp_path: Path) -> None:
    path = saved(delta_demo, tmp_path / "t.json")
    data = bytearray(path.read_bytes())
    data[100:110] = b"\x00\xff garbage"
    path.write_bytes(bytes(data))
    with pytest.raises(BackpropError, match=r"t\.json: not valid JSON") as exc:
        load_trace(path)
    one_line(exc, path)


def test_corrupted_npz(delta_demo: Trace, tmp_path: Path) -> None:
    """A flipped byte inside an array fails the zip CRC check."""
    path = saved(delta_demo, tmp_path / "t.npz")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))
    with pytest.raises(BackpropError, match=r"t\.npz: not a readable \.npz") as exc:
        load_trace(path)
    one_line(exc, path)


def test_npz_that_is_a_plain_array(tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    with path.open("wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(BackpropError, match=r"t\.npz: is a single \.npy array"):
        load_trace(path)


def test_json_that_is_not_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text("[1, 2, 3]")
    with pytest.raises(BackpropError, match=r"t\.json: format: not a backprop trace"):
        load_trace(path)
    path.write_text('{"format": "something-else", "version": 1}')
    with pytest.raises(BackpropError, match=r"format: is 'something-else'"):
        load_trace(path)


def test_json_of_another_version(delta_demo: Trace, tmp_path: Path) -> None:
    path = saved(delta_demo, tmp_path / "t.json")
    edit_json(path, lambda d: d.update(version=VERSION + 1))
    with pytest.raises(
        BackpropError,
        match=rf"t\.json: version: is {VERSION + 1}; this backprop-anim reads versions 1 and 2",
    ) as exc:
        load_trace(path)
    one_line(exc, path)


def rewrite_npz(path: Path, change: Any) -> Path:
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    with path.open("wb") as out:
        np.savez(out, **arrays)
    return path


def test_npz_of_another_version(delta_demo: Trace, tmp_path: Path) -> None:
    path = saved(delta_demo, tmp_path / "t.npz")

    def bump(arrays: dict[str, Any]) -> None:
        meta = json.loads(str(arrays["meta"]))
        meta["version"] = 7
        arrays["meta"] = np.array(json.dumps(meta))

    rewrite_npz(path, bump)
    with pytest.raises(BackpropError, match=r"t\.npz: version: is 7; .* re-export") as exc:
        load_trace(path)
    one_line(exc, path)


def drop_a_row(doc: dict[str, Any]) -> None:
    doc["steps"][3]["layers"][1]["dW"].pop()


def non_numeric(doc: dict[str, Any]) -> None:
    doc["steps"][0]["layers"][0]["z"][1][0] = "x"


def ragged(doc: dict[str, Any]) -> None:
    doc["steps"][0]["layers"][0]["W"][0].append(1.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (drop_a_row, r"steps\[3\]\.layers\[1\]\.dW: has shape 1×3, expected 2×3"),
        (non_numeric, r"steps\[0\]\.layers\[0\]\.z: must be a matrix of numbers"),
        (ragged, r"steps\[0\]\.layers\[0\]\.W: must be a matrix of numbers"),
        (
            lambda d: d["steps"][0]["layers"][0].pop("delta"),
            r"steps\[0\]\.layers\[0\]\.delta: missing field",
        ),
        (lambda d: d["steps"][0]["layers"].pop(), r"steps\[0\]\.layers: must list 2 layers"),
        (lambda d: d["steps"][2].update(loss="low"), r"steps\[2\]\.loss: must be a finite number"),
        (lambda d: d["steps"][2].update(loss=None), r"steps\[2\]\.loss: must be a finite number"),
        (lambda d: d["steps"][1].update(iteration=0), r"steps\[1\]\.iteration: must be a whole"),
        (lambda d: d["steps"].reverse(), r"steps: iterations must be increasing and distinct"),
        (lambda d: d.update(steps=[]), r"steps: missing or empty"),
        (lambda d: d["losses"].pop(), r"losses: must list the loss of all 50 iterations"),
        (lambda d: d["steps"][0].update(input=[[1.0]]), r"steps\[0\]\.input: has shape 1×1"),
        (
            lambda d: d["config"]["network"].update(sizes=[2, 4, 2]),
            r"config\.init\.weights\[0\]: W\^\(1\) must be 4×2",
        ),
        (lambda d: d.pop("config"), r"config: missing or not an object"),
    ],
)
def test_json_with_inconsistent_fields(
    change: Any, message: str, delta_demo: Trace, tmp_path: Path
) -> None:
    path = edit_json(saved(delta_demo, tmp_path / "t.json"), change)
    with pytest.raises(BackpropError, match=message) as exc:
        load_trace(path)
    one_line(exc, path)


def test_json_with_nan(delta_demo: Trace, tmp_path: Path) -> None:
    """Python's json reads the token NaN; the loader must refuse it."""
    path = edit_json(
        saved(delta_demo, tmp_path / "t.json"),
        lambda d: d["steps"][0]["layers"][0]["z"][0].__setitem__(0, float("nan")),
    )
    assert "NaN" in path.read_text()
    with pytest.raises(BackpropError, match=r"steps\[0\]\.layers\[0\]\.z: contains NaN"):
        load_trace(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a.update({"layer1/W": a["layer1/W"][:, :2, :]}),
            r"t\.npz: steps\[0\]\.layers\[0\]\.W: has shape 2×2, expected 3×2",
        ),
        (
            lambda a: a.update({"layer2/delta": a["layer2/delta"][:-1]}),
            r"t\.npz: layer2/delta: has 49 entries for 50 iterations",
        ),
        (lambda a: a.pop("layer2/b_next"), r"t\.npz: layer2/b_next: missing array"),
        (lambda a: a.pop("meta"), r"t\.npz: meta: missing; not a backprop trace"),
        (lambda a: a.update(meta=np.array("{oops")), r"t\.npz: meta: is not valid JSON"),
        (lambda a: a.update(meta=np.array('{"config": []}')), r"t\.npz: format: is None"),
        (lambda a: a.update(meta=np.array("[1]")), r"t\.npz: meta: must be a JSON object"),
    ],
)
def test_npz_with_inconsistent_arrays(
    change: Any, message: str, delta_demo: Trace, tmp_path: Path
) -> None:
    path = rewrite_npz(saved(delta_demo, tmp_path / "t.npz"), change)
    with pytest.raises(BackpropError, match=message) as exc:
        load_trace(path)
    one_line(exc, path)


def test_npz_with_object_array_is_refused(delta_demo: Trace, tmp_path: Path) -> None:
    """A pickled array would run code on load; allow_pickle=False turns it into an error."""
    path = rewrite_npz(
        saved(delta_demo, tmp_path / "t.npz"),
        lambda a: a.update(loss=np.array([object()] * 50, dtype=object)),
    )
    with pytest.raises(BackpropError, match=r"t\.npz: not a readable \.npz"):
        load_trace(path)


# --- atomic writes --------------------------------------------------------------------


def failing_writer(trace: Trace, f: BinaryIO) -> None:
    f.write(b'{"format": "backprop-trace", "version": 1, "steps": [')  # a partial file
    raise RuntimeError("disk on fire")


def failing_os_writer(trace: Trace, f: BinaryIO) -> None:
    f.write(b"PK partial")
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_failed_write_leaves_no_partial_file(
    suffix: str, delta_demo: Trace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(trace_io.WRITERS, suffix, failing_writer)
    path = tmp_path / f"t{suffix}"
    with pytest.raises(RuntimeError, match="disk on fire"):
        save_trace(delta_demo, path)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_failed_write_keeps_the_good_file(
    suffix: str, delta_demo: Trace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = saved(delta_demo, tmp_path / f"t{suffix}")
    good = path.read_bytes()
    monkeypatch.setitem(trace_io.WRITERS, suffix, failing_os_writer)
    with pytest.raises(BackpropError, match=r"cannot write \(No space left on device\)") as exc:
        save_trace(delta_demo, path)
    one_line(exc, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_write_into_missing_folder(delta_demo: Trace, tmp_path: Path) -> None:
    path = tmp_path / "no" / "t.json"
    with pytest.raises(BackpropError, match=r"folder '.*no' does not exist; create it"):
        save_trace(delta_demo, path)


def test_write_onto_a_folder(delta_demo: Trace, tmp_path: Path) -> None:
    (tmp_path / "t.json").mkdir()
    with pytest.raises(BackpropError, match=r"t\.json: is a folder"):
        save_trace(delta_demo, tmp_path / "t.json")


def test_written_files_get_normal_permissions(delta_demo: Trace, tmp_path: Path) -> None:
    """mkstemp creates 0600 files; a trace gets the usual 0666 minus the umask."""
    path = saved(delta_demo, tmp_path / "t.json")
    assert path.stat().st_mode & 0o777 == 0o666 & ~files._umask()


def test_trace_to_dict_is_plain_json(delta_demo: Trace) -> None:
    doc = trace_to_dict(delta_demo)
    assert json.loads(json.dumps(doc)) == doc


def test_zip_members_are_the_documented_arrays(delta_demo: Trace, tmp_path: Path) -> None:
    path = saved(delta_demo, tmp_path / "t.npz")
    names = set(zipfile.ZipFile(path).namelist())
    expected = {"meta", "losses", "iteration", "loss", "loss_after", "input", "target", "grad_a"}
    expected |= {f"layer{l}/{f}" for l in (1, 2) for f in LAYER_FIELDS}
    assert names == {f"{n}.npy" for n in expected}


def test_readers_ignore_extension_fields(delta_demo: Trace, tmp_path: Path) -> None:
    """Fields named ``x_...`` are other tools' extensions (docs/trace-format.md,
    Versioning); any other unknown field is a typo and refused, naming the nearest key."""

    def add(doc: dict[str, Any]) -> None:
        doc["x_generator"] = "some other tool"
        doc["steps"][0]["x_note"] = "hello"
        doc["steps"][0]["layers"][1]["x_dz_norm"] = [[1.0]]

    path = edit_json(saved(delta_demo, tmp_path / "t.json"), add)
    assert load_trace(path) == delta_demo
    path = rewrite_npz(
        saved(delta_demo, tmp_path / "t.npz"), lambda a: a.update(x_extra=np.zeros(3))
    )
    assert load_trace(path) == delta_demo
    path = edit_json(saved(delta_demo, tmp_path / "u.json"), lambda d: d.update(lossess=[]))
    with pytest.raises(
        BackpropError, match=r"u\.json: lossess: unknown key; did you mean 'losses'"
    ):
        load_trace(path)


def test_the_documented_reading_snippets_work(delta_demo: Trace, tmp_path: Path) -> None:
    """The plain-json and plain-npz reading examples of docs/trace-format.md."""
    save_trace(delta_demo, tmp_path / "t.json")
    save_trace(delta_demo, tmp_path / "t.npz")
    doc = json.loads((tmp_path / "t.json").read_text())
    step = doc["steps"][0]
    W1 = np.array(step["layers"][0]["W"])
    x = np.array(step["input"])
    z = np.array(step["layers"][0]["z"])
    assert np.allclose(z, W1 @ x + np.array(step["layers"][0]["b"]))
    with np.load(tmp_path / "t.npz", allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        assert set(meta) == {"format", "version", "package_version", "seed", "config"}
        assert f["layer1/dW"][0].shape == (3, 2)
        assert f["meta"].dtype.kind == "U"
    assert (tmp_path / "t.json").read_bytes().endswith(b"}\n")
    assert b" " not in (tmp_path / "t.json").read_bytes().split(b'"steps"')[1]
