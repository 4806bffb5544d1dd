"""The MILP against brute force: enumerate every build schedule of a tiny instance, evaluate
each one independently of the model (greedy supply, which is optimal here because producing
costs nothing and every unit of unmet demand costs the same), and take the cheapest.

At a discount rate of zero a build's capex annuity (scenario.assets) is its straight-line
depreciation, so the capex the planner charges inside the horizon is what was spent less the
book value at the end: the enumeration states it that way."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.chips import d0_at_age, die_yield, gross_dies
from fabnet.network import prepare
from fabnet.plan import FirstStage, RiskMeasure, SolveOptions, build_model, make_plan, solve, solve_robust
from fabnet.plan.decompose import solve_decomposed
from fabnet.plan.robust import recourse_costs
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(time_limit_s=60, mip_gap=0.0, polish=False)


def brute_force_cost(data) -> float:
    return min(schedule_costs(data).values())


def schedule_costs(data) -> dict[tuple, float]:
    """Every build schedule (each site's start quarters) with its system cost, inf when it
    breaks the budget."""
    horizon = data["horizon"]["quarters"]
    node = data["nodes"][0]
    product = data["products"][0]
    penalty = product["unmet_penalty_usd"]
    dd = node["defect_density"]
    gross = gross_dies(300, product["die_width_mm"], product["die_height_mm"], 3.0, 0.1)
    area = product["die_width_mm"] * product["die_height_mm"]
    mature = gross * die_yield(area, dd["mature_per_cm2"], "poisson")
    learning = [
        gross
        * die_yield(area, d0_at_age(dd["ramp_per_cm2"], dd["mature_per_cm2"], dd["learning_rate_per_q"], a), "poisson")
        / mature
        for a in range(horizon)
    ]
    demand = np.zeros(horizon)
    points = {int(q[-1]) - 1 + 4 * (int(q[:4]) - 2025): v for q, v in product["demand"]["per_quarter"].items()}
    demand[:] = np.interp(np.arange(horizon), sorted(points), [points[k] for k in sorted(points)])
    funds = np.zeros(horizon)
    funds[0] = data["funding"]["investors"][0]["amount_usd"]
    start_q = {f"2025Q{i + 1}": i for i in range(4)} | {f"2026Q{i + 1}": 4 + i for i in range(4)}

    options = []
    for s in data["sites"]:
        lead = s["lead_time_q"]
        starts = range(start_q[s["earliest_start"]], horizon - lead)
        options.append(
            [combo for k in range(s["max_modules"] + 1) for combo in itertools.combinations_with_replacement(starts, k)]
        )

    costs = {}
    for schedule in itertools.product(*options):
        spend = np.zeros(horizon)
        capacity = np.zeros(horizon)
        book = 0.0
        for s, starts in zip(data["sites"], schedule, strict=True):
            lead, capex = s["lead_time_q"], s["capex_per_module_usd"]
            building_q = math.ceil(lead / 2)
            tools_q = max(lead - building_q, 1)
            tools_from = building_q if lead > 1 else 0
            ramp = s["ramp"]
            for v in starts:
                spend[v : v + building_q] += capex["building"] / building_q
                spend[v + tools_from : v + tools_from + tools_q] += capex["tools"] / tools_q
                for t in range(v + lead, horizon):
                    age = t - v - lead
                    share = ramp[age] if age < len(ramp) else 1.0
                    capacity[t] += 3 * s["module_wspm"] * share * learning[age]
                in_service = horizon - (v + lead)
                book += capex["building"] * (1 - in_service / 80) + capex["tools"] * (1 - in_service / 20)
        if np.any(np.cumsum(spend) > np.cumsum(funds) + 1e-3):
            costs[schedule] = math.inf
            continue
        bank, unmet = 0.0, 0.0
        for t in range(horizon):
            bank += mature * capacity[t - 1] if t >= 1 else 0.0  # one-quarter cycle time
            served = min(demand[t], bank)
            bank -= served
            unmet += demand[t] - served
        # life after the horizon: the dies banked and those of the last quarter's wafers (out a
        # quarter later) serve up to one more quarter of demand at the last quarter's rate, each
        # worth what an unmet accelerator costs (no packaging cost, no discounting here)
        after = min(demand[-1], bank + mature * capacity[-1])
        costs[schedule] = spend.sum() - book + penalty * unmet - penalty * after
    return costs


def milp_cost(data) -> float:
    model = build_model(scenario(data))
    result = solve(model, EXACT)
    assert result.optimal
    return result.objective * 1e6


def test_default_tiny_instance_matches_brute_force():
    data = tiny()
    assert milp_cost(data) == pytest.approx(brute_force_cost(data), rel=1e-7)


@pytest.mark.parametrize("ramp_d0", [0.4, 0.8])
def test_learning_binds_when_capacity_is_short(ramp_d0):
    # Demand above what the sites can make, so every young module's lower yield shows.
    data = tiny()
    data["nodes"][0]["defect_density"]["ramp_per_cm2"] = ramp_d0
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 8_000_000}}
    assert milp_cost(data) == pytest.approx(brute_force_cost(data), rel=1e-7)


@settings(max_examples=15, suppress_health_check=[HealthCheck.too_slow])
@given(
    demand=st.lists(st.integers(0, 4_000_000), min_size=3, max_size=3),
    penalty=st.sampled_from([5, 20, 60, 500]),
    ramp_d0=st.sampled_from([0.1, 0.3, 0.8]),
    budget=st.sampled_from([70e6, 150e6, 1e9]),
    lead_beta=st.integers(1, 3),
    earliest_beta=st.sampled_from(["2025Q1", "2025Q2"]),
)
def test_random_tiny_instances_match_brute_force(demand, penalty, ramp_d0, budget, lead_beta, earliest_beta):
    data = tiny(
        sites=[
            site("alpha"),
            site(
                "beta",
                lead_time_q=lead_beta,
                ramp=[0.5, 1.0],
                earliest_start=earliest_beta,
                capex_per_module_usd={"building": 10e6, "tools": 50e6},
            ),
        ],
        funding={"investors": [{"id": "i", "kind": "equity", "amount_usd": budget, "available_from": "2025Q1"}]},
    )
    data["products"][0]["unmet_penalty_usd"] = penalty
    data["products"][0]["demand"] = {"per_quarter": {"2025Q2": demand[0], "2025Q4": demand[1], "2026Q2": demand[2]}}
    data["nodes"][0]["defect_density"]["ramp_per_cm2"] = ramp_d0
    assert milp_cost(data) == pytest.approx(brute_force_cost(data), rel=1e-6, abs=1.0)


# --- robust plans: one build schedule for several futures ------------------------------------

#: Three futures of the tiny instance: demand at these multiples, yield learning from these D0s.
FUTURES = ((0.4, 0.1), (1.0, 0.4), (1.8, 0.8))


def future(demand_multiple: float, ramp_d0: float) -> dict:
    data = tiny()
    demand = data["products"][0]["demand"]["per_quarter"]
    data["products"][0]["demand"]["per_quarter"] = {q: v * demand_multiple for q, v in demand.items()}
    data["nodes"][0]["defect_density"]["ramp_per_cm2"] = ramp_d0
    return data


def cvar(costs: list[float], level: float) -> float:
    """CVaR of equally likely costs: Rockafellar and Uryasev's minimum over η, attained at a cost."""
    return min(eta + sum(max(c - eta, 0.0) for c in costs) / len(costs) / (1 - level) for eta in costs)


def schedule_of(first_stage, data) -> tuple:
    """A robust plan's builds as schedule_costs names a schedule: each site's start quarters."""
    return tuple(
        tuple(
            sorted(
                q for (name, q, site_id), n in first_stage.values.items() if site_id == s["id"] for _ in range(int(n))
            )
        )
        for s in data["sites"]
    )


@pytest.mark.parametrize(
    "measure", [RiskMeasure(), RiskMeasure(level=2 / 3, weight=1.0), RiskMeasure(level=0.5, weight=0.5)]
)
def test_the_robust_plan_is_the_best_schedule_over_the_futures(measure):
    data = [future(*f) for f in FUTURES]
    per_future = [schedule_costs(d) for d in data]

    def risk(schedule: tuple) -> float:
        costs = [costs_of[schedule] for costs_of in per_future]
        if math.isinf(max(costs)):
            return math.inf
        return (1 - measure.weight) * sum(costs) / len(costs) + measure.weight * cvar(costs, measure.level)

    best = min(risk(schedule) for schedule in per_future[0])
    robust = solve_robust([prepare(scenario(d)) for d in data], measure=measure, options=EXACT)
    assert robust.result.optimal
    assert robust.result.objective * 1e6 == pytest.approx(best, rel=1e-7)
    assert risk(schedule_of(robust.first_stage, data[0])) == pytest.approx(best, rel=1e-7)
    costs = [costs_of[schedule_of(robust.first_stage, data[0])] for costs_of in per_future]
    assert robust.costs * 1e6 == pytest.approx(costs, rel=1e-7)


def test_the_expected_value_and_cvar_of_futures_that_cannot_be_served_by_hand():
    # No site and no foundry: every accelerator of 6 quarters is unmet at $500. Demand of 1,000,
    # 2,000 and 6,000 a quarter costs $3 M, $6 M and $18 M: mean $9 M; the worst third $18 M;
    # the worst half is the $18 M future (a third) and half of the $6 M one (a sixth): $14 M.
    data = [tiny(sites=[]) for _ in range(3)]
    for d, demand in zip(data, (1000, 2000, 6000), strict=True):
        d["products"][0]["demand"] = {"per_quarter": {"2025Q1": demand}}
    futures = [prepare(scenario(d)) for d in data]
    for measure, musd in ((RiskMeasure(), 9.0), (RiskMeasure(2 / 3, 1.0), 18.0), (RiskMeasure(0.5, 0.5), 11.5)):
        robust = solve_robust(futures, measure=measure, options=EXACT)
        assert robust.result.objective == pytest.approx(musd, rel=1e-9), measure
        assert robust.costs == pytest.approx([3.0, 6.0, 18.0], rel=1e-9)


def test_one_future_reproduces_the_deterministic_plan():
    x = prepare(scenario(future(1.0, 0.4)))
    model = build_model(scenario(future(1.0, 0.4)))
    deterministic = solve(model, EXACT)
    robust = solve_robust([x], options=EXACT)
    assert robust.result.objective == pytest.approx(deterministic.objective, rel=1e-9)
    builds = model.variables["build"].solution.to_series().dropna()
    assert {k: v for k, v in robust.first_stage.values.items() if v} == {
        ("build", *key): value for key, value in builds.items() if value > 0.5
    }
    held = make_plan(scenario(future(1.0, 0.4)), EXACT, first_stage=robust.first_stage)
    assert held.result.objective == pytest.approx(deterministic.objective, rel=1e-9)


def test_builds_that_break_a_futures_budget_are_no_plan_for_it():
    # $100 M committed; two alpha modules ($80 M each) in the first quarter break it.
    data = tiny(funding={"investors": [{"id": "i", "kind": "equity", "amount_usd": 100e6, "available_from": "2025Q1"}]})
    x = prepare(scenario(data))
    one = FirstStage({("build", 0, "alpha"): 1.0}, x.latest_start)
    two = FirstStage({("build", 0, "alpha"): 2.0}, x.latest_start)
    affordable, broke = recourse_costs([x], one, EXACT)[0], recourse_costs([x], two, EXACT)[0]
    assert math.isfinite(affordable) and math.isinf(broke)


@pytest.mark.parametrize("budget", [1e9, 150e6])
@pytest.mark.parametrize("measure", [RiskMeasure(), RiskMeasure(level=0.5, weight=0.5)])
def test_benders_decomposition_finds_the_deterministic_equivalents_plan(budget, measure):
    # $150 M cannot pay for every module the futures would like: the master learns the budget
    # from feasibility cuts.
    funding = {"investors": [{"id": "i", "kind": "equity", "amount_usd": budget, "available_from": "2025Q1"}]}
    data = [future(*f) | {"funding": funding} for f in FUTURES]
    futures = [prepare(scenario(d)) for d in data]
    equivalent = solve_robust(futures, measure=measure, options=EXACT)
    decomposed = solve_decomposed(futures, measure=measure, options=EXACT)
    assert decomposed.result.optimal
    assert decomposed.result.objective == pytest.approx(equivalent.result.objective, rel=1e-7)
    assert decomposed.first_stage.values == equivalent.first_stage.values
    assert decomposed.costs == pytest.approx(equivalent.costs, rel=1e-7)


# --- foundry wafers reserved ahead: the newsvendor ------------------------------------------

#: Accelerators wanted in 2025Q4 in three equally likely futures.
NEWSVENDOR_DEMAND = (200_000.0, 500_000.0, 900_000.0)


def newsvendor_future(demand: float, take_or_pay: float) -> dict:
    """No site: a foundry offer at $10,000 a wafer, reserved before demand is known; the
    accelerators of 2025Q4 left unmet cost $25 each. Producing costs nothing else."""
    data = tiny(sites=[], foundry_offers=[{"node": "N", "max_wafers_per_month": 1e6, "take_or_pay": take_or_pay}])
    product = data["products"][0]
    product["unmet_penalty_usd"] = 25
    product["demand"] = {"per_quarter": {"2025Q1": 0, "2025Q3": 0, "2025Q4": demand, "2026Q1": 0}}
    return data


@pytest.mark.parametrize("take_or_pay", [0.1, 0.5, 1.0])
def test_foundry_wafers_reserved_ahead_are_the_newsvendors_order(take_or_pay):
    # A wafer reserved costs take_or_pay × P when no future uses it, P when one does, and saves
    # $25 × G of unmet demand then: the expected cost is piecewise linear in the wafers
    # reserved, so its minimum lies at one of the futures' needs (or none). With P / G ≈ $18 an
    # accelerator the critical fractile (25 − P/G) / (25 − P/G + take_or_pay · P/G) falls in each
    # third of the futures for these three shares: 0.80, 0.44 and 0.28.
    price, penalty = 10_000.0, 25.0
    good = gross_dies(300, 10, 10, 3.0, 0.1) * die_yield(100, 0.1, "poisson")
    need = np.array(NEWSVENDOR_DEMAND) / good

    def expected_cost(reserved: float) -> float:
        used = np.minimum(need, reserved)
        return float(np.mean(price * (used + take_or_pay * (reserved - used)) + penalty * good * (need - used)))

    best = min([0.0, *need], key=expected_cost)
    data = [newsvendor_future(d, take_or_pay) for d in NEWSVENDOR_DEMAND]
    robust = solve_robust([prepare(scenario(d)) for d in data], options=EXACT)
    reserved = sum(v for key, v in robust.first_stage.values.items() if key[0] == "foundry_reserved")
    assert reserved == pytest.approx(best, rel=1e-6)
    assert robust.result.objective * 1e6 == pytest.approx(expected_cost(best), rel=1e-6)
    assert best == pytest.approx(need[{0.1: 2, 0.5: 1, 1.0: 0}[take_or_pay]])
    # a continuous first stage: Benders' cuts from the reservations' reduced costs
    decomposed = solve_decomposed([prepare(scenario(d)) for d in data], options=EXACT)
    assert decomposed.result.objective * 1e6 == pytest.approx(expected_cost(best), rel=1e-6)
