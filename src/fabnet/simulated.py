"""What the fab simulator tells the network (the pipeline's simulation stage): the tables of a
scenario's `simulation` section, each node's cycle time against load as the planner reads it,
and a load curve fitted to simulations of an SMT2020 fab (`fabnet load-curve`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from fabnet.core import results
from fabnet.core.version import __version__
from fabnet.network.loadcurve import LoadCurve, SimulatedRow, curve_from_rows, load_curve, steady
from fabnet.scenario.schema import Scenario

if TYPE_CHECKING:
    from fabnet.fabsim.smt2020 import FabData


def node_load_curves(scenario: Scenario) -> pd.DataFrame:
    """Each node's cycle time against load: its stored curve scaled to its raw cycle time, and
    the simulated points the curve was fitted to, scaled the same way."""
    frames = []
    for node in scenario.nodes:
        if node.load_curve is None:
            continue
        curve = load_curve(node.load_curve)
        raw = node.cycle_time_days
        loads = np.linspace(0.0, curve.saturation, 60)
        frames.append(
            pd.DataFrame(
                {
                    "node": node.id,
                    "curve": curve.name,
                    "kind": "fitted",
                    "load": loads,
                    "cycle_days": raw * curve.multiplier(loads),
                }
            )
        )
        points = np.array(curve.points)
        frames.append(
            pd.DataFrame(
                {
                    "node": node.id,
                    "curve": curve.name,
                    "kind": "simulated",
                    "load": points[:, 0],
                    "cycle_days": raw * points[:, 1],
                }
            )
        )
    return results.table("load_curves").conform(pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())


def simulation_tables(scenario: Scenario) -> dict[str, pd.DataFrame]:
    from fabnet.fabsim import SimOptions, kpis, load_smt2020, operating_curve, simulate

    ask = scenario.simulation
    if ask is None:
        return {}
    fab = load_smt2020(ask.dataset)
    options = SimOptions(days=ask.days, warmup_days=ask.warmup_days, rule=ask.rule, seed=scenario.seed)
    k = kpis(fab, simulate(fab, options))
    tables = {"sim_lots": k.lots, "sim_families": k.families, "sim_wip": k.wip}
    if ask.curve:
        tables["sim_curve"] = operating_curve(fab, dataclasses.replace(options, initial_wip=False))
    return {name: results.table(name).conform(frame) for name, frame in tables.items()}


@dataclass(frozen=True)
class LoadCurveFit:
    """A load curve fitted to simulations, with the simulated points it was fitted to."""

    curve: LoadCurve
    rows: list[SimulatedRow]  # one per load and seed, as the curve's JSON file keeps them
    table: pd.DataFrame  # the simulated points, whether each was fitted, and the fitted X-factor


def fit_load_curve(
    fab: FabData,
    dataset: str,
    scales: tuple[float, ...],
    seeds: int,
    days: float,
    warmup_days: float,
    progress: Callable[[float, str], None] = lambda day, note: None,
) -> LoadCurveFit:
    """Simulate `fab` from its initial WIP at each release-rate multiple and seed, and fit the
    planner's load curve to the runs that settle; the provenance names the command that
    reproduces it."""
    from fabnet.fabsim import SimOptions, operating_curve

    options = SimOptions(days=days, warmup_days=warmup_days, initial_wip=True)
    table = operating_curve(fab, options, scales, progress, seeds=range(1, seeds + 1))
    rows = table.rename(columns={"release_scale": "load"}).to_dict("records")
    loads = ",".join(f"{s:g}" for s in scales)
    provenance = {
        "dataset": dataset,
        "rule": options.rule,
        "days": days,
        "warmup_days": warmup_days,
        "seeds": seeds,
        "initial_wip": True,
        "fabnet_version": __version__,
        "command": f"fabnet load-curve --dataset {dataset} --loads {loads} --seeds {seeds} "
        f"--days {days:g} --warmup-days {warmup_days:g}",
    }
    curve = curve_from_rows(f"smt2020_{dataset.lower()}", rows, provenance)
    table["fitted"] = steady(rows)
    table["model_x_factor"] = curve.x0 * curve.multiplier(table["release_scale"].clip(upper=0.999))
    return LoadCurveFit(curve, rows, table)
