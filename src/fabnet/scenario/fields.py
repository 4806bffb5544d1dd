"""The scenario's building blocks: the bounds every number meets, the field types (a share, an
amount of USD, a quarter, a path over time) and the frozen base model every section derives from.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    Strict,
    StrictBool,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from fabnet.core.periods import Quarter
from fabnet.core.units import MONTHS_PER_QUARTER
from fabnet.scenario.yamltext import odd_underscores

# Every number is finite (see Frozen) and inside a plausible range. The ranges are far wider than
# anything in the industry, so no real scenario meets them, yet narrow enough that no value can
# overflow an array, a float sum or the solver: a bound here is the one rule that a file,
# `--set`, `extends:` and the draws of the uncertainty section all meet.
MAX_USD = 1e13  # any amount of money: TSMC's capex for a year is ~3e10
MAX_UNIT_USD = 1e8  # the price of one wafer, accelerator, HBM stack or package
MAX_UNITS = 1e10  # accelerators or stacks per year or quarter (the world ships millions)
MAX_WAFERS_PER_MONTH = 1e7  # about the world's whole 300 mm capacity
MAX_QUARTERS = 400  # a century: the longest horizon
MAX_COUNT = 1000  # modules, units on a die, layers
MAX_ENTRIES = 500  # entries of one list or one path by quarter or year
MAX_RATIO = 100.0  # a price as a multiple of another, a mark-up, a rate a year
MAX_TEXT = 10_000  # characters of free text


def _not_bool(value: object) -> object:
    # YAML reads `yes`/`true` as a boolean, and pydantic would take it as 1 in a number field.
    if isinstance(value, bool):
        raise PydanticCustomError("number", "a number, not true/false")
    if isinstance(value, str) and odd_underscores(value):  # pydantic, as Python, reads '0_0.095' as 0.095
        raise PydanticCustomError("number", "a number with underscores only between thousands (1_000_000)")
    return value


_PERCENT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*%\s*$")
_DURATION = re.compile(r"^\s*(\d+)\s*(months?|quarters?|years?)\s*$")
_MONTHS = {"month": 1, "quarter": MONTHS_PER_QUARTER, "year": 12}


def _percent(value: object) -> object:
    # a share as a person writes it: "90 %" (or "90%") is 0.9, in a file as on --set
    if isinstance(value, str) and (found := _PERCENT.match(value)):
        return float(found.group(1)) / 100
    return value


def _quarters(value: object) -> object:
    # a duration in words: "36 months", "3 years" or "12 quarters" is 12 quarters
    if isinstance(value, str) and (found := _DURATION.match(value)):
        months = int(found.group(1)) * _MONTHS[found.group(2).removesuffix("s")]
        if months % MONTHS_PER_QUARTER:
            raise PydanticCustomError("quarters", "a whole number of quarters (months in threes)")
        return months // MONTHS_PER_QUARTER
    return value


Number = Annotated[float, BeforeValidator(_not_bool)]
Whole = Annotated[int, Strict()]  # an integer field takes neither true, 2.5, 2.0 nor "2"
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# the word-reading validators come last, so they wrap the bounded number (the JSON Schema keeps
# its bounds) and run first
Share = Annotated[Number, Field(ge=0, le=1), BeforeValidator(_percent)]
PositiveShare = Annotated[Number, Field(gt=0, le=1), BeforeValidator(_percent)]
Ratio = Annotated[Number, Field(ge=0, le=MAX_RATIO), BeforeValidator(_percent)]
PositiveRatio = Annotated[Number, Field(gt=0, le=MAX_RATIO), BeforeValidator(_percent)]
#: A price as a share of a market price: 10× the market is past any deal (90 meant 90 %).
PriceShare = Annotated[Number, Field(gt=0, le=10), BeforeValidator(_percent)]
Usd = Annotated[Number, Field(ge=0, le=MAX_USD)]
PositiveUsd = Annotated[Number, Field(gt=0, le=MAX_USD)]
UnitUsd = Annotated[Number, Field(ge=0, le=MAX_UNIT_USD)]
PositiveUnitUsd = Annotated[Number, Field(gt=0, le=MAX_UNIT_USD)]
Units = Annotated[Number, Field(ge=0, le=MAX_UNITS)]
Wspm = Annotated[Number, Field(ge=0, le=MAX_WAFERS_PER_MONTH)]
PositiveWspm = Annotated[Number, Field(gt=0, le=MAX_WAFERS_PER_MONTH)]
Mm = Annotated[Number, Field(gt=0, le=450)]
MarginMm = Annotated[Number, Field(ge=0, le=50)]
DefectsPerCm2 = Annotated[Number, Field(gt=0, le=100)]
Days = Annotated[Number, Field(ge=0, le=3650)]
PositiveDays = Annotated[Number, Field(gt=0, le=3650)]
AnnualRate = Annotated[Number, Field(ge=0, le=MAX_RATIO)]
Real = Annotated[Number, Field(ge=-MAX_USD, le=MAX_USD)]
Quarters = Annotated[Whole, Field(gt=0, le=MAX_QUARTERS), BeforeValidator(_quarters)]
NonNegativeQuarters = Annotated[Whole, Field(ge=0, le=MAX_QUARTERS), BeforeValidator(_quarters)]
Count = Annotated[Whole, Field(gt=0, le=MAX_COUNT)]
NonNegativeCount = Annotated[Whole, Field(ge=0, le=MAX_COUNT)]
Year = Annotated[int, Field(ge=1900, le=2300)]  # a mapping key: JSON round trips make it text
Flag = StrictBool


def _quarter(value: object) -> Quarter:
    if isinstance(value, Quarter):
        return value
    if isinstance(value, str):
        try:
            return Quarter.parse(value)
        except ValueError:
            pass
    raise PydanticCustomError("quarter", "a quarter like 2025Q3")


# Quarters are written "2025Q3" in files and read back as core Quarter objects.
QuarterField = Annotated[
    Quarter,
    PlainValidator(_quarter, json_schema_input_type=str),
    PlainSerializer(str, return_type=str),
]


def _penalty_rule(value: object) -> str | float:
    if value == "market_price":
        return "market_price"
    if isinstance(value, str):  # YAML 1.1 reads 1.0e8 (no sign in the exponent) as text
        with contextlib.suppress(ValueError):
            value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= MAX_UNIT_USD:
        return float(value)
    raise PydanticCustomError("penalty_rule", f"market_price, or a number of USD from 0 to {MAX_UNIT_USD:.0e}")


PenaltyRule = Annotated[str | float, PlainValidator(_penalty_rule, json_schema_input_type=str | float)]


#: A price that may change over time: one number, or {year: value} interpolated linearly
#: between the years given and held flat beyond them (every quarter of a year takes its value).
YearPath = PositiveUnitUsd | Annotated[dict[Year, PositiveUnitUsd], Field(min_length=1, max_length=MAX_ENTRIES)]
#: A quantity per quarter: one number from the start, or {quarter: value} holding each value
#: from its quarter on (zero before the first).
UnitsPath = Units | Annotated[dict[QuarterField, Units], Field(min_length=1, max_length=MAX_ENTRIES)]
#: Wafers per month by quarter, the same way.
WspmPath = Wspm | Annotated[dict[QuarterField, Wspm], Field(min_length=1, max_length=MAX_ENTRIES)]


def year_path(path: float | dict[int, float], periods: list[Quarter]) -> npt.NDArray[np.float64]:
    """A YearPath's value in each of `periods`."""
    if not isinstance(path, dict):
        return np.full(len(periods), float(path))
    return interpolate(path, np.array([q.year for q in periods], dtype=float), "linear")


def quarter_path(path: float | dict[Quarter, float], periods: list[Quarter]) -> npt.NDArray[np.float64]:
    """A UnitsPath's or WspmPath's value in each of `periods` (a step function, zero before its first quarter)."""
    if not isinstance(path, dict):
        return np.full(len(periods), float(path))
    points = sorted(path.items())
    starts = np.array([q.index for q, _ in points])
    values = np.array([0.0] + [v for _, v in points])
    return values[np.searchsorted(starts, [q.index for q in periods], side="right")]


@dataclass(frozen=True)
class Choices:
    """A text field's values, listed by a registry: read when the JSON Schema or the reference
    is generated (the field's validator reads the registry itself), never frozen at import."""

    names: Callable[[], list[str]]

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {**handler(schema), "enum": self.names()}


class Frozen(BaseModel):
    # inf and nan are numbers to pydantic but never a plausible input to fabnet
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def interpolate(points: dict[int, float], x: npt.NDArray[np.float64], how: str) -> npt.NDArray[np.float64]:
    """Linear or step interpolation through `points`, held flat beyond the first and last."""
    xs = np.array(sorted(points), dtype=float)
    ys = np.array([points[k] for k in sorted(points)], dtype=float)
    if how == "linear":
        return np.asarray(np.interp(x, xs, ys), dtype=np.float64)
    return ys[np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 1)]
