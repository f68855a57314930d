"""Shared test set-up: manim's golden-frame options, the scene harness fixtures, and
what lets the suite run in parallel (pytest-xdist, ``-n auto`` in pyproject's addopts).

In parallel, tests share nothing that they write: manim's media folder (and with it its
TeX cache, which is not safe for concurrent writers) is a temporary folder of each test
process, and every render and file goes to a test's own ``tmp_path``. Each module runs
on one worker (``--dist loadscope``), so a module fixture that renders is built once;
modules with slow tests are scheduled first, so the long renders do not start last.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cairo
import manim
import manim.utils.testing.frames_comparison as frames_module
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

# On CI every property test draws the same examples run after run (a failure there is
# reproducible, never a coin toss); on a developer's machine hypothesis keeps exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that hold a slow test first, each module's tests together and in order.

    With xdist, modules are handed out in this order (``--no-loadscope-reorder``):
    starting the long renders first keeps them off the end of the run, where one worker
    would render while the other idles.
    """
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # a stable sort


@pytest.fixture(scope="session", autouse=True)
def manim_media(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Manim's media folder for this test process: a temporary one, never ``media/``.

    Tests that build ``MathTex`` without a folder of their own would otherwise write the
    TeX cache in the repository, where two test processes (xdist workers, or two runs)
    write the same files at once.
    """
    media = tmp_path_factory.mktemp("manim-media")
    before = manim.config.media_dir
    manim.config.media_dir = str(media)
    yield media
    manim.config.media_dir = before


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


def cairo_text(version: int) -> str:
    """``11600`` as ``1.16.0``."""
    return f"{version // 10000}.{version // 100 % 100}.{version % 100}"


def golden_frames_verdict(version: int, ci: bool) -> str | None:
    """Why golden frames cannot be compared on cairo ``version`` (``None``: they can).

    Antialiasing differs between cairo versions, so frames are compared only on the cairo
    that drew them. On CI (``CI=true``), whose machine has that cairo, another version is
    an error, so the check can never pass by being skipped; elsewhere it is a skip.
    """
    if version == CONTROL_CAIRO:
        return None
    reason = (
        f"golden frames were drawn with cairo {cairo_text(CONTROL_CAIRO)}, "
        f"this is cairo {cairo_text(version)}"
    )
    if ci:
        return f"{reason}: CI must run them (install libcairo2 {cairo_text(CONTROL_CAIRO)})"
    return reason


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture
def golden_cairo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compare golden frames only on the cairo they were drawn with; on CI, insist on it.

    Manim's ``frames_comparison`` skips cairo older than 1.18 because *its* control data
    comes from 1.18; ours come from Debian 12's cairo 1.16 (what run.sh installs), so the
    comparison is allowed down to that version.
    """
    verdict = golden_frames_verdict(cairo.cairo_version(), on_ci())
    if verdict is not None:
        if on_ci():
            pytest.fail(verdict, pytrace=False)
        pytest.skip(verdict)
    monkeypatch.setattr(frames_module, "MIN_CAIRO_VERSION", CONTROL_CAIRO)
