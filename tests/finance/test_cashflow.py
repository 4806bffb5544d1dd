"""The cash-flow engine on hand-made plans whose numbers are worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fabnet.finance import PlanTables, compute_financials
from fabnet.finance.metrics import quarterly_rate
from tests.plan.conftest import scenario, site, tiny

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def tables(builds=(), delivered=None, grants=None, foundry=None):
    """A plan of one product, given its builds, deliveries and per-quarter money (USD)."""
    zeros = np.zeros(len(QUARTERS))
    return PlanTables(
        builds=pd.DataFrame(builds, columns=["site", "started", "modules", "online"]),
        packaging_builds=pd.DataFrame(columns=["line", "started", "modules", "online"]),
        production=pd.DataFrame(columns=["source", "kind", "node", "product", "quarter", "wafer_starts"]),
        supply=pd.DataFrame({"product": "chip", "quarter": QUARTERS,
                             "delivered": zeros if delivered is None else delivered}),
        cash=pd.DataFrame({"quarter": QUARTERS,
                           "grants_usd": zeros if grants is None else -np.asarray(grants, float),
                           "foundry_usd": zeros if foundry is None else foundry,
                           "packaging_usd": zeros}),
    )


def one_module_scenario(**changes):
    data = tiny(sites=[site("alpha", max_modules=1)])
    data["finance"]["depreciation_years"] = {"building": 20, "tools": 5}
    for key, value in changes.items():
        data[key] = value
    return scenario(data)


ALPHA = [("alpha", "2025Q1", 1, "2025Q2")]


def test_one_module_financed_by_equity():
    # $20 M building + $60 M tools in 2025Q1, online 2025Q2. Depreciation per quarter:
    # 20/80 + 60/20 = $3.25 M for five quarters; the $63.75 M left on the books goes back to the
    # investor at the end of the horizon.
    f = compute_financials(one_module_scenario(), tables(ALPHA))
    q = f.quarterly
    assert q["equity_calls_usd"].tolist() == pytest.approx([80e6, 0, 0, 0, 0, 0])
    assert q["depreciation_usd"].tolist() == pytest.approx([0] + [3.25e6] * 5)
    assert f.investor_flows["i"].tolist() == pytest.approx([-80e6, 0, 0, 0, 0, 63.75e6])
    assert f.metrics["terminal_book_value_usd"] == pytest.approx(63.75e6)


def test_grants_and_tax_credits_reduce_what_investors_are_called_for():
    plain = compute_financials(one_module_scenario(), tables(ALPHA))
    granted = compute_financials(one_module_scenario(), tables(ALPHA, grants=[40e6, 0, 0, 0, 0, 0]))
    assert granted.quarterly["equity_calls_usd"].sum() == pytest.approx(40e6)
    assert plain.quarterly["equity_calls_usd"].sum() == pytest.approx(80e6)

    credit = {"discount_rate": 0.0, "tax_regimes": [
        {"id": "T", "rate": 0.2, "investment_tax_credit": 0.35, "itc_construction_deadline": "2025Q2"}]}
    with_itc = compute_financials(one_module_scenario(finance=credit), tables(ALPHA))
    assert with_itc.quarterly["itc_usd"].tolist() == pytest.approx([0, 21e6, 0, 0, 0, 0])  # 35 % of tools
    late = compute_financials(one_module_scenario(finance=credit),
                              tables([("alpha", "2025Q3", 1, "2025Q4")]))
    assert late.quarterly["itc_usd"].sum() == 0  # construction started after the deadline


def test_losses_are_carried_forward_before_tax():
    # 2025Q1: no sales, $100 foundry cost: a loss of 100. 2025Q2: 300 of sales less 100:
    # taxable 200 − 100 carried = 100, taxed at 20 % = 20.
    s = scenario(tiny(sites=[]))
    f = compute_financials(s, tables(delivered=[0, 0.3, 0, 0, 0, 0],
                                     foundry=[100, 100, 0, 0, 0, 0]))
    assert f.quarterly["tax_usd"].tolist()[:3] == pytest.approx([0, 20, 0])


def test_a_plan_beyond_the_commitments_shows_a_funding_gap():
    money = {"investors": [{"id": "i", "kind": "equity", "amount_usd": 50e6, "available_from": "2025Q1"}]}
    f = compute_financials(one_module_scenario(funding=money), tables(ALPHA))
    assert f.quarterly["funding_gap_usd"].tolist()[0] == pytest.approx(30e6)
    assert f.messages == ["funding gap in 2025Q1: $0.03 B more than the investors have committed "
                          "by then is needed"]


def test_debt_is_drawn_serviced_and_repaid():
    # The only investor lends $80 M at 8 % a year, four quarters, no grace. Sales of $1 B a
    # quarter from 2025Q2 service it: principal 20 a quarter, interest on the balance.
    lender = {"investors": [{"id": "bank", "kind": "debt", "amount_usd": 1e9, "available_from": "2025Q1",
                             "interest_rate": 0.08, "tenor_q": 4}]}
    f = compute_financials(one_module_scenario(funding=lender),
                           tables(ALPHA, delivered=[0, 1e6, 1e6, 1e6, 1e6, 1e6]))
    r = quarterly_rate(0.08)
    expected = [-80e6] + [20e6 + balance * r for balance in (80e6, 60e6, 40e6, 20e6)] + [0.0]
    assert f.investor_flows["bank"].tolist() == pytest.approx(expected)
    assert f.investors.set_index("investor").at["bank", "irr"] == pytest.approx(0.08)


def test_investor_flows_add_up_to_the_equity_cash_flow_every_quarter():
    from fabnet.pipeline import plan_finance, plan_network
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    for s in (one_module_scenario(), load_scenario(TIGRIS)):
        plan_tables = tables(ALPHA) if s.name == "tiny" else None
        f = (compute_financials(s, plan_tables) if plan_tables is not None
             else plan_finance(s, plan_network(s)))
        equity = [inv.id for inv in s.funding.investors if inv.kind == "equity"]
        np.testing.assert_allclose(f.investor_flows[equity].sum(axis=1),
                                   f.quarterly["equity_fcf_usd"], atol=1e-3)


def test_finance_capex_matches_the_planners_budget():
    from fabnet.pipeline import plan_finance, plan_network
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    s = load_scenario(TIGRIS)
    plan = plan_network(s)
    f = plan_finance(s, plan)
    np.testing.assert_allclose(f.quarterly["capex_building_usd"] + f.quarterly["capex_tools_usd"],
                               plan.cash["capex_usd"], rtol=1e-9, atol=1.0)
    np.testing.assert_allclose(f.quarterly["packaging_capex_usd"], plan.cash["packaging_capex_usd"],
                               rtol=1e-9, atol=1.0)
    assert f.metrics["funding_gap_usd"] == 0


def test_a_tax_credit_received_before_later_spending_reduces_the_calls():
    # Module 1 (2025Q1) earns a $21 M credit when online in 2025Q2, the quarter module 2 is
    # paid for ($80 M): investors are called for 80 + 59 instead of 80 + 80.
    credit = {"discount_rate": 0.0, "tax_regimes": [
        {"id": "T", "rate": 0.2, "investment_tax_credit": 0.35, "itc_construction_deadline": "2026Q2"}]}
    data = tiny(sites=[site("alpha", max_modules=2)])
    data["finance"] = credit
    two = [("alpha", "2025Q1", 1, "2025Q2"), ("alpha", "2025Q2", 1, "2025Q3")]
    calls = compute_financials(scenario(data), tables(two)).quarterly["equity_calls_usd"]
    assert calls.tolist()[:2] == pytest.approx([80e6, 59e6])
