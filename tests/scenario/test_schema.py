"""Demand interpolation, packaging capacity steps, frozen models."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from fabnet.core.errors import ScenarioError
from fabnet.core.periods import Quarter, quarter_range
from fabnet.fabsim.rules import RULES, Rule, register
from fabnet.scenario import load_scenario
from fabnet.scenario.schema import Demand, Packaging, Simulation
from tests.conftest import MINIMAL

YEARS_2024_2027 = quarter_range(Quarter(2024, 1), 16)


def test_per_year_demand_keeps_each_given_year_total():
    demand = Demand(per_year={2024: 400, 2026: 1200})
    values = demand.quarterly(YEARS_2024_2027)
    per_year = values.reshape(4, 4).sum(axis=1)
    # 2024 and 2026 are given; 2025 lies halfway; 2027 is held at the last point.
    np.testing.assert_allclose(per_year, [400, 800, 1200, 1200])
    np.testing.assert_allclose(values[:4], 100)  # spread evenly within the year


def test_per_year_step_holds_the_last_point():
    demand = Demand(per_year={2024: 400, 2026: 1200}, interpolation="step")
    per_year = demand.quarterly(YEARS_2024_2027).reshape(4, 4).sum(axis=1)
    np.testing.assert_allclose(per_year, [400, 400, 1200, 1200])


def test_per_quarter_linear_between_points_and_flat_outside():
    demand = Demand(per_quarter={Quarter(2024, 2): 10, Quarter(2024, 4): 30})
    np.testing.assert_allclose(demand.quarterly(YEARS_2024_2027[:6]), [10, 10, 20, 30, 30, 30])


def test_packaging_capacity_is_a_step_function_from_zero():
    line = Packaging(
        id="p",
        packages_per_wafer=10,
        yield_=0.9,
        capacity_wafers_per_month={Quarter(2024, 2): 100, Quarter(2025, 1): 250},
    )
    np.testing.assert_allclose(line.capacity(YEARS_2024_2027[:6]), [0, 100, 100, 100, 250, 250])


def test_models_are_frozen():
    scenario = load_scenario(MINIMAL)
    with pytest.raises(pydantic.ValidationError):
        scenario.sites[0].lead_time_q = 9  # type: ignore[misc]


def test_node_cycle_time_is_layers_times_days_per_layer():
    # by hand from minimal.yaml's N5: 80 mask layers at 1.2 days a layer = 96 days, the "about
    # three months" a leading-edge wafer spends in the fab; 60 layers at the same pace = 72 days
    node = load_scenario(MINIMAL).node("N5")
    assert node.cycle_time_days == pytest.approx(96.0)
    assert node.model_copy(update={"mask_layers": 60}).cycle_time_days == pytest.approx(72.0)
    assert node.model_copy(update={"days_per_mask_layer": 1.5}).cycle_time_days == pytest.approx(120.0)


def _least_work_remaining(queued, due, remaining, ratio, mean, now, family_by_cr):
    return remaining


def test_a_rule_registered_after_import_is_one_a_scenario_may_name():
    # the schema reads the rule registry when a scenario is validated (issue 29), not when it is
    # imported: before the rule is registered the same file is refused, after it the rule is read
    with pytest.raises(ScenarioError, match="lwkr"):
        load_scenario(MINIMAL, {"simulation": {"rule": "lwkr"}})
    rule = register(Rule("lwkr", _least_work_remaining, "least work remaining"))
    try:
        scenario = load_scenario(MINIMAL, {"simulation": {"rule": "lwkr"}})
        listed = Simulation.model_json_schema()["properties"]["rule"]["enum"]
    finally:
        del RULES[rule.name]
    assert scenario.simulation is not None and scenario.simulation.rule == "lwkr"
    assert listed == ["fifo", "cr", "edd", "spt", "dataset", "lwkr"]  # the editor's schema lists it too
    with pytest.raises(ScenarioError, match="lwkr"):  # and gone again once it is unregistered
        load_scenario(MINIMAL, {"simulation": {"rule": "lwkr"}})
