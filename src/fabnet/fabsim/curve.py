"""Operating curve: the same fab at several release-rate multiples, cycle time against load."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pandas as pd

from fabnet.fabsim.engine import SimOptions, simulate
from fabnet.fabsim.kpis import kpis
from fabnet.fabsim.smt2020 import FabData

DEFAULT_SCALES = (0.5, 0.7, 0.85, 0.95, 1.0, 1.05)


def operating_curve(fab: FabData, options: SimOptions, scales: Sequence[float] = DEFAULT_SCALES,
                    progress: Callable[[float, float], None] | None = None) -> pd.DataFrame:
    """One row per release-rate multiple: throughput, bottleneck utilisation, cycle time and
    X-factor of all lots finished after the warm-up. The initial WIP is left out, so each run
    starts empty and measures the fab at that load alone (use a warm-up)."""
    rows = []
    for scale in scales:
        run = dataclasses.replace(options, release_scale=scale, initial_wip=False)
        result = simulate(fab, run, None if progress is None else (lambda day, s=scale: progress(s, day)))
        k = kpis(fab, result)
        top = k.families.sort_values("utilisation", ascending=False).iloc[0]
        every = k.lots[k.lots["class"] == "all"].iloc[0]
        rows.append({
            "release_scale": scale, "lots_per_day": every["lots_per_day"],
            "bottleneck": top["family"], "bottleneck_utilisation": top["utilisation"],
            "cycle_mean_days": every["cycle_mean_days"], "cycle_p95_days": every["cycle_p95_days"],
            "x_factor": every["x_factor"],
        })
    return pd.DataFrame(rows)
