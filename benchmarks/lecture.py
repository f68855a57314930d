"""How fast is ``backprop lecture``? The default lecture at ``-ql`` with 1 and 2 workers.

Run from the repository root::

    .venv/bin/python benchmarks/lecture.py                 # the default lecture
    .venv/bin/python benchmarks/lecture.py --touch delta   # which part to edit in run 3

The scene files of the default lecture (those that exist) are copied into a temporary
folder, so the benchmark can edit one without touching the checkout, and a lecture file
naming the copies is written there. So are ``backprop_anim`` and ``backprop_core``, put first
on ``PYTHONPATH`` for this process and the renders: in a shared working tree other people's
edits to the kit would otherwise change every part's cache key between runs. Then three
runs, each timed from the outside (the whole command: renders, joining, stills, GIF):

1. ``-j 1`` into an empty output folder: every part renders, one after the other;
2. ``-j 2`` into another empty output folder: every part renders, two at a time;
3. one part's scene file gets a comment appended, then ``-j 2`` into run 2's folder:
   only that part renders again, the others come from the part cache.

``--manim-cache SCENE`` measures instead whether parts should render with manim's own
partial-movie cache (see ``MANIM_CACHE`` in :mod:`backprop_lecture.cache`).

Goals from issue 6: run 1 / run 2 ≥ 1.7 on 2 cores, and run 3 ≤ that part's own render
time (from run 1) + 10 %. The machine's load average is printed beside every run: on a
shared machine the ratio says as much about the neighbours as about the code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
lec: Any = None  # backprop_lecture, imported from the snapshot in main()


def snapshot(tmp: Path) -> ModuleType:
    """Copy the kit and engine into ``tmp/src`` and import the lecture module from there."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__")
    for package in ("backprop_anim", "backprop_core"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    sys.path.insert(0, str(src))
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(src), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    import backprop_lecture as module

    assert Path(module.__file__).is_relative_to(src), module.__file__
    return module


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed_run(lecture: Any, out: Path, jobs: int) -> tuple[float, Any]:
    """Wall time of one run; also prints the CPU time its manim processes used (when the
    CPU time stays put while the wall time does not halve, the cores were busy elsewhere)."""
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = lec.build_lecture(lecture, out, "l", jobs, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    print(f"    renders used {used:.1f} s of CPU in {wall:.1f} s: {used / wall:.2f} cores")
    return wall, result


def describe(name: str, seconds: float, result: Any, before: str) -> dict[str, object]:
    parts = {r.part.name: (r.status, round(r.seconds, 1)) for r in result.results}
    print(f"{name}: {seconds:7.1f} s   load before {before}, after {load()}")
    for part, (status, t) in parts.items():
        print(f"    {part:<14} {status:<8} {t:7.1f} s")
    for r in result.failed:
        print(f"    {r.part.name} failed: {r.reason}")
    return {"seconds": round(seconds, 2), "load_before": before, "parts": parts}


def manim_cache(scene: str) -> None:
    """manim's own partial-movie cache, measured on one scene at ``-ql``: a first render
    with ``--disable_caching``, a first render with the cache, and a re-render with the
    warm cache after a comment is appended to the scene (what our part cache would do)."""
    import subprocess

    os.chdir(ROOT)
    with tempfile.TemporaryDirectory(prefix="manim-cache-") as d:
        tmp = Path(d)
        copy = tmp / f"{scene}.py"
        shutil.copy(ROOT / "scenes" / f"{scene}.py", copy)
        runs = [
            ("--disable_caching, first render", ["--disable_caching"], "off"),
            ("cache on, first render", [], "on"),
            ("cache on, re-render after an edit", [], "on"),
        ]
        for i, (label, flags, media) in enumerate(runs):
            if i == 2:
                copy.write_text(copy.read_text() + "\n# touched\n")
            cmd = [sys.executable, "-m", "manim", "render", "-ql", "--save_sections"]
            cmd += ["-v", "WARNING", "--progress_bar", "none", *flags]
            cmd += ["--media_dir", str(tmp / media), str(copy)]
            before = load()
            started = time.perf_counter()
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
            seconds = time.perf_counter() - started
            print(f"{label:<36} {seconds:6.1f} s  exit {done.returncode}  load {before}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--touch", default="network", help="scene edited before run 3")
    parser.add_argument(
        "--manim-cache",
        metavar="SCENE",
        help="instead: measure manim's own cache on scenes/SCENE.py (the MANIM_CACHE decision)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--skip-j1", action="store_true", help="skip run 1 (runs 2 and 3 only: half the time)"
    )
    args = parser.parse_args()
    if args.manim_cache:
        manim_cache(args.manim_cache)
        return
    os.chdir(ROOT)
    tmp = Path(tempfile.mkdtemp(prefix="lecture-bench-"))
    global lec
    try:
        lec = snapshot(tmp)
        default = lec.load_lecture(None, cwd=ROOT)
        (tmp / "scenes").mkdir()
        lines = [f"title = {json.dumps(default.title)}"]
        for p in default.parts:
            shutil.copy(p.scene, tmp / "scenes" / p.scene.name)
            lines += [
                "[[parts]]",
                f'scene = "scenes/{p.scene.name}"',
                f"title = {json.dumps(p.title)}",
            ]
        (tmp / "lecture.toml").write_text("\n".join(lines) + "\n")
        lecture = lec.load_lecture(tmp / "lecture.toml", cwd=ROOT)
        print(
            f"parts: {', '.join(p.name for p in lecture.parts)}; skipped: {list(default.skipped)}"
        )
        print(f"cores available: {lec.default_jobs()}, manim cache: {lec.MANIM_CACHE}")
        report: dict[str, object] = {}

        r1 = None
        if not args.skip_j1:
            before = load()
            t1, r1 = timed_run(lecture, tmp / "out-j1", 1)
            report["j1"] = describe("run 1, -j 1", t1, r1, before)

        before = load()
        t2, r2 = timed_run(lecture, tmp / "out-j2", 2)
        report["j2"] = describe("run 2, -j 2", t2, r2, before)
        if r1 is not None:
            print(f"speed-up -j 2 over -j 1: {t1 / t2:.2f}x (goal >= 1.7)")
            report["ratio_j1_j2"] = round(t1 / t2, 3)
        if r1 is not None:
            # The best any -j 2 schedule can do with run 1's part times on an idle machine.
            alone = [r.seconds for r in r1.results]
            bound = sum(alone) / max(max(alone), sum(alone) / 2)
            print(f"best possible -j 2 speed-up with run 1's part times: {bound:.2f}x")
            report["ideal_ratio"] = round(bound, 3)

        touched = next(p for p in lecture.parts if p.scene.stem == args.touch)
        touched.scene.write_text(touched.scene.read_text() + "\n# touched by the benchmark\n")
        before = load()
        t3, r3 = timed_run(lecture, tmp / "out-j2", 2)
        report["touched"] = describe(f"run 3, {args.touch} touched, -j 2", t3, r3, before)
        # That part's render time in this same run: what is left is the cache look-ups
        # and the assembly (remux, subtitles, chapters, stills, slides, GIF).
        own = next(r.seconds for r in r3.results if r.part == touched)
        print(
            f"run 3 / {args.touch}'s own render in run 3: {t3:.1f} / {own:.1f} s = "
            f"{t3 / own:.2f} (goal <= 1.10)"
        )
        if r1 is not None:
            alone = next(r.seconds for r in r1.results if r.part == touched)
            print(f"run 3 / {args.touch}'s render in run 1: {t3:.1f} / {alone:.1f} s")
        report["touched_over_own"] = round(t3 / own, 3)
        print(json.dumps(report))
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
