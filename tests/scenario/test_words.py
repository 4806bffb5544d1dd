"""Shares and durations as a person writes them (issue 31): "90 %", "36 months", "3 years"."""

from __future__ import annotations

import pytest

from fabnet.core.errors import ScenarioError
from fabnet.scenario.loader import load_scenario

TIGRIS = "scenarios/tigris.yaml"


def kumamoto(scenario):
    return next(s for s in scenario.sites if s.id == "kumamoto")


@pytest.mark.parametrize(("text", "share"), [("90 %", 0.9), ("90%", 0.9), ("92.5 %", 0.925), ("0.9", 0.9)])
def test_a_share_reads_in_percent(text, share):
    scenario = load_scenario(TIGRIS, [f"offtake.share_of_market_price={text}"])
    assert scenario.offtake.share_of_market_price == pytest.approx(share)


@pytest.mark.parametrize(("text", "quarters"), [("36 months", 12), ("3 years", 12), ("2 years", 8), ("6 quarters", 6)])
def test_a_duration_reads_in_months_quarters_or_years(text, quarters):
    assert kumamoto(load_scenario(TIGRIS, [f"sites.kumamoto.lead_time_q={text}"])).lead_time_q == quarters


def test_a_duration_that_is_no_whole_number_of_quarters_is_refused():
    with pytest.raises(ScenarioError, match="whole number of quarters"):
        load_scenario(TIGRIS, ["sites.kumamoto.lead_time_q=10 months"])


def test_a_price_share_of_90_is_refused_as_the_9000_percent_it_would_be():
    with pytest.raises(ScenarioError, match="less than or equal to 10"):
        load_scenario(TIGRIS, ["offtake.share_of_market_price=90"])


def test_validate_without_a_file_checks_the_default_scenario_as_run_does():
    from typer.testing import CliRunner

    from fabnet.cli import app

    result = CliRunner().invoke(app, ["validate", "--set", "offtake.share_of_market_price=90 %"])
    assert result.exit_code == 0, result.output
    assert "scenarios/tigris.yaml is a valid scenario" in result.output
