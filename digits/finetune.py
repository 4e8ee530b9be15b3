"""Fine-tune a trained model with people's labelled drawings, keeping some of them to judge it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from digits import config
from digits.store import Drawings


@dataclass(frozen=True)
class DrawingSplit:
    """Labelled drawings split into the part trained on and the part held out to judge."""

    x_train: np.ndarray  # (n, 28, 28) uint8, MNIST-style
    y_train: np.ndarray  # (n,) uint8
    x_held: np.ndarray  # (m, 28, 28) uint8
    y_held: np.ndarray  # (m,) uint8


def split_drawings(drawings: Drawings, held_out: float = 0.25, seed: int = 0) -> DrawingSplit:
    """Hold out a random ``held_out`` share of the drawings of digits (at least one when there are two or more).

    Drawings labelled not a digit are left out: the network has one output per
    digit and none for them. Images become uint8 like MNIST's, so they join the
    same training pipeline.
    """
    digits = np.flatnonzero(drawings.labels != config.NOT_A_DIGIT)
    n = len(digits)
    if n < 2:
        raise ValueError(f"fine-tuning needs at least 2 drawings labelled as digits (one to hold out), found {n}")
    order = digits[np.random.default_rng(seed).permutation(n)]
    n_held = min(n - 1, max(1, round(n * held_out)))
    held, train = order[:n_held], order[n_held:]
    images = np.round(drawings.images * 255).astype(np.uint8)
    labels = drawings.labels.astype(np.uint8)
    return DrawingSplit(images[train], labels[train], images[held], labels[held])


def mix_in(x_fit: np.ndarray, y_fit: np.ndarray, x_new: np.ndarray, y_new: np.ndarray, share: float = 0.05):
    """Add the drawings, repeated so they make up about ``share`` of what the network sees.

    A few hundred drawings among 55,000 digits would barely register; repeated,
    they count, while MNIST still dominates (so its accuracy holds).

    Returns
    -------
    x : (N', 28, 28) uint8 ndarray, y : (N',) uint8 ndarray
    """
    repeats = max(1, math.ceil(share * len(x_fit) / ((1 - share) * len(x_new))))
    x = np.concatenate([x_fit, np.repeat(x_new, repeats, axis=0)])
    y = np.concatenate([y_fit, np.repeat(y_new, repeats, axis=0)])
    return x, y


def accuracy(predict_proba, images: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``images`` (uint8) whose most probable class is the label."""
    probs = predict_proba(images.astype(np.float32) / 255.0)
    return float((probs.argmax(axis=1) == labels).mean())
