"""From wafers to accelerators and back: good dies, cost per good die and per package, and the
wafers a quantity of accelerators needs. Plain numbers in, plain numbers out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from fabnet.chips.dies import ArrayLike, gross_dies
from fabnet.chips.yields import die_yield, harvested_yield


class Harvest(NamedTuple):
    """A die of `units` identical units that sells with up to `max_defective_units` bad."""

    units: int
    max_defective_units: int
    repeated_area_share: float = 1.0


class YieldSpec(NamedTuple):
    model: str = "negative_binomial"
    alpha: float | None = None
    critical_layers: float | None = None


@dataclass(frozen=True)
class DieEconomics:
    """Dies of one wafer; arrays where the defect density was one (one value per D0)."""

    gross_dies: int
    die_yield: ArrayLike
    good_dies: ArrayLike
    cost_per_good_die: ArrayLike


@dataclass(frozen=True)
class PackageCost:
    """What one sellable accelerator costs, by part. Packaging losses scrap every part that went
    into the lost package, so `total` divides the sum of parts by the packaging yield."""

    compute_dies: float
    hbm: float
    interposer: float
    assembly_test: float
    packaging_yield: float

    @property
    def parts(self) -> float:
        return self.compute_dies + self.hbm + self.interposer + self.assembly_test

    @property
    def total(self) -> float:
        return self.parts / self.packaging_yield

    @property
    def yield_loss(self) -> float:
        return self.total - self.parts


def die_economics(
    *,
    die_w_mm: float,
    die_h_mm: float,
    d0_per_cm2: ArrayLike,
    wafer_cost_usd: float,
    wafer_mm: float = 300.0,
    edge_mm: float = 0.0,
    scribe_mm: float = 0.0,
    yield_spec: YieldSpec = YieldSpec(),
    harvest: Harvest | None = None,
    dpw_formula: str = "exact",
) -> DieEconomics:
    """Gross dies, the share good (harvested where a die may sell with bad units), good dies and
    cost per good die of one wafer; broadcasts over `d0_per_cm2` (the planner's learning asks
    for every fab age at once), plain numbers for a plain D0."""
    gross = gross_dies(wafer_mm, die_w_mm, die_h_mm, edge_mm, scribe_mm, dpw_formula)
    area = die_w_mm * die_h_mm
    if harvest is None:
        share = np.asarray(die_yield(area, d0_per_cm2, *yield_spec), dtype=float)
    else:
        share = np.asarray(harvested_yield(area, d0_per_cm2, *harvest, *yield_spec), dtype=float)
    good = gross * share
    cost = np.divide(wafer_cost_usd, good, out=np.full_like(good, np.inf), where=good > 0)
    return DieEconomics(gross, _plain(share), _plain(good), _plain(cost))


def _plain(values: np.ndarray) -> ArrayLike:
    return float(values) if values.ndim == 0 else values


def package_cost(
    *,
    cost_per_good_die: float,
    dies_per_package: int = 1,
    hbm_stacks: int = 0,
    hbm_stack_cost_usd: float = 0.0,
    packaging_wafer_cost_usd: float = 0.0,
    packages_per_wafer: float = 1.0,
    assembly_test_cost_usd: float = 0.0,
    packaging_yield: float = 1.0,
) -> PackageCost:
    return PackageCost(
        compute_dies=dies_per_package * cost_per_good_die,
        hbm=hbm_stacks * hbm_stack_cost_usd,
        interposer=packaging_wafer_cost_usd / packages_per_wafer,
        assembly_test=assembly_test_cost_usd,
        packaging_yield=packaging_yield,
    )


def packages_to_start(accelerators: ArrayLike, packaging_yield: float) -> ArrayLike:
    """Packages to assemble so that `accelerators` pass final test (broadcasts)."""
    return accelerators / packaging_yield


def wafer_starts_for(
    accelerators: ArrayLike, *, dies_per_package: float, good_dies_per_wafer: float, packaging_yield: float
) -> ArrayLike:
    """Wafer starts whose good dies fill the packages that `accelerators` need (broadcasts)."""
    return packages_to_start(accelerators, packaging_yield) * dies_per_package / good_dies_per_wafer


def interposer_wafers_for(accelerators: ArrayLike, *, packages_per_wafer: float, packaging_yield: float) -> ArrayLike:
    """Interposer (CoWoS-class) wafers that `accelerators` need (broadcasts)."""
    return packages_to_start(accelerators, packaging_yield) / packages_per_wafer
