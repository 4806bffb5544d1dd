"""The planner's capacity rows: capacity units and shells started and accumulated, what they
give as they ramp and learn, and conversions of one site's fabs to another node.

A conversion site (scenario `converts_from`) starts conversions as other sites start modules:
each takes one settled capacity unit of its parent out of production from its start
(`retired`), and gives the conversion site a unit on its own node after its lead time (the
downtime), which then ramps and learns as a new fab would. Only settled units convert, so what
the parent loses is exactly a mature unit's capacity.
"""

from __future__ import annotations

import linopy
import numpy as np
import xarray as xr

from fabnet.network import PlanInputs
from fabnet.plan.rows import coord, lagged, per_site, terms

#: A module counts as settled (ramped and learned) once its effective capacity is within this
#: share of a mature module's; older modules enter capacity through the cumulative-builds
#: variable, which keeps the capacity rows short (../shared/design/ARCHITECTURE.md: 4.8x sparser,
#: 1.7x faster).
SETTLED_TOLERANCE = 1e-3


def settled_age(x: PlanInputs) -> int:
    """Ages below this get their own term in the capacity rows; older modules are settled."""
    if not x.sites:
        return 1
    unsettled = np.abs(x.effective_by_age - 1.0) > SETTLED_TOLERANCE
    last = np.nonzero(unsettled.any(axis=0))[0]
    return int(last[-1]) + 1 if len(last) else 1


def define_cumulative_builds(m: linopy.Model, x: PlanInputs) -> None:
    """cumulative_builds[s, t] = cumulative_builds[s, t−1] + build[s, t]."""
    if not x.sites:
        return
    cum = terms(m, "cumulative_builds")
    build = terms(m, "build")
    one = xr.DataArray(1)
    m.add_constraints(cum - lagged(1 * cum, one) - build == 0, name="cumulative_builds")
    if "shell" in m.variables:
        phased = per_site(x, x.phases > 0).broadcast_like(coord(range(x.horizon), "quarter"))
        shells = terms(m, "cumulative_shells")
        m.add_constraints(
            shells - lagged(1 * shells, one) - terms(m, "shell") == 0, name="cumulative_shells", mask=phased
        )
        # tool sets started by t fit in the shells ready by t
        ready = lagged(1 * shells, per_site(x, x.shell_ready_q))
        m.add_constraints(cum - ready * per_site(x, x.phases) <= 0, name="shell_room", mask=phased)


def effective_capacity(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """Mature-equivalent wafer starts per quarter at each site: the modules younger than the
    settled age each with their ramp × learning share, the older ones in full."""
    age_count = settled_age(x)
    ages = coord(range(age_count), "age")
    lead = per_site(x, x.lead_q)
    share = xr.DataArray(
        x.effective_by_age[:, :age_count] * x.unit_wafers_q[:, None], dims=("site", "age"), coords={"site": x.sites}
    )
    recent = (lagged(terms(m, "build"), lead + ages) * share).sum("age")
    settled = lagged(terms(m, "cumulative_builds"), lead + age_count) * per_site(x, x.unit_wafers_q)
    away = converted(m, x)
    if away is not None:
        settled = settled - away * per_site(x, x.unit_wafers_q)
    return recent + settled


def modules_staffed(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    """Capacity units whose fixed opex is paid at each site and quarter: those started at least
    their staffed lead (PlanInputs.staffed_q: online, or qualifying before their first wafer)
    ago, less those converted to another node."""
    staffed = lagged(terms(m, "cumulative_builds"), per_site(x, x.staffed_q))
    away = converted(m, x)
    return staffed if away is None else staffed - away


def converted(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression | None:
    """Capacity units of each site converted to another node by each quarter (the cumulative
    conversions started at the sites that convert from it); None without conversions."""
    children = np.flatnonzero(x.parent >= 0)
    if not len(children):
        return None
    ids = [x.sites[c] for c in children]
    to_parent = xr.DataArray(
        (x.parent[children, None] == np.arange(len(x.sites))[None, :]).astype(float),
        dims=("site", "parent"),
        coords={"site": ids, "parent": x.sites},
    )
    moved = (terms(m, "cumulative_builds").sel(site=ids) * to_parent).sum("site")
    return moved.rename(parent="site")


def define_conversions(m: linopy.Model, x: PlanInputs) -> None:
    """Units converted from a site by t ≤ its units settled by t (started a lead time and the
    settled age ago): a conversion retools a fab that runs at its mature capacity."""
    away = converted(m, x)
    if away is None:
        return
    settled = lagged(terms(m, "cumulative_builds"), per_site(x, x.lead_q) + settled_age(x))
    parents = np.isin(np.arange(len(x.sites)), x.parent)
    quarters = coord(range(x.horizon), "quarter")
    m.add_constraints(away - settled <= 0, name="conversions", mask=per_site(x, parents).broadcast_like(quarters))


def may_run(x: PlanInputs) -> xr.DataArray:
    """Site × quarter where a module could be online."""
    return coord(range(x.horizon), "quarter") >= per_site(x, x.earliest + x.lead_q)


def capacity_online(m: linopy.Model, x: PlanInputs) -> linopy.LinearExpression:
    if "capacity_online" in m.variables:
        return 1 * terms(m, "capacity_online")
    return effective_capacity(m, x)
