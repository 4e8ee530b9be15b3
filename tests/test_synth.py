"""Canvas-like drawings made from MNIST digits (the drawn-digit benchmark and --redraw)."""

import numpy as np

from digits import synth
from digits.preprocess import canvas_to_mnist


def test_pen_draws_a_disc_of_its_width_around_one_point():
    point = np.zeros((21, 21), bool)
    point[10, 10] = True
    ink = synth.draw_pen(point, width=8)
    assert ink[10, 10] == 1.0 and ink[10, 13] == 1.0  # 3 px from the centre: inside the radius of 4
    assert ink[10, 15] == 0.0 and ink[0, 0] == 0.0  # 5 px away: outside
    assert abs(ink.sum() - np.pi * 4**2) < 6  # the area of the disc, edge anti-aliased


def test_filled_parts_keep_blots_and_ignore_strokes():
    rows, cols = np.mgrid[:60, :60]
    blot = (rows - 30) ** 2 + (cols - 30) ** 2 <= 15**2
    stroke = np.zeros((60, 60), bool)
    stroke[10:50, 28:32] = True  # 4 px wide
    assert synth.filled_parts(stroke, radius=4).sum() == 0
    assert synth.filled_parts(stroke[:, 28:32], radius=4).sum() == 0  # a stroke as wide as its array
    kept = synth.filled_parts(blot, radius=4) > 0.5
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
    blot = synth.render_digit(mnist_like("blot"), height=200, brush=10, top=50, left=50)[..., 3]
    assert (blot > 127).sum() > 0.8 * np.pi * 100**2  # a skeleton alone would leave a 10 px dot
    line = synth.render_digit(mnist_like("line"), height=200, brush=10, top=50, left=50)[..., 3]
    widths = (line > 127).sum(axis=1)
    assert np.median(widths[widths > 0]) in (9, 10, 11)


def test_random_drawings_are_repeatable_canvases_that_read_as_digits():
    digits = np.stack([mnist_like("line"), mnist_like("blot")])
    first = synth.random_drawings(digits, seed=3)
    assert first.shape == (2, 320, 320, 4) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, synth.random_drawings(digits, seed=3))
    assert all(canvas_to_mnist(drawing) is not None for drawing in first)


def test_redraw_keeps_an_mnist_digit_an_mnist_style_image():
    out = synth.redraw(mnist_like("line"), pen=2.6)
    assert out.shape == (28, 28) and out.dtype == np.uint8
    rows = np.flatnonzero(out.max(axis=1) > 127)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # fitted to the 20 px box, as MNIST's digits are


def test_pen_paths_walk_every_centre_pixel_in_connected_steps():
    from skimage.draw import circle_perimeter, line

    centre = np.zeros((60, 60), bool)
    centre[line(10, 10, 10, 40)] = True  # a T: a bar...
    centre[line(11, 25, 40, 25)] = True  # ...and its stem
    centre[circle_perimeter(45, 45, 8, shape=centre.shape)] = True  # a ring: no line ends
    paths = synth.pen_paths(centre)
    visited = {(int(r), int(c)) for path in paths for r, c in path}
    assert visited == {(int(r), int(c)) for r, c in zip(*np.nonzero(centre))}
    for path in paths:  # each stroke moves one pixel at a time
        assert (np.abs(np.diff(path, axis=0)).max(initial=0)) <= 1
    assert len(paths) <= 4  # the T in two or three strokes, the ring in one


def test_pen_paths_colour_in_solid_parts_half_a_brush_apart_and_inside():
    solid = np.zeros((30, 30), np.float32)
    solid[4:20, 3:18] = 1.0  # 16 rows, 15 columns
    paths = synth.pen_paths(np.zeros((30, 30), bool), solid, brush=4)
    # Rows every 2 px; the pen's centre more than 2 px (half the brush) from the region's edge:
    # rows 6 to 17 and columns 5 to 15 of rows 4-19 and columns 3-17.
    assert [tuple(map(tuple, p)) for p in paths] == [((r, 5.0), (r, 15.0)) for r in range(6, 18, 2)]
