"""`fabnet risk` against its parts: the whole command with N fixed-plan samples, against `fabnet
plan` (a whole process: start-up, one plan, its money, printing) plus the sweep alone (draw N
samples, evaluate them on that plan's builds, store them). Issue 17 asks the first to take no
longer than the sum. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/risk_job.py [--samples 10000] [--scenario scenarios/tigris.yaml]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
FABNET = [sys.executable, "-m", "fabnet"]


def wall(command: list[str]) -> float:
    """Wall time of a whole process, which must succeed."""
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def sweep_alone(scenario_file: Path, samples: int, store: Path) -> float:
    """The fixed-plan sweep's own work on an already planned scenario: draw, evaluate, store."""
    from fabnet.plan import make_plan as plan_network
    from fabnet.risk import draw
    from fabnet.risk.fixed import evaluate_fixed
    from fabnet.scenario import load_scenario
    from fabnet.store import open_store, store_rows

    scenario = load_scenario(scenario_file)
    plan = plan_network(scenario)
    meta = {"scenario_name": scenario.name, "scenario_hash": "", "scenario_text": "", "seed": scenario.seed}
    with open_store(store) as s:
        run_id = s.save_run(meta, {})
    start = time.perf_counter()
    rows = evaluate_fixed(scenario, plan, draw(scenario, samples, scenario.seed))
    store_rows(store, run_id, "risk_samples", rows)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "tigris.yaml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plan_s = wall([*FABNET, "plan", str(args.scenario)])
        sweep_s = sweep_alone(args.scenario, args.samples, Path(folder) / "sweep.duckdb")
        risk_s = wall(
            [*FABNET, "risk", str(args.scenario), "--samples", str(args.samples), "--store", f"{folder}/r.duckdb"]
        )
    print(f"{'fabnet plan (whole process)':<44}{plan_s:>8.1f} s")
    print(f"{f'sweep alone ({args.samples:,} samples, stored)':<44}{sweep_s:>8.1f} s")
    print(f"{'one plan plus the sweep':<44}{plan_s + sweep_s:>8.1f} s")
    print(f"{f'fabnet risk --samples {args.samples} (whole process)':<44}{risk_s:>8.1f} s")
    print(f"{'ratio risk / (plan + sweep)':<44}{risk_s / (plan_s + sweep_s):>8.2f}")


if __name__ == "__main__":
    main()
