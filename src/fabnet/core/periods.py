"""Quarters: the one period of fabnet. `Quarter("2025Q3")` or `Quarter.from_index(i)`."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
