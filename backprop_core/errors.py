"""One error type for every bad input, so the CLI can print one line and exit 2."""

from __future__ import annotations


class BackpropError(Exception):
    """A user-facing error: which file, which field, what is wrong and how to fix it.

    The CLI prints ``str(error)`` as a single line on standard error and exits with
    status 2; scenes raise it before any frame is written.
    """

    def __init__(self, source: str | None, field: str | None, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        parts = [p for p in (source, field) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
