"""The buyer's money, worked by hand, and what the network adds against the foundry route."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fabnet.finance import compute_financials
from fabnet.finance.buyer import BuyerQuantities, buyer_costs, foundry_payments
from fabnet.pipeline import make_decision as decide
from fabnet.pipeline import make_plan as plan_network
from fabnet.pipeline import plan_finance, without_fabs
from fabnet.plan import SolveOptions
from tests.finance.test_fabco import ALPHA, QUARTERS, tables
from tests.plan.conftest import scenario, site, tiny

EXACT = SolveOptions(mip_gap=0.0)


def test_a_take_or_pay_reservation_is_paid_when_unused():
    # 1,000 wafers reserved at $10, 400 used, half the reservation take-or-pay: the foundry is
    # paid 10 × (400 + 0.5 × 600) = $7,000; with nothing used, 10 × 0.5 × 1,000 = $5,000.
    price = np.array([[10.0, 10.0]])
    paid = foundry_payments(price, np.array([[1000.0, 1000.0]]), np.array([[400.0, 0.0]]), np.array([0.5]))
    assert paid.tolist() == [[7000.0, 5000.0]]


def test_the_buyers_costs_by_kind_worked_by_hand():
    # One design: $8 M of design work from 2025Q1 to tape-out in 2025Q3 ($4 M a quarter), a $2 M
    # mask set at tape-out; 8 HBM stacks at $100; packaging $5 a package (an interposer wafer of
    # $400 for 100 packages, plus $1 of test). 1,000 packages in 2025Q4 cost 1,000 × (800 + 5).
    data = tiny(hbm=[{"id": "hbm", "price_usd": 100}])
    data["products"][0] |= {
        "hbm": "hbm",
        "hbm_stacks": 8,
        "assembly_test_cost_usd": 1,
        "design": {"cost_usd": 8e6, "mask_set_usd": 2e6, "start": "2025Q1", "tape_out": "2025Q3"},
    }
    data["packaging"][0]["wafer_cost_usd"] = 400
    s = scenario(data)
    packages = np.array([[0, 0, 0, 1000.0, 0, 0]])
    q = BuyerQuantities(
        packages=packages, bought=np.zeros((1, 6)), delivered=packages, reserved=np.zeros((0, 6)), used=np.zeros((0, 6))
    )
    costs = buyer_costs(s, q, np.zeros(6), pd.DataFrame(columns=["line", "started", "modules", "online"]))
    assert costs["design_usd"][0].tolist() == pytest.approx([4e6, 4e6, 0, 0, 0, 0])
    assert costs["masks_usd"][0].tolist() == pytest.approx([0, 0, 2e6, 0, 0, 0])
    assert costs["hbm_usd"][0, 3] == pytest.approx(800_000)
    assert costs["packaging_usd"][0, 3] == pytest.approx(5_000)
    assert costs["market_value_usd"][0, 3] == pytest.approx(1000 * 1000)  # the tiny chip's market price


def test_the_buyer_pays_the_fab_company_what_it_earns_from_wafers():
    f = compute_financials(
        scenario(
            tiny(
                sites=[site("alpha", max_modules=1)],
                offtake={"price": "fixed", "fixed_price_usd": {"N": 3.0}, "take_or_pay_share": 0.5},
            )
        ),
        tables(ALPHA, wafers_out=[0, 0, 100, 100, 0, 0], capacity_out=[0, 0, 400, 400, 0, 0]),
    )
    paid = f.buyer.quarterly["fabco_wafers_usd"].tolist()
    assert paid == pytest.approx([0, 0, 600, 600, 0, 0])  # 3 × max(100, 0.5 × 400)
    assert paid == pytest.approx(f.fabco.quarterly["revenue_usd"].tolist())
    assert f.fabco.quarterly["quarter"].tolist() == QUARTERS


def test_without_own_fabs_the_fab_company_is_worth_nothing_and_the_buyer_is_the_foundry_route():
    data = tiny(sites=[], foundry_offers=[{"node": "N", "max_wafers_per_month": 1000}])
    data["products"][0]["demand"] = {"per_quarter": {"2025Q1": 5_000_000}}
    decision = decide(scenario(data), EXACT)
    assert decision.money.fabco.metrics.fabco_npv_usd == 0
    assert decision.money.fabco.quarterly["equity_calls_usd"].sum() == 0
    assert decision.money.buyer.metrics == decision.foundry_route.buyer.metrics
    figures = decision.figures()
    assert figures["network_adds_accelerators"] == 0 and figures["network_adds_buyer_gain_usd"] == 0


def test_the_counterfactual_removes_every_site_and_nothing_else():
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    s = load_scenario(TIGRIS)
    alone = without_fabs(s)
    assert alone.sites == () and alone.products == s.products and alone.foundry_offers == s.foundry_offers
    plan = plan_network(alone)
    assert plan.builds.empty and plan.capacity.empty
    money = plan_finance(alone, plan)
    assert money.fabco.metrics.fabco_npv_usd == 0
