"""Run every benchmark, one subprocess each (a fresh interpreter, bounded in time), print each
one's table as it finishes, then a summary of the headline figures and ratios.

    python -m bench.run_all [--only NAME ...] [--full]      (or python bench/run_all.py)

By default each benchmark runs at a quick scale (about a minute or two each, storage and
intake included; the whole run ~10 minutes on a 2-core machine, more the first time, when
bench/storage.py builds its 10k and 100k databases in /tmp/tipline-bench). `--full` runs
the issue-16 benchmarks at their own default scale instead (storage up to 1M tips, building
it takes ~16 minutes once; broadcast to 10,000 subscribers, ~7 minutes), with a longer time
limit. Nothing is asserted: the figures are for reading and comparing (docs/benchmarks.md,
docs/PERFORMANCE.md).
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
#: Each benchmark and the arguments of its quick run (`--full`: none, its own defaults).
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "crypto_throughput": (),
    "evidence_isolation": (),
    "memory": (),
    "intake_latency": (),
    "broadcast_rate": (),
    "stats": (),
    "processes": (),
    "storage": ("--sizes", "10000,100000", "--rounds", "20"),
    "intake": ("--residents", "20", "--starts", "100"),
    "broadcast": ("--scale", "0.1"),
}
TIMEOUT_SECONDS = 150.0
#: The quick runs of these may take longer (a first storage run builds its databases).
LONGER = {"storage": 900.0, "intake": 300.0, "broadcast": 300.0}
#: `--full`: the whole of issue 16's measurements (storage's 1M database, once, ~16 min).
FULL_TIMEOUT_SECONDS = 7200.0


def run(name: str, folder: Path, *, full: bool = False
        ) -> tuple[dict[str, object] | None, float, str]:
    summary = folder / f"{name}.json"
    extra = () if full else BENCHMARKS[name]
    limit = FULL_TIMEOUT_SECONDS if full else LONGER.get(name, TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        finished = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *extra, "--summary-json", str(summary)],
            cwd=ROOT, timeout=limit, check=False,
        )
        outcome = "ok" if finished.returncode == 0 else f"exit {finished.returncode}"
    except subprocess.TimeoutExpired:
        outcome = f"timed out after {limit:.0f} s"
    elapsed = time.perf_counter() - started
    data = json.loads(summary.read_text()) if summary.exists() else None
    return data, elapsed, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument("--full", action="store_true",
                        help="each at its own default scale (storage to 1M tips, "
                             "broadcast to 10,000 subscribers)")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    results = []
    with tempfile.TemporaryDirectory(prefix="tipline-bench-all-") as folder:
        for name in names:
            print(f"\n### {name}", flush=True)
            results.append((name, *run(name, Path(folder), full=args.full)))

    print("\n== summary")
    failed = 0
    for name, data, elapsed, outcome in results:
        print(f"{name} ({elapsed:.0f} s, {outcome})")
        if data is None:
            failed += 1
            continue
        headline: list[tuple[str, str]] = data.get("headline", [])  # type: ignore[assignment]
        width = max([len(str(what)) for what, _ in headline] + [10])
        for what, shown in headline:
            print(f"  {what:<{width}}  {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
