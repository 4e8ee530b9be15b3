"""MNIST digits redrawn with a canvas pen: the drawn-looking digits the default model trains on.

Each digit is skeletonised and re-stroked with a round brush on a transparent
canvas, as the draw page's canvas would record it, then prepared as the draw
page prepares drawings (``train.py --redraw``). The handwriting is MNIST's,
the rendering is the canvas's. Benchmarks must not use this renderer to judge
the model it trains: ``support/drawings.py`` places drawings for benchmarks.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt
from skimage.filters import gaussian
from skimage.morphology import skeletonize
from skimage.transform import resize

from digits.config import CANVAS_SIZE, DIGIT_BOX
from digits.preprocess import canvas_to_mnist


def draw_pen(skeleton: np.ndarray, width: float) -> np.ndarray:
    """Draw one-pixel centre lines with a round, anti-aliased pen ``width`` pixels wide.

    Parameters
    ----------
    skeleton : (H, W) bool ndarray

    Returns
    -------
    (H, W) float32 ndarray in [0, 1]
        Ink whose edge falls off over one pixel.
    """
    distance = distance_transform_edt(~skeleton)
    return np.clip(width / 2 - distance + 0.5, 0.0, 1.0).astype(np.float32)


def stroke_rgba(skeleton: np.ndarray, width: float, filled: np.ndarray | None = None) -> np.ndarray:
    """Draw a one-pixel skeleton with a round brush ``width`` pixels wide, as canvas RGBA.

    Parameters
    ----------
    skeleton : (H, W) bool ndarray
    filled : (H, W) float ndarray in [0, 1], optional
        Ink to keep as it is on top of the strokes (see `filled_parts`).

    Returns
    -------
    (H, W, 4) uint8 ndarray
        Black ink on a transparent background: the alpha channel is the ink.
    """
    ink = draw_pen(skeleton, width)
    if filled is not None:
        ink = np.maximum(ink, filled)
    rgba = np.zeros(skeleton.shape + (4,), np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return rgba


# Parts of an MNIST digit thicker than this many of its pixels are filled-in
# areas (a blotted loop of a 6, 8 or 9), not pen strokes: MNIST strokes are
# about 2.6 px wide.
FILLED_WIDTH = 4.0


def filled_parts(mask: np.ndarray, radius: float) -> np.ndarray:
    """The parts of ``mask`` where a disc of ``radius`` fits, anti-aliased.

    A skeleton keeps a digit's strokes but not its blots: the skeleton of a
    6 whose loop is inked solid is an L. Keeping the blots as they are keeps
    the drawing what its label says.

    Parameters
    ----------
    mask : (H, W) bool ndarray

    Returns
    -------
    (H, W) float32 ndarray in [0, 1]
        The union of every disc of ``radius`` inside ``mask`` (a morphological
        opening), with a one-pixel anti-aliased edge.
    """
    # Pad with background: without it, ink touching the array's edge would seem to go on beyond it.
    padded = np.pad(mask, 1)
    centres = distance_transform_edt(padded) >= radius
    if not centres.any():
        return np.zeros(mask.shape, np.float32)
    filled = np.clip(radius - distance_transform_edt(~centres) + 0.5, 0.0, 1.0).astype(np.float32)
    return filled[1:-1, 1:-1]


def render_digit(
    digit: np.ndarray, height: int, brush: float, top: int, left: int, canvas: int = CANVAS_SIZE
) -> np.ndarray:
    """Re-draw an MNIST digit as a canvas drawing.

    The digit's centre lines are stroked with a round brush; parts inked
    solid (wider than `FILLED_WIDTH` of MNIST's pixels and than the brush)
    stay solid, as someone would colour them in.

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
    centre, solid = digit_plan(digit, height, brush, top, left, canvas)
    return stroke_rgba(centre, brush, solid)


def digit_plan(
    digit: np.ndarray, height: int, brush: float, top: int, left: int, canvas: int = CANVAS_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """What `render_digit` strokes with the brush: the centre lines, and the parts coloured in.

    Returns
    -------
    centre : (canvas, canvas) bool ndarray
        One-pixel centre lines of the strokes.
    solid : (canvas, canvas) float32 ndarray in [0, 1]
        Parts inked solid.
    """
    rows = np.flatnonzero(digit.max(axis=1) > 127)
    cols = np.flatnonzero(digit.max(axis=0) > 127)
    crop = digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].astype(np.float32) / 255.0
    scale = height / max(crop.shape)
    shape = tuple(max(1, round(s * scale)) for s in crop.shape)
    # Smooth the upscaled pixels before thresholding: blocky edges grow spurs on the skeleton.
    smooth = gaussian(resize(crop, shape, order=1), sigma=max(1.0, 0.6 * scale))
    mask = smooth > 0.5 * smooth.max()
    filled = filled_parts(mask, max(FILLED_WIDTH * scale, brush) / 2)
    h, w = min(shape[0], canvas - top), min(shape[1], canvas - left)
    centre = np.zeros((canvas, canvas), bool)
    centre[top : top + h, left : left + w] = skeletonize(mask)[:h, :w]
    solid = np.zeros((canvas, canvas), np.float32)
    solid[top : top + h, left : left + w] = filled[:h, :w]
    return centre, solid


# Redrawn digits are rendered this many times larger than the 20 px box.
_REDRAW_SCALE = 4


def redraw(digit: np.ndarray, pen: float) -> np.ndarray:
    """One MNIST digit redrawn with a canvas pen, then prepared as the draw page prepares drawings.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray
    pen : float
        Pen width in pixels of the 20 px digit box (MNIST's own median is 2.6).

    Returns
    -------
    (28, 28) uint8 ndarray
    """
    height = DIGIT_BOX * _REDRAW_SCALE
    margin = int(pen * _REDRAW_SCALE / 2) + 2
    rgba = render_digit(digit, height, pen * _REDRAW_SCALE, margin, margin, canvas=height + 2 * margin)
    image = canvas_to_mnist(rgba)
    return digit if image is None else np.round(image * 255).astype(np.uint8)


def redraw_many(digits: np.ndarray, pens: tuple[float, float] = (0.8, 4.0), seed: int = 0,
                progress=None) -> np.ndarray:
    """`redraw` every digit with a random pen width, on every CPU core.

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray
    pens : (float, float)
        Range of pen widths, in pixels of the 20 px box.
    progress : callable, optional
        Called with the number of digits done so far.

    Returns
    -------
    (N, 28, 28) uint8 ndarray
    """
    import os
    from concurrent.futures import ProcessPoolExecutor

    widths = np.random.default_rng(seed).uniform(*pens, size=len(digits))
    out = np.empty_like(digits)
    chunk = 500
    starts = range(0, len(digits), chunk)
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        jobs = [pool.submit(_redraw_chunk, digits[i : i + chunk], widths[i : i + chunk]) for i in starts]
        for i, job in zip(starts, jobs):
            out[i : i + chunk] = job.result()
            if progress is not None:
                progress(min(i + chunk, len(digits)))
    return out


def _redraw_chunk(digits: np.ndarray, widths: np.ndarray) -> np.ndarray:
    return np.stack([redraw(d, w) for d, w in zip(digits, widths)])
