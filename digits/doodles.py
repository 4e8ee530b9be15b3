"""Drawings that are not digits, made to teach the not-a-digit detector (`digits.detector`).

Five makers, each random and seeded: smooth curves (a few Fourier terms, so
they loop, wave and spiral), smooth lines through random points, polylines (open or closed, three to a dozen
corners), compositions of two to six primitives (rings, arcs, dots, bars
placed anywhere in the box, as faces, suns and doodles are made), and
glyphs from Debian's sans, serif and mono fonts: Latin letters that no one
writes for a digit, and the arrows, shapes and pictographs of Unicode's
symbol blocks. Everything is stroked with the canvas's round pen and
prepared as the draw page prepares a drawing.

The benchmark of non-digits (``support/nondigits.py``) is made another way
(hand-placed shapes, and letters in fonts kept out of this list), so it
measures what the detector learnt, not this file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from skimage.draw import line
from skimage.measure import EllipseModel
from skimage.morphology import skeletonize
from skimage.transform import resize

from digits.preprocess import canvas_to_mnist
from digits.redraw import stroke_rgba

CANVAS = 112  # small: drawings are rescaled to 20 px anyway, and rendering is the slow part
# Letters people also write for a digit (O, I, l, S, Z, B, g, q, ...) are never negatives.
DIGIT_LIKE = set("OoQDIlijJTZzSsbGBgqU")
LETTERS = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" if c not in DIGIT_LIKE]
# Unicode blocks of pictures people doodle: arrows, maths, shapes, miscellaneous symbols, dingbats.
SYMBOL_BLOCKS = [(0x2190, 0x21FF), (0x2200, 0x22FF), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x2700, 0x27BF)]
# Symbols that are digits or bars in a hand (a stroke, a circle, a ring with a dot).
SYMBOL_DIGIT_LIKE = set("∣∕∖−∼∘∙∣│◦○◯⚪⚬❘❙❚︱―─")
FONT_DIR = Path("/usr/share/fonts")
# Sans, serif and mono faces, upright and slanted. Kept out: every family the benchmarks type
# with (support/nondigits.py's BENCH_FONTS: Comic Neue, URW Gothic, Z003, Nimbus Roman; and
# support/fonts.py's handwriting fonts).
FONTS = [f"truetype/dejavu/DejaVu{face}.ttf" for face in
         ("Sans", "Sans-Oblique", "Sans-Bold", "SansCondensed", "SansMono", "Serif", "Serif-Italic",
          "SerifCondensed-Italic")] + \
        [f"truetype/liberation/Liberation{face}.ttf" for face in
         ("Sans-Regular", "Sans-Italic", "Mono-Regular", "Serif-Regular", "Serif-Italic")] + \
        [f"truetype/freefont/Free{face}.ttf" for face in ("Serif", "SerifItalic", "Mono", "SansOblique")] + \
        [f"opentype/urw-base35/{face}.otf" for face in
         ("URWBookman-Light", "URWBookman-LightItalic", "P052-Roman", "P052-Italic", "NimbusSans-Regular",
          "NimbusSans-Italic", "NimbusSansNarrow-Regular", "C059-Roman", "C059-Italic", "NimbusMonoPS-Regular")]


def _curve(rng) -> list[np.ndarray]:
    t = np.linspace(0, 1, 160)[:, None]
    k = np.arange(1, int(rng.integers(2, 7)) + 1)[None, :]
    a, phase = rng.normal(0, 1 / k, (2, k.size)), rng.uniform(0, 2 * np.pi, (2, k.size))
    turns = rng.uniform(0.5, 2.0)
    rows = (a[0] * np.sin(2 * np.pi * turns * k * t + phase[0])).sum(1)
    cols = (a[1] * np.cos(2 * np.pi * turns * k * t + phase[1])).sum(1)
    if rng.random() < 0.3:  # a spiral's growing radius, or a loop that drifts
        grow = np.linspace(rng.uniform(0.1, 0.5), 1, len(t))
        rows, cols = rows * grow, cols * grow + rng.uniform(-1, 1) * t[:, 0]
    return [np.stack([rows, cols], 1)]


def _spline(rng) -> list[np.ndarray]:
    """A smooth line through a handful of random points: a scribble, a loop, a squiggle."""
    from scipy.interpolate import splev, splprep

    points = rng.uniform(0, 1, (int(rng.integers(5, 14)), 2))
    spline, _ = splprep(points.T, s=0, k=3)
    return [np.stack(splev(np.linspace(0, 1, 200), spline), 1)]


def _polyline(rng) -> list[np.ndarray]:
    points = rng.uniform(0, 1, (int(rng.integers(4, 13)), 2))
    if rng.random() < 0.4:
        points = np.vstack([points, points[:1]])
    return [points]


def _ring(rng, r: float, centre: np.ndarray, start: float = 0.0, end: float = 2 * np.pi) -> np.ndarray:
    t = np.linspace(start, end, max(3, int(40 * abs(end - start) / (2 * np.pi))))
    stretch = rng.uniform(0.6, 1.4)
    return np.stack([centre[0] - r * np.sin(t), centre[1] + r * stretch * np.cos(t)], 1)


def _composition(rng) -> list[np.ndarray]:
    parts = []
    for _ in range(int(rng.integers(2, 7))):
        kind, centre = rng.integers(4), rng.uniform(0.15, 0.85, 2)
        r = rng.uniform(0.05, 0.5)
        if kind == 0:
            parts.append(_ring(rng, r, centre))
        elif kind == 1:
            start = rng.uniform(0, 2 * np.pi)
            parts.append(_ring(rng, r, centre, start, start + rng.uniform(0.8, 4)))
        elif kind == 2:
            parts.append(_ring(rng, rng.uniform(0.01, 0.04), centre))  # a dot
        else:
            parts.append(np.stack([centre, centre + rng.normal(0, 0.4, 2)]))
    return parts


def glyph_ink(char: str, font: str, size: int = 120) -> np.ndarray | None:
    """One glyph typeset at ``size`` px: (h, w) bool ndarray cropped to its ink; None when it has almost none."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (2 * size, 2 * size))
    ImageDraw.Draw(image).text((size // 2, size // 4), char, fill=255, font=ImageFont.truetype(font, size))
    ink = np.asarray(image) > 127
    if ink.sum() < 20:
        return None
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _font_has(char: str, font: str, size: int = 120) -> bool:
    """Whether ``font`` draws ``char`` as itself, not as its "missing" box."""
    from PIL import ImageFont

    face = ImageFont.truetype(font, size)
    return face.getmask(char).getbbox() != face.getmask("\uffff").getbbox()


def glyph_shapes(chars: list[str] | None = None, fonts: list[str] | None = None) -> list[np.ndarray]:
    """Each of ``chars`` (default: `LETTERS` and the symbols of `SYMBOL_BLOCKS`) in each font that exists.

    Returns
    -------
    list of (h, w) bool ndarray
        Every glyph's ink, typeset and cropped.
    """
    fonts = [str(FONT_DIR / f) for f in (fonts or FONTS) if (FONT_DIR / f).exists()]
    if chars is None:
        symbols = [chr(c) for lo, hi in SYMBOL_BLOCKS for c in range(lo, hi + 1) if chr(c) not in SYMBOL_DIGIT_LIKE]
        chars = LETTERS + symbols
    shapes = (glyph_ink(char, font) for font in fonts for char in chars if _font_has(char, font))
    return [ink for ink in shapes if ink is not None and min(ink.shape) > 2]


def _pen_lines(strokes: list[np.ndarray], rng, canvas: int) -> tuple[np.ndarray, float]:
    """Rotate, stretch and place unit-box strokes on the canvas as one-pixel lines; and a pen width."""
    points = np.concatenate(strokes)
    lo, span = points.min(0), max(np.ptp(points, 0).max(), 1e-6)
    angle = rng.uniform(-0.5, 0.5)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    stretch = np.exp(rng.uniform(-0.3, 0.3, 2))
    moved = [((s - lo) / span - 0.5) * stretch @ turn.T for s in strokes]
    points = np.concatenate(moved)
    lo, span = points.min(0), max(np.ptp(points, 0).max(), 1e-6)
    brush = rng.uniform(0.04, 0.16) * canvas
    size = canvas - 2 * brush - 2
    return centre_lines([(stroke - lo) / span * size + brush + 1 for stroke in moved], canvas), brush


def centre_lines(strokes: list[np.ndarray], canvas: int) -> np.ndarray:
    """(canvas, canvas) bool ndarray: one-pixel lines along each stroke's (row, col) points, in canvas pixels."""
    skeleton = np.zeros((canvas, canvas), bool)
    for stroke in strokes:
        p = np.clip(np.round(stroke).astype(int), 0, canvas - 1)
        for (r0, c0), (r1, c1) in zip(p, p[1:]):
            skeleton[line(r0, c0, r1, c1)] = True
        skeleton[p[0][0], p[0][1]] = True
    return skeleton


def glyph_drawing(ink: np.ndarray, rng, canvas: int = CANVAS) -> np.ndarray:
    """A typeset glyph as a canvas drawing: half the time as typed, else its centre lines re-stroked with the pen.

    Parameters
    ----------
    ink : (h, w) bool ndarray
        From `glyph_shapes`.

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
    """
    brush = rng.uniform(0.04, 0.16) * canvas
    size = canvas - 2 * brush - 2
    scale = size / max(ink.shape) * np.exp(rng.uniform(-0.2, 0.0, 2))
    h, w = (max(2, round(n * s)) for n, s in zip(ink.shape, scale))
    small = resize(ink.astype(float), (h, w), order=1, anti_aliasing=True)
    top = left = int(brush) + 1
    if rng.random() < 0.5:  # as typed
        rgba = np.zeros((canvas, canvas, 4), np.uint8)
        rgba[top : top + h, left : left + w, 3] = np.round(small[: canvas - top, : canvas - left] * 255)
        return rgba
    skeleton = np.zeros((canvas, canvas), bool)
    skeleton[top : top + h, left : left + w] = skeletonize(small > 0.5)[: canvas - top, : canvas - left]
    return stroke_rgba(skeleton, brush)


MAKERS = {"curve": _curve, "spline": _spline, "polyline": _polyline, "composition": _composition}


# A doodle this many times longer than it is wide (along its principal axes) is a bar or a
# bracket, which anyone would read as a 1.
MAX_ASPECT = 3.0


def _elongation(image: np.ndarray) -> float:
    """Length over width of an image's ink, along its principal axes."""
    rows, cols = np.nonzero(image > 0.3)
    if len(rows) < 3:
        return np.inf
    spread = np.linalg.eigvalsh(np.cov(np.stack([rows, cols]).astype(float)))
    return float(np.sqrt(spread[1] / max(spread[0], 1e-6)))


# A loop is an oval (a 0, to anyone) when an ellipse fits it within this share of its size on
# average and its points go round the ellipse's centre leaving no gap wider than OVAL_GAP radians.
OVAL_FIT = 0.05
OVAL_GAP = np.pi / 4


def is_oval(strokes: list[np.ndarray]) -> bool:
    """Whether ``strokes`` are one closed loop close to an ellipse: a round 0, never a negative.

    About one in ten smooth curves, splines and compositions made here were
    such a loop; taught as "not a digit", they had the detector flag a 0 drawn
    as a circle (logit 1.8-2.3 past its threshold).

    Parameters
    ----------
    strokes : list of (n, 2) float ndarray
        Points (row, column) of each stroke.
    """
    if len(strokes) != 1 or len(strokes[0]) < 6:
        return False
    loop = strokes[0]
    size = np.ptp(loop, 0).max()
    fitted = EllipseModel.from_estimate(loop)
    if not fitted or size <= 0:
        return False
    centre, axes = np.asarray(fitted.center), np.asarray(fitted.axis_lengths)
    if not (np.isfinite(centre).all() and np.isfinite(axes).all()) or axes.min() <= 0 or axes.max() > 2 * size:
        return False
    if np.abs(fitted.residuals(loop)).mean() > OVAL_FIT * size:
        return False
    angles = np.sort(np.arctan2(*(loop - centre).T))
    return bool(np.diff(np.r_[angles, angles[0] + 2 * np.pi]).max() < OVAL_GAP)


def round_zeros(count: int, seed: int = 0) -> np.ndarray:
    """Zeros drawn as one loop round an ellipse, narrow to wider than tall, prepared as the draw page does.

    Digits for the detector (MNIST's 0s are mostly upright ovals): the pen may
    overshoot its start or stop a little short, and wobbles.

    Returns
    -------
    (count, 28, 28) float32 ndarray in [0, 1]
    """
    rng = np.random.default_rng(seed)
    out = np.empty((count, 28, 28), np.float32)
    for i in range(count):
        start, turn = rng.uniform(0, 2 * np.pi), 2 * np.pi * rng.uniform(0.93, 1.15)
        t = start + np.linspace(0, turn, 60)
        wobble = 1 + np.convolve(rng.normal(0, 0.04, 64), np.ones(5) / 5, "valid")
        loop = np.stack([-np.sin(t) * wobble, rng.uniform(0.3, 1.3) * np.cos(t) * wobble], 1)
        out[i] = canvas_to_mnist(stroke_rgba(*_pen_lines([loop], rng, CANVAS)))
    return out


def doodle(seed: int, glyphs: list[np.ndarray] | None = None) -> np.ndarray:
    """One prepared non-digit: (28, 28) float32 ndarray in [0, 1], from a maker chosen by ``seed``.

    With ``glyphs`` (from `glyph_shapes`), a third of the doodles are glyphs.
    Bars (see `MAX_ASPECT`) and ovals (`is_oval`) are drawn again.
    """
    rng = np.random.default_rng(seed)
    while True:
        if glyphs and rng.random() < 1 / 3:
            rgba = glyph_drawing(glyphs[rng.integers(len(glyphs))], rng)
        else:
            strokes = list(MAKERS.values())[rng.integers(len(MAKERS))](rng)
            if is_oval(strokes):
                continue
            rgba = stroke_rgba(*_pen_lines(strokes, rng, CANVAS))
        image = canvas_to_mnist(rgba)
        if image is not None and _elongation(image) <= MAX_ASPECT:
            return image


def doodles(count: int, seed: int = 0, glyphs: list[np.ndarray] | None = None) -> np.ndarray:
    """``count`` prepared non-digits: (count, 28, 28) float32 ndarray (see `doodle`)."""
    return np.stack([doodle(seed * 1_000_003 + i, glyphs) for i in range(count)])


def many(count: int, seed: int = 0, workers: int | None = None, progress=None) -> np.ndarray:
    """`doodles` with glyphs from every font in `FONTS`, on every CPU core: (count, 28, 28) float32 ndarray.

    ``progress``, when given, is called with the number made so far.
    """
    return in_pool(_chunk, count, seed, (28, 28), workers, progress)


def in_pool(chunk, count: int, seed: int, shape: tuple[int, int], workers: int | None = None,
            progress=None) -> np.ndarray:
    """``chunk(first, n)`` over ``count`` items, 1,000 at a time, on every CPU core, each worker with the glyphs.

    Item ``i`` is made from seed ``seed * 1_000_003 + i``. ``chunk`` must be a module-level function
    returning (n, *shape) images; it finds the glyphs in `_GLYPHS`.

    Returns
    -------
    (count, *shape) float32 ndarray
    """
    import os
    from concurrent.futures import ProcessPoolExecutor

    size = 1000
    out = np.empty((count, *shape), np.float32)
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count(), initializer=_load_glyphs) as pool:
        jobs = [(i, pool.submit(chunk, seed * 1_000_003 + i, min(size, count - i))) for i in range(0, count, size)]
        for i, job in jobs:
            out[i : i + size] = job.result()
            if progress is not None:
                progress(min(i + size, count))
    return out


_GLYPHS: list[np.ndarray] = []


def _load_glyphs() -> None:
    _GLYPHS.extend(glyph_shapes())


def _chunk(first: int, count: int) -> np.ndarray:
    return np.stack([doodle(first + i, _GLYPHS) for i in range(count)])


def typed_digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Digits typeset in the same fonts as the glyph doodles, drawn as `glyph_drawing` draws them, prepared.

    So that type, or a font's serifs, never tells the detector "not a digit".

    Returns
    -------
    images : (count, 28, 28) float32 ndarray in [0, 1]
    labels : (count,) int ndarray
    """
    rng = np.random.default_rng(seed)
    per_digit = [glyph_shapes([str(d)]) for d in range(10)]
    labels = rng.integers(0, 10, count)
    images = [canvas_to_mnist(glyph_drawing(per_digit[d][rng.integers(len(per_digit[d]))], rng)) for d in labels]
    return np.stack([np.zeros((28, 28), np.float32) if im is None else im for im in images]), labels
