"""`extends:` chains and `--set` overrides."""

from __future__ import annotations

import shutil

import pytest

from fabnet.core.errors import ScenarioError
from fabnet.core.periods import Quarter
from fabnet.scenario import load_scenario, parse_override
from tests.conftest import MINIMAL, line_of

CHILD = """\
extends: base.yaml
name: child
sites:
  - id: beta
    lead_time_q: 5
  - id: delta
    region: AE
    node: N5
    module_wspm: 20000
    capex_per_module_usd: {building: 2.0e9, tools: 6.0e9}
    lead_time_q: 10
    ramp: [0.5, 1.0]
    opex_per_wafer_usd: 4500
    tax_regime: US
    earliest_start: 2025Q3
"""


@pytest.fixture
def family(tmp_path):
    shutil.copy(MINIMAL, tmp_path / "base.yaml")
    child = tmp_path / "child.yaml"
    child.write_text(CHILD)
    return tmp_path


def test_extends_merges_lists_by_id(family):
    scenario = load_scenario(family / "child.yaml")
    assert scenario.name == "child"
    assert [s.id for s in scenario.sites] == ["alpha", "beta", "gamma", "delta"]
    beta = scenario.sites[1]
    assert beta.lead_time_q == 5
    assert beta.region == "JP"  # kept from the base file
    assert scenario.horizon.start == Quarter(2025, 1)


def test_error_in_child_names_the_child_file_and_line(family):
    text = CHILD.replace("lead_time_q: 10", "lead_time_q: -10")
    (family / "child.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(family / "child.yaml")
    assert info.value.file.endswith("child.yaml")
    assert info.value.line == line_of(text, "-10")
    assert info.value.problem.path == "sites[3].lead_time_q"


def test_error_in_base_names_the_base_file(family):
    base = (family / "base.yaml").read_text().replace("lead_time_q: 2", "lead_time_q: 0")
    (family / "base.yaml").write_text(base)
    with pytest.raises(ScenarioError) as info:
        load_scenario(family / "child.yaml")
    assert info.value.file.endswith("base.yaml")
    assert info.value.line == line_of(base, "lead_time_q: 0")


def test_extends_cycle_is_reported(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_extends_missing_base(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: gone.yaml\nname: a\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.yaml")
    assert info.value.file.endswith("gone.yaml")


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ("sites.arizona.lead_time_q=14", (("sites", "arizona", "lead_time_q"), 14)),
        ("sites[2].ramp=[0.5, 1.0]", (("sites", 2, "ramp"), [0.5, 1.0])),
        ("finance.discount_rate=0.08", (("finance", "discount_rate"), 0.08)),
        ("products.h100.demand.per_year.2027=5", (("products", "h100", "demand", "per_year", "2027"), 5)),
    ],
)
def test_parse_override(assignment, expected):
    assert parse_override(assignment) == expected


def test_override_by_id_and_by_index():
    scenario = load_scenario(MINIMAL, ["sites.beta.lead_time_q=9", "sites[2].max_modules=3"])
    assert scenario.sites[1].lead_time_q == 9
    assert scenario.sites[2].max_modules == 3


def test_override_into_a_year_keyed_mapping():
    scenario = load_scenario(MINIMAL, ["products.chip.demand.per_year.2026=100000"])
    assert scenario.products[0].demand.per_year == {2025: 40000, 2026: 100000}


def test_override_may_add_an_optional_field():
    scenario = load_scenario(MINIMAL, ["sites.alpha.mandatory=true"])
    assert scenario.sites[0].mandatory is True


def test_bad_override_value_names_the_override():
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINIMAL, ["sites.beta.lead_time_q=-3"])
    assert info.value.file == "--set sites.beta.lead_time_q=-3"
    assert info.value.problem.path == "sites[1].lead_time_q"


def test_override_to_unknown_entry_lists_the_ids():
    with pytest.raises(ScenarioError) as info:
        load_scenario(MINIMAL, ["sites.omega.lead_time_q=3"])
    assert "ids: alpha, beta, gamma" in info.value.problem.found


def test_override_without_equals_sign():
    with pytest.raises(ScenarioError, match=r"path\.to\.field=value"):
        load_scenario(MINIMAL, ["sites.beta.lead_time_q"])
