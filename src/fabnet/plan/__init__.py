"""Network planner: which fabs to build, where and when, and what the network makes.

`build_model(scenario)` → linopy.Model, `solve(model, options)` → SolveResult (HiGHS),
`extract(model, inputs, result)` → Plan of tidy tables; `make_plan` runs the three with the
checks and explanations around them, or serves the plan kept from an earlier solve of the same
inputs (`SolveOptions.reuse`, fabnet.cache).

The package imports the modelling libraries (linopy, xarray, HiGHS) only when a model is built:
the names that need them (build_model, solve, extract, the robust planner) are loaded on first
use, so a command that reuses a kept plan never imports them (fabnet.plan.outcome).
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import TYPE_CHECKING, Any

import fabnet.cache as cache
from fabnet.network import prepare
from fabnet.plan.explain import check_mandatory_sites
from fabnet.plan.outcome import Plan, RiskMeasure, SolveOptions, SolveResult, modules_built
from fabnet.plan.size import ModelSize, ModelTooLarge, check_size, estimate
from fabnet.scenario.schema import Scenario

if TYPE_CHECKING:
    from fabnet.plan.extract import extract
    from fabnet.plan.highs import solve
    from fabnet.plan.model import build_from_inputs, build_model
    from fabnet.plan.robust import FirstStage, RobustSolution, solve_robust

#: Names loaded on first use, and the module of each.
_MODELLING = {
    "build_from_inputs": "fabnet.plan.model",
    "build_model": "fabnet.plan.model",
    "extract": "fabnet.plan.extract",
    "solve": "fabnet.plan.highs",
    "FirstStage": "fabnet.plan.robust",
    "RobustSolution": "fabnet.plan.robust",
    "solve_robust": "fabnet.plan.robust",
}


def __getattr__(name: str) -> Any:
    if name not in _MODELLING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODELLING[name]), name)
    globals()[name] = value
    return value


def make_plan(
    scenario: Scenario,
    options: SolveOptions = SolveOptions(),
    cycle_time: str = "load",
    first_stage: FirstStage | None = None,
) -> Plan:
    """Plan a scenario: check policies, build, solve, extract, explain shortfalls.
    Raises PlanInfeasible, in words, when no plan satisfies the budget and policies.
    `cycle_time`: "load" (own fabs' cycle time grows with their load) or "constant";
    `first_stage`: builds held (a robust plan's), the rest planned for this scenario. With
    `options.reuse`, a proven plan kept from a solve of the same model inputs is served."""
    check_size(estimate(scenario, cycle_time), options.max_variables)
    inputs = prepare(scenario, cycle_time)
    check_mandatory_sites(inputs)
    if first_stage is not None:
        inputs = dataclasses.replace(inputs, latest_start=first_stage.latest_start, reserve_ahead=True)
    held = None if first_stage is None else sorted(first_stage.values.items(), key=repr)
    entry = cache.key("plan", inputs, dataclasses.replace(options, reuse=False), held) if options.reuse else ""
    kept = cache.read("plans", entry, Plan) if options.reuse else None
    if isinstance(kept, Plan):
        return dataclasses.replace(kept, result=dataclasses.replace(kept.result, options=options, reused=True))
    from fabnet.plan import planner

    plan = planner.plan_anew(inputs, options, first_stage)
    if options.reuse and plan.optimal:
        # only a proven plan: one stopped by the time limit depends on the machine's speed
        cache.keep("plans", entry, plan)
    return plan


__all__ = [
    "FirstStage",
    "ModelSize",
    "ModelTooLarge",
    "Plan",
    "RiskMeasure",
    "RobustSolution",
    "SolveOptions",
    "SolveResult",
    "build_from_inputs",
    "build_model",
    "check_size",
    "estimate",
    "extract",
    "make_plan",
    "modules_built",
    "solve",
    "solve_robust",
]
