"""The draw page's answers for a drawing that is not a digit, and for a number of several digits."""

import numpy as np
import pytest

from digits import config, store
from support.nondigits import shape
from tests.conftest import fake_canvas, run_draw_page, stroke_canvas


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


# --- Labelling a drawing "not a digit" ------------------------------------------------------------

@pytest.fixture
def drawings_dir(tmp_path, monkeypatch):
    """An empty data/ folder of its own, so no test sees another's drawings (nor the store of one before)."""
    from digits import ui

    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    ui.drawings_db.clear()
    return tmp_path


def stored(drawings_dir) -> list[tuple[int, bool | None]]:
    """(label, flagged) of every stored drawing, oldest first."""
    rows = store.page(store.connect(drawings_dir / "drawings.sqlite"), "strong").rows
    return [(row.label, row.flagged) for row in rows[::-1]]


def test_right_on_a_flagged_drawing_saves_it_as_not_a_digit(drawings_dir):
    square = shape("square", 3)
    at = run_draw_page(square)
    right = next(b for b in at.button if b.key.startswith("right-"))
    assert right.label == "Right, it's not a digit"
    with fake_canvas(square):
        right.click().run()
    assert stored(drawings_dir) == [(config.NOT_A_DIGIT, True)]
    assert any(c.value.startswith("Saved as not a digit") for c in at.caption)


def test_picking_not_a_digit_for_a_drawing_read_as_a_digit_stores_it_unflagged_and_back(drawings_dir):
    one = stroke_canvas([(60, 160), (260, 160)])
    at = run_draw_page(one)
    assert next(b for b in at.button if b.key.startswith("right-")).label == "Right, it's a 1"
    choices = at.get("button_group")[0]
    assert choices.options[-1] == "not a digit" and len(choices.options) == 11
    with fake_canvas(one):
        choices.set_value(config.NOT_A_DIGIT).run()
    assert stored(drawings_dir) == [(config.NOT_A_DIGIT, False)]  # the network did not flag it
    assert any(c.value.startswith("Saved as not a digit") for c in at.caption)
    with fake_canvas(one):
        at.get("button_group")[0].set_value(1).run()  # a slip: it was a 1 after all
    assert stored(drawings_dir) == [(1, False)]  # the same drawing, relabelled
    assert any("Saved as a **1**" in c.value for c in at.caption)
