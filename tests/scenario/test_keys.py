"""Keys are compared as the schema reads them, so one written twice in two spellings is refused
rather than silently overwritten; numbers with stray underscores are refused; fields that only
make sense together are checked together."""

from __future__ import annotations

import pytest

from fabnet.core.errors import ScenarioError
from fabnet.scenario import load_scenario
from fabnet.scenario.checks import scenario_warnings
from tests.conftest import MINIMAL

DEMAND = "      per_year: {2025: 40000, 2026: 80000}"


def minimal_with(tmp_path, old: str, new: str):
    text = MINIMAL.read_text()
    assert old in text
    path = tmp_path / "s.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("spelling", ["0x7E9", "2025.0", "+2025", "2_025", "'2025'", "03751", "2025.00e0"])
def test_a_year_written_twice_in_two_spellings_is_refused(tmp_path, spelling):
    path = minimal_with(tmp_path, DEMAND, f"      per_year: {{2025: 40000, {spelling}: 1, 2026: 80000}}")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "the same key twice" in info.value.problem.found
    assert info.value.line == 19


def test_a_quarter_written_twice_in_two_cases_is_refused(tmp_path):
    path = minimal_with(tmp_path, DEMAND, "      per_quarter: {2025Q1: 40000, 2025q1: 1}")
    with pytest.raises(ScenarioError, match="2025Q1 and 2025q1 are one key"):
        load_scenario(path)


def test_distinct_keys_stay_distinct(tmp_path):
    scenario = load_scenario(minimal_with(tmp_path, DEMAND, "      per_year: {2025: 40000, 0x7EA: 80000}"))
    assert dict(scenario.products[0].demand.per_year) == {2025: 40000, 2026: 80000}


@pytest.mark.parametrize("text", ["0_0.095", "'0_0.095'", "9_5e-3", "'0.0_95'"])
def test_a_number_with_stray_underscores_is_refused(tmp_path, text):
    path = minimal_with(tmp_path, "  discount_rate:", f"  discount_rate: {text}  #")
    with pytest.raises(ScenarioError, match="underscores only between thousands"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="underscores only between thousands"):
        load_scenario(MINIMAL, [f"finance.discount_rate={text}"])


def test_underscores_between_thousands_read_as_the_number(tmp_path):
    scenario = load_scenario(minimal_with(tmp_path, DEMAND, "      per_year: {2025: 40_000, 2026: 80_000}"))
    assert dict(scenario.products[0].demand.per_year) == {2025: 40000, 2026: 80000}


def test_demand_in_a_year_the_horizon_does_not_reach_is_a_warning(tmp_path):
    path = minimal_with(tmp_path, DEMAND, "      per_year: {2025: 40000, 2026: 80000, 2031: 5}")
    warnings = scenario_warnings(load_scenario(path))
    assert any("per_year.2031" in w and "outside the horizon's years 2025–2026" in w for w in warnings), warnings


def test_a_warmup_as_long_as_the_simulation_is_refused(tmp_path):
    path = minimal_with(tmp_path, DEMAND, DEMAND)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["simulation={days: 30, warmup_days: 30}"])
    assert info.value.problem.path == "simulation.warmup_days"
    load_scenario(path, ["simulation={days: 30, warmup_days: 10}"])  # shorter: fine


def test_a_plan_check_mix_names_a_made_product_and_sums_to_one(tmp_path):
    path = minimal_with(tmp_path, DEMAND, DEMAND)
    cases = {
        "plan_check={products: {nochip: {part_3: 1}}}": "plan_check.products.nochip",
        "plan_check={products: {chip: {part_3: 0.5, part_4: 0.4}}}": "plan_check.products.chip",
        "plan_check={products: {chip: {part_9: 1}}}": "plan_check.products.chip",  # not an HVLM product
    }
    for change, where in cases.items():
        with pytest.raises(ScenarioError) as info:
            load_scenario(path, [change])
        assert info.value.problem.path.startswith(where), (change, info.value.problem.path)
    mixed = load_scenario(path, ["plan_check={products: {chip: {part_3: 0.25, part_4: 0.75}}}"])
    assert dict(mixed.plan_check.products["chip"]) == {"part_3": 0.25, "part_4": 0.75}
