r"""Handouts: one iteration's worked solution as Markdown or LaTeX.

A handout follows the video's order: what is given (``x``, ``y``, ``W^(l)``, ``b^(l)``,
``η``), the forward pass (``z^(l)``, ``a^(l)``), the cost, the output error (BP1), the
errors of the hidden layers (BP2), the gradients (BP3, BP4), the update and the cost after
it. Every number is a :class:`Cell` holding the expression over the step it comes from (the
names of :mod:`backprop_explain.explain`) and its text written with
:func:`~backprop_explain.format.fmt`, so a worksheet reads exactly like the video and a test
can check each cell against the trace.

With ``blank=True`` the answers (everything computed from the givens) are left empty, which
turns the worked solution into an exercise sheet.

The document is first built as plain data (:func:`build`) and then written by
:func:`to_markdown` or :func:`to_latex`; :func:`write_handout` picks the format from the
file's suffix and writes atomically.

Each quantity is typeset as the matrix the video shows (a ``bmatrix``), elided by the
video's rule and limits (first entries, ``\cdots``/``\vdots``/``\ddots``, the last
entry) with the true shape in its caption; beside it, the per-entry working: a row per
neuron for the vectors of one sample, and for each ``∂C/∂W^(l)`` the entry the video
computes, written out. Indices count from 0 as in the video, the trace and NumPy
(``W^(l)[j, k]`` is row ``j``, column ``k``; a batch's sample ``s`` is column ``s``);
layers count from 1 as in Nielsen (``a^(0) = x``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from backprop_core.activations import ACTIVATIONS
from backprop_core.errors import BackpropError, printable
from backprop_core.files import write_text_atomically
from backprop_core.losses import LOSSES, SOFTMAX_CROSS_ENTROPY_LATEX
from backprop_core.trace import Step, Trace
from backprop_explain import equations
from backprop_explain.elide import Index, computed_entry, visible_indices
from backprop_explain.explain import evaluate
from backprop_explain.format import fmt, tex_literal

DEFAULT_DECIMALS = 3
"""The scene kit's default precision (``backprop_anim.style.DEFAULT_DECIMALS``)."""

MAX_ROWS = 6
"""Vectors and matrices taller than this show their first rows, ⋮ and the last row
(the video's limit, ``backprop_anim.style.MAX_ROWS``, so both show the same entries)."""
MAX_COLS = 6
"""Matrices wider than this show their first columns, ⋯ and the last column
(``backprop_anim.style.MAX_COLS``)."""
MAX_SAMPLES = 4
"""Batches of more samples than this show their first samples, ⋯ and the last one
(``backprop_anim.style.MAX_BATCH``)."""

SUFFIXES = (".md", ".tex")

INDICES = (
    "rows $j$ and columns $k$ count from 0, as in the video, the trace and NumPy; "
    "layers $l$ count from 1 ($a^{(0)} = x$)"
)
"""The handout's index convention, stated once at its top (see docs/trace-format.md)."""
INDICES_BATCH = INDICES.replace("columns $k$", "columns $k$ and samples $s$ (columns)")

Kind = Literal["label", "number", "vdots", "cdots", "ddots"]


@dataclass(frozen=True)
class Cell:
    """One table cell: a label, a number from the trace, or an ellipsis.

    ``expression`` is the number's provenance (``"z1[0,0]"``); ``text`` is its value at the
    handout's precision, or ``""`` when the cell is an answer left blank.
    """

    kind: Kind
    text: str = ""
    expression: str | None = None
    answer: bool = False


@dataclass(frozen=True)
class Matrix:
    """A quantity as the video shows it: ``symbol = [entries]``, elided like on screen.

    ``rows`` holds the shown entries and the ellipses (``vdots``, ``cdots``, ``ddots``)
    in reading order; ``row_indices`` and ``col_indices`` are the indices each row and
    column of ``rows`` stands for (``None`` for an ellipsis), counting from 0.
    """

    symbol: str
    rows: list[list[Cell]]
    row_indices: list[Index]
    col_indices: list[Index]


@dataclass(frozen=True)
class Table:
    """A caption (text with ``$...$`` math), the matrices it shows and, beside them, the
    per-entry working as a header row and body rows (both empty for a bare matrix)."""

    caption: str
    header: list[str]
    rows: list[list[Cell]]
    matrices: tuple[Matrix, ...] = ()


@dataclass(frozen=True)
class Working:
    """One entry computed from its factors, as the video writes it.

    ``text`` introduces it (with ``$...$`` math); ``parts`` is display math in reading
    order: LaTeX strings, and numbers as ``(cell, wrap)`` where ``wrap`` puts a negative
    factor in parentheses.
    """

    text: str
    parts: list[str | tuple[Cell, bool]]


@dataclass(frozen=True)
class Equation:
    """Display math, in LaTeX."""

    tex: str


@dataclass(frozen=True)
class Note:
    """A sentence of text (with ``$...$`` math)."""

    text: str


Block = Equation | Note | Table | Working


@dataclass
class Section:
    """A heading and its blocks (equations, notes, tables, workings) in reading order."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def eq(self, tex: str) -> None:
        self.blocks.append(Equation(tex))

    def note(self, text: str) -> None:
        self.blocks.append(Note(text))

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


@dataclass
class Handout:
    """The whole document, independent of the output format.

    ``title`` holds ``{name}`` where the trace's name goes: the name is the user's text
    (maybe a hostile trace's), so each writer escapes it completely for its format
    (:func:`tex_literal`, :func:`md_literal`) while the rest is the handout's own markup.
    """

    title: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    blank: bool
    iteration: int
    name: str = ""

    @property
    def plain_title(self) -> str:
        """The title as text, the name in it unescaped."""
        return self.title.replace("{name}", self.name)


def _visible(n: int, limit: int) -> list[Index]:
    """Shown indices of a dimension of length ``n``; ``None`` is the ellipsis (the
    scenes' rule, :func:`~backprop_explain.elide.visible_indices`, so a handout shows the
    entries the video shows)."""
    return visible_indices(n, limit)


def _at(name: str) -> Callable[[int, int], str]:
    """The expression of entry ``(j, s)`` of the named array."""
    return lambda j, s: f"{name}[{j},{s}]"


def _parameters(B: _Builder, n: Sequence[int], l: int, bias: bool, updated: bool) -> list[Any]:
    """``W^(l)`` as a matrix and ``b^(l)`` as a column: the given ones, or the updated
    ones (``W_next``, ``b_next``), which are answers."""
    suffix, words = (
        ("_next", ("New weights", "New biases")) if updated else ("", ("Weights", "Biases"))
    )
    blocks: list[Any] = [
        B.matrix(
            f"{words[0]} $W^{{({l})}}$",
            f"W^{{({l})}}",
            _at(f"W{suffix}{l}"),
            (n[l], n[l - 1]),
            answer=updated,
        )
    ]
    if bias:
        blocks.append(
            B.column(
                f"{words[1]} $b^{{({l})}}$",
                f"b^{{({l})}}",
                f"$b^{{({l})}}_j$",
                _at(f"b{suffix}{l}"),
                n[l],
                answer=updated,
            )
        )
    return blocks


def _shape(n: int, m: int) -> str:
    return f"{n}\\times{m}"


def _shown(indices: Sequence[Index]) -> str:
    """``0, 1, 2, \\dots, 127``: the indices an elided dimension shows, for its caption."""
    return ", ".join("\\dots" if i is None else str(i) for i in indices)


def _caption(title: str, matrix: Matrix, shape: tuple[int, int], about: str = "") -> str:
    """``title (n×m)about``, and for an elided matrix the rows and columns it shows, so
    a learner can tell which entry each number is."""
    text = f"{title} (${_shape(*shape)}$){about}"
    parts = [
        f"{what} ${_shown(indices)}$"
        for what, indices in (("rows", matrix.row_indices), ("columns", matrix.col_indices))
        if None in indices
    ]
    return text + (", shown: " + " and ".join(parts) if parts else "")


class _Builder:
    """Makes the cells of one step; knows the precision and whether answers are blank."""

    def __init__(self, trace: Trace, step: Step, decimals: int, blank: bool) -> None:
        self.trace = trace
        self.step = step
        self.decimals = decimals
        self.blank = blank
        self.m = step.input.shape[1]

    def number(self, expression: str, answer: bool) -> Cell:
        if answer and self.blank:
            return Cell("number", "", expression, answer=True)
        value = evaluate(self.trace, self.step, expression)
        return Cell("number", fmt(value, self.decimals), expression, answer)

    def entries(
        self,
        symbol: str,
        expr: Callable[[int, int], str],
        shape: tuple[int, int],
        max_cols: int,
        answer: bool,
    ) -> Matrix:
        """The matrix ``symbol`` of the given shape, elided like the video's
        ``TraceMatrix``: rows past :data:`MAX_ROWS`, columns past ``max_cols``."""
        rows_shown = _visible(shape[0], MAX_ROWS)
        cols_shown = _visible(shape[1], max_cols)
        rows = [
            [
                Cell("ddots" if c is None else "vdots")
                if j is None
                else Cell("cdots")
                if c is None
                else self.number(expr(j, c), answer)
                for c in cols_shown
            ]
            for j in rows_shown
        ]
        return Matrix(symbol, rows, rows_shown, cols_shown)

    def columns(self, names: list[tuple[str, Callable[[int, int], str], bool]], n: int) -> Table:
        """Column vectors side by side (one sample): a row per neuron ``j``, from 0.

        ``names`` holds ``(header, expression(j, s), answer)`` for each column.
        """
        rows: list[list[Cell]] = []
        for j in _visible(n, MAX_ROWS):
            if j is None:
                rows.append([Cell("vdots")] + [Cell("vdots") for _ in names])
                continue
            rows.append(
                [Cell("label", str(j))]
                + [self.number(expr(j, 0), answer) for _, expr, answer in names]
            )
        return Table("", ["$j$"] + [h for h, _, _ in names], rows)

    def column(
        self,
        title: str,
        symbol: str,
        header: str,
        expr: Callable[[int, int], str],
        n: int,
        answer: bool,
    ) -> Table:
        """An ``(n, 1)`` quantity such as ``b`` (never per sample): its column and,
        beside it, a row per neuron."""
        matrix = self.entries(symbol, expr, (n, 1), MAX_COLS, answer)
        table = self.columns([(header, expr, answer)], n)
        return Table(_caption(title, matrix, (n, 1)), table.header, table.rows, (matrix,))

    def matrix(
        self,
        title: str,
        symbol: str,
        expr: Callable[[int, int], str],
        shape: tuple[int, int],
        answer: bool,
        about: str = "",
    ) -> Table:
        """A matrix such as ``W``: rows ``j``, columns ``k``, elided past the limits."""
        matrix = self.entries(symbol, expr, shape, MAX_COLS, answer)
        return Table(_caption(title, matrix, shape, about), [], [], (matrix,))

    def vectors(
        self, title: str, names: list[tuple[str, str, Callable[[int, int], str], bool]], n: int
    ) -> list[Table]:
        """Quantities of shape ``(n, m)``: for one sample, their columns beside a row per
        neuron; for a batch, one matrix each (rows ``j``, one column per sample ``s``).

        ``names`` holds ``(header for one sample, symbol, expression(j, s), answer)``;
        the caption is ``title`` and the shape (and, for a batch, the symbol).
        """
        if self.m == 1:
            table = self.columns([(h, e, a) for h, _, e, a in names], n)
            matrices = tuple(
                self.entries(symbol, e, (n, 1), MAX_SAMPLES, a) for _, symbol, e, a in names
            )
            caption = _caption(title, matrices[0], (n, 1))
            return [Table(caption, table.header, table.rows, matrices)]
        tables = []
        for _, symbol, e, a in names:
            matrix = self.entries(symbol, e, (n, self.m), MAX_SAMPLES, a)
            tables.append(
                Table(_caption(f"{title}: ${symbol}$", matrix, (n, self.m)), [], [], (matrix,))
            )
        return tables

    def gradient_entry(self, l: int) -> Working:
        """``∂C/∂w^(l)_{j,k}`` written out for the entry the video computes (the largest
        shown one, ``scenes/delta.py``'s ``grad_entry``): ``δ_j · a_k``, or for a batch
        ``(1/m)(Σ_s δ_{j,s} · a_{k,s})`` with the samples elided like a batch's columns."""
        n = self.trace.config.sizes
        layer = self.step.layers[l - 1]
        j, k = computed_entry(layer.dW, n[l], n[l - 1])
        delta, a = f"\\delta^{{({l})}}", f"a^{{({l - 1})}}"
        parts: list[str | tuple[Cell, bool]] = [
            f"\\frac{{\\partial C}}{{\\partial w^{{({l})}}_{{{j},{k}}}}} ="
        ]
        if self.m == 1:
            parts.append(f"{delta}_{{{j}}}\\, {a}_{{{k}}} =")
        else:
            parts.append(
                f"\\frac{{1}}{{m}} \\sum_{{s=0}}^{{m-1}} {delta}_{{{j},s}}\\, {a}_{{{k},s}} ="
            )
            parts.append("\\frac{1}{m}\\Big(")
        for t, s in enumerate(_visible(self.m, MAX_SAMPLES)):
            if t:
                parts.append("+")
            if s is None:
                parts.append("\\cdots")
                continue
            parts += [
                (self.number(f"delta{l}[{j},{s}]", True), True),
                "\\cdot",
                (self.number(f"a{l - 1}[{k},{s}]", l > 1), True),
            ]
        if self.m > 1:
            parts.append("\\Big)")
        parts += ["=", (self.number(f"dW{l}[{j},{k}]", True), False)]
        return Working(
            f"Entry $(j, k) = ({j}, {k})$, row {j} and column {k} of "
            f"$\\partial C/\\partial W^{{({l})}}$ (the one the video computes):",
            parts,
        )


def _activation_tex(name: str) -> str:
    return ACTIVATIONS[name].latex


def _cost_tex(trace: Trace) -> str:
    c = trace.config
    if c.loss == "cross_entropy" and c.activations[-1] == "softmax":
        return SOFTMAX_CROSS_ENTROPY_LATEX
    return LOSSES[c.loss].latex


def build(
    trace: Trace, iteration: int, decimals: int = DEFAULT_DECIMALS, blank: bool = False
) -> Handout:
    """The worked solution of ``iteration`` (or its exercise sheet when ``blank``).

    Raises :class:`KeyError` (from :meth:`Trace.step`) if the iteration is not recorded.
    """
    step = trace.step(iteration)
    c = trace.config
    B = _Builder(trace, step, decimals, blank)
    L = c.num_layers
    n = c.sizes
    m = B.m
    bias = c.bias
    name = c.name or "config"
    facts = [
        ("Network", "-".join(map(str, n)) + f" ({', '.join(c.activations)})"),
        ("Cost", c.loss + ("" if m == 1 else f", mean over a batch of $m = {m}$ samples")),
        ("Biases", "yes" if bias else "no"),
        ("Learning rate", f"$\\eta = {c.learning_rate:g}$"),
        ("Iteration", f"$k = {step.iteration}$ of {c.iterations}"),
        ("Precision", f"{decimals} decimals, as in the video"),
        ("Indices", INDICES if m == 1 else INDICES_BATCH),
    ]
    sections: list[Section] = []

    # --- given ------------------------------------------------------------------------
    given = Section("Given")
    given.blocks += B.vectors(
        "Input $a^{(0)} = x$",
        [("$x_j$", "x", _at("a0"), False)],
        n[0],
    )
    given.blocks += B.vectors(
        "Target $y$",
        [("$y_j$", "y", _at("y"), False)],
        n[L],
    )
    for l in range(1, L + 1):
        given.blocks += _parameters(B, n, l, bias, updated=False)
    sections.append(given)

    # --- forward pass -----------------------------------------------------------------
    forward = Section("Forward pass")
    for l in range(1, L + 1):
        f = c.activations[l - 1]
        plus_b = f" + b^{{({l})}}" if bias else ""
        forward.eq(f"z^{{({l})}} = W^{{({l})}} a^{{({l - 1})}}{plus_b}")
        forward.eq(
            f"a^{{({l})}} = f(z^{{({l})}}),\\quad f(z) = {_activation_tex(f)}"
            f"\\ \\text{{({_tex_name(f)})}}"
        )
        forward.blocks += B.vectors(
            f"Layer {l}",
            [
                (f"$z^{{({l})}}_j$", f"z^{{({l})}}", _at(f"z{l}"), True),
                (f"$a^{{({l})}}_j$", f"a^{{({l})}}", _at(f"a{l}"), True),
            ],
            n[l],
        )
    sections.append(forward)

    # --- cost -------------------------------------------------------------------------
    cost = Section("Cost")
    cost.eq(f"C_x = {_cost_tex(trace)}")
    if m > 1:
        cost.eq("C = \\frac{1}{m} \\sum_x C_x")
    cost.blocks.append(
        Table(
            "The cost before the update",
            ["", "$C$"],
            [[Cell("label", "value"), B.number("loss", True)]],
        )
    )
    sections.append(cost)

    # --- BP1 --------------------------------------------------------------------------
    softmax = c.activations[-1] == "softmax"
    bp1 = Section("Output error (BP1)")
    if softmax and c.loss == "cross_entropy":
        bp1.eq(equations.bp1(L, "softmax_ce"))
        bp1_cols = [
            ("$\\nabla_a C_x$", "\\nabla_a C_x", _at("grad_a"), True),
            (f"$\\delta^{{({L})}}_j$", f"\\delta^{{({L})}}", _at(f"delta{L}"), True),
        ]
        bp1.note(
            "With softmax and cross-entropy the Jacobian of the softmax and the gradient of "
            "the cost combine into $a - y$."
        )
    else:
        grad = LOSSES[c.loss].gradient_latex
        bp1.eq(equations.bp1(L, grad="\\nabla_a C_x") + f",\\quad \\nabla_a C_x = {grad}")
        bp1_cols = [
            ("$\\nabla_a C_x$", "\\nabla_a C_x", _at("grad_a"), True),
            (
                f"$\\sigma'(z^{{({L})}}_j)$",
                f"\\sigma'(z^{{({L})}})",
                _at(f"sigma_prime{L}"),
                True,
            ),
            (f"$\\delta^{{({L})}}_j$", f"\\delta^{{({L})}}", _at(f"delta{L}"), True),
        ]
    bp1.blocks += B.vectors(f"Layer {L}", bp1_cols, n[L])
    sections.append(bp1)

    # --- BP2 --------------------------------------------------------------------------
    if L > 1:
        bp2 = Section("Backpropagate the error (BP2)")
        for l in range(L - 1, 0, -1):
            bp2.eq(equations.bp2(l))
            back = equations.back_propagated(l)

            def wt_delta(j: int, i: int, l: int = l) -> str:
                return "+".join(f"W{l + 1}[{k},{j}]*delta{l + 1}[{k},{i}]" for k in range(n[l + 1]))

            bp2.blocks += B.vectors(
                f"Layer {l}",
                [
                    (f"$({back})_j$", back, wt_delta, True),
                    (
                        f"$\\sigma'(z^{{({l})}}_j)$",
                        f"\\sigma'(z^{{({l})}})",
                        _at(f"sigma_prime{l}"),
                        True,
                    ),
                    (
                        f"$\\delta^{{({l})}}_j$",
                        f"\\delta^{{({l})}}",
                        _at(f"delta{l}"),
                        True,
                    ),
                ],
                n[l],
            )
        sections.append(bp2)

    # --- BP3, BP4 ---------------------------------------------------------------------
    grads = Section("Gradients (BP3, BP4)")
    over_m = "\\frac{1}{m}" if m > 1 else ""
    for l in range(1, L + 1):
        if bias:
            grads.eq(equations.bp3(l, batch=m > 1))
            grads.blocks.append(
                B.column(
                    f"$\\partial C/\\partial b^{{({l})}}$",
                    f"\\frac{{\\partial C}}{{\\partial b^{{({l})}}}}",
                    f"$\\partial C/\\partial b^{{({l})}}_j$",
                    _at(f"db{l}"),
                    n[l],
                    answer=True,
                )
            )
        grads.eq(equations.bp4(l, batch=m > 1))
        grads.blocks.append(
            B.matrix(
                f"$\\partial C/\\partial W^{{({l})}}$",
                f"\\frac{{\\partial C}}{{\\partial W^{{({l})}}}}",
                _at(f"dW{l}"),
                (n[l], n[l - 1]),
                answer=True,
                about=f", entry $(j, k) = {over_m}\\delta^{{({l})}}_j a^{{({l - 1})}}_k$"
                + (" summed over the samples" if m > 1 else ""),
            )
        )
        grads.blocks.append(B.gradient_entry(l))
    sections.append(grads)

    # --- update -----------------------------------------------------------------------
    update = Section("Update")
    update.eq(equations.update("W") + (",\\quad " + equations.update("b") if bias else ""))
    for l in range(1, L + 1):
        update.blocks += _parameters(B, n, l, bias, updated=True)
    update.blocks.append(
        Table(
            "The cost before and after the update (a forward pass with the new parameters)",
            ["", "$C$ before", "$C$ after"],
            [[Cell("label", "value"), B.number("loss", True), B.number("loss_after", True)]],
        )
    )
    sections.append(update)

    kind = "Exercise" if blank else "Worked solution"
    return Handout(
        f"{kind}: one step of backpropagation ({{name}}, iteration {step.iteration})",
        facts,
        sections,
        blank,
        step.iteration,
        name,
    )


def _tex_name(name: str) -> str:
    return name.replace("_", "\\_")


def cells(handout: Handout) -> Iterable[Cell]:
    """Every cell of the handout, in document order (for tests and checks)."""
    for s in handout.sections:
        for block in s.blocks:
            if isinstance(block, Table):
                for matrix in block.matrices:
                    for row in matrix.rows:
                        yield from row
                for row in block.rows:
                    yield from row
            elif isinstance(block, Working):
                yield from (p[0] for p in block.parts if isinstance(p, tuple))


# --- Markdown -----------------------------------------------------------------------------

_MD_ELLIPSIS = {"vdots": "⋮", "cdots": "⋯", "ddots": "⋱"}


def _md_cell(cell: Cell) -> str:
    if cell.kind in _MD_ELLIPSIS:
        return _MD_ELLIPSIS[cell.kind]
    if cell.kind == "number" and cell.answer and not cell.text:
        return " " * 8
    return cell.text


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>&|$~])")


def md_literal(text: str) -> str:
    """``text`` as inert Markdown: every character that means something inside a line
    (emphasis, code, links, tables, math, HTML tags and entities) backslash-escaped, so a
    name like ``<script>`` or ``[x](javascript:…)`` is shown, never interpreted; control
    characters and lone surrogates become visible escapes. Hyphens and dots stay: the
    name is never at the start of a line, where they would start a list."""
    return _MD_SPECIAL.sub(r"\\\1", printable(text))


_BLANK_MATH = "\\underline{\\hspace{1.2cm}}"
"""An answer left blank inside math (a matrix or a working line): a line to write on."""


def _math_cell(cell: Cell) -> str:
    """A cell inside math: the number, an ellipsis command or a blank to fill in."""
    if cell.kind in ("vdots", "cdots", "ddots"):
        return "\\" + cell.kind
    if cell.kind == "number" and not cell.text:
        return _BLANK_MATH
    return cell.text


def _bmatrix(matrix: Matrix) -> str:
    """``symbol = \\begin{bmatrix}…\\end{bmatrix}`` (amsmath; KaTeX and MathJax too)."""
    rows = " \\\\ ".join(" & ".join(_math_cell(c) for c in row) for row in matrix.rows)
    return f"{matrix.symbol} = \\begin{{bmatrix}} {rows} \\end{{bmatrix}}"


def _matrices(table: Table) -> str:
    return " \\qquad ".join(_bmatrix(m) for m in table.matrices)


def _working(working: Working) -> str:
    """The working line's math: numbers as on screen, negative factors in parentheses."""
    out = []
    for part in working.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        cell, wrap = part
        text = _math_cell(cell)
        out.append(f"({text})" if wrap and text.startswith("-") else text)
    return " ".join(out)


def to_markdown(handout: Handout) -> str:
    """GitHub-flavoured Markdown: tables, and math between ``$`` (rendered on GitHub,
    pandoc and KaTeX); each matrix is a ``$$\\begin{bmatrix}…\\end{bmatrix}$$`` block."""
    title = handout.title.replace("{name}", md_literal(handout.name))
    out = [f"# {title}", ""]
    out += [f"- **{k}:** {v}" for k, v in handout.facts]
    if handout.blank:
        out += ["", "_Fill in the empty cells. Given: $x$, $y$, every $W$, $b$ and $\\eta$._"]
    for s in handout.sections:
        out += ["", f"## {s.title}", ""]
        for t in s.blocks:
            if isinstance(t, Equation):
                out += ["$$", t.tex, "$$", ""]
                continue
            if isinstance(t, Note):
                out += [t.text, ""]
                continue
            if isinstance(t, Working):
                out += [t.text, "", "$$", _working(t), "$$", ""]
                continue
            if t.caption:
                out += [f"**{t.caption}**", ""]
            if t.matrices:
                out += ["$$", _matrices(t), "$$", ""]
            if not t.header:
                continue
            out.append("| " + " | ".join(t.header) + " |")
            out.append("|" + "|".join(":-" if i == 0 else "-:" for i in range(len(t.header))) + "|")
            for row in t.rows:
                out.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- LaTeX --------------------------------------------------------------------------------

_TEX_ELLIPSIS = {"vdots": "$\\vdots$", "cdots": "$\\cdots$", "ddots": "$\\ddots$"}
_BLANK_TEX = "\\rule{0pt}{3.2ex}\\hspace{1.6cm}"


def _tex_cell(cell: Cell) -> str:
    if cell.kind in _TEX_ELLIPSIS:
        return _TEX_ELLIPSIS[cell.kind]
    if cell.kind == "number":
        return _BLANK_TEX if not cell.text else f"${cell.text}$"
    return _tex_text(cell.text)


def _tex_text(text: str) -> str:
    """Escape LaTeX's specials outside ``$...$`` math (names from configs may hold ``_``)."""
    parts = text.split("$")
    for i in range(0, len(parts), 2):
        for ch in ("\\", "&", "%", "#", "_", "{", "}"):
            parts[i] = parts[i].replace(ch, "\\" + ch if ch != "\\" else "\\textbackslash{}")
    return "$".join(parts)


def to_latex(handout: Handout) -> str:
    """A standalone ``article`` document using only base LaTeX packages.

    Matrices are amsmath's ``bmatrix``. Packages: ``geometry``, ``amsmath``, ``amssymb``
    and ``array`` (all in texlive-latex-base and the project's small LaTeX install; no
    ``booktabs``).
    """
    out = [
        "\\documentclass[11pt]{article}",
        "\\usepackage[margin=2cm]{geometry}",
        "\\usepackage{amsmath,amssymb,array}",
        "\\setlength{\\parindent}{0pt}",
        "\\renewcommand{\\arraystretch}{1.25}",
        "\\begin{document}",
        "\\section*{"
        + _tex_text(handout.title).replace("\\{name\\}", tex_literal(handout.name))
        + "}",
        "\\begin{tabular}{@{}lp{13cm}@{}}",
    ]
    out += [f"{_tex_text(k)}: & {_tex_text(v)}\\\\" for k, v in handout.facts]
    out.append("\\end{tabular}")
    if handout.blank:
        out += [
            "",
            "\\medskip\\emph{Fill in the empty cells. "
            "Given: $x$, $y$, every $W$, $b$ and $\\eta$.}",
        ]
    for s in handout.sections:
        out += ["", f"\\subsection*{{{_tex_text(s.title)}}}"]
        for t in s.blocks:
            if isinstance(t, Equation):
                out.append(f"\\[ {t.tex} \\]")
                continue
            if isinstance(t, Note):
                out += [_tex_text(t.text), ""]
                continue
            if isinstance(t, Working):
                out += ["", _tex_text(t.text), f"\\[ {_working(t)} \\]"]
                continue
            out += ["", "\\begin{center}"]
            if t.caption:
                out.append(f"{_tex_text(t.caption)}\\\\[0.5ex]")
            if t.matrices:
                # The matrices, and beside them (same line) the per-entry working.
                out.append(f"$\\displaystyle {_matrices(t)}$" + ("\\qquad" if t.header else ""))
            if t.header:
                spec = "l|" + "r" * (len(t.header) - 1)
                out += [
                    f"\\begin{{tabular}}{{{spec}}}",
                    "\\hline",
                    " & ".join(_tex_text(h) for h in t.header) + " \\\\",
                    "\\hline",
                ]
                out += [" & ".join(_tex_cell(c) for c in row) + " \\\\" for row in t.rows]
                out += ["\\hline", "\\end{tabular}"]
            out.append("\\end{center}")
    out += ["", "\\end{document}"]
    return "\n".join(out) + "\n"


WRITERS: dict[str, Callable[[Handout], str]] = {".md": to_markdown, ".tex": to_latex}


def write_handout(
    trace: Trace,
    path: str | Path,
    iteration: int | None = None,
    decimals: int = DEFAULT_DECIMALS,
    blank: bool = False,
    source: str = "trace",
) -> Handout:
    """Build the handout of ``iteration`` (default: the first recorded) and write it.

    The format follows the suffix of ``path`` (``.md`` or ``.tex``); the file is written
    atomically. Errors are :class:`BackpropError` naming the file and the setting.
    """
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise BackpropError(
            str(path), None, f"unknown suffix {path.suffix or '(none)'!r}; use .md or .tex"
        )
    k = trace.steps[0].iteration if iteration is None else iteration
    try:
        handout = build(trace, k, decimals, blank)
    except KeyError as exc:
        raise BackpropError(source, "--iteration", str(exc.args[0])) from None
    write_text_atomically(path, writer(handout))
    return handout
