"""Fuzzing: hostile traces (JSON, NPZ with hostile zip members) and configs are refused
with one line or accepted, never a traceback, a memory bomb or a lost file.

Hypothesis runs derandomized with a small budget (CI adds well under a minute);
``benchmarks/fuzz.py`` runs the same cases longer and prints counts per class.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fuzz_cases import CASES, good_doc, outcome
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]

FUZZ = settings(
    derandomize=True,
    max_examples=int(os.environ.get("BACKPROP_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.parametrize("kind", list(CASES))
@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_hostile_input_is_refused_in_one_line_or_accepted(
    kind: str, rng: random.Random, tmp_path_factory: pytest.TempPathFactory
) -> None:
    make, suffix = CASES[kind]
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"input{suffix}"
    path.write_bytes(make(rng))
    outcome(path)
    assert sorted(p.name for p in folder.iterdir()) == [path.name]


# --- a few through the real command: exit 2, one line, no traceback, memory, files --------

LIMIT = 1 << 30
"""No input of these sizes may make a command use more than 1 GiB (resident)."""


def _hostile_files(folder: Path) -> list[tuple[str, Path]]:
    import json

    from fuzz_cases import _zip_bomb

    doc = good_doc()
    big = json.loads(json.dumps(doc))
    big["config"]["network"]["sizes"] = [100000, 100000]
    big["config"]["init"].pop("weights")
    name = json.loads(json.dumps(doc))
    name["config"]["name"] = "[/]\x1b[2J\n"
    digits = json.loads(json.dumps(doc))
    digits["config"]["train"]["iterations"] = int("9" * 400)
    seed = json.loads(json.dumps(doc))
    seed["config"]["init"]["seed"] = -1
    files = {
        "sizes.json": json.dumps(big).encode(),
        "markup.json": json.dumps(name).encode(),
        "bomb.npz": _zip_bomb("meta.npy", (), "<U100000000", 32 << 20),
        "digits.json": json.dumps(digits).encode(),
        "more-digits.json": json.dumps(doc)
        .encode()
        .replace(b'"seed": 0', b'"seed": ' + b"9" * 5000),
        "seed.json": json.dumps(seed).encode(),
    }
    out = []
    for file_name, data in files.items():
        path = folder / file_name
        path.write_bytes(data)
        out.append((file_name, path))
    return out


PEAK_WRAPPER = """
import atexit, os, runpy, sys

def peak():
    with open("/proc/self/status") as f:
        kib = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["BACKPROP_TEST_PEAK"], "w") as f:
        f.write(kib)

atexit.register(peak)
sys.argv = ["backprop", *sys.argv[1:]]
runpy.run_module("backprop_cli", run_name="__main__", alter_sys=True)
"""
"""``python -m backprop_cli`` that writes its own peak resident KiB (``VmHWM``, of the
program after ``exec``) at exit: ``ru_maxrss`` of a child also counts the pages of the
forked copy of this test process before ``exec``, so it reports this process's size
once the test run has grown past the bound."""


def _run(args: list[str], cwd: Path) -> tuple[int, str, str, int]:
    """Run ``backprop`` and return its status, stdout, stderr and peak resident KiB (of
    that program alone: its own ``VmHWM``, else ``os.wait4``'s ``ru_maxrss``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        peak = cwd / ".peak-kib"
        peak.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-c", PEAK_WRAPPER, *args],
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(ROOT), "BACKPROP_TEST_PEAK": str(peak)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        rss = int(peak.read_text()) if peak.is_file() else usage.ru_maxrss
        peak.unlink(missing_ok=True)
        return proc.returncode, out.read().decode(), err.read().decode(), rss


def test_hostile_traces_through_the_command(tmp_path: Path) -> None:
    for name, path in _hostile_files(tmp_path):
        existing = tmp_path / f"{name}.md"
        existing.write_text("the user's handout")
        for args in (["show", str(path)], ["handout", str(path), "-o", str(existing)]):
            code, out, err, rss = _run(args, tmp_path)
            assert rss < LIMIT >> 10, (name, rss)
            if name == "markup.json":  # valid: accepted, its name printed inert
                assert code == 0, err
                assert "\x1b" not in out and "\x1b" not in existing.read_text()
                continue
            assert code == 2, (name, err)
            assert err.count("\n") == 1 and "Traceback" not in err, (name, err)
            assert existing.read_text() == "the user's handout"
    leftovers = [p.name for p in tmp_path.iterdir() if "backprop-tmp" in p.name]
    assert leftovers == []


def test_hostile_configs_through_the_command(tmp_path: Path) -> None:
    existing = tmp_path / "t.json"
    existing.write_text("keep me")
    configs = {
        "dev-zero": "/dev/zero",
        "generator": "[network]\nsizes=[2,1]\nactivations='sigmoid'\nloss='mse'\n"
        "[data]\ngenerator='moons'\nsamples=1000000000\n[train]\nlearning_rate=1\niterations=1\n",
        "typo": "[network]\nsizes=[2,1]\nactivations='sigmoid'\nloss='mse'\n[intit]\nseed=1\n"
        "[data]\nx=[[1,2]]\ny=[[1]]\n[train]\nlearning_rate=1\niterations=1\n",
        "negative-seed": "[network]\nsizes=[2,1]\nactivations='sigmoid'\nloss='mse'\n"
        "[init]\nseed=-1\n[data]\nx=[[1,2]]\ny=[[1]]\n[train]\nlearning_rate=1\niterations=1\n",
        "iterations": "[network]\nsizes=[2,1]\nactivations='sigmoid'\nloss='mse'\n"
        "[data]\nx=[[1,2]]\ny=[[1]]\n[train]\nlearning_rate=1\niterations=10000000000\n",
    }
    for name, text in configs.items():
        path = Path(text) if text.startswith("/") else tmp_path / f"{name}.toml"
        if not text.startswith("/"):
            path.write_text(text)
        code, _, err, rss = _run(["trace", "-c", str(path), "-o", str(existing)], tmp_path)
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (name, err)
        assert rss < LIMIT >> 10, (name, rss)
    assert existing.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if "backprop" in p.name) == []


def test_lecture_refuses_an_output_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("a file")
    code, _, err, _ = _run(["lecture", "-o", str(out)], ROOT)
    assert code == 2 and err.count("\n") == 1 and "is a file" in err, err
    assert out.read_text() == "a file"


# --- every class the issue lists, with the message it gets -----------------------------


def _json(edit: Any) -> bytes:
    import json

    doc = json.loads(json.dumps(good_doc()))
    edit(doc)
    return json.dumps(doc).encode("utf-8", "surrogatepass")


def _npz_with(name: str, value: Any) -> bytes:
    from fuzz_cases import _members, _npy, _zip, good_npz

    members = _members(good_npz())
    members[name] = _npy(value)
    return _zip(members)


def _npz_zip(method: int, flags: int = 0) -> bytes:
    from fuzz_cases import _members, _zip, good_npz

    return _zip(_members(good_npz()), method, flags)


def _cfg(net: str = "", init: str = "", data: str = "x=[[1,2]]\ny=[[1]]", train: str = "") -> bytes:
    return (
        "[network]\nsizes=[2,1]\nactivations='sigmoid'\nloss='mse'\n" + net + "\n"
        "[init]\n" + init + "\n[data]\n" + data + "\n"
        "[train]\nlearning_rate=1\niterations=2\n" + train + "\n"
    ).encode()


def _pop_weights(d: dict[str, Any]) -> None:
    d["config"]["init"].pop("weights")
    d["config"]["init"].pop("biases")


CLASSES: dict[str, tuple[str, bytes, str]] = {
    "declared 17000×17000": (
        ".json",
        _json(lambda d: (_pop_weights(d), d["config"]["network"].update(sizes=[17000, 17000]))),
        r"config\.network\.sizes: has a layer of 17000 neurons; at most 4096",
    ),
    "too many parameters": (
        ".toml",
        _cfg().replace(b"sizes=[2,1]", b"sizes=[2,3000,3000,1]"),
        r"network\.sizes: needs 9015001 parameters; at most 1 000 000",
    ),
    "generator of 10^9 samples": (
        ".toml",
        _cfg(data="generator='moons'\nsamples=1000000000"),
        r"data\.samples: must be at most 100000",
    ),
    "10^7 iterations": (
        ".toml",
        _cfg().replace(b"iterations=2", b"iterations=10000000"),
        r"train\.iterations: must be at most 1000000",
    ),
    "hundreds of digits": (
        ".json",
        _json(lambda d: d["config"]["train"].update(iterations=int("9" * 300))),
        r"config\.train\.iterations: must be at most 1000000",
    ),
    "negative trace seed": (".json", _json(lambda d: d.update(seed=-1)), r"seed: must be a whole"),
    "negative config seed": (".toml", _cfg(init="seed=-1"), r"init\.seed: must be at least 0"),
    "negative generator seed": (
        ".toml",
        _cfg(data="generator='moons'\nseed=-3"),
        r"data\.seed: must be at least 0",
    ),
    "version true": (".json", _json(lambda d: d.update(version=True)), r"version: is True"),
    "version '1.5'": (".json", _json(lambda d: d.update(version="1.5")), r"version: is '1\.5'"),
    "bool in a matrix": (
        ".json",
        _json(lambda d: d["steps"][0]["layers"][0].update(W=[[True, 1.0]] * 3)),
        r"steps\[0\]\.layers\[0\]\.W: must be a matrix of numbers",
    ),
    "text number in a matrix": (
        ".json",
        _json(lambda d: d["steps"][0].update(input=[["1.5"], ["2"]])),
        r"steps\[0\]\.input: must be a matrix of numbers",
    ),
    "0-d iteration": (".npz", _npz_with("iteration.npy", np.array(1)), r"iteration: has shape"),
    "2-d iteration": (
        ".npz",
        _npz_with("iteration.npy", np.ones((2, 2), dtype=np.int64)),
        r"iteration: has shape 2×2",
    ),
    "fractional iteration": (
        ".npz",
        _npz_with("iteration.npy", np.array([1.5])),
        r"iteration: must hold whole numbers",
    ),
    "infinite iteration": (
        ".npz",
        _npz_with("iteration.npy", np.array([np.inf])),
        r"iteration: must hold whole numbers",
    ),
    "complex array": (
        ".npz",
        _npz_with("losses.npy", np.zeros(50, dtype=np.complex128)),
        r"losses: must hold float64, got complex128",
    ),
    "encrypted member": (
        ".npz",
        _npz_zip(zipfile.ZIP_STORED, 0x1),
        r"meta\.npy: is encrypted",
    ),
    "bzip2 member": (".npz", _npz_zip(zipfile.ZIP_BZIP2), r"uses compression method 12"),
    "lzma member": (".npz", _npz_zip(zipfile.ZIP_LZMA), r"uses compression method 14"),
    "zip bomb meta": (
        ".npz",
        b"",  # made in the test: 16 MiB of zeros behind a 381 MiB header
        r"meta: declares 381 MiB; at most 256 MiB",
    ),
    "deep TOML": (".toml", b"x = " + b"[" * 10000 + b"]" * 10000, r"not valid TOML"),
    "deep JSON": (".json", b"[" * 100000 + b"]" * 100000, r"not valid JSON"),
    "typo section [intit]": (
        ".toml",
        _cfg().replace(b"[init]", b"[intit]"),
        r"\[intit\]: unknown section; did you mean 'init'\?",
    ),
    "typo key evry": (
        ".toml",
        _cfg(train="evry=3"),
        r"train\.evry: unknown key; did you mean 'every'\?",
    ),
    "unused key momentum": (".toml", _cfg(train="momentum=0.9"), r"train\.momentum: unknown key"),
    "unknown trace key": (
        ".json",
        _json(lambda d: d["steps"][0]["layers"][0].update(dw=[[0.0]])),
        r"steps\[0\]\.layers\[0\]\.dw: unknown key; did you mean 'dW'\?",
    ),
    "unknown npz member": (
        ".npz",
        _npz_with("layer1/dw.npy", np.zeros(3)),
        r"layer1/dw: unknown key; did you mean 'layer1/dW'\?",
    ),
    "lone surrogate name accepted": (
        ".json",
        _json(lambda d: d["config"].update(name="\udc80 [/] \x1b[31m")),
        "",
    ),
}


@pytest.mark.parametrize("case", list(CLASSES))
def test_each_hostile_class_gets_its_one_line_message(case: str, tmp_path: Path) -> None:
    from fuzz_cases import _zip_bomb

    from backprop_core.config import load_config
    from backprop_core.errors import BackpropError
    from backprop_core.io import load_trace

    suffix, data, message = CLASSES[case]
    if case == "zip bomb meta":
        data = _zip_bomb("meta.npy", (), "<U100000000", 16 << 20)
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    load = load_config if suffix == ".toml" else load_trace
    if not message:
        load(path)
        return
    with pytest.raises(BackpropError, match=message) as exc:
        load(path)
    assert "\n" not in str(exc.value) and str(exc.value).startswith(str(path))
