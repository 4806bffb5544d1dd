"""What a decision costs on the default scenario: the plan, the counterfactual (the same
scenario without fabs: one more solve), both parties' money and the deal's price sweep, and
`fabnet run` end to end in a new process (as `make run` after set-up). Prints figures; asserts
nothing.

    .venv/bin/python benchmarks/decision_speed.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fabnet.pipeline as pipeline
from fabnet.finance.deal import make_deal
from fabnet.scenario import load_scenario

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"


def timed(label: str, work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    print(f"{label:<52}{time.perf_counter() - start:>8.2f} s")
    return result


def main() -> None:
    scenario = load_scenario(TIGRIS)
    solves = []
    planner = pipeline.make_plan

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        solves.append(1)
        return planner(*args, **kwargs)

    pipeline.make_plan = counting
    plan = timed("plan (build, solve, extract, explain)", lambda: pipeline.make_plan(scenario))
    alone = pipeline.without_fabs(scenario)
    counterfactual = timed("counterfactual: plan without fabs", lambda: pipeline.make_plan(alone))
    money = timed("finance: fab company and buyer", lambda: pipeline.plan_finance(scenario, plan))
    route = pipeline.plan_finance(alone, counterfactual)
    timed("deal: 14 prices and both ends by bisection", lambda: make_deal(scenario, pipeline.plan_tables(plan), route))
    solves.clear()
    timed("decide (all of the above)", lambda: pipeline.make_decision(scenario))
    print(f"{'plan solves per decision':<52}{len(solves):>8}")
    print(f"{'fab company NPV':<52}{money.fabco.metrics.fabco_npv_usd / 1e9:>8.2f} $ B")
    pipeline.make_plan = planner
    for args, label in (
        (["--no-check"], "`fabnet run --no-check` (new process)"),
        ([], "`fabnet run` with the plan check (new process)"),
    ):
        with tempfile.TemporaryDirectory() as folder:
            command = [
                sys.executable,
                "-m",
                "fabnet",
                "run",
                str(TIGRIS),
                "--store",
                f"{folder}/s.duckdb",
                "--report-dir",
                folder,
                *args,
            ]
            timed(label, lambda command=command: subprocess.run(command, check=True, capture_output=True))


if __name__ == "__main__":
    main()
