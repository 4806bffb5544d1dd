"""Every bad input gives one ScenarioError naming file, line, field path, found and expected."""

from __future__ import annotations

import pytest

from fabnet.core.errors import ScenarioError
from fabnet.scenario import load_scenario
from tests.conftest import MINIMAL, TIGRIS, line_of


def error_of(path, overrides=()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def test_minimal_file_is_valid():
    scenario = load_scenario(MINIMAL)
    assert scenario.name == "minimal"
    assert [s.id for s in scenario.sites] == ["alpha", "beta", "gamma"]


def test_yaml_syntax_error_names_the_line(variant):
    path, text = variant("    mask_layers: 80\n", "   mask_layers: 80\n")
    error = error_of(path)
    assert error.file == str(path)
    assert error.line == line_of(text, "   mask_layers")
    assert "invalid YAML" in error.problem.found


def test_unclosed_flow_mapping_says_where_it_opened(variant):
    path, text = variant("quarters: 8}", "quarters: 8")
    error = error_of(path)
    assert f"opened on line {line_of(text, 'horizon:')}" in error.problem.found


def test_unknown_key_suggests_the_known_one(variant):
    path, text = variant("lead_time_q: 4", "lead_tme_q: 4")
    error = error_of(path)
    assert error.problem.path == "sites[0].lead_tme_q"
    assert error.line == line_of(text, "lead_tme_q")
    assert "unknown key 'lead_tme_q'" in error.problem.found
    assert "did you mean 'lead_time_q'?" in error.problem.expected


def test_unknown_top_level_key(variant):
    path, _ = variant("name: minimal", "name: minimal\nnotes: hello")
    error = error_of(path)
    assert error.problem.path == "notes"
    assert "horizon" in error.problem.expected  # lists the keys that are allowed


def test_wrong_type(variant):
    path, text = variant("mask_layers: 80", "mask_layers: eighty")
    error = error_of(path)
    assert error.problem.path == "nodes[0].mask_layers"
    assert error.line == line_of(text, "mask_layers")
    assert error.problem.found == "eighty"
    assert "integer" in error.problem.expected
    assert "Mask layers" in error.problem.expected  # the field's description


@pytest.mark.parametrize("value", ["0", "-4"])
def test_zero_or_negative_where_positive_required(variant, value):
    path, text = variant("lead_time_q: 2", f"lead_time_q: {value}")
    error = error_of(path)
    assert error.problem.path == "sites[2].lead_time_q"
    assert error.line == line_of(text, f"lead_time_q: {value}")
    assert error.problem.found == value
    assert "greater than 0" in error.problem.expected


def test_quarter_outside_horizon(variant):
    path, text = variant("earliest_start: 2025Q2", "earliest_start: 2031Q1")
    error = error_of(path)
    assert error.problem.path == "sites[0].earliest_start"
    assert error.line == line_of(text, "2031Q1")
    assert error.problem.found == "2031Q1"
    assert "2025Q1 to 2026Q4" in error.problem.expected


def test_malformed_quarter(variant):
    path, _ = variant("earliest_start: 2025Q2", "earliest_start: 2025Q5")
    error = error_of(path)
    assert error.problem.path == "sites[0].earliest_start"
    assert "a quarter like 2025Q3" in error.problem.expected


def test_product_on_unknown_node(variant):
    path, text = variant("    node: N5\n    compute_dies", "    node: N7\n    compute_dies")
    error = error_of(path)
    assert error.problem.path == "products[0].node"
    assert error.line == line_of(text, "node: N7")
    assert "'N7'" in error.problem.found
    assert "N5" in error.problem.expected


def test_investor_amounts_that_do_not_add_up(variant):
    path, text = variant("total_usd: 5.0e9", "total_usd: 6.0e9")
    error = error_of(path)
    assert error.problem.path == "funding.total_usd"
    assert error.line == line_of(text, "total_usd")
    assert "$6.00 B" in error.problem.found
    assert "a $3.00 B + b $2.00 B = $5.00 B" in error.problem.expected


def test_tranches_that_do_not_add_up(variant):
    path, _ = variant("2025Q3: 1.0e9", "2025Q3: 0.5e9")
    error = error_of(path)
    assert error.problem.path == "funding.investors[1].tranches"


@pytest.mark.parametrize("empty", ["per_year: {}", "{}"])
def test_empty_demand(variant, empty):
    path, text = variant("per_year: {2025: 40000, 2026: 80000}", empty)
    error = error_of(path)
    assert error.problem.path.startswith("products[0].demand")
    assert error.line == line_of(text, empty)


def test_missing_file(tmp_path):
    error = error_of(tmp_path / "nowhere.yaml")
    assert error.file.endswith("nowhere.yaml")
    assert error.problem.found == "no such file"


def test_missing_required_field_points_at_its_section(variant):
    path, text = variant("    mask_layers: 80\n", "")
    error = error_of(path)
    assert error.problem.path == "nodes[0].mask_layers"
    assert "required" in error.problem.found
    assert error.line == line_of(text, "id: N5")


def test_duplicate_key_is_not_silently_dropped(variant):
    path, text = variant("    mask_layers: 80\n", "    mask_layers: 80\n    mask_layers: 90\n")
    error = error_of(path)
    assert error.problem.path == "nodes[0].mask_layers"
    assert error.line == line_of(text, "mask_layers: 90")


def test_duplicate_ids(variant):
    path, _ = variant("- id: gamma", "- id: alpha")
    assert error_of(path).problem.path == "sites[2].id"


def test_ramp_must_end_at_full_capacity(variant):
    path, _ = variant("ramp: [0.5, 1.0]", "ramp: [0.5, 0.9]")
    assert error_of(path).problem.path == "sites[0].ramp"


def test_mature_defect_density_above_ramp(variant):
    path, _ = variant("mature_per_cm2: 0.08", "mature_per_cm2: 0.5")
    assert error_of(path).problem.path == "nodes[0].defect_density.mature_per_cm2"


def test_die_larger_than_reticle(variant):
    path, _ = variant("die_width_mm: 10", "die_width_mm: 40")
    error = error_of(path)
    assert error.problem.path == "products[0].die_width_mm"
    assert "reticle" in error.problem.expected


def test_bose_einstein_needs_critical_layers(variant):
    path, _ = variant("learning_rate_per_q: 0.3}", "learning_rate_per_q: 0.3}\n    yield_model: {kind: bose_einstein}")
    assert error_of(path).problem.path == "nodes[0].yield_model.critical_layers"


def test_uncertainty_path_must_exist(variant):
    path, _ = variant(
        "finance:", "uncertainty:\n  - {path: sites.omega.lead_time_q, dist: uniform, low: 0, high: 2}\nfinance:"
    )
    error = error_of(path)
    assert error.problem.path == "uncertainty[0].path"
    assert "no entry with id 'omega'" in error.problem.expected


def test_uncertainty_distribution_needs_its_parameters(variant):
    path, _ = variant(
        "finance:", "uncertainty:\n  - {path: sites.beta.lead_time_q, dist: triangular, low: 0, high: 2}\nfinance:"
    )
    assert error_of(path).problem.path == "uncertainty[0].mode"


def test_only_the_first_problem_is_reported_with_a_count(variant):
    path, _ = variant("mask_layers: 80\n    days_per_mask_layer: 1.2", "mask_layers: -1\n    days_per_mask_layer: -1")
    error = error_of(path)
    assert error.more >= 1
    assert str(error).count("found:") == 1


def test_a_bought_product_has_no_design_fields(variant):
    path, _ = variant("  - id: chip\n", "  - id: gpu\n    kind: bought\n")
    error = error_of(path)
    assert error.problem.path == "products[0].node"
    assert "no node on a bought product" in error.problem.expected


def test_a_designed_product_needs_its_die_and_packaging(variant):
    path, _ = variant("    die_width_mm: 10\n", "")
    error = error_of(path)
    assert error.problem.path == "products[0].die_width_mm"
    assert "die_width_mm for a product the buyer designs" in error.problem.expected


def test_hbm_stacks_need_an_hbm_supply(variant):
    path, _ = variant("    packaging: pkg\n", "    packaging: pkg\n    hbm_stacks: 8\n")
    error = error_of(path)
    assert error.problem.path == "products[0].hbm"
    assert "the id of an hbm entry for its 8 stacks" in error.problem.expected


def test_an_unknown_operator_is_named(variant):
    path, _text = variant(
        "    tax_regime: US\n    earliest_start: 2025Q2\n",
        "    tax_regime: US\n    earliest_start: 2025Q2\n    operator: tsmc\n",
    )
    error = error_of(path)
    assert error.problem.path == "sites[0].operator"
    assert error.problem.expected == "an entry in operators first"


def test_a_tape_out_before_the_design_starts(variant):
    path, _ = variant(
        "    packaging: pkg\n", "    packaging: pkg\n    design: {cost_usd: 1.0e8, start: 2025Q3, tape_out: 2025Q2}\n"
    )
    error = error_of(path)
    assert error.problem.path == "products[0].design.tape_out"
    assert "from the design's start (2025Q3) on" in error.problem.expected


def test_a_fixed_offtake_price_for_every_node_with_a_site(variant):
    path, _ = variant("finance:\n", "offtake: {price: fixed, fixed_price_usd: {N3: 20000}}\nfinance:\n")
    error = error_of(path)
    assert error.problem.path == "offtake.fixed_price_usd"
    assert "N5 missing" in error.problem.expected


def test_a_price_path_accepts_years_and_refuses_quarters(variant):
    path, _ = variant("    wafer_price_usd: 17000\n", "    wafer_price_usd: {2025: 17000, 2026: 18000}\n")
    assert (
        load_scenario(path).nodes[0].wafer_price(load_scenario(path).horizon.periods).tolist()
        == [17000] * 4 + [18000] * 4
    )
    path, _ = variant("    wafer_price_usd: 17000\n", "    wafer_price_usd: {2025Q1: 17000}\n", name="q.yaml")
    assert error_of(path).problem.path.startswith("nodes[0].wafer_price_usd")


def test_a_problem_a_change_in_code_makes_elsewhere_is_a_scenario_error():
    """with_overrides on a loaded scenario: a check that fails away from the change (here the
    spread its new rate conflicts with) has no file to point into, and says so, not a crash."""
    from fabnet.scenario.loader import with_overrides

    tigris = load_scenario(TIGRIS)
    with pytest.raises(ScenarioError, match="both hurdle_rate and hurdle_spread") as error:
        with_overrides(tigris, ["funding.investors.softbank.hurdle_rate=0.1"])
    assert error.value.file is None
