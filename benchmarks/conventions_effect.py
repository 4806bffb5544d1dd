"""What each of the peer's conventions does to fabnet's simulation: SMT2020 for 90 days, seed 1,
with fabnet's own model, each difference from the peer PySCFabSim switched alone
(`SimOptions.conventions`: wip, batches, cr, outages, pms, cqt), and all of them ("pyscfabsim"); lots
finished, lot-weighted mean cycle time and on-time share, and each one's change against fabnet's
model. docs/models.md holds the table. Asserts nothing.

    .venv/bin/python benchmarks/conventions_effect.py [--datasets HVLM LVHM] [--rules fifo cr]
"""

from __future__ import annotations

import argparse

from fabnet.fabsim import SimOptions, kpis, load_smt2020, simulate
from fabnet.fabsim.engine import DIFFERENCES


def outcome(fab, rule: str, conventions: str, days: float, seed: int) -> tuple[int, float, float]:  # type: ignore[no-untyped-def]
    rows = kpis(fab, simulate(fab, SimOptions(days=days, rule=rule, seed=seed, conventions=conventions))).lots
    rows = rows[rows["product"] != "all"]
    lots = int(rows["lots"].sum())
    return (
        lots,
        float((rows["lots"] * rows["cycle_mean_days"]).sum() / lots),
        float((rows["lots"] * rows["on_time"]).sum() / lots),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["HVLM", "LVHM"])
    parser.add_argument("--rules", nargs="+", default=["fifo", "cr"])
    parser.add_argument("--days", type=float, default=90.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| dataset | rule | conventions | lots | Δ lots | cycle time, d | Δ | on time | Δ pp |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dataset in args.datasets:
        fab = load_smt2020(dataset)
        for rule in args.rules:
            base = outcome(fab, rule, "fabnet", args.days, args.seed)
            for conventions in ("fabnet", *DIFFERENCES, "pyscfabsim"):
                lots, cycle, on_time = (
                    base if conventions == "fabnet" else outcome(fab, rule, conventions, args.days, args.seed)
                )
                print(
                    f"| {dataset} | {rule} | {conventions} | {lots:,} | {lots / base[0] - 1:+.1%} | {cycle:.2f} | "
                    f"{cycle / base[1] - 1:+.1%} | {on_time:.1%} | {(on_time - base[2]) * 100:+.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
