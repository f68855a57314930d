"""Writing files so that nothing is ever lost, and reading them with a size cap.

Every output of the project goes through :func:`atomic_path` (or the helpers built on
it): the data is written to a temporary file *beside* the output, named
``.NAME.XXXXXXXX.backprop-tmp`` (findable after a crash, and removed by the next write of
``NAME``), and renamed over the output only when the writer succeeded. While it writes,
the writer holds an exclusive ``flock`` on ``.NAME.backprop-lock`` beside the output, so
a second writer of the same output is refused with a one-line error instead of silently
losing one result. A rewrite keeps the existing file's permission bits and, when the
output is a symbolic link, replaces the link's target (the link stays).

Reading goes through :func:`read_limited`, so ``--config /dev/zero`` or a 10 GB file stops
at the documented limit instead of filling memory.
"""

from __future__ import annotations

import errno
import fcntl
import glob
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from backprop_core.errors import BackpropError

TEMP_MARK = ".backprop-tmp"
"""Every temporary name contains this, so :func:`clean_stale` finds only the project's own."""

LOCK_SUFFIX = ".backprop-lock"


def _target(path: Path) -> Path:
    """The file a write of ``path`` replaces: a symbolic link's final target."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _mode_for(target: Path) -> int:
    """The existing file's permission bits, or what a new file gets under the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def clean_stale(directory: Path, name: str) -> None:
    """Remove the temporary files and folders a killed writer of ``name`` left behind.

    Called while holding ``name``'s lock, so no live writer owns them.
    """
    pattern = os.path.join(glob.escape(str(directory)), f".{glob.escape(name)}.*{TEMP_MARK}*")
    for stale in glob.glob(pattern):
        if os.path.isdir(stale) and not os.path.islink(stale):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            Path(stale).unlink(missing_ok=True)


@contextmanager
def locked(path: Path, what: str | None = None) -> Iterator[None]:
    """Hold the exclusive lock of output ``path``; a second holder gets a one-line error.

    The lock file is removed on release; the lock is taken again if another process
    removed the file between our open and our ``flock`` (so two holders never coexist).
    """
    lock = path.with_name(f".{path.name}{LOCK_SUFFIX}")
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise BackpropError(
                str(what or path), None, f"cannot write here ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise BackpropError(
                    str(what or path),
                    None,
                    "another backprop is writing this file right now; wait for it to finish",
                ) from None
            raise BackpropError(str(what or path), None, f"cannot lock ({exc.strerror})") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        Path(lock).unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``path``, renamed over ``path`` only if the block succeeds.

    The block writes the temporary file by name (``suffix`` keeps an extension that a
    writer such as PyAV reads the format from). Any exception in the block, including
    ``KeyboardInterrupt`` and the ``SystemExit`` that the command raises on SIGTERM,
    removes the temporary file and leaves an existing ``path`` untouched; an ``OSError``
    becomes a one-line :class:`BackpropError`.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise BackpropError(str(path), None, f"folder {str(directory)!r} does not exist; create it")
    if path.is_dir():
        raise BackpropError(str(path), None, "is a folder; give a file name such as trace.json")
    target = _target(path)
    with locked(target, what=str(path)):
        clean_stale(target.parent, target.name)
        try:
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=TEMP_MARK + suffix, dir=target.parent
            )
        except OSError as exc:
            raise BackpropError(str(path), None, f"cannot write here ({exc.strerror})") from None
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.chmod(tmp, _mode_for(target))
            os.replace(tmp, target)
        except OSError as exc:
            raise BackpropError(
                str(path), None, f"cannot write ({exc.strerror}); nothing was written"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[IO[bytes]]:
    """:func:`atomic_path`, opened for writing in binary. The file's ``name`` is the
    temporary path, so writers can put scratch files beside it (named after it, so
    :func:`clean_stale` finds them too)."""
    with atomic_path(path) as tmp:
        try:
            f = open(tmp, "wb")
        except OSError as exc:
            raise BackpropError(str(path), None, f"cannot write here ({exc.strerror})") from None
        with f:
            yield f


def scratch_file(beside: IO[bytes], what: str) -> IO[bytes]:
    """A read-write scratch file in the folder of ``beside`` (a file of :func:`atomic_file`).

    A writer that learns part of its output only at the end (``backprop trace``'s losses
    come after the steps) keeps it here rather than in memory. The file is removed when
    it is closed (``SystemExit`` on SIGTERM and ``KeyboardInterrupt`` close it on the way
    out); its name starts with the temporary file's name, so one that a killed process
    leaves is found and removed by the next write of the same output
    (:func:`clean_stale`). ``what`` goes into the name, for whoever finds one.
    """
    name = getattr(beside, "name", None)
    if isinstance(name, str):
        tmp = Path(name)
        return tempfile.NamedTemporaryFile(prefix=f"{tmp.name}.{what}.", dir=tmp.parent)
    return tempfile.NamedTemporaryFile(prefix=f".{what}{TEMP_MARK}.")


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``."""
    with atomic_file(path) as f:
        write(f)


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` as UTF-8, atomically (lone surrogates written as ``\\udcxx``)."""
    data = text.encode("utf-8", "backslashreplace")
    with atomic_file(path) as f:
        f.write(data)


def copy_atomically(src: str | Path, dst: str | Path) -> None:
    """Copy ``src``'s bytes to ``dst``, atomically."""
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def read_limited(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of ``path``, or a one-line error if it holds more than ``limit`` bytes.

    Reads at most ``limit + 1`` bytes, so a device (``/dev/zero``), a FIFO or a huge file
    costs no more memory than the limit; ``what`` names the limit in the message.
    """
    source = str(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                data, too_big = b"", True
            else:
                # A regular file's size, or chunks from a device or a FIFO (st_size 0):
                # never a buffer of ``limit`` bytes up front.
                chunks: list[bytes] = []
                total = 0
                while total <= limit:
                    chunk = f.read(max(size + 1 - total, 1 << 20))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    total += len(chunk)
                data = b"".join(chunks)
                too_big = total > limit
    except FileNotFoundError:
        raise BackpropError(source, None, "file not found; check the path") from None
    except IsADirectoryError:
        raise BackpropError(source, None, "is a folder, not a file") from None
    except OSError as exc:
        raise BackpropError(source, None, f"cannot read the file ({exc.strerror})") from None
    if too_big:
        raise BackpropError(
            source,
            None,
            f"is larger than {limit // (1 << 20)} MiB, the limit for a {what} "
            "(see docs/trace-format.md, Limits)",
        )
    return data


__all__ = [
    "atomic_file",
    "atomic_path",
    "clean_stale",
    "copy_atomically",
    "locked",
    "read_limited",
    "scratch_file",
    "write_atomically",
    "write_text_atomically",
]
