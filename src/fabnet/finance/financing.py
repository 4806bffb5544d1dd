"""The fab company's financing, quarter by quarter (finance.fabco's rules, "Financing rules"
and the end of the horizon): tax after interest with losses carried forward, capital calls,
funding gaps, investor debt and project loans serviced, the debt-service reserve, distributions
through the waterfall, and the continuing value repaying what is owed before equity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.finance.debt import DebtSchedule, reserve_balance, sum_of
from fabnet.finance.investors import investor_table, loan_table
from fabnet.finance.metrics import quarterly_rate
from fabnet.finance.tax import income_tax
from fabnet.finance.waterfall import EquityAccount, accrue_preferred_return, distribute
from fabnet.scenario.schema import Scenario


@dataclass
class _Debt:
    """An investor of kind debt: its draws, interest on the balance carried into a quarter,
    linear repayment over tenor − grace after the grace period."""

    investor: int
    rate_q: float
    tenor_q: int
    grace_q: int
    draws: list[tuple[int, float]] = field(default_factory=list)

    def balance_after(self, t: int) -> float:
        return sum(amount - self._repaid(amount, start, t) for start, amount in self.draws)

    def principal_in(self, t: int) -> float:
        return sum(self._repaid(amount, start, t) - self._repaid(amount, start, t - 1) for start, amount in self.draws)

    def _repaid(self, amount: float, start: int, t: int) -> float:
        """Repaid of a draw by the end of quarter t: linear after the grace period."""
        periods = max(self.tenor_q - self.grace_q, 1)
        done = np.clip(t - (start + self.grace_q), 0, periods)
        return amount * done / periods


def financing_flows(
    scenario: Scenario,
    operating: dict[str, np.ndarray],
    capital: dict[str, np.ndarray],
    taxable_before: np.ndarray,
    terminal: float,
    loans: list[DebtSchedule],
) -> dict[str, Any]:
    """Quarter by quarter: tax after interest, capital calls pro rata to what is committed and
    available, funding gaps, debt service, distributions through the waterfall, and at the end
    the continuing value repaying the debt and paying out to equity. `taxable_before` is the
    taxable income per regime before interest (fabco.taxable_before_interest)."""
    investors = scenario.funding.investors
    horizon = scenario.horizon.quarters
    committed = scenario.funding.commitments_usd(scenario.horizon.periods)
    available = np.cumsum(committed, axis=1)
    called = np.zeros((len(investors), horizon))
    received = np.zeros((len(investors), horizon))
    accounts = [
        EquityAccount(inv.id, quarterly_rate(inv.preferred_return)) for inv in investors if inv.kind == "equity"
    ]
    equity_rows = [i for i, inv in enumerate(investors) if inv.kind == "equity"]
    debts = {
        i: _Debt(i, quarterly_rate(inv.interest_rate or 0.0), inv.tenor_q or 1, inv.grace_q)
        for i, inv in enumerate(investors)
        if inv.kind == "debt"
    }
    waterfall = any(inv.preferred_return > 0 for inv in investors if inv.kind == "equity")
    rates = np.array([t.rate for t in scenario.finance.tax_regimes])
    losses = np.zeros(len(rates))

    ebitda = operating["ebitda_usd"]
    investing = capital["grants_usd"] + capital["itc_usd"] - capital["capex_usd"]
    # project debt: its draws pay capex, its service and its reserve come out of operating cash
    investing = investing + sum_of(loans, "draws", horizon)
    loan_interest, loan_principal = sum_of(loans, "interest", horizon), sum_of(loans, "principal", horizon)
    reserve_held = reserve_balance(loans, horizon)
    reserve_flow = np.diff(reserve_held, prepend=0.0)
    before_tax = ebitda - loan_interest - loan_principal - reserve_flow
    reinvest = scenario.funding.reinvest_operating_cash
    # what later quarters will need from the cash held now (grants and credits received ahead of
    # capex; with reinvestment, operating cash too)
    own = investing + (before_tax if reinvest else np.minimum(before_tax, 0.0))
    reserve = _future_need(own)

    out = {
        k: np.zeros(horizon)
        for k in (
            "tax_usd",
            "interest_usd",
            "principal_usd",
            "equity_calls_usd",
            "debt_draws_usd",
            "distributions_usd",
            "terminal_payout_usd",
            "funding_gap_usd",
            "cash_usd",
        )
    }
    loan_received = np.zeros((len(loans), horizon))
    for j, loan in enumerate(loans):
        loan_received[j] = loan.service[:horizon]

    balance, repaid = 0.0, 0.0
    for t in range(horizon):
        interest = sum(d.balance_after(t - 1) * d.rate_q for d in debts.values()) + loan_interest[t]
        principal = sum(d.principal_in(t) for d in debts.values()) + loan_principal[t]
        taxable = taxable_before[:, t].copy()
        taxable[0] -= interest
        tax = income_tax(taxable, rates, losses)
        out["tax_usd"][t], out["interest_usd"][t], out["principal_usd"][t] = tax, interest, principal
        for i, d in debts.items():
            received[i, t] += d.balance_after(t - 1) * d.rate_q + d.principal_in(t)
        operating_cash = ebitda[t] - tax - interest - principal - reserve_flow[t]
        balance += investing[t] + (operating_cash if reinvest else min(operating_cash, 0.0))
        if balance < 0:
            room = np.clip(available[:, t] - called.sum(axis=1), 0.0, None)
            call = min(-balance, room.sum())
            if room.sum() > 0 and call > 0:
                draw = call * room / room.sum()
                called[:, t] = draw
                for i, amount in enumerate(draw):
                    if i in debts and amount > 0:
                        debts[i].draws.append((t, amount))
                for account, i in zip(accounts, equity_rows, strict=True):
                    account.paid_in += draw[i]
            out["funding_gap_usd"][t] = max(-balance - call, 0.0)
            balance = 0.0 if out["funding_gap_usd"][t] > 0 else balance + call
        accrue_preferred_return(accounts)
        payout = 0.0 if reinvest else max(operating_cash, 0.0)
        if t == horizon - 1:
            # the continuing value, the cash and the reserve released repay what is owed
            value = balance + reserve_held[t] + terminal
            repaid = value
            value = _repay_loans(value, loans, loan_received, t, out)
            repaid -= value
            to_equity = _terminal_payout(value, debts, received, t, out)
            out["terminal_payout_usd"][t] = to_equity
            payout, balance = payout + to_equity, 0.0
        else:
            surplus = max(balance - reserve[t], 0.0)
            payout, balance = payout + surplus, balance - surplus
        if payout > 0 and accounts:
            parts = distribute(payout, accounts, waterfall)
            received[equity_rows, t] += parts
            out["distributions_usd"][t] = parts.sum()
        out["cash_usd"][t] = balance
        out["equity_calls_usd"][t] = called[equity_rows, t].sum()
        out["debt_draws_usd"][t] = (called[list(debts), t].sum() if debts else 0.0) + sum(
            loan.draws[t] for loan in loans
        )
    out["dsra_usd"] = reserve_held
    out["debt_balance_usd"] = sum_of(loans, "balance", horizon)

    flows = pd.DataFrame(
        [
            {
                "quarter": str(scenario.horizon.start + t),
                "investor": inv.id,
                "called_usd": called[i, t],
                "received_usd": received[i, t],
                "flow_usd": received[i, t] - called[i, t],
            }
            for i, inv in enumerate(investors)
            for t in range(horizon)
        ]
    )
    loan_flows = pd.DataFrame(
        [
            {
                "quarter": str(scenario.horizon.start + t),
                "investor": loan.terms.id,
                "called_usd": loan.draws[t],
                "received_usd": loan_received[j, t],
                "flow_usd": loan_received[j, t] - loan.draws[t],
            }
            for j, loan in enumerate(loans)
            for t in range(horizon)
        ]
    )
    table = investor_table(scenario, investors, committed, called, received)
    table = pd.concat([table, loan_table(loans, loan_received)], ignore_index=True) if loans else table
    flows = pd.concat([flows, loan_flows], ignore_index=True) if loans else flows
    flows = results.table("investor_flows").conform(flows)
    table = results.table("investors").conform(table)
    return {
        "quarterly": out,
        "investor_flows": flows,
        "investors": table,
        "called": called,
        "received": received,
        "equity_rows": equity_rows,
        "outstanding_usd": sum(float(loan.balance[horizon - 1]) for loan in loans),
        "loans_net": loan_received.sum(axis=0) - sum_of(loans, "draws", horizon),
        "loans_repaid_at_end": repaid,
    }


def _repay_loans(
    value: float, loans: list[DebtSchedule], received: np.ndarray, t: int, out: dict[str, np.ndarray]
) -> float:
    """End of horizon: what the project loans still owe (their balance after the last quarter,
    repayments falling after the horizon included) is repaid, senior debt first; returns what
    is left."""
    for j in sorted(range(len(loans)), key=lambda j: loans[j].terms.kind != "senior"):
        owed = float(loans[j].balance[t])
        repay = min(owed, max(value, 0.0))
        received[j, t] += repay
        out["principal_usd"][t] += repay
        value -= repay
    return value


def _future_need(net: np.ndarray) -> np.ndarray:
    """For each quarter t, the most the quarters after it will draw down in total before they
    recover: max(0, −min over u > t of net[t+1] + … + net[u])."""
    need = np.zeros(len(net))
    best_from_next = 0.0  # most negative partial sum starting at t + 1 (none yet: 0)
    for t in range(len(net) - 1, -1, -1):
        need[t] = max(0.0, -best_from_next)
        best_from_next = min(net[t], net[t] + best_from_next)
    return need


def _terminal_payout(
    value: float, debts: dict[int, _Debt], received: np.ndarray, t: int, out: dict[str, np.ndarray]
) -> float:
    """End of horizon: assets at book value plus cash repay the debt; equity gets the rest."""
    for i, debt in debts.items():
        owed = debt.balance_after(t)
        repay = min(owed, max(value, 0.0))
        received[i, t] += repay
        out["principal_usd"][t] += repay
        value -= repay
    return max(value, 0.0)
