"""The benchmarks' second pen (support/pens.py): repeatable, whole on the canvas, and unlike digits.redraw's pen."""

import numpy as np
import pytest
from scipy.ndimage import label

from digits import redraw
from digits.preprocess import canvas_to_mnist
from support import pens
from tests.test_redraw import mnist_like

# A pen that draws exactly what it traces: no pressure, tremor, overshoot, lift or slant.
STEADY = pens.Pen(sizes=(0.6, 0.6), brushes=(0.08, 0.08), pressure=0.0, slants=(0.0, 0.0), tremor=0.0,
                  overshoot=(0.0, 0.0), lift_chance=0.0)


def drawn(digit: np.ndarray, pen: pens.Pen = STEADY, seed: int = 0) -> np.ndarray:
    return pens.pen_drawing(digit, np.random.default_rng(seed), pen)[..., 3]


def ink_rows_and_columns(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = np.flatnonzero((ink > 127).any(axis=1))
    return rows, np.array([np.flatnonzero(ink[r] > 127).mean() for r in rows])


def test_pen_drawings_are_repeatable_canvases_that_read_as_digits():
    digits = np.stack([mnist_like("line"), mnist_like("blot")])
    first = pens.pen_drawings(digits, seed=3)
    assert first.shape == (2, 320, 320, 4) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, pens.pen_drawings(digits, seed=3))
    assert not np.array_equal(first, pens.pen_drawings(digits, seed=4))
    assert all(canvas_to_mnist(drawing) is not None for drawing in first)


@pytest.mark.parametrize("seed", range(6))
def test_the_whole_drawing_is_on_the_canvas_even_when_large_slanted_and_overshooting(seed):
    pen = pens.Pen(sizes=(0.95, 0.95), slants=(0.35, 0.35), overshoot=(0.1, 0.1), brushes=(0.16, 0.16))
    ink = drawn(mnist_like("line"), pen, seed)
    frame = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
    assert ink.max() == 255 and frame.max() == 0  # nothing runs off the edge


def test_a_pen_tip_is_an_anti_aliased_disc_of_its_radius():
    ink = np.zeros((21, 21), np.float32)
    pens.stamp(ink, np.array([[10.0, 10.0]]), np.array([4.0]))
    assert ink[10, 10] == 1.0 and ink[10, 13] == 1.0 and ink[10, 15] == 0.0
    assert abs(ink.sum() - np.pi * 4**2) < 3


def test_the_width_varies_along_a_stroke_where_digits_redraw_keeps_it():
    line = mnist_like("line")  # a vertical stroke
    steady = drawn(line)
    pressed = drawn(line, pens.Pen(sizes=(0.6, 0.6), brushes=(0.08, 0.08), slants=(0.0, 0.0), tremor=0.0,
                                   overshoot=(0.0, 0.0), lift_chance=0.0))
    redrawn = redraw.render_digit(line, height=192, brush=15, top=60, left=60)[..., 3]

    def width_spread(ink):
        widths = (ink > 127).sum(axis=1)
        middle = widths[widths > 0][20:-20]  # away from the round ends
        return middle.max() - middle.min()

    assert width_spread(redrawn) <= 1 and width_spread(steady) <= 1
    assert width_spread(pressed) >= 4


def test_a_slant_leans_the_top_to_the_right_by_the_shear():
    rows, centres = ink_rows_and_columns(drawn(mnist_like("line"), pens.Pen(**{**STEADY.__dict__, "slants": (0.3, 0.3)})))
    lean = -np.polyfit(rows, centres, 1)[0]  # columns gained per row going up
    assert lean == pytest.approx(0.3, abs=0.02)


def test_overshoot_carries_each_end_on_by_its_share_of_the_height():
    plain = ink_rows_and_columns(drawn(mnist_like("line")))[0]
    longer = ink_rows_and_columns(drawn(mnist_like("line"), pens.Pen(**{**STEADY.__dict__, "overshoot": (0.1, 0.1)})))[0]
    pen_width = 0.08 * 0.6 * 320  # the round caps add one width to both
    assert (len(longer) - pen_width) / (len(plain) - pen_width) == pytest.approx(1.2, abs=0.03)


def test_a_pen_lift_leaves_a_gap_in_the_stroke():
    assert label(drawn(mnist_like("line")) > 0)[1] == 1
    assert label(drawn(mnist_like("line"), pens.Pen(**{**STEADY.__dict__, "lift_chance": 1.0})) > 0)[1] == 2


def test_blots_are_coloured_in():
    ink = drawn(mnist_like("blot"))
    assert (ink > 127).sum() > 0.8 * np.pi * (0.6 * 320 / 2) ** 2  # a solid disc, not a ring or a dot
