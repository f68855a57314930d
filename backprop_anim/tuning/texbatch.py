r"""Typeset many numbers in ONE LaTeX run, so a scene does not pay a compile per number.

Manim compiles every distinct ``MathTex`` string on its own (``latex`` + ``dvisvgm``, about
0.2 s each here) and caches the SVG under ``media/Tex/<hash>.svg``. A matrix video shows
hundreds of distinct numbers, so a fresh render spent most of its time in LaTeX.
:func:`prewarm_tex` writes all of them as pages of one document (our template wraps the
placeholder in a ``preview`` environment, so each page is exactly the page manim would
have produced alone), converts all pages with one ``dvisvgm`` call and stores each page
under the hash manim will look for. Manim then finds every SVG in its cache.

The exact string manim typesets for a ``MathTex`` is obtained from manim itself (by
intercepting its call to ``tex_to_svg_file``), never re-implemented. Anything unusual
(another template, a LaTeX error) makes this a no-op and manim compiles each number
itself, as it does when the tuning is off (:func:`backprop_anim.tuning.enabled`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import manim.mobject.text.tex_mobject as tex_mobject
import numpy as np
from manim import MathTex, config
from manim.utils.tex_file_writing import tex_hash

from backprop_anim import tuning
from backprop_anim.numbers import NumberRegistry, fmt
from backprop_anim.style import MAX_COLS, MAX_ROWS
from backprop_anim.tuning.svgcache import build_mathtex
from backprop_explain.elide import visible_indices
from backprop_explain.explain import namespace

_PREVIEW_BEGIN = r"\begin{preview}"
_PREVIEW_END = r"\end{preview}"


class _CapturedError(Exception):
    def __init__(self, expression: str, environment: str | None) -> None:
        self.expression = expression
        self.environment = environment


def manim_expression(tex: str) -> tuple[str, str | None]:
    """The ``(expression, environment)`` manim typesets for ``MathTex(tex)``."""
    original = tex_mobject.tex_to_svg_file  # type: ignore[attr-defined]

    def capture(expression: str, environment: str | None = None, **_: Any) -> Any:
        raise _CapturedError(expression, environment)

    tex_mobject.tex_to_svg_file = capture  # type: ignore[attr-defined, assignment]
    try:
        # manim's own __init__: the tuning's copy of a MathTex built earlier in the
        # process would answer without asking manim.
        build_mathtex(MathTex.__new__(MathTex), tex)
    except _CapturedError as got:
        return got.expression, got.environment
    finally:
        tex_mobject.tex_to_svg_file = original  # type: ignore[attr-defined]
    raise RuntimeError("MathTex did not typeset anything")  # pragma: no cover


def prewarm_tex(texs: Iterable[str]) -> int:
    """Make sure ``MathTex(t)`` for every ``t`` is cached; returns how many were typeset.

    One ``latex`` and one ``dvisvgm`` run for all the missing ones; nothing (0) unless the
    tuning is on (:func:`backprop_anim.tuning.enable`), since it relies on the manim
    function that check covers.
    """
    if not tuning.enabled():
        return 0
    template = config["tex_template"]
    body = template.body
    placeholder = template.placeholder_text
    if body.count(placeholder) != 1 or _PREVIEW_BEGIN not in body:
        return 0
    prefix, suffix = body.split(placeholder)
    tex_dir = config.get_dir("tex_dir")
    tex_dir.mkdir(parents=True, exist_ok=True)
    missing: dict[Path, str] = {}
    for tex in dict.fromkeys(texs):
        expression, environment = manim_expression(tex)
        if environment is None:
            code = template.get_texcode_for_expression(expression)
        else:
            code = template.get_texcode_for_expression_in_env(expression, environment)
        # What replaced the placeholder: the environment and the expression.
        inner = code[len(prefix) : len(code) - len(suffix)]
        svg = tex_dir / (tex_hash(code) + ".svg")
        if not svg.exists():
            missing[svg] = inner
    if not missing:
        return 0
    joiner = f"\n{_PREVIEW_END}\n{_PREVIEW_BEGIN}\n"
    document = body.replace(placeholder, joiner.join(missing.values()))
    with tempfile.TemporaryDirectory(prefix="backprop-tex-") as tmp:
        work = Path(tmp)
        (work / "batch.tex").write_text(document, encoding="utf-8")
        try:
            subprocess.run(
                [
                    template.tex_compiler,
                    "-interaction=batchmode",
                    f"-output-format={template.output_format[1:]}",
                    "-halt-on-error",
                    f"-output-directory={work}",
                    str(work / "batch.tex"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
            subprocess.run(
                [
                    "dvisvgm",
                    *(["--pdf"] if template.output_format == ".pdf" else []),
                    "--page=1-",
                    "--no-fonts",
                    "--verbosity=0",
                    f"--output={work}/page-%p.svg",
                    str(work / f"batch{template.output_format}"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )
        except (OSError, subprocess.CalledProcessError):
            return 0
        pages = sorted(work.glob("page-*.svg"), key=lambda p: int(p.stem.split("-")[1]))
        if len(pages) != len(missing):
            return 0
        for page, svg in zip(pages, missing, strict=True):
            shutil.move(page, svg)
    return len(missing)


def trace_number_texts(numbers: NumberRegistry) -> list[str]:
    """The texts of every trace entry a matrix of the step can show (elided as on screen).

    Rows and columns shown are the same whichever limit applies (``visible_indices`` with
    a smaller limit picks a subset), so this covers transposes and batch limits too.
    """
    texts = []
    ns = namespace(numbers.trace, numbers.step)
    for value in ns.values():
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            texts.append(fmt(float(arr), numbers.decimals))
            continue
        if arr.ndim != 2:
            continue
        rows = [i for i in visible_indices(arr.shape[0], max(MAX_ROWS, MAX_COLS)) if i is not None]
        cols = [j for j in visible_indices(arr.shape[1], max(MAX_ROWS, MAX_COLS)) if j is not None]
        texts += [fmt(float(arr[i, j]), numbers.decimals) for i in rows for j in cols]
    return list(dict.fromkeys(texts))
