# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # An analyst's loop with fabnet
#
# A notebook in jupytext's percent format (open it in Jupyter with jupytext, or run it as a
# script from the repository's root: `.venv/bin/python examples/analyst_loop.py`). The tests run
# it (`tests/test_examples.py`). Each cell is a step an investment committee asks for: the base
# case, its key figures as a table, the same plan at another price, a weaker contract planned
# anew, and what moved between the two.

# %%
import os

import fabnet
from fabnet.core.format import usd

store = os.environ.get("FABNET_EXAMPLE_STORE", "examples.duckdb")
base = fabnet.run(fabnet.load(), store=store, label="base case", check=False)
figures = base.figures
print(f"fab company NPV {usd(figures.fabco_npv_usd)}, buyer's gain {usd(figures.network_adds_buyer_gain_usd)}")

# %% [markdown]
# Key figures as a table (label, value, unit), and the investors' returns as rows of their own.

# %%
table = figures.to_frame()
print(table.loc[["fabco_npv_usd", "fabco_irr", "deal_low_share_of_market", "deal_high_share_of_market"]])
print(figures.investors_frame())

# %% [markdown]
# The same plan at 80 % of the market wafer price (tigris asks 90 %): only the money is followed
# again (no solve). The result reads as the run's does: `.figures`, `.tables`, `.plan`, `.money`.

# %%
cheaper = fabnet.refinance(base, {"offtake.share_of_market_price": "80 %"})
print(f"at 80 % of market: fab company NPV {usd(cheaper.figures['fabco_npv_usd'])}")

# %% [markdown]
# A weaker contract (no take-or-pay) is planned anew, stored, and compared with the base case:
# one row per input that differs and per figure that moved.

# %%
weaker = fabnet.run(
    fabnet.load(overrides={"offtake.take_or_pay_share": 0.0}), store=store, label="no take-or-pay", check=False
)
moved = fabnet.compare(base.run_id, weaker.run_id, store=store, changed_only=True)
print(moved.head(12).to_string())

# %% [markdown]
# The fab company's revenue per year, with quarters as pandas Periods.

# %%
quarterly = fabnet.tables(base.run_id, store)["fabco_quarterly"]
print(quarterly.groupby(quarterly["quarter"].dt.year)["revenue_usd"].sum().map(usd))
