"""What every figure of the report, the dashboard and a comparison shares: money in billions,
one colour per party in the order they come, quarters as dates, one layout."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from fabnet.core import format as fmt
from fabnet.core.periods import Quarter

#: Figures draw money in billions, written as core.format writes that scale.
BILLIONS = fmt.scale_for([1e9])


def quarter_date(quarter: str) -> pd.Timestamp:
    q = Quarter.parse(quarter)
    return pd.Timestamp(year=q.year, month=3 * (q.q - 1) + 1, day=1)


#: One colour per product, investor or run, in the order they come: a thing keeps its colour
#: across the traces of one figure (its demand and its deliveries).
PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457", "#827717", "#37474f")


def colour(k: int) -> str:
    return PALETTE[k % len(PALETTE)]


def translucent(colour: str, alpha: float) -> str:
    """A palette colour as rgba, for an area that must not hide the lines drawn over it."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def layout(fig: go.Figure, title: str, y: str = "", x: str = "") -> go.Figure:
    fig.update_layout(
        title=title,
        template="plotly_white",
        height=380,
        margin=dict(l=60, r=20, t=60, b=40),
        legend=dict(orientation="h", y=-0.15),
    )
    if y:  # an axis titled before (a subplot's) keeps its title
        fig.update_layout(yaxis_title=y)
    if x:
        fig.update_layout(xaxis_title=x)
    return fig
