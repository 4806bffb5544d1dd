"""Straight-line depreciation and book value, per asset placed in service."""

from __future__ import annotations

import numpy as np


def straight_line(amount: float, in_service_q: int, life_q: int, horizon: int) -> np.ndarray:
    """Depreciation per quarter of one asset over a horizon of `horizon` quarters: amount / life
    in each quarter from the one it is placed in service, for `life_q` quarters."""
    charge = np.zeros(horizon)
    first, last = max(in_service_q, 0), min(in_service_q + life_q, horizon)
    if first < last:
        charge[first:last] = amount / life_q
    return charge
