"""The base plan as one sample of a fixed-plan sweep runs it, in the plan's own tables, so that
the plan check (fabnet.check) can simulate a held plan's fabs as it does a planned one's.

The fixed-plan model (risk.fixed.held_operations) gives, per sample, each site's capacity, the
buyer's wafer starts per product, the spare starts and what the queue clears, and the buyer's
demand and deliveries; they replace the base plan's columns the check reads: capacity
(effective capacity, starts, spare starts, load, cleared, modules and wafers online),
production (the buyer's starts per site and product) and supply (demand, delivered). The
planned cycle days are left out (NaN): the fixed-plan model moves wafers by what clears, and
the checked sweep compares wafers out, not cycle times.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from fabnet.plan import Plan
from fabnet.risk.fixed import EPS, HeldOperations


def held_plan(plan: Plan, held: HeldOperations, sample: int) -> Plan:
    """The base `plan` with sample `sample`'s operations of `held` (see the module's note)."""
    x = held.x
    own = held.own[sample]  # sites × P × T
    spare = held.spare[sample]
    starts = own.sum(axis=1) + spare
    effective = held.effective[sample]
    by_site = {
        "modules_online": held.online[sample],
        "modules_staffed": held.staffed[sample],
        "wafer_capacity": held.capacity[sample],
        "effective_capacity": effective,
        "wafer_starts": starts,
        "spare_starts": spare,
        "load": np.divide(starts, effective, out=np.zeros_like(starts), where=effective > EPS),
        "cleared": held.leaving[sample].sum(axis=1),
        "cycle_days": np.full_like(starts, np.nan),
    }
    capacity = plan.capacity.copy()
    for i, site in enumerate(x.sites):
        rows = capacity.index[capacity["site"] == site]
        for column, values in by_site.items():
            capacity.loc[rows, column] = values[i]
    supply = plan.supply.copy()
    for j, product in enumerate(x.products):
        rows = supply.index[supply["product"] == product]
        supply.loc[rows, "demand"] = held.demand[sample, j]
        supply.loc[rows, "delivered"] = held.delivered[sample, j]
    quarters = [str(q) for q in x.quarters]
    production = pd.DataFrame(
        [
            {"source": site, "kind": "site", "node": x.site_node[i], "product": product, "quarter": quarter}
            | {"wafer_starts": float(own[i, j, t])}
            for i, site in enumerate(x.sites)
            for j, product in enumerate(x.products)
            if own[i, j].sum() > EPS
            for t, quarter in enumerate(quarters)
        ],
        columns=["source", "kind", "node", "product", "quarter", "wafer_starts"],
    )
    return dataclasses.replace(plan, capacity=capacity, production=production, supply=supply)
