"""What a build costs the planner's objective: capex annuities, fixed opex, a capped grant's
credit and the fixed opex a conversion ends, per site and quarter started (MUSD, discounted).

The formulas themselves are scenario.assets' (one owner); this module lays them over the
horizon's quarters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from fabnet.core.periods import Quarter, discount_factors
from fabnet.core.units import MUSD
from fabnet.scenario.assets import Asset, capacity_unit, shell
from fabnet.scenario.schema import DepreciationYears, Site, TaxRegime

Array = npt.NDArray[np.float64]


def spending_profiles(assets: list[Asset] | list[Asset | None]) -> Array:
    """MUSD spent on one build in each quarter after its start, by site (Asset.schedule; zeros
    for a site without such a build)."""
    return _profiles([None if a is None else a.spending() for a in assets])


def grant_profiles(assets: list[Asset] | list[Asset | None], sites: Sequence[Site]) -> Array:
    """MUSD of one build that its site's grant share applies to in each quarter after its start
    (Asset.grant_due: as spent, or at once when it enters service)."""
    due = [None if a is None else np.add(*a.grant_due(s.grants.paid)) for a, s in zip(assets, sites, strict=True)]
    return _profiles(due)


def _profiles(amounts: list[Array | None]) -> Array:
    longest = max((len(a) for a in amounts if a is not None), default=1)
    profile = np.zeros((len(amounts), longest))
    for i, amount in enumerate(amounts):
        if amount is not None:
            profile[i, : len(amount)] = amount / MUSD
    return profile


def ready_q(site: Site) -> int:
    """Quarters from a shell's start until tool sets go in (0 where modules are built whole)."""
    found = shell(site)
    return 0 if found is None else found.lead_q


def build_cost(
    unit: Asset,
    site: Site,
    regime: TaxRegime,
    quarters: list[Quarter],
    rate: float,
    life: DepreciationYears,
    fixed: float,
) -> Array:
    """Objective cost (MUSD, discounted to the horizon's start) of one capacity unit by quarter
    started: its capex annuity (Asset.annuity_usd) for each quarter of its life inside the
    horizon, and its fixed opex from the quarter it is staffed (Asset.staffed_q: its first wafer
    or its pre-operating quarters before it) to the end of the horizon."""
    horizon = len(quarters)
    discount = discount_factors(rate, horizon)
    cost = np.zeros(horizon)
    grant_share = site.grants.share_of_capex if site.grants.cap_usd is None else 0.0  # a capped grant: its own variable
    for started, quarter in enumerate(quarters):
        first = started + unit.in_service_q
        if first >= horizon:
            continue
        credit = unit.tax_credit(regime, quarter)
        annuity = unit.annuity_usd(rate, life, grant_share, credit, site.grants.paid) / MUSD
        inside = discount[first:]
        paid = np.zeros(len(inside))
        paid[: min(len(annuity), len(inside))] = annuity[: len(inside)]
        staffed = discount[min(started + unit.staffed_q, horizon) :]
        cost[started] = float((paid * inside).sum() + fixed * staffed.sum())
    return cost


def grant_credit_share(site: Site, rate: float, life: DepreciationYears, horizon: int) -> Array:
    """Per quarter t, the share of a capped grant paid in t that the objective credits: the
    share of the spending it paid for that the annuities charge inside the horizon
    (Asset.charged_inside), over the quarters of the build schedules that spend in t. Crediting
    the whole grant would let a build that comes online in the last quarter collect its grant
    for a quarter's annuity."""
    credit = np.zeros(horizon)
    builds = [a for a in (capacity_unit(site), shell(site)) if a is not None]
    paid = site.grants.paid
    for t in range(horizon):
        due = charged = 0.0
        for built in builds:
            for k, amount in enumerate(np.add(*built.grant_due(paid))):
                due += amount
                charged += built.grant_charged_inside(rate, life, horizon - (t - k), paid)[k]
        credit[t] = charged / due if due > 0 else 0.0
    return credit


def fixed_opex_ended(site: Site, site_ids: list[str], fixed_opex: Array, rate: float, horizon: int) -> Array:
    """By quarter started, the fixed opex (MUSD, discounted) a conversion saves at the site it
    converts from: that unit's, from the conversion's start to the end of the horizon."""
    if site.converts_from is None:
        return np.zeros(horizon)
    remaining = np.cumsum(discount_factors(rate, horizon)[::-1])[::-1]
    return fixed_opex[site_ids.index(site.converts_from)] * remaining


def shell_cost(site: Site, regime: TaxRegime, quarters: list[Quarter], rate: float, life: DepreciationYears) -> Array:
    """Objective cost of one shell by quarter started (zeros where modules are built whole)."""
    found = shell(site)
    if found is None:
        return np.zeros(len(quarters))
    return build_cost(found, site, regime, quarters, rate, life, 0.0)
