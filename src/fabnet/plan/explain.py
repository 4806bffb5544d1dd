"""Why a plan cannot do what is asked, in words: which constraint, which quarter, what numbers.

Two kinds of explanation:
- before solving, policies that no plan can satisfy (a mandatory site the money cannot pay
  for, or that cannot come online inside the horizon) raise `PlanInfeasible`;
- after solving, each run of quarters with unmet demand gets one sentence naming what held it
  back: no supply could arrive yet (or, for a design, not before its tape-out), the vendor of a
  bought product sells no more, packaging or HBM full, wafer capacity full, money spent, or a
  choice because supplying it would cost more than its penalty.
"""

from __future__ import annotations

import itertools

import numpy as np

from fabnet.core.errors import PlanInfeasible
from fabnet.core.format import count, usd
from fabnet.core.units import DAYS_PER_QUARTER, MONTHS_PER_QUARTER, MUSD
from fabnet.network import PlanInputs
from fabnet.plan.outcome import Plan

#: Capacity counts as full above this share of it.
FULL = 0.999
#: Cash below this (MUSD) counts as spent.
CASH_EMPTY_MUSD = 1.0


def musd(amount_musd: float) -> str:
    """MUSD as text, written as every amount is (core.format.usd)."""
    return usd(amount_musd * MUSD)


def check_mandatory_sites(x: PlanInputs) -> None:
    """Raise PlanInfeasible for a mandatory site no schedule can satisfy on its own."""
    for i in _mandatory(x):
        message = _mandatory_site_problem(x, i)
        if message:
            raise PlanInfeasible(message)


def explain_infeasible(x: PlanInputs) -> str:
    """The best account of an infeasible model: the mandatory sites against the money."""
    mandatory = _mandatory(x)
    for i in mandatory:
        message = _mandatory_site_problem(x, i, count_revenue=False)
        if message:
            return message
    if mandatory:
        need = np.zeros(x.horizon)
        for i in mandatory:
            start, _ = _best_start(x, i)
            if start is not None:
                need += _spend_curve(x, i, start)
        funds = np.cumsum(x.funds_musd)
        q = int(np.argmax(need - funds))
        names = ", ".join(f"'{x.sites[i]}'" for i in mandatory)
        return (
            f"budget (cash): the mandatory sites {names} together need {musd(need[q])} by "
            f"{x.quarters[q]} at their earliest affordable starts, but the investors commit "
            f"{musd(funds[q])} by then"
        )
    return "the model is infeasible although no site is mandatory; please report this scenario"


def _mandatory(x: PlanInputs) -> list[int]:
    """The mandatory sites' indices."""
    return [int(i) for i in np.nonzero(x.mandatory)[0]]


def _mandatory_site_problem(x: PlanInputs, i: int, count_revenue: bool = True) -> str | None:
    site = x.sites[i]
    if x.latest_start[i] < x.earliest[i]:
        return (
            f"sites: '{site}' is mandatory, but a module started at its earliest start "
            f"{x.quarters[0] + int(x.earliest[i])} comes online "
            f"{x.quarters[0] + int(x.earliest[i] + x.lead_q[i])}, after the horizon ends in "
            f"{x.quarters[-1]}"
        )
    if count_revenue and x.reinvest_operating_cash:
        return None  # sales may pay for it; only the solver can tell
    start, worst = _best_start(x, i)
    if start is None or worst <= 1e-6:
        return None
    need = _spend_curve(x, i, start)
    funds = np.cumsum(x.funds_musd)
    q = int(np.argmax(need - funds))
    return (
        f"budget (cash): site '{site}' needs {musd(need[q])} by {x.quarters[q]} but the "
        f"investors commit {musd(funds[q])} by then (it is mandatory; even its best start, "
        f"{x.quarters[start]}, with {x.grant_share[i]:.0%} grants, runs out of money)"
    )


def _spend_curve(x: PlanInputs, i: int, start: int) -> np.ndarray:
    """Cumulative MUSD one module at site i costs, net of grants when they pay, by quarter."""
    spend = np.zeros(x.horizon)
    for profile, sign in ((x.capex_profile[i], 1.0), (x.grant_profile[i], -x.grant_share[i])):
        steps = min(len(profile), x.horizon - start)
        spend[start : start + steps] += sign * profile[:steps]
    return np.cumsum(spend)


def _best_start(x: PlanInputs, i: int) -> tuple[int | None, float]:
    """The start quarter whose worst cash shortfall is smallest, and that shortfall."""
    funds = np.cumsum(x.funds_musd)
    best: tuple[int | None, float] = (None, np.inf)
    for start in range(int(x.earliest[i]), int(x.latest_start[i]) + 1):
        worst = float(np.max(_spend_curve(x, i, start) - funds))
        if worst < best[1]:
            best = (start, worst)
    return best


# --- shortfalls ----------------------------------------------------------------------------


def explain_shortfalls(plan: Plan, x: PlanInputs) -> list[str]:
    """One sentence per product and run of quarters that share the reason demand went unmet."""
    messages = []
    supply = plan.supply
    for p, product in enumerate(x.products):
        rows = supply[supply["product"] == product].reset_index(drop=True)
        reasons = [
            _reason(plan, x, p, t) if rows.at[t, "unmet"] > max(0.5, 1e-4 * rows.at[t, "demand"]) else None
            for t in range(x.horizon)
        ]
        t = 0
        for reason, run in itertools.groupby(reasons):
            quarters = list(run)
            first, last = t, t + len(quarters) - 1
            t += len(quarters)
            if reason is None:
                continue
            unmet = rows.loc[first:last, "unmet"].sum()
            demand = rows.loc[first:last, "demand"].sum()
            span = str(x.quarters[first]) if first == last else f"{x.quarters[first]}–{x.quarters[last]}"
            messages.append(f"{product} in {span}: {unmet:,.0f} of {demand:,.0f} accelerators unmet: {reason}")
    return messages


def _reason(plan: Plan, x: PlanInputs, p: int, t: int) -> str:
    if not x.made[p]:
        return _bought_reason(plan, x, p, t)
    node = x.product_node[p]
    whole = int(np.floor(x.cycle_q[p]))
    first = int(x.first_start[p])
    if first > 0 and t < first + whole:
        return (
            f"its wafers may start only from its tape-out in {x.quarters[first]}, and an "
            f"accelerator takes {x.cycle_q[p] * DAYS_PER_QUARTER:.0f} days from wafer start to "
            "delivery (fab and packaging)"
        )
    arrival = _earliest_arrival(x, node, whole)
    if arrival is None or t < arrival[0]:
        return _no_supply_yet(x, p, node, arrival)
    line = x.product_line[p]
    packaging = plan.packaging[plan.packaging["line"] == line].reset_index(drop=True)
    capacity = packaging.at[t, "capacity_wafers"]
    if capacity <= 0 or packaging.at[t, "used_wafers"] >= FULL * capacity:
        return f"packaging line '{line}' is full ({capacity / MONTHS_PER_QUARTER:,.0f} interposer wafers a month)"
    h = int(x.product_hbm[p])
    if h >= 0 and np.isfinite(x.hbm_cap[h, t]):
        used = plan.hbm[plan.hbm["memory"] == x.memories[h]]["stacks_used"].to_numpy()[t]
        if used >= FULL * x.hbm_cap[h, t]:
            return f"HBM '{x.memories[h]}' is sold out ({count(x.hbm_cap[h, t])} stacks a quarter)"
    if _wafers_full(plan, x, node, [q for q in (t - whole, t - whole - 1) if q >= first]):
        return f"all {node} wafer capacity that could feed it (sites and foundry) is in use"
    cash = plan.budget["cash_usd"].to_numpy() / MUSD
    spent = np.nonzero(cash[: t + 1] < CASH_EMPTY_MUSD)[0]
    if len(spent) and x.sites:
        return (
            f"the fab company's money is spent (cash runs out in {x.quarters[int(spent[0])]}; "
            f"investors commit {musd(np.sum(x.funds_musd))} in all)"
        )
    return (
        f"by choice: supplying it would cost more than its penalty of "
        f"{usd(x.penalty_musd[p, t] * MUSD)} per accelerator"
    )


def _bought_reason(plan: Plan, x: PlanInputs, p: int, t: int) -> str:
    cap = x.bought_cap[p, t]
    bought = plan.supply[plan.supply["product"] == x.products[p]]["bought"].to_numpy()[t]
    if np.isfinite(cap) and bought >= FULL * cap:
        return f"its vendor sells the buyer at most {count(cap)} a quarter"
    return (
        f"by choice: buying it would cost more than its penalty of {usd(x.penalty_musd[p, t] * MUSD)} per accelerator"
    )


def _earliest_arrival(x: PlanInputs, node: str, whole: int) -> tuple[int, str, str] | None:
    """(quarter index, site text, foundry text) of the first output of `node`."""
    online = [
        (int(x.earliest[i] + x.lead_q[i]), x.sites[i])
        for i in range(len(x.sites))
        if x.site_node[i] == node and x.earliest[i] + x.lead_q[i] < x.horizon
    ]
    offered = [
        int(np.argmax(x.offer_cap_q[o] > 0))
        for o in range(len(x.offers))
        if x.offer_node[o] == node and x.offer_cap_q[o].any()
    ]
    firsts = [q for q, _ in online] + offered
    if not firsts:
        return None
    site_text = (
        f"the earliest {node} module ({min(online)[1]}) is online in {x.quarters[min(online)[0]]}"
        if online
        else f"no {node} module can be online inside the horizon"
    )
    foundry_text = (
        f"{node} foundry capacity starts in {x.quarters[min(offered)]}"
        if offered
        else f"no {node} foundry capacity is offered"
    )
    return min(firsts) + whole, site_text, foundry_text


def _no_supply_yet(x: PlanInputs, p: int, node: str, arrival: tuple[int, str, str] | None) -> str:
    days = x.cycle_q[p] * DAYS_PER_QUARTER
    if arrival is None:
        return f"no {node} supply exists: no site runs {node} in time and no foundry offers it"
    _, site_text, foundry_text = arrival
    return f"no {node} output can arrive yet: {site_text}, {foundry_text}, and wafers take {days:.0f} days"


def _wafers_full(plan: Plan, x: PlanInputs, node: str, start_quarters: list[int]) -> bool:
    starts = [q for q in start_quarters if 0 <= q < x.horizon]
    if not starts:
        return False
    labels = {str(x.quarters[q]) for q in starts}
    sites = plan.capacity[(plan.capacity["node"] == node) & plan.capacity["quarter"].isin(labels)]
    sites_full = bool((sites["wafer_starts"] >= FULL * sites["effective_capacity"]).all())
    offers = [o for o, offer_node in enumerate(x.offer_node) if offer_node == node]
    if sites["effective_capacity"].sum() + sum(x.offer_cap_q[o, q] for o in offers for q in starts) <= 0:
        return False  # nothing was built or offered: a choice, not a full fab
    production = plan.production
    foundry_full = True
    for o in offers:
        used = (
            production[(production["source"] == x.offers[o]) & production["quarter"].isin(labels)]
            .groupby("quarter")["wafer_starts"]
            .sum()
        )
        for q in starts:
            if used.get(str(x.quarters[q]), 0.0) < FULL * x.offer_cap_q[o, q]:
                foundry_full = False
    return sites_full and foundry_full
