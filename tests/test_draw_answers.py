"""The draw page's answers for a drawing that is not a digit, and for a number of several digits."""

import numpy as np

from support.nondigits import shape
from tests.conftest import run_draw_page, stroke_canvas


def prediction(at) -> str:
    return next(m.value for m in at.metric if m.label == "Prediction")


def test_a_square_is_not_a_digit_and_the_ten_probabilities_are_still_shown():
    at = run_draw_page(shape("square", 3))
    assert not at.exception
    assert any("That's not a digit" in e.value for e in at.error)
    assert prediction(at) == "?"
    assert any("probability" in h.proto.body.lower() or "%" in h.proto.body for h in at.get("html"))


def test_two_digits_side_by_side_show_the_number_and_each_input():
    one = stroke_canvas([(80, 70), (240, 70)])  # a 1 on the left
    seven = stroke_canvas([(80, 150), (80, 260), (240, 190)])  # a 7 on the right
    rgba = np.maximum(one, seven)
    at = run_draw_page(rgba)
    assert not at.exception
    assert prediction(at) == "17"
    assert [i.proto.imgs[0].caption for i in at.get("image")][:2] == ["Read as 1", "Read as 7"]


def test_a_single_one_reads_as_one_with_no_flag():
    at = run_draw_page(stroke_canvas([(60, 160), (260, 160)]))
    assert prediction(at) == "1"
    assert not any("not a digit" in e.value for e in at.error)
