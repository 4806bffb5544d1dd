"""What a sweep says: quantiles, the chance of meeting demand, shortfall, and which inputs move
the fab company's NPV most (rank correlation, for the tornado chart)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from fabnet.scenario.schema import Scenario

QUANTILES = (0.1, 0.5, 0.9)


def summarise(scenario: Scenario, samples: pd.DataFrame) -> dict[str, pd.DataFrame]:
    years = sorted(int(c.split("_")[1]) for c in samples.columns if c.startswith("delivered_"))
    npv = samples["fabco_npv_usd"]
    columns = {"fab company NPV ($ B)": npv / 1e9, "buyer's net value ($ B)": samples["buyer_net_usd"] / 1e9,
               "accelerators unmet": samples["unmet"]}
    headline = pd.DataFrame({
        "figure": list(columns),
        **{f"p{int(q * 100)}": [v.quantile(q) for v in columns.values()] for q in QUANTILES},
        "mean": [v.mean() for v in columns.values()],
    })
    per_year = pd.DataFrame([{
        "year": year,
        **{f"delivered_p{int(q * 100)}": samples[f"delivered_{year}"].quantile(q) for q in QUANTILES},
        "demand_p50": samples[f"demand_{year}"].quantile(0.5),
        "p_meet_90pct": float(np.mean(samples[f"delivered_{year}"]
                                      >= 0.9 * samples[f"demand_{year}"] - 1e-6)),
    } for year in years])
    tornado = pd.DataFrame([{
        "input": entry.path,
        "rank_correlation_with_npv": _spearman(samples[f"input_{j}"], npv),
    } for j, entry in enumerate(scenario.uncertainty)])
    tornado = tornado.reindex(tornado["rank_correlation_with_npv"].abs().sort_values(ascending=False).index)
    return {"headline": headline, "per_year": per_year, "tornado": tornado.reset_index(drop=True)}


def _spearman(x: pd.Series, y: pd.Series) -> float:
    if x.nunique() < 2 or y.nunique() < 2:
        return 0.0
    return float(stats.spearmanr(x, y).statistic)
