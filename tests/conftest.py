"""Shared test set-up: manim's golden-frame options and the scene harness fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import cairo
import manim.utils.testing.frames_comparison as frames_module
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
        "BACKPROP_FAST",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


CONTROL_CAIRO = 11600
"""The cairo (``cairo.cairo_version()``) our golden frames were drawn with (Debian 12's 1.16)."""


@pytest.fixture
def golden_cairo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compare golden frames only on the cairo they were drawn with.

    Manim's ``frames_comparison`` skips cairo older than 1.18 because *its* control data
    comes from 1.18; ours come from Debian 12's cairo 1.16 (what run.sh installs), and
    antialiasing differs between versions, so the check runs exactly when they agree.
    """
    if cairo.cairo_version() != CONTROL_CAIRO:
        pytest.skip(f"control frames drawn with cairo {CONTROL_CAIRO}, not this one")
    monkeypatch.setattr(frames_module, "MIN_CAIRO_VERSION", CONTROL_CAIRO)
