"""Load-dependent cycle time: a fab's cycle time grows with its load, and the planner sees it
through a clearing function.

The load curve is the fab simulator's operating curve made portable. With u = wafer starts /
nominal capacity (the SMT2020 release rate of the dataset at scale 1 is u = 1), the cycle time
relative to the unloaded one is

    m(u) = CT(u) / CT(0) = 1 + a · u^p / (1 − u)

(Kingman's u/(1 − u) growth; the power p keeps it flat at low load, where a fab's cycle time
is mostly process and batching time). A node's cycle time is its raw cycle time (mask layers ×
days per layer, read as the unloaded cycle time) × m(u). The fitted curves are stored in
`fabnet/data/load_curves/` with the simulated points and how they were made (`fabnet
load-curve` makes them), so neither the planner nor the main job needs the SMT2020 data.

The clearing function (Karmarkar 1989; Asmundsson, Rardin and Uzsoy 2006) turns the curve
into linear rows. Wafers started at a fab first wait in a queue, then take the unloaded cycle
time. Per quarter, with W = queue at the end of the last quarter + wafers started now and C
the capacity:

    cleared ≤ slope_k · W + intercept_k · C      for every segment k

In steady state at load u the queue holds u·C·T·(m(u) − 1) wafers (Little's law, T = unloaded
cycle time in quarters), so W = u·C·(1 + T(m(u) − 1)) and the segments are the chords of
u against W/C at the breakpoints below: an inner, concave, piecewise-linear approximation that
never clears more than the curve's saturation share of the capacity (what the simulated fab
put out when overloaded: SMT2020 HVLM saturates a few per cent below its nominal release).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypedDict

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

CURVES_DIR = Path(__file__).resolve().parent.parent / "data" / "load_curves"

#: Loads at which the clearing function meets the curve, dense where it bends; those at or
#: above the curve's saturation are replaced by the saturation, the most a fab clears. Six are
#: enough: ten (0.3 … 0.975) made the root LP of 100 sites × 6 nodes × 80 quarters take 23 s
#: instead of 15 s, for chords that moved the steady queue by under 1 % of the throughput.
BREAKPOINTS = (0.5, 0.75, 0.85, 0.9, 0.94, 0.96)

#: Powers p tried by the fit (a is then a linear least-squares fit).
POWERS = np.round(np.arange(1.0, 16.0001, 0.05), 2)

#: A simulated point is steady, and fit for the curve, when its WIP grew by less than this
#: share of a day's releases per day over the measured days (past saturation it never settles).
STEADY_WIP_GROWTH = 0.01


class SimulatedRow(TypedDict):
    """One simulated run of the operating curve (fabsim.operating_curve, release_scale named
    load), as the fit reads it; a row carries more columns (seed, bottleneck, ...)."""

    load: float
    x_factor: float
    released_per_day: float
    lots_per_day: float
    wip_growth_per_day: float


@dataclass(frozen=True)
class LoadCurve:
    """m(u) = 1 + a·u^p/(1 − u); x0 is the fab's X-factor at no load (cycle time over raw
    process time), kept to turn simulated X-factors into multipliers."""

    name: str
    a: float
    p: float
    x0: float
    saturation: float  # the most the fab puts out, share of nominal
    points: tuple[tuple[float, float], ...] = ()  # (load, multiplier) the fit used
    provenance: dict[str, object] = field(default_factory=dict, compare=False)

    def multiplier(self, load: float | Array) -> float | Array:
        u = np.clip(np.asarray(load, dtype=float), 0.0, None)
        with np.errstate(divide="ignore"):
            value = np.where(u < 1.0, 1.0 + self.a * u**self.p / np.maximum(1.0 - u, 1e-300), np.inf)
        return float(value) if value.ndim == 0 else value


def fit_load_curve(load: Array, x_factor: Array) -> tuple[float, float, float]:
    """(x0, a, p) minimising the squared error of x0·m(u) against simulated X-factors, over
    the grid POWERS for p and by linear least squares for x0 and x0·a (a ≥ 0)."""
    u, x = np.asarray(load, float), np.asarray(x_factor, float)
    if u.size < 3 or np.any(u <= 0) or np.any(u >= 1):
        raise ValueError("fit_load_curve needs at least 3 points with loads strictly between 0 and 1")
    best: tuple[float, float, float, float] | None = None
    for p in POWERS:
        g = u**p / (1.0 - u)
        design = np.column_stack([np.ones_like(g), g])
        (x0, b), *_ = np.linalg.lstsq(design, x, rcond=None)
        if b < 0 or x0 <= 0:
            x0, b = float(x.mean()), 0.0
        error = float(((x0 + b * g - x) ** 2).sum())
        if best is None or error < best[0] - 1e-15:
            best = (error, float(x0), float(b / x0), float(p))
    assert best is not None
    return best[1], best[2], best[3]


def steady(rows: list[SimulatedRow]) -> list[bool]:
    """Which simulated rows (load, released_per_day, wip_growth_per_day) settled, below load 1."""
    return [
        float(r["load"]) < 1.0 and float(r["wip_growth_per_day"]) < STEADY_WIP_GROWTH * float(r["released_per_day"])
        for r in rows
    ]


def curve_from_rows(name: str, rows: list[SimulatedRow], provenance: dict[str, object] | None = None) -> LoadCurve:
    """Fit the steady rows (each with load and x_factor); see `steady`."""
    settled = steady(rows)
    used = [r for r, ok in zip(rows, settled, strict=True) if ok]
    load = np.array([float(r["load"]) for r in used])
    x_factor = np.array([float(r["x_factor"]) for r in used])
    x0, a, p = fit_load_curve(load, x_factor)
    return LoadCurve(name, a, p, x0, saturation(rows, settled), fitted_points(rows, x0), provenance or {})


def fitted_points(rows: list[SimulatedRow], x0: float) -> tuple[tuple[float, float], ...]:
    """(load, multiplier) of the steady rows."""
    return tuple((float(r["load"]), float(r["x_factor"]) / x0) for r, ok in zip(rows, steady(rows), strict=True) if ok)


def saturation(rows: list[SimulatedRow], settled: list[bool]) -> float:
    """The most the fab puts out, as a share of its nominal release: the mean output of the
    runs that never settled, else the highest settled load."""
    over = [
        float(r["lots_per_day"]) / float(r["released_per_day"]) * float(r["load"])
        for r, ok in zip(rows, settled, strict=True)
        if not ok
    ]
    return float(np.mean(over)) if over else max(float(r["load"]) for r in rows)


def curve_names() -> list[str]:
    return sorted(path.stem for path in CURVES_DIR.glob("*.json"))


@cache
def load_curve(name: str) -> LoadCurve:
    """A stored load curve by name (a file in fabnet/data/load_curves/)."""
    path = CURVES_DIR / f"{name}.json"
    if not path.exists():
        raise KeyError(f"no stored load curve {name!r}; stored: {', '.join(curve_names()) or 'none'}")
    data = json.loads(path.read_text())
    fit = data["fit"]
    return LoadCurve(
        name,
        fit["a"],
        fit["p"],
        fit["x0"],
        fit["saturation"],
        fitted_points(data["points"], fit["x0"]),
        data.get("provenance", {}),
    )


def save_curve(curve: LoadCurve, rows: list[SimulatedRow], path: Path) -> None:
    """Write a curve with the simulated rows it was fitted to (each with load and x_factor)."""
    document = {
        "fit": {
            "x0": curve.x0,
            "a": curve.a,
            "p": curve.p,
            "saturation": curve.saturation,
            "form": "x_factor = x0 * (1 + a * load**p / (1 - load)), load < saturation",
        },
        "provenance": curve.provenance,
        "points": rows,
    }
    path.write_text(json.dumps(document, indent=1, default=float) + "\n")


@dataclass(frozen=True)
class ClearingFunction:
    """cleared ≤ slopes[k]·W + intercepts[k]·C for every k (W: wafers available, C: capacity)."""

    slopes: Array
    intercepts: Array

    def cleared(self, available: float | Array, capacity: float | Array = 1.0) -> float | Array:
        """The most the rows let through (broadcasts): the planner's rule, for the fixed-plan
        risk model, tests and reports."""
        w = np.asarray(available, dtype=float)[..., None]
        value = np.min(self.slopes * w + self.intercepts * np.asarray(capacity, dtype=float)[..., None], axis=-1)
        return float(value) if value.ndim == 0 else value


def clearing_function(
    curve: LoadCurve, unloaded_cycle_q: float, loads: tuple[float, ...] = BREAKPOINTS
) -> ClearingFunction:
    """The chords of the steady-state curve (W/C against u) through the origin and `loads`
    (those below the curve's saturation, then the saturation), then flat at the last."""
    # a breakpoint a hair below the saturation would make a chord of rounding error
    u = np.array([0.0, *(v for v in loads if v < curve.saturation - 1e-3), curve.saturation])
    w = np.asarray(steady_available(curve, unloaded_cycle_q, u))
    slopes = np.diff(u) / np.diff(w)
    intercepts = u[:-1] - slopes * w[:-1]
    return ClearingFunction(np.append(slopes, 0.0), np.append(intercepts, u[-1]))


def steady_available(curve: LoadCurve, unloaded_cycle_q: float, load: float | Array) -> float | Array:
    """W/C a fab at `load` holds in steady state (queue + one quarter's starts)."""
    u = np.asarray(load, dtype=float)
    return u * (1.0 + unloaded_cycle_q * (np.asarray(curve.multiplier(u)) - 1.0))
