"""The lecture's output folder: written only where the lecture owns it, never emptied.

``backprop lecture -o OUT`` marks ``OUT`` as its own with the file ``OUT/.backprop-lecture``,
which lists every file the last build wrote (one relative path a line). A build refuses a
folder that holds files but no marker, so a typo in ``-o`` can never touch a user's files;
it deletes only files the marker lists that the new build no longer writes (a part that
was removed from the lecture), so a file a user put in ``OUT/stills`` survives. The
marker is also the build's lock: a second ``backprop lecture`` into the same folder is
refused while the first runs.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path
from types import TracebackType

from backprop_core.errors import BackpropError

MARKER = ".backprop-lecture"

OWN_NAMES = frozenset(
    {
        ".cache",
        "parts",
        "stills",
        "slides",
        "handouts",
        "lecture.mp4",
        "lecture.srt",
        "chapters.txt",
        "chapters-youtube.txt",
        "preview.gif",
    }
)
"""What a build writes at the top of its folder: a folder holding only these (made by a
build that wrote no marker) is adopted, with nothing listed as deletable."""


class OutputFolder:
    """Claim ``out`` (a context manager holding its lock); :meth:`add` each written file.

    When the build sets :attr:`complete` (everything was assembled), the files the previous
    build listed and this one did not write are removed (with folders that became empty)
    and the marker lists this build's files; otherwise nothing is removed and the marker
    lists both builds' files.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.previous: set[str] = set()
        self.written: set[str] = set()
        self.complete = False
        self._fd: int | None = None

    def __enter__(self) -> OutputFolder:
        out = self.out
        check_output(out)
        marker = out / MARKER
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(marker, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise BackpropError(
                    str(out), "-o", "another `backprop lecture` is writing here; wait for it"
                ) from None
            raise
        self._fd = fd
        text = marker.read_text("utf-8", "replace")
        self.previous = {line for line in text.splitlines() if _inside(line)}
        return self

    def add(self, path: Path) -> Path:
        """Record ``path`` (inside the folder) as written by this build; returns it."""
        self.written.add(path.relative_to(self.out).as_posix())
        return path

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._fd is not None
        try:
            if kind is None and self.complete:
                self._remove_outdated()
                listed = self.written
            else:
                listed = self.previous | self.written
            # Rewritten in place through the locked descriptor (a rename would hand the
            # lock's file to the next build while this one still runs); a torn list only
            # means fewer files are ever removed.
            data = "".join(f"{p}\n" for p in sorted(listed)).encode("utf-8")
            os.ftruncate(self._fd, 0)
            os.pwrite(self._fd, data, 0)
        finally:
            os.close(self._fd)
            self._fd = None

    def _remove_outdated(self) -> None:
        for rel in sorted(self.previous - self.written):
            path = self.out / rel
            if path.is_file() and not path.is_symlink():
                path.unlink()
            parent = path.parent
            while parent != self.out:
                try:
                    parent.rmdir()  # only if empty: a user's file keeps its folder
                except OSError:
                    break
                parent = parent.parent


def check_output(out: Path) -> None:
    """Refuse an output that is a file, or a folder holding files a build did not write
    (called before anything is rendered, and again when the folder is claimed)."""
    if out.exists() and not out.is_dir():
        raise BackpropError(str(out), "-o", "is a file; give a folder for the outputs")
    if out.is_dir() and not (out / MARKER).is_file():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OWN_NAMES)
        if foreign:
            raise BackpropError(
                str(out),
                "-o",
                f"holds files backprop did not write ({', '.join(foreign[:3])}"
                f"{', …' if len(foreign) > 3 else ''}); give a new or empty folder",
            )


def _inside(rel: str) -> bool:
    """Whether a marker line names a file inside the folder (no ``..``, not absolute)."""
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts
