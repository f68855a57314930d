"""One error type for every bad input, and one way to report it: one line, exit 2."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable
from typing import NoReturn


class BackpropError(Exception):
    """A user-facing error: which file, which field, what is wrong and how to fix it.

    :func:`report` prints ``str(error)`` as a single line on standard error and exits
    with status 2; the command and the scenes both stop through it.
    """

    def __init__(self, source: str | None, field: str | None, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        parts = [p for p in (source, field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` safe for a terminal line: control characters (ANSI escapes, newlines,
    carriage returns) and lone surrogates written as ``\\x1b``, ``\\n``, ``\\udc80``.

    Names in traces and configs are the user's (or an attacker's) text; printed raw, an
    escape sequence could rewrite the terminal and a newline could forge a second line.

    >>> printable("a\\x1b[31mred\\nb")
    'a\\\\x1b[31mred\\\\nb'
    """
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def report(error: BaseException | str, program: str = "backprop") -> NoReturn:
    """Print ``PROGRAM: error: ERROR`` as one escaped line on standard error, exit 2.

    ``SystemExit`` is raised (not ``sys.exit`` in a handler), so ``finally`` blocks and
    context managers still clean up, and manim's rich traceback handler, which only sees
    exceptions, never draws its panel.
    """
    sys.stderr.write(f"{program}: error: {printable(str(error))}\n")
    sys.stderr.flush()
    raise SystemExit(2)


def did_you_mean(key: str, valid: Iterable[str]) -> str:
    """``"did you mean 'KEY'? "`` for the valid key nearest ``key`` (ignoring case), or ``""``.

    >>> did_you_mean("evry", ["every", "iterations"]), did_you_mean("dw", ["W", "dW"])
    ("did you mean 'every'? ", "did you mean 'dW'? ")
    """
    by_lower = {v.lower(): v for v in valid}
    near = difflib.get_close_matches(key.lower(), list(by_lower), n=1)
    return f"did you mean {by_lower[near[0]]!r}? " if near else ""
