"""A scenario's facts as of its own date (issue 27, item 8): a grant dated after the scenario's
`as_of` (or its horizon's start) is named in a warning — file, field and fix — and the run goes
on. The dates are those of ai-fab-facts.md §4.1 (CHIPS awards: preliminary Apr 2024, final
Nov/Dec 2024)."""

from __future__ import annotations

from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.core.periods import Quarter
from fabnet.scenario import load_scenario
from fabnet.scenario.checks import CHECKS, WARNINGS, check_scenario, scenario_warnings
from fabnet.scenario.dated import as_of
from tests.conftest import MINIMAL, TIGRIS

# §4.1: TSMC Arizona, CHIPS $6.6 B, preliminary 8 Apr 2024 (2024Q2), final Nov 2024 (2024Q4)
AZ_FINAL = "sites.arizona.grants={share_of_capex: 0.10, cap_usd: 6.6e9, status: final, as_of: 2024Q4}"
AZ_PRELIMINARY = "sites.arizona.grants={share_of_capex: 0.10, cap_usd: 6.6e9, status: preliminary, as_of: 2024Q2}"


def test_tigris_is_as_of_january_2024_and_warns_of_nothing():
    s = load_scenario(TIGRIS)
    assert as_of(s) == Quarter(2024, 1)
    assert scenario_warnings(s) == []


def test_a_chips_award_made_final_in_nov_2024_is_hindsight_in_january_2024():
    s = load_scenario(TIGRIS, [AZ_FINAL])
    (warning,) = scenario_warnings(s)
    assert warning.startswith(f"{TIGRIS}: sites[0].grants.as_of: ")
    assert "arizona's grant final in 2024Q4, after the scenario's date 2024Q1 (as_of)" in warning
    assert "the grant as it stood in 2024Q1" in warning and "as_of 2024Q4 or later" in warning
    # a warning, not an error: the scenario loads and its checks pass
    assert check_scenario(s) == []
    assert not set(WARNINGS) & set(CHECKS)


def test_even_the_preliminary_award_of_april_2024_came_after_january():
    (warning,) = scenario_warnings(load_scenario(TIGRIS, [AZ_PRELIMINARY]))
    assert "preliminary in 2024Q2" in warning


def test_a_later_as_of_knows_the_award():
    assert scenario_warnings(load_scenario(TIGRIS, [AZ_FINAL, "as_of=2024Q4"])) == []


def test_without_as_of_the_horizon_start_is_the_date():
    s = load_scenario(MINIMAL, ["sites.alpha.grants={share_of_capex: 0.1, status: final, as_of: 2025Q2}"])
    assert s.as_of is None and as_of(s) == Quarter(2025, 1)
    (warning,) = scenario_warnings(s)
    assert "after the scenario's date 2025Q1 (horizon.start, as no as_of is given)" in warning


def test_the_cli_prints_the_warning_on_stderr_and_goes_on():
    result = CliRunner().invoke(app, ["validate", str(TIGRIS), "--set", AZ_FINAL])
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "sites[0].grants.as_of" in result.stderr
    assert "is a valid scenario" in result.stdout
