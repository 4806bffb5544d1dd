"""Gross dies per wafer. Lengths in mm; every function broadcasts over numpy arrays.

Three ways to count, all sourced in ai-fab-facts.md §3.3:
- `dies_per_wafer_standard`: π·d²/(4S) − π·d/√(2S) on the usable diameter d = wafer − 2·edge and
  the stepping pitch S = (W + scribe)(H + scribe) (Hennessy & Patterson; calculator.academy).
- `dies_per_wafer_flynn`: π·(d − √S)²/(4S) (Flynn 1995, p. 89).
- `dies_per_wafer_exact`: whole pitch cells inside the usable circle on the stepping grid,
  at the best grid offset found (the default for products).

The closed forms return real numbers (the sources quote them unrounded); take the floor for a
count. The exact count is an integer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ArrayLike = float | npt.NDArray[np.float64]

#: Grid offsets tried per axis by the exact count (over one pitch; 0 and half a pitch included).
OFFSET_STEPS = 64


def usable_diameter(wafer_mm: ArrayLike, edge_mm: ArrayLike) -> ArrayLike:
    return np.asarray(wafer_mm, float) - 2.0 * np.asarray(edge_mm, float)


def pitch_area_mm2(die_w_mm: ArrayLike, die_h_mm: ArrayLike, scribe_mm: ArrayLike) -> ArrayLike:
    return (np.asarray(die_w_mm, float) + scribe_mm) * (np.asarray(die_h_mm, float) + scribe_mm)


def dies_per_wafer_standard(
    wafer_mm: ArrayLike,
    die_w_mm: ArrayLike,
    die_h_mm: ArrayLike,
    edge_mm: ArrayLike = 0.0,
    scribe_mm: ArrayLike = 0.0,
) -> ArrayLike:
    d = usable_diameter(wafer_mm, edge_mm)
    s = pitch_area_mm2(die_w_mm, die_h_mm, scribe_mm)
    return np.maximum(np.pi * d * d / (4.0 * s) - np.pi * d / np.sqrt(2.0 * s), 0.0)


def dies_per_wafer_flynn(
    wafer_mm: ArrayLike,
    die_w_mm: ArrayLike,
    die_h_mm: ArrayLike,
    edge_mm: ArrayLike = 0.0,
    scribe_mm: ArrayLike = 0.0,
) -> ArrayLike:
    d = usable_diameter(wafer_mm, edge_mm)
    s = pitch_area_mm2(die_w_mm, die_h_mm, scribe_mm)
    return np.where(d > np.sqrt(s), np.pi * (d - np.sqrt(s)) ** 2 / (4.0 * s), 0.0)


def area_bound(
    wafer_mm: float, die_w_mm: float, die_h_mm: float, edge_mm: float = 0.0, scribe_mm: float = 0.0
) -> float:
    """No count can beat the usable area divided by the pitch area."""
    d = float(usable_diameter(wafer_mm, edge_mm))
    return np.pi * d * d / 4.0 / float(pitch_area_mm2(die_w_mm, die_h_mm, scribe_mm))


def dies_on_grid(
    wafer_mm: float,
    die_w_mm: float,
    die_h_mm: float,
    edge_mm: float = 0.0,
    scribe_mm: float = 0.0,
    offset_x_mm: ArrayLike = 0.0,
    offset_y_mm: ArrayLike = 0.0,
) -> npt.NDArray[np.int64]:
    """Whole pitch cells inside the usable circle when the grid has a cell corner at
    (offset_x, offset_y) from the wafer centre. Offsets broadcast against each other."""
    radius = float(usable_diameter(wafer_mm, edge_mm)) / 2.0
    px, py = die_w_mm + scribe_mm, die_h_mm + scribe_mm
    ox = np.atleast_1d(np.asarray(offset_x_mm, float))
    oy = np.atleast_1d(np.asarray(offset_y_mm, float))
    ox, oy = np.broadcast_arrays(ox, oy)
    # Columns of cells [x, x + px] that lie within [-R, R]; the cell corner farthest from the
    # centre decides how tall the column may be: |y| <= sqrt(R² - max(|x|, |x+px|)²).
    k = np.arange(np.floor(-radius / px) - 1, np.ceil(radius / px) + 1)
    left = ox[..., None] + k * px
    far_x = np.maximum(np.abs(left), np.abs(left + px))
    half = np.sqrt(np.clip(radius * radius - far_x * far_x, 0.0, None))
    rows = np.floor((half - oy[..., None]) / py) - np.ceil((-half - oy[..., None]) / py)
    rows = np.where(far_x <= radius, np.clip(rows, 0, None), 0)
    return rows.sum(axis=-1).astype(np.int64)


def dies_per_wafer_exact(
    wafer_mm: float,
    die_w_mm: float,
    die_h_mm: float,
    edge_mm: float = 0.0,
    scribe_mm: float = 0.0,
    steps: int = OFFSET_STEPS,
) -> int:
    """The most whole dies over a `steps` × `steps` grid of offsets spanning one pitch."""
    fractions = np.arange(steps) / steps
    ox = fractions[:, None] * (die_w_mm + scribe_mm)
    oy = fractions[None, :] * (die_h_mm + scribe_mm)
    return int(dies_on_grid(wafer_mm, die_w_mm, die_h_mm, edge_mm, scribe_mm, ox, oy).max())


def gross_dies(
    wafer_mm: float,
    die_w_mm: float,
    die_h_mm: float,
    edge_mm: float = 0.0,
    scribe_mm: float = 0.0,
    formula: str = "exact",
) -> int:
    """Whole gross dies by the chosen formula ("standard", "flynn" or "exact")."""
    if formula == "exact":
        return dies_per_wafer_exact(wafer_mm, die_w_mm, die_h_mm, edge_mm, scribe_mm)
    if formula not in DPW_FORMULAS:
        raise ValueError(f"unknown dies-per-wafer formula {formula!r}; use {', '.join(DPW_FORMULAS)}")
    closed_form = dies_per_wafer_standard if formula == "standard" else dies_per_wafer_flynn
    return int(np.floor(closed_form(wafer_mm, die_w_mm, die_h_mm, edge_mm, scribe_mm)))


DPW_FORMULAS = ("exact", "standard", "flynn")
