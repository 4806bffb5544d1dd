"""The continuing value after the horizon (finance/terminal.py) worked by hand, against
numpy-financial, and the book-value rule it replaces."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest

from fabnet.finance import compute_financials
from fabnet.finance.fabco import capital_flows, end_of_horizon, operations
from fabnet.finance.metrics import quarterly_rate
from fabnet.finance.terminal import gordon
from tests.finance.test_fabco import ALPHA, one_module_scenario, tables
from tests.plan.conftest import site

# One module ($20 M building, $60 M tools) online from 2025Q2, output at capacity 100 M wafers
# a quarter sold at $1 (counts read as dollars); the plan winds down: nothing leaves the fab
# in the last quarter. Variable opex $0.20 a wafer, fixed opex $5 M a quarter, tax 25 %.
CAPACITY = [0, 100e6, 100e6, 100e6, 100e6, 100e6]
OUT = [0, 50e6, 80e6, 90e6, 90e6, 0]
STARTS = [0, 50e6, 80e6, 90e6, 0, 0]
ONLINE = [0, 1, 1, 1, 1, 1]


def scenario(**continuing):
    return one_module_scenario(
        sites=[site("alpha", max_modules=1, opex_per_wafer_usd=0.2, fixed_opex_per_module_q_usd=5e6)],
        finance={
            "discount_rate": 0.10,
            "tax_regimes": [{"id": "T", "rate": 0.25}],
            "continuing_value": {"growth": -0.02, "maintenance_capex_share": 0.05, **continuing},
        },
    )


def plan():
    return tables(ALPHA, wafers_out=OUT, starts=STARTS, capacity_out=CAPACITY, online=ONLINE)


# The steady-state year, by hand: the highest load of the last four quarters is 90 % (not the
# wind-down's 0), so 4 × 90 M wafers × $1 = $360 M revenue; opex 4 × 90 M × 0.20 = $72 M and
# 4 × $5 M fixed = $20 M: EBITDA $268 M. Maintenance capex 5 % of $60 M tools = $3 M a year,
# deducted for tax in place of depreciation: tax 25 % × (268 − 3) = $66.25 M. FCF_ss = 268 −
# 66.25 − 3 = $198.75 M; FCF_{T+1} = 198.75 × 0.98 = $194.775 M; TV = 194.775 / (0.10 + 0.02).
FCF_NEXT = 198.75e6 * 0.98
TV_BY_HAND = FCF_NEXT / 0.12  # $1,623.125 M


def test_gordon_value_worked_by_hand_and_as_a_long_growing_annuity():
    s = scenario(method="gordon", growth=-0.02, maintenance_capex_share=0.05)
    p = plan()
    state, tv = end_of_horizon(s, operations(s, p.capacity), capital_flows(s, p.builds))
    assert state.revenue_usd == pytest.approx(360e6)
    assert state.fcf_usd == pytest.approx(198.75e6)
    assert tv == pytest.approx(TV_BY_HAND)
    # the same value as 2,000 years of a flow falling 2 % a year, at 10 % (numpy-financial)
    years = FCF_NEXT * 0.98 ** np.arange(2000)
    assert tv == pytest.approx(npf.npv(0.10, [0.0, *years]), rel=1e-9)
    assert gordon(100.0, 0.10, 0.02) == pytest.approx(100.0 / 0.08)
    with pytest.raises(ValueError, match="below the discount rate"):
        gordon(100.0, 0.05, 0.05)


def test_the_npv_and_the_equitys_terminal_payout_read_the_same_continuing_value():
    gordon_money = compute_financials(scenario(method="gordon"), plan()).fabco
    book_money = compute_financials(scenario(method="book_value"), plan()).fabco
    m = gordon_money.metrics
    assert m.continuing_value_usd == pytest.approx(TV_BY_HAND)
    # NPV: the quarterly project flows and the continuing value one quarter after the last
    flows = gordon_money.quarterly["project_fcf_usd"].tolist()
    r_q = quarterly_rate(0.10)
    assert m.fabco_npv_usd == pytest.approx(npf.npv(r_q, [*flows, TV_BY_HAND]))
    assert m.continuing_value_pv_usd == pytest.approx(TV_BY_HAND / (1 + r_q) ** 6)
    assert m.continuing_value_share_of_npv == pytest.approx(m.continuing_value_pv_usd / m.fabco_npv_usd)
    # the equity gets the continuing value at the end instead of the book value: nothing else moves
    paid = gordon_money.quarterly["terminal_payout_usd"].iloc[-1] - book_money.quarterly["terminal_payout_usd"].iloc[-1]
    assert paid == pytest.approx(TV_BY_HAND - book_money.metrics.terminal_book_value_usd)


def test_book_value_method_is_the_rule_before_continuing_values():
    # 60 M tools over 5 years and 20 M building over 20 from 2025Q2: five quarters of 3.25 M
    # depreciation leave 63.75 M on the books (the one-module case of test_fabco.py)
    money = compute_financials(scenario(method="book_value"), plan()).fabco
    m = money.metrics
    assert m.continuing_value_usd == m.terminal_book_value_usd == pytest.approx(63.75e6)
    flows = money.quarterly["project_fcf_usd"].tolist()
    assert m.fabco_npv_usd == pytest.approx(npf.npv(quarterly_rate(0.10), [*flows, 63.75e6]))


def test_tail_value_is_the_npv_of_its_years_worked_by_hand():
    # Three more years at a wafer price falling 2 % a year, costs held, then the modules sold
    # for 10 % of their $80 M capex. Year k: revenue 360 × 0.98^k; flow = revenue − 92 − 3 −
    # 25 % × (revenue − 95) = 0.75 × (revenue − 95):
    #   k=1: 352.8 → 193.35; k=2: 345.744 → 188.058; k=3: 338.82912 → 182.87184; salvage 8.
    s = scenario(method="tail", growth=-0.02, tail_years=3, salvage_share_of_capex=0.1)
    p = plan()
    _, tv = end_of_horizon(s, operations(s, p.capacity), capital_flows(s, p.builds))
    explicit = npf.npv(0.10, [0.0, 193.35e6, 188.058e6, 182.87184e6 + 8e6])
    assert tv == pytest.approx(explicit)


def test_continuing_value_with_a_samples_axis():
    # the risk model passes operations with a leading samples axis: one value per sample
    s = scenario(method="gordon")
    p = plan()
    ops = operations(s, p.capacity)
    twice = type(ops)(
        *(np.stack([a, a * 0.5]) for a in (ops.real_starts, ops.wafers_out, ops.spare_out)),
        capacity_out=np.stack([ops.capacity_out] * 2),
        modules_staffed=np.stack([ops.modules_staffed] * 2),
    )
    _, tv = end_of_horizon(s, twice, capital_flows(s, p.builds))
    assert np.shape(tv) == (2,)
    assert tv[0] == pytest.approx(TV_BY_HAND)
    # half the load: revenue 180, opex 36, fixed 20 → EBITDA 124; tax 25 % × 121; FCF 124 − 30.25 − 3
    assert tv[1] == pytest.approx((124e6 - 30.25e6 - 3e6) * 0.98 / 0.12)
