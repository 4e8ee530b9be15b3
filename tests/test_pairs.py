"""The touching-pair reader: its frame, its training pairs, and how read_canvas uses it."""

import numpy as np
import pytest

from digits import network, pairs
from digits.inference import (
    Classifier,
    DigitReading,
    _touching_pairs,
    load_classifier,
    pair_groups,
    read_answer,
    read_canvas,
)
from digits.preprocess import Steps
from tests.conftest import constant_model, stroke_canvas, touching_ten


def test_fit_pair_puts_the_ink_20_px_high_in_the_middle_of_a_28_by_56_frame():
    ink = np.zeros((100, 150), np.float32)
    ink[:, :] = 1.0  # a solid block 1.5 times wider than tall
    frame = pairs.fit_pair(ink)
    assert frame.shape == (28, 56) and frame.dtype == np.float32
    assert frame.sum() == pytest.approx(20 * 30, rel=0.01)  # 20 px high, so 30 px wide
    rows, cols = np.flatnonzero(frame.max(1) > 0), np.flatnonzero(frame.max(0) > 0)
    assert 20 <= len(rows) <= 21 and 30 <= len(cols) <= 31  # a shift by a fraction of a pixel blurs one edge
    from scipy import ndimage
    np.testing.assert_allclose(ndimage.center_of_mass(frame), (14.0, 28.0), atol=0.05)


def test_fit_pair_fits_very_wide_ink_to_the_frame_s_width():
    frame = pairs.fit_pair(np.ones((10, 200), np.float32))
    assert frame.sum() == pytest.approx(52 * 3, rel=0.05)  # 52 px wide, so 2.6 px high
    assert frame[:, 0].max() == 0 and frame[:, -1].max() == 0  # nothing off the frame
    assert frame.max() <= 1.0 and frame.min() >= 0.0


def test_halves_are_the_two_digits_own_probabilities():
    probs = np.zeros(101)
    probs[78], probs[18], probs[pairs.NOT_A_PAIR] = 0.6, 0.2, 0.2  # "78" or "18"; not a pair aside
    left, right = pairs.halves(probs)
    np.testing.assert_allclose(left, np.eye(10)[7] * 0.75 + np.eye(10)[1] * 0.25, atol=1e-6)
    np.testing.assert_allclose(right, np.eye(10)[8], atol=1e-6)


def test_compose_writes_two_digits_as_one_piece_wider_than_either():
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 12:16] = 1.0  # a 1
    ring = np.zeros((28, 28), np.float32)
    rows, cols = np.ogrid[:28, :28]
    ring[np.abs(np.hypot(rows - 14, cols - 14) - 8) < 2] = 1.0  # a 0
    widths = [pairs.compose(bar, ring, np.random.default_rng(seed)).shape[1] for seed in range(20)]
    assert min(widths) > 18  # the 0 alone is 20 wide before scaling and shearing: the 1 beside it adds to it
    first, second = (pairs.compose(bar, ring, np.random.default_rng(3)) for _ in range(2))
    np.testing.assert_array_equal(first, second)  # seeded


def test_training_pairs_and_non_pairs_are_frames_with_labels():
    digits = np.zeros((2, 28, 28), np.float32)
    digits[0, 4:24, 12:16] = 1.0
    digits[1, 4:24, 8:20] = 1.0
    images, labels = pairs.pair_images(digits, np.array([1, 8]), 6, seed=0)
    assert images.shape == (6, 28, 56) and set(labels) <= {11, 18, 81, 88}
    assert pairs.wide_singles(digits, 4, seed=0).shape == (4, 28, 56)


def test_touching_pairs_are_one_piece_of_ink_wider_than_either_digit(monkeypatch):
    from scipy import ndimage

    from digits import verifier

    monkeypatch.setattr(verifier, "SLANTS", (0.0, 0.0))
    monkeypatch.setattr(verifier, "SIZES", (1.0, 1.0))
    monkeypatch.setattr(verifier, "TOUCHING", (-0.05, -0.05))  # strokes overlap by 5 % of the height
    digits = np.zeros((2, 28, 28), np.uint8)
    digits[0, 4:24, 8:20] = 255  # two blocks 12 px wide: alone, fitted 20 px high, at most 12 px wide
    digits[1, 4:24, 8:20] = 255
    images, labels = pairs.touching_pairs(digits, np.array([3, 8]), 8, seed=0)
    assert images.shape == (8, 28, 56) and images.dtype == np.float32 and set(labels) <= {33, 38, 83, 88}
    assert 0 <= images.min() and images.max() <= 1
    for image in images:
        assert ndimage.label(image > 0.5)[1] == 1  # the two touch: one piece
        cols = np.flatnonzero((image > 0.5).any(axis=0))
        assert cols[-1] - cols[0] + 1 >= 18  # two blocks side by side, overlapping a little
    again, _ = pairs.touching_pairs(digits, np.array([3, 8]), 8, seed=0)
    np.testing.assert_array_equal(images, again)  # seeded


def test_a_classifier_without_a_pair_reader_reads_no_pair():
    bare = Classifier(network.build("seed"), name="seed")
    read = bare.read_pairs(np.zeros((3, 28, 56), np.float32))
    assert read.shape == (3, 101) and (read.argmax(1) == pairs.NOT_A_PAIR).all()
    with pytest.raises(ValueError, match="28, 56"):
        bare.read_pairs(np.zeros((1, 28, 28), np.float32))


def with_pair_reader(label: int, sure: float) -> Classifier:
    """A classifier whose pair reader stand-in reads every frame as the pair ``label`` with probability ``sure``."""
    logits = np.full(101, -20.0, np.float32)
    logits[label] = np.log(sure / (1 - sure))
    logits[pairs.NOT_A_PAIR] = 0.0
    reader = constant_model((pairs.HEIGHT, pairs.WIDTH, 1), logits)
    return Classifier(network.build("seed"), "seed", pair_reader=reader)


def part(left: int, width: int, height: int = 100, digit: int = 3, doubted: bool = True) -> DigitReading:
    """A digit's reading whose ink is ``width`` x ``height`` pixels from column ``left`` of a 120 x 400 canvas."""
    ink = np.zeros((120, 400), np.float32)
    ink[10 : 10 + height, left : left + width] = 1.0
    crop = ink[10 : 10 + height, left : left + width]
    steps = Steps(ink=ink, crop=crop, fitted=np.zeros((20, 20), np.float32), centred=np.zeros((28, 28), np.float32))
    probs = np.eye(10, dtype=np.float32)[digit]
    return DigitReading(steps, probs, *read_answer(probs), not_a_digit=doubted)


def test_a_wide_piece_the_pair_reader_is_sure_of_becomes_those_two_digits():
    each = [part(10, 40), part(90, 150), part(260, 40)]  # the middle one is 1.5 times wider than tall
    read = _touching_pairs(with_pair_reader(42, 0.95), each)
    assert [d.digit for d in read] == [3, 4, 2, 3]
    assert [d.paired for d in read] == [False, True, True, False]
    assert not read[1].not_a_digit and not read[2].not_a_digit
    assert read[1].steps.centred.shape == read[2].steps.centred.shape == (28, 28)
    assert read[1].steps.fitted.shape == (28, 56)  # the pair's frame, as the pair reader saw it
    np.testing.assert_array_equal(np.hstack([read[1].steps.centred, read[2].steps.centred]), read[1].steps.fitted)
    assert read[1].probs.sum() == pytest.approx(1.0) and read[1].confidence == pytest.approx(1.0, abs=1e-6)


def test_the_page_shows_each_pair_s_two_digits_together_and_the_others_alone():
    each = [part(10, 40), part(90, 150), part(260, 150), part(420, 40)]  # two wide pieces between two narrow
    read = _touching_pairs(with_pair_reader(42, 0.95), each)
    groups = pair_groups(read)
    assert [len(g) for g in groups] == [1, 2, 2, 1]  # two pairs side by side stay two pairs
    assert [[d.digit for d in g] for g in groups] == [[3], [4, 2], [4, 2], [3]]
    assert groups[1][0].steps.fitted is groups[1][1].steps.fitted
    assert pair_groups(each) == [(d,) for d in each]  # no pair: one by one


def test_narrow_pieces_and_unsure_pairs_are_left_as_they_were():
    each = [part(10, 60), part(90, 150)]
    assert _touching_pairs(with_pair_reader(42, 0.6), each) == each  # not sure enough
    narrow = [part(10, 40), part(90, 45)]  # under half as wide as tall
    assert _touching_pairs(with_pair_reader(42, 0.99), narrow) == narrow  # never shown to it
    alone = [part(90, 70)]  # 0.7 times wider than tall: one digit, when it is all there is
    assert _touching_pairs(with_pair_reader(42, 0.99), alone) == alone
    bare = Classifier(network.build("seed"), "seed")
    assert _touching_pairs(bare, each) == each


def test_a_very_wide_piece_is_read_as_a_pair_on_less_certainty():
    # 1.5 times wider than tall: rarely one digit, so a pair at 0.8 is taken; at 1.0, 0.95 is still asked.
    very_wide, wide = [part(10, 40), part(90, 150)], [part(10, 40), part(90, 100)]
    assert [d.digit for d in _touching_pairs(with_pair_reader(98, 0.8), very_wide)] == [3, 9, 8]
    assert _touching_pairs(with_pair_reader(98, 0.8), wide) == wide
    assert [d.digit for d in _touching_pairs(with_pair_reader(98, 0.96), wide)] == [3, 9, 8]
    assert _touching_pairs(with_pair_reader(98, 0.65), very_wide) == very_wide  # under PAIR_SURE_WIDE


def test_among_several_digits_a_narrower_piece_is_shown_to_the_pair_reader_too():
    # A slanted "71" beside other digits is often only 0.6-0.7 times wider than tall.
    each = [part(10, 40), part(90, 70), part(200, 40)]
    assert [d.digit for d in _touching_pairs(with_pair_reader(71, 0.99), each)] == [3, 7, 1, 3]
    assert _touching_pairs(with_pair_reader(71, 0.9), each) == each  # not sure enough


def test_two_touching_pieces_become_the_pair_the_pair_reader_reads_when_it_differs():
    cut = [part(10, 45), part(55, 45)]  # one piece cut in two: the ink of the two meets
    read = _touching_pairs(with_pair_reader(42, 0.95), cut)
    assert [d.digit for d in read] == [4, 2] and all(d.paired for d in read)
    assert read[0].steps.crop.shape == (100, 90)  # the two pieces' ink together
    assert _touching_pairs(with_pair_reader(33, 0.95), cut) == cut  # the same digits: kept as they were
    sure = [part(10, 45, doubted=False), part(55, 45, doubted=False)]  # read at 1.0 each: surer than 0.95
    assert _touching_pairs(with_pair_reader(42, 0.95), sure) == sure
    apart = [part(10, 45), part(80, 45)]  # a gap between them: never read as one pair
    assert _touching_pairs(with_pair_reader(42, 0.95), apart) == apart


@pytest.mark.skipif(not pairs.PAIR_READER_FILE.exists(), reason="the pair reader has not been trained")
def test_the_shipped_readers_read_a_touching_10_and_a_wide_0():
    ten = read_canvas(load_classifier(), touching_ten())
    assert ten.number == "10" and [d.paired for d in ten.digits] == [True, True]
    t = np.linspace(0, 2 * np.pi, 41)
    wide_zero = stroke_canvas(np.stack([160 + 70 * np.sin(t), 160 - 95 * np.cos(t)], 1))  # 1.3 times wider than tall
    zero = read_canvas(load_classifier(), wide_zero)
    assert zero.number == "0" and not zero.digits[0].paired


def test_the_shipped_pair_reader_is_small():
    assert pairs.PAIR_READER_FILE.stat().st_size < 4_000_000
    assert pairs.load().output_shape == (None, pairs.NOT_A_PAIR + 1)
