"""The JSON documents of fabnet's results, made from the API's result objects, so that what
`fabnet … --json` prints and what a Python user gets from fabnet.api are one shape: the
financials' and the deal's are their `to_dict()`; a plan's and a simulation's are here (their
types, fabnet.plan.Plan and fabnet.fabsim.Kpis, hold no money and no speed). `json_text`
writes any of them as the CLI prints it. Public through fabnet.api."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from fabnet.fabsim import Kpis
    from fabnet.fabsim.engine import SimResult
    from fabnet.finance import Financials
    from fabnet.pipeline import JobResult
    from fabnet.plan import Plan
    from fabnet.risk.job import RiskRun
    from fabnet.scenario import Scenario
    from fabnet.store import StoredRun

#: A plan's tables in its document, in this order.
PLAN_TABLES = (
    "builds",
    "packaging_builds",
    "supply",
    "production",
    "capacity",
    "foundry",
    "packaging",
    "hbm",
    "budget",
)


def plan_dict(plan: Plan, money: Financials, scenario: Scenario | None = None) -> dict[str, Any]:
    """A plan as one document: how its solve went, the system cost, the fab company's NPV (from
    `money`, fabnet.financials of the plan), its messages and its tables as lists of rows; with
    the scenario, also the plan's capex figures (the fab company's, the foundry capacity it
    relies on, the ambition: finance.industry). What `fabnet plan --json` prints."""
    from fabnet.finance.industry import plan_capex

    capex = {} if scenario is None else plan_capex(scenario, plan.foundry, money.fabco.quarterly).figures()
    return {
        "status": {
            "termination": plan.result.termination,
            "optimal": plan.optimal,
            "gap": plan.result.gap,
            "objective_musd": plan.result.objective,
            "bound_musd": plan.result.bound,
            "seconds": plan.result.seconds,
            "reused": plan.result.reused,
            "description": plan.result.describe(),
        },
        "system_cost_usd": plan.objective_usd,
        "fabco_npv_usd": money.fabco.metrics.fabco_npv_usd,
        **capex,
        "messages": plan.messages,
        **{name: getattr(plan, name).to_dict("records") for name in PLAN_TABLES},
    }


def simulation_dict(kpis: Kpis, result: SimResult) -> dict[str, Any]:
    """A simulation's tables (lots, tool families, critical queue times, WIP) as lists of rows,
    and how fast it ran. What `fabnet simulate --json` prints."""
    return {name: records(kpis.columns(name)) for name in ("lots", "families", "cqt", "wip")} | {
        "speed": {"lot_steps": result.lot_steps, "events": result.events, "wall_s": result.wall_s}
    }


def records(table_columns: dict[str, Any]) -> list[dict[str, Any]]:
    """A table as columns → one dict per row, as DataFrame.to_dict("records") gives."""
    return [dict(zip(table_columns, row, strict=True)) for row in zip(*table_columns.values(), strict=True)]


def json_text(document: Any) -> str:
    """A document as the JSON text fabnet prints: a missing number (NaN, an IRR that does not
    exist) is null, as JSON has no NaN; numpy numbers are plain numbers; anything else JSON
    has no type for (a date) is its text."""
    return json.dumps(plain(document), indent=2, allow_nan=False, default=str)


def plain(value: Any) -> Any:
    if isinstance(value, Mapping):  # a dict, or a run's KeyFigures
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def job_dict(job: JobResult, report: Path | None = None, report_problem: str | None = None) -> dict[str, Any]:
    """A finished run: where it is kept, its key figures, messages and builds, its report. What
    `fabnet run --json` prints."""
    return {
        "run_id": job.run_id,
        "store_error": job.store_error,
        "archive": None if job.archive is None else str(job.archive),
        "report": None if report is None else str(report),
        "report_problem": report_problem,
        "figures": dict(job.figures),
        "messages": list(job.messages),
        "builds": job.plan.builds.to_dict("records"),
    }


def risk_dict(sweep: RiskRun) -> dict[str, Any]:
    """A sweep's summary tables (headline, downside, per year, tornado, checked samples) as rows.
    What `fabnet risk --json` prints."""
    return {"run_id": sweep.run_id, "title": sweep.title} | {
        name: frame.to_dict("records") for name, frame in sweep.summary().items()
    }


def stored_dict(run: StoredRun) -> dict[str, Any]:
    """A stored run's provenance and key figures (its tables by name, not their rows). What
    `fabnet runs show --json` prints."""
    meta = {k: v for k, v in run.meta.items() if k not in ("figures", "scenario_text")}
    return {"meta": meta, "figures": dict(run.figures), "tables": sorted(run.tables)}


def runs_records(runs: pd.DataFrame) -> list[dict[str, Any]]:
    """The runs of a store, one dict each. What `fabnet runs list --json` prints."""
    return runs.to_dict("records")
