"""Evidence for load-dependent cycle time (issue 8): scenarios/tigris.yaml planned with a
constant cycle time and with the load-dependent one, each plan checked on the fab simulator
(its busiest fab, SMT2020 HVLM scaled to the plan's load) with several seeds. Prints the
accelerators delivered per year as planned, as simulated and the difference, then the checked
fab's quarters; asserts nothing. Needs the SMT2020 data; about 2 minutes.

    .venv/bin/python benchmarks/cycle_time_evidence.py [scenario] [--seeds 3]
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from fabnet.check import check_plan
from fabnet.fabsim import load_smt2020
from fabnet.plan import make_plan as plan_network
from fabnet.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="scenarios/tigris.yaml")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    fab = load_smt2020("HVLM")
    yearly, quarters = {}, {}
    for kind in ("constant", "load"):
        start = time.perf_counter()
        plan = plan_network(scenario, cycle_time=kind)
        print(
            f"{kind:>8} plan: {time.perf_counter() - start:.1f} s ({plan.result.describe()}), "
            f"builds {', '.join(f'{r.site} {r.started}' for r in plan.builds.itertuples()) or 'none'}"
        )
        runs = []
        for seed in range(scenario.seed, scenario.seed + args.seeds):
            start = time.perf_counter()
            check = check_plan(scenario, plan, fab, seed=seed)
            assert check is not None, "the plan runs no fab of its own"
            runs.append(check)
            print(f"{'':>8} check seed {seed}: {check.site}, {time.perf_counter() - start:.1f} s")
        delivered = pd.concat([c.delivered.groupby("year")[["demand", "planned", "simulated"]].sum() for c in runs])
        yearly[kind] = delivered.groupby(level=0).agg(
            demand=("demand", "first"),
            planned=("planned", "first"),
            simulated=("simulated", "mean"),
            low=("simulated", "min"),
            high=("simulated", "max"),
        )
        q = pd.concat([c.quarters for c in runs]).groupby("quarter", sort=False)
        quarters[kind] = q[
            ["load", "planned_output", "simulated_output", "planned_cycle_days", "simulated_cycle_days"]
        ].mean()
    print_yearly(yearly, args.seeds)
    for kind, table in quarters.items():
        print(f"\nchecked fab, {kind} cycle time (mean of {args.seeds} seeds)")
        print(table.round(2).to_string())


def print_yearly(yearly: dict[str, pd.DataFrame], seeds: int) -> None:
    print(f"\naccelerators delivered per year (simulated: mean of {seeds} seeds, min–max)")
    print(
        "| year | demand | constant: planned | simulated | difference "
        "| load-dependent: planned | simulated | difference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    c, ld = yearly["constant"], yearly["load"]
    for year in c.index:
        if c.at[year, "demand"] == 0 and c.at[year, "planned"] == 0:
            continue
        cells = [f"{year}", f"{c.at[year, 'demand']:,.0f}"]
        for t in (c, ld):
            cells += [
                f"{t.at[year, 'planned']:,.0f}",
                f"{t.at[year, 'simulated']:,.0f} ({t.at[year, 'low']:,.0f}–{t.at[year, 'high']:,.0f})",
                f"{t.at[year, 'simulated'] - t.at[year, 'planned']:+,.0f}",
            ]
        print("| " + " | ".join(cells) + " |")
    totals = [f"{(t['simulated'] - t['planned']).sum():+,.0f}" for t in (c, ld)]
    print(
        f"| total | {c['demand'].sum():,.0f} | {c['planned'].sum():,.0f} | {c['simulated'].sum():,.0f} | "
        f"{totals[0]} | {ld['planned'].sum():,.0f} | {ld['simulated'].sum():,.0f} | {totals[1]} |"
    )


if __name__ == "__main__":
    main()
