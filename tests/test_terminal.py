"""Tables at 80 columns (issue 31): too wide, they stack (a figure per row, the things they
list as columns kept whole) instead of parting a row's values into "(continued)" blocks."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from rich.measure import Measurement

from fabnet.cli import terminal

PRICES = [f"{share} %" for share in range(20, 160, 10)]  # fabnet deal's default sweep, 14 prices
FIGURES = ["$ per wafer", "fab company NPV", "fab company IRR", "IRR g42", "IRR softbank", "IRR own stake", "gain"]


@pytest.fixture
def printed(monkeypatch):
    console = Console(width=80, file=io.StringIO(), markup=False, emoji=False, highlight=False)
    monkeypatch.setattr(terminal, "out", console)
    return lambda: console.file.getvalue()


def deal_like() -> terminal.Table:
    """A row per price, a column per figure; each cell names its price and figure ("30/1:$9.99B", as wide as an NPV)
    so that where it lands says whether a price's values stayed together."""
    table = terminal.new_table("price, share of market", *FIGURES, title="The deal")
    for price in PRICES:
        table.add_row(price, *(f"{price[:-2]}/{i}:$9.99B" for i in range(len(FIGURES))))
    return table


def blocks(text: str) -> list[list[str]]:
    """The printed groups: a title line starts each."""
    groups: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("The deal") or line.startswith("Runs"):
            groups.append([])
        elif groups:
            groups[-1].append(line)
    return groups


def heading(group: list[str]) -> str:
    """A group's heading's last line: the one above its rule."""
    rule = next(i for i, line in enumerate(group) if "─" in line)
    return group[rule - 1]


def test_a_table_that_fits_is_printed_as_built(printed):
    table = terminal.new_table("price", "NPV", title="The deal")
    table.add_row("20 %", "$1.00 B")
    terminal.show(table)
    header = next(line for line in printed().splitlines() if "price" in line)
    assert header.split() == ["price", "NPV"]


def test_a_wide_table_turns_to_a_figure_per_row_with_each_price_kept_whole(printed):
    terminal.show(deal_like())
    text = printed()
    assert all(len(line.rstrip()) <= 80 for line in text.splitlines())
    assert "…" not in text
    groups = blocks(text)
    # 14 prices, each a column of 10 characters or less beside labels: several groups, none alone
    assert 2 <= len(groups) < len(PRICES)
    for price in PRICES:
        # every value of a price is in the group whose heading names that price
        [group] = [g for g in groups if f" {price}" in heading(g)]
        body = " ".join(group)
        assert all(f"{price[:-2]}/{i}:$9.99B" in body.split() for i in range(len(FIGURES))), price
    for figure in FIGURES:  # each group repeats the figure labels, one row each
        assert all(sum(figure == line.strip()[: len(figure)] for line in group) >= 1 for group in groups)


def test_runs_side_by_side_stay_together_their_long_overrides_folded(printed):
    override = "--set offtake.share_of_market_price=0.75"
    table = terminal.new_table("input", "run 1", "run 2", "run 3", title="Runs", text_columns=4, figure_rows=True)
    table.add_row("overrides", override, "", override)
    table.add_row("offtake.share_of_market_price", "90.0 %", "60.0 %", "75.0 %")
    terminal.show(table)
    text = printed()
    assert "continued" not in text
    assert all(len(line.rstrip()) <= 80 for line in text.splitlines())
    share = next(line for line in text.splitlines() if "offtake.share_of_market_price " in line)
    assert share.split() == ["offtake.share_of_market_price", "90.0", "%", "60.0", "%", "75.0", "%"]
    # the overrides folded, not cut: between the rule and the next input, run 1's and run 3's
    # pieces, side by side, each whole when put together
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if "─" in line) + 1
    pieces = [line.replace("overrides", "").split() for line in lines[start : lines.index(share)]]
    assert all(len(p) == 2 for p in pieces)
    assert ["".join(p[i] for p in pieces) for i in (0, 1)] == [override.replace(" ", "")] * 2


def test_a_tables_width_is_what_rich_measures_each_column_measured_once(printed):
    """show() sums its columns' widths, each measured once for its cells and caps, where rich
    measures the whole table at every try: the two agree for a table of folded headings, capped
    and squeezed columns and styled cells, and after a column is narrowed again."""
    table = deal_like()
    table.add_column("a\nlong heading", max_width=7)
    table.columns[1].max_width = 9
    table.columns[2].min_width = 25
    wide = terminal.out.options.update(width=10_000)
    assert terminal._width(table) == Measurement.get(terminal.out, wide, table).maximum > 80
    table.columns[1].max_width = 5
    assert terminal._width(table) == Measurement.get(terminal.out, wide, table).maximum
    styled = terminal.new_table("label", "value")
    styled.add_row(terminal.styled(("✓", "green"), " done"), "1,234.5")
    assert terminal._width(styled) == Measurement.get(terminal.out, wide, styled).maximum
