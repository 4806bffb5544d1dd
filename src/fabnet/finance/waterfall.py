"""Distributions to equity: pro rata to paid-in capital, or, where any investor has a preferred
return, a waterfall — return of capital, then the preferred return, then the rest pro rata."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EquityAccount:
    investor: str
    pref_rate_q: float = 0.0  # preferred return per quarter (compounding)
    paid_in: float = 0.0
    returned: float = 0.0  # capital paid back
    pref_due: float = 0.0  # preferred return accrued and not yet paid

    @property
    def unreturned(self) -> float:
        return max(self.paid_in - self.returned, 0.0)


def accrue_preferred_return(accounts: list[EquityAccount]) -> None:
    """One quarter of preferred return on capital not yet returned plus return still owed."""
    for account in accounts:
        account.pref_due += (account.unreturned + account.pref_due) * account.pref_rate_q


def distribute(amount: float, accounts: list[EquityAccount], waterfall: bool) -> np.ndarray:
    """Split `amount` among the accounts; returns what each receives and updates them."""
    paid = np.zeros(len(accounts))
    if amount <= 0 or not accounts:
        return paid
    if waterfall:
        amount -= _pay(amount, accounts, paid, [a.unreturned for a in accounts], "returned")
        amount -= _pay(amount, accounts, paid, [a.pref_due for a in accounts], "pref_due")
    shares = np.array([a.paid_in for a in accounts])
    if amount > 0 and shares.sum() > 0:
        paid += amount * shares / shares.sum()
    return paid


def _pay(amount: float, accounts: list[EquityAccount], paid: np.ndarray, owed: list[float], field: str) -> float:
    """Pay what is owed, pro rata, up to `amount`; return what was paid."""
    owed_array = np.array(owed)
    total = owed_array.sum()
    if total <= 0 or amount <= 0:
        return 0.0
    payment = min(amount, total)
    parts = payment * owed_array / total
    for account, part in zip(accounts, parts, strict=True):
        if field == "returned":
            account.returned += part
        else:
            account.pref_due -= part
    paid += parts
    return payment
