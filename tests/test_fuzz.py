"""Fuzzing: hostile traces (JSON, NPZ with hostile zip members) and configs are refused
with one line or accepted, never a traceback, a memory bomb or a lost file.

Hypothesis runs derandomized with a small budget (CI adds well under a minute);
``benchmarks/fuzz.py`` runs the same cases longer and prints counts per class.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
from pathlib import Path

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


def _run(args: list[str], cwd: Path) -> tuple[int, str, str, int]:
    """Run ``backprop`` and return its status, stdout, stderr and peak resident KiB."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "backprop_cli", *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = proc.communicate(timeout=120)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc.returncode, out.decode(), err.decode(), usage.ru_maxrss


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
