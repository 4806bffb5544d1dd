"""Checked risk (issue 32): the plans of sampled futures run on the fab simulator.

`fabnet risk --check-samples K` takes the first K samples of the sweep's draw, plans each
future anew (with --reoptimise) or holds the base plan in it as the fixed-plan model runs it
(risk.held), simulates every fab its plan runs at the planned load (fabnet.check) and keeps, per
sample and year, the wafers the plan expects out of its fabs and those the simulation puts out,
with the accelerators the plan delivers against demand. The figure a reader wants beside the
planner's: the chance, per year, that the fabs put out more than `shortfall` less than planned.

Each check is one task on the sweep's executor (local processes or Dask), as a sample is.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.errors import FabnetError
from fabnet.core.units import SERVED_SHARE
from fabnet.pipeline import NO_FAB_TO_CHECK, plan_check
from fabnet.plan import Plan, make_plan
from fabnet.risk.fixed import held_operations
from fabnet.risk.held import held_plan
from fabnet.risk.runner import SAMPLE_OPTIONS, SweepSpec, finishing
from fabnet.risk.sampling import apply_sample, draw
from fabnet.scenario.schema import Scenario
from fabnet.store import store_rows

CHECKS_TABLE = "risk_checks"
#: A year's simulated wafer output this much below the plan's counts as a shortfall.
DEFAULT_SHORTFALL = 0.05


def check_sample(scenario_json: dict[str, Any], index: int, row: list[float], seed: int) -> list[dict[str, Any]]:
    """Plan one sampled future and simulate every fab of its plan; rows per year (none when
    the plan runs no fab)."""
    scenario = apply_sample(Scenario.model_validate(scenario_json), np.array(row))
    return checked_rows(scenario, make_plan(scenario, SAMPLE_OPTIONS), index, seed)


def check_held_sample(
    scenario_json: dict[str, Any], index: int, row: list[float], plan: Plan, seed: int
) -> list[dict[str, Any]]:
    """Simulate every fab of the base plan held in one sampled future (`plan`: risk.held)."""
    scenario = apply_sample(Scenario.model_validate(scenario_json), np.array(row))
    return checked_rows(scenario, plan, index, seed)


def checked_rows(scenario: Scenario, plan: Plan, index: int, seed: int) -> list[dict[str, Any]]:
    """Every fab of `plan` simulated, with the sweep's seed + the sample's index; rows per year
    of wafers planned and simulated out of them, demand and the plan's deliveries."""
    checked = plan_check(scenario, plan, seed=seed + index)
    if checked == NO_FAB_TO_CHECK:
        return []
    if isinstance(checked, str):  # no SMT2020 data: every sample would say so
        raise FabnetError(checked)
    out = pd.concat([fab.quarters for fab in checked.fabs])
    out = out.assign(year=out["quarter"].str[:4].astype(int)).groupby("year")[["planned_output", "simulated_output"]]
    wafers = out.sum()
    supply = plan.supply.groupby("year")[["demand", "delivered"]].sum()
    rows = []
    for year, values in wafers.iterrows():
        rows.append(
            {
                "sample": index,
                "year": int(year),
                "fabs": len(checked.fabs),
                "planned_output": float(values["planned_output"]),
                "simulated_output": float(values["simulated_output"]),
                "demand": float(supply["demand"].get(year, 0.0)),
                "planned_delivered": float(supply["delivered"].get(year, 0.0)),
            }
        )
    return rows


def run_checks(
    scenario: Scenario,
    run_id: int,
    store_path: str | Path,
    spec: SweepSpec,
    count: int,
    executor: Executor,
    progress: Callable[[int, int], None] | None = None,
    held: Plan | None = None,
) -> pd.DataFrame:
    """Check the first `count` samples of `spec` on `executor`, each stored as it finishes:
    each planned anew, or, with `held` (the base plan of a fixed-plan sweep), that plan as the
    fixed-plan model runs it in the sample (risk.held)."""
    table = draw(scenario, spec.samples, spec.seed, spec.method)
    payload = scenario.model_dump(by_alias=True, mode="json")
    todo = range(min(count, spec.samples))
    if held is None:
        futures = [executor.submit(check_sample, payload, i, table[i].tolist(), spec.seed) for i in todo]
    else:
        operations = held_operations(scenario, held, table[: len(todo)])
        futures = [
            executor.submit(check_held_sample, payload, i, table[i].tolist(), held_plan(held, operations, i), spec.seed)
            for i in todo
        ]
    frames = []
    for finished, future in enumerate(finishing(futures), start=1):
        frame = results.table(CHECKS_TABLE).conform(pd.DataFrame(future.result()))
        store_rows(store_path, run_id, CHECKS_TABLE, frame)
        frames.append(frame)
        if progress is not None:
            progress(finished, len(todo))
    checks = pd.concat(frames, ignore_index=True) if frames else results.table(CHECKS_TABLE).conform(pd.DataFrame())
    return checks.sort_values(["sample", "year"], ignore_index=True)


def shortfall_by_year(checks: pd.DataFrame, shortfall: float = DEFAULT_SHORTFALL) -> pd.DataFrame:
    """Per year with wafers planned: the chance that the simulated fabs put out more than
    `shortfall` less than planned, beside the planner's own chance of delivering less than
    SERVED_SHARE of demand, over the checked samples."""
    running = checks[checks["planned_output"] > 0]
    rows = []
    for year, group in running.groupby("year"):
        short = group["simulated_output"] < (1 - shortfall) * group["planned_output"]
        wanted = group["demand"] > 0
        unserved = group["planned_delivered"] < SERVED_SHARE * group["demand"]
        rows.append(
            {
                "year": int(year),
                "samples": len(group),
                "shortfall": shortfall,
                "simulated_over_planned": float(group["simulated_output"].sum() / group["planned_output"].sum()),
                "p_simulated_short": float(short.mean()),
                "p_planned_unserved": float(unserved[wanted].mean()) if wanted.any() else float("nan"),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["year", "samples", "shortfall", "simulated_over_planned", "p_simulated_short", "p_planned_unserved"],
    )
