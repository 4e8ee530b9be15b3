"""Plotly figure builders and image helpers for the pages (pure functions)."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go

from digits.config import NUM_CLASSES

# One accent for "the answer" and a neutral grey for the rest: readable on
# light and dark themes alike.
ACCENT = "#e4572e"
NEUTRAL = "#8c8c8c"


def probability_bars_html(probs: np.ndarray, height: int = 180,
                          title: str = "How sure the network is of each digit") -> str:
    """The ten class probabilities as plain HTML bars, the top class highlighted, for ``st.html``.

    The draw page shows these after every stroke. Plain elements cost the
    browser next to nothing to draw, where a Plotly chart took about 0.3 s of
    its main thread per render: a class's cheap laptops feel that.

    Parameters
    ----------
    probs : (10,) float ndarray
    height : int
        Height of a bar at 100 %, in CSS pixels.
    title : str
        Shown above the bars ("": none, where a heading over several says it); screen readers hear it either way.
    """
    probs = np.asarray(probs, dtype=float)
    top = int(probs.argmax())
    bars = "".join(
        f'<div style="flex:1;display:flex;flex-direction:column;align-items:center;justify-content:flex-end">'
        f'<span style="font-size:0.8rem;color:#555">{f"{p:.0%}" if p >= 0.01 else ""}</span>'
        f'<div title="digit {c}: {p:.2%}" style="width:70%;height:{max(p * height, 1):.1f}px;'
        f'background:{ACCENT if c == top else NEUTRAL}"></div>'
        f'<span style="font-weight:{700 if c == top else 400}">{c}</span></div>'
        for c, p in enumerate(probs)
    )
    described = ", ".join(f"{c}: {p:.0%}" for c, p in enumerate(probs))
    caption = f'<figcaption style="font-weight:600;margin-bottom:0.4rem">{title}</figcaption>' if title else ""
    return (f'<figure role="img" aria-label="How sure the network is of each digit: {described}" style="margin:0">'
            f'{caption}<div style="display:flex;align-items:flex-end;height:{height + 40}px;gap:2px">{bars}</div></figure>')


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title=title, xaxis_title=x, yaxis_title=y, height=height,
        margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2),
    )
    return fig


def log_ticks(values) -> list[float]:
    """Ticks at 1, 2 and 5 times each power of ten, spanning the positive ``values``.

    Plotly labels a log axis's in-between ticks with a bare digit ("5" for 0.5);
    these are labelled in full.
    """
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if not positive:
        return []
    lo, hi = min(positive), max(positive)
    return [m * 10.0 ** e for e in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
            for m in (1, 2, 5) if lo / 2.5 <= m * 10.0 ** e <= hi * 2.5]


def _log_axis(fig: go.Figure, values) -> None:
    ticks = log_ticks(values)
    fig.update_yaxes(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def training_curves(history: dict[str, list[float]], metric: str, best_epoch: int, planned_epochs: int) -> go.Figure:
    """Train and validation ``metric`` ("loss" or "accuracy") per epoch.

    The best epoch (the weights kept) is marked; so is the early stop, when
    training ended before ``planned_epochs``.
    """
    epochs = list(range(1, len(history[metric]) + 1))
    fig = go.Figure()
    fig.add_scatter(x=epochs, y=history[metric], name="training", mode="lines+markers", line_color=NEUTRAL)
    fig.add_scatter(x=epochs, y=history[f"val_{metric}"], name="validation", mode="lines+markers", line_color=ACCENT)
    fig.add_vline(x=best_epoch, line_dash="dash", line_color=ACCENT,
                  annotation_text=f"best epoch {best_epoch}", annotation_position="top left")
    if len(epochs) < planned_epochs:
        fig.add_vline(x=len(epochs), line_dash="dot", line_color=NEUTRAL,
                      annotation_text="early stop", annotation_position="bottom left")
    if metric == "accuracy":
        fig.update_yaxes(tickformat=".1%")
    else:  # loss falls over orders of magnitude
        _log_axis(fig, history[metric] + history[f"val_{metric}"])
    fig.update_xaxes(dtick=max(1, len(epochs) // 12))
    name = "Loss (log scale)" if metric == "loss" else "Accuracy"
    return _layout(fig, f"{name} per epoch", "epoch", metric)


def epoch_profile(history: dict[str, list[float]]) -> go.Figure:
    """Learning rate (line, left axis) and seconds (bars, right axis) per epoch."""
    epochs = list(range(1, len(history["loss"]) + 1))
    fig = go.Figure()
    fig.add_bar(x=epochs, y=history["seconds"], name="seconds", marker_color=NEUTRAL, opacity=0.5, yaxis="y2")
    fig.add_scatter(x=epochs, y=history["learning_rate"], name="learning rate", mode="lines+markers",
                    line_color=ACCENT)
    fig.update_layout(
        yaxis=dict(title="learning rate", exponentformat="e", rangemode="tozero"),
        # Its own round ticks, not ones lined up with the left axis's (2.8, 13, 23.1…).
        yaxis2=dict(title="seconds", overlaying="y", side="right", showgrid=False, rangemode="tozero",
                    tickmode="auto"),
    )
    return _layout(fig, "Learning rate and time per epoch", "epoch", "learning rate")


def compare_curves(histories: dict[str, dict[str, list[float]]], metric: str = "val_accuracy") -> go.Figure:
    """One validation curve per model, overlaid."""
    fig = go.Figure()
    for name, history in histories.items():
        values = history[metric]
        fig.add_scatter(x=list(range(1, len(values) + 1)), y=values, name=name, mode="lines+markers")
    if "accuracy" in metric:
        fig.update_yaxes(tickformat=".1%")
    else:
        _log_axis(fig, [v for history in histories.values() for v in history[metric]])
    label = metric.replace("val_", "validation ")
    return _layout(fig, f"{label.capitalize()} per epoch, every model", "epoch", label)


def confusion_heatmap(confusion: np.ndarray, rates: np.ndarray | None = None,
                      title: str = "Confusion matrix (test set): click a red cell") -> go.Figure:
    """The confusion matrix, errors coloured and the diagonal greyed out.

    Every cell carries its count; with ``rates`` (row-normalised) the colours
    and labels show rates instead. A transparent marker sits on each
    off-diagonal cell so that a click selects it (Streamlit reports clicks on
    markers, not on heatmap cells).

    Parameters
    ----------
    confusion : (10, 10) int ndarray
        ``confusion[t, p]``: images of true class ``t`` predicted as ``p``.
    rates : (10, 10) float ndarray, optional
    """
    confusion = np.asarray(confusion)
    shown = confusion.astype(float) if rates is None else np.asarray(rates, float)
    k = confusion.shape[0]
    off = ~np.eye(k, dtype=bool)
    # Only errors get colour: the diagonal and the empty cells stay blank.
    errors = np.where(off & (confusion > 0), shown, np.nan)
    top = np.nanmax(errors) if np.isfinite(errors).any() else 1.0
    text = [[f"{shown[t, p]:.1%}" if rates is not None else f"{confusion[t, p]:,}" for p in range(k)] for t in range(k)]
    labels = [str(c) for c in range(k)]
    fig = go.Figure()
    fig.add_heatmap(
        z=errors, x=labels, y=labels, colorscale="Reds", zmin=0, zmax=top, showscale=True,
        # Whole counts only (a scale up to 3 would otherwise tick 0, 0.5, 1… as "0, 1, 1…"), and
        # rates to two significant decimals (test-set error rates are fractions of a percent).
        colorbar=dict(title="rate", tickformat=".2~%") if rates is not None
        else dict(title="count", tickformat=",d", tick0=0, dtick=max(1, int(np.ceil(top / 5)))),
        hoverongaps=False,
        hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
    )
    diagonal = np.where(off, np.nan, 1.0)
    fig.add_heatmap(z=diagonal, x=labels, y=labels, colorscale=[[0, "#d9d9d9"], [1, "#d9d9d9"]],
                    showscale=False, hoverinfo="skip", opacity=0.5)
    t_idx, p_idx = np.nonzero(off)
    fig.add_scatter(
        x=[labels[p] for p in p_idx], y=[labels[t] for t in t_idx], mode="markers+text",
        text=[text[t][p] for t, p in zip(t_idx, p_idx)],
        # White on dark red, dark on light red, mid grey on empty cells (readable on light and dark themes).
        textfont=dict(size=11, color=[
            "white" if shown[t, p] > 0.6 * top else "#333" if confusion[t, p] > 0 else "#8c8c8c"
            for t, p in zip(t_idx, p_idx)
        ]),
        marker=dict(size=28, symbol="square", opacity=0.0), name="cell",
        customdata=np.stack([t_idx, p_idx], axis=1),
        hovertemplate="true %{y} → predicted %{x}: %{text}<br>click to see these digits<extra></extra>",
        showlegend=False,
    )
    d = np.arange(k)
    fig.add_scatter(x=[labels[i] for i in d], y=[labels[i] for i in d], mode="text",
                    text=[text[i][i] for i in d], textfont=dict(color="#7f7f7f", size=11),
                    hoverinfo="skip", showlegend=False)
    fig.update_yaxes(autorange="reversed", title="true digit", type="category")
    fig.update_xaxes(title="predicted digit", type="category", side="top")
    fig.update_layout(title=title, height=560,
                      margin=dict(l=10, r=10, t=90, b=10), clickmode="event+select")
    return fig


def class_counts(train: list[int], test: list[int]) -> go.Figure:
    """Images per class in the training and test sets."""
    labels = [str(c) for c in range(NUM_CLASSES)]
    fig = go.Figure()
    fig.add_bar(x=labels, y=train, name="training (60,000)", marker_color=NEUTRAL)
    fig.add_bar(x=labels, y=test, name="test (10,000)", marker_color=ACCENT)
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category")
    return _layout(fig, "Images per digit", "digit", "images")


def digit_counts(counts, title: str) -> go.Figure:
    """How many of each digit, as bars."""
    labels = [str(c) for c in range(NUM_CLASSES)]
    counts = [int(c) for c in counts]
    fig = go.Figure(go.Bar(x=labels, y=counts, marker_color=ACCENT, text=[f"{c:,}" for c in counts],
                           textposition="outside"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=",d", rangemode="tozero")  # whole drawings only
    return _layout(fig, title, "digit", "drawings", height=320)


def activation_bars(activations: np.ndarray, layer: str) -> go.Figure:
    """Bar chart of one dense layer's activations."""
    fig = go.Figure(go.Bar(x=list(range(len(activations))), y=activations, marker_color=NEUTRAL,
                           hovertemplate="unit %{x}: %{y:.2f}<extra></extra>"))
    return _layout(fig, f"Layer {layer!r}: {len(activations)} units", "unit", "activation", height=260)


