"""Metrics, the confusion matrix and the examples the dashboards show (pure functions)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from digits.config import NUM_CLASSES

CLASSES = np.arange(NUM_CLASSES)


def classification_metrics(y_true: np.ndarray, probs: np.ndarray) -> dict:
    """Accuracy, log loss, macro and per-class precision/recall/F1, confusion matrix.

    Parameters
    ----------
    y_true : (N,) int ndarray
    probs : (N, 10) float ndarray
        Predicted class probabilities.

    Returns
    -------
    dict
        JSON-ready: floats and nested lists only. ``confusion[i][j]`` counts
        images of true class ``i`` predicted as ``j``.
    """
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = probs.argmax(axis=1)
    picked = probs[np.arange(len(y_true)), y_true]
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=CLASSES, zero_division=0
    )
    return {
        "accuracy": float((y_pred == y_true).mean()),
        "loss": float(-np.log(np.clip(picked, 1e-7, 1.0)).mean()),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "f1_macro": float(f1.mean()),
        "per_class": {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "f1": f1.tolist(),
            "support": support.tolist(),
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=CLASSES).tolist(),
    }


def misclassified(y_true: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Indices of the wrong predictions, most confident mistake first.

    Parameters
    ----------
    y_true : (N,) int ndarray
    probs : (N, 10) float ndarray

    Returns
    -------
    (M,) int64 ndarray
    """
    y_pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != np.asarray(y_true))
    confidence = probs[wrong, y_pred[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")]


def class_samples(y: np.ndarray, per_class: int, seed: int = 0) -> np.ndarray:
    """Indices of ``per_class`` random examples of each class, grouped by class.

    Returns
    -------
    (10 * per_class,) int64 ndarray
    """
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(y == c), size=per_class, replace=False) for c in CLASSES]
    return np.concatenate(picks)


def class_means(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The mean image of each class.

    Parameters
    ----------
    x : (N, 28, 28) uint8 ndarray
    y : (N,) int ndarray

    Returns
    -------
    (10, 28, 28) float32 ndarray in [0, 1]
    """
    means = np.zeros((NUM_CLASSES,) + x.shape[1:], np.float32)
    for c in CLASSES:
        if (y == c).any():  # a class absent from y keeps a blank mean
            means[c] = x[y == c].mean(axis=0) / 255.0
    return means


def class_counts(y: np.ndarray) -> list[int]:
    return np.bincount(np.asarray(y).astype(np.int64), minlength=NUM_CLASSES).tolist()


def best_epoch(history: dict[str, list[float]]) -> int:
    """The 1-based epoch with the lowest validation loss (the weights kept)."""
    return int(np.argmin(history["val_loss"])) + 1


def normalise_rows(confusion: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the share of each true class given each answer.

    Parameters
    ----------
    confusion : (K, K) int ndarray

    Returns
    -------
    (K, K) float ndarray
        Rows sum to 1; a row with no examples stays 0.
    """
    confusion = np.asarray(confusion, dtype=float)
    totals = confusion.sum(axis=1, keepdims=True)
    return np.divide(confusion, totals, out=np.zeros_like(confusion), where=totals > 0)


def most_confused(confusion: np.ndarray, k: int = 10) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal cells as (true, predicted, count), largest first.

    Ties are broken by (true, predicted) so the order is stable; empty cells are left out.
    """
    confusion = np.asarray(confusion)
    cells = [
        (int(confusion[t, p]), t, p)
        for t in range(confusion.shape[0])
        for p in range(confusion.shape[1])
        if t != p and confusion[t, p] > 0
    ]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(t, p, n) for n, t, p in cells[:k]]


def select_mistakes(labels: np.ndarray, probs: np.ndarray, true: list[int] | None, predicted: list[int] | None) -> np.ndarray:
    """Positions of the mistakes whose true class is in ``true`` and answer in ``predicted``.

    None (or an empty list) means any class. Order is kept (most confident first).

    Parameters
    ----------
    labels : (M,) int ndarray
    probs : (M, 10) float ndarray
    """
    keep = np.ones(len(labels), bool)
    if true:
        keep &= np.isin(labels, true)
    if predicted:
        keep &= np.isin(probs.argmax(axis=1), predicted)
    return np.flatnonzero(keep)


def comparison_rows(reports: dict[str, dict]) -> list[dict]:
    """One table row per model report: what the comparison view shows."""
    return [
        {
            "model": name,
            "architecture": r["arch"],
            "parameters": r["params"],
            "test accuracy": f"{r['test']['accuracy']:.2%}",
            "macro F1": round(r["test"]["f1_macro"], 4),
            "mistakes": round((1 - r["test"]["accuracy"]) * r["test_size"]),
            "epochs": r["epochs_run"],
            "best epoch": r["best_epoch"],
            "training time": f"{r['wall_seconds'] / 60:.1f} min",
        }
        for name, r in reports.items()
    ]
