"""One site, one D0: `fabnet wafers` (product_economics), the planner's learning and the
network's own rule agree, by hand from scenarios/tigris.yaml (issue 29: pipeline.node_d0 used
to ignore the operator's ramp D0 that the planner applied).

tigris.yaml: node N3 ramps at 0.40 defects/cm², matures at 0.09 and closes 25 % of the gap a
quarter; TSMC, Kumamoto's operator, starts at 0.25 and closes 35 % (its own assumption, §3.1).
Learning (ai-fab-facts §3.1, chips.d0_at_age): D0(a) = mature + (ramp − mature)·(1 − rate)^a.
"""

from __future__ import annotations

import json

import pytest

from fabnet.network import d0_at, prepare, product_economics
from fabnet.scenario import load_scenario

TIGRIS = load_scenario("scenarios/tigris.yaml")
KUMAMOTO = next(s for s in TIGRIS.sites if s.id == "kumamoto")
N3 = TIGRIS.node("N3")


def tsmc_d0(age: int) -> float:
    return 0.09 + (0.25 - 0.09) * 0.65**age


def foundry_d0(age: int) -> float:
    return 0.09 + (0.40 - 0.09) * 0.75**age


@pytest.mark.parametrize("age", [0, 1, 4, 12])
def test_a_sites_d0_is_its_operators_in_the_network_rule_and_in_fabnet_wafers(age):
    assert d0_at(TIGRIS, N3, KUMAMOTO, age) == pytest.approx(tsmc_d0(age))
    wafers = product_economics(TIGRIS, age, site=KUMAMOTO)
    assert wafers["d0_per_cm2"].tolist() == pytest.approx([tsmc_d0(age)])


@pytest.mark.parametrize("age", [0, 4])
def test_without_a_site_fabnet_wafers_uses_the_nodes_d0(age):
    assert product_economics(TIGRIS, age)["d0_per_cm2"].tolist() == pytest.approx([foundry_d0(age)])
    assert d0_at(TIGRIS, N3, None, age) == pytest.approx(foundry_d0(age))


def test_mature_d0_is_the_nodes_whoever_operates():
    assert d0_at(TIGRIS, N3, KUMAMOTO, None) == d0_at(TIGRIS, N3, None, None) == 0.09


@pytest.mark.parametrize("age", [0, 1, 4])
def test_the_planners_learning_is_fabnet_wafers_good_dies_at_the_sites_d0(age):
    """The planner holds a module's good-die output relative to a mature one; with one product
    on N3 that is the ratio of `fabnet wafers`' good dies at the site's D0 to those at maturity
    (the D0s by age checked by hand above; what this adds is that the planner's learning curve
    reads them at the site's own ramp and rate)."""
    x = prepare(TIGRIS)
    i = [s.id for s in TIGRIS.sites].index("kumamoto")
    learning = x.effective_by_age[i, age] / x.capacity_by_age[i, age]
    at_age = product_economics(TIGRIS, age, site=KUMAMOTO)["good_dies_per_wafer"].item()
    mature = product_economics(TIGRIS, None, site=KUMAMOTO)["good_dies_per_wafer"].item()
    assert learning == pytest.approx(at_age / mature, rel=1e-12)
    # and an operator that learns differently would show: TSMC's fab is not the foundry's
    foundry = product_economics(TIGRIS, age)["good_dies_per_wafer"].item()
    assert at_age >= foundry


def test_fabnet_wafers_at_a_site_uses_its_operators_d0():
    from typer.testing import CliRunner

    from fabnet.cli import app

    result = CliRunner().invoke(app, ["wafers", "--json", "--fab-age-q", "0", "--site", "kumamoto"])
    assert result.exit_code == 0, result.output
    economics = json.loads(result.stdout)["economics"]
    assert [row["d0_per_cm2"] for row in economics] == pytest.approx([tsmc_d0(0)])  # not N3's 0.40
    refused = CliRunner().invoke(app, ["wafers", "--site", "nowhere"])
    assert refused.exit_code != 0 and "kumamoto" in refused.output
