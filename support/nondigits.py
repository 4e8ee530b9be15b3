"""Drawings that are not digits, on the draw page's canvas: shapes, scribbles, letters, digits crossed out.

Not part of the product: ``bench.not_a_digit`` measures how many of them the
draw page flags. Everything is seeded. Shapes are polylines in a unit square,
jittered, rotated, scaled and placed at random, then stroked with the canvas's
round pen (``digits.redraw.stroke_rgba``). Letters are glyphs from Debian's
font packages, reduced to their centre lines and re-stroked with the pen, so
they look drawn rather than typeset. Letters that people also write for a
digit (O, I, l, S, Z, B, g, q, ...) are left out: no reader could tell them
apart, and a benchmark that expects it would measure nothing useful.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.morphology import skeletonize
from skimage.transform import resize

from digits.config import CANVAS_SIZE
from digits.doodles import centre_lines, glyph_ink
from digits.redraw import render_digit, stroke_rgba

# Letters that read as a digit in someone's hand: 0 (O o Q D), 1 (I l i j J T), 2 (Z z), 5 (S s),
# 6 (b G), 8 (B), 9 (g q). Every other Latin letter is drawn.
DIGIT_LIKE = set("OoQDIlijJTZzSsbGBgq")
LETTERS = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in DIGIT_LIKE)
# Letters are typeset in Debian's fonts (fonts-comic-neue, fonts-urw-base35): families the
# detector's own generator (digits.doodles.FONTS) never uses.
BENCH_FONTS = [
    "/usr/share/fonts/opentype/comic-neue/ComicNeue-Regular.otf",
    "/usr/share/fonts/opentype/urw-base35/URWGothic-Book.otf",
    "/usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf",
    "/usr/share/fonts/opentype/urw-base35/NimbusRoman-Italic.otf",
]


def _circle(t0: float, t1: float, n: int = 24, r: float = 0.5, cx: float = 0.5, cy: float = 0.5) -> np.ndarray:
    t = np.linspace(t0, t1, n)
    return np.stack([cy - r * np.sin(t), cx + r * np.cos(t)], axis=1)


def _star() -> list[np.ndarray]:
    t = np.pi / 2 + np.arange(6) * 4 * np.pi / 5  # every second point of a pentagon, closed
    return [np.stack([0.5 - 0.5 * np.sin(t), 0.5 + 0.5 * np.cos(t)], axis=1)]


def _heart() -> list[np.ndarray]:
    t = np.linspace(0, 2 * np.pi, 40)
    x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return [np.stack([(12 - y) / 29, (x + 17) / 34], axis=1)]


def _spiral(rng) -> list[np.ndarray]:
    t = np.linspace(0, rng.uniform(2.5, 4) * 2 * np.pi, 120)
    r = 0.5 * t / t[-1]
    return [np.stack([0.5 - r * np.sin(t), 0.5 + r * np.cos(t)], axis=1)]


def _zigzag(rng) -> np.ndarray:
    n = int(rng.integers(5, 11))
    return np.stack([np.arange(n) % 2 + rng.normal(0, 0.05, n), np.linspace(0, 1, n)], axis=1)


def _scribble(rng) -> np.ndarray:
    # A pen that keeps some momentum: the heading drifts, so the line loops and doubles back.
    heading = np.cumsum(rng.normal(0, 0.9, int(rng.integers(20, 50))))
    return np.cumsum(np.stack([np.sin(heading), np.cos(heading)], axis=1), axis=0)


SHAPES = {
    "star": lambda rng: _star(),
    "heart": lambda rng: _heart(),
    "spiral": _spiral,
    "house": lambda rng: [np.array([[1, 0.1], [0.4, 0.1], [0, 0.5], [0.4, 0.9], [1, 0.9], [1, 0.1], [0.4, 0.1],
                                    [0.4, 0.9]]), np.array([[1, 0.42], [0.7, 0.42], [0.7, 0.58], [1, 0.58]])],
    "smiley": lambda rng: [_circle(0, 2 * np.pi, 40), _circle(-2.6, -0.54, 12, 0.3),
                           np.array([[0.33, 0.35], [0.38, 0.35]]), np.array([[0.33, 0.65], [0.38, 0.65]])],
    "triangle": lambda rng: [np.array([[1, 0], [0, 0.5], [1, 1], [1, 0]])],
    "square": lambda rng: [np.array([[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]])],
    "arrow": lambda rng: [np.array([[0.5, 0], [0.5, 1]]), np.array([[0.2, 0.7], [0.5, 1], [0.8, 0.7]])],
    "hash": lambda rng: [np.array([[0, 0.35], [1, 0.3]]), np.array([[0, 0.7], [1, 0.65]]),
                         np.array([[0.3, 0], [0.35, 1]]), np.array([[0.7, 0], [0.65, 1]])],
    "scribble": lambda rng: [_scribble(rng)],
    "zigzag": lambda rng: [_zigzag(rng)],
}


def _place(strokes: list[np.ndarray], rng, canvas: int) -> tuple[list[np.ndarray], float]:
    """Jitter, rotate and stretch unit-square strokes, then scale and move them onto the canvas."""
    points = np.concatenate(strokes)
    lo, span = points.min(0), np.maximum(np.ptp(points, 0), 1e-6)
    angle = rng.uniform(-0.35, 0.35)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    stretch = np.exp(rng.uniform(-0.25, 0.25, 2))
    moved = [((s - lo) / span.max() - 0.5) * stretch @ turn.T + rng.normal(0, 0.015, s.shape) for s in strokes]
    points = np.concatenate(moved)
    lo, span = points.min(0), np.ptp(points, 0).max()
    size = rng.uniform(0.3, 0.85) * canvas
    brush = float(np.clip(rng.uniform(0.04, 0.15) * size, 6, 48))
    margin = brush / 2 + 1
    offset = rng.uniform(margin, np.maximum(margin + 1, canvas - margin - size * np.ptp(points, 0) / span), 2)
    return [(s - lo) / span * size + offset for s in moved], brush


def shape(kind: str, seed: int, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """One shape from `SHAPES`, drawn at a random size, angle, pen and place.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
        Ink in the alpha channel, as the canvas records it.
    """
    rng = np.random.default_rng(seed)
    strokes, brush = _place(SHAPES[kind](rng), rng, canvas)
    return stroke_rgba(centre_lines(strokes, canvas), brush)


def glyph(letter: str, font: str, size: int = 160) -> np.ndarray:
    """The centre lines of one typeset letter: (h, w) bool ndarray, cropped to the letter."""
    return skeletonize(glyph_ink(letter, font, size))


def letter(char: str, font: str, seed: int, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """A letter re-stroked with the canvas pen, at a random size, pen width and place.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    centre = glyph(char, font)
    height = rng.uniform(0.3, 0.85) * canvas
    scale = height / max(centre.shape)
    h, w = max(1, round(centre.shape[0] * scale)), max(1, round(centre.shape[1] * scale))
    small = skeletonize(resize(centre.astype(float), (h, w), order=1, anti_aliasing=True) > 0.05)
    brush = float(np.clip(rng.uniform(0.04, 0.15) * height, 6, 48))
    margin = int(brush / 2) + 1
    top = int(rng.integers(margin, max(margin + 1, canvas - h - margin)))
    left = int(rng.integers(margin, max(margin + 1, canvas - w - margin)))
    skeleton = np.zeros((canvas, canvas), bool)
    skeleton[top : top + h, left : left + w] = small[: canvas - top, : canvas - left]
    return stroke_rgba(skeleton, brush)


def crossed_out(digit: np.ndarray, seed: int, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """An MNIST digit drawn on the canvas, then scribbled over with a zigzag across it.

    Parameters
    ----------
    digit : (28, 28) uint8 ndarray

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
    """
    rng = np.random.default_rng(seed)
    height = int(rng.uniform(0.4, 0.85) * canvas)
    brush = float(np.clip(rng.uniform(0.04, 0.12) * height, 6, 48))
    margin = int(brush / 2) + 1
    top, left = rng.integers(margin, max(margin + 1, canvas - height - margin), size=2)
    drawn = render_digit(digit, height, brush, int(top), int(left), canvas)
    rows, cols = np.flatnonzero(drawn[..., 3].any(1)), np.flatnonzero(drawn[..., 3].any(0))
    n = int(rng.integers(6, 12))  # back and forth across the digit, top to bottom
    zig = np.stack([np.linspace(rows[0], rows[-1], n) + rng.normal(0, 3, n),
                    np.where(np.arange(n) % 2, cols[-1], cols[0]) + rng.normal(0, 5, n)], axis=1)
    over = stroke_rgba(centre_lines([zig], canvas), brush)
    drawn[..., 3] = np.maximum(drawn[..., 3], over[..., 3])
    return drawn


def collection(digits: np.ndarray, per_kind: int, seed: int, kinds, fonts) -> dict[str, np.ndarray]:
    """``per_kind`` canvases of every shape in ``kinds``, of letters in ``fonts``, and of crossed-out ``digits``.

    Parameters
    ----------
    digits : (M, 28, 28) uint8 ndarray
        MNIST digits to cross out (the first ``per_kind`` are used).

    Returns
    -------
    dict of kind -> (per_kind, canvas, canvas, 4) uint8 ndarray
    """
    out = {kind: np.stack([shape(kind, seed * 100_003 + i) for i in range(per_kind)]) for kind in kinds}
    fonts = [f for f in fonts if Path(f).exists()]
    rng = np.random.default_rng(seed)
    picks = [(LETTERS[rng.integers(len(LETTERS))], fonts[i % len(fonts)]) for i in range(per_kind)]
    out["letter"] = np.stack([letter(c, f, seed * 100_003 + i) for i, (c, f) in enumerate(picks)])
    out["crossed-out digit"] = np.stack([crossed_out(d, seed * 100_003 + i) for i, d in enumerate(digits[:per_kind])])
    return out


def benchmark(test_digits: np.ndarray, per_kind: int = 200, seed: int = 0) -> dict[str, np.ndarray]:
    """The not-a-digit benchmark: every shape, letters in `BENCH_FONTS`, crossed-out MNIST *test* digits."""
    return collection(test_digits, per_kind, seed, list(SHAPES), BENCH_FONTS)
