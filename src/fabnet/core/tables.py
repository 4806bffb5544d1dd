"""What a stored table and a column are: `Column` (name, type, meaning, label, unit) and
`Table` (its columns in order, and families of columns named when the table is made), and the
errors a frame that does not fit its declaration raises. The declarations themselves are in
core.results (stored tables) and core.figures (named numbers that are no table's column).

Frames are typed `Any`: core imports no pandas (tests/test_layers.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from fabnet.core.errors import FabnetError

#: This module, as messages name it.
WHERE = "src/fabnet/core/results.py"

#: Each declared type as pandas spells it (for typing an empty frame).
PANDAS_DTYPES = {
    "int": "int64",
    "float": "float64",
    "text": "object",
    "bool": "bool",
    "time": "datetime64[ns]",
}


class Undeclared(FabnetError):
    """A table or a column that no declaration in this module names."""


class UndeclaredTable(Undeclared):
    def __init__(self, table: str) -> None:
        super().__init__(f"no table {table!r} is declared: declare it in {WHERE} (TABLES)")


class UndeclaredColumn(Undeclared):
    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"table {table!r} has no column {column!r}: declare it in {WHERE}")


class MissingColumn(FabnetError):
    """A frame that lacks a column its table declares."""

    def __init__(self, table: str, missing: list[str]) -> None:
        super().__init__(f"table {table!r} is missing its declared column(s) {', '.join(missing)} ({WHERE})")


#: How a person reads a number (core.columns writes each so): usd, irr, share, points, count,
#: days, quarters, mm2, per_cm2, multiple, number or text.
UNITS = ("usd", "irr", "share", "points", "count", "days", "quarters", "mm2", "per_cm2", "multiple", "number", "text")


@dataclass(frozen=True)
class Column:
    """One column, declared once: its name (a family's holds `{placeholders}`), its type (a key
    of PANDAS_DTYPES), what it means in one line, and the label and unit (a key of UNITS) the
    CLI, the report and the exports show it with. Without a label or unit core.columns reads
    them from the name (`capex_usd`: "capex", usd); a name declared in several tables carries
    them once."""

    name: str
    dtype: str
    meaning: str
    label: str | None = None
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.dtype not in PANDAS_DTYPES:
            raise ValueError(f"column {self.name!r}: dtype {self.dtype!r} is not one of {', '.join(PANDAS_DTYPES)}")
        if self.unit is not None and self.unit not in UNITS:
            raise ValueError(f"column {self.name!r}: unit {self.unit!r} is not one of {', '.join(UNITS)}")


#: What a family's placeholder stands for: digits for a counter or a year, else any name.
_PLACEHOLDER_PATTERNS = {"n": r"\d+", "year": r"\d{4}"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def _family_pattern(family: str) -> re.Pattern[str]:
    """`irr_{investor}` → a pattern whose named groups are the placeholders."""
    parts = _PLACEHOLDER.split(family)  # literal, placeholder, literal, …
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_PLACEHOLDER_PATTERNS.get(part, '.+')})"
            for i, part in enumerate(parts)
        )
    )


@dataclass(frozen=True)
class Table:
    """A stored table: its columns in order, and the families of columns whose names are
    known only when the table is made (a risk sample's `irr_{investor}`)."""

    name: str
    columns: tuple[Column, ...]
    families: tuple[Column, ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def dtypes(self) -> dict[str, str]:
        """The declared columns' pandas dtypes (families' columns are not known here)."""
        return {c.name: PANDAS_DTYPES[c.dtype] for c in self.columns}

    def column(self, name: str) -> Column | None:
        """The declaration of column `name`: its own, or its family's with the placeholders
        filled in (`delivered_2027`); None when nothing declares it."""
        for declared in self.columns:
            if declared.name == name:
                return declared
        for family in self.families:
            found = _family_pattern(family.name).fullmatch(name)
            if found:
                return Column(name, family.dtype, family.meaning.format(**found.groupdict()))
        return None

    def check(self, frame: Any) -> None:
        """Refuse a frame with a column this table does not declare (UndeclaredColumn)."""
        for name in frame.columns:
            if self.column(str(name)) is None:
                raise UndeclaredColumn(self.name, str(name))

    def conform(self, frame: Any) -> Any:
        """The frame with exactly the declared columns in declared order (a family's after
        them, in the frame's order). A frame without rows may lack columns (a producer with
        nothing to report need not name them) and gets every one with its declared type,
        which an empty column cannot show; a frame with rows must have them all."""
        self.check(frame)
        missing = [name for name in self.names if name not in frame.columns]
        if missing and len(frame):
            raise MissingColumn(self.name, missing)
        order = [*self.names, *(str(c) for c in frame.columns if str(c) not in self.names)]
        if len(frame):
            return frame[order]
        return frame.reindex(columns=order).astype(self.dtypes())


# --- the keys many tables share ---------------------------------------------------------------

RUN_ID = Column("run_id", "int", "the run's id (a result table's rows name their run by it)", "run", "text")
QUARTER = Column("quarter", "text", "quarter, e.g. 2027Q3", "quarter", "text")
YEAR = Column("year", "int", "calendar year", "year", "text")
PRODUCT = Column("product", "text", "product id (scenario `products`)")
NODE = Column("node", "text", "process node id (scenario `nodes`)")
SITE = Column("site", "text", "the fab company's site id (scenario `sites`)")
INVESTOR = Column("investor", "text", "investor id (scenario `funding.investors`)")
SHARE_OF_MARKET = Column(
    "share_of_market", "float", "offtake price as a share of the market wafer price", "share of market", "share"
)
LINE = Column("line", "text", "packaging line id (scenario `packaging`)")
MESSAGE = Column("message", "text", "one sentence: a shortfall, a verdict or why something was not done")
