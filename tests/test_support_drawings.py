"""The benchmarks' canvas drawings (support/drawings.py): random placement and a hand's pen paths."""

import numpy as np

from digits.preprocess import canvas_to_mnist
from support import drawings
from tests.test_redraw import mnist_like


def test_random_drawings_are_repeatable_canvases_that_read_as_digits():
    digits = np.stack([mnist_like("line"), mnist_like("blot")])
    first = drawings.random_drawings(digits, seed=3)
    assert first.shape == (2, 320, 320, 4) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, drawings.random_drawings(digits, seed=3))
    assert all(canvas_to_mnist(drawing) is not None for drawing in first)


def test_pen_paths_walk_every_centre_pixel_in_connected_steps():
    from skimage.draw import circle_perimeter, line

    centre = np.zeros((60, 60), bool)
    centre[line(10, 10, 10, 40)] = True  # a T: a bar...
    centre[line(11, 25, 40, 25)] = True  # ...and its stem
    centre[circle_perimeter(45, 45, 8, shape=centre.shape)] = True  # a ring: no line ends
    paths = drawings.pen_paths(centre)
    visited = {(int(r), int(c)) for path in paths for r, c in path}
    assert visited == {(int(r), int(c)) for r, c in zip(*np.nonzero(centre))}
    for path in paths:  # each stroke moves one pixel at a time
        assert (np.abs(np.diff(path, axis=0)).max(initial=0)) <= 1
    assert len(paths) <= 4  # the T in two or three strokes, the ring in one


def test_pen_paths_colour_in_solid_parts_half_a_brush_apart_and_inside():
    solid = np.zeros((30, 30), np.float32)
    solid[4:20, 3:18] = 1.0  # 16 rows, 15 columns
    paths = drawings.pen_paths(np.zeros((30, 30), bool), solid, brush=4)
    # Rows every 2 px; the pen's centre more than 2 px (half the brush) from the region's edge:
    # rows 6 to 17 and columns 5 to 15 of rows 4-19 and columns 3-17.
    assert [tuple(map(tuple, p)) for p in paths] == [((r, 5.0), (r, 15.0)) for r in range(6, 18, 2)]
