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
