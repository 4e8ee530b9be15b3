"""The not-a-digit detector and the doodles it learns from: known answers, and the shipped detector on obvious cases."""

import numpy as np
import pytest
from skimage.draw import disk, line

from digits import config, detector, doodles
from digits.inference import load_classifier, read_canvas


def canvas_with(*strokes, size: int = 280, width: int = 7) -> np.ndarray:
    """A canvas with one-pixel lines through each stroke's (row, col) points, stroked ``width`` wide."""
    from digits.redraw import stroke_rgba

    skeleton = np.zeros((size, size), bool)
    for points in strokes:
        for (r0, c0), (r1, c1) in zip(points, points[1:]):
            skeleton[line(r0, c0, r1, c1)] = True
    return stroke_rgba(skeleton, width)


def ring(centre, radius, start=0.0, end=2 * np.pi, n=48):
    t = np.linspace(start, end, n)
    return list(zip((centre[0] - radius * np.sin(t)).astype(int), (centre[1] + radius * np.cos(t)).astype(int)))


def test_elongation_of_a_bar_and_of_a_ring():
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 1
    round_ = np.zeros((28, 28), np.float32)
    round_[disk((14, 14), 9)] = 1
    round_[disk((14, 14), 7)] = 0
    assert doodles._elongation(bar) > 5
    assert doodles._elongation(round_) == pytest.approx(1.0, abs=0.1)


def test_a_doodle_is_an_mnist_style_image_and_the_same_for_the_same_seed():
    first, again, other = doodles.doodle(5), doodles.doodle(5), doodles.doodle(6)
    assert first.shape == (28, 28) and first.dtype == np.float32
    assert 0 <= first.min() and first.max() <= 1 and first.max() > 0.5
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert doodles._elongation(first) <= doodles.MAX_ASPECT  # bars are drawn again


def test_a_closed_loop_round_an_ellipse_is_an_oval_and_nothing_else_is():
    t = np.linspace(0, 2 * np.pi, 48)
    loop = lambda turn, rows=1.0, cols=1.0: np.stack([rows * np.sin(turn), cols * np.cos(turn)], 1)  # noqa: E731
    assert doodles.is_oval([loop(t)]) and doodles.is_oval([loop(t, 1.0, 0.4)])  # a circle, a narrow 0
    assert doodles.is_oval([loop(np.linspace(0.3, 2.1 * np.pi, 48), 1.0, 1.3)])  # overshooting its start
    assert not doodles.is_oval([loop(t[:36])])  # three quarters of a circle: a C, not a 0
    assert not doodles.is_oval([np.array([[0, 0], [0, 1], [1, 1], [1, 0], [0, 0.0]])])  # a square
    assert not doodles.is_oval([loop(t), np.array([[0.0, 0.0], [0.02, 0.02]])])  # a ring with a dot: a face's start
    spiral = loop(np.linspace(0, 4 * np.pi, 96)) * np.linspace(0.2, 1, 96)[:, None]
    assert not doodles.is_oval([spiral])


def test_round_zeros_are_mnist_style_images():
    zeros = doodles.round_zeros(6, seed=0)
    assert zeros.shape == (6, 28, 28) and zeros.dtype == np.float32
    assert zeros.min() >= 0 and np.allclose(zeros.max(axis=(1, 2)), 1)
    assert (zeros[:, 14, 14] < 0.5).all()  # hollow: the middle of a 0 is empty


def test_distort_keeps_shape_and_range_changes_the_image_and_not_its_input():
    images = np.zeros((3, 28, 28), np.float32)
    images[:, 6:22, 12:16] = 1
    before = images.copy()
    out = detector.distort(images, seed=0)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(images, before)
    assert np.abs(out - images).mean() > 0.01
    assert out.sum() > 0.5 * images.sum()  # bent and thinned, not erased


def test_the_detector_answers_one_logit_per_image():
    assert detector.build()(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 1)


def test_the_threshold_lets_the_chosen_share_of_held_out_digits_through_as_not_digits():
    model = detector.build()
    held_out = np.random.default_rng(0).random((200, 28, 28)).astype(np.float32)
    cut = detector.threshold(model, held_out, rate=0.1)
    assert (detector.Detector(model, cut).flags(held_out).mean()) == pytest.approx(0.1, abs=0.01)


def test_a_missing_detector_loads_as_none(tmp_path):
    assert detector.load(tmp_path / "none.keras", tmp_path / "none.json") is None


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def test_the_shipped_detector_is_small_and_has_a_threshold():
    assert detector.DETECTOR_FILE.stat().st_size < 2_000_000
    assert np.isfinite(detector.load().threshold)


@pytest.mark.parametrize("name, strokes", [
    ("smiley", [ring((140, 140), 100), ring((140, 140), 60, -2.6, -0.54, 16), [(100, 105), (112, 105)],
                [(100, 175), (112, 175)]]),
    ("hash", [[(40, 100), (240, 90)], [(40, 180), (240, 170)], [(100, 40), (90, 240)], [(180, 40), (170, 240)]]),
    ("star", [[(30, 140), (240, 70), (100, 250), (100, 30), (240, 210), (30, 140)]]),
])
def test_obvious_non_digits_are_flagged(classifier, name, strokes):
    reading = read_canvas(classifier, canvas_with(*strokes))
    assert reading.not_a_digit and reading.number == "", name


@pytest.mark.parametrize("cols", [0.35, 0.7, 1.0, 1.3], ids=["narrow", "oval", "circle", "wide"])
def test_a_zero_drawn_as_one_loop_is_read_as_zero_not_flagged(classifier, cols):
    t = np.linspace(0, 2 * np.pi, 48)
    loop = list(zip((140 - 100 * np.sin(t)).astype(int), (140 + 100 * cols * np.cos(t)).astype(int)))
    for width in (7, 14):
        reading = read_canvas(classifier, canvas_with(loop, width=width))
        assert (reading.number, reading.not_a_digit) == ("0", False), f"pen {width}"


def test_the_shipped_sample_digits_are_not_flagged(classifier):
    with np.load(config.MODEL_DIR / config.DEFAULT_MODEL / "examples.npz") as saved:
        images = saved["sample_images"].astype(np.float32) / 255  # 120 MNIST test digits
    _, flags = classifier.read(images)
    assert flags.sum() <= 1


def test_an_ensemble_of_detectors_answers_the_mean_of_their_logits():
    first, second = detector.build("a"), detector.build("b")
    images = np.random.default_rng(0).random((5, 28, 28, 1)).astype(np.float32)
    mean = (np.asarray(first(images)) + np.asarray(second(images))) / 2
    np.testing.assert_allclose(np.asarray(detector.average([first, second])(images)), mean, rtol=1e-5, atol=1e-6)
    assert detector.average([first]) is first
