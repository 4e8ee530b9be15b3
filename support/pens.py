"""MNIST digits re-stroked by a second, independent pen: a benchmark family the training never saw.

Not part of the product. The default model trains on digits re-stroked by
`digits.redraw`: one round pen of fixed width along the skeleton. A benchmark
drawn that way shares the training renderer, so this module draws the same kind
of digits differently, closer to a hand on a tablet: the skeleton is walked
into ordered strokes (`support.drawings.pen_paths`), then each stroke is drawn
with its own pressure (the width swells and thins along it), a hand's tremor
(smooth positional jitter), overshoot past the stroke's ends, an occasional
pen lift (a small gap), a slant (shear), at a random size and position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt, gaussian_filter1d
from skimage.morphology import skeletonize
from skimage.transform import rescale

from digits.config import CANVAS_SIZE
from support.drawings import pen_paths


@dataclass(frozen=True)
class Pen:
    """How the hand draws; ranges are (low, high) drawn uniformly per digit."""

    sizes: tuple = (0.2, 0.9)  # the digit's height, as a fraction of the canvas
    brushes: tuple = (0.05, 0.16)  # the pen's mean width, as a fraction of the digit's height
    brush_limits: tuple = (6, 48)  # the draw page's brush slider range, in canvas pixels
    pressure: float = 0.35  # how far the width swings around its mean along a stroke (fraction)
    slants: tuple = (-0.35, 0.35)  # shear: columns moved per row, bottom to top (tan of the slant)
    tremor: float = 0.008  # smooth jitter of the pen's position, as a fraction of the digit's height
    overshoot: tuple = (0.0, 0.07)  # extension past each stroke end, as a fraction of the height
    lift_chance: float = 0.2  # chance that one stroke of a digit has a small gap in it


# MNIST digits are traced at this many working pixels per MNIST pixel.
_TRACE_SCALE = 4
# Parts wider than this many MNIST pixels are inked solid (a blotted loop), coloured in by the pen.
_SOLID_WIDTH = 4.5


def trace(digit: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The pen strokes that draw an MNIST digit: its centre lines, and the colouring-in of blots.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray
        White ink on black.

    Returns
    -------
    lines : list of (K, 2) float ndarrays
        Strokes along the centre lines, (row, column) in MNIST pixels, in drawing order.
    fills : list of (2, 2) float ndarrays
        Straight strokes that colour in solid parts, in MNIST pixels.
    """
    big = rescale(digit.astype(np.float32) / 255.0, _TRACE_SCALE, order=3)
    mask = big > 0.45
    depth = distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    solid = distance_transform_edt(depth < _SOLID_WIDTH * _TRACE_SCALE / 2) <= _SOLID_WIDTH * _TRACE_SCALE / 2
    solid &= mask
    lines = [p for p in pen_paths(skeletonize(mask)) if len(p) >= _TRACE_SCALE]  # drop one-pixel spurs
    fills = pen_paths(np.zeros_like(mask), solid.astype(np.float32), brush=_TRACE_SCALE) if solid.any() else []
    # Smooth the pixel staircase of the centre lines: a hand moves in curves, not in pixel steps.
    lines = [gaussian_filter1d(p, _TRACE_SCALE / 2, axis=0, mode="nearest") for p in lines]
    return [p / _TRACE_SCALE for p in lines], [p / _TRACE_SCALE for p in fills]


def _smooth_noise(rng: np.random.Generator, n: int, correlation: float) -> np.ndarray:
    """(n,) noise of unit standard deviation that drifts over about ``correlation`` samples.

    White noise smoothed by a Gaussian of that width, scaled by the smoothing's known gain (so a
    short stroke does not get its few, nearly equal samples blown up to unit spread).
    """
    sigma = max(correlation, 0.5)
    pad = int(4 * sigma) + 1
    x = np.arange(-pad, pad + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    gain = np.sqrt(np.sum((kernel / kernel.sum()) ** 2))
    return gaussian_filter1d(rng.standard_normal(n + 2 * pad), sigma, truncate=4.0)[pad : pad + n] / gain


def _resample(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline ``points`` ((K, 2) -> (M, 2)), ends kept."""
    lengths = np.r_[0, np.cumsum(np.hypot(*np.diff(points, axis=0).T))]
    at = np.linspace(0, lengths[-1], max(2, int(np.ceil(lengths[-1] / step)) + 1))
    return np.stack([np.interp(at, lengths, points[:, 0]), np.interp(at, lengths, points[:, 1])], axis=1)


def _extend(points: np.ndarray, length: float) -> np.ndarray:
    """The polyline with each end carried ``length`` further along its last direction."""
    if len(points) < 3 or length <= 0:
        return points
    k = min(4, len(points) - 1)
    ends = []
    for tip, back in ((points[0], points[k]), (points[-1], points[-1 - k])):
        direction = tip - back
        ends.append(tip + direction / (np.hypot(*direction) + 1e-9) * length)
    return np.vstack([ends[0], points, ends[1]])


def stamp(ink: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> None:
    """Press round, anti-aliased pen tips of ``radii`` at ``centres`` into ``ink`` (in place).

    Parameters
    ----------
    ink : (H, W) float32 ndarray in [0, 1]
        Modified in place: the maximum of itself and each tip's coverage.
    centres : (M, 2) float ndarray
        (row, column) of each tip, in pixels.
    radii : (M,) float ndarray
    """
    height, width = ink.shape
    for (r, c), radius in zip(centres, radii):
        r0, r1 = max(0, int(r - radius - 1)), min(height, int(r + radius + 2))
        c0, c1 = max(0, int(c - radius - 1)), min(width, int(c + radius + 2))
        if r0 >= r1 or c0 >= c1:
            continue
        rows, cols = np.ogrid[r0:r1, c0:c1]
        cover = np.clip(radius - np.sqrt((rows - r) ** 2 + (cols - c) ** 2) + 0.5, 0.0, 1.0)
        np.maximum(ink[r0:r1, c0:c1], cover, out=ink[r0:r1, c0:c1])


def pen_drawing(digit: np.ndarray, rng: np.random.Generator, pen: Pen = Pen(), canvas: int = CANVAS_SIZE) -> np.ndarray:
    """Re-stroke one MNIST digit on a transparent canvas with the hand-like pen.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray
    rng : numpy Generator
        Every random choice comes from it.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
        Black ink on a transparent background: the alpha channel is the ink.
    """
    lines, fills = trace(digit)
    strokes = lines + fills
    every = np.vstack(strokes)
    top_left, extent = every.min(0), np.ptp(every, axis=0).max() + 1e-9
    height = rng.uniform(*pen.sizes) * canvas
    scale = height / extent
    brush = float(np.clip(rng.uniform(*pen.brushes) * height, *pen.brush_limits))
    slant = rng.uniform(*pen.slants)
    lift = rng.integers(len(lines)) if lines and rng.random() < pen.lift_chance else -1

    centres, radii = [], []
    for i, stroke in enumerate(strokes):
        points = (stroke - top_left) * scale
        if i < len(lines):  # the hand runs on past the ends of a line, not of a colouring-in stroke
            points = _extend(points, rng.uniform(*pen.overshoot) * height)
        step = max(0.5, brush / 8)
        points = _resample(points, step)
        n = len(points)
        drift = pen.tremor * height * np.stack([_smooth_noise(rng, n, 0.15 * height / step) for _ in range(2)], axis=1)
        points = points + drift
        points[:, 1] -= slant * (points[:, 0] - height / 2)  # lean: tops move right for positive slant
        t = np.linspace(0, 1, n)
        # Pressure: the pen lands lightly, presses in the middle, lifts off; and wavers on the way.
        swell = 0.8 + 0.35 * np.sin(np.pi * t) ** 0.5 + pen.pressure * 0.5 * _smooth_noise(rng, n, 0.3 * height / step)
        widths = brush * np.clip(swell, 1 - pen.pressure, 1 + pen.pressure)
        keep = np.ones(n, bool)
        if i == lift and n * step > 4 * brush:  # a pen lift: a small gap mid-stroke (the tips' caps cover one brush)
            gap = int((brush + rng.uniform(1, 0.04 * height)) / step)
            start = rng.integers(n // 4, max(n // 4 + 1, 3 * n // 4 - gap))
            keep[start : start + gap] = False
        centres.append(points[keep])
        radii.append(np.maximum(widths[keep] / 2, 1.0))
    centres, radii = np.vstack(centres), np.concatenate(radii)

    # Place the drawing at random, whole on the canvas with a blank pixel all round (a tip's anti-aliased
    # edge reaches half a pixel past its radius); shrink it first if slant and overshoot made it too big.
    low, high = (centres - radii[:, None]).min(0), (centres + radii[:, None]).max(0)
    fit = min(1.0, (canvas - 4) / (high - low).max())
    centres, radii = (centres - low) * fit + 1.5, radii * fit
    room = canvas - 4 - (high - low) * fit
    centres = centres + rng.uniform(0, np.maximum(room, 0))
    ink = np.zeros((canvas, canvas), np.float32)
    stamp(ink, centres, radii)
    rgba = np.zeros((canvas, canvas, 4), np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return rgba


def pen_drawings(digits: np.ndarray, seed: int = 0, pen: Pen = Pen(), canvas: int = CANVAS_SIZE) -> np.ndarray:
    """`pen_drawing` of each digit, repeatable from ``seed``.

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray

    Returns
    -------
    (N, canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    return np.stack([pen_drawing(d, rng, pen, canvas) for d in digits]) if len(digits) else \
        np.zeros((0, canvas, canvas, 4), np.uint8)
