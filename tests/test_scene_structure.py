"""Every scene reads as a table of contents: ``construct()`` calls beats, methods are short.

Parsed with :mod:`ast` (nothing is imported or rendered), so this runs in the fast tier.
A *beat method* is a method of the scene's class that opens a beat (calls ``self.beat``);
``construct()`` may call those and ``self.finish_beats()``, nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCENES = sorted(
    p for p in (Path(__file__).resolve().parents[1] / "scenes").glob("*.py") if p.stem != "__init__"
)
MAX_LINES = 60
"""The longest a method of a scene may be (its ``def`` line to its last line)."""


def scene_classes(path: Path) -> list[ast.ClassDef]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(isinstance(b, ast.Name) and b.id.endswith("Scene") for b in node.bases)
    ]


def methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, ast.FunctionDef)}


def calls_on_self(func: ast.FunctionDef) -> set[str]:
    """Names of the methods ``func`` calls as ``self.NAME(...)``."""
    return {
        node.func.attr
        for node in ast.walk(func)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "self"
    }


@pytest.mark.parametrize("path", SCENES, ids=lambda p: p.stem)
def test_every_scene_defines_one_scene_class(path: Path) -> None:
    assert len(scene_classes(path)) == 1


@pytest.mark.parametrize("path", SCENES, ids=lambda p: p.stem)
def test_no_method_is_longer_than_the_limit(path: Path) -> None:
    long = [
        f"{cls.name}.{name}: {func.end_lineno - func.lineno + 1} lines"  # type: ignore[operator]
        for cls in scene_classes(path)
        for name, func in methods(cls).items()
        if func.end_lineno - func.lineno + 1 > MAX_LINES  # type: ignore[operator]
    ]
    assert not long, "\n".join(long)


@pytest.mark.parametrize("path", SCENES, ids=lambda p: p.stem)
def test_construct_is_a_table_of_beats(path: Path) -> None:
    for cls in scene_classes(path):
        own = methods(cls)
        beats = {name for name, func in own.items() if "beat" in calls_on_self(func)}
        construct = own["construct"]
        for stmt in construct.body:
            assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call), (
                f"{cls.name}.construct line {stmt.lineno}: not a call of a beat"
            )
            func = stmt.value.func
            assert (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and not stmt.value.args
                and not stmt.value.keywords
            ), f"{cls.name}.construct line {stmt.lineno}: not a call self.BEAT()"
            assert func.attr in beats | {"finish_beats"}, (
                f"{cls.name}.construct calls {func.attr}, which opens no beat"
            )
