"""scenarios/global.yaml: valid, every figure sourced or marked as an assumption, and a few of
its figures read back from ai-fab-facts.md (skipped when ../shared is not beside the repository)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from fabnet.core.periods import Quarter, quarter_range
from fabnet.scenario import Scenario, load_scenario
from tests.conftest import REPO
from tests.test_tigris import figure_lines, is_sourced

GLOBAL = REPO / "scenarios" / "global.yaml"
FACTS_CANDIDATES = [base / "shared" / "reference" / "ai-fab-facts.md" for base in (REPO.parent, REPO.parent.parent)]


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(GLOBAL)


@pytest.fixture(scope="module")
def facts() -> str:
    for path in FACTS_CANDIDATES:
        if path.is_file():
            return path.read_text()
    pytest.skip("ai-fab-facts.md not found in ../shared/reference beside the repository")


def section(facts: str, number: str) -> str:
    """The text of `### number` up to the next heading."""
    match = re.search(rf"^#+ {re.escape(number)}\b.*?(?=^#)", facts, flags=re.S | re.M)
    assert match, f"no section {number} in ai-fab-facts.md"
    return match.group(0)


def table_row(text: str, first_cell: str) -> str:
    """The markdown table row whose first cell (bold stripped) is `first_cell`."""
    for line in text.splitlines():
        cells = [c.strip().strip("*") for c in line.split("|")]
        if len(cells) > 2 and cells[1] == first_cell:
            return line
    raise AssertionError(f"no row {first_cell!r}")


def test_global_is_valid_and_spans_the_regions_nodes_and_years(scenario):
    assert isinstance(scenario, Scenario)
    assert str(scenario.horizon.start) == "2024Q1" and scenario.horizon.quarters == 48
    assert {n.id for n in scenario.nodes} == {"N3", "N2", "A16"}
    assert {s.region for s in scenario.sites} == {"US", "JP", "TW", "KR", "AE", "EU"}
    assert {s.node for s in scenario.sites} == {"N3", "N2", "A16"}
    assert {o.node for o in scenario.foundry_offers} == {"N3", "N2", "A16"}
    # §0: the ambition was reported as $5-7 T
    assert 5e12 <= scenario.funding.total_usd <= 7e12


def test_every_figure_names_its_source_or_says_assumption():
    text = GLOBAL.read_text()
    lines = text.splitlines()
    unsourced = [f"line {i + 1}: {lines[i].strip()}" for i in figure_lines(text) if not is_sourced(lines, i)]
    assert unsourced == []


@pytest.mark.parametrize("figure", ["lead_time_q: 12", "tools: 9.75e9", "mature_per_cm2: 0.09"])
def test_the_source_check_fails_on_a_figure_whose_comment_is_gone(figure: str):
    # the last occurrence: an entry well inside its list, with no comment block right above it
    text = GLOBAL.read_text()
    start = text.rindex(figure)
    end = text.index("\n", start)
    text = text[:start] + figure + text[end:]
    lines = text.splitlines()
    assert [lines[i].strip() for i in figure_lines(text) if not is_sourced(lines, i)] == [figure]


def test_demand_follows_the_market_derivation_in_the_comments(scenario):
    # The derivation written above `products:`: market $B (§6 anchors 45/400/500, assumptions
    # beyond), 70 % GPUs at $27.5 k / $35 k / $40 k, 30 % ASICs at $12.5 k.
    market = {2023: 45.0, 2027: 400.0, 2028: 500.0, 2030: 800.0}
    growth = (400 / 45) ** 0.25
    market |= {y: 45 * growth ** (y - 2023) for y in (2024, 2025, 2026)}
    market[2029] = (500 * 800) ** 0.5
    market |= {y: 800 * 1.1 ** (y - 2030) for y in range(2031, 2036)}
    gpu_price = {2024: 27500, 2025: 35000} | dict.fromkeys(range(2026, 2036), 40000)
    expected = np.array(
        [0.7 * market[y] * 1e9 / gpu_price[y] + 0.3 * market[y] * 1e9 / 12500 for y in range(2024, 2036)]
    )
    periods = quarter_range(Quarter(2024, 1), 48)
    wanted = sum(p.demand.quarterly(periods) for p in scenario.products).reshape(12, 4).sum(axis=1)
    np.testing.assert_allclose(wanted, expected, rtol=0.01)


def test_wafer_prices_are_those_of_the_facts(scenario, facts):
    # §2.1: the first "~$" figure of each node's row (N3 ~$20,000 DigiTimes 2022; N2 ~$30,000; A16 ~$45,000)
    prices = section(facts, "2.1")
    for node, year in (("N3", 2024), ("N2", 2030), ("A16", 2030)):
        figure = re.search(r"~\$([\d,]+)", table_row(prices, node))
        assert figure, node
        quarter = Quarter(year, 1)
        assert scenario.node(node).wafer_price([quarter])[0] == float(figure.group(1).replace(",", "")), node


def test_us_credit_and_grants_are_those_of_the_facts(scenario, facts):
    support = section(facts, "4.4")
    credit = re.search(r"\*\*(\d+) % for property placed in service", support)
    assert credit and scenario.finance.tax_regimes[0].investment_tax_credit == int(credit.group(1)) / 100
    projects = section(facts, "4.1")
    arizona = re.search(r"CHIPS \$([\d.]+) B grant", table_row(projects, "TSMC Arizona (Fab 21)"))
    sites = {s.id: s for s in scenario.sites}
    assert arizona and sites["arizona"].grants.cap_usd == float(arizona.group(1)) * 1e9
    assert sites["kumamoto"].grants.share_of_capex == 0.40  # §4.4: JASM ~40 % of Fab 1 capex
    assert "~40 %" in table_row(projects, "TSMC / JASM Kumamoto Fab 1")


# §4.1's CHIPS awards as the facts word them: the month each became final (Nov/Dec 2024 = 2024Q4)
CHIPS_FINAL = {
    "arizona": ("TSMC Arizona (Fab 21)", "final Nov 2024"),
    "taylor": ("Samsung Taylor, TX", "$4.745 B final** (20 Dec 2024)"),
    "ohio": ("Intel Ohio One (New Albany)", "final, late Nov 2024"),
}


def test_grants_carry_the_status_and_date_of_the_facts(scenario, facts):
    projects = section(facts, "4.1")
    for site_id, (project, wording) in CHIPS_FINAL.items():
        assert wording in table_row(projects, project), site_id
        grant = next(s for s in scenario.sites if s.id == site_id).grants
        assert (grant.status, grant.as_of) == ("final", Quarter(2024, 4)), site_id
    # Magdeburg's €9.9 B was agreed in Jun 2023 and never paid (§4.1): not final
    magdeburg = next(s for s in scenario.sites if s.id == "magdeburg").grants
    assert "agreed Jun 2023 (not paid)" in table_row(projects, "Intel Magdeburg")
    assert (magdeburg.status, magdeburg.as_of) == ("preliminary", Quarter(2023, 2))


def test_global_is_as_of_2025_and_every_grant_was_known_by_then(scenario):
    from fabnet.scenario.checks import scenario_warnings

    # the header: "uses what was reported up to 2026"; the newest report, TrendForce's N3E/N3P
    # prices, is of Oct 2025 (§2.1), the 35 % §48D credit of Jul 2025 (§4.4)
    assert scenario.as_of == Quarter(2025, 4)
    assert all(s.grants.as_of is None or s.grants.as_of <= scenario.as_of for s in scenario.sites)
    assert scenario_warnings(scenario) == []


def test_the_ambition_and_the_foundry_capacity_costs_are_the_facts(scenario, facts):
    # §0: "$5–7 trillion" (WSJ); §4.1: $0.4–0.6 B per 1 k wspm, ~$0.5 B the default
    assert "$5–7 trillion" in section(facts, "0")
    assert scenario.funding.ambition_usd == 7e12
    assert "Use ~$0.5 B per kwspm as the default" in section(facts, "4.1")
    costs = {o.node: o.capex_per_wspm_usd for o in scenario.foundry_offers}
    assert costs == pytest.approx({"N3": 0.5e9 / 1000, "N2": 0.5e9 / 1000 * 1.15, "A16": 0.5e9 / 1000 * 1.30})
