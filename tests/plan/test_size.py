"""The planner's size budget (plan.size): an estimate from the inputs' dimensions that bounds
the built model from above, and a refusal in words before a model too large is built."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.network import prepare
from fabnet.plan import ModelTooLarge, SolveOptions, build_from_inputs, estimate, make_plan
from fabnet.scenario import load_scenario
from fabnet.scenario.schema import Scenario
from tests.conftest import TIGRIS
from tests.plan.conftest import scenario, site, tiny


@pytest.mark.parametrize("name", ["tigris", "global", "tiny"])
@pytest.mark.parametrize("cycle_time", ["load", "constant"])
def test_the_estimate_bounds_the_built_model_within_twice(name, cycle_time):
    """linopy's own counts of the built model are the oracle: the estimate is never below them
    and never more than twice them."""
    s = scenario(tiny()) if name == "tiny" else load_scenario(TIGRIS.parent / f"{name}.yaml")
    built, size = build_from_inputs(prepare(s, cycle_time)), estimate(s, cycle_time)
    assert built.nvars <= size.variables <= 2 * built.nvars
    assert built.ncons <= size.rows <= 2 * built.ncons


def many(sites: int, products: int, quarters: int) -> Scenario:
    """The issue's valid scenario near the documented bounds: sites × products × quarters."""
    data = tiny(sites=[site(f"s{i}") for i in range(sites)])
    data["horizon"]["quarters"] = quarters
    chip = data["products"][0]
    data["products"] = [chip | {"id": f"chip{j}"} for j in range(products)]
    return Scenario.model_validate(data)


def test_a_model_above_the_budget_is_refused_before_it_is_built():
    """200 sites × 200 products × 400 quarters: 16 M wafer-start variables alone; refused before
    the inputs are prepared (that alone took 7 minutes), naming its size and what to do."""
    s = many(200, 200, 400)
    with pytest.raises(ModelTooLarge) as refused:
        make_plan(s)
    text = str(refused.value)
    assert "variables" in text and "GB" in text and "--max-model-size" in text and "fewer quarters" in text


def test_the_limit_is_the_callers():
    s = scenario(tiny())
    size = estimate(s)
    with pytest.raises(ModelTooLarge):
        make_plan(s, SolveOptions(max_variables=size.variables - 1))
    assert not make_plan(s, SolveOptions(max_variables=size.variables)).builds.empty


def test_the_command_line_refuses_with_the_size_and_a_robust_plan_counts_its_futures():
    runner = CliRunner()
    one = runner.invoke(app, ["plan", str(TIGRIS), "--max-model-size", "100"])
    assert one.exit_code == 2
    assert "The plan would be about" in " ".join(one.output.split())
    # one tigris future is ~1,600 variables: three together are above 3,000, one alone is not
    robust = runner.invoke(app, ["plan", str(TIGRIS), "--robust", "3", "--max-model-size", "3000"])
    assert robust.exit_code == 2, robust.output
    assert "The robust plan of 3 futures would be about" in " ".join(robust.output.split())
