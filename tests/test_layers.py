"""The import contract in ``pyproject.toml`` holds, and an upward import breaks it.

import-linter checks the real tree (``lint-imports`` in ``./run.sh test``); these tests run
it on a copy of the packages in which one module imports a layer above it, so that the
contract is known to fail when someone writes that import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "backprop_core",
    "backprop_explain",
    "backprop_anim",
    "backprop_lecture",
    "backprop_cli",
)
LINT = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contract, importing packages from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    # scenes/ is the package backprop_scenes once installed (pyproject.toml maps it)
    shutil.copytree(
        ROOT / "scenes", tmp_path / "backprop_scenes", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_copy_keeps_the_contract(tree: Path) -> None:
    done = lint(tree)
    assert done.returncode == 0, done.stdout
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("backprop_core.network", "import backprop_anim.style  # noqa", "BROKEN"),
        ("backprop_explain.format", "import backprop_lecture.spec  # noqa", "BROKEN"),
        ("backprop_lecture.spec", "import backprop_anim.style  # noqa", "BROKEN"),
        ("backprop_lecture.media", "import manim  # noqa", "BROKEN"),
        ("backprop_core.config", "import backprop_core.trace  # noqa", "BROKEN"),
        ("backprop_anim.style", "import backprop_scenes.delta  # noqa", "BROKEN"),
        ("backprop_lecture.spec", "import backprop_scenes  # noqa", "BROKEN"),
    ],
    ids=[
        "engine imports kit",
        "explain imports lecture",
        "lecture imports kit",
        "lecture imports manim",
        "engine cycle",
        "kit imports a scene",
        "lecture imports the scenes",
    ],
)
def test_an_upward_import_breaks_the_contract(
    tree: Path, module: str, line: str, contract: str
) -> None:
    plant(tree, module, line)
    done = lint(tree)
    assert done.returncode != 0
    assert contract in done.stdout
