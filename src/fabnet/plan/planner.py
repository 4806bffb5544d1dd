"""A planning problem solved anew: the model built (linopy), held at a robust plan's first stage
when given, solved (HiGHS), read into a Plan and its shortfalls explained. fabnet.plan.make_plan
calls it when no plan kept from an earlier solve of the same inputs serves (fabnet.cache); it is
the one module of that path that imports the modelling libraries.
"""

from __future__ import annotations

import dataclasses

from fabnet.core.errors import PlanInfeasible
from fabnet.network import PlanInputs
from fabnet.plan.explain import explain_infeasible, explain_shortfalls
from fabnet.plan.extract import extract
from fabnet.plan.highs import solve
from fabnet.plan.model import build_with_money
from fabnet.plan.outcome import Plan, SolveOptions
from fabnet.plan.robust import FirstStage

INFEASIBLE = ("infeasible", "infeasible_or_unbounded")


def plan_anew(inputs: PlanInputs, options: SolveOptions, first_stage: FirstStage | None = None) -> Plan:
    """Build, solve, extract, explain. Raises PlanInfeasible, in words, when no plan satisfies
    the budget and policies, or when HiGHS stops without one."""
    model, money = build_with_money(inputs)
    if first_stage is not None:
        first_stage.fix(model)
    result = solve(model, options)
    if not result.has_solution:
        if result.termination in INFEASIBLE:
            raise PlanInfeasible(explain_infeasible(inputs))
        if result.termination == "time_limit":
            raise PlanInfeasible(
                f"no plan found within the time limit ({result.seconds:.0f} s): "
                "raise --time-limit, or plan fewer sites or quarters"
            )
        raise PlanInfeasible(
            f"HiGHS stopped without a plan ({result.termination.replace('_', ' ')}, {result.seconds:.1f} s); "
            "that usually means numbers of very different sizes meet in one constraint: check the "
            "scenario's largest and smallest values (a penalty, price or capacity far from the rest)"
        )
    plan = extract(model, inputs, result, money)
    return dataclasses.replace(plan, messages=explain_shortfalls(plan, inputs))
