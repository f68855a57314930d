"""The fuzz suite, longer: N hostile inputs per kind, counted by outcome.

Run from the repository root::

    PYTHONPATH=$PWD python benchmarks/fuzz.py            # 2,000 cases (about 700 per kind)
    PYTHONPATH=$PWD python benchmarks/fuzz.py --cases 300 --show 3

Each case is drawn by ``tests/fuzz_cases.py`` from ``random.Random(i)`` (the same
mutations ``tests/test_fuzz.py`` draws through hypothesis) and loaded in-process. The
table counts, per kind: *refused* (one-line error naming the file), *accepted* (valid, and
its handouts build), *failed* (a traceback, a multi-line message, a memory peak over the
bound, or a file left behind); the script exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzz_cases import CASES, MEMORY_BOUND, outcome

from backprop_core.errors import BackpropError, printable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="total cases (split by kind)")
    parser.add_argument("--show", type=int, default=0, help="example messages per kind")
    args = parser.parse_args()
    per_kind = max(1, args.cases // len(CASES))
    failures: list[str] = []
    rows = []
    started = time.perf_counter()
    for kind, (make, suffix) in CASES.items():
        counts: Counter[str] = Counter()
        examples: list[str] = []
        for i in range(per_kind):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"input{suffix}"
                path.write_bytes(make(random.Random(i)))
                try:
                    result = outcome(path)
                    left = sorted(p.name for p in Path(folder).iterdir())
                    if left != [path.name]:
                        raise AssertionError(f"files left: {left}")
                except Exception as exc:
                    counts["failed"] += 1
                    failures.append(f"{kind} #{i}: {type(exc).__name__}: {exc}")
                    failures.append("".join(traceback.format_exception(exc)[-3:]))
                    continue
                counts[result] += 1
                if result == "refused" and len(examples) < args.show:
                    try:
                        import backprop_core.io  # noqa: F401

                        outcome_text = _message(path)
                    except Exception:
                        outcome_text = "?"
                    examples.append(outcome_text)
        rows.append((kind, counts, examples))
    seconds = time.perf_counter() - started
    print(f"{'kind':<12} {'cases':>6} {'refused':>8} {'accepted':>9} {'failed':>7}")
    for kind, counts, _ in rows:
        total = sum(counts.values())
        print(
            f"{kind:<12} {total:>6} {counts['refused']:>8} {counts['accepted']:>9} "
            f"{counts['failed']:>7}"
        )
    print(
        f"{len(CASES) * per_kind} cases in {seconds:.1f} s (memory bound {MEMORY_BOUND >> 20} MiB)"
    )
    for kind, _, examples in rows:
        for text in examples:
            print(f"  {kind}: {printable(text)[:160]}")
    for line in failures[:20]:
        print(line)
    return 1 if failures else 0


def _message(path: Path) -> str:
    from backprop_core.config import load_config
    from backprop_core.io import load_trace

    try:
        load_config(path) if path.suffix == ".toml" else load_trace(path)
    except BackpropError as exc:
        return str(exc).replace(str(path.parent) + "/", "")
    return ""


if __name__ == "__main__":
    sys.exit(main())
