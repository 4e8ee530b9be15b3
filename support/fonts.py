"""Digits typed in handwriting fonts from Debian's packages, placed on the canvas: a benchmark family.

Not part of the product, and never used for training: the drawings come from
font designers' hands rather than MNIST's writers, and from PIL's font
rasteriser rather than any pen in this repository. Each digit is set at a
random size, position, rotation and stroke weight on the 320x320 canvas.

    python -m support.fonts --sheet fonts.png   # a contact sheet of every font's digits, to check by eye

The fonts come from Debian packages (`PACKAGES`); install them with

    apt-get install fonts-comic-neue fonts-dkg-handwriting fonts-bwht fonts-humor-sans fonts-rufscript \\
        fonts-kaushanscript fonts-dancingscript fonts-kristi
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digits.config import CANVAS_SIZE

# Handwriting(-like) fonts, by Debian package. Every digit of each was checked on a contact sheet.
PACKAGES = {
    "fonts-comic-neue": ["opentype/comic-neue/ComicNeue-Regular.otf", "opentype/comic-neue/ComicNeue-Bold.otf",
                         "opentype/comic-neue/ComicNeue-Italic.otf"],
    "fonts-dkg-handwriting": ["truetype/fifthhorseman/dkg.ttf", "truetype/fifthhorseman/dkgBd.ttf"],
    "fonts-bwht": ["opentype/bwht/BecauseWeBuild-Regular.otf", "opentype/bwht/BecauseWeConnect-Regular.otf",
                   "opentype/bwht/BecauseWeCreate-Regular.otf", "opentype/bwht/BecauseWeLearn-Regular.otf",
                   "opentype/bwht/BecauseWeMentor-Regular.otf", "opentype/bwht/BecauseWeOrganize-Regular.otf"],
    "fonts-humor-sans": ["truetype/humor-sans/Humor-Sans.ttf"],
    "fonts-rufscript": ["truetype/rufscript/Rufscript010.ttf"],
    "fonts-kaushanscript": ["opentype/kaushanscript/KaushanScript-Regular.otf"],
    "fonts-dancingscript": ["opentype/dancingscript/DancingScript-Regular.otf"],
    "fonts-kristi": ["truetype/kristi/Kristi.ttf"],
}
FONT_ROOT = Path("/usr/share/fonts")

# Left out after looking at the contact sheet (`main`): fonts-breip (its 0 is a U, open at the top),
# fonts-femkeklaver (hollow outlines, not pen strokes), fonts-ecolier-court (hairlines: parts of its 2, 3
# and 5 fade away at canvas sizes).


def font_paths(root: Path = FONT_ROOT) -> list[Path]:
    """Every font of `PACKAGES` that is installed under ``root``, in a fixed order."""
    paths = [root / name for names in PACKAGES.values() for name in names]
    return [p for p in paths if p.is_file()]


def missing_fonts_message() -> str:
    return ("no handwriting fonts found under /usr/share/fonts: install them with "
            f"`apt-get install {' '.join(PACKAGES)}`")


def glyph(digit: int, font_path: Path, angle: float = 0.0, weight: float = 0.0, size: int = 200) -> np.ndarray:
    """One digit typed in a font, rotated, cropped to its ink.

    Parameters
    ----------
    digit : int
        0 to 9.
    angle : float
        Anticlockwise rotation in degrees.
    weight : float
        Extra stroke width around the outline, as a fraction of ``size``.
    size : int
        Font size in pixels at which the glyph is rasterised.

    Returns
    -------
    (h, w) uint8 ndarray
        Ink (255) on a blank background (0), cropped to the ink.
    """
    font = ImageFont.truetype(str(font_path), size)
    tile = Image.new("L", (3 * size, 3 * size), 0)
    stroke = int(round(weight * size))
    ImageDraw.Draw(tile).text((1.5 * size, 1.5 * size), str(digit), fill=255, font=font, anchor="mm",
                              stroke_width=stroke, stroke_fill=255)
    tile = tile.rotate(angle, resample=Image.BILINEAR)
    box = tile.getbbox()
    if box is None:
        raise ValueError(f"{font_path.name} has no ink for the digit {digit}")
    return np.asarray(tile.crop(box))


def place(ink: np.ndarray, height: int, top: int, left: int, canvas: int = CANVAS_SIZE) -> np.ndarray:
    """Scale ``ink`` so its longest side is ``height`` pixels and put it on a transparent canvas.

    Parameters
    ----------
    ink : (h, w) uint8 ndarray

    Returns
    -------
    (canvas, canvas, 4) uint8 ndarray
        Black ink on a transparent background: the alpha channel is the ink.
    """
    scale = height / max(ink.shape)
    w, h = max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale))
    small = np.asarray(Image.fromarray(ink).resize((w, h), Image.LANCZOS))
    out = np.zeros((canvas, canvas, 4), np.uint8)
    h, w = min(h, canvas - top), min(w, canvas - left)
    out[top : top + h, left : left + w, 3] = small[:h, :w]
    return out


def font_drawings(
    labels: np.ndarray, fonts: list[Path], seed: int = 0, canvas: int = CANVAS_SIZE,
    sizes=(0.2, 0.9), angles=(-15.0, 15.0), weights=(0.0, 0.025),
) -> np.ndarray:
    """Type each label's digit in a random font at a random size, rotation, weight and position.

    Parameters
    ----------
    labels : (N,) int ndarray
        The digits to type, 0 to 9.
    fonts : list of Path
        Font files to choose from (see `font_paths`).
    sizes : (float, float)
        Range of the digit's longest side, as a fraction of the canvas.
    angles : (float, float)
        Range of rotations, in degrees.
    weights : (float, float)
        Range of extra stroke width, as a fraction of the font size (0: the font as designed).

    Returns
    -------
    (N, canvas, canvas, 4) uint8 ndarray
    """
    if not fonts:
        raise ValueError(missing_fonts_message())
    rng = np.random.default_rng(seed)
    out = np.empty((len(labels), canvas, canvas, 4), np.uint8)
    for i, label in enumerate(labels):
        font = fonts[rng.integers(len(fonts))]
        ink = glyph(int(label), font, rng.uniform(*angles), rng.uniform(*weights))
        height = int(rng.uniform(*sizes) * canvas)
        top, left = rng.integers(1, canvas - height, size=2)
        out[i] = place(ink, height, int(top), int(left), canvas)
    return out


def contact_sheet(fonts: list[Path], cell: int = 64) -> np.ndarray:
    """Every font's digits 0-9 upright, one font a row, dark ink on white, for checking by eye.

    Returns
    -------
    (len(fonts) * cell, 10 * cell) uint8 ndarray
    """
    sheet = np.full((len(fonts) * cell, 10 * cell), 255, np.uint8)
    for row, font in enumerate(fonts):
        for digit in range(10):
            ink = place(glyph(digit, font), int(cell * 0.8), cell // 10, cell // 10, cell)[..., 3]
            sheet[row * cell : (row + 1) * cell, digit * cell : (digit + 1) * cell] = 255 - ink
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheet", type=Path, required=True, help="PNG file to write the contact sheet to")
    args = parser.parse_args()
    fonts = font_paths()
    if not fonts:
        raise SystemExit(missing_fonts_message())
    Image.fromarray(contact_sheet(fonts)).save(args.sheet)
    print("\n".join(f"row {i}: {p.name}" for i, p in enumerate(fonts)))


if __name__ == "__main__":
    main()
