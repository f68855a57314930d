"""Process settings that help a render on few cores: glibc's heap and thread priorities.

Both change the whole process, so only :func:`backprop_anim.tuning.enable` (heap) and a
tuned scene's ``play`` (priorities) call them; importing this module changes nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

_MAIN_THREAD = threading.get_native_id()
_RENICED: set[int] = set()


def encoders_in_background(niceness: int = 10) -> None:
    """Lower the priority of this process's other threads: manim's video encoders.

    Manim encodes each animation's frames in a thread of its own while the main thread
    draws the next ones (``max_inflight_encoders`` in ``manim.cfg``), and libx264 starts
    its own threads. On a machine with few cores they take turns with the main thread,
    which is the render's critical path: every frame waits for it, while encoding can
    catch up at any time. With the encoders at a lower priority (``nice`` +10) the main
    thread keeps a core and they use what is left (see ``docs/performance.md``).

    Linux only (threads listed in ``/proc/self/task``); elsewhere, or if not allowed,
    nothing changes. Raising a thread's niceness needs no privilege. Each thread is
    reniced once, so a thread that later changes its own priority keeps it.
    """
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        return
    for tid in tids:
        if tid != _MAIN_THREAD and tid not in _RENICED:
            _RENICED.add(tid)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, tid, niceness)


def reuse_freed_memory() -> bool:
    """Let glibc's ``malloc`` keep big freed blocks for reuse instead of unmapping them.

    Every animation is a partial movie with an x264 encoder of its own, which allocates
    frame buffers of several MB and frees them when its segment closes, and every frame
    drawn is a fresh RGBA array that an encoder thread frees. With glibc's defaults such
    blocks are ``mmap``-ed and handed back to the kernel when freed (or the heap is
    trimmed), so the next segment faults in and zeroes new pages. Here blocks up to
    32 MiB (glibc's ceiling for this setting) come from the heap, which is not trimmed,
    so they are reused. The cost is that the process keeps its peak memory until it
    exits, which a render process may.

    Returns whether the settings took (glibc on Linux); elsewhere nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt  # glibc; musl has no mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    return all(
        mallopt(param, value) == 1
        for param, value in (
            (m_mmap_threshold, 32 << 20),
            (m_trim_threshold, 1 << 30),
            (m_top_pad, 64 << 20),
        )
    )
