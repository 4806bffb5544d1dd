"""Statistics of samples that several layers report (risk's summary, the report's histogram)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

#: The share of worst samples the expected shortfall averages (CVaR 10 %).
WORST_SHARE = 0.1


def expected_shortfall(values: npt.ArrayLike, share: float = WORST_SHARE) -> float:
    """The mean of the worst `share` of the values (CVaR, lower tail). When `share` × n is not
    whole, the sample on the edge counts with the fraction of it inside the tail (Acerbi and
    Tasche 2002), so the figure moves smoothly with the number of samples."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if len(ordered) == 0:
        return math.nan
    tail = share * len(ordered)
    whole = min(int(math.floor(tail)), len(ordered))
    edge = (tail - whole) * ordered[whole] if whole < len(ordered) else 0.0
    return float((ordered[:whole].sum() + edge) / tail)
