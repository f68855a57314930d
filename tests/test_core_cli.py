"""Tier 1: the ``backprop`` command, and the engine's independence from manim.

Most tests call :func:`backprop_cli.cli.main` in-process (fast); a few run
``python -m backprop_cli`` as a subprocess with stdin closed, because only a real
process shows what a user sees: the exit status, every line on stderr, no traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

import backprop_core.gradcheck
from backprop_core.config import load_config, load_preset, preset_names
from backprop_core.io import load_trace, save_trace
from backprop_core.network import Gradients
from backprop_core.trace import run

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Result:
    code: int
    out: str
    err: str


Invoke = Callable[..., "Result"]


@pytest.fixture
def backprop(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """``backprop(*args)`` runs the CLI in-process and returns exit status and output."""
    from backprop_cli.cli import main

    def invoke(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["backprop", *args])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return invoke


def subprocess_backprop(*args: str, cwd: Path) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "backprop_cli", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.code == 2, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("backprop: error: ")
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in lines[0]


# --- backprop trace ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".npz", ".csv"])
def test_trace_writes_each_format_and_prints_a_summary(
    suffix: str, backprop: Invoke, tmp_path: Path
) -> None:
    out = tmp_path / f"delta{suffix}"
    result = backprop("trace", "--preset", "delta-demo", "-o", str(out))
    assert result.code == 0, result.err
    assert out.is_file() and out.stat().st_size > 0
    trace = run(load_preset("delta-demo"))
    first, last = trace.steps[0].loss, trace.steps[-1].loss_after
    summary = " ".join(result.out.split())
    assert summary.startswith("Trained delta-demo: a 2-3-2 network (sigmoid, sigmoid)")
    assert f"Loss {first:.6g} → {last:.6g}." in summary
    assert f"Recorded 50 iterations (every 1) into {out}" in summary
    assert len(result.out.strip().splitlines()) == 1  # one paragraph, not hard-wrapped
    if suffix != ".csv":
        assert load_trace(out) == trace


def test_trace_every_n(backprop: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "t.json"
    result = backprop("trace", "-p", "delta-demo", "-o", str(out), "--every", "7")
    assert result.code == 0, result.err
    trace = load_trace(out)
    assert [s.iteration for s in trace.steps] == [1, 7, 14, 21, 28, 35, 42, 49, 50]
    assert "Recorded 9 iterations (every 7)" in " ".join(result.out.split())


def test_trace_from_a_config_file(backprop: Invoke, tmp_path: Path) -> None:
    from backprop_core.config import preset_text

    config = tmp_path / "mine.toml"
    config.write_text(preset_text("seed-scalar"))
    out = tmp_path / "t.json"
    result = backprop("trace", "--config", str(config), "-o", str(out))
    assert result.code == 0, result.err
    assert load_trace(out).steps[-1].layers[0].W_next[0, 0] == pytest.approx(8.7893, abs=5e-5)


def test_cli_trace_is_byte_identical_to_the_library(tmp_path: Path) -> None:
    """Another process, same config: the same bytes (no time stamps, no hash order)."""
    result = subprocess_backprop("trace", "-p", "batch-demo", "-o", "cli.json", cwd=tmp_path)
    assert result.code == 0, result.err
    save_trace(run(load_preset("batch-demo")), tmp_path / "lib.json")
    assert (tmp_path / "cli.json").read_bytes() == (tmp_path / "lib.json").read_bytes()


def test_trace_needs_exactly_one_source(backprop: Invoke, tmp_path: Path) -> None:
    out = str(tmp_path / "t.json")
    for args in (["-o", out], ["-p", "xor", "-c", "x.toml", "-o", out]):
        result = backprop("trace", *args)
        assert result.code == 2
        assert "give exactly one of --preset NAME or --config FILE" in result.err
        assert "Traceback" not in result.err
        assert len(result.err.splitlines()) == 1, result.err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["trace", "-p", "xor", "--every", "0", "-o", "t.json"], "Invalid value for '--every'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["show"], "Missing argument 'TRACE'"),
    ],
)
def test_usage_errors_are_one_line(backprop: Invoke, args: list[str], fragment: str) -> None:
    result = backprop(*args)
    assert result.code == 2
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert fragment in lines[0] and "--help" in lines[0]


# --- backprop show ----------------------------------------------------------------------


def test_show_prints_the_iterations_matrices(backprop: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace(run(load_preset("delta-demo")), path)
    result = backprop("show", str(path), "--iteration", "2")
    assert result.code == 0, result.err
    step = load_trace(path).step(2)
    assert "delta-demo iteration 2" in result.out
    for field in ("W^(1)", "b^(1)", "z^(2)", "sigma_prime^(2)", "delta^(1)", "dW^(2)"):
        assert f"{field}  (" in result.out, field
    W1 = step.layers[0].W
    assert f"{W1[0, 0]:.4f}" in result.out and f"{W1[2, 1]:.4f}" in result.out
    assert f"{step.loss:.4f} → {step.loss_after:.4f}" in result.out


def test_show_indices_count_from_zero(backprop: Invoke, tmp_path: Path) -> None:
    """Rows and columns are labelled from 0 (as in the video and the trace), said once."""
    path = tmp_path / "t.json"
    save_trace(run(load_preset("delta-demo")), path)
    result = backprop("show", str(path))
    assert result.code == 0, result.err
    assert result.out.count("Indices count from 0") == 1
    W1 = load_trace(path).step(1).layers[0].W
    block = result.out.split("W^(1)  (3×2)")[1].split("b^(1)")[0]
    cells = [[c.strip() for c in line.strip("│┃ ").split("│" if "│" in line else "┃")]
             for line in block.splitlines() if "│" in line or "┃" in line]  # fmt: skip
    assert cells[0][-2:] == ["0", "1"]  # the header: columns 0 and 1
    body = {row[0]: row[1:] for row in cells[1:]}
    assert list(body) == ["0", "1", "2"]
    assert body["2"][1] == f"{W1[2, 1]:.4f}"  # row 2, column 1 is W^(1)[2, 1]
    # An elided matrix keeps its true last index.
    path = tmp_path / "m.json"
    save_trace(run(replace(load_preset("moons"), iterations=2)), path)
    result = backprop("show", str(path))
    header = result.out.split("a^(0) = x  (2×200)")[1].splitlines()[2]
    assert [c.strip() for c in header.split("┃")][-3:-1] == ["…", "199"]


def test_show_without_biases_hides_them(backprop: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    save_trace(run(load_preset("seed-scalar")), path)
    result = backprop("show", str(path), "--decimals", "6")
    assert result.code == 0, result.err
    assert "W^(1)" in result.out and "b^(1)" not in result.out
    assert "-23.100000" in result.out


def test_show_elides_big_matrices(backprop: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace(run(replace(load_preset("moons"), iterations=2)), path)
    result = backprop("show", str(path))
    assert result.code == 0, result.err
    assert "a^(0) = x  (2×200)" in result.out and "…" in result.out


def test_show_an_iteration_that_was_not_recorded(backprop: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    save_trace(run(replace(load_preset("delta-demo"), iterations=30), every=10), path)
    result = backprop("show", str(path), "-k", "3")
    assert_one_line_error(
        result, "t.json: --iteration: iteration 3 is not recorded; recorded: 1, 10, 20, 30"
    )


# --- backprop check ---------------------------------------------------------------------


@pytest.mark.parametrize("name", preset_names())
def test_check_passes_on_presets(name: str, backprop: Invoke) -> None:
    result = backprop("check", "--preset", name)
    assert result.code == 0, result.out + result.err
    assert result.out.startswith("ok: worst relative error ")
    assert "(tolerance 1e-05)" in result.out


def test_check_fails_when_gradients_are_wrong(
    backprop: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Break backprop the way a missing factor would (δ off by 1 %): check must say so."""
    real = backprop_core.gradcheck.backprop

    def broken(*args: object) -> Gradients:
        g = real(*args)  # type: ignore[arg-type]
        return replace(g, dW=[1.01 * w for w in g.dW])

    monkeypatch.setattr(backprop_core.gradcheck, "backprop", broken)
    result = backprop("check", "--preset", "delta-demo")
    assert result.code == 1
    assert result.out.startswith("FAILED: worst relative error ")
    assert " at dW^(" in result.out


def test_check_a_config_file(backprop: Invoke, tmp_path: Path) -> None:
    from backprop_core.config import preset_text

    config = tmp_path / "mine.toml"
    config.write_text(preset_text("batch-demo"))
    result = backprop("check", "-c", str(config))
    assert result.code == 0 and "over 11 parameters" in result.out


# --- backprop presets -------------------------------------------------------------------


def test_presets_lists_every_preset(backprop: Invoke) -> None:
    result = backprop("presets")
    assert result.code == 0
    for name in preset_names():
        assert name in result.out
        words = load_preset(name).description.split()
        assert words[0] in result.out


@pytest.mark.parametrize("name", preset_names())
def test_presets_name_prints_toml_that_loads(name: str, backprop: Invoke, tmp_path: Path) -> None:
    result = backprop("presets", name)
    assert result.code == 0
    path = tmp_path / "copy.toml"
    path.write_text(result.out)
    assert load_config(path) == load_preset(name)


def test_unknown_preset(backprop: Invoke, tmp_path: Path) -> None:
    result = backprop("presets", "nope")
    assert_one_line_error(result, "preset 'nope': no such preset; choose one of ")
    result = backprop("trace", "-p", "nope", "-o", str(tmp_path / "t.json"))
    assert_one_line_error(result, "no such preset")
    assert not (tmp_path / "t.json").exists()


# --- bad input through a real process ---------------------------------------------------

BAD_CONFIG = """\
[network]
sizes = [2, 1]
activations = ["sigmoid"]
loss = "{loss}"
[data]
x = [[1.0, 2.0]]
y = [[1.0]]
[train]
learning_rate = {rate}
iterations = {iterations}
"""


def bad_config(tmp_path: Path, loss: str = "sse", rate: str = "0.1", iterations: int = 5) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_CONFIG.format(loss=loss, rate=rate, iterations=iterations))
    return "bad.toml"


def diverging(tmp_path: Path) -> str:
    path = tmp_path / "fast.toml"
    path.write_text(
        BAD_CONFIG.format(loss="sse", rate="5.0", iterations=200)
        .replace("sigmoid", "identity")
        .replace("[data]", "[init]\nweights = [[[-23.1, 0.0]]]\n[data]")
        .replace("x = [[1.0, 2.0]]", "x = [[5.7, 0.0]]")
        .replace("y = [[1.0]]", "y = [[50.1]]")
    )
    return "fast.toml"


def good_trace(tmp_path: Path, name: str) -> str:
    save_trace(run(load_preset("delta-demo")), tmp_path / name)
    return name


def truncated(tmp_path: Path, name: str) -> str:
    good_trace(tmp_path, name)
    data = (tmp_path / name).read_bytes()
    (tmp_path / name).write_bytes(data[: len(data) // 3])
    return name


def other_version(tmp_path: Path) -> str:
    good_trace(tmp_path, "v.json")
    doc = json.loads((tmp_path / "v.json").read_text())
    doc["version"] = 99
    (tmp_path / "v.json").write_text(json.dumps(doc))
    return "v.json"


def bad_shapes(tmp_path: Path) -> str:
    good_trace(tmp_path, "s.npz")
    with np.load(tmp_path / "s.npz", allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["layer2/W"] = arrays["layer2/W"][:, :, :2]
    np.savez(tmp_path / "s.npz", **arrays)
    return "s.npz"


def corrupted(tmp_path: Path) -> str:
    good_trace(tmp_path, "c.json")
    data = bytearray((tmp_path / "c.json").read_bytes())
    data[200:204] = b"\xff\xfe{,"
    (tmp_path / "c.json").write_bytes(bytes(data))
    return "c.json"


def edited_config(tmp_path: Path, old: str, new: str) -> str:
    text = BAD_CONFIG.format(loss="sse", rate="0.1", iterations=5)
    assert old in text
    (tmp_path / "bad.toml").write_text(text.replace(old, new))
    return "bad.toml"


CASES = {
    "unknown activation": (
        lambda p: ["trace", "-c", edited_config(p, '["sigmoid"]', '["sigmoidal"]'), "-o", "t.json"],
        ["bad.toml: network.activations[0]: unknown activation 'sigmoidal'"],
    ),
    "weights that disagree with sizes": (
        lambda p: [
            "trace",
            "-c",
            edited_config(p, "[data]", "[init]\nweights = [[[1.0, 2.0, 3.0]]]\n[data]"),
            "-o",
            "t.json",
        ],
        ["bad.toml: init.weights[0]: W^(1) must be 1×2"],
    ),
    "data that disagree with sizes": (
        lambda p: ["check", "-c", edited_config(p, "x = [[1.0, 2.0]]", "x = [[1.0]]")],
        ["bad.toml: data.x: each sample needs 2 inputs"],
    ),
    "missing field": (
        lambda p: ["trace", "-c", edited_config(p, "iterations = 5", ""), "-o", "t.json"],
        ["bad.toml: train.iterations: missing field"],
    ),
    "corrupted json": (
        lambda p: ["show", corrupted(p)],
        ["c.json: not valid JSON, truncated or corrupted"],
    ),
    "unknown loss": (
        lambda p: ["trace", "-c", bad_config(p, loss="l1"), "-o", "t.json"],
        ["bad.toml: network.loss: unknown loss 'l1'"],
    ),
    "zero iterations": (
        lambda p: ["trace", "-c", bad_config(p, iterations=0), "-o", "t.json"],
        ["bad.toml: train.iterations: must be a positive whole number, got 0"],
    ),
    "non-numeric learning rate": (
        lambda p: ["check", "-c", bad_config(p, rate='"big"')],
        ["bad.toml: train.learning_rate: must be a number, got 'big'"],
    ),
    "missing config": (
        lambda p: ["trace", "-c", "nope.toml", "-o", "t.json"],
        ["nope.toml: file not found"],
    ),
    "divergence": (
        lambda p: ["trace", "-c", diverging(p), "-o", "t.json"],
        ["fast.toml: iteration 62, layer 1 (output): loss", "try a smaller train.learning_rate"],
    ),
    "missing trace": (lambda p: ["show", "nope.npz"], ["nope.npz: file not found"]),
    "truncated json": (
        lambda p: ["show", truncated(p, "cut.json")],
        ["cut.json: not valid JSON, truncated or corrupted"],
    ),
    "truncated npz": (
        lambda p: ["show", truncated(p, "cut.npz")],
        ["cut.npz: not a readable .npz, truncated or corrupted"],
    ),
    "other version": (
        lambda p: ["show", other_version(p)],
        ["v.json: version: is 99; this backprop-anim reads versions 1 and 2"],
    ),
    "inconsistent shapes": (
        lambda p: ["show", bad_shapes(p)],
        ["s.npz: steps[0].layers[1].W: has shape 2×2, expected 2×3"],
    ),
    "output into a missing folder": (
        lambda p: ["trace", "-p", "seed-scalar", "-o", "no/t.json"],
        ["no/t.json: folder 'no' does not exist"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_in_process(
    case: str, backprop: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_args, fragments = CASES[case]
    result = backprop(*make_args(tmp_path))
    assert_one_line_error(result, *fragments)
    assert not (tmp_path / "t.json").exists()  # a failed run writes nothing


@pytest.mark.parametrize("case", ["unknown loss", "divergence", "truncated npz", "other version"])
def test_bad_input_in_a_real_process(case: str, tmp_path: Path) -> None:
    make_args, fragments = CASES[case]
    result = subprocess_backprop(*make_args(tmp_path), cwd=tmp_path)
    assert_one_line_error(result, *fragments)
    assert result.out == ""


def test_failed_trace_keeps_the_previous_file(
    backprop: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good_trace(tmp_path, "t.json")
    before = (tmp_path / "t.json").read_bytes()
    result = backprop("trace", "-c", diverging(tmp_path), "-o", "t.json")
    assert result.code == 2
    assert (tmp_path / "t.json").read_bytes() == before


# --- the engine never imports manim ----------------------------------------------------


def test_importing_backprop_core_leaves_manim_out() -> None:
    """Every module of backprop_core, the CLI included, imports without manim."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import backprop_core\n"
        "assert 'manim' not in sys.modules, 'import backprop_core pulled in manim'\n"
        "for m in pkgutil.walk_packages(backprop_core.__path__, 'backprop_core.'):\n"
        "    if not m.name.endswith('__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n == 'manim' or n.startswith('manim.'))\n"
        "assert not bad, bad[:5]\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
