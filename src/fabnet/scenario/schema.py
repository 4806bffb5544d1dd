"""The scenario schema: frozen pydantic models, unknown keys rejected.

Every field says its unit in its name or its description; the descriptions are the reference
documentation of the file format. Checks that need more than one field (references between
ids, quarters inside the horizon, sums that must agree) live in `checks.py`, so that each
problem can be reported with the path of the field that causes it.

This module holds the top of the file (Scenario, Horizon) and exports every model of the file,
defined by topic: field types and bounds in `fields`, what is made in `products`, where wafers
come from in `sites`, the money in `money`, risk, robust planning and simulation in `analyses`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, NamedTuple, Protocol, TypeVar

from pydantic import Field, PrivateAttr

from fabnet.core.periods import Quarter, quarter_range
from fabnet.scenario.analyses import PlanChecking, Planning, Robust, RuleName, Simulation, Uncertain
from fabnet.scenario.fields import (
    MAX_COUNT,
    MAX_ENTRIES,
    MAX_QUARTERS,
    MAX_RATIO,
    MAX_TEXT,
    MAX_UNIT_USD,
    MAX_UNITS,
    MAX_USD,
    MAX_WAFERS_PER_MONTH,
    AnnualRate,
    Count,
    Days,
    DefectsPerCm2,
    Flag,
    Frozen,
    Id,
    MarginMm,
    Mm,
    NonNegativeCount,
    NonNegativeQuarters,
    Number,
    PenaltyRule,
    PositiveDays,
    PositiveRatio,
    PositiveShare,
    PositiveUnitUsd,
    PositiveUsd,
    PositiveWspm,
    QuarterField,
    Quarters,
    Ratio,
    Real,
    Share,
    Units,
    UnitsPath,
    UnitUsd,
    Usd,
    Whole,
    Wspm,
    WspmPath,
    Year,
    YearPath,
    interpolate,
    quarter_path,
    year_path,
)
from fabnet.scenario.money import (
    ContinuingValue,
    DepreciationYears,
    Finance,
    Funding,
    Investor,
    Offtake,
    ProjectDebt,
    TaxRegime,
)
from fabnet.scenario.products import (
    DefectDensity,
    Demand,
    Design,
    Harvesting,
    Hbm,
    Node,
    Packaging,
    PackagingExpansion,
    Product,
    YieldModel,
)
from fabnet.scenario.sites import (
    CapexSplit,
    FoundryOffer,
    Grants,
    GrantTiming,
    Operator,
    OperatorLearning,
    Site,
    ToolPhases,
    WaferMarket,
)

#: every model and field type of the scenario file, wherever it is defined
__all__ = [
    "MAX_COUNT",
    "MAX_ENTRIES",
    "MAX_QUARTERS",
    "MAX_RATIO",
    "MAX_TEXT",
    "MAX_UNITS",
    "MAX_UNIT_USD",
    "MAX_USD",
    "MAX_WAFERS_PER_MONTH",
    "AnnualRate",
    "CapexSplit",
    "ContinuingValue",
    "Count",
    "Days",
    "DefectDensity",
    "DefectsPerCm2",
    "Demand",
    "DepreciationYears",
    "Design",
    "Finance",
    "Flag",
    "FoundryOffer",
    "Frozen",
    "Funding",
    "GrantTiming",
    "Grants",
    "Harvesting",
    "Hbm",
    "Horizon",
    "Id",
    "Investor",
    "MarginMm",
    "Mm",
    "Node",
    "NonNegativeCount",
    "NonNegativeQuarters",
    "Number",
    "Offtake",
    "Operator",
    "OperatorLearning",
    "Origin",
    "Packaging",
    "PackagingExpansion",
    "PenaltyRule",
    "PlanChecking",
    "Planning",
    "PositiveDays",
    "PositiveRatio",
    "PositiveShare",
    "PositiveUnitUsd",
    "PositiveUsd",
    "PositiveWspm",
    "Product",
    "ProjectDebt",
    "QuarterField",
    "Quarters",
    "Ratio",
    "Real",
    "Robust",
    "RuleName",
    "Scenario",
    "Share",
    "Simulation",
    "Site",
    "TaxRegime",
    "ToolPhases",
    "Uncertain",
    "UnitUsd",
    "Units",
    "UnitsPath",
    "Usd",
    "WaferMarket",
    "Whole",
    "Wspm",
    "WspmPath",
    "Year",
    "YearPath",
    "YieldModel",
    "interpolate",
    "quarter_path",
    "year_path",
]


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
    plan_check: PlanChecking = Field(
        default_factory=PlanChecking, description="How the plan is checked on the fab simulator."
    )
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


class _Identified(Protocol):
    @property
    def id(self) -> str | None: ...


_Item = TypeVar("_Item", bound=_Identified)


def _by_id(items: Iterable[_Item], wanted: str | None) -> _Item:
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(wanted)
