"""Does ``scenes/training.py`` cost the same for a wide network as for a narrow one?

Run from the repository root::

    .venv/bin/python benchmarks/render_training.py            # 1 warm-up + 2 timed renders each
    .venv/bin/python benchmarks/render_training.py --repeat 1

Two traces with the same number of shown iterations (the scene always shows
``SHOWN_ITERATIONS``), both 1000 iterations recorded every 10:

- **narrow**: 2-4-1 tanh/sigmoid on 200 ``moons`` points (so it also draws the decision
  regions and 200 data points);
- **wide**: 64-32-10 tanh/softmax on 8 random samples (no regions: 64 inputs), whose
  heatmaps are elided to 10 × 10 cells and whose diagram shows 5 neurons per layer.

Each is rendered with ``manim render -ql --disable_caching`` in a subprocess with standard
input closed, into its own media folder. The first render of each is a warm-up that fills
the TeX cache (the two traces show different numbers, so cold TeX compiles would measure
LaTeX, not frames); the best of the timed renders is kept (the least noisy estimate on a
shared machine). Printed: seconds, seconds per second of video, and the ratio wide/narrow.

Goal from issue 5: wide ≤ 1.5 × narrow at ``-ql``.

(``benchmarks/render.py``, where the delta scene's cases live, did not exist when this was
written; these cases can move there as a case list.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.5

NARROW = """
name = "narrow"
[network]
sizes = [2, 4, 1]
activations = ["tanh", "sigmoid"]
loss = "cross_entropy"
[init]
seed = 0
[data]
generator = "moons"
samples = 200
noise = 0.15
seed = 0
[train]
learning_rate = 1.0
iterations = 1000
every = 10
"""


def wide_toml(samples: int = 8, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (samples, 64)).round(3)
    y = np.eye(10)[np.arange(samples) % 10]

    def rows(a: np.ndarray) -> str:
        return "[" + ", ".join("[" + ", ".join(map(str, r)) + "]" for r in a) + "]"

    return (
        'name = "wide"\n[network]\nsizes = [64, 32, 10]\n'
        'activations = ["tanh", "softmax"]\nloss = "cross_entropy"\n[init]\nseed = 1\n'
        f"[data]\nx = {rows(x)}\ny = {rows(y)}\n"
        "[train]\nlearning_rate = 0.5\niterations = 1000\nevery = 10\n"
    )


def render(config: Path, media: Path) -> tuple[float, float]:
    """Seconds to render ``scenes/training.py`` on ``config`` at -ql, and the video length."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKPROP_")}
    env["BACKPROP_CONFIG"] = str(config)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "manim", "render", "-ql", "--disable_caching",
         "--media_dir", str(media), "scenes/training.py"],
        cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"render failed for {config.name}:\n{result.stderr[-2000:]}")
    video = media / "videos" / "training" / "480p15" / "TrainingScene.mp4"
    with av.open(str(video)) as container:
        duration = float(container.duration or 0) / av.time_base
    return seconds, duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="timed renders per case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        cases = {"narrow 2-4-1": NARROW, "wide 64-32-10": wide_toml()}
        results: dict[str, tuple[float, float]] = {}
        for name, text in cases.items():
            config = tmp_path / f"{name.split()[0]}.toml"
            config.write_text(text)
            media = tmp_path / f"media-{name.split()[0]}"
            render(config, media)  # warm-up: fills the TeX cache
            runs = [render(config, media) for _ in range(args.repeat)]
            results[name] = min(runs)
            best, duration = results[name]
            print(
                f"{name:14s} best {best:6.2f} s of {len(runs)} "
                f"({', '.join(f'{s:.2f}' for s, _ in runs)}), video {duration:.2f} s, "
                f"{best / duration:.2f} s per video second"
            )
        (narrow, nd), (wide, wd) = results.values()
        # Both show the same iterations; their narrations (held to the end) differ a little
        # in length, so the ratio is given for the whole render and per video second.
        total = wide / narrow
        ratio = (wide / wd) / (narrow / nd)
        verdict = "meets" if max(total, ratio) <= GOAL else "misses"
        print(
            f"wide / narrow = {total:.2f} (whole render), {ratio:.2f} (per video second)  "
            f"({verdict} the goal ≤ {GOAL})"
        )


if __name__ == "__main__":
    main()
