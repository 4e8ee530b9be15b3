"""Canvas-like drawings rendered from MNIST digits, for benchmarks and tests.

Each digit is skeletonised and re-stroked with a round brush at a chosen size,
position and brush width on a transparent canvas, as the draw page's canvas
would record it: the handwriting is MNIST's, the rendering is the canvas's.
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
