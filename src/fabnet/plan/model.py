"""The capacity-expansion MILP, stated as a flat sequence of `define_*` functions.

Dimensions: site, product, quarter, plus line (packaging), offer (foundry), memory (HBM) and
age (of a module). Each function adds one family of variables or constraints; `build_model`
lists them in order, so the whole formulation reads top to bottom: the variables and the flows
of wafers and accelerators from plan.flows, then the money (here). Money is in MUSD (see
network/inputs.py).

Flow of one quarter t:

    modules started at a site ──(lead time, ramp, yield learning)──▶ effective wafer capacity
    wafer starts at a site ──(queue, cleared by the clearing function of its load)──▶ cleared
    cleared + foundry starts ──(raw cycle time + packaging time, split over two quarters)──▶ dies
    dies + die bank ──▶ packages (HBM, packaging line) ──(packaging yield)──▶ accelerators
    accelerators made + bought + unmet = demand
    the fab company's cash: investors + grants + tax credits (+ its operating cash) ≥ its spending

Two parties: the fab company (the sites, funded by the investors) sells wafers to the buyer
(the products, the foundry wafers, HBM, packaging). The objective is the whole system's cost:
what the buyer pays the fab company cancels out of it, and enters only the fab company's cash.

Approximations, each chosen to keep the model linear:
- A module's yield learning scales its capacity ("mature-equivalent wafers"): a module at age a
  offers ramp[a] × learning[a] of its wafers, where learning[a] is its good-die output relative
  to a mature module. Variable opex is charged on those mature-equivalent wafers, so it is
  understated by the learning loss while a module is young; fixed opex is charged per module.
- Each module learns from its own first wafer, as a new fab would, even when an older module at
  the same site is already mature.
- Dies may be banked for later quarters; accelerators may not (unmet demand is lost).
- Packaging takes its line's cycle time after the die leaves the fab; the line's capacity and
  the HBM are counted in the quarter the accelerator is finished.
- Foundry wafers are reserved as they are used (nothing is wasted when the future is known);
  take-or-pay matters once the future differs (fixed-plan risk). A robust plan reserves them
  ahead (`foundry_reserved`, first stage), paying take-or-pay on what a future leaves unused.
- The fab company's budget counts its wafer revenue (at the offtake price, when the wafers leave
  the fab) in mature-equivalent wafers (finance bills the real ones, more while a fab learns:
  on tigris $8.7 B against $9.6 B), without the take-or-pay top-up and before tax: a tighter
  budget than finance's. An operator's share of revenue is understated the same way.
- Packaging expansions are priced in full in the objective, with no value left at the end.
"""

from __future__ import annotations

import linopy
import numpy as np
import numpy.typing as npt
import xarray as xr

from fabnet.network import PlanInputs, prepare
from fabnet.plan.capacity import define_conversions, define_cumulative_builds, modules_staffed
from fabnet.plan.flows import (
    after,
    beyond_horizon_share,
    define_build_limits,
    define_clearing,
    define_demand,
    define_die_balance,
    define_end_of_horizon,
    define_foundry_capacity,
    define_hbm_supply,
    define_packaging_capacity,
    define_site_capacity,
    define_variables,
    define_wafer_markets,
    entering_cycle,
    site_starts,
    tail_value_musd,
    wafers_out,
)
from fabnet.plan.rows import coord, lagged, per_offer, per_product, per_quarter, per_site, terms
from fabnet.scenario.schema import Scenario


def build_model(scenario: Scenario, cycle_time: str = "load") -> linopy.Model:
    """The planning MILP of a scenario: minimise the system's discounted cost plus what unmet
    demand costs the buyer; `cycle_time` "load" or "constant" (see prepare)."""
    return build_from_inputs(prepare(scenario, cycle_time))


def build_from_inputs(x: PlanInputs) -> linopy.Model:
    return build_with_money(x)[0]


def build_with_money(x: PlanInputs) -> tuple[linopy.Model, dict[str, linopy.LinearExpression]]:
    """The model and its money per quarter (`spending`), which the budget table of a solved plan
    reads back (plan.extract): built once (they are about a quarter of a small model's build)."""
    m = linopy.Model(force_dim_names=True)
    define_variables(m, x)
    define_build_limits(m, x)
    define_cumulative_builds(m, x)
    define_conversions(m, x)
    define_site_capacity(m, x)
    define_wafer_markets(m, x)
    define_clearing(m, x)
    define_foundry_capacity(m, x)
    entering = entering_cycle(m, x)  # built once: the die balance and the end of the horizon share it
    define_die_balance(m, x, entering)
    define_demand(m, x)
    define_end_of_horizon(m, x, entering)
    define_packaging_capacity(m, x)
    define_hbm_supply(m, x)
    money = spending(m, x)  # built once: the grants, the cash rows and the objective share it
    define_grants(m, x, money)
    define_cash(m, x, money)
    define_objective(m, x, money)
    return m, money


def site_capex(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """MUSD spent on construction at each site and quarter: capacity units and shells, each
    on its own schedule (scenario.assets)."""
    return _by_profiles(m, x, x.capex_profile, x.shell_profile)


def grant_due(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """MUSD at each site and quarter that the site's grant share applies to: the construction
    spending, or for a grant paid in service the builds entering service (Asset.grant_due)."""
    return _by_profiles(m, x, x.grant_profile, x.shell_grant_profile)


def _by_profiles(
    m: linopy.Model, x: PlanInputs, unit: npt.NDArray[np.float64], of_shell: npt.NDArray[np.float64]
) -> linopy.LinearExpression:
    spent = _spent(terms(m, "build"), unit, x)
    if "shell" in m.variables:
        spent = spent + _spent(terms(m, "shell"), of_shell, x)
    return spent


def _spent(builds: linopy.LinearExpression, profile: npt.NDArray[np.float64], x: PlanInputs) -> linopy.LinearExpression:
    steps = coord(range(profile.shape[1]), "step")
    per_step = xr.DataArray(profile, dims=("site", "step"), coords={"site": x.sites})
    return (lagged(builds, steps) * per_step).sum("step")


def define_grants(m: linopy.Model, x: PlanInputs, money: dict[str, linopy.LinearExpression]) -> None:
    """A grant pays its share of construction spending as it happens, or of each build when it
    enters service (`grant_due`). Where it has a cap, a variable carries it (up to the share,
    and up to the cap in total); elsewhere the share enters the spending directly, which keeps
    the model smaller."""
    if "capped_grant" not in m.variables:
        return
    grant = terms(m, "capped_grant")
    capped = np.isfinite(x.grant_cap_musd)
    m.add_constraints(
        grant <= money["grant_due_by_site"] * per_site(x, x.grant_share),
        name="grant_share",
        mask=per_site(x, capped).broadcast_like(coord(range(x.horizon), "quarter")),
    )
    m.add_constraints(
        grant.sum("quarter") <= per_site(x, np.where(capped, x.grant_cap_musd, 0.0)),
        name="grant_cap",
        mask=per_site(x, capped),
    )


#: The fab company's money per quarter (MUSD, positive = paid); spending() also gives the
#: buyer's "foundry", "hbm", "packaging" and "bought".
FABCO_KINDS = ("capex", "grants", "tax_credits", "opex", "fixed_opex", "operator_fees", "wafer_revenue")


def spending(m: linopy.Model, x: PlanInputs) -> dict[str, linopy.LinearExpression]:
    """MUSD per quarter within the horizon, by kind (FABCO_KINDS and the buyer's, those that
    exist; grants, tax credits and revenue negative: money received), plus "capex_by_site" and
    "grant_due_by_site"."""
    kinds: dict[str, linopy.LinearExpression] = {}
    if x.sites:
        kinds["capex_by_site"] = site_capex(m, x)
        kinds["capex"] = kinds["capex_by_site"].sum("site")
        uncapped_share = np.where(np.isfinite(x.grant_cap_musd), 0.0, x.grant_share)
        # a grant paid as spent applies to the spending itself: no second expression to build
        as_spent = np.array_equal(x.grant_profile, x.capex_profile) and np.array_equal(
            x.shell_grant_profile, x.shell_profile
        )
        kinds["grant_due_by_site"] = kinds["capex_by_site"] if as_spent else grant_due(m, x)
        kinds["grants"] = -(kinds["grant_due_by_site"] * per_site(x, uncapped_share)).sum("site")
        if "capped_grant" in m.variables:
            kinds["grants"] = kinds["grants"] - terms(m, "capped_grant").sum("site")
        per_start = xr.DataArray(x.itc_musd, dims=("site", "quarter"), coords={"site": x.sites})
        kinds["tax_credits"] = -lagged(terms(m, "build") * per_start, per_site(x, x.lead_q)).sum("site")
        kinds["opex"] = (site_starts(m) * per_site(x, x.opex_musd)).sum("site")
        kinds["fixed_opex"] = (modules_staffed(m, x) * per_site(x, x.fixed_opex_musd)).sum("site")
        revenue = site_revenue(m, x)
        kinds["operator_fees"] = (revenue * per_site(x, x.revenue_share)).sum("site")
        kinds["wafer_revenue"] = -revenue.sum("site")
    if x.offers:
        # what finance.buyer.foundry_payments charges: the wafers used, and the take-or-pay
        # share of those reserved ahead and left unused (every offer with take-or-pay reserves
        # ahead once any does)
        paid = terms(m, "foundry").sum("product")
        if "foundry_reserved" in m.variables:
            paid = paid + (terms(m, "foundry_reserved") - paid) * per_offer(x, x.offer_take_or_pay)
        kinds["foundry"] = (paid * per_quarter(x, x.offer_price_musd, ("offer", x.offers))).sum("offer")
    if "packages" in m.variables:
        per_package = per_product(x, x.parts_musd)
        if x.memories:
            stack_price = xr.DataArray(
                np.array(
                    [
                        x.hbm_price_musd[h] * stacks if h >= 0 else np.zeros(x.horizon)
                        for h, stacks in zip(x.product_hbm, x.hbm_stacks, strict=True)
                    ]
                ),
                dims=("product", "quarter"),
                coords={"product": x.products, "quarter": range(x.horizon)},
            )
            kinds["hbm"] = (terms(m, "packages") * stack_price).sum("product")
        kinds["packaging"] = (terms(m, "packages") * per_package).sum("product")
    if "bought" in m.variables:
        kinds["bought"] = (terms(m, "bought") * per_quarter(x, x.price_musd, ("product", x.products))).sum("product")
    return kinds


def spare_sales(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """MUSD per site and quarter from spare wafers sold to other customers as they leave the fab."""
    price = xr.DataArray(
        x.spare_price_musd, dims=("site", "quarter"), coords={"site": x.sites, "quarter": range(x.horizon)}
    )
    return after(1 * terms(m, "spare"), per_site(x, x.site_cycle_q)) * price


def site_revenue(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """MUSD the fab company earns per site and quarter from wafers leaving its fabs: the buyer's
    at the offtake price, spare ones at the spare price."""
    price = xr.DataArray(
        x.offtake_price_musd, dims=("site", "quarter"), coords={"site": x.sites, "quarter": range(x.horizon)}
    )
    revenue = wafers_out(m, x) * price
    return revenue + spare_sales(m, x) if "spare" in m.variables else revenue


def define_cash(m: linopy.Model, x: PlanInputs, money: dict[str, linopy.LinearExpression]) -> None:
    """The fab company's cash: cash[t] = cash[t−1] + commitments[t] − (capex − grants − tax
    credits)[t] − what operations cost beyond their revenue, ≥ 0. With reinvestment, operating
    cash (revenue − opex) may pay for capex; without, operating losses are funded by the
    investors and operating surpluses go to them (operating_shortfall = max(opex − revenue, 0),
    as a variable that may only overstate it)."""
    cash = terms(m, "cash")
    flow = cash - lagged(1 * cash, xr.DataArray(1))
    for kind in ("capex", "grants", "tax_credits"):
        if kind in money:
            flow = flow + money[kind]
    if x.sites:
        operating = money["opex"] + money["fixed_opex"] + money["operator_fees"] + money["wafer_revenue"]
        if x.reinvest_operating_cash:
            flow = flow + operating
        else:
            shortfall = terms(m, "operating_shortfall")
            m.add_constraints(shortfall - operating >= 0, name="operating_shortfall")
            flow = flow + shortfall
    m.add_constraints(
        flow == xr.DataArray(x.funds_musd, dims="quarter", coords={"quarter": range(x.horizon)}), name="cash"
    )


#: Kinds of money in the objective: real costs of the system (the buyer's payments to the fab
#: company cancel out; an operator's share of them does not), discounted. Construction enters
#: per build started, as its capex annuitised over its life (net of uncapped grants and tax
#: credits) for the quarters inside the horizon, with fixed opex (PlanInputs.unit_cost_musd);
#: a capped grant as it is received.
OBJECTIVE_KINDS = ("opex", "operator_fees", "foundry", "hbm", "packaging", "bought")


def define_objective(m: linopy.Model, x: PlanInputs, money: dict[str, linopy.LinearExpression]) -> None:
    """The system's discounted cost: construction per build started (its capex annuity inside
    the horizon and fixed opex, PlanInputs.unit_cost_musd), variable opex and fees, the
    buyer's foundry wafers, HBM, packaging and bought accelerators, less spare wafers sold to
    the market and the value of what is still in the pipeline at the end
    (define_end_of_horizon), plus the discounted cost of unmet demand and the cost of
    capital of wafers waiting in queues."""
    discount = xr.DataArray(x.discount, dims="quarter", coords={"quarter": range(x.horizon)})
    parts = [money[k] * discount for k in OBJECTIVE_KINDS if k in money]
    if x.sites:
        parts.append((terms(m, "build") * per_quarter(x, x.unit_cost_musd, ("site", x.sites))).sum())
    if "shell" in m.variables:
        parts.append((terms(m, "shell") * per_quarter(x, x.shell_cost_musd, ("site", x.sites))).sum())
    if "capped_grant" in m.variables:
        credit = per_quarter(x, x.grant_credit, ("site", x.sites))
        parts.append(-(terms(m, "capped_grant") * credit * discount).sum())
    if "spare" in m.variables:
        parts.append(-(spare_sales(m, x) * discount).sum())
        # spare wafers still in the fab at the end are sold just after it, at the last price
        later = per_quarter(x, beyond_horizon_share(x, x.site_cycle_q), ("site", x.sites))
        last_price = per_site(x, x.spare_price_musd[:, -1] * x.residual_discount)
        parts.append(-(terms(m, "spare") * later * last_price).sum())
    if "packaging_build" in m.variables:
        started = np.arange(x.horizon)
        per_line = np.array(
            [
                [sum(capex / lead * x.discount_per_q ** (v + k) for k in range(lead)) for v in started]
                for capex, lead in zip(x.line_capex_musd, x.line_lead_q, strict=True)
            ]
        )
        parts.append(
            (
                terms(m, "packaging_build")
                * xr.DataArray(
                    per_line, dims=("line", "quarter"), coords={"line": x.lines, "quarter": range(x.horizon)}
                )
            ).sum()
        )
    if "queue" in m.variables:
        # a wafer waiting in a queue holds the money spent on it for a quarter more: priced at
        # the cost of capital, which also spares the solver many equally good queue schedules
        # (the root LP of 100 sites × 6 nodes × 80 quarters took 53 s instead of 23 s without it)
        holding = per_site(x, x.opex_musd) * (1 - x.discount_per_q) * discount
        parts.append((terms(m, "queue") * holding).sum())
    penalty = per_quarter(x, x.penalty_musd, ("product", x.products)) * discount
    parts.append((terms(m, "unmet") * penalty).sum())
    if "tail" in m.variables:
        parts.append(-(terms(m, "tail") * per_product(x, tail_value_musd(x))).sum())
    m.add_objective(
        linopy.merge([t.sum() if "quarter" in t.dims else t for t in parts], cls=linopy.LinearExpression).sum()
    )
