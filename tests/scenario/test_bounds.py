"""Inputs that once crashed or hung fabnet (issue 14), each now one clear ScenarioError: the
file is bounded before it is parsed, YAML before it is built, every number by the schema."""

from __future__ import annotations

import numpy as np
import pytest

from fabnet.core.errors import ScenarioError
from fabnet.risk.sampling import draw
from fabnet.scenario import load_scenario
from fabnet.scenario.yamltext import MAX_FILE_BYTES
from tests.conftest import MINIMAL, TIGRIS, line_of


def error_of(path, overrides=()) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, overrides)
    return info.value


def write(tmp_path, text: str | bytes, name: str = "hostile.yaml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x0c"])
def test_control_character_is_reported_with_line_and_column(tmp_path, char):
    text = MINIMAL.read_text().replace("horizon:", f"hori{char}zon:", 1)
    error = error_of(write(tmp_path, text))
    assert error.line == line_of(text, "hori")
    assert f"U+{ord(char):04X}" in error.problem.found and "at column 5" in error.problem.found


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    text = MINIMAL.read_bytes().replace(b"horizon:", b"hori\xffzon:", 1)
    error = error_of(write(tmp_path, text))
    assert "not UTF-8" in error.problem.found
    assert error.line == line_of(MINIMAL.read_text(), "horizon:")


@pytest.mark.parametrize("depth", [40, 10_000])
def test_deep_nesting_is_refused_without_recursing(tmp_path, depth):
    text = MINIMAL.read_text() + "deep: " + "[" * depth + "]" * depth + "\n"
    error = error_of(write(tmp_path, text))
    assert "nested" in error.problem.found or "nesting depth" in error.problem.found
    assert error.line == line_of(text, "deep:")


def test_alias_bomb_is_refused_at_once(tmp_path):
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    error = error_of(write(tmp_path, "\n".join(lines) + "\n"))
    assert "more than 100,000 values once aliases are expanded" in error.problem.found
    assert error.line == 6  # the first alias level that passes the bound: 9^6 values


def test_alias_to_its_own_anchor_is_refused(tmp_path):
    error = error_of(write(tmp_path, MINIMAL.read_text() + "loop: &l [1, *l]\n"))
    assert "not complete before it" in error.problem.found


def test_alias_bomb_in_a_set_value_is_refused():
    levels = ["&a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"&{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip("abcde", "bcdef", strict=True)]
    error = error_of(MINIMAL, [f"description=[{', '.join(levels)}]"])
    assert "once aliases are expanded" in error.problem.found
    assert error.file.startswith("--set description=") and len(error.file) < 100


@pytest.mark.parametrize("extra_bytes", [1, 50_000_000])
def test_file_larger_than_the_limit_is_refused_before_reading(tmp_path, extra_bytes):
    path = write(tmp_path, MINIMAL.read_text())
    with path.open("a") as stream:
        stream.write("#" + "x" * (MAX_FILE_BYTES + extra_bytes) + "\n")
    error = error_of(path)
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in error.problem.found


def test_a_folder_is_not_a_scenario(tmp_path):
    error = error_of(tmp_path)
    assert "cannot be read" in error.problem.found


@pytest.mark.parametrize(("override", "path", "expected"), [
    ("description=" + "x" * 10_001, "description", "at most 10000 characters"),
    ("sites.alpha.module_wspm=.inf", "sites[0].module_wspm", "finite number"),
    ("sites.alpha.module_wspm=1.0e15", "sites[0].module_wspm", "less than or equal to 10000000"),
    ("sites.alpha.lead_time_q=1000000000000000", "sites[0].lead_time_q", "less than or equal to 400"),
    ("sites.alpha.lead_time_q=2.5", "sites[0].lead_time_q", "a valid integer"),
    ("sites.alpha.mandatory=1", "sites[0].mandatory", "a valid boolean"),
    ("nodes[0].wafer_price_usd=.inf", "nodes[0].wafer_price_usd", "finite number"),
    ("nodes[0].wafer_price_usd={2025: .nan}", "nodes[0].wafer_price_usd[2025]", "finite number"),
    ("nodes[0].wafer_price_usd={}", "nodes[0].wafer_price_usd", "at least 1 item"),
    ("finance.unmet_demand_penalty=.inf", "finance.unmet_demand_penalty", "market_price, or a number"),
    ("seed=true", "seed", "a valid integer"),
    ("nodes[0].mask_layers=true", "nodes[0].mask_layers", "a valid integer"),
    ("nodes[0].days_per_mask_layer=true", "nodes[0].days_per_mask_layer", "a number, not true/false"),
])
def test_implausible_or_mistyped_values_are_refused(override, path, expected):
    error = error_of(MINIMAL, [override])
    assert error.problem.path == path
    assert expected in error.problem.expected


@pytest.mark.parametrize(("entry", "field", "expected"), [
    ("{path: sites.arizona.lead_time_q, dist: uniform, low: 0, high: .nan}", "high", "finite number"),
    ("{path: products.tigris_n3.demand.per_year, dist: lognormal, apply: multiply, sigma: 50}", "sigma",
     "less than or equal to 3"),
    ("{path: sites.arizona.lead_time_q, dist: triangular, apply: add, low: -20, mode: 0, high: 2}", "low",
     "draws that keep sites[0].lead_time_q valid"),
    ("{path: nodes.N3.defect_density.learning_rate_per_q, dist: discrete, values: [0.2, 1.5]}", "values",
     "less than or equal to 1"),
])
def test_uncertainty_that_could_draw_nonsense_is_refused(entry, field, expected):
    error = error_of(TIGRIS, [f"uncertainty[0]={entry}"])
    assert error.problem.path == f"uncertainty[0].{field}"
    assert expected in error.problem.expected


def test_unbounded_draws_that_leave_the_range_stop_the_sweep_before_it_starts():
    """A lognormal's draws are checked as drawn: with sigma 3 some of 2,000 demand multipliers
    pass 10^4 and push a year's demand past the bound; with sigma 0.3 none do."""
    wild = load_scenario(TIGRIS, ["uncertainty[0].sigma=3"])
    with pytest.raises(ScenarioError) as info:
        draw(wild, 2000)
    assert info.value.problem.path == "uncertainty[0].sigma"
    assert "products[1].demand.per_year" in info.value.problem.found
    assert np.isfinite(draw(load_scenario(TIGRIS), 2000)).all()


def test_penalty_written_as_yaml_text_number_is_read():
    """PyYAML reads `1.0e8` (no sign in the exponent) as text; like every other number field,
    the penalty takes it as the number it means, and refuses what is past its bound."""
    assert load_scenario(MINIMAL, ["finance.unmet_demand_penalty=1.0e8"]).finance.unmet_demand_penalty == 1e8
    assert error_of(MINIMAL, ["finance.unmet_demand_penalty=1.0e9"]).problem.path == "finance.unmet_demand_penalty"
