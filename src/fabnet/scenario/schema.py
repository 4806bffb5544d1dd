"""The scenario schema: frozen pydantic models, unknown keys rejected.

Every field says its unit in its name or its description; the descriptions are the reference
documentation of the file format. Checks that need more than one field (references between
ids, quarters inside the horizon, sums that must agree) live in `checks.py`, so that each
problem can be reported with the path of the field that causes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Annotated, Literal, NamedTuple, Protocol, TypeVar, cast

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    Strict,
    StrictBool,
)
from pydantic_core import PydanticCustomError

from fabnet.core.periods import Quarter, quarter_range
from fabnet.fabsim.rules import RULES, rules_help
from fabnet.scenario.pricing import PriceDecline, declined
from fabnet.scenario.yamltext import odd_underscores

# Every number is finite (see Frozen) and inside a plausible range. The ranges are far wider than
# anything in the industry, so no real scenario meets them, yet narrow enough that no value can
# overflow an array, a float sum or the solver: a bound here is the one rule that a file,
# `--set`, `extends:` and the draws of the uncertainty section all meet.
MAX_USD = 1e13  # any amount of money: TSMC's capex for a year is ~3e10
MAX_UNIT_USD = 1e8  # the price of one wafer, accelerator, HBM stack or package
MAX_UNITS = 1e10  # accelerators or stacks per year or quarter (the world ships millions)
MAX_WAFERS_PER_MONTH = 1e7  # about the world's whole 300 mm capacity
MAX_QUARTERS = 400  # a century: the longest horizon
MAX_COUNT = 1000  # modules, units on a die, layers
MAX_ENTRIES = 500  # entries of one list or one path by quarter or year
MAX_RATIO = 100.0  # a price as a multiple of another, a mark-up, a rate a year
MAX_TEXT = 10_000  # characters of free text


def _not_bool(value: object) -> object:
    # YAML reads `yes`/`true` as a boolean, and pydantic would take it as 1 in a number field.
    if isinstance(value, bool):
        raise PydanticCustomError("number", "a number, not true/false")
    if isinstance(value, str) and odd_underscores(value):  # pydantic, as Python, reads '0_0.095' as 0.095
        raise PydanticCustomError("number", "a number with underscores only between thousands (1_000_000)")
    return value


Number = Annotated[float, BeforeValidator(_not_bool)]
Whole = Annotated[int, Strict()]  # an integer field takes neither true, 2.5, 2.0 nor "2"
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Share = Annotated[Number, Field(ge=0, le=1)]
PositiveShare = Annotated[Number, Field(gt=0, le=1)]
Ratio = Annotated[Number, Field(ge=0, le=MAX_RATIO)]
PositiveRatio = Annotated[Number, Field(gt=0, le=MAX_RATIO)]
Usd = Annotated[Number, Field(ge=0, le=MAX_USD)]
PositiveUsd = Annotated[Number, Field(gt=0, le=MAX_USD)]
UnitUsd = Annotated[Number, Field(ge=0, le=MAX_UNIT_USD)]
PositiveUnitUsd = Annotated[Number, Field(gt=0, le=MAX_UNIT_USD)]
Units = Annotated[Number, Field(ge=0, le=MAX_UNITS)]
Wspm = Annotated[Number, Field(ge=0, le=MAX_WAFERS_PER_MONTH)]
PositiveWspm = Annotated[Number, Field(gt=0, le=MAX_WAFERS_PER_MONTH)]
Mm = Annotated[Number, Field(gt=0, le=450)]
MarginMm = Annotated[Number, Field(ge=0, le=50)]
DefectsPerCm2 = Annotated[Number, Field(gt=0, le=100)]
Days = Annotated[Number, Field(ge=0, le=3650)]
PositiveDays = Annotated[Number, Field(gt=0, le=3650)]
AnnualRate = Annotated[Number, Field(ge=0, le=MAX_RATIO)]
Real = Annotated[Number, Field(ge=-MAX_USD, le=MAX_USD)]
Quarters = Annotated[Whole, Field(gt=0, le=MAX_QUARTERS)]
NonNegativeQuarters = Annotated[Whole, Field(ge=0, le=MAX_QUARTERS)]
Count = Annotated[Whole, Field(gt=0, le=MAX_COUNT)]
NonNegativeCount = Annotated[Whole, Field(ge=0, le=MAX_COUNT)]
Year = Annotated[int, Field(ge=1900, le=2300)]  # a mapping key: JSON round trips make it text
Flag = StrictBool


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
    if value == "market_price":
        return "market_price"
    if isinstance(value, str):  # YAML 1.1 reads 1.0e8 (no sign in the exponent) as text
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_UNIT_USD:
        return float(value)
    raise PydanticCustomError("penalty_rule", f"market_price, or a number of USD from 0 to {MAX_UNIT_USD:.0e}")


PenaltyRule = Annotated[str | float, PlainValidator(_penalty_rule, json_schema_input_type=str | float)]


#: A price that may change over time: one number, or {year: value} interpolated linearly
#: between the years given and held flat beyond them (every quarter of a year takes its value).
YearPath = PositiveUnitUsd | Annotated[dict[Year, PositiveUnitUsd], Field(min_length=1, max_length=MAX_ENTRIES)]
#: A quantity per quarter: one number from the start, or {quarter: value} holding each value
#: from its quarter on (zero before the first).
UnitsPath = Units | Annotated[dict[QuarterField, Units], Field(min_length=1, max_length=MAX_ENTRIES)]
#: Wafers per month by quarter, the same way.
WspmPath = Wspm | Annotated[dict[QuarterField, Wspm], Field(min_length=1, max_length=MAX_ENTRIES)]


def year_path(path: float | dict[int, float], periods: list[Quarter]) -> npt.NDArray[np.float64]:
    """A YearPath's value in each of `periods`."""
    if not isinstance(path, dict):
        return np.full(len(periods), float(path))
    return _interpolate(path, np.array([q.year for q in periods], dtype=float), "linear")


def quarter_path(path: float | dict[Quarter, float], periods: list[Quarter]) -> npt.NDArray[np.float64]:
    """A UnitsPath's or WspmPath's value in each of `periods` (a step function, zero before its first quarter)."""
    if not isinstance(path, dict):
        return np.full(len(periods), float(path))
    points = sorted(path.items())
    starts = np.array([q.index for q, _ in points])
    values = np.array([0.0] + [v for _, v in points])
    return values[np.searchsorted(starts, [q.index for q in periods], side="right")]


class Frozen(BaseModel):
    # inf and nan are numbers to pydantic but never a plausible input to fabnet
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Horizon(Frozen):
    start: QuarterField = Field(description="First quarter of the plan, e.g. 2024Q1.")
    quarters: Quarters = Field(description="Number of quarters planned.")

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

    ramp_per_cm2: DefectsPerCm2 = Field(description="D0 in a fab's first quarter of output, defects/cm².")
    mature_per_cm2: DefectsPerCm2 = Field(description="D0 the process settles at, defects/cm².")
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
    alpha: Annotated[Number, Field(gt=0, le=1e6)] | None = Field(
        default=None, description="Clustering parameter, negative_binomial only (default 2)."
    )
    critical_layers: Annotated[Number, Field(gt=0, le=MAX_COUNT)] | None = Field(
        default=None,
        description="Complexity factor n of bose_einstein, the number of critical layers "
        "(required there); a real number, as fitted in the yield literature (e.g. 11.5).",
    )


class Node(Frozen):
    id: Id = Field(description="Name other sections use to refer to this process, e.g. N3.")
    wafer_diameter_mm: Mm = Field(default=300.0, description="Wafer diameter, mm.")
    edge_exclusion_mm: MarginMm = Field(default=3.0, description="Unusable ring at the wafer edge, mm.")
    scribe_mm: MarginMm = Field(
        default=0.1, description="Scribe street between dies, mm (added to die width and height)."
    )
    wafer_price_usd: YearPath = Field(
        description="Market price of one processed wafer at a foundry, USD: one number or a path "
        "per year, e.g. {2024: 20000, 2026: 25000}. Foundry offers and the offtake price refer to it."
    )
    wafer_price_decline: PriceDecline | None = Field(
        default=None, description="How the wafer price falls as the node matures; omitted means the path as given."
    )
    mask_layers: Annotated[Whole, Field(gt=0, le=200)] = Field(description="Mask layers of the process.")
    days_per_mask_layer: Annotated[Number, Field(gt=0, le=30)] = Field(
        description="Fab cycle time per mask layer in a lightly loaded fab, days; layers × this = raw cycle time."
    )
    defect_density: DefectDensity = Field(description="Defect density at ramp and mature, and how fast it learns.")
    yield_model: YieldModel = Field(default_factory=YieldModel, description="Die yield formula.")
    load_curve: Literal["smt2020_hvlm"] | None = Field(
        default="smt2020_hvlm",
        description="Stored load curve (cycle time against load, fitted to fab simulations) the "
        "planner uses for this node's own fabs: cycle time = raw × m(load). null: the raw cycle "
        "time at any load.",
    )

    @property
    def cycle_time_days(self) -> float:
        return self.mask_layers * self.days_per_mask_layer

    def wafer_price(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """Market wafer price (USD) in each of `periods`."""
        return declined(year_path(self.wafer_price_usd, periods), self.wafer_price_decline, periods)


class Harvesting(Frozen):
    """Partial-good dies: a die of `units` identical units sells if at most
    `max_defective_units` are defective. Only `repeated_area_share` of the die is made of units;
    the rest must be free of defects."""

    units: Count = Field(description="Identical units on the die (e.g. SMs).")
    max_defective_units: NonNegativeCount = Field(description="Units that may be disabled.")
    repeated_area_share: PositiveShare = Field(
        default=1.0, description="Share of the die area taken by the units (0–1]."
    )


class Demand(Frozen):
    """Accelerators wanted. Give `per_year` (annual totals, spread evenly over the quarters) or
    `per_quarter`; values between the given points are interpolated, and held flat beyond them."""

    per_year: Annotated[dict[Year, Units], Field(min_length=1, max_length=MAX_ENTRIES)] | None = Field(
        default=None, description="Accelerators per calendar year, e.g. {2025: 300000}."
    )
    per_quarter: Annotated[dict[QuarterField, Units], Field(min_length=1, max_length=MAX_ENTRIES)] | None = Field(
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


class Design(Frozen):
    """The buyer's design programme of a product: what it costs and when wafers may start."""

    cost_usd: Usd = Field(
        description="Design cost (engineering, IP, verification), "
        "USD, spread evenly from `start` to the quarter before `tape_out`."
    )
    mask_set_usd: Usd = Field(default=0.0, description="Mask set, USD, paid in the tape-out quarter.")
    start: QuarterField = Field(description="Quarter the design work starts.")
    tape_out: QuarterField = Field(
        description="Tape-out: the first quarter a wafer of the product may start (design time = tape_out − start)."
    )

    def spending_usd(self, periods: list[Quarter]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(design, masks) USD in each of `periods`; what falls outside them is not counted."""
        position = {q: i for i, q in enumerate(periods)}
        design, masks = np.zeros(len(periods)), np.zeros(len(periods))
        quarters = max(self.tape_out - self.start, 0)
        for k in range(quarters):
            if self.start + k in position:
                design[position[self.start + k]] += self.cost_usd / quarters
        paid_at = position.get(self.tape_out)
        if paid_at is not None:
            masks[paid_at] += self.mask_set_usd
            if quarters == 0:
                design[paid_at] += self.cost_usd
        return design, masks


class Product(Frozen):
    """An accelerator the buyer needs. `kind: design` is the buyer's own design, made from
    wafers (the network's or a foundry's), HBM and packaging; `kind: bought` is a product the
    buyer can only buy, at its market price (e.g. an H100-class GPU from its vendor)."""

    id: Id = Field(description="Name of the accelerator.")
    kind: Literal["design", "bought"] = Field(
        default="design",
        description="design: the buyer's own design, made by the network or "
        "a foundry; bought: bought finished from its vendor, never made by the network.",
    )
    market_price_usd: YearPath = Field(
        description="What the buyer would pay for one such accelerator (or an equivalent) on the "
        "market, USD; one number or a path per year. The price paid for a bought product; for "
        "a designed one the value of each unit delivered."
    )
    market_price_decline: PriceDecline | None = Field(
        default=None,
        description="How the market price falls (e.g. once its successor ships); omitted means the path as given.",
    )
    demand: Demand = Field(description="Accelerators the buyer needs over time.")
    unmet_penalty_usd: UnitUsd | None = Field(
        default=None,
        description="Cost of one accelerator not delivered, USD; omitted means finance.unmet_demand_penalty.",
    )
    supply_per_quarter: UnitsPath | None = Field(
        default=None,
        description="bought only: most units the vendor sells the buyer per quarter "
        "(one number or a path by quarter); omitted means no limit.",
    )
    node: Id | None = Field(default=None, description="design only: process node id its compute dies are made on.")
    compute_dies_per_package: Annotated[Whole, Field(gt=0, le=64)] = Field(
        default=1, description="design only: compute dies in one package."
    )
    die_width_mm: Mm | None = Field(default=None, description="design only: compute die width, mm.")
    die_height_mm: Mm | None = Field(default=None, description="design only: compute die height, mm.")
    harvesting: Harvesting | None = Field(
        default=None, description="design only: partial-good rule; omitted means a die must be perfect."
    )
    hbm: Id | None = Field(default=None, description="design only: id of the hbm entry its stacks come from.")
    hbm_stacks: Annotated[Whole, Field(ge=0, le=64)] = Field(
        default=0, description="design only: HBM stacks per package."
    )
    assembly_test_cost_usd: UnitUsd = Field(
        default=0.0, description="design only: assembly and final test per package, USD."
    )
    packaging: Id | None = Field(
        default=None, description="design only: packaging line id (e.g. a CoWoS class) it is built on."
    )
    design: Design | None = Field(
        default=None,
        description="design only: the design programme "
        "(cost, masks, tape-out); omitted means designed already and "
        "paid for.",
    )

    @property
    def made(self) -> bool:
        """True for a product the network or a foundry makes (the buyer's own design)."""
        return self.kind == "design"

    @property
    def die_area_mm2(self) -> float:
        assert self.die_width_mm is not None and self.die_height_mm is not None
        return self.die_width_mm * self.die_height_mm

    def market_price(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        return declined(year_path(self.market_price_usd, periods), self.market_price_decline, periods)


class Hbm(Frozen):
    """High-bandwidth memory stacks available to the buyer: a price and a quantity per quarter."""

    id: Id = Field(description="Name products refer to, e.g. hbm3e.")
    price_usd: YearPath = Field(description="Price of one known-good stack, USD; one number or a path per year.")
    price_decline: PriceDecline | None = Field(
        default=None, description="How the stack price falls over time; omitted means the path as given."
    )
    stacks_per_quarter: UnitsPath | None = Field(
        default=None,
        description="Stacks the buyer can get per quarter (one number or a path by quarter); omitted means no limit.",
    )

    def price(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        return declined(year_path(self.price_usd, periods), self.price_decline, periods)


class PackagingExpansion(Frozen):
    module_wafers_per_month: PositiveWspm = Field(description="Capacity one expansion adds.")
    capex_usd: PositiveUsd = Field(description="Capital cost of one expansion module, USD.")
    lead_time_q: Quarters = Field(description="Quarters from decision to capacity.")
    max_modules: Count = Field(default=10, description="Most modules that can be added.")


class Packaging(Frozen):
    id: Id = Field(description="Name of the packaging line, e.g. cowos_l.")
    packages_per_wafer: Annotated[Number, Field(gt=0, le=1e5)] = Field(
        description="Packages from one interposer wafer."
    )
    yield_: PositiveShare = Field(alias="yield", description="Packaging yield (0–1].")
    wafer_cost_usd: UnitUsd = Field(default=0.0, description="Cost of packaging one interposer wafer, USD.")
    capacity_wafers_per_month: Annotated[dict[QuarterField, Wspm], Field(max_length=MAX_ENTRIES)] = Field(
        description="Wafers per month secured, from each given quarter on (zero before the first)."
    )
    cycle_days: Days = Field(
        default=0.0,
        description="Days from a die leaving the fab to the accelerator delivered: "
        "interposer, HBM attach, assembly and test.",
    )
    expansion: PackagingExpansion | None = Field(
        default=None, description="How capacity can be added; omitted means it cannot."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    def capacity(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """Wafers per month secured in each of `periods` (step function, zero before the first)."""
        return quarter_path(self.capacity_wafers_per_month, periods)


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


class Grants(Frozen):
    share_of_capex: Share = Field(default=0.0, description="Grant as a share of capex (0–1).")
    cap_usd: Usd | None = Field(default=None, description="Most the grant pays, USD.")
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
        description="Fixed cash cost per module and quarter from its first wafer "
        "(labour, facility, maintenance), USD; paid whether the module is loaded or idle.",
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


class Investor(Frozen):
    id: Id = Field(description="Investor name.")
    kind: Literal["equity", "debt"] = Field(description="equity or debt.")
    amount_usd: PositiveUsd = Field(description="Total commitment, USD.")
    available_from: QuarterField | None = Field(
        default=None, description="Quarter the whole amount is committed (or give tranches)."
    )
    tranches: Annotated[dict[QuarterField, PositiveUsd], Field(min_length=1, max_length=MAX_ENTRIES)] | None = Field(
        default=None, description="Amounts committed by quarter, USD; must add up to amount_usd."
    )
    preferred_return: AnnualRate = Field(
        default=0.0, description="Equity only: annual preferred return paid before common distributions (a waterfall)."
    )
    hurdle_rate: AnnualRate | None = Field(
        default=None,
        description="Annual IRR this investor needs to join the deal (`fabnet "
        "deal`); omitted means finance.discount_rate.",
    )
    hurdle_spread: Annotated[Number, Field(ge=-1, le=MAX_RATIO)] | None = Field(
        default=None,
        description="Instead of hurdle_rate: the hurdle as a spread over a rate (hurdle_over), "
        "e.g. 0.04 over the discount rate.",
    )
    hurdle_over: Literal["discount_rate", "debt_rate"] = Field(
        default="discount_rate",
        description="The rate hurdle_spread is added to: finance.discount_rate, or the interest "
        "rate of the first senior project debt (else the first project debt).",
    )
    interest_rate: AnnualRate | None = Field(default=None, description="Debt only: annual interest rate.")
    tenor_q: Quarters | None = Field(default=None, description="Debt only: quarters to maturity.")
    grace_q: NonNegativeQuarters = Field(default=0, description="Debt only: quarters before repayment starts.")


class ProjectDebt(Frozen):
    """A loan to the fab company, drawn as capex is spent and repaid from its operating cash
    (finance/debt.py). Senior debt is sized and sculpted to a target DSCR; a government loan
    (CHIPS-style) has its own amount, rate and tenor and amortises linearly or as an annuity."""

    id: Id = Field(description="Lender or facility name.")
    kind: Literal["senior", "government"] = Field(
        default="senior", description="senior: sized to target_dscr and gearing; government: amount_usd."
    )
    repayment: Literal["sculpted", "linear", "annuity"] = Field(
        default="sculpted",
        description="sculpted: debt service = CFADS / target DSCR (senior); linear: equal "
        "principal; annuity: equal debt service.",
    )
    interest_rate: AnnualRate = Field(description="Annual interest rate (compounded quarterly).")
    tenor_q: Quarters = Field(description="Repayment quarters, from the first repayment to maturity.")
    grace_q: NonNegativeQuarters = Field(
        default=0,
        description="Quarters from the first module online to the first repayment; interest "
        "until then is capitalised (interest during construction).",
    )
    amount_usd: PositiveUsd | None = Field(
        default=None,
        description="government: the loan's amount (drawn as capex is spent); senior: an "
        "optional cap on the balance at first repayment.",
    )
    target_dscr: Annotated[Number, Field(ge=1, le=MAX_RATIO)] = Field(
        default=1.30, description="sculpted: debt service = CFADS / target_dscr; sizes the debt."
    )
    gearing: Share = Field(
        default=0.6,
        description="senior: the most the balance at first repayment (with capitalised interest) may be, "
        "as a share of the capex net of grants spent before it (debt / (debt + equity)).",
    )
    covenant_dscr: Annotated[Number, Field(ge=0, le=MAX_RATIO)] = Field(
        default=1.10, description="A quarter's DSCR below this is a covenant breach (a message)."
    )
    dsra_q: NonNegativeQuarters = Field(
        default=2,
        description="Debt-service reserve: the next dsra_q quarters' debt service, funded at the "
        "first repayment and released at maturity.",
    )


class Funding(Frozen):
    total_usd: PositiveUsd | None = Field(
        default=None, description="Declared total; when given, investor amounts must add up to it."
    )
    reinvest_operating_cash: Flag = Field(
        default=False,
        description="May the fab company's operating cash pay for later capex; "
        "if not, capex comes from the investors, debt, grants and tax credits alone and surplus "
        "operating cash is distributed.",
    )
    investors: tuple[Investor, ...] = Field(
        min_length=1, max_length=100, description="Who puts money in, how and when."
    )
    ambition_usd: PositiveUsd | None = Field(
        default=None,
        description="A capital ambition to measure the plan against, USD (e.g. the reported "
        "$5–7 T): the plan's capex, the fab company's and the foundry capacity it relies on, "
        "is reported as a share of it.",
    )
    project_debt: tuple[ProjectDebt, ...] = Field(
        default=(),
        max_length=20,
        description="Loans to the fab company drawn as capex is spent and repaid from its "
        "operating cash; government loans are drawn first, senior debt on the rest.",
    )

    def commitments_usd(self, periods: list[Quarter]) -> npt.NDArray[np.float64]:
        """USD each investor commits in each quarter (investors × periods). The planner's
        budget is the sum over investors; the finance calls capital against each row."""
        position = {q: i for i, q in enumerate(periods)}
        schedule = np.zeros((len(self.investors), len(periods)))
        for row, investor in enumerate(self.investors):
            # the model's validator allows tranches or available_from, never neither
            tranches = investor.tranches or {cast(Quarter, investor.available_from): investor.amount_usd}
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
    building: Annotated[Whole, Field(gt=0, le=100)] = Field(
        default=20, description="Straight-line life of buildings, years."
    )
    tools: Annotated[Whole, Field(gt=0, le=100)] = Field(default=5, description="Straight-line life of tools, years.")


class ContinuingValue(Frozen):
    """What the fab company is worth after the last quarter (finance/terminal.py)."""

    method: Literal["gordon", "tail", "book_value"] = Field(
        default="gordon",
        description="gordon: steady-state free cash flow / (discount rate − growth); tail: "
        "tail_years more years at a price falling by growth, then salvage; book_value: the "
        "modules' book value net of grants.",
    )
    growth: Annotated[Number, Field(ge=-0.5, lt=0.5)] = Field(
        default=-0.02,
        description="Annual growth of the steady-state cash flow (gordon) or of the wafer price (tail).",
    )
    maintenance_capex_basis: Literal["tools_capex", "depreciation"] = Field(
        default="tools_capex",
        description="What maintenance capex after the horizon is a share of: the tools capex "
        "of the modules built, or the last year's depreciation.",
    )
    maintenance_capex_share: Annotated[Number, Field(ge=0, le=2)] = Field(
        default=0.10, description="Maintenance capex a year as a share of its basis."
    )
    tail_years: Annotated[Whole, Field(gt=0, le=100)] = Field(default=15, description="tail: years operated.")
    salvage_share_of_capex: Share = Field(
        default=0.0, description="tail: what the modules fetch at the tail's end, as a share of their capex."
    )


class Finance(Frozen):
    discount_rate: Annotated[Number, Field(ge=0, lt=1)] = Field(description="Annual nominal discount rate (WACC).")
    depreciation_years: DepreciationYears = Field(
        default_factory=DepreciationYears, description="Straight-line lives by asset class."
    )
    tax_regimes: tuple[TaxRegime, ...] = Field(
        min_length=1, max_length=100, description="Tax rules sites refer to; the first is home."
    )
    unmet_demand_penalty: PenaltyRule = Field(
        default="market_price",
        description="What an accelerator not delivered costs the buyer: "
        "market_price (its market price, what it is worth to the buyer), or USD per accelerator.",
    )
    continuing_value: ContinuingValue = Field(
        default_factory=ContinuingValue,
        description="The fab company's value after the horizon, in its NPV and its equity's terminal payout.",
    )


class Offtake(Frozen):
    """The contract under which the fab company sells its wafers to the buyer."""

    price: Literal["indexed", "fixed", "cost_plus"] = Field(
        default="indexed",
        description="indexed: a share of the node's market wafer price; "
        "fixed: fixed_price_usd per node; cost_plus: the site's standard cost per wafer at full "
        "load (variable and fixed opex, operator fee per wafer, depreciation) times 1 + markup.",
    )
    share_of_market_price: PositiveRatio = Field(
        default=1.0,
        description="indexed: price as a share of the market wafer price (0.9 = 10 % below what a foundry charges).",
    )
    fixed_price_usd: Annotated[dict[Id, YearPath], Field(max_length=100)] | None = Field(
        default=None, description="fixed: price per wafer by node id (one number or a path per year)."
    )
    markup: Ratio = Field(default=0.15, description="cost_plus: mark-up on standard cost.")
    take_or_pay_share: Share = Field(
        default=0.0,
        description="Share of the fab company's wafer output at capacity that the "
        "buyer pays for whether it takes the wafers or not (0–1); wafers sold to other customers "
        "count against it.",
    )
    end: QuarterField | None = Field(
        default=None,
        description="Last quarter of the contract; afterwards wafers are sold at "
        "the market price, without take-or-pay. Omitted means the whole horizon.",
    )
    spare_wafers_to_market: Flag = Field(
        default=False,
        description="May the fab company sell wafers the buyer does not need to "
        "other customers (at spare_wafer_price_share of the market wafer price).",
    )
    spare_wafer_price_share: PositiveRatio = Field(
        default=1.0,
        description="What other customers pay for spare wafers, as a share of the "
        "market wafer price (a newcomer may have to sell below the leader's price).",
    )
    buyer_default_q: NonNegativeQuarters = Field(
        default=MAX_QUARTERS,
        description="Quarter the buyer defaults, counted from the horizon's first (0); at or beyond the "
        "horizon's end (the default), never. From it on the buyer pays nothing (wafers or take-or-pay); "
        "the fab company sells what it made for the buyer at the spare price where spare_wafers_to_market, "
        "else not at all. Draw it with `dist: hazard` in uncertainty; the planner does not foresee it.",
    )


class Uncertain(Frozen):
    """One uncertain input for the risk analysis, addressed by a dotted path such as
    `sites.arizona.lead_time_q` (list entries by id, or by [index])."""

    path: str = Field(min_length=1, max_length=200, description="Dotted path of a number (or mapping) in this file.")
    dist: Literal["normal", "lognormal", "uniform", "triangular", "discrete", "hazard"] = Field(
        description="Distribution of the draws; hazard: the quarter (from the horizon's first, 0) an "
        "event with an annual probability `per_year` happens, e.g. offtake.buyer_default_q."
    )
    apply: Literal["multiply", "add", "replace"] = Field(default="replace", description="How a draw changes the value.")
    mean: Real | None = Field(default=None, description="normal: mean.")
    sd: Annotated[Number, Field(gt=0, le=MAX_USD)] | None = Field(
        default=None, description="normal: standard deviation."
    )
    sigma: Annotated[Number, Field(gt=0, le=3)] | None = Field(
        default=None, description="lognormal: sigma of log (3 already spans a factor of 20 either way at one sigma)."
    )
    median: Annotated[Number, Field(gt=0, le=MAX_USD)] | None = Field(
        default=None, description="lognormal: median (default 1)."
    )
    low: Real | None = Field(default=None, description="uniform, triangular: lower bound.")
    mode: Real | None = Field(default=None, description="triangular: most likely value.")
    high: Real | None = Field(default=None, description="uniform, triangular: upper bound.")
    values: tuple[Real, ...] | None = Field(
        default=None, min_length=1, max_length=MAX_COUNT, description="discrete: the possible values."
    )
    weights: tuple[Annotated[Number, Field(ge=0, le=MAX_USD)], ...] | None = Field(
        default=None, description="discrete: their relative weights (default equal)."
    )
    per_year: Annotated[Number, Field(gt=0, lt=1)] | None = Field(
        default=None, description="hazard: the event's probability in a year (constant, quarter by quarter)."
    )


#: The simulator's dispatching rules, named once in its registry (fabnet.fabsim.rules).
RuleName = Literal[tuple(RULES)]  # type: ignore[valid-type]


class Simulation(Frozen):
    """Ask the main job for a fab simulation on the SMT2020 testbed (needs the data)."""

    dataset: Literal["HVLM", "LVHM"] = Field(default="HVLM", description="SMT2020 dataset.")
    days: PositiveDays = Field(default=90.0, description="Simulated days.")
    warmup_days: Days = Field(default=0.0, description="Days left out of the statistics.")
    rule: RuleName = Field(default="fifo", description=f"Dispatching rule: {rules_help()}.")  # type: ignore[valid-type]
    curve: Flag = Field(default=False, description="Also run the operating curve (six runs).")


class Robust(Frozen):
    """One build plan for many futures of the `uncertainty` section (a two-stage stochastic
    plan), measured against the central-value plan on fresh futures."""

    futures: Annotated[Whole, Field(ge=1, le=1000)] = Field(description="Futures the plan is chosen for (K).")
    cvar: Annotated[Number, Field(ge=0, lt=1)] = Field(
        default=0.9, description="CVaR level α: the expected cost of the worst 1 − α of futures."
    )
    risk_weight: Share = Field(default=0.0, description="λ of (1 − λ)·E[cost] + λ·CVaR[cost]; 0 = expected cost.")
    out_of_sample: Annotated[Whole, Field(ge=1, le=1_000_000)] = Field(
        default=1000, description="Fresh futures both plans are measured on."
    )
    solver: Literal["auto", "equivalent", "benders"] = Field(
        default="auto", description="equivalent (one MIP), benders (futures as tasks on the workers), auto."
    )


class Planning(Frozen):
    """How the network is planned."""

    robust: Robust | None = Field(
        default=None, description="Plan for many futures at once (`fabnet plan` and `fabnet run`)."
    )


class Origin(NamedTuple):
    """Where a scenario came from: its file and the overrides applied on top ("path=value")."""

    file: str | None = None
    overrides: tuple[str, ...] = ()


class Scenario(Frozen):
    # not a field: the same inputs from two files are the same scenario, but a run records both
    _origin: Origin = PrivateAttr(default_factory=Origin)

    @property
    def origin(self) -> Origin:
        return self._origin

    def __eq__(self, other: object) -> bool:
        # the same inputs are the same scenario, from whichever file (pydantic would compare _origin)
        return type(other) is type(self) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash(tuple(self.__dict__.values()))

    name: Id = Field(description="Scenario name.")
    description: str = Field(default="", max_length=MAX_TEXT, description="Free text.")
    horizon: Horizon = Field(description="The quarters planned.")
    currency: Literal["USD"] = Field(default="USD", description="Currency of every amount (USD only).")
    seed: Annotated[Whole, Field(ge=0, lt=2**63)] = Field(default=0, description="Seed of every random stream.")
    as_of: QuarterField | None = Field(
        default=None,
        description="Quarter the scenario's facts are as of (what was known then: grants, prices, "
        "site plans); omitted means horizon.start.",
    )
    nodes: tuple[Node, ...] = Field(min_length=1, max_length=MAX_ENTRIES, description="Process technologies.")
    products: tuple[Product, ...] = Field(
        min_length=1, max_length=MAX_ENTRIES, description="Accelerators and their demand."
    )
    packaging: tuple[Packaging, ...] = Field(
        default=(), max_length=MAX_ENTRIES, description="Advanced-packaging lines (CoWoS class)."
    )
    hbm: tuple[Hbm, ...] = Field(default=(), max_length=MAX_ENTRIES, description="HBM supplies the buyer can draw on.")
    sites: tuple[Site, ...] = Field(
        default=(), max_length=MAX_ENTRIES, description="Candidate fab sites of the fab company."
    )
    operators: tuple[Operator, ...] = Field(
        default=(), max_length=MAX_ENTRIES, description="Operating partners that may run sites."
    )
    foundry_offers: tuple[FoundryOffer, ...] = Field(
        default=(), max_length=MAX_ENTRIES, description="Foundry wafer capacity the buyer can reserve."
    )
    offtake: Offtake = Field(default_factory=Offtake, description="How the fab company sells its wafers to the buyer.")
    wafer_markets: tuple[WaferMarket, ...] = Field(
        default=(),
        max_length=MAX_ENTRIES,
        description="Third-party demand for the fab company's spare wafers, per node (one entry a "
        "node); a node listed here sells spare wafers up to its volume, whether or not "
        "offtake.spare_wafers_to_market is set.",
    )
    funding: Funding = Field(description="The fab company's investors and their money.")
    finance: Finance = Field(description="Discounting, depreciation, tax and penalty rules.")
    uncertainty: tuple[Uncertain, ...] = Field(
        default=(), max_length=100, description="Uncertain inputs for risk analysis."
    )
    correlation: tuple[tuple[Annotated[Number, Field(ge=-1, le=1)], ...], ...] | None = Field(
        default=None,
        max_length=100,
        description="Rank correlations between the uncertain inputs, in their order "
        "(a symmetric matrix with ones on the diagonal, positive semi-definite); Gaussian copula.",
    )
    simulation: Simulation | None = Field(default=None, description="Fab simulation for the main job.")
    planning: Planning = Field(default_factory=Planning, description="How the network is planned.")

    def node(self, node_id: str | None) -> Node:
        return _by_id(self.nodes, node_id)

    def packaging_line(self, packaging_id: str | None) -> Packaging:
        return _by_id(self.packaging, packaging_id)

    def hbm_supply(self, hbm_id: str | None) -> Hbm:
        return _by_id(self.hbm, hbm_id)

    def operator(self, operator_id: str | None) -> Operator | None:
        return None if operator_id is None else _by_id(self.operators, operator_id)

    @property
    def made_products(self) -> tuple[Product, ...]:
        return tuple(p for p in self.products if p.made)

    def offer_ids(self) -> list[str]:
        """Each foundry offer's id: its own, or foundry-NODE (foundry-NODE-2 for a second one)."""
        ids: list[str] = []
        seen: dict[str, int] = {}
        for offer in self.foundry_offers:
            seen[offer.node] = seen.get(offer.node, 0) + 1
            ids.append(offer.id or f"foundry-{offer.node}" + (f"-{seen[offer.node]}" if seen[offer.node] > 1 else ""))
        return ids


def _interpolate(points: dict[int, float], x: npt.NDArray[np.float64], how: str) -> npt.NDArray[np.float64]:
    """Linear or step interpolation through `points`, held flat beyond the first and last."""
    xs = np.array(sorted(points), dtype=float)
    ys = np.array([points[k] for k in sorted(points)], dtype=float)
    if how == "linear":
        return np.asarray(np.interp(x, xs, ys), dtype=np.float64)
    return ys[np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)]


class _Identified(Protocol):
    @property
    def id(self) -> str | None: ...


_Item = TypeVar("_Item", bound=_Identified)


def _by_id(items: Iterable[_Item], wanted: str | None) -> _Item:
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(wanted)
