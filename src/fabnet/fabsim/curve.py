"""Operating curve: the same fab at several release-rate multiples, cycle time against load."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import pandas as pd

from fabnet.fabsim.kpi_tables import Kpis, kpis
from fabnet.fabsim.options import SimOptions, SimResult
from fabnet.fabsim.run import simulate
from fabnet.fabsim.smt2020 import FabData

DEFAULT_SCALES = (0.5, 0.7, 0.85, 0.95, 1.0, 1.05)


def operating_curve(
    fab: FabData,
    options: SimOptions,
    scales: Sequence[float] = DEFAULT_SCALES,
    progress: Callable[[float, str], None] | None = None,
    seeds: Sequence[int] | None = None,
) -> pd.DataFrame:
    """One row per release-rate multiple (and seed): throughput, bottleneck utilisation, cycle
    time and X-factor of all lots finished after the warm-up, and how much the WIP grew over
    the measured days (a fab past saturation never settles). `options.initial_wip` decides
    whether each run starts empty or from the dataset's WIP; either way use a warm-up.
    `progress(days simulated over all runs, note)`."""
    rows: list[dict[str, object]] = []
    for seed in (options.seed,) if seeds is None else seeds:
        for scale in scales:
            run = dataclasses.replace(options, release_scale=scale, seed=seed)
            done = len(rows) * options.days
            result = simulate(
                fab, run, None if progress is None else (lambda day, d=done, s=scale: progress(d + day, f"× {s:g}"))
            )
            rows.append({"release_scale": scale, "seed": seed} | curve_point(fab, result, kpis(fab, result)))
    table = pd.DataFrame(rows)
    return table if seeds is not None else table.drop(columns="seed")


def curve_point(fab: FabData, result: SimResult, k: Kpis) -> dict[str, object]:
    families = k.families.assign(busy=lambda f: f["utilisation"] - f["setup_share"] / f["availability"])
    top = families.sort_values("utilisation", ascending=False).iloc[0]
    every = k.lots[k.lots["class"] == "all"].iloc[0]
    wip = k.wip[k.wip["day"] >= result.options.warmup_days]["lots"]
    return {
        "lots_per_day": every["lots_per_day"],
        "released_per_day": nominal_release_per_day(fab) * result.options.release_scale,
        "bottleneck": top["family"],
        "bottleneck_utilisation": top["utilisation"],
        "bottleneck_busy": families["busy"].max(),
        "cycle_mean_days": every["cycle_mean_days"],
        "cycle_p95_days": every["cycle_p95_days"],
        "x_factor": every["x_factor"],
        "wip_growth_per_day": (wip.iloc[-1] - wip.iloc[0]) / max(k.measured_days, 1e-9) if len(wip) else 0.0,
    }


def nominal_release_per_day(fab: FabData) -> float:
    """Lots the dataset releases per day at release scale 1."""
    return sum(1440.0 / stream.interval_min for stream in fab.streams)
