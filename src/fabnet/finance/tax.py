"""Income tax per regime with unlimited loss carry-forward: the one rule that finance and the
fixed-plan risk model both use. Vectorised: any leading axes (samples) broadcast."""

from __future__ import annotations

import numpy as np


def income_tax(taxable: np.ndarray, rates: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Tax of one quarter summed over regimes. `taxable` and `losses` are [..., regime];
    `losses` (carried forward, ≥ 0) is updated in place: a loss adds to it, a profit uses it
    up before anything is taxed at the regime's rate."""
    taxable = np.asarray(taxable, dtype=float)
    used = np.minimum(losses, np.maximum(taxable, 0.0))
    losses += np.maximum(-taxable, 0.0) - used
    return (np.maximum(taxable - used, 0.0) * rates).sum(axis=-1)


def taxes(taxable: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Tax per quarter of taxable income [..., regime, quarter], carrying losses forward."""
    losses = np.zeros(taxable.shape[:-1])
    return np.stack([income_tax(taxable[..., t], rates, losses) for t in range(taxable.shape[-1])], axis=-1)
