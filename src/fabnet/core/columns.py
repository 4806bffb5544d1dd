"""What every figure and column means: one label and one unit per name, so that the CLI, the
report, the dashboard and the exports call a number the same thing and write it the same way.

A name's label and unit are declared with it (core.results' stored columns, core.figures' other
numbers); where a declaration gives none, the unit follows from the name's suffix (`_usd` money,
`_days` days, `irr` a return, …) and the label is the name in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from fabnet.core import format as fmt
from fabnet.core.figures import FIGURES
from fabnet.core.results import TABLES


@dataclass(frozen=True)
class Meaning:
    label: str
    #: usd, irr, share, points, count, days, quarters, mm2, per_cm2, multiple, number or text
    unit: str


#: Units as a heading shows them (money's scale is chosen per column, see `heading`); shares,
#: IRRs and multiples are written with their unit in each cell.
HEADING_UNITS = {"usd": "$", "days": "days", "quarters": "quarters", "mm2": "mm²", "per_cm2": "per cm²"}

#: What a row of the builds table is (its `kind`), in words, for the terminal and the report.
BUILD_KINDS = {"module": "module", "shell": "shell", "tools": "tool sets", "conversion": "conversion to the node"}

#: Units in words, for an export's headers and its legend.
UNIT_WORDS = {
    "usd": "USD",
    "irr": "annual rate",
    "share": "share, 1 = 100 %",
    "points": "share points",
    "days": "days",
    "quarters": "quarters",
    "mm2": "mm²",
    "per_cm2": "per cm²",
    "multiple": "times",
    "count": "count",
    "number": "",
    "text": "",
}

_SHARE_NAMES = ("utilisation", "on_time", "bottleneck_utilisation", "yield")


@cache
def _declared() -> dict[str, tuple[str | None, str | None]]:
    """Label and unit of every name a declaration gives them (core.results' stored columns,
    core.figures' other numbers); a name declared twice must say the same both times."""
    found: dict[str, tuple[str | None, str | None]] = {}
    stored = [c for t in TABLES.values() for c in (*t.columns, *t.families)]
    for column in (*stored, *FIGURES):
        if column.label is None and column.unit is None:
            continue
        given = (column.label, column.unit)
        if found.setdefault(column.name, given) != given:
            raise ValueError(f"{column.name!r} is declared as {found[column.name]} and as {given}: declare it once")
    return found


def meaning(name: str) -> Meaning:
    """The label and unit of a figure or a column: as declared, or read from its name."""
    label, unit = _declared().get(name, (None, None))
    if label is not None and unit is not None:
        return Meaning(label, unit)
    derived = _from_name(name)
    return Meaning(label or derived.label, unit or derived.unit)


def _from_name(name: str) -> Meaning:
    if name.endswith(("_note", "_text", "_status")):
        return Meaning(_words(name), "text")
    if name.startswith("irr_"):
        return Meaning(f"IRR of investor {name.removeprefix('irr_')}", "irr")
    for suffix, unit in (
        ("_usd", "usd"),
        ("_days", "days"),
        ("_mm2", "mm2"),
        ("_per_cm2", "per_cm2"),
        ("_irr", "irr"),
        ("_share", "share"),
        ("_q", "quarters"),
    ):
        if name.endswith(suffix):
            return Meaning(_words(name.removesuffix(suffix)), unit)
    if name.startswith("share_") or name.endswith(_SHARE_NAMES):
        return Meaning(_words(name), "share")
    if name.endswith(("_wafers", "_accelerators")):
        return Meaning(_words(name), "count")
    return Meaning(_words(name), "number")


def label(name: str, who: Mapping[str, str] | None = None) -> str:
    """A figure's label; `who` (a scenario's funding.shown_names()) names the investor an
    investor's figure is for: "IRR of the buyer's own stake", not "IRR of investor company"."""
    investor = name.removeprefix("irr_")
    if who and name.startswith("irr_") and investor in who and name not in _declared():
        return f"IRR of {who[investor]}"
    return meaning(name).label


def _words(name: str) -> str:
    return name.replace("_", " ")


def heading(name: str, scale: fmt.Scale | None = None, text: str | None = None) -> str:
    """A column heading with its unit: "capex building, $B", "wafer starts"; `text` instead of
    the label. Percentages, IRRs and multiples carry their unit in each cell."""
    m = meaning(name)
    unit = scale.unit if scale is not None and m.unit == "usd" else HEADING_UNITS.get(m.unit, "")
    shown = text or m.label
    return f"{shown}, {unit}" if unit else shown


def export_heading(name: str) -> str:
    """A heading for a spreadsheet: the label and the unit in words, "capex building (USD)"."""
    m = meaning(name)
    unit = UNIT_WORDS.get(m.unit, "")
    return f"{m.label} ({unit})" if unit else m.label


def show(name: str, value: object, scale: fmt.Scale | None = None, sampled: bool = False) -> str:
    """A value as a person reads it: money with core.format (or in a column's scale), IRRs and
    shares in %, counts as whole numbers, text as it is. `sampled`: a figure read from samples
    (a quantile, a mean), shown to fmt.SAMPLED_DIGITS significant digits."""
    if isinstance(value, str):
        return value
    unit = meaning(name).unit
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return fmt.irr(None) if unit == "irr" else "–"
    if abs(value) < 1e-6:  # solver round-off, not a quantity
        value = 0
    if sampled:
        value = fmt.significant(value)
    if unit == "usd":
        if scale is not None:
            return fmt.scaled(value, scale)
        return fmt.usd(value, fmt.SAMPLED_DIGITS if sampled else None)
    if unit == "irr":
        return fmt.irr(value)
    if unit == "share":
        return fmt.percent(value)
    if unit == "points":
        return fmt.points(value)
    if unit == "count":
        return fmt.count(value)
    if unit == "multiple":
        return fmt.multiple(value)
    if unit == "text":
        return str(value)
    return fmt.number(value)


def show_difference(name: str, first: object, second: object, difference: object) -> str:
    """The difference column of a comparison: text as it came, numbers like their figure (an
    IRR's or a share's in percentage points), and none between IRRs above 100 %."""
    if isinstance(difference, str):
        return difference
    unit = meaning(name).unit
    if unit == "irr" and any(isinstance(v, float) and v > fmt.IRR_SHOWN_UP_TO for v in (first, second)):
        return "–"
    if unit in ("irr", "share") and isinstance(difference, int | float):
        return fmt.points(difference)
    text = show(name, difference)
    # a difference says which way, +$1.22 B like +1.5 pp (a fall already has its minus)
    rose = isinstance(difference, int | float) and difference > 0 and text[:1] not in ("-", "–", "")
    return f"+{text}" if rose else text


def show_input(path: str, value: object) -> str:
    """A scenario input's value as a comparison shows it: a number as the unit its field's name
    says (`funding.investors.i.amount_usd`: money), anything else as the scenario writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    leaf = path.rsplit(".", 1)[-1]
    try:
        number = float(str(value))
    except ValueError:  # a path by quarter, a list, a word
        return str(value)
    # a field whose name says no unit (discount_rate) reads as the scenario writes it
    return str(value) if meaning(leaf).unit == "number" else show(leaf, number)
