"""The scenario schema: frozen pydantic models, unknown keys rejected.

Every field says its unit in its name or its description; the descriptions are the reference
documentation of the file format. Checks that need more than one field (references between
ids, quarters inside the horizon, sums that must agree) live in `checks.py`, so that each
problem can be reported with the path of the field that causes it.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator
from pydantic_core import PydanticCustomError

from fabnet.core.periods import Quarter
from fabnet.core.periods import quarter_range

Id = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]
PositiveShare = Annotated[float, Field(gt=0, le=1)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


def _quarter(value: object) -> Quarter:
    if isinstance(value, Quarter):
        return value
    if isinstance(value, str):
        try:
            return Quarter.parse(value)
        except ValueError:
            pass
    raise PydanticCustomError("quarter", "a quarter like 2025Q3")


# Quarters are written "2025Q3" in files and read back as core Quarter objects.
QuarterField = Annotated[
    Quarter,
    PlainValidator(_quarter, json_schema_input_type=str),
    PlainSerializer(str, return_type=str),
]


def _penalty_rule(value: object) -> str | float:
    if value == "lost_margin":
        return "lost_margin"
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    raise PydanticCustomError("penalty_rule", "lost_margin, or a number of USD >= 0")


PenaltyRule = Annotated[
    str | float, PlainValidator(_penalty_rule, json_schema_input_type=str | float)
]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Horizon(Frozen):
    start: QuarterField = Field(description="First quarter of the plan, e.g. 2024Q1.")
    quarters: Annotated[int, Field(gt=0, le=400)] = Field(
        description="Number of quarters planned."
    )

    @property
    def end(self) -> Quarter:
        """Last quarter inside the horizon."""
        return self.start + (self.quarters - 1)

    @property
    def periods(self) -> list[Quarter]:
        return quarter_range(self.start, self.quarters)

    def contains(self, quarter: Quarter) -> bool:
        return self.start <= quarter <= self.end


class DefectDensity(Frozen):
    """D0 falls from `ramp_per_cm2` at a fab's first wafer towards `mature_per_cm2`.

    After `age` quarters of production: D0 = mature + (ramp - mature) * (1 - learning_rate_per_q)^age.
    """

    ramp_per_cm2: PositiveFloat = Field(description="D0 in a fab's first quarter of output, defects/cm².")
    mature_per_cm2: PositiveFloat = Field(description="D0 the process settles at, defects/cm².")
    learning_rate_per_q: PositiveShare = Field(
        description="Share of the gap to mature D0 closed each quarter of fab age (0–1]."
    )


class YieldModel(Frozen):
    """Zero-defect die yield model. D0 is always the total defect density; for bose_einstein it
    is spread evenly over `critical_layers`, which makes that model equal to the negative
    binomial with alpha = critical_layers."""

    kind: Literal["poisson", "murphy", "seeds", "negative_binomial", "bose_einstein"] = Field(
        default="negative_binomial", description="Which yield formula."
    )
    alpha: PositiveFloat | None = Field(
        default=None, description="Clustering parameter, negative_binomial only (default 2)."
    )
    critical_layers: PositiveInt | None = Field(
        default=None, description="Number of critical layers, bose_einstein only (required there)."
    )


class Node(Frozen):
    id: Id = Field(description="Name other sections use to refer to this process, e.g. N3.")
    wafer_diameter_mm: PositiveFloat = Field(default=300.0, description="Wafer diameter, mm.")
    edge_exclusion_mm: NonNegativeFloat = Field(
        default=3.0, description="Unusable ring at the wafer edge, mm."
    )
    scribe_mm: NonNegativeFloat = Field(
        default=0.1, description="Scribe street between dies, mm (added to die width and height)."
    )
    wafer_price_usd: PositiveFloat = Field(
        description="Price of one processed wafer at a foundry, USD; the basis for foundry purchases."
    )
    mask_layers: PositiveInt = Field(description="Mask layers of the process.")
    days_per_mask_layer: PositiveFloat = Field(
        description="Fab cycle time per mask layer in a lightly loaded fab, days; layers × this = "
        "raw cycle time."
    )
    defect_density: DefectDensity = Field(description="Defect density at ramp and mature, and how fast it learns.")
    yield_model: YieldModel = Field(default_factory=YieldModel, description="Die yield formula.")
    load_curve: Literal["smt2020_hvlm"] | None = Field(
        default="smt2020_hvlm",
        description="Stored load curve (cycle time against load, fitted to fab simulations) the "
        "planner uses for this node's own fabs: cycle time = raw × m(load). null: the raw cycle "
        "time at any load.")

    @property
    def cycle_time_days(self) -> float:
        return self.mask_layers * self.days_per_mask_layer


class Harvesting(Frozen):
    """Partial-good dies: a die of `units` identical units sells if at most
    `max_defective_units` are defective. Only `repeated_area_share` of the die is made of units;
    the rest must be free of defects."""

    units: PositiveInt = Field(description="Identical units on the die (e.g. SMs).")
    max_defective_units: NonNegativeInt = Field(description="Units that may be disabled.")
    repeated_area_share: PositiveShare = Field(
        default=1.0, description="Share of the die area taken by the units (0–1]."
    )


class Demand(Frozen):
    """Accelerators wanted. Give `per_year` (annual totals, spread evenly over the quarters) or
    `per_quarter`; values between the given points are interpolated, and held flat beyond them."""

    per_year: dict[int, NonNegativeFloat] | None = Field(
        default=None, description="Accelerators per calendar year, e.g. {2025: 300000}."
    )
    per_quarter: dict[QuarterField, NonNegativeFloat] | None = Field(
        default=None, description="Accelerators per quarter, e.g. {2025Q1: 80000}."
    )
    interpolation: Literal["linear", "step"] = Field(
        default="linear", description="linear between points, or step (hold the last point)."
    )

    def quarterly(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """Accelerators wanted in each of `periods`. A per-year figure is interpolated year by
        year and split evenly over the year's quarters, so each given year keeps its total."""
        if self.per_year:
            years = np.array([q.year for q in periods], dtype=float)
            return _interpolate(self.per_year, years, self.interpolation) / 4.0
        points = {q.index: v for q, v in (self.per_quarter or {}).items()}
        return _interpolate(points, np.array([q.index for q in periods], float), self.interpolation)


class Product(Frozen):
    id: Id = Field(description="Name of the accelerator.")
    node: Id = Field(description="Process node id its compute dies are made on.")
    compute_dies_per_package: PositiveInt = Field(description="Compute dies in one package.")
    die_width_mm: PositiveFloat = Field(description="Compute die width, mm.")
    die_height_mm: PositiveFloat = Field(description="Compute die height, mm.")
    harvesting: Harvesting | None = Field(
        default=None, description="Partial-good rule; omitted means a die must be perfect."
    )
    hbm_stacks: NonNegativeInt = Field(default=0, description="HBM stacks per package.")
    hbm_stack_cost_usd: NonNegativeFloat = Field(
        default=0.0, description="Cost of one known-good HBM stack, USD."
    )
    assembly_test_cost_usd: NonNegativeFloat = Field(
        default=0.0, description="Assembly and final test per package, USD."
    )
    packaging: Id = Field(description="Packaging line id (e.g. a CoWoS class) it is built on.")
    price_usd: PositiveFloat = Field(description="Selling price of one accelerator, USD.")
    unmet_penalty_usd: NonNegativeFloat | None = Field(
        default=None,
        description="Cost of one accelerator not delivered, USD; omitted means finance's rule.",
    )
    demand: Demand = Field(description="Accelerators wanted over time.")

    @property
    def die_area_mm2(self) -> float:
        return self.die_width_mm * self.die_height_mm


class PackagingExpansion(Frozen):
    module_wafers_per_month: PositiveFloat = Field(description="Capacity one expansion adds.")
    capex_usd: PositiveFloat = Field(description="Capital cost of one expansion module, USD.")
    lead_time_q: PositiveInt = Field(description="Quarters from decision to capacity.")
    max_modules: PositiveInt = Field(default=10, description="Most modules that can be added.")


class Packaging(Frozen):
    id: Id = Field(description="Name of the packaging line, e.g. cowos_l.")
    packages_per_wafer: PositiveFloat = Field(description="Packages from one interposer wafer.")
    yield_: PositiveShare = Field(alias="yield", description="Packaging yield (0–1].")
    wafer_cost_usd: NonNegativeFloat = Field(
        default=0.0, description="Cost of packaging one interposer wafer, USD."
    )
    capacity_wafers_per_month: dict[QuarterField, NonNegativeFloat] = Field(
        description="Wafers per month secured, from each given quarter on (zero before the first)."
    )
    expansion: PackagingExpansion | None = Field(
        default=None, description="How capacity can be added; omitted means it cannot."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def capacity(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """Wafers per month secured in each of `periods` (step function, zero before the first)."""
        points = sorted(self.capacity_wafers_per_month.items())
        starts = np.array([q.index for q, _ in points])
        values = np.array([0.0] + [v for _, v in points])
        return values[np.searchsorted(starts, [q.index for q in periods], side="right")]


class CapexSplit(Frozen):
    building: NonNegativeFloat = Field(description="Building and facility per module, USD.")
    tools: NonNegativeFloat = Field(description="Tools per module, USD.")

    @property
    def total(self) -> float:
        return self.building + self.tools


class Grants(Frozen):
    share_of_capex: Share = Field(default=0.0, description="Grant as a share of capex (0–1).")
    cap_usd: NonNegativeFloat | None = Field(default=None, description="Most the grant pays, USD.")


class Site(Frozen):
    id: Id = Field(description="Name of the candidate site.")
    region: Id = Field(description="Region or country code, e.g. US, JP.")
    node: Id = Field(description="Process node id the fab would run.")
    module_wspm: PositiveFloat = Field(description="Wafer starts per month of one fab module.")
    max_modules: PositiveInt = Field(default=1, description="Most modules the site can hold.")
    mandatory: bool = Field(default=False, description="At least one module must be built.")
    capex_per_module_usd: CapexSplit = Field(description="Capital cost of one module, USD, by part.")
    lead_time_q: PositiveInt = Field(description="Quarters from construction start to first wafer.")
    ramp: tuple[PositiveShare, ...] = Field(
        min_length=1,
        description="Share of module capacity in each quarter after first wafer; ends at 1.",
    )
    opex_per_wafer_usd: NonNegativeFloat = Field(description="Cash cost per wafer start, USD.")
    grants: Grants = Field(default_factory=Grants, description="Government support for this site.")
    tax_regime: Id = Field(description="Id of an entry of finance.tax_regimes.")
    earliest_start: QuarterField = Field(description="First quarter construction may start.")

    def capex_schedule_usd(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(building, tools) USD spent on one module in each quarter after its start: the
        building over the first half of the lead time, then the tools over the second half
        (both at once when the lead time is one quarter). The planner's budget and the
        finance's capital calls both use this one rule."""
        lead = self.lead_time_q
        building_q = math.ceil(lead / 2)
        tools_q = max(lead - building_q, 1)
        tools_from = building_q if lead > 1 else 0
        building = np.zeros(lead)
        tools = np.zeros(lead)
        building[:building_q] = self.capex_per_module_usd.building / building_q
        tools[tools_from:tools_from + tools_q] = self.capex_per_module_usd.tools / tools_q
        return building, tools


class FoundryOffer(Frozen):
    node: Id = Field(description="Process node id offered.")
    max_wafers_per_month: PositiveFloat = Field(description="Most wafers per month for sale.")
    price_premium: NonNegativeFloat = Field(
        default=0.0, description="Mark-up over the node's wafer_price_usd (0.1 = +10 %)."
    )
    available_from: QuarterField | None = Field(
        default=None, description="First quarter on offer; omitted means from the start."
    )


class Investor(Frozen):
    id: Id = Field(description="Investor name.")
    kind: Literal["equity", "debt"] = Field(description="equity or debt.")
    amount_usd: PositiveFloat = Field(description="Total commitment, USD.")
    available_from: QuarterField | None = Field(
        default=None, description="Quarter the whole amount is committed (or give tranches)."
    )
    tranches: dict[QuarterField, PositiveFloat] | None = Field(
        default=None, description="Amounts committed by quarter, USD; must add up to amount_usd."
    )
    preferred_return: NonNegativeFloat = Field(
        default=0.0, description="Equity only: annual hurdle paid before common distributions."
    )
    interest_rate: NonNegativeFloat | None = Field(
        default=None, description="Debt only: annual interest rate."
    )
    tenor_q: PositiveInt | None = Field(default=None, description="Debt only: quarters to maturity.")
    grace_q: NonNegativeInt = Field(default=0, description="Debt only: quarters before repayment starts.")


class Funding(Frozen):
    total_usd: PositiveFloat | None = Field(
        default=None, description="Declared total; when given, investor amounts must add up to it."
    )
    reinvest_operating_cash: bool = Field(
        default=False, description="May operating cash flow pay for later spending."
    )
    investors: tuple[Investor, ...] = Field(min_length=1, description="Who puts money in, how and when.")

    def commitments_usd(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """USD each investor commits in each quarter (investors × periods). The planner's
        budget is the sum over investors; the finance calls capital against each row."""
        position = {q: i for i, q in enumerate(periods)}
        schedule = np.zeros((len(self.investors), len(periods)))
        for row, investor in enumerate(self.investors):
            tranches = investor.tranches or {investor.available_from: investor.amount_usd}
            for quarter, amount in tranches.items():
                schedule[row, position[quarter]] += amount
        return schedule


class TaxRegime(Frozen):
    id: Id = Field(description="Name sites refer to, e.g. US.")
    rate: Share = Field(description="Corporate income tax rate (0–1).")
    investment_tax_credit: Share = Field(default=0.0, description="Credit as a share of tools capex.")
    itc_construction_deadline: QuarterField | None = Field(
        default=None, description="Last quarter construction may start and still earn the credit."
    )


class DepreciationYears(Frozen):
    building: PositiveInt = Field(default=20, description="Straight-line life of buildings, years.")
    tools: PositiveInt = Field(default=5, description="Straight-line life of tools, years.")


class Finance(Frozen):
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = Field(
        description="Annual nominal discount rate (WACC)."
    )
    depreciation_years: DepreciationYears = Field(default_factory=DepreciationYears,
                                                  description="Straight-line lives by asset class.")
    tax_regimes: tuple[TaxRegime, ...] = Field(min_length=1, description="Tax rules sites refer to; the first is home.")
    revenue: Literal["sales", "avoided_purchase"] = Field(
        default="sales", description="Value accelerators at selling price or at avoided cost."
    )
    unmet_demand_penalty: PenaltyRule = Field(
        default="lost_margin", description="lost_margin, or USD per accelerator not delivered."
    )


class Uncertain(Frozen):
    """One uncertain input for the risk analysis, addressed by a dotted path such as
    `sites.arizona.lead_time_q` (list entries by id, or by [index])."""

    path: str = Field(min_length=1, description="Dotted path of a number (or mapping) in this file.")
    dist: Literal["normal", "lognormal", "uniform", "triangular", "discrete"] = Field(
        description="Distribution of the draws.")
    apply: Literal["multiply", "add", "replace"] = Field(
        default="replace", description="How a draw changes the value."
    )
    mean: float | None = Field(default=None, description="normal: mean.")
    sd: PositiveFloat | None = Field(default=None, description="normal: standard deviation.")
    sigma: PositiveFloat | None = Field(default=None, description="lognormal: sigma of log.")
    median: PositiveFloat | None = Field(default=None, description="lognormal: median (default 1).")
    low: float | None = Field(default=None, description="uniform, triangular: lower bound.")
    mode: float | None = Field(default=None, description="triangular: most likely value.")
    high: float | None = Field(default=None, description="uniform, triangular: upper bound.")
    values: tuple[float, ...] | None = Field(default=None, description="discrete: the possible values.")
    weights: tuple[NonNegativeFloat, ...] | None = Field(
        default=None, description="discrete: their relative weights (default equal).")


class Simulation(Frozen):
    """Ask the main job for a fab simulation on the SMT2020 testbed (needs the data)."""

    dataset: Literal["HVLM", "LVHM"] = Field(default="HVLM", description="SMT2020 dataset.")
    days: PositiveFloat = Field(default=90.0, description="Simulated days.")
    warmup_days: NonNegativeFloat = Field(default=0.0, description="Days left out of the statistics.")
    rule: Literal["fifo", "cr", "edd", "spt", "dataset"] = Field(default="fifo", description="Dispatching rule.")
    curve: bool = Field(default=False, description="Also run the operating curve (six runs).")


class Scenario(Frozen):
    name: Id = Field(description="Scenario name.")
    description: str = Field(default="", description="Free text.")
    horizon: Horizon = Field(description="The quarters planned.")
    currency: Literal["USD"] = Field(default="USD", description="Currency of every amount (USD only).")
    seed: NonNegativeInt = Field(default=0, description="Seed of every random stream.")
    nodes: tuple[Node, ...] = Field(min_length=1, description="Process technologies.")
    products: tuple[Product, ...] = Field(min_length=1, description="Accelerators and their demand.")
    packaging: tuple[Packaging, ...] = Field(min_length=1, description="Advanced-packaging lines (CoWoS class).")
    sites: tuple[Site, ...] = Field(default=(), description="Candidate fab sites.")
    foundry_offers: tuple[FoundryOffer, ...] = Field(default=(), description="Wafer capacity for sale.")
    funding: Funding = Field(description="The investors' money.")
    finance: Finance = Field(description="Discounting, depreciation, tax, revenue and penalty rules.")
    uncertainty: tuple[Uncertain, ...] = Field(default=(), description="Uncertain inputs for risk analysis.")
    correlation: tuple[tuple[float, ...], ...] | None = Field(
        default=None, description="Rank correlations between the uncertain inputs, in their order "
        "(a symmetric matrix with ones on the diagonal, positive semi-definite); Gaussian copula.")
    simulation: Simulation | None = Field(default=None, description="Fab simulation for the main job.")

    def node(self, node_id: str) -> Node:
        return _by_id(self.nodes, node_id)

    def packaging_line(self, packaging_id: str) -> Packaging:
        return _by_id(self.packaging, packaging_id)


def _interpolate(
    points: dict[int, float], x: npt.NDArray[np.float64], how: str
) -> npt.NDArray[np.float64]:
    """Linear or step interpolation through `points`, held flat beyond the first and last."""
    xs = np.array(sorted(points), dtype=float)
    ys = np.array([points[k] for k in sorted(points)], dtype=float)
    if how == "linear":
        return np.interp(x, xs, ys)
    return ys[np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)]


def _by_id(items, wanted):  # type: ignore[no-untyped-def]
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(wanted)
