"""A run's key figures: one object for `fabnet run`, the API, the store and the report.

Each figure by name (`figures["fabco_npv_usd"]` or `figures.fabco_npv_usd`), the investors'
returns as rows (`figures.investors`), and `to_frame()` for a notebook. The store keeps them as one
flat JSON object where an investor's IRR is `irr_<investor>`: that spelling lives here only
(`flat`, `KeyFigures.of`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from fabnet.core import columns

#: How an investor's IRR is spelt among the stored (flat) figures and a risk sample's columns.
IRR_PREFIX = "irr_"
#: The investors' IRRs follow the fab company's equity IRR when the figures are listed.
_INVESTORS_AFTER = "equity_irr"


def investor_irr(investor: str) -> str:
    """The flat name of an investor's IRR (`irr_g42`)."""
    return f"{IRR_PREFIX}{investor}"


@dataclass(frozen=True)
class InvestorReturn:
    """One investor's return: its IRR on what it paid in (None when it was never called)."""

    investor: str
    irr: float | None


@dataclass(frozen=True, eq=False)  # Mapping's ==: equal to any mapping of the same flat figures
class KeyFigures(Mapping[str, Any]):
    """The key figures of a run, in the order a reader meets them: what the network adds, each
    party's result, the deal, the plan check. A Mapping over the flat names (so `dict(figures)`
    is what the store keeps), with the investors' IRRs as rows of their own."""

    by_name: Mapping[str, Any] = field(default_factory=dict)
    investors: tuple[InvestorReturn, ...] = ()

    @classmethod
    def of(cls, figures: Mapping[str, Any]) -> KeyFigures:
        """Key figures from their flat form (a stored run's, or a dict of figures)."""
        if isinstance(figures, KeyFigures):
            return figures
        by_name = {k: v for k, v in figures.items() if not k.startswith(IRR_PREFIX)}
        investors = tuple(
            InvestorReturn(k.removeprefix(IRR_PREFIX), v) for k, v in figures.items() if k.startswith(IRR_PREFIX)
        )
        return cls(by_name, investors)

    def flat(self) -> dict[str, Any]:
        """Every figure by its flat name, the investors' IRRs after the equity IRR."""
        flat: dict[str, Any] = {}
        for name, value in self.by_name.items():
            flat[name] = value
            if name == _INVESTORS_AFTER:
                flat |= self._investor_items()
        return flat | self._investor_items()

    def _investor_items(self) -> dict[str, Any]:
        return {investor_irr(row.investor): row.irr for row in self.investors}

    def irr_of(self, investor: str) -> float | None:
        """An investor's IRR (KeyError naming the investors when it has none here)."""
        for row in self.investors:
            if row.investor == investor:
                return row.irr
        raise KeyError(f"no investor {investor!r} among {', '.join(r.investor for r in self.investors) or 'none'}")

    def __getitem__(self, name: str) -> Any:
        if name in self.by_name:
            return self.by_name[name]
        if name.startswith(IRR_PREFIX):
            return self.irr_of(name.removeprefix(IRR_PREFIX))
        raise KeyError(name)

    def __getattr__(self, name: str) -> Any:
        # only for names the dataclass lacks: each figure reads as an attribute in a notebook
        if name.startswith("_") or name in ("by_name", "investors"):  # unpickling asks before they exist
            raise AttributeError(name)
        try:
            return self.by_name[name]
        except KeyError:
            raise AttributeError(f"no key figure {name!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.flat())

    def __len__(self) -> int:
        return len(self.by_name) + len(self.investors)

    def __or__(self, more: Mapping[str, Any]) -> KeyFigures:
        """These figures and `more` (theirs win), as `dict | dict` reads."""
        return KeyFigures.of(self.flat() | dict(KeyFigures.of(more).flat()))

    def __call__(self) -> KeyFigures:
        """The figures themselves: `decision.figures()`, from when a Decision's figures were a
        method, reads as `decision.figures` does."""
        return self

    def to_frame(self) -> pd.DataFrame:
        """One row per figure, indexed by its name: its label, value and unit (core.columns)."""
        meanings = [columns.meaning(name) for name in self]
        return pd.DataFrame(
            {
                "label": [m.label for m in meanings],
                "value": list(self.flat().values()),
                "unit": [m.unit for m in meanings],
            },
            index=pd.Index(list(self), name="figure"),
        )

    def investors_frame(self) -> pd.DataFrame:
        """The investors' returns, one row each."""
        return pd.DataFrame({"investor": [r.investor for r in self.investors], "irr": [r.irr for r in self.investors]})

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={columns.show(name, value)}" for name, value in list(self.flat().items())[:4])
        return f"KeyFigures({len(self)} figures: {shown}, …)"

    def _repr_html_(self) -> str:
        frame = self.to_frame()
        frame["value"] = [columns.show(name, value) for name, value in self.flat().items()]
        return frame.drop(columns="unit").to_html()
