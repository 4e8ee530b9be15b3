"""The drawn-digit families the benchmarks read: MNIST test and three ways of drawing its digits.

Not part of the product: ``bench.families``, ``bench.tta``, ``bench.drawn_accuracy`` and
``bench.canvas_accuracy`` use it.
"""

from __future__ import annotations

import time

import numpy as np

from digits.preprocess import canvas_to_mnist
from support import fonts, pens
from support.drawings import random_drawings


def prepared(drawings: np.ndarray) -> np.ndarray:
    """(N, 28, 28) float32: each canvas prepared as the draw page prepares it (a blank one reads as wrong)."""
    blank = np.zeros((28, 28), np.float32)  # never happens with these drawings
    images = (canvas_to_mnist(d) for d in drawings)
    return np.stack([blank if image is None else image for image in images])


def families(x_test: np.ndarray, y_test: np.ndarray, count: int, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each family's prepared images (N, 28, 28) float32 and labels (N,); fonts left out when none are installed."""
    pick = np.random.default_rng(seed).choice(len(y_test), size=min(count, len(y_test)), replace=False)
    digits, labels = x_test[pick], y_test[pick]
    out = {"MNIST test": (x_test.astype(np.float32) / 255, y_test)}
    for name, make in [("redrawn", lambda: random_drawings(digits, seed=seed)),
                       ("pen", lambda: pens.pen_drawings(digits, seed=seed)),
                       ("fonts", lambda: fonts.font_drawings(labels, fonts.font_paths(), seed=seed))]:
        if name == "fonts" and not fonts.font_paths():
            print(f"fonts family skipped: {fonts.missing_fonts_message()}")
            continue
        start = time.perf_counter()
        out[name] = (prepared(make()), labels)
        print(f"{name}: {len(labels)} drawings rendered and prepared in {time.perf_counter() - start:.0f} s")
    return out
