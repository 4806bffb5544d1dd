"""Fab simulator speed on the SMT2020 datasets. Prints lot-steps/s, events/s, wall seconds per
simulated year and peak memory; asserts nothing.

    .venv/bin/python benchmarks/fabsim_speed.py              # HVLM and LVHM, one year each
    .venv/bin/python benchmarks/fabsim_speed.py --days 730   # the issue's memory check

Two comparisons in the same run: the compiled kernel against fabnet's own reference engine in
plain Python (same model, same results; run over --reference-days), and against the peer
PySCFabSim, which is not installed here: its figure on this machine, ≈ 28 k lot-steps/s (388 s
for HVLM FIFO over 365 days, issue 4), is quoted. Each run has its own process so that its
peak memory is its own; the kernel is compiled (or loaded from its cache) before timing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys

PEER_LOT_STEPS_PER_S = 28_000


def measure(dataset: str, days: float, rule: str, kernel: str) -> dict:
    from fabnet.fabsim import SimOptions, load_smt2020, simulate

    fab = load_smt2020(dataset)
    simulate(fab, SimOptions(days=0.5, rule=rule, kernel=kernel))  # compile or load the cache
    result = simulate(fab, SimOptions(days=days, rule=rule, seed=1, kernel=kernel))
    return {"dataset": dataset, "kernel": kernel, "days": days, "lot_steps": result.lot_steps,
            "events": result.events, "wall_s": result.wall_s,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run(dataset: str, days: float, rule: str, kernel: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--one", dataset, "--days", str(days), "--rule", rule,
                          "--kernel", kernel], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--reference-days", type=float, default=20.0)
    parser.add_argument("--rule", default="fifo")
    parser.add_argument("--kernel", default="numba")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.days, args.rule, args.kernel)))
        return
    print(f"{'dataset':<8}{'kernel':<8}{'days':>6}{'lot-steps/s':>13}{'events/s':>11}{'s per year':>12}"
          f"{'peak MB':>9}{'× python':>10}{'× peer':>8}")
    for dataset in ("HVLM", "LVHM"):
        fast = run(dataset, args.days, args.rule, "numba")
        slow = run(dataset, args.reference_days, args.rule, "python")
        for r in (fast, slow):
            rate = r["lot_steps"] / r["wall_s"]
            ratio = rate / (slow["lot_steps"] / slow["wall_s"])
            print(f"{dataset:<8}{r['kernel']:<8}{r['days']:>6.0f}{rate:>13,.0f}{r['events'] / r['wall_s']:>11,.0f}"
                  f"{r['wall_s'] * 365 / r['days']:>12,.1f}{r['peak_mb']:>9,.0f}{ratio:>10.1f}"
                  f"{rate / PEER_LOT_STEPS_PER_S:>8.1f}")


if __name__ == "__main__":
    main()
