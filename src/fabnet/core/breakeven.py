"""A break-even in words, as the terminal and the report say it: the value of one input at which
a headline figure reaches its target, or that it does not in the range searched. Read from
anything with the fields of risk.sensitivity.BreakEven (the result, or its stored row)."""

from __future__ import annotations

import math
from typing import Protocol

from fabnet.core import columns


class BreakEvenLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def how(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def target(self) -> float: ...
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...
    @property
    def at(self) -> float | None: ...
    @property
    def at_low(self) -> float: ...
    @property
    def at_high(self) -> float: ...


def break_even_sentence(found: BreakEvenLike) -> str:
    """The break-even in words: where the figure reaches its target, or that it does not (`at`
    None, or NaN as a store keeps it)."""
    field = next((p for p in reversed(found.path.split(".")) if not p.isdigit()), found.path)

    def setting(value: float) -> str:  # a factor on the scenario's values, or the value itself
        return f"×{value:,.3f}" if found.how == "multiply" else columns.show(field, value)

    what = f"{columns.label(found.key)} reaches {columns.show(found.key, found.target)}"
    if found.at is None or math.isnan(found.at):
        return (
            f"Break-even: {what} nowhere with {found.path} between {setting(found.low)} "
            f"({columns.show(found.key, found.at_low)}) and {setting(found.high)} "
            f"({columns.show(found.key, found.at_high)})."
        )
    of = " the scenario's" if found.how == "multiply" else ""
    return (
        f"Break-even: {what} at {found.path} {setting(found.at)}{of} "
        f"(searched {setting(found.low)} to {setting(found.high)})."
    )
