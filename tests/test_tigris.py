"""The default scenario: valid, every figure sourced, and its costs in line with outside estimates."""

from __future__ import annotations

import re

import pytest
import yaml

from fabnet.pipeline import product_economics, wafer_demand
from fabnet.scenario import Scenario, load_scenario
from tests.conftest import TIGRIS

SOURCE = re.compile(r"§\d|assumption")
QUARTER = re.compile(r"^\d{4}Q[1-4]$")


@pytest.fixture(scope="module")
def tigris():
    return load_scenario(TIGRIS)


def figure_lines(text: str) -> list[int]:
    """0-based lines holding a number or a quarter, as the YAML parser sees them."""
    lines: set[int] = set()
    numeric = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}

    def walk(node):
        if isinstance(node, yaml.ScalarNode):
            if node.tag in numeric or QUARTER.match(str(node.value)):
                lines.add(node.start_mark.line)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                walk(item)
        elif isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                walk(key)
                walk(value)

    walk(yaml.compose(text))
    return sorted(lines)


def is_sourced(lines: list[str], index: int) -> bool:
    """A figure is sourced by a comment on its line, on its parent key's line, or in a comment
    above it within the same block."""
    if SOURCE.search(lines[index].partition("#")[2]):
        return True
    indent = len(lines[index]) - len(lines[index].lstrip(" -"))
    for above in reversed(lines[:index]):
        stripped = above.strip()
        depth = len(above) - len(above.lstrip(" -"))
        if stripped.startswith("#"):
            if SOURCE.search(stripped):
                return True
            continue
        if stripped and depth < indent:
            return bool(SOURCE.search(above.partition("#")[2]))
    return False


def test_tigris_is_valid(tigris):
    assert isinstance(tigris, Scenario)
    assert {p.id for p in tigris.products} == {"h100_class", "b200_class"}
    assert {s.region for s in tigris.sites} == {"US", "JP", "AE", "TW"}
    assert {n.id for n in tigris.nodes} == {"N5", "N3"}


def test_every_figure_names_its_source_or_says_assumption():
    lines = TIGRIS.read_text().splitlines()
    unsourced = [f"line {i + 1}: {lines[i].strip()}" for i in figure_lines(TIGRIS.read_text())
                 if not is_sourced(lines, i)]
    assert unsourced == []


def test_source_check_can_fail():
    text = "a:\n  b: 3   # §4.1\n  c: 4\n"
    lines = text.splitlines()
    assert [is_sourced(lines, i) for i in figure_lines(text)] == [True, False]


def test_h100_class_cost_is_near_the_raymond_james_estimate(tigris):
    # ai-fab-facts.md §1.3: H100 manufacturing cost incl. HBM ≈ $3,320 (Raymond James, 2023).
    # The default scenario builds that cost from parts (die, HBM, CoWoS, assembly); it should
    # land within 15 % of the analysts' whole-package figure.
    cost = product_economics(tigris).set_index("product").at["h100_class", "cost_per_accelerator_usd"]
    assert cost == pytest.approx(3320, rel=0.15)


def test_wafer_demand_conserves_accelerators(tigris):
    table = wafer_demand(tigris)
    for product in tigris.products:
        wanted = product.demand.quarterly(tigris.horizon.periods).sum()
        assert table.loc[table["product"] == product.id, "accelerators"].sum() == pytest.approx(wanted)


def test_scenario_round_trips_through_json(tigris):
    again = Scenario.model_validate(tigris.model_dump(by_alias=True, mode="json"))
    assert again == tigris
    assert "properties" in Scenario.model_json_schema()
