"""Numbers of 2 to 4 MNIST test digits written side by side, by the independent pen of `support.pens`.

Not part of the product: ``bench.numbers`` measures how many the draw page
reads exactly. The default model trains on digits re-stroked by
`digits.redraw`, so the numbers here are drawn by the other pen (pressure,
tremor, overshoot, pen lifts, slant), never by the training's renderer.

Each number is written as one hand writes it: one pen width and one slant
for the whole number (each digit leaning a little differently), digits of
uneven height on uneven baselines, and between neighbours a gap measured
stroke to stroke, from nearly touching to half a digit's height. In a
touching number one neighbouring pair is moved together until their strokes
overlap by a little. Seeded.
"""

from __future__ import annotations

import numpy as np

from digits.config import CANVAS_SIZE
from support.pens import Pen, pen_drawing

# Gaps between neighbours, stroke to stroke, as a fraction of the number's mean digit height.
GAPS = (0.04, 0.5)
# A touching pair's strokes overlap by this fraction of the mean digit height.
OVERLAPS = (0.01, 0.06)
# A touching digit's box, upright along the slant, reaches at most this far into its neighbour's.
TUCK = 0.25
# Digit heights vary around the number's mean by this fraction; baselines move by this fraction.
HEIGHTS = (0.8, 1.2)
BASELINE = 0.1
# The number's width as a fraction of the canvas's width, and its tallest digit's cap.
WIDTHS = (0.5, 0.9)
TALLEST = 0.6
# Alpha (out of 255) above which a pixel is stroke rather than its anti-aliased fringe.
STROKE = 51


def _digit_ink(digit: np.ndarray, rng: np.random.Generator, height: float, brush: float, slant: float) -> np.ndarray:
    """One digit drawn by the pen about ``height`` pixels tall: its alpha, cropped to the ink."""
    pen = Pen(sizes=(height / CANVAS_SIZE,) * 2, brushes=(brush / height,) * 2, slants=(slant - 0.05, slant + 0.05))
    alpha = pen_drawing(digit, rng, pen, CANVAS_SIZE)[..., 3]
    rows, cols = np.flatnonzero(alpha.any(1)), np.flatnonzero(alpha.any(0))
    return alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _left_for_gap(row: np.ndarray, ink: np.ndarray, top: int, gap: float, slant: float, upright_gap: float) -> float:
    """Column for ``ink``'s left edge so its strokes come ``gap`` pixels right of the number so far.

    ``row`` is the number so far, (H, W) uint8. The gap is the least horizontal
    distance over the rows both hold stroke in (negative: the strokes overlap by
    that much). The new digit also starts at least ``upright_gap`` pixels right of
    every digit before it along the number's ``slant``, as a hand writes it,
    rather than tucking a tail under its neighbour.
    """
    so_far, mine = row[top : top + len(ink)] > STROKE, ink > STROKE
    both = so_far.any(1) & mine.any(1)
    right = so_far.shape[1] - 1 - np.argmax(so_far[:, ::-1], axis=1)  # rightmost stroke of each row so far
    first = np.argmax(mine, axis=1)  # leftmost stroke of each row of the new digit
    left = float(np.max(right[both] - first[both])) + 1 + gap if both.any() else 0.0
    # Columns along the slant: each pixel moved by the slant back to an upright number.
    r_old, c_old = np.nonzero(row > STROKE)
    r_new, c_new = np.nonzero(mine)
    upright = np.max(c_old + slant * r_old) - np.min(c_new + slant * (r_new + top)) + 1 + upright_gap
    return max(left, float(upright))


def number(digits: np.ndarray, seed: int, touching: bool = False, canvas: int = CANVAS_SIZE,
           width: int | None = None) -> np.ndarray:
    """Write ``digits`` left to right on one canvas with the independent pen.

    Parameters
    ----------
    digits : (K, 28, 28) uint8 ndarray
        MNIST digits, K from 2 to 4.
    touching : bool
        Move one neighbouring pair together until their strokes overlap by a little.
    canvas, width : int
        The canvas's height and width (width: default ``canvas``, the draw page's square).

    Returns
    -------
    (canvas, width, 4) uint8 ndarray
    """
    width = width or canvas
    rng = np.random.default_rng(seed)
    k = len(digits)
    heights = rng.uniform(*HEIGHTS, k)
    gaps = rng.uniform(*GAPS, k - 1)
    if touching:
        gaps[rng.integers(k - 1)] = -rng.uniform(*OVERLAPS)
    slant = rng.uniform(*Pen().slants)
    brushes = rng.uniform(*Pen().brushes)
    # Size the number from MNIST's typical digit width (0.65 of its height), then shrink it until it fits.
    unit = min(rng.uniform(*WIDTHS) * width / (0.65 * heights.sum() + gaps.sum()), TALLEST * canvas / heights.max())
    while True:
        brush = float(np.clip(brushes * unit, *Pen().brush_limits))
        inks = [_digit_ink(d, rng, h * unit, brush, slant) for d, h in zip(digits, heights)]
        tall = max(len(i) for i in inks)
        offsets = rng.uniform(-BASELINE, BASELINE, k) * unit  # uneven baselines around the row's middle
        tops = np.clip((tall - np.array([len(i) for i in inks])) / 2 + offsets - offsets.min(), 0, None).astype(int)
        row = np.zeros((int(tops.max()) + tall + 1, 4 * width), np.uint8)
        left = 0.0
        for j, ink in enumerate(inks):
            if j:
                upright_gap = -TUCK * unit if gaps[j - 1] < 0 else 0.0
                left = max(0.0, _left_for_gap(row, ink, tops[j], gaps[j - 1] * unit, slant, upright_gap))
            at = int(round(left))
            np.maximum(row[tops[j] : tops[j] + len(ink), at : at + ink.shape[1]], ink,
                       out=row[tops[j] : tops[j] + len(ink), at : at + ink.shape[1]])
        cols, rows = np.flatnonzero(row.any(0)), np.flatnonzero(row.any(1))
        used_w, used_h = cols[-1] + 1, rows[-1] + 1
        if used_w <= width - 4 and used_h <= canvas - 4:
            break
        unit *= 0.95 * min((width - 4) / used_w, (canvas - 4) / used_h, 1.0)
    out = np.zeros((canvas, width, 4), np.uint8)
    top, left = rng.integers(2, canvas - used_h - 1), rng.integers(2, width - used_w - 1)
    out[top : top + used_h, left : left + used_w, 3] = row[:used_h, :used_w]
    return out


def benchmark(x_test: np.ndarray, y_test: np.ndarray, count: int = 300, seed: int = 0, width: int | None = None):
    """``count`` numbers of 2-4 MNIST *test* digits, every third with a touching pair.

    Parameters
    ----------
    width : int, optional
        The canvas's width (default: the draw page's square canvas).

    Returns
    -------
    canvases : (count, CANVAS_SIZE, width, 4) uint8 ndarray
    answers : list of str
        Each number's digits, left to right.
    """
    rng = np.random.default_rng(seed)
    canvases, answers = [], []
    for i in range(count):
        pick = rng.choice(len(y_test), int(rng.integers(2, 5)), replace=False)
        canvases.append(number(x_test[pick], seed * 100_003 + i, touching=i % 3 == 2, width=width))
        answers.append("".join(str(d) for d in y_test[pick]))
    return np.stack(canvases), answers
