"""Each semantic check of checks.py on minimal.yaml (horizon 2025Q1-2026Q4, node N5 of 300 mm
with 3 mm edge exclusion, design product chip of 10 x 10 mm, equity investors a and b): the
one problem it reports names the field and the fix, and the valid variant next to it passes."""

from __future__ import annotations

import pytest

from fabnet.scenario import load_scenario
from tests.conftest import MINIMAL
from tests.scenario.test_errors import error_of

HORIZON = "a quarter from 2025Q1 to 2026Q4 (the horizon)"
OFFER = "{node: N5, max_wafers_per_month: 1000}"
# Two uncertain lead times that any draw leaves valid, for the correlation between them.
TWO_LEAD_TIMES = (
    "uncertainty=[{path: sites.alpha.lead_time_q, dist: discrete, values: [3, 4]},"
    " {path: sites.beta.lead_time_q, dist: discrete, values: [2, 3]}]"
)
THREE_LEAD_TIMES = TWO_LEAD_TIMES[:-1] + ", {path: sites.gamma.lead_time_q, dist: discrete, values: [1, 2]}]"
DEBT = ("funding.investors[0].kind=debt", "funding.investors[0].interest_rate=0.08", "funding.investors[0].tenor_q=20")


@pytest.mark.parametrize(
    ("overrides", "path", "expected"),
    [
        # an unnamed offer is foundry-N5, the id the second offer gives itself
        (
            [f"foundry_offers=[{OFFER}, {{id: foundry-N5, node: N5, max_wafers_per_month: 500}}]"],
            "foundry_offers[1].id",
            "ids unique in their section (give the offer an id)",
        ),
        (["offtake={end: 2027Q1}"], "offtake.end", HORIZON),
        (
            ["funding.investors[0].tranches={2025Q1: 3.0e9}"],
            "funding.investors[0]",
            "exactly one: available_from: 2024Q2, or tranches: {2024Q2: 2.0e9}",
        ),
        (["funding.investors[0].kind=debt"], "funding.investors[0].interest_rate", "interest_rate for a debt investor"),
        (DEBT[:2], "funding.investors[0].tenor_q", "tenor_q for a debt investor"),
        (
            [*DEBT, "funding.investors[0].preferred_return=0.08"],
            "funding.investors[0].preferred_return",
            "no preferred_return on debt (it applies to equity)",
        ),
        (DEBT[1:2], "funding.investors[0].interest_rate", "no interest_rate on equity (it applies to debt)"),
        (DEBT[2:], "funding.investors[0].tenor_q", "no tenor_q on equity (it applies to debt)"),
        (
            ["nodes[0].yield_model={kind: poisson, alpha: 2}"],
            "nodes[0].yield_model.alpha",
            "alpha only with kind: negative_binomial",
        ),
        (
            ["nodes[0].yield_model={kind: murphy, critical_layers: 12}"],
            "nodes[0].yield_model.critical_layers",
            "critical_layers only with kind: bose_einstein",
        ),
        # 50 mm less twice 25 mm leaves no usable wafer
        (
            ["nodes[0].wafer_diameter_mm=50", "nodes[0].edge_exclusion_mm=25"],
            "nodes[0].edge_exclusion_mm",
            "less than half the wafer diameter (25.0 mm)",
        ),
        # 20 mm less twice 3 mm leaves 14 mm; the 10 x 10 mm die's diagonal is 14.1 mm
        (["nodes[0].wafer_diameter_mm=20"], "products[0].die_width_mm", "a die whose diagonal is below 14.0 mm"),
        (
            ["products[0].harvesting={units: 4, max_defective_units: 4}"],
            "products[0].harvesting.max_defective_units",
            "fewer than units (4)",
        ),
        (
            ["products[0].supply_per_quarter=1000"],
            "products[0].supply_per_quarter",
            "supply_per_quarter only on kind: bought (a design is made, not bought)",
        ),
        (
            ["uncertainty=[{path: sites.alpha.region, dist: discrete, values: [1, 2]}]"],
            "uncertainty[0].path",
            "a path to a number, a list of numbers or a mapping of numbers",
        ),
        (
            ["uncertainty=[{path: sites.alpha.mandatory, dist: discrete, values: [0, 1]}]"],
            "uncertainty[0].path",
            "a path to a number, a list of numbers or a mapping of numbers",
        ),
        # a list of numbers is a target; halving the ramp [0.5, 1.0] leaves it short of 1.0
        (
            ["uncertainty=[{path: sites.alpha.ramp, dist: uniform, apply: multiply, low: 0.5, high: 1.0}]"],
            "uncertainty[0].low",
            "draws that keep sites[0].ramp valid: shares that never fall and end at 1.0",
        ),
        (
            ["uncertainty=[{path: sites.alpha.lead_time_q, dist: discrete, values: [3, 4], weights: [1]}]"],
            "uncertainty[0].weights",
            "one weight per value, not all zero",
        ),
        (
            ["uncertainty=[{path: sites.alpha.lead_time_q, dist: discrete, values: [3, 4], weights: [0, 0]}]"],
            "uncertainty[0].weights",
            "one weight per value, not all zero",
        ),
        ([TWO_LEAD_TIMES, "correlation=[[1, 0.5]]"], "correlation", "2 rows of 2 numbers, one per uncertainty entry"),
        (
            [TWO_LEAD_TIMES, "correlation=[[1, 0.5], [0.5]]"],
            "correlation",
            "2 rows of 2 numbers, one per uncertainty entry",
        ),
        (
            [TWO_LEAD_TIMES, "correlation=[[1, 0.5], [0.2, 1]]"],
            "correlation",
            "a symmetric matrix with ones on the diagonal and entries in [-1, 1]",
        ),
        (
            [TWO_LEAD_TIMES, "correlation=[[0.5, 0], [0, 1]]"],
            "correlation",
            "a symmetric matrix with ones on the diagonal and entries in [-1, 1]",
        ),
        # a and b close, b and c close, yet a and c opposite: no joint distribution has these
        (
            [THREE_LEAD_TIMES, "correlation=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]"],
            "correlation",
            "a positive semi-definite matrix: these correlations cannot all hold at once",
        ),
    ],
)
def test_a_check_names_the_field_and_the_fix(overrides, path, expected):
    error = error_of(MINIMAL, overrides)
    assert error.problem.path == path
    assert expected in error.problem.expected


@pytest.mark.parametrize(
    "overrides",
    [
        [f"foundry_offers=[{OFFER}, {OFFER}]"],  # foundry-N5 and foundry-N5-2
        ["offtake={end: 2026Q2}"],
        list(DEBT),
        ["nodes[0].yield_model={kind: bose_einstein, critical_layers: 11.5}"],
        ["nodes[0].yield_model={kind: negative_binomial, alpha: 2}"],
        ["products[0].harvesting={units: 4, max_defective_units: 1}"],
        ["offtake={price: fixed, fixed_price_usd: {N5: 20000}}"],
        ["uncertainty=[{path: sites.alpha.lead_time_q, dist: discrete, values: [3, 4], weights: [1, 3]}]"],
        [TWO_LEAD_TIMES, "correlation=[[1, 0.5], [0.5, 1]]"],
        [THREE_LEAD_TIMES, "correlation=[[1, 0.5, 0.2], [0.5, 1, 0.3], [0.2, 0.3, 1]]"],
    ],
)
def test_a_valid_variant_passes_the_checks(overrides):
    assert load_scenario(MINIMAL, overrides) != load_scenario(MINIMAL)  # changed, and still valid


def test_investor_with_neither_available_from_nor_tranches(variant):
    path, _ = variant("amount_usd: 3.0e9, available_from: 2025Q1}", "amount_usd: 3.0e9}")
    error = error_of(path)
    assert error.problem.path == "funding.investors[0]"
    assert error.problem.found == "neither available_from nor tranches"


@pytest.mark.parametrize(
    ("field", "line"), [("node", "    node: N5\n    compute_dies"), ("packaging", "    packaging: pkg")]
)
def test_a_designed_product_needs_its_node_and_packaging_line(variant, field, line):
    path, _ = variant(line, line.partition("\n")[2])
    error = error_of(path)
    assert error.problem.path == f"products[0].{field}"
    assert error.problem.expected == f"{field} for a product the buyer designs (or kind: bought)"


def test_quarterly_demand_outside_the_horizon(variant):
    path, _ = variant("per_year: {2025: 40000, 2026: 80000}", "per_quarter: {2025Q1: 10000, 2027Q1: 20000}")
    error = error_of(path)
    assert error.problem.path == "products[0].demand.per_quarter.2027Q1"
    assert (error.problem.found, error.problem.expected) == ("2027Q1", HORIZON)
