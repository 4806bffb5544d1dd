"""Chip economics: dies per wafer, yield models, cost per good die and per package, and the
wafers a demand in accelerators needs. Depends on numpy only."""

from fabnet.chips.dies import (
    DPW_FORMULAS,
    area_bound,
    dies_on_grid,
    dies_per_wafer_exact,
    dies_per_wafer_flynn,
    dies_per_wafer_standard,
    gross_dies,
)
from fabnet.chips.economics import (
    DieEconomics,
    Harvest,
    PackageCost,
    YieldSpec,
    die_economics,
    interposer_wafers_for,
    package_cost,
    wafer_starts_for,
)
from fabnet.chips.yields import (
    YIELD_MODELS,
    bose_einstein,
    d0_at_age,
    d0_from_yield,
    die_yield,
    harvested_yield,
    murphy,
    negative_binomial,
    poisson,
    seeds,
)

__all__ = [
    "DPW_FORMULAS",
    "YIELD_MODELS",
    "DieEconomics",
    "Harvest",
    "PackageCost",
    "YieldSpec",
    "area_bound",
    "bose_einstein",
    "d0_at_age",
    "d0_from_yield",
    "die_economics",
    "die_yield",
    "dies_on_grid",
    "dies_per_wafer_exact",
    "dies_per_wafer_flynn",
    "dies_per_wafer_standard",
    "gross_dies",
    "harvested_yield",
    "interposer_wafers_for",
    "murphy",
    "negative_binomial",
    "package_cost",
    "poisson",
    "seeds",
    "wafer_starts_for",
]
