"""The map of the last hidden layer as a plotly figure, and which sample digit a click chose.

Pure: arrays in, a figure out. Every sample point carries its position in the
map as ``customdata``, so ``st.plotly_chart(fig, on_select="rerun",
selection_mode="points")`` tells the page which digit was clicked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

PALETTE = qualitative.T10  # ten distinct colours, one per digit


def map_figure(map_: Mapping[str, np.ndarray], drawing_xy: np.ndarray | None = None,
               neighbours: np.ndarray | None = None, height: int = 560) -> go.Figure:
    """A scatter of the sample digits, coloured by label, mistakes as crosses, the drawing as a star.

    Parameters
    ----------
    map_ : dict with ``xy`` (n, 2), ``labels`` (n,) and ``predictions`` (n,), as `digits.embedding.load_map` gives
    drawing_xy : (2,) float ndarray, optional
        Where the drawing lands; drawn as a large star.
    neighbours : (k,) int ndarray, optional
        Positions in the map of the drawing's nearest digits; circled.
    """
    xy, labels, predictions = map_["xy"], map_["labels"], map_["predictions"]
    wrong = labels != predictions
    fig = go.Figure()
    for digit in range(len(PALETTE)):
        points = np.flatnonzero((labels == digit) & ~wrong)
        fig.add_trace(go.Scattergl(
            x=xy[points, 0], y=xy[points, 1], customdata=points, mode="markers", name=str(digit),
            marker=dict(size=5, color=PALETTE[digit], opacity=0.75),
            hovertemplate=f"a {digit}, read as {digit}<extra>#%{{customdata}}</extra>",
        ))
    points = np.flatnonzero(wrong)
    fig.add_trace(go.Scattergl(
        x=xy[points, 0], y=xy[points, 1], customdata=points, mode="markers", name="mistakes",
        marker=dict(size=9, symbol="x", color=[PALETTE[c] for c in labels[points]],
                    line=dict(width=1, color="black")),
        text=[f"a {labels[i]}, read as {predictions[i]}" for i in points],
        hovertemplate="%{text}<extra>#%{customdata}</extra>",
    ))
    if neighbours is not None and len(neighbours):
        fig.add_trace(go.Scattergl(
            x=xy[neighbours, 0], y=xy[neighbours, 1], customdata=np.asarray(neighbours), mode="markers",
            name="nearest", marker=dict(size=13, symbol="circle-open", color="black", line=dict(width=2)),
            hovertemplate="one of the nearest<extra>#%{customdata}</extra>",
        ))
    if drawing_xy is not None:
        fig.add_trace(go.Scattergl(
            x=[drawing_xy[0]], y=[drawing_xy[1]], mode="markers", name="your drawing",
            marker=dict(size=24, symbol="star", color="gold", line=dict(width=2, color="black")),
            hovertemplate="your drawing<extra></extra>",
        ))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), legend_title_text="digit",
                      clickmode="event+select", dragmode="pan")
    # The axes of t-SNE mean nothing: only closeness does.
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    return fig


def clicked_point(selection: Mapping[str, Any] | None) -> int | None:
    """The map position of the sample digit a click chose, from ``st.plotly_chart``'s selection; None if none.

    Points without ``customdata`` (the drawing's star) choose nothing.
    """
    for point in (selection or {}).get("points", []):
        data = point.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        if data is not None:
            return int(data)
    return None
