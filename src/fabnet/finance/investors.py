"""The fab company's investors as a table: what each put in and got back, its IRR against its
hurdle (equity: calls at the start of a quarter, distributions at its end; debt: its schedule's
flows), and the project loans beside them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.format import IRR_SHOWN_UP_TO, usd
from fabnet.core.format import irr as irr_text
from fabnet.finance.debt import DebtSchedule
from fabnet.finance.metrics import annualise, investor_irr, irr, without_dust
from fabnet.scenario.schema import Investor, Scenario

#: Amounts below this (USD) are rounding, not money put in or a funding gap.
GAP_TOLERANCE_USD = 1.0


def investor_table(
    scenario: Scenario, investors: tuple[Investor, ...], committed: np.ndarray, called: np.ndarray, received: np.ndarray
) -> pd.DataFrame:
    """Committed, called and received; IRR (equity: calls at the start of a quarter,
    distributions at its end; debt: its schedule's flows), multiple = received / called, and
    whether the IRR clears the investor's hurdle."""
    rows = []
    for i, investor in enumerate(investors):
        paid, back = called[i].sum(), received[i].sum()
        rate = (
            investor_irr(called[i], received[i])
            if investor.kind == "equity"
            else irr(without_dust(received[i] - called[i]))
        )
        annual = annualise(rate)
        hurdle = hurdle_rate(scenario, investor)
        rows.append(
            {
                "investor": investor.id,
                "kind": investor.kind,
                "committed_usd": committed[i].sum(),
                "called_usd": paid,
                "received_usd": back,
                "irr": annual if annual is not None else float("nan"),
                "multiple": back / paid if paid > 0 else float("nan"),
                "hurdle": hurdle,
                "clears_hurdle": bool(paid > 0 and annual is not None and annual >= hurdle - 1e-9),
                "irr_note": irr_note(investor.id, scenario, called[i], received[i], annual) or "",
            }
        )
    return results.table("investors").conform(pd.DataFrame(rows))


def hurdle_rate(scenario: Scenario, investor: Investor) -> float:
    """The annual IRR an investor needs: its own hurdle, or its spread over the discount rate or
    the debt rate (the first senior project debt's, else the first project debt's), its interest
    rate for debt, else the scenario's discount rate."""
    if investor.hurdle_rate is not None:
        return investor.hurdle_rate
    if investor.hurdle_spread is not None:
        return _hurdle_base(scenario, investor) + investor.hurdle_spread
    if investor.kind == "debt" and investor.interest_rate is not None:
        return investor.interest_rate
    return scenario.finance.discount_rate


def _hurdle_base(scenario: Scenario, investor: Investor) -> float:
    loans = scenario.funding.project_debt
    if investor.hurdle_over == "debt_rate" and loans:
        return next((d for d in loans if d.kind == "senior"), loans[0]).interest_rate
    return scenario.finance.discount_rate


def irr_note(
    who: str, scenario: Scenario, paid_in: np.ndarray, paid_out: np.ndarray, annual: float | None
) -> str | None:
    """For an IRR above 100 % a year, the sentence saying which cash flows cause it: little
    money in, much more back soon after."""
    if annual is None or annual <= IRR_SHOWN_UP_TO:
        return None
    start = scenario.horizon.start
    first_in = int(np.argmax(paid_in > GAP_TOLERANCE_USD))
    back = np.cumsum(paid_out) >= paid_in.sum()
    repaid = int(np.argmax(back)) if back.any() else len(paid_out) - 1
    return (
        f"{who}'s IRR is above 100 % a year ({irr_text(annual)}) because {usd(paid_in.sum())} "
        f"put in from {start + first_in} is back by {start + repaid}, and {usd(paid_out.sum())} "
        "comes back in all"
    )


# --- metrics and messages ------------------------------------------------------------------


def loan_table(loans: list[DebtSchedule], received: np.ndarray) -> pd.DataFrame:
    """The project loans as rows of the investors' table: drawn, received, their IRR."""
    rows = []
    for j, loan in enumerate(loans):
        paid, back = float(loan.draws[: received.shape[1]].sum()), float(received[j].sum())
        rate = annualise(irr(without_dust(received[j] - loan.draws[: received.shape[1]])))
        rows.append(
            {
                "investor": loan.terms.id,
                "kind": f"debt ({loan.terms.kind})",
                "committed_usd": paid,
                "called_usd": paid,
                "received_usd": back,
                "irr": rate if rate is not None else float("nan"),
                "multiple": back / paid if paid > 0 else float("nan"),
                "hurdle": loan.terms.interest_rate,
                "clears_hurdle": bool(paid > 0 and rate is not None and rate >= loan.terms.interest_rate - 1e-6),
                "irr_note": "",
            }
        )
    return pd.DataFrame(rows)
