"""A fab's product mix: each product's share of the lots the dataset releases, and the same fab
releasing another mix at the same total rate (the plan check runs a plan's products as the
dataset's, fabnet.check)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from fabnet.fabsim.smt2020 import FabData


def product_shares(fab: FabData) -> dict[str, float]:
    """Each product's share of the lots the dataset releases (its streams' release rates)."""
    rates: dict[str, float] = {}
    for stream in fab.streams:
        part = fab.route_part[stream.route]
        rates[part] = rates.get(part, 0.0) + 1.0 / stream.interval_min
    total = sum(rates.values())
    return {part: rate / total for part, rate in rates.items()}


def with_product_mix(fab: FabData, shares: Mapping[str, float]) -> FabData:
    """The fab releasing `shares` (summing to 1) of its lots per product at its own total rate:
    a product's streams are scaled alike, so its hot lots keep their share of its lots; a
    product at share 0 (or not named) is not released at all."""
    own = product_shares(fab)
    unknown = sorted(set(shares) - set(own))
    if unknown:
        raise ValueError(f"{fab.name} makes no product {', '.join(unknown)}; its products: {', '.join(own)}")
    streams = [
        dataclasses.replace(stream, interval_min=stream.interval_min * own[part] / shares[part])
        for stream in fab.streams
        if shares.get(part := fab.route_part[stream.route], 0.0) > 0
    ]
    return dataclasses.replace(fab, streams=streams)
