"""Network planner: which fabs to build, where and when, and what the network makes.

`build_model(scenario)` → linopy.Model, `solve(model, options)` → SolveResult (HiGHS),
`extract(model, inputs, result)` → Plan of tidy tables; `make_plan` runs the three with the
checks and explanations around them.
"""

from __future__ import annotations

import dataclasses

from linopy.constants import TerminationCondition

from fabnet.core.errors import PlanInfeasible
from fabnet.network import prepare
from fabnet.plan.explain import check_mandatory_sites, explain_infeasible, explain_shortfalls
from fabnet.plan.extract import Plan, extract, modules_built
from fabnet.plan.model import build_from_inputs, build_model
from fabnet.plan.robust import FirstStage, RiskMeasure, RobustSolution, solve_robust
from fabnet.plan.size import ModelSize, ModelTooLarge, check_size, estimate
from fabnet.plan.solve import SolveOptions, SolveResult, solve
from fabnet.scenario.schema import Scenario

INFEASIBLE = (TerminationCondition.infeasible, TerminationCondition.infeasible_or_unbounded)


def make_plan(
    scenario: Scenario,
    options: SolveOptions = SolveOptions(),
    cycle_time: str = "load",
    first_stage: FirstStage | None = None,
) -> Plan:
    """Plan a scenario: check policies, build, solve, extract, explain shortfalls.
    Raises PlanInfeasible, in words, when no plan satisfies the budget and policies.
    `cycle_time`: "load" (own fabs' cycle time grows with their load) or "constant";
    `first_stage`: builds held (a robust plan's), the rest planned for this scenario."""
    check_size(estimate(scenario, cycle_time), options.max_variables)
    inputs = prepare(scenario, cycle_time)
    check_mandatory_sites(inputs)
    if first_stage is not None:
        inputs = dataclasses.replace(inputs, latest_start=first_stage.latest_start, reserve_ahead=True)
    model = build_from_inputs(inputs)
    if first_stage is not None:
        first_stage.fix(model)
    result = solve(model, options)
    if not result.has_solution:
        if result.termination in INFEASIBLE:
            raise PlanInfeasible(explain_infeasible(inputs))
        if result.termination == TerminationCondition.time_limit:
            raise PlanInfeasible(
                f"no plan found within the time limit ({result.seconds:.0f} s): "
                "raise --time-limit, or plan fewer sites or quarters"
            )
        raise PlanInfeasible(
            f"HiGHS stopped without a plan ({result.termination.replace('_', ' ')}, {result.seconds:.1f} s); "
            "that usually means numbers of very different sizes meet in one constraint: check the "
            "scenario's largest and smallest values (a penalty, price or capacity far from the rest)"
        )
    plan = extract(model, inputs, result)
    return dataclasses.replace(plan, messages=explain_shortfalls(plan, inputs))


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
