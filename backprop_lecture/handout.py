r"""Handouts: one iteration's worked solution as Markdown or LaTeX tables.

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
file's suffix and writes atomically. Large layers are elided like on screen (first entries,
an ellipsis, the last entry) with the true shape in each caption.
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
from backprop_explain.elide import visible_indices
from backprop_explain.explain import evaluate
from backprop_explain.format import fmt, tex_literal

DEFAULT_DECIMALS = 3
"""The scene kit's default precision (``backprop_anim.style.DEFAULT_DECIMALS``)."""

MAX_ROWS = 10
"""Vectors and matrices taller than this show their first rows, ⋮ and the last row."""
MAX_COLS = 8
"""Matrices wider than this show their first columns, ⋯ and the last column."""
MAX_SAMPLES = 4
"""Batches of more samples than this show their first samples, ⋯ and the last one."""

SUFFIXES = (".md", ".tex")

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
class Table:
    """A caption (text with ``$...$`` math), a header row and the body rows."""

    caption: str
    header: list[str]
    rows: list[list[Cell]]


@dataclass(frozen=True)
class Equation:
    """Display math, in LaTeX."""

    tex: str


@dataclass(frozen=True)
class Note:
    """A sentence of text (with ``$...$`` math)."""

    text: str


Block = Equation | Note | Table


@dataclass
class Section:
    """A heading and its blocks (equations, notes and tables) in reading order."""

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


def _visible(n: int, limit: int) -> list[int | None]:
    """Shown indices of a dimension of length ``n``; ``None`` is the ellipsis (the
    scenes' rule, :func:`~backprop_explain.elide.visible_indices`, so a handout shows the
    entries the video shows)."""
    return visible_indices(n, limit)


def _at(name: str) -> Callable[[int, int], str]:
    """The expression of entry ``(j, i)`` of the named array."""
    return lambda j, i: f"{name}[{j},{i}]"


def _col0(name: str) -> Callable[[int, int], str]:
    """The expression of entry ``j`` of an ``(n, 1)`` array such as ``b`` (any ``i``)."""
    return lambda j, i: f"{name}[{j},0]"


def _parameters(B: _Builder, n: Sequence[int], l: int, bias: bool, updated: bool) -> list[Any]:
    """``W^(l)`` as a matrix and ``b^(l)`` as a column: the given ones, or the updated
    ones (``W_next``, ``b_next``), which are answers."""
    suffix, words = (
        ("_next", ("New weights", "New biases")) if updated else ("", ("Weights", "Biases"))
    )
    blocks: list[Any] = [
        B.matrix(
            f"{words[0]} $W^{{({l})}}$ (${_shape(n[l], n[l - 1])}$)",
            _at(f"W{suffix}{l}"),
            (n[l], n[l - 1]),
            answer=updated,
        )
    ]
    if bias:
        blocks.append(
            Table(
                f"{words[1]} $b^{{({l})}}$ (${_shape(n[l], 1)}$)",
                *_columns(B, [(f"$b^{{({l})}}_j$", _col0(f"b{suffix}{l}"), updated)], n[l]),
            )
        )
    return blocks


def _shape(n: int, m: int) -> str:
    return f"{n}\\times{m}"


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

    def columns(self, names: list[tuple[str, Callable[[int, int], str], bool]], n: int) -> Table:
        """Column vectors side by side (one sample): a row per neuron ``j``.

        ``names`` holds ``(header, expression(j, i), answer)`` for each column.
        """
        rows: list[list[Cell]] = []
        for j in _visible(n, MAX_ROWS):
            if j is None:
                rows.append([Cell("vdots")] + [Cell("vdots") for _ in names])
                continue
            rows.append(
                [Cell("label", str(j + 1))]
                + [self.number(expr(j, 0), answer) for _, expr, answer in names]
            )
        return Table("", ["$j$"] + [h for h, _, _ in names], rows)

    def matrix(
        self, caption: str, expr: Callable[[int, int], str], shape: tuple[int, int], answer: bool
    ) -> Table:
        """A matrix as a table: rows ``j``, columns ``k``."""
        return self._grid(caption, expr, shape, MAX_COLS, "k", answer)

    def per_sample(
        self, caption: str, expr: Callable[[int, int], str], n: int, answer: bool
    ) -> Table:
        """An ``(n, m)`` quantity of a batch: rows ``j``, one column per sample ``i``."""
        return self._grid(caption, expr, (n, self.m), MAX_SAMPLES, "i", answer)

    def _grid(
        self,
        caption: str,
        expr: Callable[[int, int], str],
        shape: tuple[int, int],
        max_cols: int,
        col_name: str,
        answer: bool,
    ) -> Table:
        """Rows ``j`` by columns ``col_name``, both elided past their limits."""
        n, count = shape
        cols = _visible(count, max_cols)
        header = [f"$j \\backslash {col_name}$"] + [
            "$\\cdots$" if c is None else str(c + 1) for c in cols
        ]
        rows: list[list[Cell]] = []
        for j in _visible(n, MAX_ROWS):
            if j is None:
                rows.append(
                    [Cell("vdots")] + [Cell("ddots" if c is None else "vdots") for c in cols]
                )
                continue
            rows.append(
                [Cell("label", str(j + 1))]
                + [Cell("cdots") if c is None else self.number(expr(j, c), answer) for c in cols]
            )
        return Table(caption, header, rows)

    def vectors(
        self, title: str, names: list[tuple[str, str, Callable[[int, int], str], bool]], n: int
    ) -> list[Table]:
        """Quantities of shape ``(n, m)``: side by side for one sample, one table each else.

        ``names`` holds ``(header for one sample, caption symbol, expression(j, i), answer)``;
        the caption is ``title`` and the shape (and, for a batch, the symbol).
        """
        shape = f"(${_shape(n, self.m)}$)"
        if self.m == 1:
            table = self.columns([(h, e, a) for h, _, e, a in names], n)
            return [Table(f"{title} {shape}", table.header, table.rows)]
        return [
            self.per_sample(f"{title}: ${symbol}$ {shape}", e, n, a) for _, symbol, e, a in names
        ]


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
            header = f"$\\partial C/\\partial b^{{({l})}}_j$"
            grads.blocks.append(
                Table(
                    f"$\\partial C/\\partial b^{{({l})}}$ (${_shape(n[l], 1)}$)",
                    *_columns(B, [(header, _col0(f"db{l}"), True)], n[l]),
                )
            )
        grads.eq(equations.bp4(l, batch=m > 1))
        grads.blocks.append(
            B.matrix(
                f"$\\partial C/\\partial W^{{({l})}}$ (${_shape(n[l], n[l - 1])}$), "
                f"entry $(j, k) = {over_m}\\delta^{{({l})}}_j a^{{({l - 1})}}_k$"
                + (" summed over the samples" if m > 1 else ""),
                _at(f"dW{l}"),
                (n[l], n[l - 1]),
                answer=True,
            )
        )
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


def _columns(
    B: _Builder, names: list[tuple[str, Callable[[int, int], str], bool]], n: int
) -> tuple[list[str], list[list[Cell]]]:
    """Header and rows of an ``(n, 1)`` quantity such as ``b`` (never per sample)."""
    t = B.columns(names, n)
    return t.header, t.rows


def _tex_name(name: str) -> str:
    return name.replace("_", "\\_")


def cells(handout: Handout) -> Iterable[Cell]:
    """Every cell of the handout, in document order (for tests and checks)."""
    for s in handout.sections:
        for t in s.tables:
            for row in t.rows:
                yield from row


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


def to_markdown(handout: Handout) -> str:
    """GitHub-flavoured Markdown: tables, and math between ``$`` (rendered on GitHub)."""
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
            if t.caption:
                out += [f"**{t.caption}**", ""]
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

    Packages: ``geometry``, ``amsmath``, ``amssymb`` and ``array`` (all in
    texlive-latex-base and the project's small LaTeX install; no ``booktabs``).
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
        "\\begin{tabular}{ll}",
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
            spec = "l|" + "r" * (len(t.header) - 1)
            out += ["", "\\begin{center}"]
            if t.caption:
                out.append(f"{_tex_text(t.caption)}\\\\[0.5ex]")
            out += [
                f"\\begin{{tabular}}{{{spec}}}",
                "\\hline",
                " & ".join(_tex_text(h) for h in t.header) + " \\\\",
                "\\hline",
            ]
            out += [" & ".join(_tex_cell(c) for c in row) + " \\\\" for row in t.rows]
            out += ["\\hline", "\\end{tabular}", "\\end{center}"]
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
