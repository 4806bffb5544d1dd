"""Scenario load (read + extends + validate + checks) and accelerators → wafers on the default
scenario. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_scenario.py
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from _timing import best_of

from fabnet.network import wafer_demand
from fabnet.scenario import load_scenario

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"


def main() -> None:
    scenario = load_scenario(TIGRIS)
    print(f"{'load + check tigris.yaml':<40}{best_of(lambda: load_scenario(TIGRIS)) * 1e3:>8.1f} ms")
    print(f"{'accelerators → wafers (2 × 32 quarters)':<40}{best_of(lambda: wafer_demand(scenario)) * 1e3:>8.1f} ms")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "fabnet", "run", str(TIGRIS)], check=True, capture_output=True)
    print(f"{'`fabnet run` end to end (new process)':<40}{(time.perf_counter() - start) * 1e3:>8.0f} ms")


if __name__ == "__main__":
    main()
