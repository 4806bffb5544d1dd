"""The deal room's answer to one change: `fabnet serve` in its own process over a stored run of
the default scenario (or `--store S --run N`), then `/api/runs/N/deal` asked in turn for a sweep
of offtake prices and take-or-pay shares (every third change also the senior lender's target
DSCR, a debt term), as a visitor moving the controls would; prints p50,
p95 and the slowest (the first answer, which reads the run from the store, apart). Asserts
nothing; the target of issue 30 is p95 under 300 ms on tigris.

    .venv/bin/python benchmarks/deal_room_speed.py [--changes 100] [--store S --run N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from dashboard_load import TIGRIS, served, timed_get


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--store")
    parser.add_argument("--run", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = args.store or str(Path(folder) / "deal.duckdb")
        if args.store is None:
            run = [sys.executable, "-m", "fabnet", "run", str(TIGRIS), "--store", store, "--no-check"]
            subprocess.run([*run, "--report-dir", folder], check=True, capture_output=True)
        with served(store) as base:
            api = f"{base}/api/runs/{args.run}/deal"
            first = timed_get(api)[0]
            changes = [
                f"share={share:.4f}&take_or_pay={0.5 + 0.4 * (k % 2)}"
                + (f"&debt.senior_banks.target_dscr={1.2 + 0.1 * (k % 5):.1f}" if k % 3 == 0 else "")
                for k, share in enumerate(np.linspace(0.3, 1.5, args.changes))
            ]
            answers = [timed_get(f"{api}?{change}") for change in changes]
    ms = np.array([seconds for seconds, _ in answers]) * 1000
    p50, p95 = np.percentile(ms, [50, 95])
    errors = sum(1 for _, status in answers if status != 200)
    print(f"first answer (reads the run): {first * 1000:.0f} ms")
    print(f"{len(ms)} changes: p50 {p50:.0f} ms, p95 {p95:.0f} ms, slowest {ms.max():.0f} ms, errors {errors}")


if __name__ == "__main__":
    main()
