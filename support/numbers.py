"""Numbers of 2 to 4 MNIST digits written side by side on the draw page's canvas.

Not part of the product: ``bench.numbers`` measures how many the draw page
reads exactly. Seeded. Each number is written with one pen, its digits at
uneven heights and baselines, with gaps between them or with one pair
touching.
"""

from __future__ import annotations

import numpy as np

from digits.config import CANVAS_SIZE
from digits.redraw import render_digit


def _aspect(digit: np.ndarray) -> float:
    """Width over height of an MNIST digit's ink."""
    rows, cols = np.flatnonzero(digit.any(1)), np.flatnonzero(digit.any(0))
    return (cols[-1] - cols[0] + 1) / (rows[-1] - rows[0] + 1)


def number(digits: np.ndarray, seed: int, touching: bool = False, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """Write ``digits`` left to right on one canvas.

    Parameters
    ----------
    digits : (K, 28, 28) uint8 ndarray
        MNIST digits, K from 2 to 4.
    touching : bool
        Move one neighbouring pair together until their strokes overlap by a little.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    heights = rng.uniform(0.8, 1.2, len(digits))  # uneven heights
    widths = heights * np.array([_aspect(d) for d in digits])
    gaps = rng.uniform(0.1, 0.35, len(digits) - 1)
    if touching:
        gaps[rng.integers(len(gaps))] = -0.05
    unit = min(0.85 * canvas / (widths.sum() + gaps.sum()), 0.6 * canvas / heights.max())
    brush = float(np.clip(rng.uniform(0.06, 0.14) * unit, 6, 48))
    left = (canvas - unit * (widths.sum() + gaps.sum())) / 2
    out = np.zeros((canvas, canvas, 4), np.uint8)
    for k, digit in enumerate(digits):
        h, w = heights[k] * unit, widths[k] * unit
        top = (canvas - h) / 2 + rng.uniform(-0.1, 0.1) * unit  # uneven baselines
        drawn = render_digit(digit, int(max(h, w)), brush, int(top), int(left), canvas)
        out[..., 3] = np.maximum(out[..., 3], drawn[..., 3])
        left += w + (gaps[k] * unit if k < len(gaps) else 0)
    return out


def benchmark(x_test: np.ndarray, y_test: np.ndarray, count: int = 300, seed: int = 0):
    """``count`` numbers of 2-4 MNIST *test* digits, a third of them with a touching pair.

    Returns
    -------
    canvases : (count, canvas, canvas, 4) uint8 ndarray
    answers : list of str
        Each number's digits, left to right.
    """
    rng = np.random.default_rng(seed)
    canvases, answers = [], []
    for i in range(count):
        pick = rng.choice(len(y_test), int(rng.integers(2, 5)), replace=False)
        canvases.append(number(x_test[pick], seed * 100_003 + i, touching=i % 3 == 2))
        answers.append("".join(str(d) for d in y_test[pick]))
    return np.stack(canvases), answers
