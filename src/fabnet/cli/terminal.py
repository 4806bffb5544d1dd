"""The terminal kit: the `out` and `err` consoles, styled text, tables that fit the terminal,
progress bars and JSON printing, shared by every command (each command's printers live beside
it in fabnet.cli) so that every number is written the way fabnet.core.columns says it means.

Width: the terminal's, else $COLUMNS, else 80 (rich's rule); a wide table stacks to fit
(`show`): a figure per row, the things it compares as columns, as many as fit side by side.
Sentences are not broken (soft wrap): the terminal wraps them, and a command or a path in one
stays whole for copying. Markup and emoji codes are off: file names, ids and values
a user wrote are printed as they are ("x[/b].yaml", ":warning:"); styles come from Text objects
(`styled`).
"""

from __future__ import annotations

import math
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from fabnet.api import json_text
from fabnet.core import columns
from fabnet.core import format as fmt

if TYPE_CHECKING:
    import pandas as pd
    from rich.progress import Progress


out = Console(markup=False, emoji=False, highlight=False, soft_wrap=True)


err = Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


def styled(*parts: str | tuple[str, str]) -> Text:
    """Text from plain strings and (string, style) pairs, e.g. styled(("✓", "green"), " done")."""
    return Text.assemble(*parts)


def print_json(data: Any) -> None:
    """One JSON document, as fabnet.api.json_text writes it (NaN is null, numpy numbers plain),
    so that --json prints what a Python user gets from the API's result objects."""
    print(json_text(data))


class FigureTable(Table):
    """A table that already has a figure per row and the things it compares (runs, quantiles)
    as columns: too wide, it keeps its rows and groups its columns; any other table (a thing
    per row, its figures as columns) is turned to this shape first."""


def new_table(*columns: str, title: str | None = None, text_columns: int = 1, figure_rows: bool = False) -> Table:
    """A table whose first `text_columns` columns are left-aligned and the rest, numbers, right;
    a long word in a text column (a path, an override) continues on the next line, never cut.
    `figure_rows`: a figure per row, the things compared as columns (see FigureTable)."""
    kind = FigureTable if figure_rows else Table
    table = kind(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    for i, column in enumerate(columns):
        text = i < text_columns
        table.add_column(column, justify="left" if text else "right", overflow="fold" if text else "ellipsis")
    return table


#: Text columns (labels, names) may wrap down to this width; numbers never wrap.
TEXT_WRAP = 30

#: A text column squeezed to let a table fit keeps at least this width (an override folds);
#: the first column, a table's labels, at least LABEL_SQUEEZED.
TEXT_SQUEEZED, LABEL_SQUEEZED = 12, 20


def show(table: Table) -> None:
    """Print a table within the console's width; a number is never cut. A table too wide first
    narrows: headings wrap at spaces, text columns at TEXT_WRAP, then narrower
    (_squeezed_fits). One still too wide stacks: turned to a figure per row (unless it is a
    FigureTable already), its columns (each run, each price) kept whole and printed in groups
    that fit, one under the other, each group repeating the figure labels."""
    if _fits(table) or len(table.columns) <= 2:
        out.print(table, soft_wrap=False)
        return
    for column in table.columns:
        _narrow(column)
    if _fits(table) or _squeezed_fits(table):
        out.print(table, soft_wrap=False)
        return
    stacked = table if isinstance(table, FigureTable) or not table.row_count else _turned(table)
    for part in _groups(stacked):
        out.print(part, soft_wrap=False)


def _fits(table: Table) -> bool:
    return _width(table) <= out.width


def _width(table: Table) -> int:
    """The table's natural width, as rich measures it (its columns' widest cells, each within
    the column's caps, plus its edges and rules), each column measured once for what decides its
    width: narrowing and stacking try many tables of the same columns (20 whole-table measures,
    a tenth of `fabnet simulate --days 0.001`'s CPU, in one table of tool families)."""
    return table._extra_width + sum(_column_width(table, column) for column in table.columns)


_COLUMN_WIDTHS: dict[tuple[object, ...], int] = {}


def _column_width(table: Table, column: Column) -> int:
    key = (str(column.header), *map(str, column.cells), column.max_width, column.min_width, column.width)
    key += (table._get_padding_width(column._index),)
    if key not in _COLUMN_WIDTHS:
        if len(_COLUMN_WIDTHS) > 10_000:  # a long process (the tests) printing many tables
            _COLUMN_WIDTHS.clear()
        _COLUMN_WIDTHS[key] = table._measure_column(out, out.options.update(width=10_000), column).maximum
    return _COLUMN_WIDTHS[key]


def _narrow(column: Column) -> None:
    """Wrap the heading to the column's widest cell (or its longest word); cap a text column."""
    cells = max((cell_len(str(cell)) for cell in column.cells), default=0)
    if column.justify == "left":
        cells = min(cells, TEXT_WRAP)
        column.max_width = max(cells, *(cell_len(w) for w in str(column.header).split()))
    column.header = _wrapped(str(column.header), max(cells, 1))


def _wrapped(text: str, width: int) -> str:
    """Text in lines of whole words of `width` or less (a longer word alone on its line)."""
    glued = " ".join(text.split()).replace(" %", "\u00a0%")  # "10.0 %" stays on one line
    lines = textwrap.wrap(glued, width, break_long_words=False, break_on_hyphens=False)
    return "\n".join(lines).replace("\u00a0", " ")


def _squeezed_fits(table: Table) -> bool:
    """Whether the table fits with its columns wrapped narrower: first the text columns after
    the first (to TEXT_SQUEEZED), then a sentence among the values (a site list, "kumamoto
    (N3), SMT2020 HVLM") at its spaces, a number never, then the first, the labels (to
    LABEL_SQUEEZED); if so they stay so. Runs side by side read better folded than apart."""
    saved = [(column.max_width, column.overflow) for column in table.columns]
    first, rest = table.columns[0], table.columns[1:]
    texts = [c for c in rest if c.justify == "left"]
    values = [c for c in rest if c.justify != "left"]
    if (
        _squeeze(table, texts, [TEXT_SQUEEZED] * len(texts))
        or _squeeze(table, values, [_unbroken(column) for column in values], fold=True)
        or (first.justify == "left" and _squeeze(table, [first], [LABEL_SQUEEZED]))
    ):
        return True
    for column, (width, overflow) in zip(table.columns, saved, strict=True):
        column.max_width, column.overflow = width, overflow
    return False


def _widest(column: Column) -> int:
    """The column's natural width: its widest cell or heading line."""
    return max(cell_len(line) for line in [*map(str, column.cells), *str(column.header).splitlines(), ""])


def _unbroken(column: Column) -> int:
    """The narrowest a value column may be: its widest number ("$111.59 B", "-0.0 pp": two
    words at most) or word, its heading's included, so that only a sentence wraps."""
    cells = [str(cell) for cell in column.cells]
    widest = max((cell_len(c) if len(c.split()) <= 2 else max(map(cell_len, c.split())) for c in cells), default=1)
    return max(widest, *(cell_len(word) for word in str(column.header).split()))


def _squeeze(table: Table, squeezed: list[Column], floors: list[int], fold: bool = False) -> bool:
    """Narrow the columns a character at a time, none below its floor, until the table fits."""
    widths = [column.max_width or _widest(column) for column in squeezed]
    for column in squeezed:
        column.overflow = "fold" if fold else column.overflow
    for cap in range(max(widths, default=0) - 1, min(floors, default=0) - 1, -1):
        for column, width, floor in zip(squeezed, widths, floors, strict=True):
            column.max_width = max(min(width, cap), floor, 1)
        if _fits(table):
            return True
    return False


def _turned(table: Table) -> FigureTable:
    """The table turned a quarter: a row per column (its heading the figure's label), a column
    per row (headed by the row's first cell), the first column's heading in the corner."""
    key, rest = table.columns[0], table.columns[1:]
    turned = FigureTable(title=table.title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    turned.add_column(_wrapped(str(key.header), TEXT_WRAP), overflow="fold", max_width=TEXT_WRAP)
    for cell in key.cells:
        turned.add_column(cell, justify="right", overflow="fold")
    for column in rest:
        turned.add_row(_wrapped(str(column.header), TEXT_WRAP), *column.cells)
    for column in turned.columns:
        _narrow(column)
    return turned


def _groups(table: Table) -> list[Table]:
    """The table as groups of its whole columns, each within the width and led by the first
    (label) column; the groups after the first are titled "(continued)"."""
    key, rest = table.columns[0], table.columns[1:]
    groups: list[list[Column]] = [[]]
    for column in rest:
        if groups[-1] and not _fits(_subtable(table, [key, *groups[-1], column])):
            groups.append([])
        groups[-1].append(column)
    return [_subtable(table, [key, *group], continued=i > 0) for i, group in enumerate(groups)]


def _subtable(table: Table, columns: list[Column], continued: bool = False) -> Table:
    title = str(table.title or "")
    part = Table(
        title=f"{title} (continued)" if continued and title else title or None,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    for column in columns:
        part.add_column(column.header, justify=column.justify, max_width=column.max_width, overflow=column.overflow)
    for row in zip(*(column.cells for column in columns), strict=True):
        part.add_row(*row)
    return part


def print_frame(
    frame: pd.DataFrame,
    title: str,
    text_columns: int = 2,
    names: dict[str, str] | None = None,
    sampled: bool = False,
) -> None:
    """A table of any frame, headed and written as core.columns says each column means (money
    in one scale per column); `names` renames a column's label, its unit stays; `sampled`: the
    numbers are read from samples (columns.show)."""
    print_columns({str(c): frame[c].to_numpy() for c in frame.columns}, title, text_columns, names, sampled)


def print_columns(
    table_columns: dict[str, Any],
    title: str,
    text_columns: int = 2,
    names: dict[str, str] | None = None,
    sampled: bool = False,
) -> None:
    """print_frame for a table as columns (numpy arrays of equal length), without pandas."""
    scales = {
        c: fmt.scale_for(v)
        for c, v in table_columns.items()
        if columns.meaning(c).unit == "usd" and np.asarray(v).dtype.kind in "fi"
    }
    table = new_table(
        *(columns.heading(c, scales.get(c), (names or {}).get(c)) for c in table_columns),
        title=title,
        text_columns=text_columns,
    )
    for row in zip(*table_columns.values(), strict=True):
        table.add_row(
            *(
                _cell(c, _python(v), scales.get(c), sampled and i >= text_columns)  # not a year
                for i, (c, v) in enumerate(zip(table_columns, row, strict=True))
            )
        )
    show(table)


def _python(value: Any) -> Any:
    """A numpy number as the Python number it holds (the formatters test for float)."""
    return value.item() if isinstance(value, np.generic) else value


def _cell(column: str, value: Any, scale: fmt.Scale | None = None, sampled: bool = False) -> str:
    if columns.meaning(column).unit == "number" and isinstance(value, float) and not sampled:
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return columns.show(column, value, scale, sampled)


def figures_table(title: str, figures: Mapping[str, object], who: Mapping[str, str] | None = None) -> Table:
    """Figures and their values; `who` names investors (columns.label)."""
    table = new_table("figure", "value", title=title)
    for key, value in figures.items():
        table.add_row(columns.label(key, who), columns.show(key, value))
    return table


@contextmanager
def day_progress(days: float, label: str) -> Iterator[Callable[[float, str], None]]:
    """A progress bar in simulated days on a terminal; silent otherwise (and rich's progress
    bars not imported: 5 ms of `fabnet simulate`'s start-up)."""
    if not err.is_terminal:
        yield lambda day, note: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} days"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=days)
        yield lambda day, note: bar.update(task, completed=day, description=f"{label} {note}")


class JobProgress:
    """One line on stderr for a long job: the step it is at, then, while it counts samples, a
    bar with their rate and the time left."""

    def __init__(self, bar: Progress, unit: str) -> None:
        self._bar, self._unit = bar, unit
        self._task = bar.add_task("starting…", total=None, rate="")
        self._started = time.perf_counter()

    def step(self, name: str) -> None:
        self._bar.update(self._task, description=f"{name}…", total=None, completed=0, rate="")
        self._started = time.perf_counter()

    def advance(self, done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - self._started, 1e-9)
        self._bar.update(self._task, description=self._unit, total=total, completed=done, rate=f"{rate:.2f}/s")


@contextmanager
def job_progress(unit: str) -> Iterator[JobProgress]:
    """A JobProgress on a terminal; silent otherwise (a pipe or a log file gets the results only)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        yield JobProgress(bar, unit)


@contextmanager
def byte_progress(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar in bytes on a terminal; silent otherwise."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    if not err.is_terminal:
        yield lambda file, done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=err, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda file, done, total: bar.update(task, completed=done, total=total, description=f"{label} {file}")


def dollars(amount: float) -> str:
    """Cents matter in the calculator ($1,234.56); no good die at all is none, not $inf."""
    return f"${amount:,.2f}" if math.isfinite(amount) else "– (no good die)"
