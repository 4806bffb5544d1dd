"""The capex a plan implies beyond the fab company's (issue 27, item 8): the foundry capacity
behind the wafers it buys, reported apart, and the plan's capex against an ambition."""

from __future__ import annotations

import pandas as pd
import pytest

from fabnet.finance.industry import foundry_capex, plan_capex
from fabnet.scenario import load_scenario
from tests.conftest import MINIMAL

QUARTERS = [f"2025Q{i}" for i in range(1, 5)] + [f"2026Q{i}" for i in range(1, 5)]


def scenario_with(offers: list[dict], ambition: float | None = None):
    overrides: dict[str, object] = {"foundry_offers": offers}
    if ambition is not None:
        overrides["funding.ambition_usd"] = ambition
    return load_scenario(MINIMAL, overrides)


def foundry_table(used: dict[str, list[float]]) -> pd.DataFrame:
    """A plan's foundry table: wafers used per offer and quarter."""
    return pd.DataFrame(
        [
            {"offer": offer, "node": "N5", "quarter": q, "capacity": 1e6, "reserved": w, "used": w}
            for offer, wafers in used.items()
            for q, w in zip(QUARTERS, wafers, strict=True)
        ]
    )


def fabco_quarterly(building: list[float], tools: list[float]) -> pd.DataFrame:
    table = pd.DataFrame({"quarter": QUARTERS, "year": [int(q[:4]) for q in QUARTERS]})
    for column in (
        "revenue_usd",
        "wafer_revenue_usd",
        "spare_revenue_usd",
        "take_or_pay_usd",
        "opex_usd",
        "fixed_opex_usd",
        "operator_fees_usd",
        "grants_usd",
        "itc_usd",
        "tax_usd",
        "project_fcf_usd",
        "equity_calls_usd",
        "debt_draws_usd",
        "distributions_usd",
    ):
        table[column] = 0.0
    table["capex_building_usd"], table["capex_tools_usd"] = building, tools
    table["capex_usd"] = table["capex_building_usd"] + table["capex_tools_usd"]
    return table


def test_tsmc_arizona_fab_1_capacity_costs_what_ai_fab_facts_says():
    """ai-fab-facts.md §4.1: TSMC Arizona Fab 1, $12 B for 20 k wspm ($0.6 B per 1 k wspm).
    A plan whose busiest quarter takes 60,000 wafers (20,000 a month) of an offer priced at
    $600,000 per wspm relies on $12 B of foundry capacity; an offer it never uses on none."""
    s = scenario_with(
        [
            {"id": "az", "node": "N5", "max_wafers_per_month": 30000, "capex_per_wspm_usd": 6.0e5},
            {"id": "idle", "node": "N5", "max_wafers_per_month": 30000, "capex_per_wspm_usd": 5.0e5},
        ]
    )
    used = {"az": [0, 30000, 60000, 45000, 45000, 60000, 0, 0], "idle": [0.0] * 8}
    table = foundry_capex(s, foundry_table(used)).set_index("offer")
    assert table.loc["az", "peak_wafers_per_month"] == pytest.approx(20_000)
    assert table.loc["az", "capex_usd"] == pytest.approx(12e9)
    assert table.loc["idle", "capex_usd"] == 0.0


def test_the_plan_capex_against_the_ambition_by_hand():
    """Fab company: building $1 B + tools $3 B in 2025 and the same in 2026 = $8 B; foundry:
    peak 9,000 wafers a quarter = 3,000 wspm × $0.5 B per 1 k wspm (§4.1 default) = $1.5 B;
    $9.5 B against the $7 T ambition (§0: $5–7 T) = 0.1357 %."""
    s = scenario_with(
        [{"id": "f", "node": "N5", "max_wafers_per_month": 5000, "capex_per_wspm_usd": 5.0e5}], ambition=7.0e12
    )
    capex = plan_capex(
        s,
        foundry_table({"f": [3000, 9000, 6000, 0, 0, 0, 0, 0]}),
        fabco_quarterly([1e9, 0, 0, 0, 1e9, 0, 0, 0], [0, 3e9, 0, 0, 0, 0, 3e9, 0]),
    )
    assert capex.fabco_capex_usd == pytest.approx(8e9)
    assert capex.industry_capex_usd == pytest.approx(1.5e9)
    assert capex.share_of_ambition == pytest.approx(9.5e9 / 7e12)
    assert capex.figures() == pytest.approx(
        {
            "industry_capex_usd": 1.5e9,
            "plan_capex_usd": 9.5e9,
            "ambition_usd": 7e12,
            "plan_capex_share_of_ambition": 9.5e9 / 7e12,
        }
    )
    sentence = capex.sentence()
    assert sentence is not None
    assert "$8.00 B" in sentence and "$1.50 B" in sentence and "$9.50 B" in sentence and "0.14 %" in sentence


def test_without_a_capex_per_wspm_or_an_ambition_nothing_is_claimed():
    s = scenario_with([{"id": "f", "node": "N5", "max_wafers_per_month": 5000}])
    capex = plan_capex(s, foundry_table({"f": [3000] * 8}), fabco_quarterly([1e9] + [0] * 7, [0] * 8))
    assert capex.industry_capex_usd is None
    assert capex.share_of_ambition is None and capex.sentence() is None
    assert capex.figures() == {}
    assert capex.plan_capex_usd == pytest.approx(1e9)


OFFER = "foundry_offers=[{id: f, node: N5, max_wafers_per_month: 2000, capex_per_wspm_usd: 5.0e5}]"


def test_plan_and_run_put_the_industry_capex_and_the_ambition_on_their_key_figures(tmp_path):
    """`fabnet plan --json` and `fabnet run`: the foundry capacity is the plan's own peak use ×
    $0.5 B per 1 k wspm, beside (not inside) the fab company's capex, and the share of the
    ambition is (fab company + foundry) ÷ ambition."""
    import json

    from typer.testing import CliRunner

    from fabnet.cli import app
    from fabnet.store import open_store

    runner = CliRunner()
    sets = ["--set", OFFER, "--set", "funding.ambition_usd=1.0e11"]
    planned = runner.invoke(app, ["plan", str(MINIMAL), *sets, "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.stdout)
    peak = max(row["used"] for row in plan["foundry"]) / 3
    assert peak > 0  # the plan uses the offer
    assert plan["industry_capex_usd"] == pytest.approx(peak * 5.0e5)
    store = tmp_path / "s.duckdb"
    ran = runner.invoke(
        app, ["run", str(MINIMAL), *sets, "--no-check", "--store", str(store), "--report-dir", str(tmp_path)]
    )
    assert ran.exit_code == 0, ran.output
    assert "industry capex: the foundry capacity the plan relies on" in ran.stdout
    assert "of the $100.00 B ambition" in ran.stdout
    with open_store(store, read_only=True) as opened:
        figures = opened.run(1).figures
    assert figures["industry_capex_usd"] == pytest.approx(plan["industry_capex_usd"])
    both = figures["fabco_capex_usd"] + figures["industry_capex_usd"]
    assert figures["plan_capex_usd"] == pytest.approx(both)
    assert figures["plan_capex_share_of_ambition"] == pytest.approx(both / 1.0e11)
