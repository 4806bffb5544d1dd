"""The distribution waterfall, worked by hand."""

from __future__ import annotations

import pytest

from fabnet.finance.metrics import quarterly_rate
from fabnet.finance.waterfall import EquityAccount, accrue_preferred_return, distribute
from fabnet.scenario.assets import straight_line


def test_two_investors_with_a_preferred_return():
    # A and B each paid in 100; A has an 8 % preferred return. After one year A is owed
    # 100 × 0.08 = 8. Distributing 250: return of capital 100 + 100, then A's 8, then the
    # remaining 42 pro rata to paid-in capital, 21 each: A gets 129, B 121.
    a = EquityAccount("A", quarterly_rate(0.08), paid_in=100)
    b = EquityAccount("B", 0.0, paid_in=100)
    for _ in range(4):
        accrue_preferred_return([a, b])
    assert a.pref_due == pytest.approx(8.0)
    paid = distribute(250, [a, b], waterfall=True)
    assert paid.tolist() == pytest.approx([129.0, 121.0])
    assert a.unreturned == pytest.approx(0) and a.pref_due == pytest.approx(0)


def test_a_small_distribution_only_returns_capital():
    a = EquityAccount("A", quarterly_rate(0.08), paid_in=300)
    b = EquityAccount("B", 0.0, paid_in=100)
    accrue_preferred_return([a, b])
    paid = distribute(100, [a, b], waterfall=True)
    assert paid.tolist() == pytest.approx([75.0, 25.0])  # pro rata to unreturned capital
    assert a.unreturned == pytest.approx(225) and b.unreturned == pytest.approx(75)


def test_without_a_waterfall_everything_is_pro_rata_to_paid_in():
    accounts = [EquityAccount("A", paid_in=300), EquityAccount("B", paid_in=100)]
    assert distribute(40, accounts, waterfall=False).tolist() == pytest.approx([30.0, 10.0])


def test_straight_line_sums_to_the_base_and_starts_in_service():
    charge = straight_line(1000.0, in_service_q=3, life_q=20, horizon=40)
    assert charge.sum() == pytest.approx(1000.0)
    assert (charge[:3] == 0).all() and charge[3] == pytest.approx(50.0) and (charge[23:] == 0).all()
    assert straight_line(1000.0, in_service_q=30, life_q=20, horizon=40).sum() == pytest.approx(500.0)
