"""Capacity from builds: the one rule from modules started to what they give per quarter.

Fab modules and packaging expansions alike; the plan's tables, the fab company's finance tables
and the fixed-plan risk model use it, and the MILP states the same rule in its rows
(plan.model.effective_capacity).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def capacity_from_builds(
    builds: list[tuple[int, int, float]],
    lead: npt.NDArray[np.int64],
    by_age: Array,
    horizon: int,
    parent: npt.NDArray[np.int64] | None = None,
) -> Array:
    """What the modules built give per site and quarter: Σ over builds (site, quarter started,
    modules) of modules × by_age[site, age], age = t − started − lead[site] ≥ 0. `by_age` is a
    share per age (ramp; ramp × learning; or ones for modules online), times whatever unit the
    caller wants. `lead` is per site, or samples × sites (then by_age may be samples × sites ×
    ages too), giving samples × sites × quarters. The rule from builds to capacity — of fab
    modules and of packaging expansions — that the plan's tables and the fixed-plan risk model
    share (the MILP states the same rule in its rows, model.effective_capacity). With `parent`
    (per site, the site it converts from or −1), a conversion's build also takes a settled
    unit of its parent out from the quarter it starts."""
    lead = np.asarray(lead)
    sites = by_age.shape[-2] if by_age.ndim >= 2 else len(lead)
    shape = (*lead.shape[:-1], sites, horizon)
    out = np.zeros(shape)
    t = np.arange(horizon)
    for site, started, modules in builds:
        age = t - started - lead[..., site, None]  # (S,) × T
        valid = age >= 0
        a = np.clip(age, 0, by_age.shape[-1] - 1).astype(int)
        shares = np.take_along_axis(
            np.broadcast_to(by_age[..., site, :], (*age.shape[:-1], by_age.shape[-1])), a, axis=-1
        )
        out[..., site, :] += np.where(valid, modules * shares, 0.0)
        if parent is not None and parent[site] >= 0:
            # a conversion takes a ramped unit of the site it converts from out of production
            # from its start (plan.capacity.define_conversions allows only ramped ones)
            p = parent[site]
            out[..., p, :] -= np.where(t >= started, modules * by_age[..., p, -1:], 0.0)
    return out


def ramp_by_age(ramp: tuple[float, ...], ages: int) -> Array:
    shares = np.ones(ages)
    shares[: min(len(ramp), ages)] = ramp[:ages]
    return shares
