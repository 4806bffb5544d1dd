"""The report's first screen: the verdict in a sentence or two (what the network adds, for whom,
at what deal) and the headline figures, each with its P10–P90 band where the run holds a sweep.

The deal's sentence is the one `fabnet run` prints (finance.deal's verdict, stored with the
run); every number is written by core.columns, as the terminal writes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from fabnet.core import columns
from fabnet.store import StoredRun

#: The headline figures, in the order the first screen lists them; an investor's IRR
#: (`irr_<investor>`) follows the fab company's.
HEADLINE = (
    "network_adds_accelerators",
    "network_adds_buyer_gain_usd",
    "network_adds_system_value_usd",
    "fabco_npv_usd",
    "fabco_irr",
    "deal_low_share_of_market",
    "deal_high_share_of_market",
)
#: A figure's spread across a sweep's samples is read from these quantiles.
BAND = (0.1, 0.9)
NPV = "fabco_npv_usd"


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: str
    band: str  # "P10–P90: a to b" across the run's samples, or "" without a sweep


def verdict(run: StoredRun) -> list[str]:
    """One or two sentences: what the network adds and to whom (from the run's decision
    figures), then the deal's verdict exactly as the terminal prints it. A run without the
    foundry-route comparison says only what it has."""
    sentences = []
    figures = run.figures
    value = figures.get("network_adds_system_value_usd")
    if all(_number(figures.get(k)) for k in HEADLINE[:4]) and isinstance(value, int | float):
        shown = {k: columns.show(k, figures[k]) for k in HEADLINE[:4]}
        worth = (
            f"is worth {shown['network_adds_system_value_usd']} to buyer and fab company together"
            if value >= 0
            else f"leaves buyer and fab company together {columns.show(HEADLINE[2], -value)} worse off"
        )
        sentences.append(
            f"Against the foundry route, the network adds {shown['network_adds_accelerators']} accelerators "
            f"and {worth}: {shown['network_adds_buyer_gain_usd']} to the buyer (present value) and an NPV "
            f"of {shown['fabco_npv_usd']} to the fab company."
        )
    deal = deal_sentence(run)
    if deal:
        sentences.append(deal)
    return sentences or _sweep_sentence(run)


def _sweep_sentence(run: StoredRun) -> list[str]:
    """A sweep's verdict, for a run without the foundry route: the spread of the fab company's
    NPV across the samples and the chance it is below zero."""
    samples = run.tables.get("risk_samples")
    if samples is None or samples.empty or NPV not in samples:
        return []
    npv = samples[NPV].astype(float)
    low, high = (columns.show(NPV, float(npv.quantile(q))) for q in BAND)
    below = columns.show("p_npv_below_zero", float((npv < 0).mean()))
    return [
        f"Across {len(npv):,} samples of the scenario's uncertain inputs, the fab company's NPV runs "
        f"from {low} (P10) to {high} (P90); the chance it is below zero is {below}."
    ]


def deal_sentence(run: StoredRun) -> str:
    """The deal's verdict as stored with the run (finance.deal made it; `fabnet run` prints it)."""
    bounds = run.tables.get("deal_range")
    if bounds is None or bounds.empty or "verdict" not in bounds:
        return ""
    return str(bounds["verdict"].iloc[0])


def headline(run: StoredRun) -> list[Headline]:
    """The headline figures the run has, each with its band across the run's samples if any."""
    figures = run.figures
    investors = [k for k in figures if k.startswith("irr_")]
    keys = [*HEADLINE[:5], *investors, *HEADLINE[5:]]
    samples = run.tables.get("risk_samples")
    return [
        Headline(key, columns.label(key), columns.show(key, figures[key]), _band(key, samples))
        for key in keys
        if key in figures
    ]


def _band(key: str, samples: pd.DataFrame | None) -> str:
    """P10–P90 of the figure across a sweep's samples, when they hold it (its NPV, an
    investor's IRR); "" otherwise."""
    if samples is None or key not in samples or samples[key].dropna().empty:
        return ""
    low, high = (float(samples[key].quantile(q)) for q in BAND)
    return f"P10–P90: {columns.show(key, low)} to {columns.show(key, high)}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
