"""MNIST digits redrawn with a canvas pen: the drawn-looking digits the default model trains on.

Each digit is skeletonised and re-stroked with a round brush on a transparent
canvas, as the draw page's canvas would record it, then prepared as the draw
page prepares drawings (``train.py --redraw``). The handwriting is MNIST's,
the rendering is the canvas's. Benchmarks must not use this renderer to judge
the model it trains: ``support/drawings.py`` places drawings for benchmarks.

A share of the digits can be drawn by a less even hand (`Hand`): the pen's
width drifts over the drawing, the pen rests at some stroke ends and leaves a
blot, and now and then it lifts mid-stroke and leaves a gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import convolve, distance_transform_edt, gaussian_filter
from skimage.filters import gaussian
from skimage.morphology import skeletonize
from skimage.transform import resize

from digits.config import CANVAS_SIZE, DIGIT_BOX
from digits.preprocess import canvas_to_mnist, ink_rgba


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
    return ink_rgba(ink)


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


@dataclass(frozen=True)
class Hand:
    """A less even hand than the round pen's: how far its width drifts, how often it blots and lifts.

    Widths and gaps are relative to the pen's width; chances are per stroke end
    (blots) and per digit (a lift).
    """

    drift: float = 0.3  # standard deviation of the log of the width's drift over the drawing
    drift_scale: float = 0.15  # the drift's smoothness: its Gaussian's sigma, as a fraction of the digit's size
    blot_chance: float = 0.25  # chance that the pen rests at a stroke end and leaves a blot
    blot: tuple[float, float] = (1.2, 1.7)  # a blot's diameter, in widths of the pen there
    lift_chance: float = 0.2  # chance of one gap where the pen lifted mid-stroke
    gap: tuple[float, float] = (0.3, 0.8)  # the gap's length between the ink either side, in pen widths
    widest: float = 0.7  # the log of the drift is clipped to +-this: the widest ink is e^0.7 times the pen


UNEVEN = Hand()


def stroke_ends(centre: np.ndarray, spur: float = 0.0) -> np.ndarray:
    """Where strokes end: the centre-line pixels with exactly one 8-neighbour.

    Parameters
    ----------
    centre : (H, W) bool ndarray
        One-pixel centre lines.
    spur : float
        Leave out ends whose branch meets a fork within this many pixels: the
        skeleton's spurs, which no stroke of the pen drew.

    Returns
    -------
    (K, 2) int ndarray
        Row, column of each end.
    """
    neighbours = convolve(centre.astype(np.uint8), np.ones((3, 3), np.uint8), mode="constant") - 1
    ends = np.argwhere(centre & (neighbours == 1))
    return np.array([end for end in ends if _branch_length(centre, neighbours, end, spur) >= spur],
                    dtype=int).reshape(-1, 2)


def _branch_length(centre: np.ndarray, neighbours: np.ndarray, end: np.ndarray, limit: float) -> int:
    """Steps from ``end`` along its branch to a fork (or its other end), stopping at ``limit``."""
    previous, (r, c), steps = None, end, 0
    while steps < limit:
        around = [(r + dr, c + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr or dc)
                  and 0 <= r + dr < centre.shape[0] and 0 <= c + dc < centre.shape[1] and centre[r + dr, c + dc]
                  and (r + dr, c + dc) != previous]
        if len(around) != 1 or neighbours[around[0]] > 2:
            return steps
        previous, (r, c), steps = (r, c), around[0], steps + 1
    return steps


def uneven_ink(centre: np.ndarray, width: float, rng: np.random.Generator, hand: Hand = UNEVEN,
               size: float | None = None) -> np.ndarray:
    """Ink of the centre lines drawn by ``hand``: drifting width, blots at some ends, maybe one gap.

    Parameters
    ----------
    centre : (H, W) bool ndarray
        One-pixel centre lines (`digit_plan`).
    width : float
        The pen's mean width in pixels.
    size : float, optional
        The digit's size in pixels, which sets how smoothly the width drifts (default: the array's height).

    Returns
    -------
    (H, W) float32 ndarray in [0, 1]
    """
    size = float(size or centre.shape[0])
    noise = gaussian_filter(rng.standard_normal(centre.shape), sigma=hand.drift_scale * size)
    noise /= noise.std() or 1.0
    widths = width * np.exp(np.clip(hand.drift * noise, -hand.widest, hand.widest))
    rows, cols = np.ogrid[: centre.shape[0], : centre.shape[1]]
    centre = centre.copy()
    points = np.argwhere(centre)
    if len(points) and rng.random() < hand.lift_chance:
        r, c = points[rng.integers(len(points))]
        # The ink either side reaches half a width into the gap: cut that much more.
        cut = widths[r, c] * (1 + rng.uniform(*hand.gap)) / 2
        centre &= (rows - r) ** 2 + (cols - c) ** 2 > cut**2
    if not centre.any():
        return np.zeros(centre.shape, np.float32)
    distance, (near_r, near_c) = distance_transform_edt(~centre, return_indices=True)
    ink = np.clip(widths[near_r, near_c] / 2 - distance + 0.5, 0.0, 1.0)
    for r, c in stroke_ends(centre, spur=max(1.5 * width, 0.1 * size)):
        if rng.random() < hand.blot_chance:
            radius = widths[r, c] * rng.uniform(*hand.blot) / 2
            disc = radius - np.sqrt((rows - r) ** 2 + (cols - c) ** 2) + 0.5
            ink = np.maximum(ink, np.clip(disc, 0.0, 1.0))
    return ink.astype(np.float32)


# Redrawn digits are rendered this many times larger than the 20 px box.
_REDRAW_SCALE = 4


def redraw(digit: np.ndarray, pen: float, hand: Hand | None = None, seed: int | None = None) -> np.ndarray:
    """One MNIST digit redrawn with a canvas pen, then prepared as the draw page prepares drawings.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray
    pen : float
        Pen width in pixels of the 20 px digit box (MNIST's own median is 2.6).
    hand : Hand, optional
        Draw with this uneven hand (`uneven_ink`) instead of the steady round pen.
    seed : int, optional
        Seeds the hand's randomness.

    Returns
    -------
    (28, 28) uint8 ndarray
    """
    height = DIGIT_BOX * _REDRAW_SCALE
    brush = pen * _REDRAW_SCALE
    # Room for the widest ink: a blot of the widest drift.
    reach = brush / 2 if hand is None else brush * np.exp(hand.widest) * hand.blot[1] / 2
    margin = int(reach) + 2
    canvas = height + 2 * margin
    if hand is None:
        rgba = render_digit(digit, height, brush, margin, margin, canvas=canvas)
    else:
        centre, solid = digit_plan(digit, height, brush, margin, margin, canvas)
        rgba = ink_rgba(np.maximum(uneven_ink(centre, brush, np.random.default_rng(seed), hand, size=height), solid))
    image = canvas_to_mnist(rgba)
    return digit if image is None else np.round(image * 255).astype(np.uint8)


def redraw_many(digits: np.ndarray, pens: tuple[float, float] = (0.8, 4.0), seed: int = 0,
                progress=None, uneven: float = 0.0) -> np.ndarray:
    """`redraw` every digit with a random pen width, on every CPU core.

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray
    pens : (float, float)
        Range of pen widths, in pixels of the 20 px box.
    progress : callable, optional
        Called with the number of digits done so far.
    uneven : float
        Share of the digits drawn by the uneven hand (`UNEVEN`) instead of the round pen.

    Returns
    -------
    (N, 28, 28) uint8 ndarray
    """
    import os
    from concurrent.futures import ProcessPoolExecutor

    rng = np.random.default_rng(seed)
    widths = rng.uniform(*pens, size=len(digits))
    # A seed per digit for the uneven ones, -1 for the round pen.
    seeds = np.where(rng.random(len(digits)) < uneven, rng.integers(0, 2**31, len(digits)), -1)
    out = np.empty_like(digits)
    chunk = 500
    starts = range(0, len(digits), chunk)
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        jobs = [pool.submit(_redraw_chunk, digits[i : i + chunk], widths[i : i + chunk], seeds[i : i + chunk])
                for i in starts]
        for i, job in zip(starts, jobs):
            out[i : i + chunk] = job.result()
            if progress is not None:
                progress(min(i + chunk, len(digits)))
    return out


def _redraw_chunk(digits: np.ndarray, widths: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    return np.stack([redraw(d, w) if s < 0 else redraw(d, w, UNEVEN, int(s)) for d, w, s in zip(digits, widths, seeds)])
