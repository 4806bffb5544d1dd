"""Cost per good die and per package, and accelerators → wafers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fabnet.chips import (
    YieldSpec,
    die_economics,
    gross_dies,
    interposer_wafers_for,
    package_cost,
    wafer_starts_for,
)


def test_cost_per_good_die_is_wafer_cost_over_good_dies():
    # Example A geometry with Poisson at 0.5/cm² (Example D: A = 1 cm², Y = 0.6065).
    econ = die_economics(
        die_w_mm=10,
        die_h_mm=10,
        d0_per_cm2=0.5,
        wafer_cost_usd=10000,
        wafer_mm=300,
        edge_mm=5,
        scribe_mm=0.1,
        yield_spec=YieldSpec("poisson"),
        dpw_formula="standard",
    )
    assert econ.gross_dies == 583
    assert econ.die_yield == pytest.approx(math.exp(-0.5))
    assert econ.good_dies == pytest.approx(583 * math.exp(-0.5))
    assert econ.cost_per_good_die == pytest.approx(10000 / (583 * math.exp(-0.5)))


@given(st.floats(0.01, 1.0), st.floats(1.05, 3), st.floats(20, 800))
def test_cost_per_good_die_rises_with_defect_density(d0, factor, area):
    side = math.sqrt(area)
    low, high = (
        die_economics(die_w_mm=side, die_h_mm=side, d0_per_cm2=d, wafer_cost_usd=17000, dpw_formula="standard")
        for d in (d0, d0 * factor)
    )
    assert high.cost_per_good_die > low.cost_per_good_die


def test_package_cost_divides_every_part_by_packaging_yield():
    cost = package_cost(
        cost_per_good_die=300,
        dies_per_package=2,
        hbm_stacks=8,
        hbm_stack_cost_usd=500,
        packaging_wafer_cost_usd=24000,
        packages_per_wafer=16,
        assembly_test_cost_usd=920,
        packaging_yield=0.8,
    )
    parts = 2 * 300 + 8 * 500 + 24000 / 16 + 920
    assert cost.parts == pytest.approx(parts)
    assert cost.total == pytest.approx(parts / 0.8)
    assert cost.yield_loss == pytest.approx(parts / 0.8 - parts)


def test_wafers_for_accelerators():
    # 1,000 accelerators at 90 % packaging yield need 1,111.1 packages, so 2,222.2 dies for
    # two per package; at 40 good dies per wafer that is 55.6 wafers; 16 per interposer wafer.
    assert wafer_starts_for(1000, dies_per_package=2, good_dies_per_wafer=40, packaging_yield=0.9) == pytest.approx(
        1000 / 0.9 * 2 / 40
    )
    assert interposer_wafers_for(1000, packages_per_wafer=16, packaging_yield=0.9) == pytest.approx(1000 / 0.9 / 16)


def test_die_that_does_not_fit_costs_infinity():
    econ = die_economics(die_w_mm=26, die_h_mm=33, d0_per_cm2=0.1, wafer_cost_usd=1000, wafer_mm=30)
    assert econ.gross_dies == 0
    assert econ.cost_per_good_die == math.inf


def test_exact_is_the_default_count():
    econ = die_economics(die_w_mm=26, die_h_mm=31.3, d0_per_cm2=0.1, wafer_cost_usd=17000)
    assert econ.gross_dies == gross_dies(300, 26, 31.3, formula="exact")
