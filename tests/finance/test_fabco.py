"""The fab company's money on hand-made plans whose numbers are worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fabnet.finance import PlanTables, compute_financials
from fabnet.finance.metrics import quarterly_rate
from tests.plan.conftest import scenario, site, tiny

QUARTERS = ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]
ZEROS = np.zeros(len(QUARTERS))


def tables(
    builds=(),
    wafers_out=None,
    starts=None,
    capacity_out=None,
    online=None,
    reserved=None,
    used=None,
    packages=None,
    delivered=None,
):
    """A plan of one site 'alpha' and one product 'chip', given per-quarter quantities."""

    def given(values):
        return ZEROS if values is None else np.asarray(values, dtype=float)

    capacity = pd.DataFrame(
        {
            "site": "alpha",
            "quarter": QUARTERS,
            "modules_online": given(online),
            "modules_staffed": given(online),
            "real_wafer_starts": given(starts),
            "wafers_out": given(wafers_out),
            "spare_out": ZEROS,
            "capacity_out": given(capacity_out),
        }
    )
    return PlanTables(
        builds=pd.DataFrame(builds, columns=["site", "started", "modules", "online"]).assign(
            kind="module", ramp_quarters=1
        ),
        packaging_builds=pd.DataFrame(columns=["line", "started", "modules", "online"]),
        capacity=capacity,
        supply=pd.DataFrame(
            {
                "product": "chip",
                "quarter": QUARTERS,
                "packages_started": given(packages),
                "bought": ZEROS,
                "delivered": given(delivered),
            }
        ),
        foundry=pd.DataFrame(
            {"offer": "foundry-N", "quarter": QUARTERS, "reserved": given(reserved), "used": given(used)}
        ),
        production=pd.DataFrame(columns=["source", "kind", "node", "product", "quarter", "wafer_starts"]),
    )


def one_module_scenario(**changes):
    """Site alpha: one module of $20 M building and $60 M tools, one quarter to build; wafers
    sold at $1 each (a fixed offtake price), so wafer counts below read as dollars."""
    data = tiny(sites=[site("alpha", max_modules=1)], offtake={"price": "fixed", "fixed_price_usd": {"N": 1.0}})
    data["finance"]["depreciation_years"] = {"building": 20, "tools": 5}
    for key, value in changes.items():
        data[key] = value
    return scenario(data)


ALPHA = [("alpha", "2025Q1", 1, "2025Q2")]


def flows(money, investor, column="flow_usd"):
    f = money.fabco.investor_flows
    return f[f["investor"] == investor][column].tolist()


def test_one_module_financed_by_equity():
    # $20 M building + $60 M tools in 2025Q1, online 2025Q2. Depreciation per quarter:
    # 20/80 + 60/20 = $3.25 M for five quarters; the $63.75 M left on the books goes back to the
    # investor at the end of the horizon.
    f = compute_financials(one_module_scenario(), tables(ALPHA))
    q = f.fabco.quarterly
    assert q["equity_calls_usd"].tolist() == pytest.approx([80e6, 0, 0, 0, 0, 0])
    assert q["depreciation_usd"].tolist() == pytest.approx([0] + [3.25e6] * 5)
    assert flows(f, "i") == pytest.approx([-80e6, 0, 0, 0, 0, 63.75e6])
    assert f.fabco.metrics.terminal_book_value_usd == pytest.approx(63.75e6)
    assert f.fabco.metrics.peak_funding_need_usd == pytest.approx(80e6)
    # every figure of both parties by its name, for display and the store
    assert f.figures["terminal_book_value_usd"] == f.fabco.metrics.terminal_book_value_usd
    assert f.figures["buyer_cost_usd"] == f.buyer.metrics.buyer_cost_usd


def test_grants_and_tax_credits_reduce_what_investors_are_called_for():
    plain = compute_financials(one_module_scenario(), tables(ALPHA))
    granted = compute_financials(
        one_module_scenario(sites=[site("alpha", max_modules=1, grants={"share_of_capex": 0.5})]), tables(ALPHA)
    )
    assert granted.fabco.quarterly["grants_usd"].sum() == pytest.approx(40e6)
    assert granted.fabco.quarterly["equity_calls_usd"].sum() == pytest.approx(40e6)
    assert plain.fabco.quarterly["equity_calls_usd"].sum() == pytest.approx(80e6)
    # the book value left to the investors is net of the grant's share, and so is the base
    # depreciated for tax (IAS 20 net; Japan's compressed entry): 3.25 / 2 a quarter
    assert granted.fabco.metrics.terminal_book_value_usd == pytest.approx(63.75e6 / 2)
    assert granted.fabco.quarterly["depreciation_usd"].tolist() == pytest.approx([0] + [1.625e6] * 5)

    credit = {
        "discount_rate": 0.0,
        "tax_regimes": [{"id": "T", "rate": 0.2, "investment_tax_credit": 0.35, "itc_construction_deadline": "2025Q2"}],
    }
    with_itc = compute_financials(one_module_scenario(finance=credit), tables(ALPHA))
    assert with_itc.fabco.quarterly["itc_usd"].tolist() == pytest.approx([0, 21e6, 0, 0, 0, 0])  # 35 % of tools
    late = compute_financials(one_module_scenario(finance=credit), tables([("alpha", "2025Q3", 1, "2025Q4")]))
    assert late.fabco.quarterly["itc_usd"].sum() == 0  # construction started after the deadline


def test_a_grant_paid_in_service_waits_for_the_module_and_the_investors_bridge_it():
    """CHIPS awards are paid against milestones (ai-fab-facts §4.4). Paid in service, half of the
    $80 M module spent in 2025Q1 arrives with its first wafer in 2025Q2, not with the spending;
    its depreciable base and book value are net of it as before, and the investors are called
    for the whole $80 M first (the grant then pays half back as a distribution or cash)."""
    when = {"share_of_capex": 0.5, "paid": "in_service"}
    late = compute_financials(one_module_scenario(sites=[site("alpha", max_modules=1, grants=when)]), tables(ALPHA))
    assert late.fabco.quarterly["grants_usd"].tolist() == pytest.approx([0, 40e6, 0, 0, 0, 0])
    assert late.fabco.quarterly["depreciation_usd"].tolist() == pytest.approx([0] + [1.625e6] * 5)
    assert late.fabco.metrics.terminal_book_value_usd == pytest.approx(63.75e6 / 2)
    assert late.fabco.quarterly["equity_calls_usd"].iloc[0] == pytest.approx(80e6)
    spent = compute_financials(
        one_module_scenario(sites=[site("alpha", max_modules=1, grants={"share_of_capex": 0.5})]), tables(ALPHA)
    )
    assert late.fabco.metrics.peak_funding_need_usd - spent.fabco.metrics.peak_funding_need_usd == pytest.approx(40e6)


def test_a_grant_cap_is_used_up_as_capex_is_spent():
    capped = site("alpha", max_modules=2, grants={"share_of_capex": 0.5, "cap_usd": 50e6})
    two = [("alpha", "2025Q1", 1, "2025Q2"), ("alpha", "2025Q2", 1, "2025Q3")]
    f = compute_financials(one_module_scenario(sites=[capped]), tables(two))
    assert f.fabco.quarterly["grants_usd"].tolist()[:3] == pytest.approx([40e6, 10e6, 0])
    # the $50 M cap paid 50/160 of the capex: that share comes off the depreciable base. Module
    # one depreciates 3.25 a quarter from 2025Q2, module two from 2025Q3, each × (1 − 5/16)
    net = 1 - 50 / 160
    expected = [0, 3.25e6 * net] + [6.5e6 * net] * 4
    assert f.fabco.quarterly["depreciation_usd"].tolist() == pytest.approx(expected)


def test_the_project_irr_before_grants_is_that_of_the_same_plan_with_no_grant():
    """The project's own economics: the IRR of the plan had no grant paid for its capex, which
    is the IRR of the same plan in a scenario without the grant; the grant raises the IRR."""
    sold = tables(ALPHA, starts=[0, 30e6, 30e6, 30e6, 30e6, 30e6], wafers_out=[0, 30e6, 30e6, 30e6, 30e6, 30e6])
    half = site("alpha", max_modules=1, grants={"share_of_capex": 0.5})
    granted = compute_financials(one_module_scenario(sites=[half]), sold).fabco.metrics
    plain = compute_financials(one_module_scenario(), sold).fabco.metrics
    assert granted.fabco_irr_before_grants == pytest.approx(plain.fabco_irr)
    assert plain.fabco_irr_before_grants == pytest.approx(plain.fabco_irr)
    assert granted.fabco_irr > plain.fabco_irr


def test_losses_are_carried_forward_before_tax():
    # A module online from 2025Q2 with $4 M fixed opex and no depreciation to speak of (tools
    # are written off over 5 years, so take the taxable income from the table): 2025Q2 sells
    # nothing, a loss; 2025Q3 sells $30 M of wafers.
    s = one_module_scenario(sites=[site("alpha", max_modules=1, fixed_opex_per_module_q_usd=4e6)])
    f = compute_financials(s, tables(ALPHA, online=[0, 1, 1, 1, 1, 1], wafers_out=[0, 0, 30e6, 0, 0, 0]))
    q = f.fabco.quarterly
    assert q["fixed_opex_usd"].tolist() == pytest.approx([0] + [4e6] * 5)
    # taxable: −4 − 3.25 = −7.25 in 2025Q2; 30 − 7.25 = 22.75 in 2025Q3, less the 7.25 carried
    # = 15.5, taxed at 20 % = 3.1; then losses of 7.25 a quarter again
    assert q["tax_usd"].tolist() == pytest.approx([0, 0, 3.1e6, 0, 0, 0])


def test_fixed_opex_is_paid_by_an_idle_module():
    s = one_module_scenario(
        sites=[site("alpha", max_modules=1, fixed_opex_per_module_q_usd=5e6, opex_per_wafer_usd=100)]
    )
    idle = compute_financials(s, tables(ALPHA, online=[0, 1, 1, 1, 1, 1]))
    q = idle.fabco.quarterly
    assert q["fixed_opex_usd"].sum() == pytest.approx(25e6)  # five quarters online, nothing started
    assert q["opex_usd"].sum() == 0 and q["revenue_usd"].sum() == 0
    assert q["equity_calls_usd"].sum() == pytest.approx(80e6 + 25e6)  # the investors pay for it


def test_a_plan_beyond_the_commitments_shows_a_funding_gap():
    money = {"investors": [{"id": "i", "kind": "equity", "amount_usd": 50e6, "available_from": "2025Q1"}]}
    f = compute_financials(one_module_scenario(funding=money), tables(ALPHA))
    assert f.fabco.quarterly["funding_gap_usd"].tolist()[0] == pytest.approx(30e6)
    assert f.messages == [
        "funding gap in 2025Q1: the fab company needs $30 M more than its investors have committed by then"
    ]


def test_debt_is_drawn_serviced_and_repaid():
    # The only investor lends $80 M at 8 % a year, four quarters, no grace. Wafer sales of
    # $1 B a quarter from 2025Q2 service it: principal 20 a quarter, interest on the balance.
    lender = {
        "investors": [
            {
                "id": "bank",
                "kind": "debt",
                "amount_usd": 1e9,
                "available_from": "2025Q1",
                "interest_rate": 0.08,
                "tenor_q": 4,
            }
        ]
    }
    f = compute_financials(one_module_scenario(funding=lender), tables(ALPHA, wafers_out=[0, 1e9, 1e9, 1e9, 1e9, 1e9]))
    r = quarterly_rate(0.08)
    expected = [-80e6] + [20e6 + balance * r for balance in (80e6, 60e6, 40e6, 20e6)] + [0.0]
    assert flows(f, "bank") == pytest.approx(expected)
    assert f.fabco.investors.set_index("investor").at["bank", "irr"] == pytest.approx(0.08)


def test_offtake_and_waterfall_worked_by_hand():
    # Offtake at $20 a wafer with take-or-pay on 80 % of the output at capacity: in 2025Q3 the
    # fab could put out 1,000,000 wafers and the buyer takes 600,000: it pays 600,000 × 20 +
    # (800,000 − 600,000) × 20 = $16 M. In 2025Q4 it takes 900,000: 900,000 × 20 = $18 M.
    # Investors A ($48 M, an 8 % preferred return) and B ($32 M) pay for the $80 M module,
    # called pro rata to their commitments in 2025Q1: 48 and 32.
    offtake = {"price": "fixed", "fixed_price_usd": {"N": 20.0}, "take_or_pay_share": 0.8}
    investors = {
        "investors": [
            {"id": "A", "kind": "equity", "amount_usd": 48e6, "available_from": "2025Q1", "preferred_return": 0.08},
            {"id": "B", "kind": "equity", "amount_usd": 32e6, "available_from": "2025Q1"},
        ]
    }
    s = one_module_scenario(
        offtake=offtake, funding=investors, finance={"discount_rate": 0.0, "tax_regimes": [{"id": "T", "rate": 0.0}]}
    )
    f = compute_financials(s, tables(ALPHA, wafers_out=[0, 0, 0.6e6, 0.9e6, 0, 0], capacity_out=[0, 0, 1e6, 1e6, 0, 0]))
    q = f.fabco.quarterly
    assert q["revenue_usd"].tolist() == pytest.approx([0, 0, 16e6, 18e6, 0, 0])
    assert q["take_or_pay_usd"].tolist() == pytest.approx([0, 0, 4e6, 0, 0, 0])
    assert flows(f, "A", "called_usd")[0] == pytest.approx(48e6)
    assert flows(f, "B", "called_usd")[0] == pytest.approx(32e6)
    # The $16 M of 2025Q3 (no tax, no opex, no reinvestment) goes to equity by the waterfall:
    # return of capital pro rata to the unreturned 48 : 32, so A 9.6 and B 6.4; likewise the $18 M
    # of 2025Q4: A 10.8, B 7.2.
    assert flows(f, "A", "received_usd")[2:4] == pytest.approx([9.6e6, 10.8e6])
    assert flows(f, "B", "received_usd")[2:4] == pytest.approx([6.4e6, 7.2e6])


def test_investor_flows_add_up_to_the_equity_cash_flow_every_quarter():
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.pipeline import plan_finance
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    for s in (one_module_scenario(), load_scenario(TIGRIS)):
        f = compute_financials(s, tables(ALPHA)) if s.name == "tiny" else plan_finance(s, plan_network(s))
        equity = [inv.id for inv in s.funding.investors if inv.kind == "equity"]
        by_quarter = (
            f.fabco.investor_flows[f.fabco.investor_flows["investor"].isin(equity)]
            .groupby("quarter", sort=False)["flow_usd"]
            .sum()
        )
        np.testing.assert_allclose(by_quarter.to_numpy(), f.fabco.quarterly["equity_fcf_usd"], atol=1e-3)


def test_finance_capex_matches_the_planners_budget():
    from fabnet.pipeline import make_plan as plan_network
    from fabnet.pipeline import plan_finance
    from fabnet.scenario import load_scenario
    from tests.conftest import TIGRIS

    s = load_scenario(TIGRIS)
    plan = plan_network(s)
    f = plan_finance(s, plan)
    q = f.fabco.quarterly
    np.testing.assert_allclose(q["capex_usd"], plan.budget["capex_usd"], rtol=1e-9, atol=1.0)
    np.testing.assert_allclose(q["grants_usd"], -plan.budget["grants_usd"], rtol=1e-9, atol=1.0)
    np.testing.assert_allclose(q["itc_usd"], -plan.budget["tax_credits_usd"], rtol=1e-9, atol=1.0)
    assert f.fabco.metrics.funding_gap_usd == 0


def test_a_tax_credit_received_before_later_spending_reduces_the_calls():
    # Module 1 (2025Q1) earns a $21 M credit when online in 2025Q2, the quarter module 2 is
    # paid for ($80 M): investors are called for 80 + 59 instead of 80 + 80.
    credit = {
        "discount_rate": 0.0,
        "tax_regimes": [{"id": "T", "rate": 0.2, "investment_tax_credit": 0.35, "itc_construction_deadline": "2026Q2"}],
    }
    s = one_module_scenario(sites=[site("alpha", max_modules=2)], finance=credit)
    two = [("alpha", "2025Q1", 1, "2025Q2"), ("alpha", "2025Q2", 1, "2025Q3")]
    calls = compute_financials(s, tables(two)).fabco.quarterly["equity_calls_usd"]
    assert calls.tolist()[:2] == pytest.approx([80e6, 59e6])


def test_an_investor_called_and_repaid_in_one_quarter_has_an_irr():
    # $80 M called at the start of 2025Q1 for the module; the wafers of that same quarter
    # ($100 M, sold at its end) go back at once. Calls count at the start of a quarter and
    # distributions at its end, so the IRR is (100 + book)/80 over one quarter, not erased.
    s = one_module_scenario(
        sites=[site("alpha", max_modules=1, lead_time_q=1)],
        finance={
            "discount_rate": 0.0,
            "tax_regimes": [{"id": "T", "rate": 0.0}],
            "continuing_value": {"method": "book_value"},
        },
    )
    s = s.model_copy(update={"horizon": s.horizon.model_copy(update={"quarters": 1})})
    one = tables(ALPHA)
    one = PlanTables(
        **{name: getattr(one, name) for name in ("builds", "packaging_builds", "supply", "foundry", "production")},
        capacity=one.capacity.iloc[:1].assign(wafers_out=100e6),
    )
    f = compute_financials(s, one)
    row = f.fabco.investors.iloc[0]
    book = f.fabco.metrics.terminal_book_value_usd
    assert row.irr == pytest.approx(((100e6 + book) / 80e6) ** 4 - 1)
    assert row.irr > 1.0
    assert "above 100 % a year" in row.irr_note and "$80 M put in from 2025Q1 is back by 2025Q1" in row.irr_note
