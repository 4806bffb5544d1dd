"""Where wafers can come from: the fab company's candidate sites (capex, tools, grants), the
operators that may run them, foundry offers, and other customers' demand for spare wafers.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import Field

from fabnet.core.periods import Quarter
from fabnet.scenario.fields import (
    MAX_QUARTERS,
    MAX_RATIO,
    Count,
    DefectsPerCm2,
    Flag,
    Frozen,
    Id,
    NonNegativeQuarters,
    Number,
    PositiveShare,
    PositiveWspm,
    QuarterField,
    Quarters,
    Share,
    UnitUsd,
    Usd,
    WspmPath,
    quarter_path,
)


class CapexSplit(Frozen):
    building: Usd = Field(description="Building and facility per module, USD.")
    tools: Usd = Field(description="Tools per module, USD.")


class ToolPhases(Frozen):
    """A module built in phases: the shell (building, cleanroom, utilities) first, then tool
    sets of `wspm` wafer starts a month each, installed when the plan needs them."""

    wspm: PositiveWspm = Field(
        description="Wafer starts per month of one tool set; module_wspm must be a whole number of them."
    )
    lead_time_q: Quarters = Field(
        description="Quarters from ordering a tool set to its first wafer (delivery, move-in, "
        "qualification); shorter than the site's lead_time_q. A shell started in quarter s takes "
        "tool sets from s + lead_time_q (site) − this on."
    )


#: When a grant pays: as the capex is spent, or when what it paid for enters service.
GrantTiming = Literal["as_spent", "in_service"]


class Grants(Frozen):
    share_of_capex: Share = Field(default=0.0, description="Grant as a share of capex (0–1).")
    cap_usd: Usd | None = Field(default=None, description="Most the grant pays, USD.")
    paid: GrantTiming = Field(
        default="as_spent",
        description="When the grant pays its share of a build: as_spent (with the construction "
        "spending) or in_service (all of it in the quarter the module, shell or tool set enters "
        "service: a milestone, as CHIPS awards are paid; the investors bridge it until then).",
    )
    status: Literal["proposed", "preliminary", "final"] | None = Field(
        default=None,
        description="How far the grant had got: proposed (asked for or announced), preliminary "
        "(e.g. a CHIPS preliminary memorandum) or final (awarded).",
    )
    as_of: QuarterField | None = Field(
        default=None,
        description="Quarter the grant reached its status (e.g. 2024Q4 for a CHIPS award made final in "
        "Nov 2024); a warning names a grant dated after the scenario's `as_of`.",
    )


class Site(Frozen):
    id: Id = Field(description="Name of the candidate site.")
    region: Id = Field(description="Region or country code, e.g. US, JP.")
    node: Id = Field(description="Process node id the fab would run.")
    module_wspm: PositiveWspm = Field(description="Wafer starts per month of one fab module.")
    max_modules: Count = Field(default=1, description="Most modules the site can hold.")
    mandatory: Flag = Field(default=False, description="At least one module must be built.")
    capex_per_module_usd: CapexSplit = Field(description="Capital cost of one module, USD, by part.")
    lead_time_q: Quarters = Field(description="Quarters from construction start to first wafer.")
    tool_phases: ToolPhases | None = Field(
        default=None,
        description="Build each module as a shell plus tool sets added in phases (the planner "
        "decides shells and tool sets apart, so capacity can follow demand); omitted means a "
        "module is built whole.",
    )
    ramp: tuple[PositiveShare, ...] = Field(
        min_length=1,
        max_length=MAX_QUARTERS,
        description="Share of module capacity in each quarter after first wafer, ends at 1, when "
        "the fab company runs the site (an operator's ramp replaces it).",
    )
    opex_per_wafer_usd: UnitUsd = Field(
        description="Variable cash cost per wafer start (materials, chemicals, power), USD."
    )
    fixed_opex_per_module_q_usd: Usd = Field(
        default=0.0,
        description="Fixed cash cost per module and quarter from its first wafer, or from "
        "pre_operating_q quarters before it (labour, facility, maintenance), USD; paid whether "
        "the module is loaded or idle.",
    )
    pre_operating_q: NonNegativeQuarters = Field(
        default=0,
        description="Quarters before a module's (or tool set's) first wafer from which its fixed "
        "opex is paid: staff hired and trained, cleanroom and utilities running, tools qualified on "
        "test wafers (e.g. 3: tool install to a stable 3 nm process takes ~10 months); at most its "
        "lead time. 0: from the first wafer.",
    )
    operator: Id | None = Field(
        default=None,
        description="Id of an entry of operators that runs "
        "the site for a fee, with its own ramp and yield learning; "
        "omitted means the fab company runs it itself.",
    )
    grants: Grants = Field(default_factory=Grants, description="Government support for this site.")
    tax_regime: Id = Field(description="Id of an entry of finance.tax_regimes.")
    earliest_start: QuarterField = Field(description="First quarter construction may start.")
    converts_from: Id | None = Field(
        default=None,
        description="Id of a site whose fabs this site's modules are converted from: the same "
        "building retooled for this site's node. A module here takes one ramped capacity unit "
        "(module or tool set) there out of production from its start; lead_time_q is the "
        "downtime, capex_per_module_usd the conversion's (building usually 0), module_wspm "
        "that site's capacity unit, region and tax_regime that site's. Omitted: a new fab.",
    )


class OperatorLearning(Frozen):
    ramp_per_cm2: DefectsPerCm2 = Field(
        description="D0 in the first quarter of output of a fab this operator runs, defects/cm²."
    )
    learning_rate_per_q: PositiveShare = Field(
        description="Share of the gap to the node's mature D0 closed each quarter (0–1]."
    )


class Operator(Frozen):
    """An operating partner (an experienced chipmaker) that runs a site for the fab company."""

    id: Id = Field(description="Name sites refer to, e.g. tsmc.")
    fee_per_wafer_usd: UnitUsd = Field(default=0.0, description="Fee per wafer start, USD.")
    revenue_share: Share = Field(default=0.0, description="Fee as a share of the site's wafer revenue (0–1).")
    ramp: tuple[PositiveShare, ...] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_QUARTERS,
        description="Its ramp (share of module capacity per quarter "
        "after first wafer, ending at 1); omitted means the site's own.",
    )
    defect_density: OperatorLearning | None = Field(
        default=None,
        description="Its D0 at first output and learning rate; the mature D0 stays "
        "the node's. Omitted means the node's.",
    )


class FoundryOffer(Frozen):
    id: Id | None = Field(
        default=None,
        description="Name of the offer; omitted means foundry-NODE (foundry-NODE-2 for a node's second offer).",
    )
    node: Id = Field(description="Process node id offered.")
    max_wafers_per_month: WspmPath = Field(
        description="Most wafers per month that can be reserved: one number, or a path by quarter "
        "(e.g. {2025Q1: 3000, 2027Q1: 6000}, zero before the first)."
    )
    price_premium: Number = Field(
        default=0.0,
        ge=-0.9,
        le=MAX_RATIO,
        description="Mark-up over the node's market wafer price path (0.1 = +10 %, −0.1 = a 10 % discount).",
    )
    available_from: QuarterField | None = Field(
        default=None, description="First quarter on offer; omitted means from the start."
    )
    reservation_lead_time_q: NonNegativeQuarters = Field(
        default=0,
        description="Quarters between reserving wafers and starting them: no wafer "
        "starts before the horizon's first quarter + this.",
    )
    take_or_pay: Share = Field(
        default=0.0, description="Share of the wafers reserved that is paid whether used or not (0–1)."
    )
    capex_per_wspm_usd: Usd | None = Field(
        default=None,
        description="Capital cost of one wafer start per month of the foundry's capacity behind "
        "this offer, USD (e.g. 5.0e5: $0.5 B per 1 k wspm). The plan's peak use of the offer "
        "times it is the industry's capex the plan relies on, reported apart from the fab "
        "company's; omitted means not counted.",
    )

    def capacity(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """Wafers per month that can be reserved in each of `periods`."""
        cap = quarter_path(self.max_wafers_per_month, periods)
        first = periods[0] + self.reservation_lead_time_q if periods else None
        if self.available_from is not None and first is not None:
            first = max(first, self.available_from)
        return np.where([q >= first for q in periods], cap, 0.0) if first is not None else cap


class WaferMarket(Frozen):
    """Other customers' demand for the fab company's wafers of one node: the most spare wafers
    they buy (at offtake.spare_wafer_price_share of the market wafer price)."""

    node: Id = Field(description="Process node id.")
    wafers_per_month: WspmPath = Field(
        description="Wafers a month other customers buy from the fab company, a number or a path by quarter."
    )
