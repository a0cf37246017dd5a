"""Run every benchmark, one subprocess each (a fresh interpreter, bounded in time), print each
one's table as it finishes, then a summary of the headline figures and ratios.

    python -m bench.run_all [--only NAME ...]      (or python bench/run_all.py)

Each benchmark keeps to about a minute (stats spends most of its minute storing its 100,000
tips); the whole run takes about 2.5 minutes on a 2-core machine. Nothing is asserted: the
figures are for reading and comparing (see docs/benchmarks.md for the ones measured when they
were written).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = (
    "crypto_throughput", "memory", "intake_latency", "broadcast_rate", "stats", "processes",
)
TIMEOUT_SECONDS = 150.0


def run(name: str, folder: Path) -> tuple[dict[str, object] | None, float, str]:
    summary = folder / f"{name}.json"
    started = time.perf_counter()
    try:
        finished = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", "--summary-json", str(summary)],
            cwd=ROOT, timeout=TIMEOUT_SECONDS, check=False,
        )
        outcome = "ok" if finished.returncode == 0 else f"exit {finished.returncode}"
    except subprocess.TimeoutExpired:
        outcome = f"timed out after {TIMEOUT_SECONDS:.0f} s"
    elapsed = time.perf_counter() - started
    data = json.loads(summary.read_text()) if summary.exists() else None
    return data, elapsed, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    results = []
    with tempfile.TemporaryDirectory(prefix="tipline-bench-all-") as folder:
        for name in names:
            print(f"\n### {name}", flush=True)
            results.append((name, *run(name, Path(folder))))

    print("\n== summary")
    failed = 0
    for name, data, elapsed, outcome in results:
        print(f"{name} ({elapsed:.0f} s, {outcome})")
        if data is None:
            failed += 1
            continue
        headline = data.get("headline", [])
        width = max([len(str(what)) for what, _ in headline] + [10])
        for what, shown in headline:
            print(f"  {what:<{width}}  {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
