"""The fab company after the horizon: its continuing value at the end of the last quarter, the
one number that the NPV, the project IRR and the equity's terminal payout all read
(`continuing_value`), and the steady-state cash flow behind it, which also carries the project
debt's CFADS past the horizon (finance/debt.py).

Methods (finance.continuing_value.method):
- gordon: TV_T = FCF_{T+1} / (r − g), r the annual discount rate, g the annual growth (negative:
  the node's price falls), FCF_{T+1} = FCF_ss × (1 + g), FCF_ss the steady-state year below;
- tail: tail_years more years, year k's revenue × (1 + g)^k with costs held, taxed, less
  maintenance capex, each year's flow discounted at r (a year that would lose money closes the
  fab: the tail counts max(flow, 0)), then salvage = salvage_share_of_capex × capex;
- book_value: the modules' book value net of grants (scenario.assets.Asset.book_value), the rule before
  continuing values.

The steady-state year (`steady_state`): the last quarter's modules and capacity at the plan's
load, four times, at the last quarter's prices. The load is each site's highest load (wafers
sold / output at capacity) over the last four quarters, so a wind-down at the end of the
horizon (no wafer starts in its last quarters, because wafers started then would leave the fab
after it) does not become the fab's future: the fab is valued at the load it ran at before. In
the steady state a wafer started is a wafer sold. Tax: each regime's rate on its operating
income less maintenance capex (in a steady state depreciation equals replacement spending),
without losses to carry. Maintenance capex: maintenance_capex_share × the modules' tools capex
(or the last year's depreciation) a year.

Vectorised: the operations and prices may carry a leading samples axis (risk/fixed.py), and so
then do the values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabnet.finance.metrics import npv
from fabnet.scenario.prices import ContractDraws, NodePrices
from fabnet.scenario.schema import Offtake, Scenario

#: Quarters whose load a steady state may take (the last year).
LAST_YEAR_Q = 4


@dataclass(frozen=True)
class SteadyState:
    """One steady-state year after the horizon ([...] per sample), USD a year."""

    revenue_usd: np.ndarray | float
    cash_costs_usd: np.ndarray | float  # opex, fixed opex, operator fees
    taxable_by_regime_usd: np.ndarray  # [..., regime]: operating income before maintenance
    tax_rates: np.ndarray  # [regime]
    maintenance_usd: float
    revenue_by_regime: np.ndarray  # [..., regime]
    maintenance_by_regime: np.ndarray  # [regime]

    def tax(self, revenue_scale: np.ndarray | float = 1.0) -> np.ndarray | float:
        """Tax in a year whose revenue is `revenue_scale` × the steady state's (costs held),
        the revenue change falling on each regime in proportion to its revenue share."""
        taxable = self.taxable_by_regime_usd - self.maintenance_by_regime
        extra = (np.asarray(revenue_scale) - 1.0)[..., None] * self.revenue_by_regime
        return (np.maximum(taxable + extra, 0.0) * self.tax_rates).sum(axis=-1)

    @property
    def fcf_usd(self) -> np.ndarray | float:
        """Free cash flow of the steady-state year: revenue − cash costs − tax − maintenance."""
        return self.revenue_usd - self.cash_costs_usd - self.tax() - self.maintenance_usd


def steady_state(
    scenario: Scenario,
    ops: object,
    capital: dict[str, np.ndarray],
    offtake: Offtake | None = None,
    prices: NodePrices | None = None,
    draws: ContractDraws | None = None,
) -> SteadyState:
    """The steady-state year after the horizon of the fab company's plan (see the module); a
    buyer that defaulted (the scenario's, or each sample's `draws`) pays nothing in it."""
    from fabnet.finance.fabco import Operations, operating_flows  # fabco imports this module

    assert isinstance(ops, Operations)
    horizon = scenario.horizon.quarters
    last = slice(max(horizon - LAST_YEAR_Q, 0), horizon)
    sold = ops.wafers_out + ops.spare_out
    load = np.divide(sold, ops.capacity_out, out=np.zeros_like(sold), where=ops.capacity_out > 0)
    best = np.argmax(load[..., last], axis=-1)[..., None] + last.start  # [..., site, 1]
    at_best = {name: np.take_along_axis(getattr(ops, name), best, axis=-1) for name in ("wafers_out", "spare_out")}
    capacity_then = np.take_along_axis(ops.capacity_out, best, axis=-1)
    capacity = ops.capacity_out[..., -1:]
    scale = np.divide(capacity, capacity_then, out=np.zeros_like(capacity), where=capacity_then > 0)
    wafers_out, spare_out = at_best["wafers_out"] * scale, at_best["spare_out"] * scale
    steady = Operations(
        real_starts=_held(wafers_out + spare_out, horizon),
        wafers_out=_held(wafers_out, horizon),
        spare_out=_held(spare_out, horizon),
        capacity_out=_held(capacity, horizon),
        modules_staffed=_held(ops.modules_staffed[..., -1:], horizon),
    )
    # take-or-pay is the contract's floor within the horizon, not the fab's business after it
    contract = (offtake or scenario.offtake).model_copy(update={"take_or_pay_share": 0.0})
    if draws is not None:
        draws = ContractDraws(np.zeros_like(draws.take_or_pay_share), draws.buyer_default_q)
    flows = operating_flows(scenario, steady, contract, prices, draws)
    cv = scenario.finance.continuing_value
    by_regime = 4.0 * flows["by_regime"][..., -1]  # [..., regime]
    basis = (
        capital["tools_capex_built_usd"].sum()
        if cv.maintenance_capex_basis == "tools_capex"
        else capital["depreciation_usd"][..., last].sum(axis=-1) * 4 / max(last.stop - last.start, 1)
    )
    maintenance = cv.maintenance_capex_share * float(np.asarray(basis).sum())
    by_regime_basis = capital["tools_capex_by_regime_usd"]
    weights = by_regime_basis / by_regime_basis.sum() if by_regime_basis.sum() > 0 else by_regime_basis
    revenue_by_regime = 4.0 * _revenue_by_regime(scenario, steady, contract, prices, draws)
    return SteadyState(
        revenue_usd=4.0 * flows["revenue_usd"][..., -1],
        cash_costs_usd=4.0 * (flows["revenue_usd"][..., -1] - flows["ebitda_usd"][..., -1]),
        taxable_by_regime_usd=by_regime,
        tax_rates=np.array([t.rate for t in scenario.finance.tax_regimes]),
        maintenance_usd=maintenance,
        revenue_by_regime=revenue_by_regime,
        maintenance_by_regime=maintenance * weights,
    )


def _held(values: np.ndarray, horizon: int) -> np.ndarray:
    """A [..., site, 1] quantity as every quarter of the horizon."""
    return np.broadcast_to(values, (*values.shape[:-1], horizon)).copy()


def _revenue_by_regime(
    scenario: Scenario, ops: object, offtake: Offtake | None, prices: NodePrices | None, draws: ContractDraws | None
) -> np.ndarray:
    """The last quarter's wafer revenue per tax regime ([..., regime])."""
    from fabnet.finance.fabco import Operations, wafer_payments

    assert isinstance(ops, Operations)
    paid = wafer_payments(scenario, ops, offtake, prices, draws)
    revenue = (paid["wafers"] + paid["take_or_pay"] + paid["spare"])[..., -1]  # [..., site]
    regimes = [t.id for t in scenario.finance.tax_regimes]
    in_regime = np.array([[s.tax_regime == r for s in scenario.sites] for r in regimes], dtype=float)
    return np.einsum("rs,...s->...r", in_regime, revenue)


def gordon(fcf_next: np.ndarray | float, rate: float, growth: float) -> np.ndarray | float:
    """TV = FCF_{T+1} / (r − g): the value at T of a cash flow a year from T growing at g."""
    if growth >= rate:
        raise ValueError(f"a Gordon continuing value needs growth ({growth}) below the discount rate ({rate})")
    return fcf_next / (rate - growth)


def tail_flows(state: SteadyState, growth: float, years: int) -> np.ndarray:
    """The tail's yearly free cash flows [..., year]: year k (1…N) at revenue × (1 + g)^k,
    costs and maintenance held, taxed; a year that would lose money is not operated (0)."""
    flows = []
    for k in range(1, years + 1):
        scale = (1.0 + growth) ** k
        flow = state.revenue_usd * scale - state.cash_costs_usd - state.tax(scale) - state.maintenance_usd
        flows.append(np.maximum(flow, 0.0))
    return np.stack(flows, axis=-1)


def tail_value(state: SteadyState, rate: float, growth: float, years: int, salvage: float) -> np.ndarray | float:
    """The tail's value at T: its yearly flows and the salvage at its end, at the annual rate."""
    flows = tail_flows(state, growth, years)
    leading = np.zeros((*flows.shape[:-1], 1))
    value = npv(rate, np.concatenate([leading, flows], axis=-1))
    return value + salvage / (1.0 + rate) ** years


def continuing_value(scenario: Scenario, state: SteadyState, capital: dict[str, np.ndarray]) -> np.ndarray | float:
    """The fab company's value at the end of the horizon by the scenario's method: the one
    number its NPV, its project IRR and its equity's terminal payout read."""
    cv = scenario.finance.continuing_value
    rate = scenario.finance.discount_rate
    if cv.method == "book_value":
        return float(capital["book_value_usd"])
    if cv.method == "gordon":
        return gordon(state.fcf_usd * (1.0 + cv.growth), rate, cv.growth)
    salvage = cv.salvage_share_of_capex * float(capital["capex_built_usd"])
    return tail_value(state, rate, cv.growth, cv.tail_years, salvage)


def steady_cfads_q(state: SteadyState, growth: float, quarters: int) -> np.ndarray:
    """CFADS for `quarters` quarters after the horizon ([..., quarter]): the steady-state
    free cash flow a quarter, growing at g a year from the first (a year's flow at T + 1 is
    FCF_ss × (1 + g), as in the Gordon value)."""
    k = np.arange(1, quarters + 1)
    per_quarter = np.asarray(state.fcf_usd, dtype=float)[..., None] / 4.0
    return per_quarter * (1.0 + growth) ** (k / 4.0)
