"""How sure against how right: reliability bins, expected calibration error (ECE), and their diagram.

A network is calibrated when, of the digits it reads with 90 % confidence,
90 % are right. The confidences (the top probability of each reading) are
split into equal-width bins; each bin's accuracy is set against its mean
confidence. ECE is the gap between the two, averaged over bins weighted by
how many readings fall in each. Everything here is pure, except `save` and
`load`, which write and read ``model/<name>/calibration.json`` (made by
``python -m bench.families --write-calibration``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from digits.atomic import write_bytes_atomic

# The file beside each model's artifacts that holds its reliability bins, per family of digits.
CALIBRATION_FILE = "calibration.json"
# How the pages say to make the file.
MAKE_COMMAND = "python -m bench.families --write-calibration"
BINS = 15


def reliability(confidences: np.ndarray, correct: np.ndarray, bins: int = BINS) -> dict:
    """Readings binned by confidence: each bin's mean confidence, accuracy and count.

    Parameters
    ----------
    confidences : (N,) float ndarray in [0, 1]
        The top probability of each reading.
    correct : (N,) bool ndarray
        Whether each reading was right.
    bins : int
        Equal-width bins over [0, 1]; a confidence of exactly 1 falls in the last.

    Returns
    -------
    dict
        ``edges`` (bins + 1,), and per bin ``confidence`` and ``accuracy`` (bins,) float ndarrays
        (NaN where the bin is empty) and ``counts`` (bins,) int ndarray.
    """
    confidences = np.asarray(confidences, dtype=float)
    correct = np.asarray(correct, dtype=bool)
    if confidences.shape != correct.shape or confidences.ndim != 1:
        raise ValueError(f"expected two (N,) arrays, got {confidences.shape} and {correct.shape}")
    if len(confidences) and (confidences.min() < 0 or confidences.max() > 1):
        raise ValueError("confidences must lie in [0, 1]: pass the top probability of each reading")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidences, side="right") - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, weights=confidences, minlength=bins) / counts
        accuracy = np.bincount(which, weights=correct.astype(float), minlength=bins) / counts
    return {"edges": edges, "confidence": confidence, "accuracy": accuracy, "counts": counts}


def ece_of_bins(bins: dict) -> float:
    """Expected calibration error of `reliability`'s bins: the count-weighted mean |accuracy - confidence|."""
    counts = np.asarray(bins["counts"], dtype=float)
    if counts.sum() == 0:
        return 0.0
    gap = np.abs(np.asarray(bins["accuracy"], dtype=float) - np.asarray(bins["confidence"], dtype=float))
    return float(np.sum(np.where(counts > 0, gap, 0.0) * counts) / counts.sum())


def ece(confidences: np.ndarray, correct: np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error of the readings (see `reliability` for the parameters)."""
    return ece_of_bins(reliability(confidences, correct, bins))


def family_record(confidences: np.ndarray, correct: np.ndarray, bins: int = BINS, **about) -> dict:
    """One family's bins, accuracy and ECE as JSON-ready values (empty bins as null), plus ``about``."""
    b = reliability(confidences, correct, bins)

    def listed(values):
        return [None if np.isnan(v) else round(float(v), 6) for v in values]

    return {"count": int(len(correct)), "accuracy": round(float(np.mean(correct)), 6) if len(correct) else None,
            "ece": round(ece_of_bins(b), 6), "edges": [round(float(e), 6) for e in b["edges"]],
            "confidence": listed(b["confidence"]), "bin_accuracy": listed(b["accuracy"]),
            "counts": [int(c) for c in b["counts"]], **about}


def save(folder: Path, families: dict[str, dict], **about) -> Path:
    """Write ``folder/calibration.json`` atomically: `family_record` per family name, plus ``about``."""
    path = Path(folder) / CALIBRATION_FILE
    write_bytes_atomic(path, json.dumps({**about, "families": families}, indent=1).encode())
    return path


def load(folder: Path) -> dict | None:
    """The calibration written by `save`, or None when the model has none yet."""
    path = Path(folder) / CALIBRATION_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def reliability_figure(families: dict[str, dict]) -> go.Figure:
    """Accuracy against confidence, one bar trace per family, with the diagonal of perfect calibration.

    Parameters
    ----------
    families : dict of str to dict
        `family_record` per family name (the keys name the traces).

    Returns
    -------
    plotly.graph_objects.Figure
        Bars at each bin's centre (hover: the bin, its mean confidence, accuracy and count),
        a dashed diagonal, and each family's ECE in the title.
    """
    fig = go.Figure()
    for name, record in families.items():
        edges = np.asarray(record["edges"])
        centres = (edges[:-1] + edges[1:]) / 2
        accuracy = [np.nan if a is None else a for a in record["bin_accuracy"]]
        confidence = [np.nan if c is None else c for c in record["confidence"]]
        fig.add_bar(
            x=centres, y=accuracy, name=name,
            customdata=np.column_stack([edges[:-1], edges[1:], confidence, record["counts"]]),
            hovertemplate=("%{fullData.name}<br>confidence %{customdata[0]:.2f}–%{customdata[1]:.2f}"
                           "<br>mean confidence %{customdata[2]:.4f}<br>accuracy %{y:.4f}"
                           "<br>%{customdata[3]:,} digits<extra></extra>"),
        )
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line=dict(dash="dash", color="#8c8c8c"), hoverinfo="skip")
    eces = " · ".join(f"{name} {record['ece']:.4f}" for name, record in families.items())
    fig.update_layout(
        title=f"ECE: {eces}" if families else "No readings", barmode="group", height=420,
        xaxis=dict(title="confidence (top probability)", range=[0, 1]),
        yaxis=dict(title="accuracy", range=[0, 1.02]),
        margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.2),
    )
    return fig
