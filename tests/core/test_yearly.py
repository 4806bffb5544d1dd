"""The yearly roll-up of the money tables has one owner (issue 27, item 9): core.yearly. The
terminal (cli/network_views.py), the HTML report's tables and its figures read the years from it, and no
other code groups the fab company's (or the buyer's) quarterly table by year."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from fabnet.core import results, yearly

SRC = Path(__file__).parent.parent.parent / "src" / "fabnet"
OWNER = SRC / "core" / "yearly.py"


def _only_in(table: str) -> set[str]:
    """Columns of `table` that no other stored table has: naming one means reading that table."""
    mine = set(results.table(table).names)
    twins = {"counterfactual_buyer_quarterly": "buyer_quarterly"}
    others = {
        name
        for key, other in results.TABLES.items()
        if key != table and twins.get(key) != table
        for name in other.names
    }
    return mine - others


FABCO_ONLY = _only_in("fabco_quarterly")
BUYER_ONLY = _only_in("buyer_quarterly")


def _groups_by_year(call: ast.Call) -> bool:
    if not (isinstance(call.func, ast.Attribute) and call.func.attr == "groupby"):
        return False
    keys = [*call.args, *(k.value for k in call.keywords if k.arg == "by")]
    for key in keys:
        if isinstance(key, ast.Constant) and key.value == "year":
            return True
        if isinstance(key, ast.List | ast.Tuple) and any(
            isinstance(e, ast.Constant) and e.value == "year" for e in key.elts
        ):
            return True
    return False


def yearly_roll_ups(source: str, columns: set[str]) -> list[str]:
    """Functions of `source` that group a frame by year and name a column only `columns`' table
    has (as text, `q["capex_tools_usd"]`, or as an attribute, `q.capex_tools_usd`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        inner = list(ast.walk(node))
        if not any(isinstance(n, ast.Call) and _groups_by_year(n) for n in inner):
            continue
        names = {n.value for n in inner if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        names |= {n.attr for n in inner if isinstance(n, ast.Attribute)}
        if names & columns:
            found.append(node.name)
    return found


def test_the_detector_sees_a_roll_up_written_the_old_way():
    """What views.py, report/html.py and report/figures.py each did before core.yearly."""
    old = (
        "def print_finance(money):\n"
        "    q = money.fabco.quarterly.groupby('year').sum(numeric_only=True)\n"
        "    return q.capex_building_usd + q.capex_tools_usd\n"
        "def buyer_costs(t):\n"
        "    years = t['buyer_quarterly'].groupby(['year']).sum()\n"
        "    return years['design_usd'] + years['masks_usd']\n"
        "def supply(p):\n"
        "    return p.supply.groupby('year')[['demand', 'delivered']].sum()\n"
    )
    assert yearly_roll_ups(old, FABCO_ONLY) == ["print_finance"]
    assert yearly_roll_ups(old, BUYER_ONLY) == ["buyer_costs"]


def test_the_owner_groups_by_year_and_covers_every_money_column():
    """Not vacuous: the owner is where the rule says, groups by year, and its rules read the
    columns the detector keys on."""
    text = OWNER.read_text()
    assert any(isinstance(n, ast.Call) and _groups_by_year(n) for n in ast.walk(ast.parse(text)))
    read = {c for parts in yearly.FABCO_YEARLY.values() for c in parts}
    assert {"project_fcf_usd", "equity_calls_usd"} <= read & FABCO_ONLY and "capex_usd" in read
    read = {c for parts in yearly.BUYER_YEARLY.values() for c in parts}
    assert {"design_usd", "masks_usd", "fabco_wafers_usd", "bought_usd"} <= read & BUYER_ONLY


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: str(p.relative_to(SRC)))
def test_no_other_module_rolls_the_money_tables_up_by_year(path):
    if path == OWNER:
        return
    text = path.read_text()
    assert yearly_roll_ups(text, FABCO_ONLY) == [], f"use fabnet.core.yearly.fabco_years in {path.name}"
    assert yearly_roll_ups(text, BUYER_ONLY) == [], f"use fabnet.core.yearly.buyer_years in {path.name}"


@pytest.mark.parametrize(
    ("module", "function", "owner"),
    [
        ("cli/network_views.py", "print_finance", "fabco_years"),
        ("cli/network_views.py", "print_finance", "buyer_years"),
        ("report/html.py", "_cash_tables", "fabco_years"),
        ("report/html.py", "_cash_tables", "buyer_years"),
        ("report/figures.py", "cash_flow", "fabco_years"),
        ("report/compare.py", "_compare_cash", "fabco_years"),
        ("report/figures.py", "buyer_costs", "buyer_years"),
    ],
)
def test_the_three_writers_of_old_call_the_owner(module, function, owner):
    tree = ast.parse((SRC / module).read_text())
    body = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == function)
    called = {n.func.attr for n in ast.walk(body) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert owner in called


def test_a_year_sums_its_quarters_by_the_rule():
    """Two quarters of 2025 and one of 2026, by hand: capex = building + tools, operating costs
    = opex + fixed opex + operator fees, grants and credits = grants + ITC."""
    q = pd.DataFrame(
        {
            "quarter": ["2025Q3", "2025Q4", "2026Q1"],
            "year": [2025, 2025, 2026],
            **{c: [0.0, 0.0, 0.0] for c in results.table("fabco_quarterly").names if c not in ("quarter", "year")},
        }
    )
    q["capex_usd"] = [11.0, 22.0, 44.0]  # buildings 1, 2, 4 and tools 10, 20, 40
    q["opex_usd"], q["fixed_opex_usd"], q["operator_fees_usd"] = [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [0.5, 0.5, 0.5]
    q["grants_usd"], q["itc_usd"] = [3.0, 0.0, 0.0], [0.0, 7.0, 0.0]
    years = yearly.fabco_years(q).set_index("year")
    assert list(years.index) == [2025, 2026]
    assert years.loc[2025, "capex_usd"] == 1 + 2 + 10 + 20
    assert years.loc[2026, "capex_usd"] == 4 + 40
    assert years.loc[2025, "operating_costs_usd"] == 2 * (1 + 2 + 0.5)
    assert years.loc[2025, "grants_and_credits_usd"] == 3 + 7
    assert list(years.columns) == list(yearly.FABCO_YEARLY)
