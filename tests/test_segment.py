"""Splitting a canvas's ink into digits: hand-built inks with known answers."""

import numpy as np
import pytest

from digits.segment import split_digits


def bars(*columns, height=(20, 80), size=(100, 200)):
    ink = np.zeros(size, np.float32)
    for left, right in columns:
        ink[height[0] : height[1], left:right] = 1.0
    return ink


def test_blank_ink_has_no_digits():
    assert split_digits(np.zeros((50, 50), np.float32)) == []


@pytest.mark.parametrize("columns, expected", [([(10, 20)], 1), ([(10, 20), (60, 70)], 2),
                                               ([(10, 20), (60, 70), (120, 130)], 3)])
def test_separate_strokes_are_separate_digits_left_to_right(columns, expected):
    ink = bars(*columns)
    before = ink.copy()
    parts = split_digits(ink)
    assert len(parts) == expected
    lefts = [np.flatnonzero(p.any(0))[0] for p in parts]
    assert lefts == sorted(lefts) == [c[0] for c in columns]
    np.testing.assert_array_equal(ink, before)
    np.testing.assert_array_equal(sum(parts), ink)  # every pixel of ink in exactly one digit


def test_a_bar_above_its_digit_stays_with_it():  # a 5's top bar, drawn apart
    ink = bars((40, 50), height=(30, 80))
    ink[10:15, 40:70] = 1.0
    assert len(split_digits(ink)) == 1


def test_a_speck_joins_the_nearest_digit():
    ink = bars((40, 50), (120, 130))
    ink[90:93, 60:63] = 1.0
    parts = split_digits(ink)
    assert len(parts) == 2 and parts[0][90:93, 60:63].all()


def test_two_touching_digits_are_cut_where_least_ink_runs():
    ink = bars((20, 30), (90, 100))
    ink[48:52, 30:90] = 1.0  # a thin joint from one to the other
    parts = split_digits(ink)
    assert len(parts) == 2
    assert parts[0][20:80, 20:30].all()
    assert parts[1][20:80, 90:100].all()
