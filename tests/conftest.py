"""Shared test set-up: manim's golden-frame options and the scene harness fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Tests run from the repository root so manim reads our manim.cfg (TeX template).
os.chdir(ROOT)


def pytest_addoption(parser: pytest.Parser) -> None:
    # The options manim's `frames_comparison` reads (as in manim's own conftest).
    parser.addoption(
        "--set_test",
        action="store_true",
        default=False,
        help="write golden frames (control data) instead of comparing against them",
    )
    parser.addoption(
        "--show_diff",
        action="store_true",
        default=False,
        help="show a diff image when a golden frame differs",
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``BACKPROP_*`` setting leaks in from the developer's shell."""
    for name in (
        "BACKPROP_TRACE",
        "BACKPROP_PRESET",
        "BACKPROP_CONFIG",
        "BACKPROP_ITERATION",
        "BACKPROP_DECIMALS",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
