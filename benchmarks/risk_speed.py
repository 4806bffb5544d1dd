"""Risk sweep speed: samples per second of the re-optimising sweep with 1 and 2 local workers
and a 2-worker Dask LocalCluster. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/risk_speed.py [--samples 16]

and of the fixed-plan mode (builds kept, outcomes recomputed with numpy; target of issue 7:
10,000 samples in under 10 s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from fabnet.pipeline import main_job
from fabnet.plan import make_plan as plan_network
from fabnet.risk import SweepSpec, draw, make_executor, run_sweep
from fabnet.risk.fixed import evaluate_fixed
from fabnet.scenario import load_scenario

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    scenario = load_scenario(TIGRIS)
    print(f"{'mode':<30}{'samples':>8}{'seconds':>9}{'samples/s':>11}")
    plan = plan_network(scenario)
    table = draw(scenario, 10_000, 1)
    start = time.perf_counter()
    evaluate_fixed(scenario, plan, table)
    seconds = time.perf_counter() - start
    print(f"{'fixed plan (numpy)':<30}{10_000:>8}{seconds:>9.2f}{10_000 / seconds:>11,.0f}")
    for label, executor_args in (
        ("1 process", {"workers": 1}),
        ("2 processes", {"workers": 2}),
        ("Dask LocalCluster ×2", {"dask_local": 2}),
    ):
        with tempfile.TemporaryDirectory() as folder:
            store = Path(folder) / "risk.duckdb"
            run_id = main_job(scenario, store).run_id
            start = time.perf_counter()
            with make_executor(**executor_args) as executor:
                ran = run_sweep(scenario, run_id, store, SweepSpec(args.samples, 1), executor)
            seconds = time.perf_counter() - start
        print(f"{'re-optimise, ' + label:<30}{ran:>8}{seconds:>9.1f}{ran / seconds:>11.2f}")


if __name__ == "__main__":
    main()
