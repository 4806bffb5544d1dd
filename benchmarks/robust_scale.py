"""Robust planning on tigris: wall time against the number of futures K, for the deterministic
equivalent and for Benders decomposition with 1 and 2 worker processes (issue 18). Each line
is one robust solve (solved, every future's cost re-solved) of futures built once (their own
line), without the out-of-sample measurement. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/robust_scale.py [--futures 10 30 100] [--equivalent-up-to 30]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

from fabnet.network import prepare
from fabnet.plan import RiskMeasure, RobustSolution, SolveOptions, solve_robust
from fabnet.plan.decompose import solve_decomposed
from fabnet.plan.robust import Futures, futures_of
from fabnet.risk import make_executor
from fabnet.risk.robust import draw_futures
from fabnet.scenario import load_scenario

TIGRIS = Path(__file__).parent.parent / "scenarios" / "tigris.yaml"
OPTIONS = SolveOptions(time_limit_s=1800, mip_gap=0.01)


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def solve(futures: Futures, workers: int) -> RobustSolution:
    """The equivalent (workers 0), or Benders on that many worker processes."""
    if not workers:
        return solve_robust(futures, measure=RiskMeasure(), options=OPTIONS)
    with make_executor(workers) as executor:
        return solve_decomposed(futures, measure=RiskMeasure(), options=OPTIONS, executor=executor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--futures", type=int, nargs="+", default=[10, 30, 100])
    parser.add_argument("--equivalent-up-to", type=int, default=30, help="skip the equivalent above this K")
    args = parser.parse_args()
    scenario = load_scenario(TIGRIS)
    print(f"{'K':>4} {'solver':<22}{'seconds':>9}{'objective $B':>14}{'gap':>8}{'peak GB':>9}")
    for k in args.futures:
        start = time.perf_counter()
        futures = futures_of([prepare(f) for f in draw_futures(scenario, k, scenario.seed)])
        print(f"{k:>4} {'models built':<22}{time.perf_counter() - start:>9.1f}{'':>14}{'':>8}{peak_gb():>9.2f}")
        runs = [(f"benders, {n} worker{'s' * (n > 1)}", n) for n in (1, 2)]
        if k <= args.equivalent_up_to:
            runs.insert(0, ("equivalent", 0))
        for name, workers in runs:
            start = time.perf_counter()
            solution = solve(futures, workers)
            seconds = time.perf_counter() - start
            result = solution.result
            objective = (result.objective or float("nan")) / 1e3
            print(f"{k:>4} {name:<22}{seconds:>9.1f}{objective:>14.2f}{(result.gap or 0):>8.2%}{peak_gb():>9.2f}")


if __name__ == "__main__":
    main()
