"""Canvas drawings for benchmarks and tests: MNIST digits placed on the canvas, and the pen paths a hand would take.

Not part of the product: the browser benchmarks and tests use it to draw on
the real canvas, and the drawn-digit benchmarks to place digits at random
sizes, brushes and positions.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt

from digits.config import CANVAS_SIZE
from digits.redraw import render_digit

_NEIGHBOURS = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]


def pen_paths(centre: np.ndarray, solid: np.ndarray | None = None, brush: float = 1.0) -> list[np.ndarray]:
    """Pen strokes that draw ``centre``'s lines and colour in ``solid``, as a hand on the canvas would.

    The centre lines are walked pixel to pixel, starting from line ends, one
    stroke per walk until every pixel is visited; solid parts are coloured in
    with horizontal strokes half a brush apart, kept half a brush inside their edges.

    Parameters
    ----------
    centre : (H, W) bool ndarray
        One-pixel-wide lines (a skeleton).
    solid : (H, W) float ndarray, optional
        Parts to colour in (above 0.5).

    Returns
    -------
    list of (K, 2) float ndarrays
        Each stroke's points as (row, column), in pixels.
    """
    height, width = centre.shape
    left = {(int(r), int(c)) for r, c in zip(*np.nonzero(centre))}

    def neighbours(p):
        return [(p[0] + dr, p[1] + dc) for dr, dc in _NEIGHBOURS if (p[0] + dr, p[1] + dc) in left]

    paths = []
    while left:
        ends = [p for p in left if len(neighbours(p)) <= 1]
        point = min(ends or left)
        path = [point]
        left.discard(point)
        while step := neighbours(point):
            point = step[0]  # straight neighbours first, then diagonal ones
            path.append(point)
            left.discard(point)
        paths.append(np.array(path, float))
    if solid is not None:
        # Colour in with the pen's centre at least half a brush inside the edge, as a careful hand
        # would: stroked up to the edge, the pen would spill half a brush beyond it.
        inside = distance_transform_edt(solid > 0.5) > brush / 2
        gap = max(1, int(brush / 2))
        for r in range(0, height, gap):
            row = np.concatenate([[False], inside[r], [False]])
            starts, stops = np.flatnonzero(row[1:] & ~row[:-1]), np.flatnonzero(~row[1:] & row[:-1])
            paths.extend(np.array([[r, a], [r, b - 1]], float) for a, b in zip(starts, stops))
    return paths


def random_drawings(
    digits: np.ndarray, seed: int = 0, canvas: int = CANVAS_SIZE, sizes=(0.2, 0.9), brushes=(0.04, 0.2),
    brush_limits=(6, 48),
) -> np.ndarray:
    """Render each digit at a random size, brush width and position (corners included).

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray
    sizes : (float, float)
        Range of the digit's longest side, as a fraction of the canvas.
    brushes : (float, float)
        Range of brush widths as a fraction of the digit's size: from a fine
        pen on a large digit to a thick one on a small digit, short of the
        point where loops fill in and the drawing stops being legible.
    brush_limits : (float, float)
        The draw page's brush slider range, in canvas pixels.

    Returns
    -------
    (N, canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(digits), canvas, canvas, 4), np.uint8)
    for i, digit in enumerate(digits):
        height = int(rng.uniform(*sizes) * canvas)
        brush = float(np.clip(rng.uniform(*brushes) * height, *brush_limits))
        margin = int(brush / 2) + 1  # keep the whole stroke on the canvas
        top, left = rng.integers(margin, max(margin + 1, canvas - height - margin), size=2)
        out[i] = render_digit(digit, height, brush, int(top), int(left), canvas)
    return out
