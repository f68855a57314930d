"""Handouts: numbers equal the trace, blanks are blank, LaTeX compiles, errors are one line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from backprop_cli.cli import cli
from backprop_core import load_preset, run, save_trace
from backprop_core.config import parse_config
from backprop_core.trace import Trace
from backprop_explain.elide import largest_entry, visible_indices
from backprop_explain.explain import evaluate
from backprop_explain.format import fmt
from backprop_lecture.handout import (
    MAX_COLS,
    MAX_ROWS,
    MAX_SAMPLES,
    build,
    cells,
    to_latex,
    to_markdown,
    write_handout,
)


def _config(sizes: list[int], activations: list[str], loss: str, m: int, **extra: object) -> Trace:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(m, sizes[0])).round(2).tolist()
    if activations[-1] == "softmax":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=m)].tolist()
    else:
        y = rng.uniform(size=(m, sizes[-1])).round(2).tolist()
    data = {
        "name": "test_net",
        "network": {"sizes": sizes, "activations": activations, "loss": loss, **extra},
        "init": {"seed": 3},
        "data": {"x": x, "y": y},
        "train": {"learning_rate": 0.1, "iterations": 3},
    }
    return run(parse_config(data, source="test"))


TRACES = {
    "delta-demo": lambda: run(load_preset("delta-demo")),
    "batch-demo": lambda: run(load_preset("batch-demo")),
    "seed-scalar (no bias)": lambda: run(load_preset("seed-scalar")),
    "4-6-5-3 tanh": lambda: _config([4, 6, 5, 3], ["tanh", "tanh", "sigmoid"], "sse", 1),
    "softmax + cross-entropy": lambda: _config([3, 4, 3], ["relu", "softmax"], "cross_entropy", 2),
    "wide, elided": lambda: _config([20, 12, 10], ["sigmoid", "sigmoid"], "mse", 6),
    "4-6-5-3 softmax batch": lambda: _config(
        [4, 6, 5, 3], ["tanh", "tanh", "softmax"], "cross_entropy", 5
    ),
}


@pytest.fixture(params=list(TRACES), scope="module")
def trace(request: pytest.FixtureRequest) -> Trace:
    return TRACES[request.param]()


def test_every_number_cell_is_the_trace_value(trace: Trace) -> None:
    for iteration in (1, 2):
        handout = build(trace, iteration, decimals=4)
        step = trace.step(iteration)
        numbers = [c for c in cells(handout) if c.kind == "number"]
        assert numbers
        for c in numbers:
            assert c.expression is not None
            assert c.text == fmt(evaluate(trace, step, c.expression), 4), c.expression


def test_markdown_tables_show_the_model_cells(trace: Trace) -> None:
    handout = build(trace, 1)
    md = to_markdown(handout)
    rows = [line for line in md.splitlines() if line.startswith("| ") and "$" not in line]
    body = [
        [c.text for c in row if c.kind in ("label", "number")]
        for s in handout.sections
        for t in s.tables
        for row in t.rows
        if row[0].kind == "label"
    ]
    ellipses = ("⋮", "⋯", "⋱")
    parsed = [
        [x.strip() for x in r.strip("|").split("|") if x.strip() not in ellipses] for r in rows
    ]
    assert [p for p in parsed if p] == body


def test_forward_values_read_directly_from_the_trace() -> None:
    """Independent of the expressions: parse the Markdown and compare with the arrays."""
    trace = run(load_preset("delta-demo"))
    md = to_markdown(build(trace, 1))
    layer = trace.step(1).layers[0]
    block = md.split("**Layer 1 ($3\\times1$)**")[1].split("**")[0]
    rows = [r for r in block.splitlines() if re.match(r"\| \d", r)]
    for j, row in enumerate(rows):
        _, z, a = (x.strip() for x in row.strip("|").split("|"))
        assert z == fmt(layer.z[j, 0], 3)
        assert a == fmt(layer.a[j, 0], 3)
    assert f"| value | {fmt(trace.step(1).loss, 3)} | {fmt(trace.step(1).loss_after, 3)} |" in md


def test_wide_layers_are_elided_with_true_shapes() -> None:
    trace = _config([20, 12, 10], ["sigmoid", "sigmoid"], "sse", 1)
    md = to_markdown(build(trace, 1))
    assert "$12\\times20$" in md
    w1 = next(
        t.matrices[0] for s in build(trace, 1).sections for t in s.tables if "W^{(1)}" in t.caption
    )
    # The scenes' elision rule (backprop_explain.elide): an elided dimension takes one
    # slot less than its limit, so the handout shows the entries the video shows.
    assert 1 + len(w1.rows[0]) == 1 + len(visible_indices(20, MAX_COLS)) == MAX_COLS
    assert len(w1.rows) == len(visible_indices(12, MAX_ROWS)) == MAX_ROWS - 1
    assert w1.rows[-1][-1].expression == "W1[11,19]"
    assert "\\ddots" in md


# --- one index convention with the video: rows, columns, neurons and samples from 0 -------


def _bmatrix(text: str, symbol: str) -> list[list[str]]:
    r"""The entries of the first ``symbol = \begin{bmatrix}…\end{bmatrix}`` in a handout
    (Markdown or LaTeX), row by row, as written."""
    opening = f"{symbol} = \\begin{{bmatrix}}"
    start = text.index(opening) + len(opening)
    body = text[start : text.index("\\end{bmatrix}", start)]
    return [[e.strip() for e in row.split("&")] for row in body.split("\\\\")]


def test_gradient_entry_has_the_videos_indices_and_the_trace_value() -> None:
    """The handout's line for ``∂C/∂W^(2)[0,1]`` names row 0 and column 1, as the video
    does, and every number in it is recomputed here from the trace's arrays."""
    trace = run(load_preset("batch-demo"))
    step = trace.step(1)
    delta2, a1 = step.layers[1].delta, step.layers[0].a
    m = delta2.shape[1]
    dW2 = delta2 @ a1.T / m  # BP4 in mini-batch form, from the arrays
    assert largest_entry(dW2, [0], [0, 1]) == (0, 1)
    md = to_markdown(build(trace, 1))
    assert "Entry $(j, k) = (0, 1)$, row 0 and column 1 of $\\partial C/\\partial W^{(2)}$" in md
    line = next(r for r in md.splitlines() if "\\partial w^{(2)}_{0,1}}" in r)
    assert "\\delta^{(2)}_{0,s}\\, a^{(1)}_{1,s}" in line
    assert line.rsplit("=", 1)[1].strip() == fmt(dW2[0, 1], 3)
    factors = re.findall(r"\(?(-?\d+\.\d+)\)? \\cdot \(?(-?\d+\.\d+)\)?", line)
    assert factors == [(fmt(delta2[0, s], 3), fmt(a1[1, s], 3)) for s in range(m)]
    # Row 0, column 1 of the typeset matrix is the same entry.
    dW = _bmatrix(md, "\\frac{\\partial C}{\\partial W^{(2)}}")
    assert dW == [[fmt(v, 3) for v in row] for row in dW2]
    # One sample: the video's ∂C/∂w_jk = δ_j · a_k, here for delta-demo's W^(2).
    trace = run(load_preset("delta-demo"))
    layer = trace.step(1).layers[1]
    j, k = largest_entry(layer.dW, [0, 1], [0, 1, 2])
    line = next(r for r in to_markdown(build(trace, 1)).splitlines() if "\\partial w^{(2)}_{" in r)
    assert f"w^{{(2)}}_{{{j},{k}}}" in line and f"\\delta^{{(2)}}_{{{j}}}" in line
    delta_j, a_k = layer.delta[j, 0], trace.step(1).layers[0].a[k, 0]
    assert line.rsplit("=", 1)[1].strip() == fmt(delta_j * a_k, 3)


def test_handout_picks_the_entry_the_video_computes() -> None:
    pytest.importorskip("manim")
    from types import SimpleNamespace

    from scenes.delta import BackpropInMatrixForm

    for make in (TRACES["batch-demo"], TRACES["wide, elided"], TRACES["4-6-5-3 softmax batch"]):
        trace = make()
        step = trace.step(1)
        md = to_markdown(build(trace, 1))
        scene = SimpleNamespace(sizes=trace.config.sizes, step=step)
        for l in range(1, trace.config.num_layers + 1):
            j, k = BackpropInMatrixForm.grad_entry(scene, l)  # type: ignore[arg-type]
            assert f"row {j} and column {k} of $\\partial C/\\partial W^{{({l})}}$" in md


def test_tables_count_neurons_from_zero(trace: Trace) -> None:
    handout = build(trace, 1)
    for t in (t for s in handout.sections for t in s.tables if t.header[:1] == ["$j$"]):
        labels = [row[0].text if row[0].kind == "label" else None for row in t.rows]
        assert labels[0] == "0", t.caption
        n = int(labels[-1] or 0) + 1
        assert labels == [None if j is None else str(j) for j in visible_indices(n, MAX_ROWS)]
    md = to_markdown(handout)
    assert "count from 0, as in the video, the trace and NumPy" in md
    assert "$j \\backslash" not in md  # no j\k tables: matrices are typeset as matrices


def test_handout_limits_are_the_videos() -> None:
    pytest.importorskip("manim")
    from backprop_anim import style

    assert (MAX_ROWS, MAX_COLS, MAX_SAMPLES) == (style.MAX_ROWS, style.MAX_COLS, style.MAX_BATCH)


def _expected(values: np.ndarray, max_cols: int) -> list[list[str]]:
    """The video's elided matrix of ``values``: the kit's ``TraceMatrix`` shows rows and
    columns ``visible_indices(n, limit)`` (limits 6 rows, 6 columns, 4 samples), ``\\vdots``
    for an elided row, ``\\cdots`` for an elided column, ``\\ddots`` where both meet."""
    out = []
    for j in visible_indices(values.shape[0], 6):
        row = []
        for c in visible_indices(values.shape[1], max_cols):
            if j is None:
                row.append("\\ddots" if c is None else "\\vdots")
            else:
                row.append("\\cdots" if c is None else fmt(values[j, c], 3))
        out.append(row)
    return out


@pytest.mark.parametrize("name", ["wide, elided", "4-6-5-3 softmax batch"])
def test_bmatrix_shows_the_videos_entries_and_gaps(name: str) -> None:
    trace = TRACES[name]()
    step = trace.step(1)
    L = trace.config.num_layers
    first, last = step.layers[0], step.layers[-1]
    expected = {
        "x": _expected(step.input, 4),
        "W^{(1)}": _expected(first.W, 6),
        "W^{(2)}": _expected(step.layers[1].W, 6),
        "z^{(1)}": _expected(first.z, 4),
        f"a^{{({L})}}": _expected(last.a, 4),
        f"\\delta^{{({L})}}": _expected(last.delta, 4),
        "\\delta^{(1)}": _expected(first.delta, 4),
        "\\frac{\\partial C}{\\partial W^{(1)}}": _expected(first.dW, 6),
        "\\frac{\\partial C}{\\partial b^{(1)}}": _expected(first.db, 6),
    }
    handout = build(trace, 1)
    for text in (to_markdown(handout), to_latex(handout)):
        for symbol, rows in expected.items():
            assert _bmatrix(text, symbol) == rows, symbol
    # Which indices an elided matrix shows is in its caption, from 0.
    md = to_markdown(handout)
    if name == "wide, elided":
        assert "shown: rows $0, 1, 2, \\dots, 11$ and columns $0, 1, 2, \\dots, 19$" in md


@pytest.mark.slow
def test_bmatrix_entries_are_the_trace_matrix_entries() -> None:
    """The kit's own ``TraceMatrix`` (typeset by manim) shows what the handout typesets."""
    pytest.importorskip("manim")
    from backprop_anim import TraceMatrix, registry

    trace = TRACES["wide, elided"]()
    md = to_markdown(build(trace, 1))
    numbers = registry(trace)
    for name, symbol in (
        ("W1", "W^{(1)}"),
        ("a1", "a^{(1)}"),
        ("dW2", "\\frac{\\partial C}{\\partial W^{(2)}}"),
    ):
        shown = [[e.get_tex_string() for e in row] for row in TraceMatrix(numbers, name).get_rows()]
        assert _bmatrix(md, symbol) == shown, name


def test_blank_sheet_leaves_answers_empty_and_keeps_givens() -> None:
    trace = run(load_preset("delta-demo"))
    handout = build(trace, 1, blank=True)
    numbers = [c for c in cells(handout) if c.kind == "number"]
    answers = [c for c in numbers if c.answer]
    givens = [c for c in numbers if not c.answer]
    assert answers and all(c.text == "" for c in answers)
    assert givens and all(c.text for c in givens)
    given_names = {re.match(r"[A-Za-z_]+", c.expression or "")[0] for c in givens}  # type: ignore[index]
    assert given_names == {"a", "y", "W", "b"}
    answer_names = {re.match(r"[A-Za-z_]+", c.expression or "")[0] for c in answers}  # type: ignore[index]
    assert {"z", "a", "loss", "delta", "dW", "db", "W_next", "b_next", "loss_after"} <= answer_names
    md = to_markdown(handout)
    assert fmt(trace.step(1).layers[0].z[0, 0], 3) not in md.split("## Forward pass")[1]
    assert "Exercise" in md and "η = 0.5" in md.replace("\\eta", "η")


def test_handout_and_video_format_numbers_the_same_way() -> None:
    pytest.importorskip("manim")
    from backprop_anim.numbers import fmt as video_fmt
    from backprop_anim.style import DEFAULT_DECIMALS as VIDEO_DECIMALS
    from backprop_lecture.handout import DEFAULT_DECIMALS

    assert video_fmt is fmt
    assert DEFAULT_DECIMALS == VIDEO_DECIMALS
    assert fmt(-0.0004, 3) == "0.000"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("blank", [False, True])
def test_latex_compiles(tmp_path: Path, blank: bool) -> None:
    # One document per feature: batch, no bias, softmax, elision and names with "_".
    for i, make in enumerate(
        (
            TRACES["delta-demo"],
            TRACES["batch-demo"],
            TRACES["seed-scalar (no bias)"],
            TRACES["softmax + cross-entropy"],
            TRACES["wide, elided"],
            TRACES["4-6-5-3 softmax batch"],
        )
    ):
        tex = tmp_path / f"h{i}.tex"
        tex.write_text(to_latex(build(make(), 1, blank=blank)))
        assert "\\begin{bmatrix}" in tex.read_text()
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout[-2000:]
        assert (tmp_path / f"h{i}.pdf").stat().st_size > 1000


def test_cli_writes_markdown_and_latex(tmp_path: Path) -> None:
    trace_path = tmp_path / "t.json"
    save_trace(run(load_preset("delta-demo")), trace_path)
    runner = CliRunner()
    for name in ("h.md", "h.tex"):
        out = tmp_path / name
        result = runner.invoke(cli, ["handout", str(trace_path), "-k", "2", "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert "iteration 2" in out.read_text()
    result = runner.invoke(
        cli,
        ["handout", str(trace_path), "--blank", "--decimals", "2", "-o", str(tmp_path / "b.md")],
    )
    assert result.exit_code == 0
    assert "exercise sheet" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}/h.txt"], "h.txt: unknown suffix '.txt'; use .md or .tex"),
        (["-k", "99", "-o", "{tmp}/h.md"], "t.json: --iteration: iteration 99 is not recorded"),
        (["-o", "{tmp}/missing/h.md"], "does not exist"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    trace_path = tmp_path / "t.json"
    save_trace(run(load_preset("seed-scalar")), trace_path)
    done = subprocess.run(
        [sys.executable, "-m", "backprop_cli", "handout", str(trace_path)]
        + [a.format(tmp=tmp_path) for a in args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert not list(tmp_path.glob("*.md")) and not list(tmp_path.glob(".*.tmp"))


def test_atomic_write_keeps_a_good_file_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "h.md"
    out.write_text("good")
    with pytest.raises(Exception, match="not recorded"):
        write_handout(run(load_preset("seed-scalar")), out, iteration=50)
    assert out.read_text() == "good"


def test_handout_module_does_not_import_manim() -> None:
    code = "import sys, backprop_lecture.handout, backprop_cli.cli; print('manim' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


HOSTILE_NAME = (
    "$\\input{/etc/hostname}$ \\immediate\\openout5=pwned.tex \\write18{touch pwned} "
    "$\\def\\x{1}$ # % & ~ ^ _ { } <script>alert(1)</script> [x](javascript:y) "
    "\x1b[31m\n\r\u2028 \udc80 中 é |a|"
)
"""A trace name that tries every door: TeX commands in and out of math, a write to a file,
shell escape, HTML, a Markdown link, ANSI escapes, newlines and a lone surrogate."""


def _hostile_trace() -> Trace:
    from dataclasses import replace

    trace = run(load_preset("delta-demo"))
    return replace(trace, config=replace(trace.config, name=HOSTILE_NAME))


def test_hostile_name_is_inert_in_markdown(tmp_path: Path) -> None:
    write_handout(_hostile_trace(), tmp_path / "h.md")
    md = (tmp_path / "h.md").read_text("utf-8")
    title = md.splitlines()[0]
    assert "<script>" not in md and "\x1b" not in md
    assert re.search(r"(?<!\\)\]\(", title) is None  # no link: its bracket is escaped
    assert "\\<script\\>" in title and "\\$\\\\input" in title
    assert md.splitlines()[1] == ""  # the newline in the name added no line


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_hostile_trace_makes_an_inert_handout_that_compiles(tmp_path: Path) -> None:
    """pdflatex without shell escape compiles it, and no command of the name survives."""
    path = tmp_path / "t.json"
    save_trace(_hostile_trace(), path)
    result = CliRunner().invoke(cli, ["handout", str(path), "-o", str(tmp_path / "h.tex")])
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "h.tex").read_text("utf-8")
    for command in ("\\input", "\\openout", "\\write18", "\\immediate", "\\def"):
        assert command not in tex, command
    done = subprocess.run(
        ["pdflatex", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "h.tex"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert not (tmp_path / "pwned.tex").exists() and not (tmp_path / "pwned").exists()
    log = (tmp_path / "h.log").read_text("latin-1")
    assert "(/etc/hostname" not in log  # TeX logs every file it reads as "(PATH"


def test_every_elision_of_the_video_shows_the_computed_entry() -> None:
    """The entry the video and the handout compute is among the indices every board's
    elision shows (``KEPT_LIMIT`` is the smallest limit of any)."""
    pytest.importorskip("manim")
    from backprop_anim.board import ELISIONS
    from backprop_explain.elide import KEPT_LIMIT

    assert min(min(e.max_rows, e.max_cols) for e in ELISIONS) == KEPT_LIMIT
