"""Every unit constant fabnet converts by, in one place (issue 29).

The planner counts money in millions of dollars and time in quarters, the fab simulator in
minutes; the tables and the figures a user reads are in dollars and days.
"""

from __future__ import annotations

#: Dollars in the planner's unit of money (its variables are in $M so HiGHS sees numbers near 1).
MUSD = 1e6
#: Days in a quarter: a Julian year over four (cycle times in days ↔ the planner's quarters).
DAYS_PER_QUARTER = 365.25 / 4
#: Months in a quarter (monthly wafer starts ↔ quarterly).
MONTHS_PER_QUARTER = 3
#: Minutes in a day (the fab simulator's clock ↔ days).
MINUTES_PER_DAY = 1440.0
#: A year counts as served when it gets this share of its demand (risk, robust plans, labels).
SERVED_SHARE = 0.9
