"""Inputs that once crashed or hung fabnet (issue 14), each now one clear ScenarioError: the
file is bounded before it is parsed, YAML before it is built, every number by the schema."""

from __future__ import annotations

import os
from pathlib import Path

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


@pytest.mark.parametrize(
    ("extra", "found"),
    [
        ("loop: &l [1, *l]\n", "the alias *l inside its own anchor &l"),
        ("m: *nowhere\n", "the alias *nowhere with no anchor &nowhere before it"),
    ],
)
def test_alias_to_itself_or_to_nothing_is_refused(tmp_path, extra, found):
    error = error_of(write(tmp_path, MINIMAL.read_text() + extra))
    assert error.problem.found == found


def test_aliases_cannot_nest_deeper_than_the_bound(tmp_path):
    """Each level is 30 deep as written, but each aliases the one before: 1,800 levels once
    expanded, which recursed past Python's limit in the duplicate-key walk."""
    levels = ["l0: &l0 " + "[" * 30 + "x" + "]" * 30]
    levels += [f"l{k}: &l{k} " + "[" * 30 + f"*l{k - 1}" + "]" * 30 for k in range(1, 60)]
    text = MINIMAL.read_text() + "\n".join(levels) + "\n"
    error = error_of(write(tmp_path, text))
    assert "nested more than 32 levels deep (aliases expanded)" in error.problem.found
    assert error.line == line_of(text, "l1:")


@pytest.mark.parametrize(
    ("extra", "found"),
    [
        ("x: !!int abc\n", "cannot be read as int"),
        ("x: !!float abc\n", "cannot be read as float"),
        ("x: !!timestamp abc\n", "cannot be read as timestamp"),
        ("x: !!bool maybe\n", "cannot be read as bool"),
        ("x: 1" + "0" * 5000 + "\n", "cannot be read as int (Exceeds the limit"),
        ("x: !!int 1" + ":0" * 100_000 + "\n", "a sexagesimal number"),
        ("x: !!python/object:os.system ls\n", "could not determine a constructor"),
    ],
)
def test_values_yaml_cannot_build_are_located_errors(tmp_path, extra, found):
    text = MINIMAL.read_text() + extra
    error = error_of(write(tmp_path, text))
    assert found in error.problem.found and error.line == line_of(text, "x:")


def test_dates_and_sexagesimal_numbers_stay_text():
    """PyYAML reads 2024-02-30 as a date (and raises: no such day) and 1:30 as 90; no field
    takes either, so both are read as the text they are and the schema says what it expects."""
    assert load_scenario(MINIMAL, ["description=2024-02-30"]).description == "2024-02-30"
    error = error_of(MINIMAL, ["horizon.quarters=1:30"])
    assert error.problem.found == "'1:30'" and "a valid integer" in error.problem.expected


def test_merge_keys_are_not_duplicate_keys(tmp_path):
    text = MINIMAL.read_text().replace(
        "name: minimal", "name: minimal\nx-base: &b {p: 1, q: 2}\nx-use: {<<: *b, q: 3}", 1
    )
    error = error_of(write(tmp_path, text))
    assert error.problem.found == "unknown key 'x-base'"  # not "the same key twice"


def test_duplicate_keys_in_a_set_value_are_refused():
    error = error_of(MINIMAL, ["nodes[0].wafer_price_usd={2025: 1, '2025': 2}"])
    assert "the same key twice" in error.problem.found


def test_control_character_in_a_file_with_cr_line_ends_names_its_line(tmp_path):
    text = MINIMAL.read_text().replace("\n", "\r").replace("horizon:", "hori\x00zon:", 1)
    error = error_of(write(tmp_path, text))
    assert error.line == line_of(MINIMAL.read_text(), "horizon:") and "at column 5" in error.problem.found


def test_alias_bomb_in_a_set_value_is_refused():
    levels = ["&a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"&{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip("abcde", "bcdef", strict=True)
    ]
    error = error_of(MINIMAL, [f"description=[{', '.join(levels)}]"])
    assert "once aliases are expanded" in error.problem.found
    assert error.file.startswith("--set description=") and len(error.file) < 100


def test_file_larger_than_the_limit_is_refused(tmp_path):
    path = write(tmp_path, MINIMAL.read_text() + "#" + "x" * MAX_FILE_BYTES + "\n")
    error = error_of(path)
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in error.problem.found


def test_a_huge_file_is_never_read_whole(tmp_path):
    """A sparse 64 GB file: read whole it would exhaust this machine's 24 GB."""
    path = write(tmp_path, MINIMAL.read_text())
    os.truncate(path, 64 * 2**30)
    assert f"larger than {MAX_FILE_BYTES:,} bytes" in error_of(path).problem.found


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_what_is_not_a_regular_file_is_refused_without_waiting(tmp_path, kind):
    """A FIFO once blocked the loader forever, waiting for a writer."""
    target = {"folder": tmp_path, "device": Path("/dev/zero")}.get(kind, tmp_path / "pipe")
    if kind == "fifo":
        os.mkfifo(target)
    base = write(tmp_path, f"extends: {target}\n" + MINIMAL.read_text(), "child.yaml")
    for path in (target, base):
        error = error_of(path)
        assert error.problem.found == "a file that cannot be read (not a regular file)"


def test_extends_that_cannot_be_followed_is_one_error(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for base, found in (("a", "cannot be followed"), ('"x\\0y"', '"x\\0y"')):
        error = error_of(write(tmp_path, f"extends: {base}\n" + MINIMAL.read_text()))
        assert error.problem.path == "extends" and found in error.problem.found and error.line == 1


def test_ids_that_are_not_names_do_not_break_extends(tmp_path):
    write(tmp_path, MINIMAL.read_text().replace("- id: N5", "- id: [N5]", 1), "base.yaml")
    child = write(tmp_path, "extends: base.yaml\nnodes: [{id: N5}]\n", "child.yaml")
    assert error_of(child).problem.path.startswith("nodes")


def test_a_long_chain_of_extends_is_refused(tmp_path):
    write(tmp_path, MINIMAL.read_text(), "f0.yaml")
    for k in range(1, 40):
        write(tmp_path, f"extends: f{k - 1}.yaml\n", f"f{k}.yaml")
    assert "a chain of more than 16 files" in error_of(tmp_path / "f39.yaml").problem.found


@pytest.mark.parametrize(
    ("override", "path", "expected"),
    [
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
    ],
)
def test_implausible_or_mistyped_values_are_refused(override, path, expected):
    error = error_of(MINIMAL, [override])
    assert error.problem.path == path
    assert expected in error.problem.expected


@pytest.mark.parametrize(
    ("entry", "field", "expected"),
    [
        ("{path: sites.arizona.lead_time_q, dist: uniform, low: 0, high: .nan}", "high", "finite number"),
        (
            "{path: products.tigris_n3.demand.per_year, dist: lognormal, apply: multiply, sigma: 50}",
            "sigma",
            "less than or equal to 3",
        ),
        (
            "{path: sites.arizona.lead_time_q, dist: triangular, apply: add, low: -20, mode: 0, high: 2}",
            "low",
            "draws that keep sites[0].lead_time_q valid",
        ),
        (
            "{path: nodes.N3.defect_density.learning_rate_per_q, dist: discrete, values: [0.2, 1.5]}",
            "values",
            "less than or equal to 1",
        ),
    ],
)
def test_uncertainty_that_could_draw_nonsense_is_refused(entry, field, expected):
    error = error_of(TIGRIS, [f"uncertainty[0]={entry}"])
    assert error.problem.path == f"uncertainty[0].{field}"
    assert expected in error.problem.expected


def test_two_entries_on_one_input_are_refused():
    """Each draw alone may be in range and the two together not (300 + 300 quarters)."""
    error = error_of(
        TIGRIS, ["uncertainty[2]={path: sites.arizona.lead_time_q, dist: uniform, apply: add, low: 0, high: 300}"]
    )
    assert error.problem.path == "uncertainty[2].path" and "uncertainty[1] changes too" in error.problem.found


def test_a_draw_must_pass_the_checks_beyond_the_schema():
    """One quarter of horizon is a valid number, but the sites' earliest starts fall outside it."""
    error = error_of(TIGRIS, ["uncertainty[0]={path: horizon.quarters, dist: uniform, low: 1, high: 2}"])
    assert error.problem.path == "uncertainty[0].low"
    assert "draws that keep sites[0].earliest_start valid" in error.problem.expected


def test_a_sample_that_breaks_the_scenario_is_one_error():
    from fabnet.risk import apply_sample

    scenario = load_scenario(TIGRIS)
    row = np.ones(len(scenario.uncertainty))
    row[1] = 1000.0  # add 1,000 quarters to Arizona's lead time
    with pytest.raises(ScenarioError) as info:
        apply_sample(scenario, row)
    assert info.value.problem.path == "sites[0].lead_time_q" and "in the sample [" in info.value.problem.found


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
