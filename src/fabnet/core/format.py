"""Numbers as a person reads them, written the same way by the CLI, the report, the dashboard,
the scenario checks and the planner's explanations: one function per kind of number."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: IRRs above this (a year) are shown as "> 100 %": the figure itself says little then.
IRR_SHOWN_UP_TO = 1.0


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def usd(amount: float | None, digits: int | None = None) -> str:
    """$12.35 B, $350 M, $14.8 M, $8,519; negative amounts as -$85.86 B; None or NaN as –.
    `digits`: billions to that many significant digits ($106 B, $68.7 B, $4.61 B for 3)."""
    if _missing(amount):
        return "–"
    assert amount is not None
    size = abs(float(amount))
    sign = "-" if amount < 0 and size >= 0.5 else ""
    if size >= 1e9:
        whole = len(str(int(size / 1e9)))
        decimals = 2 if digits is None else max(digits - whole, 0)
        text = f"${size / 1e9:,.{decimals}f} B"
    elif size >= 1e6:
        text = f"${size / 1e6:,.3g} M" if size < 1e8 else f"${size / 1e6:,.0f} M"
    else:
        text = f"${size:,.0f}"
    return sign + text


def percent(share: float | None, digits: int = 1) -> str:
    """0.1234 → 12.3 %; None or NaN → –."""
    if _missing(share):
        return "–"
    assert share is not None
    shown = round(float(share), digits + 2) + 0.0  # no "-0.0 %" for a rounding speck below zero
    return f"{shown:,.{digits}%}".replace("%", " %")


def irr(rate: float | None) -> str:
    """An annual IRR; above 100 % only "> 100 %" (a tiny call returned many times over), and
    "none" where the flows never change sign."""
    if _missing(rate):
        return "none"
    assert rate is not None
    return "> 100 %" if rate > IRR_SHOWN_UP_TO else percent(rate)


def count(value: float | None) -> str:
    """Whole things (accelerators, wafers): 1,234,567."""
    if _missing(value):
        return "–"
    assert value is not None
    return f"{round(value) + 0:,.0f}"


def points(difference: float | None) -> str:
    """A difference of two shares in percentage points: +1.5 pp."""
    if _missing(difference):
        return "–"
    assert difference is not None
    return f"{difference * 100:+.1f} pp"


def minute(when: object) -> str:
    """A stored time to the minute, as lists and reports show it: 2026-12-02 07:16."""
    return str(when)[:16]


def multiple(value: float | None) -> str:
    """Money back per money in: 1.85×."""
    if _missing(value):
        return "–"
    assert value is not None
    return f"{value:,.2f}×"


def number(value: float | None) -> str:
    """A plain number with four significant digits (or whole with commas from 100 on)."""
    if _missing(value):
        return "–"
    assert value is not None
    return count(value) if abs(value) >= 100 else f"{value + 0.0:,.4g}"


#: A figure read from samples (a quantile, a mean) is shown to this many significant digits:
#: the digits below are noise of the sampling, not knowledge (a demand P50 of 1,000,001).
SAMPLED_DIGITS = 3


def significant(value: float, digits: int = SAMPLED_DIGITS) -> float:
    """The value rounded to `digits` significant digits: 1,000,001 → 1,000,000, 0.012345 → 0.0123."""
    if _missing(value) or value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value)))) + 0.0


@dataclass(frozen=True)
class Scale:
    """One scale for a column of money, so its numbers line up and stay short: "$B" and 1.23."""

    divisor: float
    unit: str
    decimals: int


_SCALES = (Scale(1e9, "$B", 2), Scale(1e6, "$M", 1), Scale(1e3, "$k", 1), Scale(1.0, "$", 0))


def scale_for(amounts: Iterable[float | None]) -> Scale:
    """The scale in which the largest amount of a column reads best ($B from a billion, …)."""
    largest = max((abs(float(a)) for a in amounts if a is not None and not _missing(a)), default=0.0)
    return next((s for s in _SCALES if largest >= s.divisor), _SCALES[-1])


def scaled(amount: float | None, scale: Scale) -> str:
    """An amount in a column's scale, sign first: -1.23 (the heading says "$B")."""
    if _missing(amount):
        return "–"
    assert amount is not None
    shown = round(float(amount) / scale.divisor, scale.decimals) + 0.0  # no "-0.00"
    return f"{shown:,.{scale.decimals}f}"
