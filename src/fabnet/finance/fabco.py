"""The fab company's money, quarter by quarter: what it earns from wafers, what its fabs cost to
run and build, grants, tax credits, income tax with loss carry-forward, debt, capital calls and
distributions per investor.

The fab company (FabCo) owns the network's fabs and is owned by the investors of `funding`. It
earns what a foundry earns, from wafers: the buyer pays the offtake price for each wafer that
leaves a fab (plus, under take-or-pay, for the share of the fab's output at capacity it did
not take), and spare wafers may go to the market at the market price. No accelerator price
ever enters its revenue.

Conventions:
- Money is nominal USD; quarter 0 is the horizon's first quarter; rates in the scenario are
  annual and compound quarterly.
- Wafers are real wafers (`Plan.capacity.real_wafer_starts`, `wafers_out`): a young fab starts
  more of them for the same good dies, and the buyer pays for each.
- Opex: variable per wafer start (plus an operator's fee per wafer), fixed per module staffed
  and quarter (online, or in its pre-operating quarters before the first wafer; paid whether
  the module is loaded or idle), and an operator's share of the site's wafer revenue.
- Capex, depreciation, book value and tax credits of each build (a module, a shell, a tool set)
  follow scenario.assets, the planner's rules. Depreciation is straight line per asset class
  from the quarter a build is placed in service. Grants pay their share of capex as
  it is spent, up to their cap, and are not taxed; the investment tax credit is cash (elective
  direct pay) when a qualifying module comes online.
- Income tax per regime, each site's income in its own regime, interest deducted in the home
  regime (the first of finance.tax_regimes), losses carried forward (finance.tax).
- Financing rules: capex is paid from capital calls, debt draws, grants and tax credits;
  operating cash pays the operating costs, tax and debt service, and — only where
  `reinvest_operating_cash` — later capex. A quarter's shortfall is called from every investor
  pro rata to what each still has committed and available; what cannot be called is a funding
  gap. Cash not needed later is distributed to equity through the waterfall, by paid-in share.
- Project debt (funding.project_debt, finance/debt.py): drawn as capex is spent, serviced from
  operating cash with a debt-service reserve; DSCR and LLCR per quarter, a covenant breach a
  message.
- At the end of the horizon the continuing value (finance/terminal.py: Gordon, a tail, or the
  builds' book value, scenario.assets) plus cash and the reserve repays the debt still owed, also what falls
  due after the horizon, and the rest goes to equity, so returns are not cut off by the horizon.
- NPV and IRR of the project: the unlevered flows with the continuing value at the end of the
  horizon (metrics.present_value); the equity IRR on the equity investors' flows together.
  Investor IRRs (finance/investors.py): equity capital called at the start of a quarter and
  distributed at its end (metrics.investor_irr); debt on its own schedule (draws, interest on
  the balance carried into the quarter, repayments), at quarter boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.format import usd
from fabnet.core.periods import Quarter
from fabnet.finance.debt import (
    cfads_timeline,
    covenant_messages,
    dscr,
    first_online,
    llcr,
    schedule_loans,
    sum_of,
)
from fabnet.finance.financing import financing_flows
from fabnet.finance.investors import GAP_TOLERANCE_USD, irr_note
from fabnet.finance.metrics import (
    annualise,
    investor_irr,
    irr,
    payback_period,
    peak_funding_need,
    present_value,
    with_terminal,
)
from fabnet.finance.tables import capacity_builds, grid, online_quarters
from fabnet.finance.tax import taxes
from fabnet.finance.terminal import SteadyState, continuing_value, steady_state
from fabnet.scenario.assets import asset
from fabnet.scenario.prices import ContractDraws, NodePrices, contract_terms, in_contract, offtake_prices, spare_prices
from fabnet.scenario.schema import Offtake, Scenario


@dataclass(frozen=True)
class Operations:
    """What the fab company's fabs do, per site and quarter (arrays [..., site, quarter]; a
    leading axis holds samples in the fixed-plan risk model)."""

    real_starts: np.ndarray  # real wafers started (for the buyer and spare)
    wafers_out: np.ndarray  # real wafers leaving the fab for the buyer
    spare_out: np.ndarray  # real wafers leaving the fab for the market
    capacity_out: np.ndarray  # the capacity's output, what take-or-pay counts
    modules_staffed: np.ndarray  # paying fixed opex: online, or qualifying before the first wafer


def operations(scenario: Scenario, capacity: pd.DataFrame) -> Operations:
    """The plan's capacity table (fabnet.plan.Plan.capacity) as arrays over sites × quarters."""
    sites, quarters = [s.id for s in scenario.sites], [str(q) for q in scenario.horizon.periods]
    columns = ("real_wafer_starts", "wafers_out", "spare_out", "capacity_out", "modules_staffed")
    return Operations(*(grid(capacity, "site", sites, quarters, column) for column in columns))


def wafer_payments(
    scenario: Scenario,
    ops: Operations,
    offtake: Offtake | None = None,
    prices: NodePrices | None = None,
    draws: ContractDraws | None = None,
) -> dict[str, np.ndarray]:
    """What the fab company earns per site and quarter ([..., site, quarter]): the buyer's
    payments for wafers at the offtake price, the take-or-pay top-up (for the wafers sold below
    the take-or-pay share of the output at capacity), and spare wafers sold to other customers
    (`prices`: sampled market wafer prices, `draws`: sampled contract terms, see scenario.prices).
    From the quarter the buyer defaults it pays nothing, and the wafers made for it go to other
    customers at the spare price where they may, else unsold."""
    contract = offtake or scenario.offtake
    periods = scenario.horizon.periods
    price = offtake_prices(scenario, periods, contract, prices)
    covered = in_contract(contract, periods)
    share, paying = contract_terms(contract, periods, draws)
    # the buyer underwrites the fabs' sales: it pays for what they sell below the take-or-pay
    # share of their output at capacity, wafers sold to other customers counting as sold
    short = np.maximum(share * ops.capacity_out - ops.wafers_out - ops.spare_out, 0.0)
    resold = ops.wafers_out * ~paying if contract.spare_wafers_to_market else 0.0
    return {
        "wafers": price * ops.wafers_out * paying,
        "take_or_pay": price * short * covered * paying,
        "spare": spare_prices(scenario, periods, prices) * (ops.spare_out + resold),
    }


def operating_flows(
    scenario: Scenario,
    ops: Operations,
    offtake: Offtake | None = None,
    prices: NodePrices | None = None,
    draws: ContractDraws | None = None,
) -> dict[str, np.ndarray]:
    """Revenue, operating costs and EBITDA per quarter ([..., quarter], USD), and the operating
    income per tax regime before depreciation ("by_regime", [..., regime, quarter])."""
    sites = scenario.sites
    operators = [scenario.operator(s.operator) for s in sites]
    paid = wafer_payments(scenario, ops, offtake, prices, draws)
    revenue = paid["wafers"] + paid["take_or_pay"] + paid["spare"]
    per_wafer = np.array([s.opex_per_wafer_usd for s in sites])[:, None]
    fee_per_wafer = np.array([o.fee_per_wafer_usd if o else 0.0 for o in operators])[:, None]
    share = np.array([o.revenue_share if o else 0.0 for o in operators])[:, None]
    fixed = np.array([s.fixed_opex_per_module_q_usd for s in sites])[:, None]
    opex = per_wafer * ops.real_starts
    fixed_opex = fixed * ops.modules_staffed
    fees = fee_per_wafer * ops.real_starts + share * revenue
    income = revenue - opex - fixed_opex - fees
    regimes = [t.id for t in scenario.finance.tax_regimes]
    in_regime = np.array([[s.tax_regime == r for s in sites] for r in regimes], dtype=float)
    return {
        "ebitda_usd": income.sum(axis=-2),
        "wafers_sold": ops.wafers_out.sum(axis=-2) + ops.spare_out.sum(axis=-2),
        "wafer_revenue_usd": paid["wafers"].sum(axis=-2),
        "take_or_pay_usd": paid["take_or_pay"].sum(axis=-2),
        "spare_revenue_usd": paid["spare"].sum(axis=-2),
        "revenue_usd": revenue.sum(axis=-2),
        "opex_usd": opex.sum(axis=-2),
        "fixed_opex_usd": fixed_opex.sum(axis=-2),
        "operator_fees_usd": fees.sum(axis=-2),
        "by_regime": np.einsum("rs,...st->...rt", in_regime, income),
    }


def capital_flows(scenario: Scenario, builds: pd.DataFrame, with_grants: bool = True) -> dict[str, np.ndarray]:
    """Construction, grants, tax credits and depreciation per quarter of what was built
    (modules, shells and tool sets: scenario.assets, the planner's rules), depreciation per
    regime ("depreciation_by_regime"), and the book value at the end (USD). Without grants:
    the same builds as if no grant had paid for them (the project's own economics)."""
    quarters = scenario.horizon.periods
    horizon = len(quarters)
    index = {str(q): i for i, q in enumerate(quarters)}
    sites = {s.id: s for s in scenario.sites}
    regimes = [t.id for t in scenario.finance.tax_regimes]
    regime_of = {t.id: t for t in scenario.finance.tax_regimes}
    life = scenario.finance.depreciation_years
    building, tools, itc = np.zeros(horizon), np.zeros(horizon), np.zeros(horizon)
    grants = np.zeros(horizon)
    depreciation = np.zeros((len(regimes), horizon))
    book = 0.0
    tools_built = np.zeros(len(regimes))  # the tools capex of the modules built, per regime
    built_capex = 0.0
    for site_id, rows in builds.groupby("site", sort=False):
        site = sites[str(site_id)]
        regime = regime_of[site.tax_regime]
        r = regimes.index(site.tax_regime)
        built_here = [
            (asset(site, str(row.kind)), index[row.started], row.modules, row.started) for row in rows.itertuples()
        ]
        spent, due = np.zeros(horizon), np.zeros(horizon)
        for built, start, count, _ in built_here:
            _add(spent, start, built.spending() * count)
            _add(due, start, np.add(*built.grant_due(site.grants.paid)) * count)
        paid = granted(due, site.grants.share_of_capex, site.grants.cap_usd) if with_grants else np.zeros(horizon)
        grants += paid
        share = grant_share_paid(paid, spent)
        for built, start, count, started in built_here:
            b, t = built.schedule()
            _add(building, start, b * count)
            _add(tools, start, t * count)
            tools_built[r] += built.tools_usd * count
            built_capex += built.capex_usd * count
            depreciation[r] += built.depreciation(start, life, horizon, share) * count
            in_service = start + built.in_service_q
            if in_service < horizon:
                itc[in_service] += built.tax_credit(regime, Quarter.parse(started)) * count
            book += built.book_value(start, horizon, life, share) * count
    return {
        "capex_building_usd": building,
        "capex_tools_usd": tools,
        "capex_usd": building + tools,
        "grants_usd": grants,
        "itc_usd": itc,
        "depreciation_usd": depreciation.sum(axis=0),
        "depreciation_by_regime": depreciation,
        "book_value_usd": np.array(book),
        "tools_capex_built_usd": np.array(tools_built.sum()),
        "tools_capex_by_regime_usd": tools_built,
        "capex_built_usd": np.array(built_capex),
    }


def granted(due: np.ndarray, share: float, cap: float | None) -> np.ndarray:
    """A grant's payments: its share of the capex as it falls due (Asset.grant_due: as spent,
    or when a build enters service), until its cap is used up."""
    wanted = share * due
    if cap is None:
        return wanted
    paid_before = np.minimum(np.cumsum(wanted) - wanted, cap)
    return np.minimum(wanted, cap - paid_before)


def grant_share_paid(paid: np.ndarray, spent: np.ndarray) -> float:
    """The share of a site's capex its grant paid inside the horizon: the scenario's share, or
    less where a cap ran out; what lowers the depreciable base and the book value."""
    total = float(spent.sum())
    return float(paid.sum()) / total if total > 0 else 0.0


def _add(target: np.ndarray, start: int, values: np.ndarray) -> None:
    end = min(start + len(values), len(target))
    if start < end:
        target[start:end] += values[: end - start]


def project_flows(
    scenario: Scenario, operating: dict[str, np.ndarray], capital: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Unlevered tax and the project's free cash flow ([..., quarter]), from the operating and
    capital flows: the same arithmetic for the plan and for every risk sample."""
    rates = np.array([t.rate for t in scenario.finance.tax_regimes])
    tax = taxes(taxable_before_interest(operating, capital), rates)
    fcf = operating["ebitda_usd"] - capital["capex_usd"] + capital["grants_usd"] + capital["itc_usd"] - tax
    return {"tax_unlevered_usd": tax, "project_fcf_usd": fcf}


def taxable_before_interest(operating: dict[str, np.ndarray], capital: dict[str, np.ndarray]) -> np.ndarray:
    """Taxable income per regime and quarter before interest: operating income less depreciation."""
    return operating["by_regime"] - capital["depreciation_by_regime"]


def paid_by_buyer(operating: dict[str, np.ndarray]) -> np.ndarray:
    """What the buyer pays the fab company per quarter: its wafers and the take-or-pay top-up."""
    return operating["wafer_revenue_usd"] + operating["take_or_pay_usd"]


def fabco_npv(scenario: Scenario, project_fcf: np.ndarray, terminal: float | np.ndarray) -> np.ndarray | float:
    """The fab company's NPV: its project flows and its continuing value at the end of the
    horizon (terminal.continuing_value), at the discount rate."""
    return present_value(project_fcf, scenario.finance.discount_rate, terminal)


def end_of_horizon(
    scenario: Scenario,
    ops: Operations,
    capital: dict[str, np.ndarray],
    offtake: Offtake | None = None,
    prices: NodePrices | None = None,
    draws: ContractDraws | None = None,
) -> tuple[SteadyState, np.ndarray | float]:
    """The steady state after the horizon and the continuing value (finance/terminal.py), for
    the plan and for every risk sample alike (`draws`: each sample's contract terms)."""
    state = steady_state(scenario, ops, capital, offtake, prices, draws)
    return state, continuing_value(scenario, state, capital)


@dataclass(frozen=True)
class FabCoMetrics:
    """The fab company's headline figures. The field names are the figure names
    (fabnet.core.columns labels them; the store and the report key on them)."""

    fabco_npv_usd: float
    fabco_irr: float | None  # a year; None when the flows never change sign
    fabco_irr_note: str | None  # why the IRR is above 100 % a year, where it is
    # the project's own economics: the same flows had no grant paid for its capex (grants are a
    # source of funds in a project's sources and uses, so both are reported)
    fabco_irr_before_grants: float | None
    equity_irr: float | None  # a year, on the equity investors' flows together; None without equity
    fabco_revenue_usd: float
    fabco_gross_margin: float | None  # None without revenue
    # the same once every fab build has ramped (ramped_from), None before or without revenue then
    fabco_gross_margin_after_ramp: float | None
    take_or_pay_share_of_revenue: float | None  # take-or-pay for wafers not taken, of all revenue
    payback_quarter: str | None  # None when the investors are not paid back within the horizon
    peak_funding_need_usd: float
    continuing_value_usd: float  # the value after the horizon (terminal.continuing_value), at its end
    continuing_value_pv_usd: float  # the same, discounted to the horizon's start: its part of the NPV
    continuing_value_share_of_npv: float | None  # that part / the NPV; None when the NPV is not positive
    terminal_book_value_usd: float
    min_dscr: float | None  # the lowest DSCR of the quarters with project-debt service; None without
    min_llcr: float | None
    debt_at_horizon_usd: float  # project debt still owed after the last quarter, repaid from the continuing value
    funding_gap_usd: float


@dataclass(frozen=True)
class FabCo:
    """The fab company's money: quarterly table, investors, their flows and its metrics."""

    quarterly: pd.DataFrame  # core.results: fabco_quarterly
    investors: pd.DataFrame  # investors
    investor_flows: pd.DataFrame  # investor_flows
    metrics: FabCoMetrics
    messages: list[str]


def fabco_financials(
    scenario: Scenario, builds: pd.DataFrame, ops: Operations, offtake: Offtake | None = None
) -> FabCo:
    """The fab company's money for a plan's builds and operations, under `offtake` (the
    scenario's contract unless given: `fabnet deal` varies it)."""
    quarters = scenario.horizon.periods
    operating = operating_flows(scenario, ops, offtake)
    capital = capital_flows(scenario, builds)
    project = project_flows(scenario, operating, capital)
    state, terminal = end_of_horizon(scenario, ops, capital, offtake)
    cfads = cfads_timeline(scenario, builds, operating, project, state)
    net_capex = capital["capex_usd"] - capital["grants_usd"]
    loans = schedule_loans(
        scenario.funding.project_debt,
        net_capex,
        net_capex,
        cfads,
        first_online(scenario, builds),
    )
    financing = financing_flows(
        scenario, operating, capital, taxable_before_interest(operating, capital), float(terminal), loans
    )
    table = pd.DataFrame({"quarter": [str(q) for q in quarters], "year": [q.year for q in quarters]})
    declared = results.table("fabco_quarterly")
    for name, values in {**operating, **capital, **project, **financing["quarterly"]}.items():
        if declared.column(name) is not None and np.shape(values) == (len(quarters),):
            table[name] = values
    table["equity_fcf_usd"] = table["distributions_usd"] - table["equity_calls_usd"]
    horizon = len(quarters)
    table["cfads_usd"] = cfads[:horizon]
    table["dscr"] = dscr(table["ebitda_usd"] - table["tax_usd"], sum_of(loans, "service", horizon))
    table["llcr"] = llcr(cfads, loans)[:horizon]
    table = declared.conform(table)
    before_grants = flows_before_grants(scenario, builds, ops, operating, offtake)
    metrics = _metrics(
        scenario, table, capital, float(terminal), financing, ramped_from(scenario, builds), before_grants
    )
    messages = _gap_messages(table) + covenant_messages(table, loans)
    return FabCo(table, financing["investors"], financing["investor_flows"], metrics, messages)


def flows_before_grants(
    scenario: Scenario, builds: pd.DataFrame, ops: Operations, operating: dict[str, np.ndarray], offtake: Offtake | None
) -> np.ndarray:
    """The project's flows, continuing value included, had no grant paid for its capex."""
    capital = capital_flows(scenario, builds, with_grants=False)
    _, terminal = end_of_horizon(scenario, ops, capital, offtake)
    return with_terminal(project_flows(scenario, operating, capital)["project_fcf_usd"], float(terminal))


def ramped_from(scenario: Scenario, builds: pd.DataFrame) -> int | None:
    """Index of the first quarter in which every fab build of the plan has come online and
    finished its ramp (None when that is after the horizon, or nothing adds capacity): where
    "after ramp" figures start."""
    online = online_quarters(builds, scenario.horizon.start)
    if not len(online):
        return None
    last = int((online + capacity_builds(builds)["ramp_quarters"].to_numpy()).max())
    return last if last < scenario.horizon.quarters else None


def gross_margin(q: pd.DataFrame) -> float | None:
    """Revenue less cash operating costs and depreciation, over revenue, of the quarters in `q`."""
    revenue = float(q["revenue_usd"].sum())
    cost_of_sales = revenue - float(q["ebitda_usd"].sum()) + float(q["depreciation_usd"].sum())
    return (revenue - cost_of_sales) / revenue if revenue > 0 else None


def _metrics(
    scenario: Scenario,
    q: pd.DataFrame,
    capital: dict[str, np.ndarray],
    terminal: float,
    financing: dict[str, Any],
    ramped: int | None,
    flows_before_grants: np.ndarray,
) -> FabCoMetrics:
    project = q["project_fcf_usd"].to_numpy()
    revenue = float(q["revenue_usd"].sum())
    # every provider of capital, lenders of project debt too: a fab needs its capex, however paid
    investors_net = (
        financing["received"].sum(axis=0)
        - financing["called"].sum(axis=0)
        - q["funding_gap_usd"].to_numpy()
        + financing["loans_net"]
    )
    before_terminal = investors_net - q["terminal_payout_usd"].to_numpy()
    before_terminal[-1] -= financing["loans_repaid_at_end"]
    payback = payback_period(before_terminal)
    flows = with_terminal(project, terminal)
    rate = annualise(irr(flows))
    npv = float(fabco_npv(scenario, project, terminal))
    terminal_pv = float(present_value(np.zeros(len(project)), scenario.finance.discount_rate, terminal))
    equity = financing["equity_rows"]
    equity_rate = (
        annualise(investor_irr(financing["called"][equity].sum(axis=0), financing["received"][equity].sum(axis=0)))
        if equity
        else None
    )
    dscr, llcr = q["dscr"].dropna(), q["llcr"].dropna()
    return FabCoMetrics(
        fabco_npv_usd=npv,
        fabco_irr=rate,
        fabco_irr_note=irr_note("The fab company", scenario, np.maximum(-flows, 0.0), np.maximum(flows, 0.0), rate),
        fabco_irr_before_grants=annualise(irr(flows_before_grants)),
        equity_irr=equity_rate,
        fabco_revenue_usd=revenue,
        fabco_gross_margin=gross_margin(q),
        fabco_gross_margin_after_ramp=None if ramped is None else gross_margin(q.iloc[ramped:]),
        take_or_pay_share_of_revenue=float(q["take_or_pay_usd"].sum()) / revenue if revenue > 0 else None,
        payback_quarter=str(scenario.horizon.start + payback) if payback is not None and payback > 0 else None,
        peak_funding_need_usd=peak_funding_need(investors_net),
        continuing_value_usd=terminal,
        continuing_value_pv_usd=terminal_pv,
        continuing_value_share_of_npv=terminal_pv / npv if npv > 0 else None,
        terminal_book_value_usd=float(capital["book_value_usd"]),
        min_dscr=float(dscr.min()) if len(dscr) else None,
        min_llcr=float(llcr.min()) if len(llcr) else None,
        debt_at_horizon_usd=financing["outstanding_usd"],
        funding_gap_usd=float(q["funding_gap_usd"].sum()),
    )


def _gap_messages(q: pd.DataFrame) -> list[str]:
    gaps = q[q["funding_gap_usd"] > GAP_TOLERANCE_USD]
    return [
        f"funding gap in {row.quarter}: the fab company needs {usd(row.funding_gap_usd)} more than "
        "its investors have committed by then"
        for row in gaps.itertuples()
    ]
