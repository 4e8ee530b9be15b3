"""Plotly figure builders and image helpers for the pages (pure functions)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from digits.config import NUM_CLASSES

# One accent for "the answer" and a neutral grey for the rest: readable on
# light and dark themes alike.
ACCENT = "#e4572e"
NEUTRAL = "#8c8c8c"


def probability_bars(probs: np.ndarray) -> go.Figure:
    """Bar chart of the ten class probabilities, the top class highlighted.

    Parameters
    ----------
    probs : (10,) float ndarray
    """
    probs = np.asarray(probs, dtype=float)
    top = int(probs.argmax())
    fig = go.Figure(
        go.Bar(
            x=[str(c) for c in range(NUM_CLASSES)],
            y=probs,
            marker_color=[ACCENT if c == top else NEUTRAL for c in range(NUM_CLASSES)],
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probs],
            textposition="outside",
            hovertemplate="digit %{x}: %{y:.2%}<extra></extra>",
        )
    )
    fig.update_layout(
        title="How sure the network is of each digit",
        xaxis=dict(title="digit", type="category"),
        yaxis=dict(title="probability", range=[0, 1.12], tickformat=".0%"),
        margin=dict(l=10, r=10, t=40, b=10),
        height=300,
        showlegend=False,
    )
    return fig


def pixelated(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """Enlarge an image by repeating pixels, so the browser shows crisp squares.

    Parameters
    ----------
    image : (H, W) float ndarray in [0, 1]

    Returns
    -------
    (H * scale, W * scale) uint8 ndarray
    """
    grey = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)


def fit_to(image: np.ndarray, size: int) -> np.ndarray:
    """Pixelate ``image`` so its longest side is about ``size`` pixels (at least 1x)."""
    return pixelated(image, max(1, size // max(image.shape)))
