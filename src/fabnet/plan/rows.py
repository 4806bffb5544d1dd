"""The algebra the planner's rows are written in: variables as expressions, coordinates,
lags along the quarters, and arrays per site, product, offer and quarter (plan.model and
plan.capacity share them)."""

from __future__ import annotations

import weakref
from typing import cast

import linopy
import numpy as np
import numpy.typing as npt
import xarray as xr

from fabnet.network import PlanInputs

#: Each model's variables as expressions, made once: a model's rows ask for the same variable
#: dozens of times, and linopy's fillna costs a tenth of the model's build on each call.
#: Expressions are never changed in place (every operation makes a new one), so sharing is safe.
_TERMS: weakref.WeakKeyDictionary[linopy.Model, dict[str, linopy.LinearExpression]] = weakref.WeakKeyDictionary()


def terms(m: linopy.Model, name: str) -> linopy.LinearExpression:
    """A variable as an expression; masked-out slots count as zero (linopy's legacy rule,
    stated explicitly so that the v1 semantics would give the same model). linopy types
    fillna as Variable | LinearExpression: a numeric fill always gives an expression."""
    made = _TERMS.setdefault(m, {})
    if name not in made:
        made[name] = cast(linopy.LinearExpression, m.variables[name].fillna(0))
    return made[name]


def coord(values: npt.ArrayLike, dim: str) -> xr.DataArray:
    """A dimension's coordinate as a DataArray of its own values."""
    array = np.asarray(values)
    return xr.DataArray(array, dims=dim, coords={dim: array})


def lagged(expr: linopy.LinearExpression, lag: xr.DataArray) -> linopy.LinearExpression:
    """`expr` delayed by `lag` quarters: the result at quarter t holds `expr` at t − lag, and
    nothing where that falls before the horizon. `lag` may vary along expr's dimensions (one
    lead time per site) and may bring new ones (one lag per age), which then broadcast.

    linopy's `shift` takes one lag for the whole expression; a lag per site and age is a
    vectorised `isel` (each quarter picks its source quarter t − lag) and a `where` for the
    quarters before the horizon, linopy's public selection both."""
    quarters = expr.coords["quarter"].values
    source = xr.DataArray(np.arange(len(quarters)), dims="source") - lag.astype(int)
    picked = expr.isel(quarter=source.clip(min=0)).drop_vars("quarter").rename(source="quarter")
    inside = (source >= 0).rename(source="quarter")
    return picked.assign_coords(quarter=quarters).where(inside.assign_coords(quarter=quarters)).fillna(0)


def per_site(x: PlanInputs, values: npt.ArrayLike) -> xr.DataArray:
    return xr.DataArray(np.asarray(values), dims="site", coords={"site": x.sites})


def per_product(x: PlanInputs, values: npt.ArrayLike) -> xr.DataArray:
    return xr.DataArray(np.asarray(values), dims="product", coords={"product": x.products})


def per_offer(x: PlanInputs, values: npt.ArrayLike) -> xr.DataArray:
    return xr.DataArray(np.asarray(values), dims="offer", coords={"offer": x.offers})


def per_quarter(x: PlanInputs, values: npt.ArrayLike, *dims_coords: tuple[str, list[str]]) -> xr.DataArray:
    dims = [d for d, _ in dims_coords] + ["quarter"]
    coords = dict(dims_coords) | {"quarter": range(x.horizon)}
    return xr.DataArray(np.asarray(values), dims=dims, coords=coords)
