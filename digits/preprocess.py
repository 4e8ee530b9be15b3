"""Canvas RGBA -> an MNIST-style 28x28 digit, the way MNIST itself was made.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio, then
placed in a 28x28 frame with their centre of mass at the centre. A plain resize
of the whole canvas skips both steps, which is why small, large or off-centre
drawings fail in naive apps. Every function here is pure: inputs are never
modified.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from skimage.transform import resize

from digits.config import DIGIT_BOX, IMAGE_SIZE

# Alpha above this (out of 1) counts as ink when finding the digit's extent;
# fainter pixels are the anti-aliased fringe of a stroke.
INK_THRESHOLD = 0.2
# A drawing whose longest side is under this fraction of the canvas's shorter
# side is a speck (a click, a stray dot), not a digit.
MIN_EXTENT = 0.1
# MNIST's mean centre of mass, (row, column), measured on the test set.
CENTRE = (14.0, 14.0)


@dataclass(frozen=True)
class Steps:
    """The intermediate images of one preprocessing run, for teaching."""

    ink: np.ndarray  # (H, W) float32 in [0, 1]: the canvas's alpha channel
    crop: np.ndarray  # (h, w) float32: the ink's bounding box
    fitted: np.ndarray  # (20, 20) float32: longest side scaled to 20 px
    centred: np.ndarray  # (28, 28) float32: what the model sees


def ink_from_canvas(rgba: np.ndarray) -> np.ndarray:
    """The ink of a transparent-background canvas: its alpha channel, scaled to [0, 1].

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray

    Returns
    -------
    ink : (H, W) float32 ndarray in [0, 1]
        A new array; ``rgba`` is left as it was.
    """
    if not isinstance(rgba, np.ndarray):
        raise ValueError(f"expected an RGBA canvas as a numpy array, got {type(rgba).__name__}")
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"expected an RGBA canvas of shape (H, W, 4), got {rgba.shape}")
    if rgba.dtype != np.uint8:
        raise ValueError(f"expected an RGBA canvas of dtype uint8, got {rgba.dtype}")
    if rgba.shape[0] == 0 or rgba.shape[1] == 0:
        raise ValueError(f"expected a canvas with at least one pixel, got {rgba.shape}")
    return rgba[..., 3].astype(np.float32) / 255.0


def ink_rgba(ink: np.ndarray) -> np.ndarray:
    """(H, W) ink in [0, 1] as canvas RGBA (H, W, 4) uint8: black ink on a transparent background.

    The inverse of `ink_from_canvas`, to the nearest 1/255.
    """
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return rgba


def bounding_box(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[slice, slice] | None:
    """Row and column slices of the pixels above ``threshold``, or None when there are none."""
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    if rows.size == 0:
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def fit_box(crop: np.ndarray, box: int = DIGIT_BOX) -> np.ndarray:
    """Scale ``crop`` so its longest side is ``box`` pixels, keeping the aspect ratio.

    Exactly scikit-image's ``resize(square, (box, box), order=1,
    anti_aliasing=True, preserve_range=True)`` of the crop padded to a square
    (so both axes scale by the same factor: rounding a thin digit's width to
    whole pixels would squash it), with its anti-aliasing Gaussian pre-filter
    as MNIST's downscaling had. Computed as one linear map per axis
    (`resampling`) applied to the crop alone: the padding is zeros, so it
    costs nothing, where filtering the whole padded square took 3 ms for a
    300-pixel drawing and half a second for a 3 x 1,500 stroke. The result is
    rescaled so its brightest pixel is 1, like MNIST's strokes.

    Parameters
    ----------
    crop : (h, w) float32 ndarray in [0, 1]

    Returns
    -------
    (box, box) float32 ndarray in [0, 1]
    """
    h, w = crop.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    along = resampling(side, box)
    fitted = along[:, top : top + h] @ crop.astype(np.float64) @ along[:, left : left + w].T
    # resize clips to the range of the square it was given: the crop's, and the padding's zeros.
    low = float(crop.min()) if h == w else min(float(crop.min()), 0.0)
    fitted = np.clip(fitted, low, float(crop.max())).astype(np.float32)
    peak = fitted.max()
    return fitted / peak if peak > 0 else fitted


def _mirror(index: np.ndarray, n: int) -> np.ndarray:
    """Indices past either end of ``n`` samples reflected about the end samples (d c b | a b c d | c b a)."""
    if n == 1:
        return np.zeros_like(index)
    period = 2 * n - 2
    index = np.abs(index) % period
    return np.where(index > n - 1, period - index, index)


@functools.lru_cache(maxsize=256)
def resampling(n: int, out: int) -> np.ndarray:
    """What ``skimage.transform.resize(..., order=1, anti_aliasing=True)`` does along one axis of ``n`` samples.

    Its steps, as scikit-image 0.2x runs them through scipy.ndimage: a Gaussian
    of sigma ``(n / out - 1) / 2`` (none when enlarging), truncated at 4 sigma,
    then linear interpolation at ``(o + 0.5) * n / out - 0.5`` for each output
    sample ``o``, both reflecting about the end samples (``mode="reflect"``,
    ndimage's "mirror"). Only the filtered samples the interpolation reads are
    computed. `tests/test_preprocess.py` checks the result against ``resize`` itself.

    Returns
    -------
    (out, n) float64 ndarray
        Row ``o``: the weight of each input sample in output sample ``o``.
    """
    factor = n / out
    x = (np.arange(out) + 0.5) * factor - 0.5
    first = np.floor(x).astype(int)
    t = x - first
    interpolate = np.zeros((out, n))
    np.add.at(interpolate, (np.arange(out), _mirror(first, n)), 1 - t)
    np.add.at(interpolate, (np.arange(out), _mirror(first + 1, n)), t)
    sigma = max(0.0, (factor - 1) / 2)
    if sigma <= 1e-15:  # ndimage skips the filter along such an axis
        interpolate.flags.writeable = False
        return interpolate
    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / sigma**2 * offsets**2)
    kernel /= kernel.sum()
    read = np.flatnonzero(interpolate.any(axis=0))
    gaussian = np.zeros((len(read), n))
    for row, sample in enumerate(read):
        np.add.at(gaussian[row], _mirror(sample + offsets, n), kernel)
    weights = interpolate[:, read] @ gaussian
    weights.flags.writeable = False  # shared by every caller through the cache
    return weights


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted centre of a non-empty image."""
    total = image.sum()
    rows = (image.sum(axis=1) * np.arange(image.shape[0])).sum() / total
    cols = (image.sum(axis=0) * np.arange(image.shape[1])).sum() / total
    return float(rows), float(cols)


def _whole_pixels(shift: float) -> int:
    """``shift`` rounded to whole pixels, a half up: a symmetric digit's shift is a half pixel,
    and float noise in its last digits (1e-7) must not decide which way it goes."""
    return int(np.floor(round(shift, 4) + 0.5))


def place_centred(fitted: np.ndarray, size: int = IMAGE_SIZE, centre: tuple[float, float] = CENTRE) -> np.ndarray:
    """Paste ``fitted`` into a blank ``size`` x ``size`` frame, centre of mass at ``centre``.

    The shift is rounded to whole pixels (no resampling blur) and clamped so
    the digit stays inside the frame.

    Parameters
    ----------
    fitted : (h, w) float32 ndarray, h and w at most ``size``

    Returns
    -------
    (size, size) float32 ndarray
    """
    com_row, com_col = centre_of_mass(fitted)
    top = int(np.clip(_whole_pixels(centre[0] - com_row), 0, size - fitted.shape[0]))
    left = int(np.clip(_whole_pixels(centre[1] - com_col), 0, size - fitted.shape[1]))
    frame = np.zeros((size, size), np.float32)
    frame[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return frame


def preprocess_steps(rgba: np.ndarray, min_extent: float = MIN_EXTENT) -> Steps | None:
    """Run the whole pipeline and keep every intermediate image.

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
        The canvas; its background is transparent, so ink is the alpha channel.
    min_extent : float
        Drawings whose longest side is under this fraction of the canvas's
        shorter side are specks, not digits.

    Returns
    -------
    Steps or None
        None when there is no ink, or only a speck.
    """
    return ink_steps(ink_from_canvas(rgba), min_extent)


def ink_steps(ink: np.ndarray, min_extent: float = 0.0) -> Steps | None:
    """Crop, fit and centre ink (a canvas's, or one digit's of several), keeping every step.

    Parameters
    ----------
    ink : (H, W) float32 ndarray in [0, 1]
    min_extent : float
        As in `preprocess_steps`; 0 keeps any ink at all.

    Returns
    -------
    Steps or None
        None when there is no ink, or only a speck.
    """
    box = bounding_box(ink)
    if box is None:
        return None
    crop = ink[box]
    if max(crop.shape) < min_extent * min(ink.shape):
        return None
    fitted = fit_box(crop)
    return Steps(ink=ink, crop=crop, fitted=fitted, centred=np.clip(place_centred(fitted), 0.0, 1.0))


def canvas_to_mnist(rgba: np.ndarray) -> np.ndarray | None:
    """Turn a drawing into the 28x28 image an MNIST model expects.

    Crops to the ink, fits the longest side to 20 px with anti-aliasing keeping
    the aspect ratio, and centres the centre of mass in a 28x28 frame.

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
        The canvas, any H and W; ink is the alpha channel. Not modified.

    Returns
    -------
    (28, 28) float32 ndarray in [0, 1], or None
        None when there is no digit to read (a blank canvas or a speck).

    Raises
    ------
    ValueError
        When ``rgba`` is not an (H, W, 4) uint8 array.
    """
    steps = preprocess_steps(rgba)
    return None if steps is None else steps.centred


def naive_resize(rgba: np.ndarray, anti_aliasing: bool = True) -> np.ndarray:
    """The whole canvas squeezed to 28x28, as naive canvas apps feed their model.

    The baseline ``canvas_to_mnist`` is measured against: no crop, no 20 px box,
    no centring, so a small or off-centre drawing stays small or off-centre.

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
        The canvas; ink is the alpha channel. Not modified.
    anti_aliasing : bool
        Smooth before downsampling (the kindest naive resize). Without it the
        resize is plain bilinear sampling, as ``cv2.resize`` does by default.

    Returns
    -------
    (28, 28) float32 ndarray in [0, 1]
    """
    size = (IMAGE_SIZE, IMAGE_SIZE)
    return resize(ink_from_canvas(rgba), size, order=1, anti_aliasing=anti_aliasing).astype(np.float32)
