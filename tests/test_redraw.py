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


def a_line(length: int = 80, size: int = 120) -> np.ndarray:
    """A one-pixel horizontal centre line in the middle of a square array."""
    centre = np.zeros((size, size), bool)
    start = (size - length) // 2
    centre[size // 2, start : start + length] = True
    return centre


STEADY = redraw.Hand(drift=0.0, blot_chance=0.0, lift_chance=0.0)


def test_stroke_ends_are_the_ends_of_a_line_and_of_a_t_but_not_of_a_spur():
    line = a_line()
    assert sorted(map(tuple, redraw.stroke_ends(line))) == [(60, 20), (60, 99)]
    tee = line.copy()
    tee[61:100, 60] = True  # a stem down from the middle: a third end
    assert len(redraw.stroke_ends(tee)) == 3
    spur = line.copy()
    spur[61:64, 60] = True  # three pixels: a skeleton's spur, not a stroke
    assert len(redraw.stroke_ends(spur)) == 3
    assert sorted(map(tuple, redraw.stroke_ends(spur, spur=8))) == [(60, 20), (60, 99)]


def test_a_steady_hand_draws_what_the_round_pen_draws():
    line = a_line()
    steady = redraw.uneven_ink(line, 10, np.random.default_rng(0), STEADY)
    np.testing.assert_allclose(steady, redraw.draw_pen(line, 10), atol=1e-6)


def test_the_uneven_hand_s_width_drifts_along_a_stroke():
    line = a_line()
    drifting = redraw.Hand(drift=0.3, blot_chance=0.0, lift_chance=0.0)
    spreads = []
    for seed in range(5):
        widths = (redraw.uneven_ink(line, 10, np.random.default_rng(seed), drifting)[:, 25:95] > 0.5).sum(axis=0)
        spreads.append(widths.max() - widths.min())
    steady = (redraw.draw_pen(line, 10)[:, 25:95] > 0.5).sum(axis=0)
    assert steady.max() - steady.min() == 0
    assert min(spreads) >= 3  # a 10 px pen swinging by e^±0.3 and more


def test_a_blot_at_each_stroke_end_is_wider_than_the_stroke():
    line = a_line()
    blotting = redraw.Hand(drift=0.0, blot_chance=1.0, blot=(1.6, 1.6), lift_chance=0.0)
    widths = (redraw.uneven_ink(line, 10, np.random.default_rng(0), blotting) > 0.5).sum(axis=0)
    assert widths[20] >= 15 and widths[99] >= 15  # a disc 16 px across at each end
    assert widths[60] in (9, 10, 11)  # the stroke between them keeps the pen's width


def test_a_lift_leaves_a_gap_half_a_pen_width_long():
    from skimage.measure import label

    line = a_line()
    lifting = redraw.Hand(drift=0.0, blot_chance=0.0, lift_chance=1.0, gap=(0.5, 0.5))
    gaps = []
    for seed in range(10):
        ink = redraw.uneven_ink(line, 10, np.random.default_rng(seed), lifting) > 0.5
        assert ink.sum() < (redraw.draw_pen(line, 10) > 0.5).sum()  # near an end, the lift only shortens it
        if label(ink, connectivity=2).max() == 2:
            inked = np.flatnonzero(ink.any(axis=0))
            gaps.append(inked[-1] - inked[0] + 1 - len(inked))
    assert len(gaps) >= 6 and set(gaps) <= {5, 6, 7}  # 0.5 of a 10 px pen, and a pixel at either edge


def test_redraw_many_draws_the_uneven_share_and_repeats_itself():
    digits = np.stack([mnist_like("line")] * 6)
    steady = redraw.redraw_many(digits, seed=3)
    widths = np.random.default_rng(3).uniform(0.8, 4.0, size=6)
    np.testing.assert_array_equal(steady, [redraw.redraw(d, w) for d, w in zip(digits, widths)])
    uneven = redraw.redraw_many(digits, seed=3, uneven=1.0)
    np.testing.assert_array_equal(uneven, redraw.redraw_many(digits, seed=3, uneven=1.0))
    assert all((a != b).any() for a, b in zip(uneven, steady))
