"""Canvas-like drawings rendered from MNIST digits, for benchmarks and tests.

Each digit is skeletonised and re-stroked with a round brush at a chosen size,
position and brush width on a transparent canvas, as the draw page's canvas
would record it: the handwriting is MNIST's, the rendering is the canvas's.
"""

from __future__ import annotations

import numpy as np
from skimage.filters import gaussian
from skimage.morphology import skeletonize
from skimage.transform import resize

from digits.config import CANVAS_SIZE
from digits.preprocess import draw_pen


def stroke_rgba(skeleton: np.ndarray, width: float) -> np.ndarray:
    """Draw a one-pixel skeleton with a round brush ``width`` pixels wide, as canvas RGBA.

    Parameters
    ----------
    skeleton : (H, W) bool ndarray

    Returns
    -------
    (H, W, 4) uint8 ndarray
        Black ink on a transparent background: the alpha channel is the ink.
    """
    rgba = np.zeros(skeleton.shape + (4,), np.uint8)
    rgba[..., 3] = np.round(draw_pen(skeleton, width) * 255).astype(np.uint8)
    return rgba


def render_digit(
    digit: np.ndarray, height: int, brush: float, top: int, left: int, canvas: int = CANVAS_SIZE
) -> np.ndarray:
    """Re-draw an MNIST digit as a canvas drawing.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray
        An MNIST image (white ink on black).
    height : int
        The drawn digit's longest side, in canvas pixels.
    brush : float
        Brush width in canvas pixels.
    top, left : int
        Canvas position of the digit's bounding box.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
    """
    rows = np.flatnonzero(digit.max(axis=1) > 127)
    cols = np.flatnonzero(digit.max(axis=0) > 127)
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    scale = height / max(crop.shape)
    shape = tuple(max(1, round(s * scale)) for s in crop.shape)
    # Smooth the upscaled pixels before thresholding: blocky edges grow spurs on the skeleton.
    smooth = gaussian(resize(crop, shape, order=1), sigma=max(1.0, 0.6 * scale))
    skeleton = skeletonize(smooth > 0.5 * smooth.max())
    frame = np.zeros((canvas, canvas), bool)
    h, w = min(shape[0], canvas - top), min(shape[1], canvas - left)
    frame[top : top + h, left : left + w] = skeleton[:h, :w]
    return stroke_rgba(frame, brush)


def random_drawings(
    digits: np.ndarray, seed: int = 0, canvas: int = CANVAS_SIZE, sizes=(0.25, 0.9), brushes=(6, 40)
) -> np.ndarray:
    """Render each digit at a random size, brush width and position (corners included).

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray
    sizes : (float, float)
        Range of the digit's longest side, as a fraction of the canvas.
    brushes : (float, float)
        Range of brush widths, in canvas pixels.

    Returns
    -------
    (N, canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    out = np.empty((len(digits), canvas, canvas, 4), np.uint8)
    for i, digit in enumerate(digits):
        height = int(rng.uniform(*sizes) * canvas)
        brush = rng.uniform(*brushes)
        margin = int(brush / 2) + 1  # keep the whole stroke on the canvas
        top, left = rng.integers(margin, max(margin + 1, canvas - height - margin), size=2)
        out[i] = render_digit(digit, height, brush, int(top), int(left), canvas)
    return out
