"""Figures of a training run under way: the curves grow across the epochs it plans."""

from __future__ import annotations

import plotly.graph_objects as go

from digits import charts, evaluate


def growing_curves(history: dict[str, list[float]], metric: str, planned: int) -> go.Figure:
    """`charts.training_curves` of the epochs done so far, on an axis that spans the ``planned`` epochs.

    No early stop is marked: the run may still be going. ``history`` needs ``metric`` and
    ``val_<metric>`` with at least one epoch.
    """
    done = len(history[metric])
    fig = charts.training_curves(history, metric, evaluate.best_epoch(history), planned_epochs=done)
    return fig.update_xaxes(range=[0.5, max(planned, done) + 0.5], dtick=max(1, planned // 12))
