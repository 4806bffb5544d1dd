"""What a sweep says: quantiles, the chance of meeting demand, shortfall, the downside of the fab
company's NPV (the chance it is below zero, the mean of its worst tenth), and which inputs move
that NPV most (rank correlation, for the tornado chart) — of the inputs that touch the plan the
sweep holds (`touches_plan`: a site it never builds, or an operator of none of its sites, moves
nothing)."""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import numpy.typing as npt
import pandas as pd
from numpy.typing import ArrayLike

from fabnet.core import results
from fabnet.core.figures import P_MEET_SERVED
from fabnet.core.stats import expected_shortfall
from fabnet.core.units import SERVED_SHARE
from fabnet.scenario.paths import PathError, parse_path
from fabnet.scenario.reference import path_words
from fabnet.scenario.schema import Scenario

QUANTILES = (0.1, 0.5, 0.9)
#: The tornado table: the input in words, its path, and how it moves the NPV.
TORNADO_COLUMNS = ["input", "path", "rank_correlation_with_npv"]


def served(delivered: ArrayLike, demand: ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether each year's deliveries reach SERVED_SHARE of its demand (a year without demand is served)."""
    return np.asarray(delivered) >= SERVED_SHARE * np.asarray(demand) - 1e-6


def built_sites(builds: pd.DataFrame) -> frozenset[str]:
    """The sites a plan's builds table (Plan.builds) builds at least one module at."""
    return frozenset(str(site) for site in builds.loc[builds["modules"] > 0, "site"])


def touches_plan(scenario: Scenario, path: str, built: Collection[str] | None) -> bool:
    """Whether an uncertain input at `path` can move the outcomes of a plan that builds the sites
    `built` (None: a plan made anew per sample, which any input may move): not an input of a
    site it never builds (`sites.<id>…`, `sites[<i>]…`), nor of an operator none of its sites has."""
    if built is None:
        return True
    try:
        segments = parse_path(path)
    except PathError:
        return True
    if len(segments) < 2 or segments[0] not in ("sites", "operators"):
        return True
    entries = scenario.sites if segments[0] == "sites" else scenario.operators
    key = segments[1]
    if isinstance(key, int):
        if not 0 <= key < len(entries):
            return True
        key = str(entries[key].id)
    if segments[0] == "sites":
        return key in built
    return any(site.operator == key for site in scenario.sites if site.id in built)


def summarise(
    scenario: Scenario, samples: pd.DataFrame, built: Collection[str] | None = None
) -> dict[str, pd.DataFrame]:
    """The sweep's summary; the tornado lists only the inputs that touch the plan building the
    sites `built` (None: every input, as for a sweep that plans each sample anew)."""
    years = sorted(int(c.split("_")[1]) for c in samples.columns if c.startswith("delivered_"))
    npv = samples["fabco_npv_usd"]
    columns = {"fabco_npv_usd": npv, "buyer_net_usd": samples["buyer_net_usd"], "accelerators_unmet": samples["unmet"]}
    headline = pd.DataFrame(
        {
            "figure": list(columns),
            **{f"p{int(q * 100)}": [v.quantile(q) for v in columns.values()] for q in QUANTILES},
            "mean": [v.mean() for v in columns.values()],
        }
    )
    per_year = pd.DataFrame(
        [
            {
                "year": year,
                **{f"delivered_p{int(q * 100)}": samples[f"delivered_{year}"].quantile(q) for q in QUANTILES},
                "demand_p50": samples[f"demand_{year}"].quantile(0.5),
                P_MEET_SERVED: float(np.mean(served(samples[f"delivered_{year}"], samples[f"demand_{year}"]))),
            }
            for year in years
        ]
    )
    tornado = pd.DataFrame(
        [
            {
                "input": path_words(entry.path),
                "path": entry.path,
                "rank_correlation_with_npv": _spearman(samples[f"input_{j}"], npv),
            }
            for j, entry in enumerate(scenario.uncertainty)
            if touches_plan(scenario, entry.path, built)
        ],
        columns=TORNADO_COLUMNS,
    )
    tornado = tornado.reindex(tornado["rank_correlation_with_npv"].abs().sort_values(ascending=False).index)
    return {
        "headline": headline,
        "downside": downside(npv),
        "per_year": per_year,
        "tornado": tornado.reset_index(drop=True),
    }


def inputs_table(scenario: Scenario, built: Collection[str] | None = None) -> pd.DataFrame:
    """The sweep's uncertain inputs as stored with its samples: number, path, the path in
    words and whether it touches the plan (the report, which may not read the schema, labels
    the tornado with `words` and leaves out what does not touch the plan)."""
    frame = pd.DataFrame(
        {
            "input": range(len(scenario.uncertainty)),
            "path": [u.path for u in scenario.uncertainty],
            "words": [path_words(u.path) for u in scenario.uncertainty],
            "touches_plan": [touches_plan(scenario, u.path, built) for u in scenario.uncertainty],
        }
    )
    return results.table("risk_inputs").conform(frame)


def downside(npv: pd.Series) -> pd.DataFrame:
    """One row: the chance the fab company's NPV is below zero, and its expected shortfall."""
    values = npv.to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "p_npv_below_zero": [float(np.mean(values < 0)) if len(values) else math.nan],
            "expected_shortfall_usd": [expected_shortfall(values)],
        }
    )


def _spearman(x: pd.Series, y: pd.Series) -> float:
    from scipy import stats  # here, not at the top: scipy.stats costs `fabnet run` 0.8 s to import

    if x.nunique() < 2 or y.nunique() < 2:
        return 0.0
    return float(stats.spearmanr(x, y).statistic)
