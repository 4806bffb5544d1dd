"""What a scenario asks beyond one plan: the uncertain inputs of the risk analysis, planning
for many futures at once (robust) and the fab simulation of the main job.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, PlainValidator
from pydantic_core import PydanticCustomError

from fabnet.fabsim.rules import RULES, rules_help
from fabnet.scenario.fields import (
    MAX_COUNT,
    MAX_USD,
    Choices,
    Days,
    Flag,
    Frozen,
    Id,
    Number,
    PositiveDays,
    Real,
    Share,
    Whole,
)


class Uncertain(Frozen):
    """One uncertain input for the risk analysis, addressed by a dotted path such as
    `sites.arizona.lead_time_q` (list entries by id, or by [index])."""

    path: str = Field(min_length=1, max_length=200, description="Dotted path of a number (or mapping) in this file.")
    dist: Literal["normal", "lognormal", "uniform", "triangular", "discrete", "hazard"] = Field(
        description="Distribution of the draws; hazard: the quarter (from the horizon's first, 0) an "
        "event with an annual probability `per_year` happens, e.g. offtake.buyer_default_q."
    )
    apply: Literal["multiply", "add", "replace"] = Field(default="replace", description="How a draw changes the value.")
    mean: Real | None = Field(default=None, description="normal: mean.")
    sd: Annotated[Number, Field(gt=0, le=MAX_USD)] | None = Field(
        default=None, description="normal: standard deviation."
    )
    sigma: Annotated[Number, Field(gt=0, le=3)] | None = Field(
        default=None, description="lognormal: sigma of log (3 already spans a factor of 20 either way at one sigma)."
    )
    median: Annotated[Number, Field(gt=0, le=MAX_USD)] | None = Field(
        default=None, description="lognormal: median (default 1)."
    )
    low: Real | None = Field(default=None, description="uniform, triangular: lower bound.")
    mode: Real | None = Field(default=None, description="triangular: most likely value.")
    high: Real | None = Field(default=None, description="uniform, triangular: upper bound.")
    values: tuple[Real, ...] | None = Field(
        default=None, min_length=1, max_length=MAX_COUNT, description="discrete: the possible values."
    )
    weights: tuple[Annotated[Number, Field(ge=0, le=MAX_USD)], ...] | None = Field(
        default=None, description="discrete: their relative weights (default equal)."
    )
    per_year: Annotated[Number, Field(gt=0, lt=1)] | None = Field(
        default=None, description="hazard: the event's probability in a year (constant, quarter by quarter)."
    )


def _registered_rule(value: object) -> str:
    # the registry is read when a scenario is validated, not when this module is imported: a
    # rule registered later (a plug-in, a test) is a rule like the built-in ones
    if isinstance(value, str) and value in RULES:
        return value
    raise PydanticCustomError("rule", "a dispatching rule, one of {rules}", {"rules": ", ".join(RULES)})


#: The simulator's dispatching rules, named once in their registry (fabnet.fabsim.rules).
RuleName = Annotated[str, PlainValidator(_registered_rule, json_schema_input_type=str), Choices(lambda: list(RULES))]


class Simulation(Frozen):
    """Ask the main job for a fab simulation on the SMT2020 testbed (needs the data)."""

    dataset: Literal["HVLM", "LVHM"] = Field(default="HVLM", description="SMT2020 dataset.")
    days: PositiveDays = Field(default=90.0, description="Simulated days.")
    warmup_days: Days = Field(default=0.0, description="Days left out of the statistics.")
    rule: RuleName = Field(default="fifo", description=f"Dispatching rule: {rules_help()}.")
    curve: Flag = Field(default=False, description="Also run the operating curve (six runs).")


#: The products of SMT2020 HVLM, the fab a plan is checked on (order.txt's PART column;
#: tests/fabsim/test_reader.py holds them to the data).
HvlmProduct = Literal["part_3", "part_4"]
HVLM_PRODUCTS: tuple[str, ...] = get_args(HvlmProduct)


class PlanChecking(Frozen):
    """How `fabnet run` checks the plan on the fab simulator (SMT2020 HVLM standing in for each
    running fab)."""

    products: dict[Id, dict[HvlmProduct, Share]] = Field(
        default_factory=dict,
        max_length=100,
        description="Each made product's wafers as SMT2020 HVLM products: product id → {HVLM product: "
        "share of its wafer starts}, the shares summing to 1, e.g. {h100x: {part_3: 1}}. A product not "
        "listed runs in HVLM's own mix (its release rates: part_3 50.05 %, part_4 49.95 %). A fab "
        "releases the mix of its products' wafer starts over the quarters checked.",
    )


class Robust(Frozen):
    """One build plan for many futures of the `uncertainty` section (a two-stage stochastic
    plan), measured against the central-value plan on fresh futures."""

    futures: Annotated[Whole, Field(ge=1, le=1000)] = Field(description="Futures the plan is chosen for (K).")
    cvar: Annotated[Number, Field(ge=0, lt=1)] = Field(
        default=0.9, description="CVaR level α: the expected cost of the worst 1 − α of futures."
    )
    risk_weight: Share = Field(default=0.0, description="λ of (1 − λ)·E[cost] + λ·CVaR[cost]; 0 = expected cost.")
    out_of_sample: Annotated[Whole, Field(ge=1, le=1_000_000)] = Field(
        default=1000, description="Fresh futures both plans are measured on."
    )
    solver: Literal["auto", "equivalent", "benders"] = Field(
        default="auto", description="equivalent (one MIP), benders (futures as tasks on the workers), auto."
    )


class Planning(Frozen):
    """How the network is planned."""

    robust: Robust | None = Field(
        default=None, description="Plan for many futures at once (`fabnet plan` and `fabnet run`)."
    )
