"""Splitting a canvas's ink into digits: hand-built inks with known answers."""

import numpy as np
import pytest

from digits.segment import read_digits


def probabilities_only(predict_proba):
    """A stand-in classifier's `digits.segment.Read`: its probabilities, and no detector (every margin -inf)."""
    return lambda images: (predict_proba(images), np.full(len(images), -np.inf, np.float32))


def bars(*columns, height=(20, 80), size=(100, 200)):
    ink = np.zeros(size, np.float32)
    for left, right in columns:
        ink[height[0] : height[1], left:right] = 1.0
    return ink


def confident_on_one_bar(images):
    """A stand-in classifier: sure of a '1' when the ink's column profile has no dip inside it, else unsure."""
    probs = np.full((len(images), 10), 0.7 / 9, np.float32)
    for n, image in enumerate(images):
        profile = image.sum(axis=0)
        inked = profile[profile > 0.5]
        dip = len(inked) > 2 and inked[1:-1].min() < 0.3 * inked.max()
        probs[n] = np.full(10, 0.7 / 9) if dip else np.r_[0.0, 0.99, np.full(8, 0.01 / 8)]
        probs[n, 0] = 1 - probs[n, 1:].sum()
    return probs


def split(ink):
    """read_digits with a classifier sure of any single stroke, as a person reads bars."""
    return read_digits(ink, probabilities_only(confident_on_one_bar))


def test_blank_ink_has_no_digits():
    assert split(np.zeros((50, 50), np.float32)) == []


@pytest.mark.parametrize("columns, expected", [([(10, 20)], 1), ([(10, 20), (60, 70)], 2),
                                               ([(10, 20), (60, 70), (120, 130)], 3)])
def test_separate_strokes_are_separate_digits_left_to_right(columns, expected):
    ink = bars(*columns)
    before = ink.copy()
    parts = split(ink)
    assert len(parts) == expected
    lefts = [np.flatnonzero(p.any(0))[0] for p in parts]
    assert lefts == sorted(lefts) == [c[0] for c in columns]
    np.testing.assert_array_equal(ink, before)
    np.testing.assert_array_equal(sum(parts), ink)  # every pixel of ink in exactly one digit


def test_a_bar_above_its_digit_stays_with_it():  # a 5's top bar, drawn apart
    ink = bars((40, 50), height=(30, 80))
    ink[10:15, 40:70] = 1.0
    assert len(split(ink)) == 1


def test_a_speck_joins_the_nearest_digit():
    ink = bars((40, 50), (120, 130))
    ink[90:93, 60:63] = 1.0
    parts = split(ink)
    assert len(parts) == 2 and parts[0][90:93, 60:63].all()


def test_a_dot_between_digits_of_a_number_joins_the_nearest_digit():  # "770.6": the dot is no digit
    ink = bars((20, 30), (60, 70), (140, 150), height=(20, 80))
    ink[40:56, 80:96] = 1.0  # 16 px: past the speck height (15 px), under DOT of a digit's 60 px
    parts = split(ink)
    assert len(parts) == 3
    assert parts[1][40:56, 80:96].all() and sum(parts)[40:56, 80:96].all()  # nearest: the middle digit
    ink[40:64, 80:104] = 1.0  # 24 px, as tall as DOT of a digit: a digit of its own
    assert len(split(ink)) == 4


def test_two_touching_digits_are_cut_where_least_ink_runs():
    ink = bars((20, 30), (90, 100))
    ink[48:52, 30:90] = 1.0  # a thin joint from one to the other
    parts = split(ink)
    assert len(parts) == 2
    assert parts[0][20:80, 20:30].all()
    assert parts[1][20:80, 90:100].all()


def test_a_pen_lift_in_a_stroke_leaves_one_digit():  # the two halves of a 1, one above the other
    ink = np.zeros((100, 200), np.float32)
    for row in range(20, 80):
        if not 48 <= row < 54:  # the gap the pen left
            col = 100 - (row - 20) // 2  # slanted: the halves barely share columns
            ink[row, col : col + 6] = 1.0
    assert len(split(ink)) == 1


def test_a_one_beside_a_seven_is_two_digits():
    ink = bars((20, 28))
    ink[20:26, 40:90] = 1.0  # the 7's bar
    for row in range(26, 80):  # and its stroke down to the left
        col = 88 - (row - 26) * 33 // 54
        ink[row, col - 4 : col + 2] = 1.0
    parts = split(ink)
    assert len(parts) == 2
    assert parts[0][20:80, 20:28].all() and parts[1][20:26, 40:90].all()


def always_sure(images):
    """A stand-in classifier that reads everything as a sure 0."""
    return np.tile(np.r_[0.991, np.full(9, 0.001)], (len(images), 1)).astype(np.float32)


def never_called(images):
    raise AssertionError("one narrow digit must be read without asking the classifier")


def test_read_digits_cuts_touching_digits_where_the_classifier_reads_them_surely():
    ink = bars((20, 30), (90, 100))
    ink[48:52, 30:90] = 1.0
    parts = read_digits(ink, probabilities_only(confident_on_one_bar))
    assert len(parts) == 2
    assert parts[0][20:80, 20:30].all() and not parts[0][:, 90:100].any()
    assert parts[1][20:80, 90:100].all() and not parts[1][:, 20:30].any()
    np.testing.assert_array_equal(sum(parts), ink)


def test_read_digits_keeps_a_wide_digit_whole_when_the_classifier_reads_it_surely():  # a wide 0
    ink = np.zeros((100, 200), np.float32)
    rows, cols = np.ogrid[:100, :200]
    ring = ((rows - 50) / 30) ** 2 + ((cols - 100) / 34) ** 2  # 1.13 times wider than tall
    ink[(ring > 0.7) & (ring < 1.0)] = 1.0
    assert len(read_digits(ink, probabilities_only(always_sure))) == 1


def test_read_digits_does_not_cut_a_flat_0_through_its_loop():
    ink = np.zeros((100, 200), np.float32)
    rows, cols = np.ogrid[:100, :200]
    ring = ((rows - 50) / 30) ** 2 + ((cols - 100) / 45) ** 2  # 1.5 times wider than tall: it costs WIDE_COST
    ink[(ring > 0.7) & (ring < 1.0)] = 1.0
    # Each half of the loop reads as surely as the whole, so only the cost of cutting through the loop's hole
    # (HOLE_COST) keeps it whole; two touching rings are still cut apart, through no hole.
    assert len(read_digits(ink, probabilities_only(always_sure))) == 1
    two = np.zeros((100, 200), np.float32)
    for centre in (64, 128):  # "00", the two rings' strokes just overlapping: the cut between them runs through no hole
        ring = ((rows - 50) / 30) ** 2 + ((cols - centre) / 34) ** 2
        two[(ring > 0.7) & (ring < 1.0)] = 1.0
    parts = read_digits(two, probabilities_only(always_sure))
    assert len(parts) == 2 and not parts[0][:, 110:].any() and not parts[1][:, :80].any()


def test_read_digits_takes_the_whole_s_reading_from_its_caller_and_does_not_read_it_again():
    ink = np.zeros((100, 200), np.float32)
    rows, cols = np.ogrid[:100, :200]
    ring = ((rows - 50) / 30) ** 2 + ((cols - 100) / 31) ** 2  # a 0 a little wider than tall
    ink[(ring > 0.7) & (ring < 1.0)] = 1.0
    sure, unsure = np.eye(10)[0], np.full(10, 0.1)
    assert len(read_digits(ink, probabilities_only(never_called), whole=(sure, -5.0))) == 1
    with pytest.raises(AssertionError, match="without asking the classifier"):  # read unsure: the cuts are read
        read_digits(ink, probabilities_only(never_called), whole=(unsure, -5.0))


def test_read_digits_reads_one_narrow_digit_without_the_classifier():
    ink = bars((40, 50), height=(30, 80))
    ink[10:15, 40:70] = 1.0  # a 5's bar, drawn apart
    parts = read_digits(ink, probabilities_only(never_called))
    assert len(parts) == 1
    np.testing.assert_array_equal(parts[0], ink)


def test_read_digits_keeps_separate_digits_apart():
    ink = bars((10, 20), (60, 70), (120, 130))
    assert len(read_digits(ink, probabilities_only(always_sure))) == 3
    assert read_digits(np.zeros((50, 50), np.float32), probabilities_only(never_called)) == []


def sure_of_one_straight_stroke(images):
    """A stand-in classifier: sure of a '1' when the ink lies along one straight line (small residual), else unsure."""
    probs = np.full((len(images), 10), 0.1, np.float32)
    for n, image in enumerate(images):
        rows, cols = np.nonzero(image > 0.5)
        fit = np.polyfit(rows, cols, 1)
        if np.std(cols - np.polyval(fit, rows)) < 2.0:
            probs[n] = np.r_[0.0, 0.99, np.full(8, 0.01 / 8)]
            probs[n, 0] = 1 - probs[n, 1:].sum()
    return probs


def test_read_digits_cuts_touching_slanted_digits_along_their_slant():  # no straight column parts them
    ink = np.zeros((100, 200), np.float32)
    for row in range(30, 70):
        for left in (40, 74):
            col = left + (70 - row)  # leaning right, one column a row
            ink[row, col : col + 8] = 1.0
    ink[49:51, 60:110] = 1.0  # a thin joint from one to the other
    parts = read_digits(ink, probabilities_only(sure_of_one_straight_stroke))
    assert len(parts) == 2
    assert parts[0][30:70, 40:50].any() and not parts[0][30:35, 110:130].any()
    assert parts[1][30:35, 110:130].any() and not parts[1][65:70, 40:50].any()
    np.testing.assert_array_equal(sum(parts), ink)


def test_in_a_row_of_digits_read_digits_splits_what_the_detector_says_is_no_digit():  # a touching pair
    ink = np.zeros((100, 260), np.float32)
    rows, cols = np.ogrid[:100, :260]
    ring = ((rows - 50) / 30) ** 2 + ((cols - 160) / 34) ** 2  # 1.13 times wider than tall: kept whole when sure
    ink[(ring > 0.7) & (ring < 1.0)] = 1.0

    def sure_but_doubts_wide_ink(images):
        """Sure of everything; the detector doubts anything inked over more than 16 of its 28 columns."""
        widths = np.array([np.ptp(np.flatnonzero(image.max(0) > 0.5)) + 1 for image in images])
        return always_sure(images), np.where(widths > 16, 6.0, -6.0).astype(np.float32)

    # Alone, the ring is one group: a doubted drawing in one piece is not cut into digit-like pieces.
    assert len(read_digits(ink, sure_but_doubts_wide_ink)) == 1
    ink[20:80, 40:50] = 1.0  # a 1 to its left: now a row of digits
    assert len(read_digits(ink, probabilities_only(always_sure))) == 2
    parts = read_digits(ink, sure_but_doubts_wide_ink)
    assert len(parts) == 3
    np.testing.assert_array_equal(sum(parts), ink)


def test_read_digits_weighs_the_verifier_s_doubt_of_each_candidate():
    ink = bars((40, 52), (54, 66))  # two strokes 2 px apart: one sure 1 to the stand-in reader, or two
    assert len(split(ink)) == 1  # one digit is a little surer than two
    seen = []

    def doubts_both_together(images, contexts):  # a verifier sure that the two strokes are not one digit
        seen.append((images.shape, contexts.shape))
        inked = (images > 0.5).any(axis=1)
        return np.where(inked.sum(axis=1) > 6, 0.999, 0.0)

    parts = read_digits(ink, probabilities_only(confident_on_one_bar), verify=doubts_both_together)
    assert len(parts) == 2
    np.testing.assert_array_equal(sum(parts), ink)
    (images, contexts), = seen
    assert images == contexts and images[0] == 3 and images[1:] == (28, 28)  # each stroke, and both
    assert len(read_digits(ink, probabilities_only(confident_on_one_bar), verify=lambda i, c: np.zeros(len(i)))) == 1
