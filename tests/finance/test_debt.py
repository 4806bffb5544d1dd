"""Project debt (finance/debt.py): sizing and sculpting to a target DSCR against
numpy-financial, the gearing cap, interest during construction, the debt-service reserve, and
a covenant breach as a message. finance-and-markets §1 gives the formulas; the worked example it
cites (videofinancialmodelling.com) runs five yearly periods at 6 % for target DSCRs 1.30 and
1.10, as the first tests do (a schedule's period is a quarter; at a quarterly rate of 6 % the
arithmetic is the yearly example's)."""

from __future__ import annotations

import numpy as np
import numpy_financial as npf
import pytest

from fabnet.finance import compute_financials
from fabnet.finance.debt import dscr, dscr_sized, llcr, reserve_balance, schedule_loans
from fabnet.finance.investors import hurdle_rate
from fabnet.scenario.schema import Investor, ProjectDebt
from tests.finance.test_fabco import ALPHA, flows, one_module_scenario, tables

SIX_PERCENT_A_PERIOD = 1.06**4 - 1  # an annual rate whose quarterly rate is exactly 6 %
CFADS = np.array([100.0, 110.0, 120.0, 130.0, 140.0])  # five repayment periods


def senior(**terms):
    base = {"id": "bank", "interest_rate": SIX_PERCENT_A_PERIOD, "tenor_q": 5, "gearing": 1.0}
    return ProjectDebt(**{**base, **terms})


def five_periods(loan, capex=1000.0):
    """Capex spent in period 0, the fab online in period 1 (no grace): the loan's five
    repayments are periods 1-5."""
    fundable = np.array([capex, 0, 0, 0, 0, 0])
    cfads = np.concatenate([[0.0], CFADS])
    return schedule_loans((loan,), fundable, fundable, cfads, first_online=1)[0], cfads


@pytest.mark.parametrize("target", [1.30, 1.10])
def test_sculpted_debt_is_the_pv_of_cfads_over_the_target_dscr(target):
    loan, cfads = five_periods(senior(target_dscr=target))
    # debt_0 = PV(CFADS_t / DSCR) at the debt rate (numpy-financial: the first value is period 0)
    debt_0 = npf.npv(0.06, [0.0, *(CFADS / target)])
    assert dscr_sized(CFADS, 0.06, target) == pytest.approx(debt_0)
    assert loan.draws.sum() == pytest.approx(debt_0)  # drawn in the period before the first repayment
    assert loan.balance[0] == pytest.approx(debt_0)
    # debt service = CFADS / DSCR; interest = 6 % of the opening balance; principal the rest
    assert loan.service[1:] == pytest.approx(CFADS / target)
    opening = loan.opening()[1:]
    assert loan.interest[1:] == pytest.approx(0.06 * opening)
    assert loan.principal[1:] == pytest.approx(CFADS / target - 0.06 * opening)
    assert dscr(cfads, loan.service)[1:] == pytest.approx([target] * 5)
    assert llcr(cfads, [loan])[1:] == pytest.approx([target] * 5)
    assert loan.balance[-1] == pytest.approx(0.0, abs=1e-9)  # repaid at maturity


def test_the_gearing_cap_scales_the_sculpted_service():
    # DSCR-sized debt ≈ 370.9 at 1.30; a 30 % gearing on 1000 of capex caps it at 300, so the
    # service is CFADS / 1.30 × 300 / 370.9 and every DSCR (and the LLCR) is 1.30 × 370.9 / 300.
    sized = npf.npv(0.06, [0.0, *(CFADS / 1.30)])
    loan, cfads = five_periods(senior(target_dscr=1.30, gearing=0.3))
    assert loan.balance[0] == pytest.approx(300.0)
    assert loan.sized_usd == pytest.approx(sized)
    expected = 1.30 * sized / 300.0
    assert dscr(cfads, loan.service)[1:] == pytest.approx([expected] * 5)
    assert llcr(cfads, [loan])[1:] == pytest.approx([expected] * 5)
    assert loan.balance[-1] == pytest.approx(0.0, abs=1e-9)


def test_interest_during_construction_is_capitalised_until_the_first_repayment():
    # A government loan of 200 at 2 % a quarter draws 100 in quarters 0 and 1; the fab comes
    # online in quarter 2 and repays from quarter 3 (one quarter of grace), linearly over 2.
    #   end of q0: 100;  q1: 100 × 1.02 + 100 = 202 (2 capitalised);  q2: 202 × 1.02 = 206.04
    #   q3: interest 206.04 × 0.02 = 4.1208 paid, principal 103.02;  q4: 2.0604 + 103.02
    loan = ProjectDebt(
        id="chips",
        kind="government",
        repayment="linear",
        amount_usd=200.0,
        interest_rate=1.02**4 - 1,
        tenor_q=2,
        grace_q=1,
    )
    fundable = np.array([100.0, 100.0, 50.0, 0, 0])
    [s] = schedule_loans((loan,), fundable, fundable, np.full(5, 500.0), first_online=2)
    assert s.draws == pytest.approx([100, 100, 0, 0, 0])  # capex after the amount is the equity's
    assert s.capitalised == pytest.approx([0, 2, 4.04, 0, 0])
    assert s.balance == pytest.approx([100, 202, 206.04, 103.02, 0])
    assert s.interest == pytest.approx([0, 0, 0, 4.1208, 2.0604])
    assert s.principal == pytest.approx([0, 0, 0, 103.02, 103.02])


def test_an_annuity_loan_pays_numpy_financials_payment():
    loan = ProjectDebt(
        id="chips", kind="government", repayment="annuity", amount_usd=500.0, interest_rate=1.02**4 - 1, tenor_q=8
    )
    fundable = np.array([500.0] + [0.0] * 8)
    [s] = schedule_loans((loan,), fundable, fundable, np.full(9, 100.0), first_online=1)
    assert s.service[1:] == pytest.approx([npf.pmt(0.02, 8, -500.0)] * 8)
    assert s.balance[-1] == pytest.approx(0.0, abs=1e-9)


def test_a_government_loan_is_drawn_first_and_senior_debt_is_sized_on_what_its_service_leaves():
    chips = ProjectDebt(
        id="chips", kind="government", repayment="linear", amount_usd=100.0, interest_rate=0.0, tenor_q=5
    )
    loans = schedule_loans(
        (senior(target_dscr=1.30), chips),
        np.array([1000.0, 0, 0, 0, 0, 0]),
        np.array([1000.0, 0, 0, 0, 0, 0]),
        np.concatenate([[0.0], CFADS]),
        first_online=1,
    )
    bank, gov = loans  # in the scenario's order
    assert gov.draws[0] == pytest.approx(100.0)
    left = CFADS - 20.0  # the government loan takes 20 a period (100 / 5, no interest)
    assert bank.balance[0] == pytest.approx(npf.npv(0.06, [0.0, *(left / 1.30)]))


def test_the_reserve_holds_the_next_quarters_debt_service_until_maturity():
    loan, _ = five_periods(senior(target_dscr=1.30, dsra_q=2))
    s = loan.service
    expected = [0, s[2] + s[3], s[3] + s[4], s[4] + s[5], s[5], 0]
    assert reserve_balance([loan], 6) == pytest.approx(expected)


def lender(**terms):
    base = {
        "id": "chips",
        "kind": "government",
        "repayment": "linear",
        "amount_usd": 80e6,
        "interest_rate": 0.0,
        "tenor_q": 2,
        "grace_q": 1,
        "dsra_q": 2,
    }
    return {**base, **terms}


def test_a_covenant_breach_is_a_message_naming_the_quarter_and_the_dscr():
    # The $80 M module is paid by a government loan drawn in 2025Q1, online 2025Q2, repaid
    # 2025Q3-Q4 at $40 M a quarter (no interest). Wafers bring $30 M a quarter, no tax: DSCR =
    # 30 / 40 = 0.75, below the 1.10 covenant, in both quarters.
    s = one_module_scenario(
        funding={
            "investors": [{"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1"}],
            "project_debt": [lender()],
        },
        finance={
            "discount_rate": 0.0,
            "tax_regimes": [{"id": "T", "rate": 0.0}],
            "continuing_value": {"method": "book_value"},
        },
    )
    money = compute_financials(s, tables(ALPHA, wafers_out=[0, 30e6, 30e6, 30e6, 30e6, 30e6]))
    q = money.fabco.quarterly
    assert q["dscr"].tolist()[2:4] == pytest.approx([0.75, 0.75])
    assert np.isnan(q["dscr"].tolist()[0]) and np.isnan(q["dscr"].tolist()[4])
    assert money.fabco.metrics.min_dscr == pytest.approx(0.75)
    # the reserve: at the first repayment the next two quarters' service (40 + 0), released at maturity
    assert q["dsra_usd"].tolist() == pytest.approx([0, 0, 40e6, 0, 0, 0])
    assert flows(money, "chips") == pytest.approx([-80e6, 0, 40e6, 40e6, 0, 0])
    assert q["equity_calls_usd"].iloc[0] == pytest.approx(0.0)  # the loan paid the module
    assert [m for m in money.messages if m.startswith("covenant breach")] == [
        "covenant breach in 2025Q3: the DSCR is 0.75, below the 1.10 covenant of chips "
        "(CFADS $30 M for $40 M of debt service)",
        "covenant breach in 2025Q4: the DSCR is 0.75, below the 1.10 covenant of chips "
        "(CFADS $30 M for $40 M of debt service)",
    ]


def test_debt_beyond_the_horizon_is_repaid_from_the_continuing_value():
    # Senior debt sculpted at 1.30 over 8 quarters from 2025Q2: 3 of its repayments fall after
    # the 6-quarter horizon. Without tax the DSCR on cash is the sizing DSCR in every quarter;
    # the lender gets its remaining balance at the end, the equity the rest.
    s = one_module_scenario(
        funding={
            "investors": [{"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1"}],
            "project_debt": [{"id": "bank", "interest_rate": 0.08, "tenor_q": 8, "gearing": 1.0, "dsra_q": 0}],
        },
        finance={
            "discount_rate": 0.1,
            "tax_regimes": [{"id": "T", "rate": 0.0}],
            "continuing_value": {"method": "book_value"},
        },
    )
    money = compute_financials(s, tables(ALPHA, wafers_out=[0] + [10e6] * 5, capacity_out=[0] + [10e6] * 5))
    q, m = money.fabco.quarterly, money.fabco.metrics
    assert q["dscr"].tolist()[1:] == pytest.approx([1.30] * 5)
    assert q["llcr"].tolist()[1:] == pytest.approx([1.30] * 5)
    owed = m.debt_at_horizon_usd
    assert owed == pytest.approx(q["debt_balance_usd"].iloc[-1]) and owed > 0
    bank = flows(money, "bank")
    assert bank[-1] == pytest.approx(q["interest_usd"].iloc[-1] + q["principal_usd"].iloc[-1])
    assert q["principal_usd"].iloc[-1] > owed  # the last scheduled repayment and the rest of the balance
    # without tax, what all investors (equity and lender) get back less what they put in is the
    # project's flows plus the continuing value: the lender's remaining balance came out of it
    f = money.fabco.investor_flows
    assert f["flow_usd"].sum() == pytest.approx(q["project_fcf_usd"].sum() + m.continuing_value_usd)
    assert m.equity_irr is not None


def test_hurdles_as_spreads_over_the_discount_rate_or_the_debt_rate():
    s = one_module_scenario(
        funding={
            "investors": [{"id": "i", "kind": "equity", "amount_usd": 1e9, "available_from": "2025Q1"}],
            "project_debt": [{"id": "bank", "interest_rate": 0.065, "tenor_q": 8}],
        },
        finance={"discount_rate": 0.095, "tax_regimes": [{"id": "T", "rate": 0.0}]},
    )
    base = {"id": "x", "kind": "equity", "amount_usd": 1.0, "available_from": "2025Q1"}
    assert hurdle_rate(s, Investor(**base, hurdle_spread=0.04)) == pytest.approx(0.135)
    assert hurdle_rate(s, Investor(**base, hurdle_spread=0.04, hurdle_over="debt_rate")) == pytest.approx(0.105)
    assert hurdle_rate(s, Investor(**base, hurdle_rate=0.12, hurdle_spread=0.04)) == pytest.approx(0.12)
    assert hurdle_rate(s, Investor(**base)) == pytest.approx(0.095)
