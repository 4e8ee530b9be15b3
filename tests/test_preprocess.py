"""canvas_to_mnist: known answers on hand-built canvases."""

import numpy as np
import pytest

from digits import preprocess
from digits.preprocess import canvas_to_mnist
from tests.conftest import stroke_canvas

# A "7": a top bar and a diagonal, in row/column fractions of the canvas.
SEVEN = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.35)]


def seven(size=320, top=40, left=40, height=240, width=22):
    points = [(top + r * height, left + c * height * 0.7) for r, c in SEVEN]
    return stroke_canvas(points, size=(size, size), width=width)


def skimage_fit_box(crop: np.ndarray, box: int = 20) -> np.ndarray:
    """fit_box as scikit-image computes it: resize of the crop padded to a square (the reference)."""
    from skimage.transform import resize

    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side), np.float32)
    square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = crop
    fitted = resize(square, (box, box), order=1, anti_aliasing=True, preserve_range=True).astype(np.float32)
    return fitted / fitted.max()


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 3), (19, 19), (20, 20), (21, 8), (28, 200), (3, 1500),
                                   (150, 149), (320, 320), (333, 101), (640, 320)])
@pytest.mark.parametrize("ink", ["strokes", "grey", "solid"])
def test_fit_box_is_scikit_image_s_anti_aliased_resize(shape, ink):
    rng = np.random.default_rng(sum(shape))
    crop = {"strokes": (rng.random(shape) < 0.1).astype(np.float32),
            "grey": rng.random(shape, dtype=np.float32), "solid": np.ones(shape, np.float32)}[ink]
    crop.flat[0] = 1.0  # ink somewhere, as a crop of ink always has
    np.testing.assert_allclose(preprocess.fit_box(crop), skimage_fit_box(crop), atol=1e-6)


def test_centred_square_stroke_lands_centred():
    rgba = stroke_canvas([(100, 100), (100, 220), (220, 220), (220, 100), (100, 100)], width=12)
    out = canvas_to_mnist(rgba)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert preprocess.centre_of_mass(out) == pytest.approx((14.0, 14.0), abs=0.5)
    rows, cols = np.flatnonzero(out.max(1) > 0.2), np.flatnonzero(out.max(0) > 0.2)
    assert rows[-1] - rows[0] + 1 == 20 and cols[-1] - cols[0] + 1 == 20  # fitted to the 20 px box
    np.testing.assert_allclose(out, out.T, atol=0.05)  # rows and columns are treated alike


def test_longest_side_is_twenty_pixels_and_aspect_is_kept():
    rgba = stroke_canvas([(40, 160), (280, 160)], width=20)  # a tall "1"
    out = canvas_to_mnist(rgba)
    rows, cols = np.flatnonzero(out.max(1) > 0.2), np.flatnonzero(out.max(0) > 0.2)
    assert rows[-1] - rows[0] + 1 == 20
    assert cols[-1] - cols[0] + 1 <= 3  # 20 px of 240 px: under 2 px wide, anti-aliased


def test_same_digit_anywhere_any_size_any_brush_gives_nearly_the_same_image():
    reference = canvas_to_mnist(seven())
    variants = [
        seven(top=5, left=5, height=100),  # small, top-left corner
        seven(top=200, left=230, height=100),  # small, bottom-right corner
        seven(top=10, left=10, height=300, width=30),  # huge, touching the border
        seven(height=160, width=10),
        seven(height=160, width=40),
    ]
    for rgba in variants:
        out = canvas_to_mnist(rgba)
        assert similarity(out, reference) > 0.85
        assert preprocess.centre_of_mass(out) == pytest.approx((14.0, 14.0), abs=0.6)
    # The measure tells digits apart: a "1" or an "L" is far from the 7.
    one = canvas_to_mnist(stroke_canvas([(40, 160), (280, 160)]))
    ell = canvas_to_mnist(stroke_canvas([(40, 100), (280, 100), (280, 250)]))
    assert similarity(one, reference) < 0.7 and similarity(ell, reference) < 0.7


def similarity(a, b):
    """Cosine similarity after a one-pixel blur: thin strokes one pixel apart still match."""
    from skimage.filters import gaussian

    a, b = gaussian(a, 1), gaussian(b, 1)
    return (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())


@pytest.mark.parametrize("size", [(320, 320), (200, 500), (600, 150), (28, 28)])
def test_blank_canvases_give_none(size):
    assert canvas_to_mnist(np.zeros(size + (4,), np.uint8)) is None


def test_one_dot_is_a_speck_not_a_digit():
    rgba = np.zeros((320, 320, 4), np.uint8)
    rgba[150:170, 150:170, 3] = 255  # one click of a 20 px brush
    assert canvas_to_mnist(rgba) is None


def test_faint_fringe_alone_is_not_ink():
    rgba = np.zeros((320, 320, 4), np.uint8)
    rgba[..., 3] = 30  # a barely-there haze, below the ink threshold
    assert canvas_to_mnist(rgba) is None


@pytest.mark.parametrize("shape", [(300, 500), (500, 300), (64, 48)])
def test_non_square_canvases(shape):
    h, w = shape
    rgba = stroke_canvas([(h * 0.2, w * 0.5), (h * 0.8, w * 0.5)], size=shape, width=max(3, h // 20))
    out = canvas_to_mnist(rgba)
    assert out.shape == (28, 28)
    assert preprocess.centre_of_mass(out) == pytest.approx((14.0, 14.0), abs=0.6)


def test_input_is_not_modified():
    rgba = seven()
    before = rgba.copy()
    canvas_to_mnist(rgba)
    np.testing.assert_array_equal(rgba, before)


def test_output_is_in_unit_range_with_full_intensity_strokes():
    out = canvas_to_mnist(seven(width=8))
    assert out.min() >= 0.0 and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((10, 10), np.uint8), r"shape \(H, W, 4\), got \(10, 10\)"),
        (np.zeros((10, 10, 3), np.uint8), r"shape \(H, W, 4\), got \(10, 10, 3\)"),
        (np.zeros((10, 10, 4), np.float64), "dtype uint8, got float64"),
        (np.zeros((0, 10, 4), np.uint8), "at least one pixel"),
        ([[0, 0, 0, 0]], "numpy array, got list"),
    ],
)
def test_bad_input_is_a_clear_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        canvas_to_mnist(bad)


def test_steps_show_each_stage():
    steps = preprocess.preprocess_steps(seven())
    assert steps.ink.shape == (320, 320)
    assert max(steps.fitted.shape) == 20
    assert steps.crop.shape[0] > steps.crop.shape[1]  # the 7 is taller than wide
    assert steps.centred.shape == (28, 28)


def test_naive_resize_squeezes_the_whole_canvas_without_centring():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[:40, :40, 3] = 255  # a 40-px square in the top-left corner: a tenth of the canvas, times 4
    before = rgba.copy()
    raw = preprocess.naive_resize(rgba, anti_aliasing=False)
    expected = np.zeros((28, 28), np.float32)
    expected[:4, :4] = 1.0  # bilinear samples at 10 i + 4.5 px: four rows and columns inside the square
    np.testing.assert_allclose(raw, expected, atol=1e-6)
    smooth = preprocess.naive_resize(rgba)
    assert smooth.shape == (28, 28) and smooth.dtype == np.float32
    assert smooth.sum() == pytest.approx(16.0, rel=0.1)  # smoothing spreads the ink, keeps its amount
    assert preprocess.centre_of_mass(smooth) == pytest.approx((1.8, 1.8), abs=0.5)  # still in the corner
    assert preprocess.centre_of_mass(canvas_to_mnist(rgba)) == pytest.approx((14.0, 14.0), abs=0.6)
    np.testing.assert_array_equal(rgba, before)
    full = np.full((300, 200, 4), 255, np.uint8)  # any shape: squeezed, not cropped
    np.testing.assert_allclose(preprocess.naive_resize(full), 1.0, atol=1e-5)
