"""What the buyer needs and how it is made: process nodes and their yield, products, their
demand and design programmes, HBM supplies and packaging lines.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import ConfigDict, Field

from fabnet.core.periods import Quarter
from fabnet.scenario.fields import (
    MAX_COUNT,
    MAX_ENTRIES,
    Count,
    Days,
    DefectsPerCm2,
    Frozen,
    Id,
    MarginMm,
    Mm,
    NonNegativeCount,
    Number,
    PositiveShare,
    PositiveUsd,
    PositiveWspm,
    QuarterField,
    Quarters,
    Units,
    UnitsPath,
    UnitUsd,
    Usd,
    Whole,
    Wspm,
    Year,
    YearPath,
    interpolate,
    quarter_path,
    year_path,
)
from fabnet.scenario.pricing import PriceDecline, declined


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
            return interpolate(self.per_year, years, self.interpolation) / 4.0
        points = {q.index: v for q, v in (self.per_quarter or {}).items()}
        return interpolate(points, np.array([q.index for q in periods], float), self.interpolation)


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
