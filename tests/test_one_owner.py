"""One owner for each money formula of a fab asset (issue 27, item 9): capex schedules, straight-
line depreciation, book value, the investment tax credit's eligibility and capex as building +
tools live in fabnet.scenario.assets and in fabnet.finance.fabco's capital flows (the quarterly
`capex_usd`), and nowhere else. A second copy of any of them makes this test fail."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).parent.parent / "src" / "fabnet"
ASSETS = SRC / "scenario" / "assets.py"

#: formula → (pattern of a copy, the files allowed to hold it: the owner, and where it is declared)
FORMULAS = {
    # amount / life from the quarter in service, or a life in quarters
    "straight-line depreciation": (r"life\.(tools|building)|/\s*\(?\s*4\s*\*\s*life", {ASSETS}),
    # the credit's share of tools capex, and whether construction started by the deadline
    "tax-credit eligibility": (
        r"\.investment_tax_credit\b|\.itc_construction_deadline\b",
        {ASSETS},
    ),
    # capex of a module or a quarter as the sum of its parts
    "capex = building + tools": (
        r"capex_building_usd\W*\]?\s*\+|building\s*\+\s*tools|\.building\s*\+\s*\w*\.tools",
        {ASSETS, SRC / "finance" / "fabco.py"},
    ),
    # a module's cost spread over its lead time
    "capex schedule": (r"math\.ceil\(\s*lead\s*/\s*2\s*\)", {ASSETS}),
}


def copies(pattern: str) -> set[Path]:
    found = set()
    for path in SRC.rglob("*.py"):
        code = "\n".join(line.split("#")[0] for line in path.read_text().splitlines())
        if re.search(pattern, code):
            found.add(path)
    return found


@pytest.mark.parametrize("formula", FORMULAS)
def test_each_money_formula_lives_in_one_place(formula):
    pattern, owners = FORMULAS[formula]
    found = copies(pattern)
    # the owner itself must match, so the pattern cannot pass by matching nothing
    assert found & owners, f"{formula}: the pattern no longer finds its owner"
    assert found <= owners, f"{formula} written again in {sorted(str(p.relative_to(SRC)) for p in found - owners)}"
