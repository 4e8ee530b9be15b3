"""MNIST digits redrawn with a canvas pen (train.py --redraw)."""

import numpy as np

from digits import redraw


def test_pen_draws_a_disc_of_its_width_around_one_point():
    point = np.zeros((21, 21), bool)
    point[10, 10] = True
    ink = redraw.draw_pen(point, width=8)
    assert ink[10, 10] == 1.0 and ink[10, 13] == 1.0  # 3 px from the centre: inside the radius of 4
    assert ink[10, 15] == 0.0 and ink[0, 0] == 0.0  # 5 px away: outside
    assert abs(ink.sum() - np.pi * 4**2) < 6  # the area of the disc, edge anti-aliased


def test_filled_parts_keep_blots_and_ignore_strokes():
    rows, cols = np.mgrid[:60, :60]
    blot = (rows - 30) ** 2 + (cols - 30) ** 2 <= 15**2
    stroke = np.zeros((60, 60), bool)
    stroke[10:50, 28:32] = True  # 4 px wide
    assert redraw.filled_parts(stroke, radius=4).sum() == 0
    assert redraw.filled_parts(stroke[:, 28:32], radius=4).sum() == 0  # a stroke as wide as its array
    kept = redraw.filled_parts(blot, radius=4) > 0.5
    assert (kept & blot).sum() / (kept | blot).sum() > 0.95


def mnist_like(shape: str) -> np.ndarray:
    digit = np.zeros((28, 28), np.uint8)
    rows, cols = np.mgrid[:28, :28]
    if shape == "blot":  # a solid disc, like a loop inked in
        digit[(rows - 14) ** 2 + (cols - 14) ** 2 <= 7**2] = 255
    else:  # a vertical stroke 2 px wide, like a 1
        digit[4:24, 13:15] = 255
    return digit


def test_a_blotted_digit_stays_solid_and_a_thin_one_gets_the_brush_width():
    blot = redraw.render_digit(mnist_like("blot"), height=200, brush=10, top=50, left=50)[..., 3]
    assert (blot > 127).sum() > 0.8 * np.pi * 100**2  # a skeleton alone would leave a 10 px dot
    line = redraw.render_digit(mnist_like("line"), height=200, brush=10, top=50, left=50)[..., 3]
    widths = (line > 127).sum(axis=1)
    assert np.median(widths[widths > 0]) in (9, 10, 11)


def test_redraw_keeps_an_mnist_digit_an_mnist_style_image():
    out = redraw.redraw(mnist_like("line"), pen=2.6)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows = np.flatnonzero(out.max(axis=1) > 127)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # fitted to the 20 px box, as MNIST's digits are
