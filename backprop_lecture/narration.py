"""The offline draft voice: espeak-ng (Debian's ``espeak-ng`` package; nothing is downloaded).

``--voice espeak`` (or its alias ``--narrate``) reads every cue with :func:`espeak_wav`
before the parts render (:mod:`backprop_lecture.voice`), so the picture waits for the
voice as it waits for a lecturer's recording; a cue is never sped up or cut.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from backprop_core.errors import BackpropError

ESPEAK = "espeak-ng"
VOICE = "en"
WORDS_PER_MINUTE = 170


def check_espeak() -> str:
    """The path of espeak-ng, or a one-line error saying how to install it."""
    path = shutil.which(ESPEAK)
    if path is None:
        raise BackpropError(
            None,
            "--voice espeak",
            "needs espeak-ng, an offline voice: install it with `apt-get install espeak-ng`",
        )
    return path


def espeak_wav(text: str, out: Path, words_per_minute: int = WORDS_PER_MINUTE) -> Path:
    """``text`` read by espeak-ng into the WAV file ``out``."""
    done = subprocess.run(
        [check_espeak(), "-v", VOICE, "-s", str(words_per_minute), "-w", str(out), text],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or not out.is_file():
        message = done.stderr.decode("utf-8", "replace").strip() or "no audio"
        raise BackpropError(None, "--voice espeak", f"espeak-ng failed: {message}")
    return out
