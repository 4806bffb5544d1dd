"""Hand-worked planning cases, monotonicity properties, explanations and the solver wrapper."""

from __future__ import annotations

import linopy
import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from linopy.constants import TerminationCondition

from fabnet.core.errors import PlanInfeasible
from fabnet.network.inputs import made_on, packaged_on
from fabnet.plan import SolveOptions, SolveResult, make_plan
from fabnet.plan.rows import lagged
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)
BIG_DEMAND = {"per_quarter": {"2025Q1": 5_000_000}}


def plan_of(data, options=EXACT):
    return make_plan(scenario(data), options)


def one_site(**changes):
    return [site("alpha", max_modules=1, **changes)]


@pytest.mark.parametrize("lead", [1, 2, 4])
def test_lead_time_shifts_capacity_by_exactly_that_many_quarters(lead):
    data = tiny(sites=one_site(lead_time_q=lead))
    data["products"][0]["demand"] = BIG_DEMAND
    plan = plan_of(data)
    assert plan.builds[["started", "online"]].values.tolist() == [["2025Q1", str(scenario(data).horizon.start + lead)]]
    capacity = plan.capacity.set_index("quarter")["wafer_capacity"]
    assert (capacity.iloc[:lead] == 0).all()
    assert capacity.iloc[lead] == pytest.approx(3000)


def test_a_binding_budget_delays_the_build():
    late_money = {"investors": [{"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q3"}]}
    early = tiny(sites=one_site())
    late = tiny(sites=one_site(), funding=late_money)
    for data in (early, late):
        data["products"][0]["demand"] = BIG_DEMAND
    assert plan_of(early).builds["started"].tolist() == ["2025Q1"]
    assert plan_of(late).builds["started"].tolist() == ["2025Q3"]


def offer(premium):
    return [{"node": "N", "max_wafers_per_month": 1000, "price_premium": premium}]


def test_a_cheaper_foundry_offer_is_used_before_building():
    # Six quarters of 3,000 foundry wafers at $10k cost $180 M; a $4 B module keeps $3.2 B of
    # book value after five quarters in service, so it would cost $0.8 B: buy, do not build.
    costly = {"building": 1e9, "tools": 3e9}
    data = tiny(
        sites=one_site(capex_per_module_usd=costly),
        foundry_offers=offer(0.0),
        funding={"investors": [{"id": "i", "kind": "equity", "amount_usd": 5e9, "available_from": "2025Q1"}]},
    )
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 1_500_000}}
    plan = plan_of(data)
    assert plan.builds.empty
    assert plan.production["source"].unique().tolist() == ["foundry-N"]
    assert plan.supply["unmet"].iloc[1:].sum() == pytest.approx(0, abs=1e-3)


def test_foundry_bridges_the_quarters_until_a_cheap_fab_is_online():
    data = tiny(sites=one_site(lead_time_q=3), foundry_offers=offer(0.5))
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 1_500_000}}
    plan = plan_of(data)
    assert plan.builds[["started", "online"]].values.tolist() == [["2025Q1", "2025Q4"]]
    by_source = plan.production.pivot_table(
        index="quarter", columns="source", values="wafer_starts", aggfunc="sum", sort=False
    )
    assert (by_source.loc[["2025Q1", "2025Q2", "2025Q3"], "foundry-N"] > 0).all()
    assert by_source.loc["2025Q4":, "foundry-N"].sum() == pytest.approx(0, abs=1e-6)


def test_an_expensive_foundry_offer_loses_to_building():
    data = tiny(sites=one_site(), foundry_offers=offer(20.0))  # $210k a wafer
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 1_500_000}}
    plan = plan_of(data)
    assert plan.builds[["started", "online"]].values.tolist() == [["2025Q1", "2025Q2"]]
    foundry = plan.production[plan.production["source"] == "foundry-N"].set_index("quarter")
    # Foundry wafers only fill the one quarter before the fab's first wafer.
    assert foundry.loc["2025Q2":, "wafer_starts"].sum() == pytest.approx(0, abs=1e-6)


def test_fractional_cycle_time_splits_output_over_two_quarters():
    # 1.5 quarters: half of a quarter's starts finish one quarter later, half two quarters later.
    data = tiny(sites=[], foundry_offers=offer(0.0))
    data["nodes"][0]["days_per_mask_layer"] = 1.2175 * 1.5
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 1e9}}
    data["products"][0]["unmet_penalty_usd"] = 1e6
    plan = plan_of(data)
    delivered = plan.supply["delivered"].to_numpy()
    starts = plan.production.groupby("quarter", sort=False)["wafer_starts"].sum().to_numpy()
    good = delivered[2] / starts[0]  # steady state: quarter 2 gets half of q0's and half of q1's
    assert delivered[0] == pytest.approx(0, abs=1e-6)
    assert delivered[1] == pytest.approx(0.5 * starts[0] * good)
    assert delivered[2] == pytest.approx(0.5 * starts[0] * good + 0.5 * starts[1] * good)


def total_cost(data):
    return plan_of(data).result.objective


@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(
    budget=st.floats(50e6, 400e6),
    extra=st.floats(0, 300e6),
    demand=st.integers(0, 6_000_000),
    more=st.integers(0, 3_000_000),
)
def test_more_budget_never_raises_cost_and_more_demand_never_lowers_it(budget, extra, demand, more):
    def instance(money, wanted):
        data = tiny(
            funding={"investors": [{"id": "i", "kind": "equity", "amount_usd": money, "available_from": "2025Q1"}]}
        )
        data["products"][0]["demand"] = {"per_quarter": {"2025Q2": wanted}}
        return data

    base = total_cost(instance(budget, demand))
    assert total_cost(instance(budget + extra, demand)) <= base + 1e-6
    assert total_cost(instance(budget, demand + more)) >= base - 1e-6


def test_a_bought_product_is_bought_up_to_what_its_vendor_sells():
    # A product nobody can make: bought at its market price, up to 100 k a quarter; the
    # penalty of an unmet one is its market price, so buying is never worse than going without.
    data = tiny(sites=[])
    data["products"].append(
        {
            "id": "gpu",
            "kind": "bought",
            "market_price_usd": 25000,
            "supply_per_quarter": 100_000,
            "demand": {"per_quarter": {"2025Q1": 60_000, "2025Q3": 150_000}},
        }
    )
    plan = plan_of(data)
    gpu = plan.supply[plan.supply["product"] == "gpu"].set_index("quarter")
    assert gpu["bought"].tolist() == pytest.approx([60_000, 100_000, 100_000, 100_000, 100_000, 100_000])
    assert gpu["made"].sum() == 0
    assert any(
        m.startswith("gpu in 2025Q2–2026Q2:") and "sells the buyer at most 100,000 a quarter" in m
        for m in plan.messages
    )


def test_a_bought_product_is_made_on_no_node_and_packaged_on_no_line():
    data = tiny()
    data["products"].append(
        {"id": "gpu", "kind": "bought", "market_price_usd": 25000, "demand": {"per_quarter": {"2025Q1": 1}}}
    )
    s = scenario(data)
    assert made_on(s, s.products[0]).id == s.products[0].node
    with pytest.raises(ValueError, match="gpu: no node"):
        made_on(s, s.products[1])
    with pytest.raises(ValueError, match="gpu: no packaging line"):
        packaged_on(s, s.products[1])


def test_no_wafer_starts_before_the_tape_out():
    # Tape-out in 2025Q3, one-quarter cycle and no packaging time: nothing is delivered before
    # 2025Q4 although a foundry could make it from 2025Q1.
    data = tiny(sites=[], foundry_offers=offer(0.0))
    data["finance"]["discount_rate"] = 0.1  # so that a quarter earlier is better
    data["products"][0]["design"] = {"cost_usd": 1e6, "start": "2025Q1", "tape_out": "2025Q3"}
    data["products"][0]["demand"] = BIG_DEMAND
    plan = plan_of(data)
    starts = plan.production.groupby("quarter")["wafer_starts"].sum()
    assert starts.loc[:"2025Q2"].sum() == 0 and starts.loc["2025Q3"] > 0
    delivered = plan.supply.set_index("quarter")["delivered"]
    assert delivered.loc[:"2025Q3"].sum() == 0 and delivered.loc["2025Q4"] > 0
    assert "its tape-out in 2025Q3" in plan.messages[0]


def test_packaging_time_delays_delivery_after_the_fab():
    # 91.3 days of fab and 45.7 days of packaging: 1.5 quarters from wafer start to delivery.
    data = tiny(sites=[], foundry_offers=offer(0.0))
    data["packaging"][0]["cycle_days"] = 365.25 / 8
    data["products"][0]["demand"] = BIG_DEMAND
    plan = plan_of(data)
    delivered = plan.supply["delivered"].to_numpy()
    assert delivered[0] == 0
    assert delivered[1] == pytest.approx(delivered[2] / 2, rel=1e-6)  # half of the first quarter's wafers


def test_hbm_supply_limits_the_packages():
    data = tiny(
        sites=[], foundry_offers=offer(0.0), hbm=[{"id": "hbm", "price_usd": 10, "stacks_per_quarter": 800_000}]
    )
    data["products"][0] |= {"hbm": "hbm", "hbm_stacks": 8}
    data["products"][0]["demand"] = BIG_DEMAND
    plan = plan_of(data)
    assert plan.supply["packages_started"].max() == pytest.approx(100_000)
    assert plan.hbm["stacks_used"].max() == pytest.approx(800_000)
    assert any("HBM 'hbm' is sold out (800,000 stacks a quarter)" in m for m in plan.messages)


def test_the_order_of_foundry_offers_changes_no_figure():
    from fabnet.pipeline import make_decision as decide

    def figures(offers):
        data = tiny(sites=[site("alpha", max_modules=1)], foundry_offers=offers)
        data["products"][0]["demand"] = BIG_DEMAND
        return decide(scenario(data), EXACT).figures()

    cheap = {"id": "cheap", "node": "N", "max_wafers_per_month": 400, "price_premium": 0.0}
    dear = {"id": "dear", "node": "N", "max_wafers_per_month": 400, "price_premium": 1.0}
    first, second = figures([cheap, dear]), figures([dear, cheap])
    assert first.keys() == second.keys()
    for key, value in first.items():
        if isinstance(value, float):
            assert value == pytest.approx(second[key], rel=1e-9, abs=1e-6), key
        else:
            assert value == second[key], key


def test_mandatory_site_the_money_cannot_pay_for_is_explained():
    data = tiny(sites=one_site(mandatory=True, capex_per_module_usd={"building": 2e9, "tools": 10e9}))
    with pytest.raises(PlanInfeasible) as info:
        plan_of(data)
    message = str(info.value)
    assert "site 'alpha' needs $12.00 B by 2025Q1" in message
    assert "the investors commit $1.00 B by then" in message
    assert info.value.exit_code == 3


def test_mandatory_sites_each_affordable_but_not_together_are_explained():
    # Each module costs $0.2 B + $0.4 B, all spent in its one-quarter lead time: $0.6 B a site,
    # within the $1 B committed; both mandatory sites together need 2 × $0.6 B = $1.2 B.
    capex = {"building": 0.2e9, "tools": 0.4e9}
    sites = [site(name, max_modules=1, mandatory=True, capex_per_module_usd=capex) for name in ("alpha", "beta")]
    with pytest.raises(PlanInfeasible) as info:
        plan_of(tiny(sites=sites))
    assert str(info.value) == (
        "budget (cash): the mandatory sites 'alpha', 'beta' together need $1.20 B by 2025Q1 at their "
        "earliest affordable starts, but the investors commit $1.00 B by then"
    )


def test_mandatory_site_that_cannot_come_online_in_time_is_explained():
    data = tiny(sites=one_site(mandatory=True, lead_time_q=5, earliest_start="2025Q3"))
    with pytest.raises(PlanInfeasible, match=r"'alpha' is mandatory.*after the horizon ends in 2026Q2"):
        plan_of(data)


def test_shortfall_before_any_supply_names_the_earliest_module_and_the_missing_foundry():
    data = tiny(sites=one_site(earliest_start="2025Q3"))
    data["products"][0]["demand"] = BIG_DEMAND
    messages = plan_of(data).messages
    assert messages[0].startswith("chip in 2025Q1–2025Q4:")
    assert (
        "no N output can arrive yet: the earliest N module (alpha) is online in 2025Q4, "
        "no N foundry capacity is offered, and wafers take 91 days"
    ) in messages[0]


def test_shortfall_from_full_capacity_and_from_choice():
    full = tiny(sites=one_site())
    full["products"][0]["demand"] = {"per_quarter": {"2025Q1": 9_000_000}}
    assert any("all N wafer capacity" in m for m in plan_of(full).messages)
    cheap = tiny(sites=one_site())
    cheap["products"][0]["unmet_penalty_usd"] = 0.01
    assert any("by choice" in m for m in plan_of(cheap).messages)


def test_full_packaging_is_named():
    data = tiny(sites=one_site())
    data["packaging"][0]["capacity_wafers_per_month"] = {"2025Q1": 1000}  # 300 k packages a quarter
    assert any("packaging line 'pkg' is full (1,000 interposer wafers a month)" in m for m in plan_of(data).messages)


def test_lagged_moves_each_site_by_its_own_lead_time():
    m = linopy.Model()
    x = m.add_variables(lower=0, coords=[["a", "b"], range(4)], dims=["site", "quarter"], name="x")
    lag = xr.DataArray([1, 2], dims="site", coords={"site": ["a", "b"]})
    shifted = lagged(1 * x, lag)
    labels = shifted.data["vars"].sel(_term=0).transpose("site", "quarter").values
    original = x.labels.values
    assert labels[0].tolist() == [-1, *original[0, :3]]
    assert labels[1].tolist() == [-1, -1, *original[1, :2]]


def test_a_plan_stopped_early_is_not_called_optimal():
    stopped = SolveResult(TerminationCondition.time_limit, True, 105.0, 100.0, 0.0476, 60.0, SolveOptions())
    assert not stopped.optimal
    assert stopped.describe().startswith("NOT proven optimal: stopped by time limit, gap 4.76%")
    done = SolveResult(TerminationCondition.optimal, True, 100.0, 99.5, 0.005, 1.0, SolveOptions())
    assert done.optimal
    assert done.describe().startswith("optimal to within 1.00% of the best bound")


def test_the_polishing_pass_is_timed_within_the_solve_and_only_when_it_runs():
    from fabnet.plan import build_model, solve

    data = tiny(sites=one_site())
    data["products"][0]["demand"] = BIG_DEMAND
    polished = solve(build_model(scenario(data)), SolveOptions(mip_gap=0.0))
    assert 0.0 < polished.polish_s < polished.seconds
    plain = solve(build_model(scenario(data)), SolveOptions(mip_gap=0.0, polish=False))
    assert plain.polish_s == 0.0
    assert plain.objective == pytest.approx(polished.objective)


def test_tigris_delivers_its_own_design_no_earlier_than_tape_out_fab_and_packaging():
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    s = load_scenario(TIGRIS)
    plan = make_plan(s)
    assert plan.result.has_solution and plan.result.gap <= 0.01 + 1e-9
    design = s.products[1]
    node, line = s.node(design.node), s.packaging_line(design.packaging)
    days = node.cycle_time_days + line.cycle_days
    first = plan.supply[(plan.supply["product"] == design.id) & (plan.supply["delivered"] > 0)]["quarter"].iloc[0]
    # the tape-out quarter's wafers finish a whole number of quarters later at the earliest
    earliest = design.design.tape_out + int(days // (365.25 / 4))
    assert first >= str(earliest)
    assert np.all(plan.budget["cash_usd"] >= -1e-3)


def test_a_grant_cap_limits_what_the_grant_pays():
    # Half of an $80 M module, capped at $10 M in all: the grant pays $10 M, not $40 M.
    grants = {"share_of_capex": 0.5, "cap_usd": 10e6}
    data = tiny(sites=one_site(grants=grants))
    data["products"][0]["demand"] = BIG_DEMAND
    uncapped = tiny(sites=one_site(grants={"share_of_capex": 0.5}))
    uncapped["products"][0]["demand"] = BIG_DEMAND
    assert plan_of(data).budget["grants_usd"].sum() == pytest.approx(-10e6)
    assert plan_of(uncapped).budget["grants_usd"].sum() == pytest.approx(-40e6)


@pytest.mark.parametrize("cap", [None, 25e6])
def test_a_grant_paid_in_service_enters_the_budget_with_the_first_wafer(cap):
    """Two-quarter build from 2025Q1: as spent, the 50 % grant pays half of each quarter's $40 M;
    in service, half of the $80 M (or its $25 M cap) in 2025Q3, the first wafer's quarter — and
    finance pays it in the same quarter for the same plan (one rule: Asset.grant_due)."""
    from fabnet.finance import compute_financials
    from fabnet.pipeline import plan_tables

    grants = {"share_of_capex": 0.5, "paid": "in_service"} | ({} if cap is None else {"cap_usd": cap})
    data = tiny(sites=one_site(grants=grants, lead_time_q=2))
    data["products"][0]["demand"] = BIG_DEMAND
    plan = plan_of(data)
    assert plan.builds[["started", "online"]].values.tolist() == [["2025Q1", "2025Q3"]]
    paid = -plan.budget.set_index("quarter")["grants_usd"]
    expected = 40e6 if cap is None else cap
    assert paid.tolist() == pytest.approx([0, 0, expected, 0, 0, 0])
    money = compute_financials(scenario(data), plan_tables(plan))
    assert money.fabco.quarterly["grants_usd"].tolist() == pytest.approx(paid.tolist())


def test_a_capped_grant_does_not_pay_for_a_fab_nobody_needs():
    """A 90 % grant capped at $1 B, no demand at all: the module would collect $72 M of grant
    and be charged only the annuities of its quarters inside the horizon. The objective credits
    the grant as it charges the capex the grant paid for (at r = 0, life share inside the
    horizon: a module started in the last quarter but one runs one quarter, so 1/20 of its tools
    and 1/80 of its building): nothing is built. Credited whole, the module was built."""
    data = tiny(sites=one_site(grants={"share_of_capex": 0.9, "cap_usd": 1e9}))
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 0}}
    assert plan_of(data).builds.empty


def test_short_packaging_is_expanded_after_its_lead_time():
    data = tiny(sites=one_site())
    data["products"][0]["demand"] = BIG_DEMAND
    data["packaging"][0]["capacity_wafers_per_month"] = {"2025Q1": 1000}
    data["packaging"][0]["expansion"] = {
        "module_wafers_per_month": 10000,
        "capex_usd": 1e6,
        "lead_time_q": 2,
        "max_modules": 3,
    }
    plan = plan_of(data)
    assert plan.packaging_builds[["started", "online"]].values.tolist()[0] == ["2025Q1", "2025Q3"]
    capacity = plan.packaging.set_index("quarter")["capacity_wafers"]
    assert capacity["2025Q2"] == pytest.approx(3000)
    assert capacity["2025Q3"] == pytest.approx(3000 + 30000 * plan.packaging_builds["modules"].iloc[0])


def test_default_penalty_is_the_market_price():
    from fabnet.network import prepare
    from fabnet.network.inputs import TIE_BREAK

    data = tiny()
    del data["products"][0]["unmet_penalty_usd"]
    s = scenario(data)
    assert prepare(s).penalty_musd[0] * 1e6 == pytest.approx(np.full(6, 1000 * (1 + TIE_BREAK)))


def test_reinvested_operating_cash_pays_for_a_second_module():
    # $90 M from the investors pays for one $80 M module and its opex until its first wafers
    # are sold a quarter later; the second module only from the first one's wafer revenue
    # ($10 k × 3,000 wafers a quarter), when the fab company may reinvest it.
    def instance(reinvest):
        data = tiny(
            sites=[site("alpha", max_modules=2, opex_per_wafer_usd=100)],
            funding={
                "reinvest_operating_cash": reinvest,
                "investors": [{"id": "i", "kind": "equity", "amount_usd": 90e6, "available_from": "2025Q1"}],
            },
        )
        data["horizon"]["quarters"] = 8
        data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 8_000_000}}
        return plan_of(data)

    assert instance(False).builds["modules"].sum() == 1
    funded = instance(True)
    assert funded.builds["modules"].sum() == 2
    assert funded.builds["started"].tolist() == ["2025Q1", "2026Q1"]  # once $80 M of wafers are sold
    assert (funded.budget["cash_usd"] >= -1e-3).all()
