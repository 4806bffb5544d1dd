"""Die yield models, their inversion, yield learning and partial-good harvesting.

Formulas from ai-fab-facts.md §3.2, written in the product x = A·D (die area in cm² times
defect density in defects/cm²) so that every model broadcasts over numpy arrays:

    poisson              exp(-x)
    murphy               ((1 - exp(-x)) / x)²                    (Murphy 1964)
    seeds                1 / (1 + x)                             (Seeds 1967; = NB with α = 1)
    negative_binomial    (1 + x/α)^(-α)                          (Stapper; α → ∞ gives Poisson)
    bose_einstein        (1 + x_layer)^(-n), x_layer = A·D per critical layer   (Price 1970)

`die_yield` is what the rest of fabnet calls: it takes D0 as the *total* defect density for
every model, so for Bose–Einstein it spreads D0 over the n critical layers (which makes it
equal to the negative binomial with α = n).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

ArrayLike = float | npt.NDArray[np.float64]

YIELD_MODELS = ("poisson", "murphy", "seeds", "negative_binomial", "bose_einstein")
#: Clustering parameter used when a negative-binomial model names none (ai-fab-facts.md §3.2).
DEFAULT_ALPHA = 2.0
MM2_PER_CM2 = 100.0


def poisson(x: ArrayLike) -> ArrayLike:
    return np.exp(-np.asarray(x, float))


def murphy(x: ArrayLike) -> ArrayLike:
    x = np.asarray(x, float)
    safe = np.where(x > 0, x, 1.0)
    return np.where(x > 0, (-np.expm1(-safe) / safe) ** 2, 1.0)


def seeds(x: ArrayLike) -> ArrayLike:
    return 1.0 / (1.0 + np.asarray(x, float))


def negative_binomial(x: ArrayLike, alpha: ArrayLike) -> ArrayLike:
    return (1.0 + np.asarray(x, float) / alpha) ** (-np.asarray(alpha, float))


def bose_einstein(x_per_layer: ArrayLike, layers: ArrayLike) -> ArrayLike:
    return (1.0 + np.asarray(x_per_layer, float)) ** (-np.asarray(layers, float))


def die_yield(
    area_mm2: ArrayLike,
    d0_per_cm2: ArrayLike,
    model: str = "negative_binomial",
    alpha: float | None = None,
    critical_layers: float | None = None,
) -> ArrayLike:
    """Share of dies of `area_mm2` with no killer defect at total defect density `d0_per_cm2`."""
    x = np.asarray(area_mm2, float) / MM2_PER_CM2 * np.asarray(d0_per_cm2, float)
    if model == "poisson":
        return poisson(x)
    if model == "murphy":
        return murphy(x)
    if model == "seeds":
        return seeds(x)
    if model == "negative_binomial":
        return negative_binomial(x, DEFAULT_ALPHA if alpha is None else alpha)
    if model == "bose_einstein":
        if critical_layers is None:
            raise ValueError("bose_einstein needs critical_layers")
        return bose_einstein(x / critical_layers, critical_layers)
    raise ValueError(f"unknown yield model {model!r}; use one of {', '.join(YIELD_MODELS)}")


def d0_from_yield(
    area_mm2: ArrayLike,
    observed_yield: ArrayLike,
    model: str = "negative_binomial",
    alpha: float | None = None,
    critical_layers: float | None = None,
) -> ArrayLike:
    """The total defect density (defects/cm²) at which `die_yield` gives `observed_yield`."""
    y = np.asarray(observed_yield, float)
    if np.any((y <= 0) | (y > 1)):
        raise ValueError("an observed yield must be in (0, 1]")
    area_cm2 = np.asarray(area_mm2, float) / MM2_PER_CM2
    if model == "poisson":
        x = -np.log(y)
    elif model == "seeds":
        x = 1.0 / y - 1.0
    elif model in ("negative_binomial", "bose_einstein"):
        n = critical_layers if model == "bose_einstein" else (alpha or DEFAULT_ALPHA)
        if n is None:
            raise ValueError("bose_einstein needs critical_layers")
        x = n * (y ** (-1.0 / n) - 1.0)
    elif model == "murphy":
        x = _invert_murphy(y)
    else:
        raise ValueError(f"unknown yield model {model!r}; use one of {', '.join(YIELD_MODELS)}")
    return x / area_cm2


def _invert_murphy(y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Murphy's yield falls monotonically in x and is below 1/x², so the root lies in
    # [0, 1/sqrt(y)]; bisection halves that bracket to float precision in under 64 steps.
    low = np.zeros_like(y)
    high = 1.0 / np.sqrt(y)
    for _ in range(80):
        mid = 0.5 * (low + high)
        too_small = murphy(mid) > y
        low = np.where(too_small, mid, low)
        high = np.where(too_small, high, mid)
    return 0.5 * (low + high)


def d0_at_age(
    ramp_per_cm2: ArrayLike,
    mature_per_cm2: ArrayLike,
    learning_rate_per_q: ArrayLike,
    age_q: ArrayLike,
) -> ArrayLike:
    """Yield learning: each quarter of production closes `learning_rate_per_q` of the remaining
    gap between a fab's D0 and the mature D0. Age 0 is the fab's first quarter of output."""
    age = np.maximum(np.asarray(age_q, float), 0.0)
    return (
        mature_per_cm2
        + (np.asarray(ramp_per_cm2, float) - mature_per_cm2) * (1.0 - np.asarray(learning_rate_per_q, float)) ** age
    )


def harvested_yield(
    area_mm2: ArrayLike,
    d0_per_cm2: ArrayLike,
    units: int,
    max_defective_units: int,
    repeated_area_share: float = 1.0,
    model: str = "negative_binomial",
    alpha: float | None = None,
    critical_layers: float | None = None,
) -> ArrayLike:
    """Share of dies that sell when up to `max_defective_units` of `units` identical units may
    be disabled: the non-repeated part must be perfect, and the number of bad units is
    binomial with each unit's own yield (units independent)."""
    if not 0 <= max_defective_units <= units:
        raise ValueError("max_defective_units must be between 0 and units")
    area = np.asarray(area_mm2, float)
    core = die_yield(area * (1.0 - repeated_area_share), d0_per_cm2, model, alpha, critical_layers)
    unit = np.asarray(die_yield(area * repeated_area_share / units, d0_per_cm2, model, alpha, critical_layers))
    bad = np.arange(max_defective_units + 1)
    # Binomial coefficients through lgamma stay finite for any realistic unit count; the powers
    # are left as powers so that 0**0 = 1 handles perfect and dead units without logs of zero.
    choose = np.exp([math.lgamma(units + 1) - math.lgamma(b + 1) - math.lgamma(units - b + 1) for b in bad])
    unit = unit[..., None]
    return core * (choose * unit ** (units - bad) * (1.0 - unit) ** bad).sum(axis=-1)
