"""The capex a plan implies beyond the fab company's own (issue 27, item 8): the foundry capacity
its wafers come from, and the plan's capex against a capital ambition.

A plan buys wafers from foundry offers, and someone must build the capacity that makes them.
Its capex is the plan's peak wafers per month from each offer times the offer's capital cost per
wafer start per month (scenario `foundry_offers[].capex_per_wspm_usd`; ai-fab-facts.md §4.1:
$0.4–0.6 B per 1 k wspm for a leading-edge fab). It is the industry's capex, not the fab
company's: it enters neither party's cash flows (the buyer pays for it through the wafer price)
and is reported apart. With `funding.ambition_usd` (e.g. the reported $5–7 T, §0), the plan's
capex — the fab company's and the foundry capacity it relies on — is also a share of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from fabnet.core import format as fmt
from fabnet.core import yearly
from fabnet.core.units import MONTHS_PER_QUARTER
from fabnet.scenario.schema import Scenario

#: The columns of `PlanCapex.offers`.
OFFER_COLUMNS = ("offer", "node", "peak_wafers_per_month", "capex_per_wspm_usd", "capex_usd")


@dataclass(frozen=True)
class PlanCapex:
    """The fab company's capex (nominal, as spent), the industry's capex behind the foundry
    wafers the plan uses, and the ambition they are measured against."""

    offers: pd.DataFrame  # OFFER_COLUMNS, one row per offer that states a capex per wspm
    fabco_capex_usd: float
    industry_capex_usd: float | None  # None when no offer states a capex per wspm
    ambition_usd: float | None  # scenario funding.ambition_usd

    @property
    def plan_capex_usd(self) -> float:
        """The fab company's capex and the foundry capacity the plan relies on."""
        return self.fabco_capex_usd + (self.industry_capex_usd or 0.0)

    @property
    def share_of_ambition(self) -> float | None:
        return None if self.ambition_usd is None else self.plan_capex_usd / self.ambition_usd

    def figures(self) -> dict[str, object]:
        """Key figures (labelled in core.columns): the industry's capex when any offer states
        one; the plan's capex against the ambition when the scenario gives one."""
        figures: dict[str, object] = {}
        if self.industry_capex_usd is not None:
            figures["industry_capex_usd"] = self.industry_capex_usd
        if self.ambition_usd is not None:
            figures |= {
                "plan_capex_usd": self.plan_capex_usd,
                "ambition_usd": self.ambition_usd,
                "plan_capex_share_of_ambition": self.share_of_ambition,
            }
        return figures

    def sentence(self) -> str | None:
        """What share of the ambition the plan's capex is, in words; None without an ambition."""
        share = self.share_of_ambition
        if self.ambition_usd is None or share is None:
            return None
        parts = f"the fab company's {fmt.usd(self.fabco_capex_usd)}"
        if self.industry_capex_usd is not None:
            parts += f" and the foundry capacity it relies on {fmt.usd(self.industry_capex_usd)}"
        return (
            f"The plan's capex ({parts}) is {fmt.usd(self.plan_capex_usd)}: "
            f"{fmt.percent(share, 2 if share < 0.01 else 1)} of the {fmt.usd(self.ambition_usd)} ambition."
        )


def foundry_capex(scenario: Scenario, foundry: pd.DataFrame) -> pd.DataFrame:
    """Per foundry offer that states a capex per wspm: the plan's peak wafers per month from it
    (its busiest quarter's wafers used ÷ 3) and the capex of that much capacity. `foundry` is a
    plan's foundry table (offer, quarter, used: wafers per quarter)."""
    rows = []
    for offer_id, offer in zip(scenario.offer_ids(), scenario.foundry_offers, strict=True):
        if offer.capex_per_wspm_usd is None:
            continue
        used = foundry.loc[foundry["offer"] == offer_id, "used"] if len(foundry) else pd.Series(dtype=float)
        peak = max(float(used.max()), 0.0) / MONTHS_PER_QUARTER if len(used) else 0.0
        rows.append((offer_id, offer.node, peak, offer.capex_per_wspm_usd, peak * offer.capex_per_wspm_usd))
    return pd.DataFrame(rows, columns=list(OFFER_COLUMNS))


def plan_capex(scenario: Scenario, foundry: pd.DataFrame, fabco_quarterly: pd.DataFrame) -> PlanCapex:
    """A plan's capex: the fab company's (its quarterly table's capex, summed as core.yearly
    sums a year), the foundry capacity it relies on, and the scenario's ambition."""
    offers = foundry_capex(scenario, foundry)
    fabco = float(yearly.fabco_years(fabco_quarterly)["capex_usd"].sum()) if len(fabco_quarterly) else 0.0
    stated = any(offer.capex_per_wspm_usd is not None for offer in scenario.foundry_offers)
    return PlanCapex(
        offers,
        fabco,
        float(offers["capex_usd"].sum()) if stated else None,
        scenario.funding.ambition_usd,
    )
