"""Fab simulator speed on the SMT2020 datasets. Prints lot-steps/s, events/s, wall seconds per
simulated year and peak memory; asserts nothing.

    .venv/bin/python benchmarks/fabsim_speed.py              # HVLM and LVHM, 60 days, FIFO
    .venv/bin/python benchmarks/fabsim_speed.py --days 730   # the issue's memory check

The peer, PySCFabSim (PyPy), is not installed here; its figure on this machine, ≈ 28 k
lot-steps/s (388 s for HVLM FIFO over 365 days, issue 4), is printed as the reference ratio.
Each dataset runs in its own process so that its peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

PEER_LOT_STEPS_PER_S = 28_000


def measure(dataset: str, days: float, rule: str) -> dict:
    from fabnet.fabsim import SimOptions, load_smt2020, simulate

    fab = load_smt2020(dataset)
    result = simulate(fab, SimOptions(days=days, rule=rule, seed=1))
    return {"dataset": dataset, "days": days, "lot_steps": result.lot_steps, "events": result.events,
            "wall_s": result.wall_s, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--rule", default="fifo")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.days, args.rule)))
        return
    print(f"{'dataset':<8}{'days':>6}{'lot-steps/s':>13}{'events/s':>11}{'s per year':>12}"
          f"{'peak MB':>9}{'× peer':>8}")
    for dataset in ("HVLM", "LVHM"):
        line = subprocess.run([sys.executable, __file__, "--one", dataset, "--days", str(args.days),
                               "--rule", args.rule], capture_output=True, text=True, check=True)
        r = json.loads(line.stdout.strip().splitlines()[-1])
        rate = r["lot_steps"] / r["wall_s"]
        print(f"{dataset:<8}{r['days']:>6.0f}{rate:>13,.0f}{r['events'] / r['wall_s']:>11,.0f}"
              f"{r['wall_s'] * 365 / r['days']:>12,.0f}{r['peak_mb']:>9,.0f}{rate / PEER_LOT_STEPS_PER_S:>8.2f}")


if __name__ == "__main__":
    main()
