"""Project debt of the fab company (funding.project_debt): draws as capex is spent, interest
during construction capitalised, repayment by a strategy, a debt-service reserve, and the
cover ratios lenders watch. Finance-and-markets §1 gives the formulas.

Timeline: quarter 0 is the horizon's first; a loan may run past the horizon (its schedule is
as long as it needs; the fab company pays what falls after the horizon from its continuing
value, fabco._terminal_payout). The first repayment is `grace_q` quarters after the first
module comes online; `tenor_q` repayments follow. Before it the loan draws a share of each
quarter's capex net of grants (government loans first, up to their amount; senior debt on
what is left) and the interest on the balance carried into a quarter is added to the balance
(interest during construction, IDC); from it on interest is paid in cash.

CFADS, the cash flow available for debt service, is needed before the debt is known (to size
and sculpt it), so it is the project's operating cash after UNLEVERED tax: EBITDA − tax before
interest (fabco.project_flows), and after the horizon the steady state's free cash flow
(terminal.steady_cfads_q). The interest tax shield is left out of the sizing: the debt is a
little smaller than with it, and the DSCR measured on tax actually paid is at or above the
target.

Strategies (REPAYMENTS, the one place to add one): each turns the opening balance at the first
repayment, the quarterly rate and the CFADS of the repayment quarters into the debt service of
each repayment quarter.
- sculpted: service_t = CFADS_t × B0 / PV(CFADS) at the debt rate; with B0 = PV(CFADS / DSCR)
  this is CFADS_t / DSCR, and principal_t = service_t − interest_t (finance-and-markets §1);
- linear: principal B0 / n each quarter, plus interest on the balance;
- annuity: a constant service B0 · r / (1 − (1 + r)^−n).
Sizing of senior debt: B0 = min(PV(CFADS / target DSCR), gearing × capex net of grants spent
before the first repayment, amount_usd, what the capex can absorb); where a cap binds, sculpting to B0 scales the
CFADS down by B0 / PV(CFADS / DSCR), so every repayment quarter's DSCR is the target × the same
factor above 1.

Ratios: DSCR_t = CFADS_t / (interest_t + principal_t); LLCR_t = PV(CFADS over the loan's
remaining life, at the debt rate) / the balance carried into quarter t.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fabnet.core.format import usd
from fabnet.finance.metrics import npv, quarterly_rate
from fabnet.finance.tables import online_quarters
from fabnet.finance.terminal import SteadyState, steady_cfads_q
from fabnet.scenario.schema import ProjectDebt, Scenario

#: (opening balance, rate a quarter, CFADS of each repayment quarter) → debt service per quarter
Repayment = Callable[[float, float, np.ndarray], np.ndarray]


def sculpted(opening: float, rate_q: float, cfads: np.ndarray) -> np.ndarray:
    """Debt service in proportion to CFADS, paying off `opening` by the last quarter."""
    positive = np.maximum(np.asarray(cfads, dtype=float), 0.0)
    value = float(npv(rate_q, np.concatenate([[0.0], positive])))
    if value <= 0:
        return linear(opening, rate_q, cfads)
    return positive * opening / value


def linear(opening: float, rate_q: float, cfads: np.ndarray) -> np.ndarray:
    """Equal principal each quarter plus the interest on the balance carried into it."""
    n = len(cfads)
    before = opening * (1.0 - np.arange(n) / n)
    return opening / n + before * rate_q


def annuity(opening: float, rate_q: float, cfads: np.ndarray) -> np.ndarray:
    """A constant debt service that pays off `opening` over the quarters given."""
    n = len(cfads)
    payment = opening / n if rate_q == 0 else opening * rate_q / (1.0 - (1.0 + rate_q) ** -n)
    return np.full(n, payment)


REPAYMENTS: dict[str, Repayment] = {"sculpted": sculpted, "linear": linear, "annuity": annuity}


def dscr_sized(cfads: np.ndarray, rate_q: float, target_dscr: float) -> float:
    """The debt that CFADS carries at a target DSCR: PV(CFADS_t / DSCR) over the repayment
    quarters, at the debt rate, valued at the start of the first one."""
    service = np.maximum(np.asarray(cfads, dtype=float), 0.0) / target_dscr
    return float(npv(rate_q, np.concatenate([[0.0], service])))


@dataclass(frozen=True)
class DebtSchedule:
    """One loan quarter by quarter over its timeline (arrays as long as the loan runs, or the
    horizon if longer)."""

    terms: ProjectDebt
    draws: np.ndarray
    capitalised: np.ndarray  # interest added to the balance (before the first repayment)
    interest: np.ndarray  # interest paid in cash
    principal: np.ndarray
    balance: np.ndarray  # at the end of each quarter
    first_repayment: int
    maturity: int  # the last repayment quarter
    sized_usd: float  # senior: PV(CFADS / target DSCR) before any cap; government: its amount

    @property
    def service(self) -> np.ndarray:
        return self.interest + self.principal

    @property
    def rate_q(self) -> float:
        return quarterly_rate(self.terms.interest_rate)

    def opening(self) -> np.ndarray:
        """The balance carried into each quarter."""
        return np.concatenate([[0.0], self.balance[:-1]])


def timeline_length(loans: tuple[ProjectDebt, ...], horizon: int, first_online: int) -> int:
    """Quarters from the horizon's start to the last maturity (at least the horizon)."""
    last = max((first_online + d.grace_q + d.tenor_q for d in loans), default=0)
    return max(horizon, last)


def schedule_loans(
    loans: tuple[ProjectDebt, ...],
    fundable: np.ndarray,
    capex: np.ndarray,
    cfads: np.ndarray,
    first_online: int,
) -> list[DebtSchedule]:
    """Every loan's schedule. `fundable`: capex net of grants per quarter of the horizon (what
    loans may draw on); `capex`: what the gearing cap is a share of (the fab company passes
    capex net of grants too: gearing = debt / (debt + equity)); `cfads`: CFADS over the
    timeline (timeline_length). Government loans come first, then senior debt, each on the
    capex the ones before left and the CFADS their debt service left."""
    left = np.asarray(fundable, dtype=float).copy()
    available = np.asarray(cfads, dtype=float).copy()
    done = []
    for terms in sorted(loans, key=lambda d: d.kind != "government"):
        loan = _schedule(terms, left, capex, available, first_online)
        left[: len(left)] -= loan.draws[: len(left)]
        available -= loan.service
        done.append(loan)
    return [next(s for s in done if s.terms is d) for d in loans]


def _schedule(
    terms: ProjectDebt, left: np.ndarray, capex: np.ndarray, cfads: np.ndarray, first_online: int
) -> DebtSchedule:
    length = len(cfads)
    rate_q = quarterly_rate(terms.interest_rate)
    start = first_online + terms.grace_q
    maturity = start + terms.tenor_q - 1
    drawing = np.zeros(length)
    build = min(start, len(left))
    drawing[:build] = np.maximum(left[:build], 0.0)
    growth = (1.0 + rate_q) ** (start - 1 - np.arange(length))  # a draw's value at the first repayment
    room = float((drawing * growth).sum())
    repaid_from = cfads[start : maturity + 1]
    if terms.kind == "government":
        sized = terms.amount_usd or 0.0
        draws = _first_until(drawing, sized)
    else:
        sized = dscr_sized(repaid_from, rate_q, terms.target_dscr)
        cap = terms.gearing * float(np.asarray(capex)[:build].sum())
        target = min(sized, cap, terms.amount_usd if terms.amount_usd is not None else np.inf, room)
        draws = drawing * (target / room if room > 0 else 0.0)
    capitalised, interest, principal, balance = (np.zeros(length) for _ in range(4))
    carried = 0.0
    service = None
    for t in range(length):
        due = carried * rate_q
        if t < start:
            capitalised[t] = due
            carried += due + draws[t]
        elif t <= maturity:
            if service is None:
                service = REPAYMENTS[terms.repayment](carried, rate_q, repaid_from)
            interest[t] = due
            principal[t] = carried if t == maturity else service[t - start] - due
            carried -= principal[t]
        balance[t] = carried
    return DebtSchedule(terms, draws, capitalised, interest, principal, balance, start, maturity, sized)


def _first_until(wanted: np.ndarray, amount: float) -> np.ndarray:
    """Draw what each quarter wants until `amount` is used up."""
    before = np.minimum(np.cumsum(wanted) - wanted, amount)
    return np.minimum(wanted, amount - before)


def reserve_balance(loans: list[DebtSchedule], length: int) -> np.ndarray:
    """The debt-service reserve at the end of each quarter: from each loan's first repayment
    to the quarter before its maturity, its next dsra_q quarters' debt service (released at
    maturity)."""
    dsra = np.zeros(length)
    for loan in loans:
        service = np.concatenate([loan.service, np.zeros(loan.terms.dsra_q + 1)])
        for t in range(loan.first_repayment, min(loan.maturity, length)):
            dsra[t] += service[t + 1 : t + 1 + loan.terms.dsra_q].sum()
    return dsra


def dscr(cfads: np.ndarray, service: np.ndarray) -> np.ndarray:
    """CFADS / debt service in the quarters with debt service, NaN in the others."""
    cfads, service = np.asarray(cfads, dtype=float), np.asarray(service, dtype=float)
    return np.divide(cfads, service, out=np.full(len(service), np.nan), where=service > 1.0)


def llcr(cfads: np.ndarray, loans: list[DebtSchedule]) -> np.ndarray:
    """PV of CFADS from each repayment quarter to the last maturity, at the rate of the first
    loan (the senior one's where there is one), over the balance carried into it; NaN outside
    the repayment quarters."""
    cfads = np.asarray(cfads, dtype=float)
    out = np.full(len(cfads), np.nan)
    if not loans:
        return out
    lead = next((loan for loan in loans if loan.terms.kind == "senior"), loans[0])
    opening = np.sum([loan.opening() for loan in loans], axis=0)
    first = min(loan.first_repayment for loan in loans)
    last = max(loan.maturity for loan in loans)
    for t in range(first, min(last + 1, len(cfads))):
        if opening[t] > 1.0:
            ahead = np.concatenate([[0.0], cfads[t : last + 1]])
            out[t] = float(npv(lead.rate_q, ahead)) / opening[t]
    return out


def first_online(scenario: Scenario, builds: pd.DataFrame) -> int:
    """The quarter (from the horizon's start) the first capacity built (a module or a tool set)
    comes online; the horizon's length when nothing is built."""
    online = online_quarters(builds, scenario.horizon.start)
    return int(online.min()) if len(online) else scenario.horizon.quarters


def cfads_timeline(
    scenario: Scenario,
    builds: pd.DataFrame,
    operating: dict[str, np.ndarray],
    project: dict[str, np.ndarray],
    state: SteadyState,
) -> np.ndarray:
    """CFADS per quarter over the project debt's timeline (debt.timeline_length): EBITDA less
    unlevered tax in the horizon, the steady state's free cash flow after it."""
    horizon = scenario.horizon.quarters
    length = timeline_length(scenario.funding.project_debt, horizon, first_online(scenario, builds))
    after = steady_cfads_q(state, scenario.finance.continuing_value.growth, length - horizon)
    return np.concatenate([operating["ebitda_usd"] - project["tax_unlevered_usd"], after])


def sum_of(loans: list[DebtSchedule], name: str, length: int) -> np.ndarray:
    """A schedule's quantity (draws, interest, principal, service, balance) summed over the
    loans, for the first `length` quarters."""
    total = np.zeros(length)
    for loan in loans:
        total += getattr(loan, name)[:length]
    return total


def covenant_messages(q: pd.DataFrame, loans: list[DebtSchedule]) -> list[str]:
    """A quarter whose DSCR is below the strictest covenant of the loans then being repaid."""
    messages = []
    for t, row in enumerate(q.itertuples()):
        live = [loan for loan in loans if loan.first_repayment <= t <= loan.maturity]
        if not live or np.isnan(row.dscr):
            continue
        covenant = max(loan.terms.covenant_dscr for loan in live)
        if row.dscr < covenant:
            names = ", ".join(loan.terms.id for loan in live)
            messages.append(
                f"covenant breach in {row.quarter}: the DSCR is {row.dscr:.2f}, below the {covenant:.2f} "
                f"covenant of {names} (CFADS {usd(row.ebitda_usd - row.tax_usd)} for "
                f"{usd(row.interest_usd + row.principal_usd)} of debt service)"
            )
    return messages
