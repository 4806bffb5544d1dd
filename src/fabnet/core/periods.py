"""Quarters: the one period of fabnet. `Quarter("2025Q3")` or `Quarter.from_index(i)`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

_PATTERN = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """A calendar quarter. Ordered, hashable, and `q + n` moves n quarters on."""

    year: int
    q: int

    def __post_init__(self) -> None:
        if not 1 <= self.q <= 4:
            raise ValueError(f"quarter number must be 1..4, got {self.q}")

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        if isinstance(text, Quarter):
            return text
        match = _PATTERN.match(str(text))
        if match is None:
            raise ValueError(f"{text!r} is not a quarter like 2025Q3")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        """Inverse of `index`: quarters counted from year 0 Q1."""
        year, q0 = divmod(index, 4)
        return cls(year, q0 + 1)

    @property
    def index(self) -> int:
        return self.year * 4 + self.q - 1

    def __add__(self, quarters: int) -> Quarter:
        return Quarter.from_index(self.index + int(quarters))

    def __sub__(self, other: Quarter) -> int:
        """Quarters from `other` to `self`."""
        return self.index - other.index

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    def __repr__(self) -> str:
        return f"Quarter('{self}')"


def quarter_range(start: Quarter, count: int) -> list[Quarter]:
    return [start + i for i in range(count)]


def split_lag(lag_q: float) -> tuple[int, float]:
    """A delay of `lag_q` quarters (fractional), by the floor-and-split rule: of what enters in
    quarter t, the share 1 − f leaves in t + n and the share f in t + n + 1, where n = ⌊lag_q⌋
    and f = lag_q − n. The planner's die balance and revenue timing, the plan's tables and the
    fixed-plan risk model all move wafers and dies through time with this one rule."""
    whole = int(math.floor(lag_q + 1e-12))
    return whole, max(lag_q - whole, 0.0)


def quarterly_rate(annual_rate: float) -> float:
    """The quarterly rate that compounds to `annual_rate` over four quarters."""
    return float((1.0 + annual_rate) ** 0.25) - 1.0


def discount_factors(annual_rate: float, count: int) -> np.ndarray:
    """Discount factor of quarters 0 … count − 1 from the first (undiscounted): the one time
    value of money of fabnet, for the planner's objective and finance's NPV alike."""
    return (1.0 + quarterly_rate(annual_rate)) ** -np.arange(count)


def delayed(flow: np.ndarray, lag_q: float) -> np.ndarray:
    """`flow` (quarters on the last axis) delayed by `lag_q` quarters (split_lag); what would
    leave after the last quarter is dropped."""
    whole, later = split_lag(lag_q)
    out = np.zeros_like(flow, dtype=float)
    horizon = out.shape[-1]
    for lag, share in ((whole, 1.0 - later), (whole + 1, later)):
        if lag < horizon and share > 0:
            out[..., lag:] += share * np.asarray(flow)[..., : horizon - lag]
    return out
