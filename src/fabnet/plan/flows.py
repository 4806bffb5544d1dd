"""The planning MILP's physical side: its variables, and the flows of wafers, dies and
accelerators they must obey (builds and capacity, foundry reservations, the clearing function,
the die bank, demand, packaging and HBM). plan.model adds the money and lists every `define_*`
in the order the model is built.
"""

from __future__ import annotations

import linopy
import numpy as np
import numpy.typing as npt
import xarray as xr

from fabnet.core.periods import split_lag
from fabnet.network import PlanInputs
from fabnet.plan.capacity import (
    capacity_online,
    effective_capacity,
    may_run,
)
from fabnet.plan.rows import coord, lagged, per_offer, per_product, per_quarter, per_site, terms

# --- variables -----------------------------------------------------------------------------


def define_variables(m: linopy.Model, x: PlanInputs) -> None:
    quarters = range(x.horizon)
    q = coord(quarters, "quarter")
    # a designed product's wafers start from its tape-out on; a bought one is never made
    makes = per_product(x, x.made) & (q >= per_product(x, x.first_start))
    if x.sites:
        # A module that would come online after the horizon adds nothing the plan can see.
        may_start = (q >= per_site(x, x.earliest)) & (q <= per_site(x, x.latest_start))
        m.add_variables(
            lower=0,
            upper=per_site(x, x.max_units).broadcast_like(may_start),
            coords=may_start.coords,
            integer=True,
            mask=may_start,
            name="build",
        )
        m.add_variables(lower=0, coords=may_start.coords, name="cumulative_builds")
        if x.phases.any():
            # a shell must be ready for its tool sets: its start is shell_ready_q before theirs
            shells = (
                per_site(x, x.phases > 0)
                & (q >= per_site(x, x.earliest - x.shell_ready_q))
                & (q <= per_site(x, x.latest_start - x.shell_ready_q))
            )
            m.add_variables(
                lower=0,
                upper=per_site(x, np.maximum(x.max_units // np.maximum(x.phases, 1), 0)).broadcast_like(shells),
                integer=True,
                mask=shells,
                name="shell",
            )
            m.add_variables(
                lower=0,
                coords=shells.coords,
                mask=per_site(x, x.phases > 0).broadcast_like(q),
                name="cumulative_shells",
            )
        runs = _runs(x.site_node, "site", x.sites, x) & makes
        m.add_variables(
            lower=0,
            coords=[x.sites, x.products, quarters],
            dims=["site", "product", "quarter"],
            mask=runs.transpose("site", "product", "quarter"),
            name="wafers",
        )
        queued = (runs & per_site(x, loaded_sites(x))).transpose("site", "product", "quarter")
        if queued.any():
            for name in ("queue", "cleared"):
                m.add_variables(lower=0, coords=queued.coords, mask=queued, name=name)
            # one column for the capacity online, so each clearing segment refers to it once
            # instead of repeating the capacity expression's dozen terms
            m.add_variables(lower=0, coords=may_start.coords, mask=may_run(x), name="capacity_online")
        spare_sites = sells_spare(x)
        if spare_sites.any():
            m.add_variables(lower=0, coords=may_start.coords, mask=may_run(x) & per_site(x, spare_sites), name="spare")
        capped = per_site(x, np.isfinite(x.grant_cap_musd))
        if capped.any():
            m.add_variables(
                lower=0,
                coords=[x.sites, quarters],
                dims=["site", "quarter"],
                mask=capped.broadcast_like(q),
                name="capped_grant",
            )
        if not x.reinvest_operating_cash:
            m.add_variables(lower=0, coords=[quarters], dims=["quarter"], name="operating_shortfall")
    if x.offers:
        sells = _runs(x.offer_node, "offer", x.offers, x) & makes
        m.add_variables(
            lower=0,
            coords=[x.offers, x.products, quarters],
            dims=["offer", "product", "quarter"],
            mask=sells.transpose("offer", "product", "quarter"),
            name="foundry",
        )
        ahead = reserved_ahead(x)
        if ahead.any():
            cap = per_quarter(x, x.offer_cap_q, ("offer", x.offers))
            m.add_variables(lower=0, upper=cap, mask=per_offer(x, ahead) & (cap > 0), name="foundry_reserved")
    pq = ([x.products, quarters], ["product", "quarter"])
    made = per_product(x, x.made).broadcast_like(q)
    if x.made.any():
        m.add_variables(lower=0, coords=pq[0], dims=pq[1], mask=made, name="packages")
        m.add_variables(lower=0, coords=pq[0], dims=pq[1], mask=made, name="die_bank")
    if not x.made.all():
        m.add_variables(lower=0, upper=per_quarter(x, x.bought_cap, ("product", x.products)), mask=~made, name="bought")
    m.add_variables(lower=0, upper=per_quarter(x, x.demand, ("product", x.products)), name="unmet")
    if x.line_max_modules.any():
        expandable = xr.DataArray(x.line_max_modules > 0, dims="line", coords={"line": x.lines}).broadcast_like(q)
        m.add_variables(
            lower=0,
            upper=xr.DataArray(x.line_max_modules, dims="line", coords={"line": x.lines}).broadcast_like(q),
            integer=True,
            mask=expandable,
            name="packaging_build",
        )
    m.add_variables(lower=0, coords=[quarters], dims=["quarter"], name="cash")


def _runs(nodes: list[str], dim: str, ids: list[str], x: PlanInputs) -> xr.DataArray:
    """dim × product: whether the entity (a site or an offer) makes the product's node."""
    return xr.DataArray(
        np.array([[node == product_node for product_node in x.product_node] for node in nodes]).reshape(
            len(ids), len(x.products)
        ),
        dims=(dim, "product"),
        coords={dim: ids, "product": x.products},
    )


# --- constraints ---------------------------------------------------------------------------


def define_build_limits(m: linopy.Model, x: PlanInputs) -> None:
    if not x.sites:
        return
    total = terms(m, "build").sum("quarter")
    m.add_constraints(total <= per_site(x, x.max_units), name="max_modules")
    if x.mandatory.any():
        m.add_constraints(total >= 1, name="mandatory_site", mask=per_site(x, x.mandatory))
    if "packaging_build" in m.variables:
        line_total = terms(m, "packaging_build").sum("quarter")
        m.add_constraints(
            line_total <= xr.DataArray(x.line_max_modules, dims="line", coords={"line": x.lines}),
            name="max_packaging_modules",
        )


def site_starts(m: linopy.Model) -> linopy.LinearExpression:
    """Wafers started at each site and quarter: for the buyer, and spare ones for the market."""
    starts = terms(m, "wafers").sum("product")
    return starts + terms(m, "spare") if "spare" in m.variables else starts


def sells_spare(x: PlanInputs) -> npt.NDArray[np.bool_]:
    """Sites that may sell spare wafers: all where the offtake lets spare wafers go to the
    market, else those whose node has a third-party market."""
    return np.array([x.spare_unlimited or node in x.market_nodes for node in x.site_node], dtype=bool)


def define_wafer_markets(m: linopy.Model, x: PlanInputs) -> None:
    """Spare wafers started per node and quarter within what other customers buy."""
    if "spare" not in m.variables or not x.market_nodes:
        return
    on_market = xr.DataArray(
        np.array([[node == market for node in x.site_node] for market in x.market_nodes], dtype=float).reshape(
            len(x.market_nodes), len(x.sites)
        ),
        dims=("market", "site"),
        coords={"market": x.market_nodes, "site": x.sites},
    )
    cap = per_quarter(x, x.market_cap_q, ("market", x.market_nodes))
    m.add_constraints((terms(m, "spare") * on_market).sum("site") <= cap, name="wafer_market")


def define_site_capacity(m: linopy.Model, x: PlanInputs) -> None:
    """Wafer starts within the capacity online; at a site with a load curve, within its
    saturation share (more would only grow the queue)."""
    if not x.sites:
        return
    if "capacity_online" in m.variables:
        m.add_constraints(
            terms(m, "capacity_online") - effective_capacity(m, x) == 0, name="capacity_online", mask=may_run(x)
        )
    most = per_site(x, [1.0 if c is None else c.saturation for c in x.site_curve])
    m.add_constraints(site_starts(m) <= capacity_online(m, x) * most, name="site_capacity")


def reserved_ahead(x: PlanInputs) -> npt.NDArray[np.bool_]:
    """Offers whose wafers a robust plan reserves before the future is known: those with
    take-or-pay (elsewhere a reservation costs nothing unused, so it is no decision)."""
    return np.asarray(x.offer_take_or_pay > 0) & x.reserve_ahead


def define_foundry_capacity(m: linopy.Model, x: PlanInputs) -> None:
    """Foundry wafers within what the offer has, and where reserved ahead, within the reservation."""
    if not x.offers:
        return
    cap = per_quarter(x, x.offer_cap_q, ("offer", x.offers))
    used = terms(m, "foundry").sum("product")
    m.add_constraints(used <= cap, name="foundry_capacity")
    if "foundry_reserved" in m.variables:
        reserved = m.variables["foundry_reserved"]
        m.add_constraints(used - terms(m, "foundry_reserved") <= 0, name="foundry_reserved", mask=reserved.labels >= 0)


def loaded_sites(x: PlanInputs) -> npt.NDArray[np.bool_]:
    """Sites whose cycle time depends on their load."""
    return np.array([c is not None for c in x.site_clearing], dtype=bool)


def define_clearing(m: linopy.Model, x: PlanInputs) -> None:
    """Load-dependent cycle time (network/loadcurve.py): wafers started at a loaded site join its
    queue; the queue clears at most what the clearing function allows for the WIP available and
    the capacity online; cleared wafers then take the unloaded cycle time (die balance).
    queue[t] = queue[t−1] + wafers[t] − cleared[t]. Spare wafers for the market load the fab
    like the buyer's but are not queued (they count as cleared when started)."""
    if "cleared" not in m.variables:
        return
    queue, cleared, wafers = terms(m, "queue"), terms(m, "cleared"), terms(m, "wafers")
    before = lagged(1 * queue, xr.DataArray(1))
    m.add_constraints(
        queue - before - wafers + cleared == 0, name="queue_balance", mask=m.variables["queue"].labels >= 0
    )
    loaded = loaded_sites(x)
    segments = max(len(c.slopes) for c in x.site_clearing if c is not None)
    slopes, intercepts = np.zeros((len(x.sites), segments)), np.zeros((len(x.sites), segments))
    for i, c in enumerate(x.site_clearing):
        if c is not None:  # a shorter function repeats its last (flat) segment
            slopes[i] = np.pad(c.slopes, (0, segments - len(c.slopes)), mode="edge")
            intercepts[i] = np.pad(c.intercepts, (0, segments - len(c.intercepts)), mode="edge")
    available = (before + wafers).sum("product")
    through = cleared.sum("product")
    if "spare" in m.variables:
        available, through = available + terms(m, "spare"), through + terms(m, "spare")
    limit = available * _per_segment(x, slopes) + capacity_online(m, x) * _per_segment(x, intercepts)
    # before a module can be online nothing is started, so the queue clears nothing anyway
    m.add_constraints(through - limit <= 0, name="clearing", mask=per_site(x, loaded) & may_run(x))


def _per_segment(x: PlanInputs, values: npt.NDArray[np.float64]) -> xr.DataArray:
    """Site × segment of a clearing function."""
    return xr.DataArray(values, dims=("site", "segment"), coords={"site": x.sites, "segment": range(values.shape[1])})


def leaving_fab(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """Wafers per site, product and quarter entering the unloaded cycle time: the starts, or
    what the queue clears where the cycle time depends on load."""
    own = terms(m, "wafers")
    if "cleared" in m.variables:
        own = own * per_site(x, ~loaded_sites(x)) + terms(m, "cleared")
    return own


def after(expr: linopy.LinearExpression, lag_q: xr.DataArray) -> linopy.LinearExpression:
    """`expr` delayed by a fractional number of quarters (core.periods.split_lag, per element
    of `lag_q`): the share 1 − f of each quarter's flow arrives ⌊lag⌋ quarters later, the rest a
    quarter after that."""
    split = np.vectorize(split_lag, otypes=[int, float])(lag_q.values)
    whole = lag_q.copy(data=split[0])
    later = lag_q.copy(data=split[1])
    return lagged(expr, whole) * (1 - later) + lagged(expr, whole + 1) * later


def wafers_out(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """Wafers leaving each site's fab per quarter (sold to the buyer): what entered the
    unloaded cycle time, that cycle time later."""
    return after(leaving_fab(m, x).sum("product"), per_site(x, x.site_cycle_q))


def entering_cycle(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression | None:
    """Wafers per product and quarter entering the raw cycle time, from the sites and the
    foundry (None when neither makes anything)."""
    parts = []
    if x.sites:
        parts.append(leaving_fab(m, x).sum("site"))
    if x.offers:
        parts.append(terms(m, "foundry").sum("offer"))
    if not parts:
        return None
    return linopy.merge(parts, cls=linopy.LinearExpression) if len(parts) > 1 else parts[0]


def define_die_balance(m: linopy.Model, x: PlanInputs, entering: linopy.LinearExpression | None) -> None:
    """die_bank[t] = die_bank[t−1] + good dies ready in t − dies packaged in t. Wafers entering
    the cycle time in t (`entering`, entering_cycle) are ready (fab and packaging done) after c
    quarters: the share 1 − frac(c) in t + floor(c), the rest a quarter later."""
    if "packages" not in m.variables:
        return
    bank = terms(m, "die_bank")
    packaged = terms(m, "packages") * per_product(x, x.dies_per_package)
    balance = bank - lagged(1 * bank, xr.DataArray(1)) + packaged
    if entering is not None:
        balance = balance - after(entering, per_product(x, x.cycle_q)) * per_product(x, x.good_dies_per_wafer)
    m.add_constraints(
        balance == 0, name="die_balance", mask=per_product(x, x.made).broadcast_like(coord(range(x.horizon), "quarter"))
    )


def beyond_horizon_share(x: PlanInputs, lags_q: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Entity × quarter: the share of what enters a delay of `lags_q` (one per entity) in a
    quarter that comes out only after the horizon (core.periods.split_lag, as `after`)."""
    share = np.zeros((len(lags_q), x.horizon))
    t = np.arange(x.horizon)
    for i, lag in enumerate(lags_q):
        whole, later = split_lag(float(lag))
        share[i] = (1 - later) * (t + whole >= x.horizon) + later * (t + whole + 1 >= x.horizon)
    return share


def tail_value_musd(x: PlanInputs) -> npt.NDArray[np.float64]:
    """Per product, what one accelerator delivered just after the horizon is worth to the
    system (MUSD, discounted to the horizon's start): the last quarter's penalty for an unmet
    one, less the packaging parts and HBM it still needs, a quarter after the horizon."""
    last = x.horizon - 1
    hbm = np.array(
        [x.hbm_price_musd[h, last] * n if h >= 0 else 0.0 for h, n in zip(x.product_hbm, x.hbm_stacks, strict=True)]
    )
    net = x.penalty_musd[:, last] - (x.parts_musd + hbm) / np.maximum(x.packaging_yield, 1e-9)
    return np.maximum(net, 0.0) * x.residual_discount


def define_end_of_horizon(m: linopy.Model, x: PlanInputs, entering: linopy.LinearExpression | None) -> None:
    """Life after the horizon, for the buyer: wafers in the cycle time and dies in the bank at
    the end become accelerators just after it. They are worth their net value (tail_value_musd)
    up to what demand at the last quarter's rate takes over the quarters they take to arrive, so
    the fabs keep starting wafers to the end instead of winding down for want of a horizon."""
    if entering is None or "packages" not in m.variables:
        return
    last_demand = x.demand[:, -1] * np.ceil(x.cycle_q)
    worth = x.made & (last_demand > 0)
    if not worth.any():
        return
    m.add_variables(lower=0, upper=per_product(x, last_demand), mask=per_product(x, worth), name="tail")
    dies = (entering * per_quarter(x, beyond_horizon_share(x, x.cycle_q), ("product", x.products))).sum("quarter")
    dies = dies * per_product(x, x.good_dies_per_wafer) + terms(m, "die_bank").isel(quarter=-1, drop=True)
    per_die = per_product(x, x.packaging_yield / np.maximum(x.dies_per_package, 1.0))
    m.add_constraints(terms(m, "tail") - dies * per_die <= 0, name="tail", mask=per_product(x, worth))


def delivered(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """Accelerators the buyer gets per product and quarter: made ones that pass final test,
    and bought ones."""
    parts = []
    if "packages" in m.variables:
        parts.append(terms(m, "packages") * per_product(x, x.packaging_yield))
    if "bought" in m.variables:
        parts.append(terms(m, "bought"))
    return parts[0] + parts[1] if len(parts) == 2 else parts[0]


def define_demand(m: linopy.Model, x: PlanInputs) -> None:
    demand = per_quarter(x, x.demand, ("product", x.products))
    m.add_constraints(delivered(m, x) + terms(m, "unmet") == demand, name="demand")


def define_packaging_capacity(m: linopy.Model, x: PlanInputs) -> None:
    """Interposer wafers per line and quarter within what is secured plus expansions online."""
    if not x.lines or "packages" not in m.variables:
        return
    on_line = xr.DataArray(
        np.array(
            [
                [1.0 / ppw if line == product_line else 0.0 for product_line in x.product_line]
                for line, ppw in zip(x.lines, x.line_packages_per_wafer, strict=True)
            ]
        ),
        dims=("line", "product"),
        coords={"line": x.lines, "product": x.products},
    )
    used = (terms(m, "packages") * on_line).sum("product")
    secured = per_quarter(x, x.line_capacity_q, ("line", x.lines))
    if "packaging_build" in m.variables:
        ages = coord(range(x.horizon), "age")
        lead = xr.DataArray(x.line_lead_q, dims="line", coords={"line": x.lines})
        online = lagged(terms(m, "packaging_build"), lead + ages).sum("age")
        added = online * xr.DataArray(x.line_module_q, dims="line", coords={"line": x.lines})
        m.add_constraints(used - added <= secured, name="packaging_capacity")
    else:
        m.add_constraints(used <= secured, name="packaging_capacity")


def hbm_use(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """HBM stacks per supply and quarter that the packages started take."""
    per_stack = xr.DataArray(
        np.array(
            [
                [stacks if hbm == h else 0.0 for stacks, hbm in zip(x.hbm_stacks, x.product_hbm, strict=True)]
                for h in range(len(x.memories))
            ]
        ).reshape(len(x.memories), len(x.products)),
        dims=("memory", "product"),
        coords={"memory": x.memories, "product": x.products},
    )
    return (terms(m, "packages") * per_stack).sum("product")


def define_hbm_supply(m: linopy.Model, x: PlanInputs) -> None:
    """HBM stacks used within what the buyer can get each quarter (where it is limited)."""
    limited = np.isfinite(x.hbm_cap)
    if not limited.any() or "packages" not in m.variables:
        return
    cap = per_quarter(x, np.where(limited, x.hbm_cap, 0.0), ("memory", x.memories))
    m.add_constraints(
        hbm_use(m, x) <= cap,
        name="hbm_supply",
        mask=xr.DataArray(
            limited, dims=("memory", "quarter"), coords={"memory": x.memories, "quarter": range(x.horizon)}
        ),
    )
