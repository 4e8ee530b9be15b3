"""Image helpers for the pages: enlarge, fit, tile and colour small arrays for st.image (pure functions)."""

from __future__ import annotations


import numpy as np


def image_grid(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """Tile images into one picture, row by row, with a thin grey gap.

    Parameters
    ----------
    images : (N, H, W) ndarray, uint8 or float in [0, 1]

    Returns
    -------
    (rows * (H + gap) - gap, columns * (W + gap) - gap) uint8 ndarray
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0, 1) * 255).astype(np.uint8)
    n, h, w = images.shape
    rows = max(1, -(-n // columns))
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), 96, np.uint8)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = image
    return grid


def normalise_each(maps: np.ndarray) -> np.ndarray:
    """Scale each map to [0, 1] by its own range, so faint and strong maps are both visible.

    Parameters
    ----------
    maps : (N, H, W) float ndarray

    Returns
    -------
    (N, H, W) float32 ndarray in [0, 1]; a constant map becomes all zeros
    """
    maps = np.asarray(maps, np.float32)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)


def saliency_overlay(image: np.ndarray, saliency: np.ndarray) -> np.ndarray:
    """The input in grey with the saliency laid over it in the accent colour.

    Parameters
    ----------
    image : (H, W) float ndarray in [0, 1]
    saliency : (H, W) float ndarray in [0, 1]

    Returns
    -------
    (H, W, 3) uint8 ndarray
    """
    accent = np.array([0xE4, 0x57, 0x2E], np.float32) / 255
    grey = np.clip(image, 0, 1)[..., None] * 0.55
    weight = np.clip(saliency, 0, 1)[..., None]
    return np.round((grey * (1 - weight) + accent * weight) * 255).astype(np.uint8)


def pixelated(image: np.ndarray, scale: int = 8) -> np.ndarray:
    """Enlarge an image by repeating pixels, so the browser shows crisp squares.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) ndarray: uint8, or float in [0, 1]

    Returns
    -------
    (H * scale, W * scale[, 3]) uint8 ndarray
    """
    image = np.asarray(image)
    grey = image if image.dtype == np.uint8 else np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)


def fit_to(image: np.ndarray, size: int, square: bool = False) -> np.ndarray:
    """Pixelate ``image`` so its longest side is about ``size`` pixels (at least 1x).

    With ``square``, it is centred on a square of background (0) as wide as that
    side, so that images of any shape line up in a row of equal columns.

    Parameters
    ----------
    image : (H, W) ndarray: uint8, or float in [0, 1]

    Returns
    -------
    (H * k, W * k) uint8 ndarray, or (S, S) with S = max(H, W) * k when ``square``
    """
    big = pixelated(image, max(1, size // max(image.shape[:2])))
    if not square:
        return big
    h, w = big.shape[:2]
    side = max(h, w)
    out = np.zeros((side, side) + big.shape[2:], np.uint8)
    top, left = (side - h) // 2, (side - w) // 2
    out[top:top + h, left:left + w] = big
    return out
