"""A plan's money, quarter by quarter: capex, depreciation, opex, revenue, grants, tax credits,
income tax with loss carry-forward, debt, capital calls and distributions per investor.

Inputs are the plan's tidy tables (`PlanTables`, the columns `fabnet.plan.Plan` produces) and
the scenario; the result is `Financials`. Conventions:
- Money is nominal USD; quarter 0 is the horizon's first quarter; rates in the scenario are
  annual and compound quarterly.
- Capex timing follows `Site.capex_schedule_usd` (the planner's rule), inside the horizon.
- Depreciation is straight line per asset class from the quarter a module comes online;
  packaging expansions depreciate like tools. The depreciable base is the gross capex.
- Grants are cash received as capex is spent and are not taxed; the investment tax credit is
  cash (elective direct pay) in the quarter a qualifying module comes online.
- Income tax is computed per tax regime with unlimited loss carry-forward. A site's opex and
  depreciation belong to its regime; revenue and the shared costs (foundry, packaging) are
  split by each regime's share of the quarter's wafer starts, foundry wafers counting for the
  home regime (the first in finance.tax_regimes), which also takes interest and packaging
  depreciation.
- Cash: when the quarter's cash would go negative, capital is called from every investor pro
  rata to what each still has committed and available (debt draws included); what cannot be
  called is a funding gap. Positive cash is distributed to equity, except (when the scenario
  reinvests operating cash) what the rest of the plan will still need. Without reinvestment,
  as in the planner's budget, sales only pay tax and debt service and then go to equity, so
  all spending is called from the investors (less grants and tax credits).
- At the end of the horizon the book value of the assets plus cash repays the debt and the rest
  goes to equity, so returns are not cut off by the horizon (as in the planner's objective).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fabnet.core.periods import Quarter
from fabnet.finance.depreciation import straight_line
from fabnet.finance.metrics import annualise, irr, npv, payback_period, peak_funding_need, quarterly_rate
from fabnet.finance.waterfall import EquityAccount, accrue_preferred_return, distribute
from fabnet.scenario.schema import Investor, Scenario

#: Amounts below this (USD) are rounding, not a funding gap.
GAP_TOLERANCE_USD = 1.0


@dataclass(frozen=True)
class PlanTables:
    """What finance reads of a plan (columns as in fabnet.plan.Plan)."""

    builds: pd.DataFrame            # site, started, modules, online
    packaging_builds: pd.DataFrame  # line, started, modules, online
    production: pd.DataFrame        # source, kind (site|foundry), quarter, wafer_starts
    supply: pd.DataFrame            # product, quarter, delivered
    cash: pd.DataFrame              # quarter, grants_usd, foundry_usd, packaging_usd


@dataclass(frozen=True)
class Financials:
    quarterly: pd.DataFrame         # one row per quarter, USD
    investors: pd.DataFrame         # one row per investor
    investor_flows: pd.DataFrame    # quarter × investor: cash to (+) or from (−) the investor
    metrics: dict[str, float | int | str | None]
    messages: list[str] = field(default_factory=list)


def compute_financials(scenario: Scenario, plan: PlanTables) -> Financials:
    quarters = scenario.horizon.periods
    index = {str(q): i for i, q in enumerate(quarters)}
    horizon = len(quarters)
    flows = _operating_flows(scenario, plan, index, horizon)
    financing = _finance(scenario, flows, horizon)
    quarterly = pd.DataFrame({"quarter": [str(q) for q in quarters], "year": [q.year for q in quarters]})
    for name, values in {**flows, **financing["quarterly"]}.items():
        if isinstance(values, np.ndarray) and values.ndim == 1:
            quarterly[name] = values
    investor_flows = pd.DataFrame(financing["investor_flows"].T, columns=[i.id for i in scenario.funding.investors])
    investor_flows.insert(0, "quarter", quarterly["quarter"])
    metrics = _metrics(scenario, quarterly, flows)
    messages = _gap_messages(quarters, quarterly)
    return Financials(quarterly, financing["investors"], investor_flows, metrics, messages)


# --- operating side ------------------------------------------------------------------------


def _operating_flows(scenario: Scenario, plan: PlanTables, index: dict[str, int],
                     horizon: int) -> dict[str, np.ndarray]:
    sites = {s.id: s for s in scenario.sites}
    regimes = [t.id for t in scenario.finance.tax_regimes]
    regime_of = {t.id: t for t in scenario.finance.tax_regimes}
    life = scenario.finance.depreciation_years
    building = np.zeros(horizon)
    tools = np.zeros(horizon)
    itc = np.zeros(horizon)
    depreciation = np.zeros((len(regimes), horizon))
    for row in plan.builds.itertuples():
        site = sites[row.site]
        start, online = index[row.started], Quarter.parse(row.online) - Quarter.parse(row.started) + index[row.started]
        b, t = site.capex_schedule_usd()
        _add(building, start, b * row.modules)
        _add(tools, start, t * row.modules)
        regime = regime_of[site.tax_regime]
        r = regimes.index(site.tax_regime)
        depreciation[r] += straight_line(site.capex_per_module_usd.building * row.modules, online,
                                         4 * life.building, horizon)
        depreciation[r] += straight_line(site.capex_per_module_usd.tools * row.modules, online,
                                         4 * life.tools, horizon)
        deadline = regime.itc_construction_deadline
        if regime.investment_tax_credit and (deadline is None or Quarter.parse(row.started) <= deadline) \
                and online < horizon:
            itc[online] += regime.investment_tax_credit * site.capex_per_module_usd.tools * row.modules
    lines = {line.id: line for line in scenario.packaging}
    packaging_capex = np.zeros(horizon)
    for row in plan.packaging_builds.itertuples():
        expansion = lines[row.line].expansion
        start = index[row.started]
        _add(packaging_capex, start, np.full(expansion.lead_time_q, expansion.capex_usd / expansion.lead_time_q)
             * row.modules)
        depreciation[0] += straight_line(expansion.capex_usd * row.modules, start + expansion.lead_time_q,
                                         4 * life.tools, horizon)

    prices = {p.id: p.price_usd for p in scenario.products}
    supply = plan.supply.assign(t=plan.supply["quarter"].map(index))
    revenue = np.bincount(supply["t"], weights=supply["delivered"] * supply["product"].map(prices),
                          minlength=horizon)
    delivered = np.bincount(supply["t"], weights=supply["delivered"], minlength=horizon)

    starts = np.zeros((len(regimes), horizon))
    opex = np.zeros((len(regimes), horizon))
    for row in plan.production.itertuples():
        t = index[row.quarter]
        if row.kind == "site":
            site = sites[row.source]
            r = regimes.index(site.tax_regime)
            opex[r, t] += row.wafer_starts * site.opex_per_wafer_usd
        else:
            r = 0
        starts[r, t] += row.wafer_starts
    cash = plan.cash.assign(t=plan.cash["quarter"].map(index)).sort_values("t")
    total_starts = starts.sum(axis=0)
    share = np.where(total_starts > 0, starts / np.where(total_starts > 0, total_starts, 1.0), 0.0)
    share[0, total_starts == 0] = 1.0  # no wafers: everything belongs to the home regime
    return {
        "delivered": delivered,
        "revenue_usd": revenue,
        "opex_usd": opex.sum(axis=0),
        "foundry_usd": cash["foundry_usd"].to_numpy(),
        "packaging_usd": cash["packaging_usd"].to_numpy(),
        "capex_building_usd": building,
        "capex_tools_usd": tools,
        "packaging_capex_usd": packaging_capex,
        "grants_usd": -cash["grants_usd"].to_numpy(),
        "itc_usd": itc,
        "depreciation_usd": depreciation.sum(axis=0),
        "_depreciation_by_regime": depreciation,
        "_opex_by_regime": opex,
        "_share_by_regime": share,
    }


def _add(target: np.ndarray, start: int, values: np.ndarray) -> None:
    end = min(start + len(values), len(target))
    if start < end:
        target[start:end] += values[: end - start]


# --- financing side ------------------------------------------------------------------------


@dataclass
class _Debt:
    investor: int
    rate_q: float
    tenor_q: int
    grace_q: int
    draws: list[tuple[int, float]] = field(default_factory=list)

    def balance_after(self, t: int) -> float:
        return sum(amount - self._repaid(amount, start, t) for start, amount in self.draws)

    def principal_in(self, t: int) -> float:
        return sum(self._repaid(amount, start, t) - self._repaid(amount, start, t - 1)
                   for start, amount in self.draws)

    def _repaid(self, amount: float, start: int, t: int) -> float:
        """Repaid of a draw by the end of quarter t: linear after the grace period."""
        periods = max(self.tenor_q - self.grace_q, 1)
        done = np.clip(t - (start + self.grace_q), 0, periods)
        return amount * done / periods


def _finance(scenario: Scenario, flows: dict[str, np.ndarray], horizon: int) -> dict:
    investors = scenario.funding.investors
    committed = scenario.funding.commitments_usd(scenario.horizon.periods)
    available = np.cumsum(committed, axis=1)
    called = np.zeros((len(investors), horizon))
    investor_flows = np.zeros((len(investors), horizon))
    accounts = [EquityAccount(inv.id, quarterly_rate(inv.preferred_return)) for inv in investors
                if inv.kind == "equity"]
    equity_rows = [i for i, inv in enumerate(investors) if inv.kind == "equity"]
    debts = {i: _Debt(i, quarterly_rate(inv.interest_rate or 0.0), inv.tenor_q or 1, inv.grace_q)
             for i, inv in enumerate(investors) if inv.kind == "debt"}
    waterfall = any(inv.preferred_return > 0 for inv in investors if inv.kind == "equity")
    regimes = scenario.finance.tax_regimes
    losses = np.zeros(len(regimes))

    margin = flows["revenue_usd"] - flows["foundry_usd"] - flows["packaging_usd"]
    spend = (flows["opex_usd"] + flows["foundry_usd"] + flows["packaging_usd"] + flows["capex_building_usd"]
             + flows["capex_tools_usd"] + flows["packaging_capex_usd"])
    reinvest = scenario.funding.reinvest_operating_cash
    inflow = flows["revenue_usd"] + flows["grants_usd"] + flows["itc_usd"]
    reserve = _future_need(inflow - spend) if reinvest else np.zeros(horizon)

    out = {k: np.zeros(horizon) for k in ("tax_usd", "tax_unlevered_usd", "interest_usd", "principal_usd",
                                          "equity_calls_usd", "debt_draws_usd", "distributions_usd",
                                          "funding_gap_usd", "cash_usd")}
    unlevered_losses = np.zeros(len(regimes))
    balance = 0.0
    for t in range(horizon):
        interest = sum(d.balance_after(t - 1) * d.rate_q for d in debts.values())
        principal = sum(d.principal_in(t) for d in debts.values())
        taxable = (flows["_share_by_regime"][:, t] * margin[t] - flows["_opex_by_regime"][:, t]
                   - flows["_depreciation_by_regime"][:, t])
        out["tax_unlevered_usd"][t] = _income_tax(taxable, regimes, unlevered_losses)
        taxable[0] -= interest
        tax = _income_tax(taxable, regimes, losses)
        out["tax_usd"][t], out["interest_usd"][t], out["principal_usd"][t] = tax, interest, principal
        for i, d in debts.items():
            investor_flows[i, t] += d.balance_after(t - 1) * d.rate_q + d.principal_in(t)
        # Without reinvestment (the planner's rule) sales pay tax and debt service and go to
        # equity; spending is paid from commitments, grants and tax credits alone.
        from_sales = flows["revenue_usd"][t] - tax - interest - principal
        balance += (from_sales if reinvest else min(from_sales, 0.0)) \
            + flows["grants_usd"][t] + flows["itc_usd"][t] - spend[t]
        if balance < 0:
            room = np.clip(available[:, t] - called.sum(axis=1), 0.0, None)
            call = min(-balance, room.sum())
            if room.sum() > 0 and call > 0:
                draw = call * room / room.sum()
                called[:, t] = draw
                investor_flows[:, t] -= draw
                for i, amount in enumerate(draw):
                    if i in debts and amount > 0:
                        debts[i].draws.append((t, amount))
                for account, i in zip(accounts, equity_rows, strict=True):
                    account.paid_in += draw[i]
            out["funding_gap_usd"][t] = max(-balance - call, 0.0)
            balance = 0.0 if out["funding_gap_usd"][t] > 0 else balance + call
        if not reinvest:
            balance += max(from_sales, 0.0)  # after this quarter's calls: to be distributed
        accrue_preferred_return(accounts)
        last = t == horizon - 1
        payout = (_terminal_payout(balance, flows, debts, investor_flows, t, out) if last
                  else max(balance - reserve[t], 0.0))
        if payout > 0 and accounts:
            parts = distribute(payout, accounts, waterfall)
            investor_flows[equity_rows, t] += parts
            out["distributions_usd"][t] = parts.sum()
            balance = 0.0 if last else balance - parts.sum()
        out["cash_usd"][t] = balance
        out["equity_calls_usd"][t] = called[equity_rows, t].sum()
        out["debt_draws_usd"][t] = called[list(debts), t].sum() if debts else 0.0

    table = _investor_table(investors, committed, called, investor_flows)
    return {"quarterly": out, "investor_flows": investor_flows, "investors": table}


def _income_tax(taxable: np.ndarray, regimes, losses: np.ndarray) -> float:  # type: ignore[no-untyped-def]
    """Tax of one quarter over all regimes; `losses` (carried forward) is updated in place."""
    tax = 0.0
    for r, regime in enumerate(regimes):
        if taxable[r] <= 0:
            losses[r] -= taxable[r]
            continue
        used = min(losses[r], taxable[r])
        losses[r] -= used
        tax += regime.rate * (taxable[r] - used)
    return tax


def _future_need(net: np.ndarray) -> np.ndarray:
    """For each quarter t, the most the quarters after it will draw down in total before they
    recover: max(0, −min over u > t of net[t+1] + … + net[u])."""
    need = np.zeros(len(net))
    best_from_next = 0.0  # most negative partial sum starting at t + 1 (none yet: 0)
    for t in range(len(net) - 1, -1, -1):
        need[t] = max(0.0, -best_from_next)
        best_from_next = min(net[t], net[t] + best_from_next)
    return need


def _book_value(flows: dict[str, np.ndarray]) -> float:
    capex = flows["capex_building_usd"] + flows["capex_tools_usd"] + flows["packaging_capex_usd"]
    return float(capex.sum() - flows["depreciation_usd"].sum())


def _terminal_payout(balance: float, flows, debts, investor_flows, t: int, out) -> float:  # type: ignore[no-untyped-def]
    """End of horizon: assets at book value plus cash repay the debt; equity gets the rest."""
    value = balance + _book_value(flows)
    for i, debt in debts.items():
        owed = debt.balance_after(t)
        repay = min(owed, max(value, 0.0))
        investor_flows[i, t] += repay
        out["principal_usd"][t] += repay
        value -= repay
    return max(value, 0.0)


def _investor_table(investors: tuple[Investor, ...], committed: np.ndarray, called: np.ndarray,
                    flows: np.ndarray) -> pd.DataFrame:
    """Committed, called and received (gross: a call and a distribution in the same quarter are
    both counted), IRR of the net quarterly flows, and multiple = received / called."""
    rows = []
    for i, investor in enumerate(investors):
        paid = called[i].sum()
        received = (flows[i] + called[i]).sum()
        rows.append({
            "investor": investor.id, "kind": investor.kind, "committed_usd": committed[i].sum(),
            "called_usd": paid, "received_usd": received,
            "irr": annualise(irr(_without_dust(flows[i]))),
            "multiple": received / paid if paid > 0 else None,
        })
    return pd.DataFrame(rows)


def _without_dust(flows: np.ndarray) -> np.ndarray:
    """Flows below a dollar are rounding; left in, a −1e-9 adds a sign change and a false IRR."""
    return np.where(np.abs(flows) < 1.0, 0.0, flows)


# --- metrics and messages ------------------------------------------------------------------


def _metrics(scenario: Scenario, q: pd.DataFrame, flows: dict[str, np.ndarray]) -> dict:
    rate_q = quarterly_rate(scenario.finance.discount_rate)
    project = (q["revenue_usd"] - q["opex_usd"] - q["foundry_usd"] - q["packaging_usd"]
               - q["capex_building_usd"] - q["capex_tools_usd"] - q["packaging_capex_usd"]
               + q["grants_usd"] + q["itc_usd"] - q["tax_unlevered_usd"]).to_numpy()
    with_terminal = project.copy()
    with_terminal[-1] += _book_value(flows)
    q["project_fcf_usd"] = project
    q["equity_fcf_usd"] = q["distributions_usd"] - q["equity_calls_usd"]
    costs = (q["opex_usd"] + q["foundry_usd"] + q["packaging_usd"] + q["capex_building_usd"]
             + q["capex_tools_usd"] + q["packaging_capex_usd"] - q["grants_usd"] - q["itc_usd"]).to_numpy()
    costs_net = costs.copy()
    costs_net[-1] -= _book_value(flows)
    units = npv(rate_q, q["delivered"].to_numpy())
    payback = payback_period(project)
    quarters = scenario.horizon.periods
    return {
        "revenue_basis": scenario.finance.revenue,
        "npv_usd": npv(rate_q, with_terminal),
        "irr": annualise(irr(_without_dust(with_terminal))),
        "payback_quarter": str(quarters[payback]) if payback is not None else None,
        "peak_funding_need_usd": peak_funding_need(project),
        "levelised_cost_per_accelerator_usd": npv(rate_q, costs_net) / units if units > 0 else None,
        "terminal_book_value_usd": _book_value(flows),
        "funding_gap_usd": float(q["funding_gap_usd"].sum()),
    }


def _gap_messages(quarters: list[Quarter], q: pd.DataFrame) -> list[str]:
    gaps = q[q["funding_gap_usd"] > GAP_TOLERANCE_USD]
    return [f"funding gap in {row.quarter}: ${row.funding_gap_usd / 1e9:,.2f} B more than the "
            "investors have committed by then is needed" for row in gaps.itertuples()]
