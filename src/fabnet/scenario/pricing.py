"""How a price path moves after its given points: a decline per year from a chosen year on.

A scenario's price paths (a node's wafer price, an accelerator's market price, an HBM stack's
price) are one number or a path per year (`schema.YearPath`); each may carry a `PriceDecline`
beside it. The decline is applied here, once, by `declined`; the schema's price accessors
(`Node.wafer_price`, `Product.market_price`, `Hbm.price`) call it, and everything that reads a
price — the planner, finance, the fixed-plan risk model, the report — reads it through them or
through `scenario.prices`, the owner of the price paths.

Rule: price(quarter) = path(quarter) × (1 − per_year)^max(0, year − after). The path gives the
price up to and including the year `after`; each later year is `per_year` lower than the one
before it (every quarter of a year takes that year's price, as the path does).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

from fabnet.core.periods import Quarter


def _not_bool(value: object) -> object:
    # YAML reads `yes`/`true` as a boolean, and pydantic would take it as 1 in a number field
    if isinstance(value, bool):
        raise PydanticCustomError("number", "a number, not true/false")
    return value


class PriceDecline(BaseModel):
    """A price that falls each year after a given year (e.g. a node's wafer price once the node
    is mature, an accelerator's once its successor ships)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    per_year: Annotated[float, BeforeValidator(_not_bool), Field(ge=0, lt=1)] = Field(
        description="Share the price falls each year, compounding (0.03 = 3 % a year)."
    )
    after: Annotated[int, Strict(), Field(ge=1900, le=2300)] = Field(
        description="Last year at the path's price; each later year is per_year lower than the one before."
    )


def decline_factor(decline: PriceDecline | None, periods: list[Quarter]) -> npt.NDArray[np.float64]:
    """(1 − per_year)^max(0, year − after) in each of `periods` (ones without a decline)."""
    if decline is None:
        return np.ones(len(periods))
    years = np.array([q.year for q in periods], dtype=float)
    return np.asarray((1.0 - decline.per_year) ** np.maximum(years - decline.after, 0.0), dtype=np.float64)


def declined(
    path: npt.NDArray[np.float64], decline: PriceDecline | None, periods: list[Quarter]
) -> npt.NDArray[np.float64]:
    """A price path's values in `periods` (`path`, as the scenario gives it) with its decline."""
    return path * decline_factor(decline, periods)
