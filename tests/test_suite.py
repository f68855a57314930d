"""The test suite's own set-up (tests/conftest.py): what lets it run in parallel.

Every test process (each xdist worker, or the one process with ``-n 0``) keeps manim's
media folder, and with it the TeX cache, in a temporary folder of its own; on CI every
process draws hypothesis' examples derandomized.
"""

from __future__ import annotations

import os
from pathlib import Path

import manim
import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]


def test_manim_writes_no_cache_into_the_repository(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    for name in ("media_dir", "tex_dir", "text_dir"):
        folder = Path(manim.config.get_dir(name)).resolve()
        assert not folder.is_relative_to(ROOT), (name, folder)
        assert folder.is_relative_to(tmp_path_factory.getbasetemp().resolve()), (name, folder)


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="the CI profile is loaded on CI")
def test_ci_draws_the_same_examples_in_every_process() -> None:
    assert settings.default.derandomize
    assert settings.default.database is None  # derandomized runs keep no example database
