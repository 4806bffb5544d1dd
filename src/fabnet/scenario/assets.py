"""What one build at a site is, and the money rules of a fab asset: its capex schedule,
straight-line depreciation, book value and investment tax credit.

The one owner of these formulas: the planner's arrays (network.inputs), the fab company's capital
flows (finance.fabco), the fixed-plan risk model and the cost-plus offtake price all read them
here, so the planner and finance cannot drift apart.

A site builds either whole modules (building and tools together) or, with `tool_phases`, shells
(building, cleanroom, utilities) and tool sets installed into them when the plan needs them; a
site that `converts_from` another retools that site's fabs for its own node (a "conversion").
The planner's integer `build` counts a site's *capacity unit* — a module, or a tool set — and
`shell` counts shells; capacity, ramp, yield learning and fixed opex follow the capacity units (the
fixed opex from `Asset.staffed_q`, before the first wafer where the site has pre-operating quarters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from fabnet.core.periods import Quarter, quarterly_rate
from fabnet.scenario.schema import DepreciationYears, GrantTiming, Site, TaxRegime

Array = npt.NDArray[np.float64]
Kind = Literal["module", "shell", "tools", "conversion"]
QUARTERS_PER_YEAR = 4


@dataclass(frozen=True)
class Asset:
    """One build of one kind at a site."""

    kind: Kind
    building_usd: float
    tools_usd: float
    lead_q: int  # start → in use: first wafer (module, tools), or ready for tools (shell)
    in_service_q: int  # start → first quarter of depreciation (a shell: when its first tools can run)
    share_of_module: float  # capacity added, as a share of a module (0 for a shell)
    pre_operating_q: int = 0  # quarters before the first wafer from which its fixed opex is paid

    @property
    def capex_usd(self) -> float:
        return self.building_usd + self.tools_usd

    @property
    def staffed_q(self) -> int:
        """Start → first quarter of its fixed opex: its first wafer, or the pre-operating
        quarters before it (staff, cleanroom and utilities while the tools are qualified)."""
        return max(self.lead_q - self.pre_operating_q, 0)

    def schedule(self) -> tuple[Array, Array]:
        """(building, tools) USD spent in each quarter after the start. A whole module: the
        building over the first half of the lead time, then the tools over the second half (both
        at once when the lead time is one quarter); a shell or a tool set: evenly over its own
        lead time."""
        lead = self.lead_q
        building, tools = np.zeros(lead), np.zeros(lead)
        if self.kind != "module":
            building[:] = self.building_usd / lead
            tools[:] = self.tools_usd / lead
            return building, tools
        building_q = math.ceil(lead / 2)
        tools_q = max(lead - building_q, 1)
        tools_from = building_q if lead > 1 else 0
        building[:building_q] = self.building_usd / building_q
        tools[tools_from : tools_from + tools_q] = self.tools_usd / tools_q
        return building, tools

    def spending(self) -> Array:
        """USD spent in each quarter after the start, buildings and tools together."""
        building, tools = self.schedule()
        return building + tools

    def depreciation(self, started: int, life: DepreciationYears, horizon: int, grant_share: float) -> Array:
        """Straight-line depreciation per quarter of one build started in quarter `started`,
        each asset class over its life from the quarter it is placed in service. The base is net
        of the grant share, as the book value: a capital grant lowers the asset's depreciable
        base (IAS 20's net presentation; Japan's compressed entry, 圧縮記帳, for subsidised
        assets), so the grant is not also deducted from taxable income as depreciation."""
        first = started + self.in_service_q
        net = 1.0 - grant_share
        return straight_line(self.building_usd * net, first, QUARTERS_PER_YEAR * life.building, horizon) + (
            straight_line(self.tools_usd * net, first, QUARTERS_PER_YEAR * life.tools, horizon)
        )

    def book_value(self, started: int, horizon: int, life: DepreciationYears, grant_share: float) -> float:
        """Book value at the end of a horizon of `horizon` quarters of one build started in
        quarter `started`: capex less straight-line depreciation once in service; under
        construction, what was spent on it inside the horizon. Net of the grant share: the part
        a grant paid for is not the investors' to recover (else a subsidised module would pay
        for itself by being built, whether it makes anything or not)."""
        in_service = horizon - (started + self.in_service_q)
        if in_service >= 0:
            value = self.building_usd * max(0.0, 1 - in_service / (QUARTERS_PER_YEAR * life.building))
            value += self.tools_usd * max(0.0, 1 - in_service / (QUARTERS_PER_YEAR * life.tools))
        else:
            value = float(self.spending()[: max(horizon - started, 0)].sum())
        return value * (1.0 - grant_share)

    def grant_due(self, paid: GrantTiming) -> tuple[Array, Array]:
        """(building, tools) USD a grant's share applies to in each quarter after the start: the
        spending as it happens, or (in_service) the whole build in the quarter it enters
        service, the milestone a grant paid that way waits for."""
        if paid == "as_spent":
            return self.schedule()
        building, tools = np.zeros(self.in_service_q + 1), np.zeros(self.in_service_q + 1)
        building[-1], tools[-1] = self.building_usd, self.tools_usd
        return building, tools

    def annuity_usd(
        self, rate: float, life: DepreciationYears, grant_share: float, credit: float, paid: GrantTiming = "as_spent"
    ) -> Array:
        """Capex annuitised over each asset class's life (the investment cost per period of
        capacity-expansion models: value × CRF), per quarter from the quarter it is in service
        (index 0) to the end of the longer life. The value is what was spent less the grant share
        of what the grant paid for when it paid (`grant_due`), both grown at `rate` to the
        in-service quarter, less `credit` (a tax credit on tools, paid then). A planner that
        charges a build only the annuities of the quarters inside its horizon leaves the rest of
        its life to the years after the horizon."""
        rate_q = quarterly_rate(rate)

        def at_service(amounts: Array) -> float:
            return float((amounts * (1 + rate_q) ** (self.in_service_q - np.arange(len(amounts)))).sum())

        spent, due = self.schedule(), self.grant_due(paid)
        values = (
            at_service(spent[0]) - grant_share * at_service(due[0]),
            at_service(spent[1]) - grant_share * at_service(due[1]) - credit,
        )
        lives = (QUARTERS_PER_YEAR * life.building, QUARTERS_PER_YEAR * life.tools)
        out = np.zeros(max(lives))
        for value, n in zip(values, lives, strict=True):
            out[:n] += value * capital_recovery_factor(rate_q, n)
        return out

    def charged_inside(self, rate: float, life: DepreciationYears, quarters_left: int) -> Array:
        """Per quarter of the schedule, the USD of its spending that the annuities charge inside a
        horizon ending `quarters_left` quarters after the start (present value at the quarter
        spent; share_recovered from the in-service quarter, each class over its life)."""
        rate_q = quarterly_rate(rate)
        building, tools = self.schedule()
        left = quarters_left - self.in_service_q
        return building * share_recovered(rate_q, QUARTERS_PER_YEAR * life.building, left) + tools * share_recovered(
            rate_q, QUARTERS_PER_YEAR * life.tools, left
        )

    def grant_charged_inside(
        self, rate: float, life: DepreciationYears, quarters_left: int, paid: GrantTiming
    ) -> Array:
        """`charged_inside` by the quarters of `grant_due`: what the annuities charge inside the
        horizon of the capex a grant pays in each of them."""
        charged = self.charged_inside(rate, life, quarters_left)
        if paid == "as_spent":
            return charged
        out = np.zeros(self.in_service_q + 1)
        out[-1] = charged.sum()
        return out

    def tax_credit(self, regime: TaxRegime, started: Quarter) -> float:
        """Investment tax credit of one build (USD, paid when it is placed in service): the
        regime's share of its tools, where construction started by the regime's deadline."""
        deadline = regime.itc_construction_deadline
        if not regime.investment_tax_credit or (deadline is not None and started > deadline):
            return 0.0
        return regime.investment_tax_credit * self.tools_usd


def straight_line(amount: float, in_service_q: int, life_q: int, horizon: int) -> Array:
    """Depreciation per quarter of one asset over a horizon of `horizon` quarters: amount / life
    in each quarter from the one it is placed in service, for `life_q` quarters."""
    charge = np.zeros(horizon)
    first, last = max(in_service_q, 0), min(in_service_q + life_q, horizon)
    if first < last:
        charge[first:last] = amount / life_q
    return charge


def share_recovered(rate: float, periods: int, within: int) -> float:
    """The share of a capital value (in present value at the first period) that level payments
    of value × CRF over `periods` recover in the first `within` of them:
    (1 − (1+r)^−k) / (1 − (1+r)^−n), k = within clipped to [0, n] (k/n at r = 0)."""
    k = min(max(within, 0), periods)
    if rate == 0:
        return k / periods
    return (1 - (1 + rate) ** -k) / (1 - (1 + rate) ** -periods)


def capital_recovery_factor(rate: float, periods: int) -> float:
    """CRF = r(1+r)^n / ((1+r)^n − 1): the level payment per period over n periods that repays
    one unit of capital at rate r per period (1/n at r = 0)."""
    if rate == 0:
        return 1.0 / periods
    grown = (1 + rate) ** periods
    return rate * grown / (grown - 1)


def phases_per_module(site: Site) -> int:
    """Tool sets in one module (1 for a site that builds whole modules)."""
    if site.tool_phases is None:
        return 1
    return round(site.module_wspm / site.tool_phases.wspm)


def capacity_unit(site: Site) -> Asset:
    """What the planner's `build` adds at the site: a whole module, one tool set, or a module
    converted from another site's fab (its capex the retooling, its lead time the downtime)."""
    capex = site.capex_per_module_usd
    if site.tool_phases is None:
        kind: Kind = "module" if site.converts_from is None else "conversion"
        return Asset(kind, capex.building, capex.tools, site.lead_time_q, site.lead_time_q, 1.0, site.pre_operating_q)
    count = phases_per_module(site)
    lead = site.tool_phases.lead_time_q
    return Asset("tools", 0.0, capex.tools / count, lead, lead, 1.0 / count, site.pre_operating_q)


def shell(site: Site) -> Asset | None:
    """A site's shell (None where modules are built whole): the building, ready for tools
    `lead_time_q − tool_phases.lead_time_q` quarters after its start and depreciated from the
    quarter its first tools could run."""
    if site.tool_phases is None:
        return None
    ready = site.lead_time_q - site.tool_phases.lead_time_q
    return Asset("shell", site.capex_per_module_usd.building, 0.0, ready, site.lead_time_q, 0.0)


def asset(site: Site, kind: str) -> Asset:
    """The asset a build row of `kind` (builds table) is at the site."""
    found = shell(site) if kind == "shell" else capacity_unit(site)
    if found is None or found.kind != kind:
        raise ValueError(f"site {site.id!r} builds no {kind!r}")
    return found


def depreciation_per_quarter_at_capacity(site: Site, life: DepreciationYears) -> float:
    """USD of depreciation a quarter of one whole module in service (building and tools)."""
    capex = site.capex_per_module_usd
    return capex.building / (QUARTERS_PER_YEAR * life.building) + capex.tools / (QUARTERS_PER_YEAR * life.tools)


def module_capex_usd(site: Site) -> float:
    """Capex of one whole module at the site (building and tools), USD."""
    capex = site.capex_per_module_usd
    return capex.building + capex.tools
