"""The benchmarks' font-typed digits (support/fonts.py); the font tests skip where Debian's fonts are not installed."""

import numpy as np
import pytest

from digits.preprocess import canvas_to_mnist
from support import fonts

FONTS = fonts.font_paths()
needs_fonts = pytest.mark.skipif(not FONTS, reason=fonts.missing_fonts_message())


def test_place_scales_the_longest_side_to_the_height_at_the_position():
    ink = np.full((10, 5), 255, np.uint8)  # a bar twice as tall as wide
    canvas = fonts.place(ink, height=100, top=30, left=40)[..., 3]
    rows, cols = np.nonzero(canvas > 127)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (30, 129, 40, 89)


def test_no_fonts_is_refused_with_the_packages_to_install():
    with pytest.raises(ValueError, match="apt-get install fonts-comic-neue"):
        fonts.font_drawings(np.array([1]), [])


@needs_fonts
def test_font_drawings_are_repeatable_canvases_that_read_as_digits():
    labels = np.arange(10)
    first = fonts.font_drawings(labels, FONTS, seed=2)
    assert first.shape == (10, 320, 320, 4) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, fonts.font_drawings(labels, FONTS, seed=2))
    assert all(canvas_to_mnist(drawing) is not None for drawing in first)


@needs_fonts
def test_every_font_types_every_digit():
    for font in FONTS:
        for digit in range(10):
            assert fonts.glyph(digit, font, size=40).max() == 255
