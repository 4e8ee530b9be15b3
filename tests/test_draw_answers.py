"""The draw page's answers for a drawing that is not a digit, and for a number of several digits."""

import numpy as np
import pytest

from digits import config, pairs, store
from support.nondigits import shape
from tests.conftest import fake_canvas, run_draw_page, stroke_canvas, touching_ten, touching_zeros


def prediction(at) -> str:
    return next(m.value for m in at.metric if m.label == "Prediction")


def test_a_square_is_not_a_digit_and_the_ten_probabilities_are_still_shown():
    at = run_draw_page(shape("square", 3))
    assert not at.exception
    assert any("That's not a digit" in e.value for e in at.error)
    assert prediction(at) == "?"
    assert any("probability" in h.proto.body.lower() or "%" in h.proto.body for h in at.get("html"))
    assert at.session_state["drawing_doubted"].tolist() == [True]  # the Inside page says so too


def test_a_wide_drawing_that_is_no_digit_suggests_room_between_digits_and_a_narrow_one_does_not():
    wide = run_draw_page(shape("arrow", 0))  # 1.5 times wider than tall, one piece
    assert not wide.exception
    message = next(e.value for e in wide.error if "That's not a digit" in e.value)
    assert "leave a little room between them" in message
    narrow = run_draw_page(shape("square", 1))  # 0.7 times
    assert any("That's not a digit" in e.value for e in narrow.error)
    assert not any("room between" in e.value for e in narrow.error)


def test_two_digits_side_by_side_show_the_number_and_each_input():
    one = stroke_canvas([(80, 70), (240, 70)])  # a 1 on the left
    seven = stroke_canvas([(80, 150), (80, 260), (240, 190)])  # a 7 on the right
    rgba = np.maximum(one, seven)
    at = run_draw_page(rgba)
    assert not at.exception
    assert prediction(at) == "17"
    assert [i.proto.imgs[0].caption for i in at.get("image")][:2] == ["Read as 1", "Read as 7"]
    # One heading says what the bars under each digit are, not one over each (they wrapped in narrow columns).
    bars = [h.proto.body for h in at.get("html") if "<figure" in h.proto.body]
    assert len(bars) == 2 and not any("<figcaption" in body for body in bars)
    assert any("how sure the network is of each digit" in c.value for c in at.caption)
    assert at.session_state["drawing"].shape == (2, 28, 28)  # each digit's input, for the Inside page
    at.session_state["steps"] = True  # the person opens "How a drawing becomes a 28 x 28 input"
    at = run_draw_page(rgba, at)
    steps = at.expander[0]
    assert [i.proto.imgs[0].caption for i in steps.get("image")][:4] == [
        "1. Your ink, split into 2 digits where the ink parts, or cut where little ink runs between them",
        "2. Digit 1, cropped", "3. Fitted to 20 px", "4. Centred in 28 × 28"]
    assert "against **17** read digit by digit" in steps.markdown[-1].value  # not the whole squeezed into one digit


@pytest.mark.skipif(not pairs.PAIR_READER_FILE.exists(), reason="the pair reader has not been trained")
def test_two_digits_that_touch_are_read_as_a_pair_and_the_page_says_so():
    at = run_draw_page(touching_ten())
    assert not at.exception
    assert prediction(at) == "10"
    assert any("two that touch as a pair" in s.value for s in at.success)
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions[0] == "Read together as 10: the two touch"  # the pair reader's one 28 x 56 frame
    assert not any(c.startswith("Read as") for c in captions)  # not two half-frames as if read apart
    assert not [b for b in at.button if b.key.startswith("right-")]  # nothing the store could keep
    assert any(c.value.startswith("Two digits read together as a pair cannot be labelled") for c in at.caption)
    at.session_state["steps"] = True
    at = run_draw_page(touching_ten(), at)
    assert [i.proto.imgs[0].caption for i in at.expander[0].get("image")][1:3] == [
        "2. Digits 1–2, touching, cropped", "3. Fitted together in 28 × 56, for the pair reader"]


def test_a_number_with_a_part_that_is_no_digit_says_which_part():
    one = stroke_canvas([(80, 60), (240, 60)])
    square = stroke_canvas([(100, 170), (100, 290), (220, 290), (220, 170), (100, 170)])
    at = run_draw_page(np.maximum(one, square))
    assert not at.exception
    assert prediction(at) == "?"
    message = next(e.value for e in at.error if "That's not a number" in e.value)
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    parts = captions[: int(message.split(" of its ")[1].split()[0])]  # "... the 3rd of its 4 parts is no digit"
    assert parts[0] == "Read as 1"  # the 1 is read, and the square, cut or whole, is doubted where the page says
    doubted = [f"the {k + 1}" for k, c in enumerate(parts) if c.startswith("Not a digit?")]
    assert doubted and all(d in message for d in doubted)


def test_the_wide_canvas_reads_a_number_written_across_it():
    digits = [stroke_canvas([(80, 70 + 150 * k), (240, 70 + 150 * k)], size=(320, 640)) for k in range(3)]
    seven = stroke_canvas([(80, 520), (80, 610), (240, 560)], size=(320, 640))
    number = np.maximum.reduce(digits + [seven])  # 1 1 1 7, far apart
    at = run_draw_page(number)
    assert any("could not be read" in e.value and "640 × 320" in e.value for e in at.error)  # square: refused
    at.toggle(key="wide").set_value(True)
    with fake_canvas(number):
        at.run()
    assert not at.exception
    assert prediction(at) == "1117"
    assert not any("could not be read" in e.value for e in at.error)


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
    assert choices.options == [str(d) for d in range(10) if d != 1] + ["not a digit"]  # 1 is the "Right" button
    with fake_canvas(one):
        choices.set_value(config.NOT_A_DIGIT).run()
    assert stored(drawings_dir) == [(config.NOT_A_DIGIT, False)]  # the network did not flag it
    assert any(c.value.startswith("Saved as not a digit") for c in at.caption)
    with fake_canvas(one):
        next(b for b in at.button if b.key.startswith("right-")).click().run()  # a slip: it was a 1 after all
    assert stored(drawings_dir) == [(1, False)]  # the same drawing, relabelled
    assert any("Saved as a **1**" in c.value for c in at.caption)


# --- Labelling a number: each digit kept on its own ------------------------------------------------

def one_beside_seven() -> np.ndarray:
    """A 1 on the left and a 7 on the right, far apart: read "17"."""
    return np.maximum(stroke_canvas([(80, 70), (240, 70)]), stroke_canvas([(80, 150), (80, 260), (240, 190)]))


def test_right_on_a_number_stores_each_digit_on_its_own(drawings_dir):
    number = one_beside_seven()
    at = run_draw_page(number)
    right = next(b for b in at.button if b.key.startswith("right-"))
    assert right.label == "Right, it's 17"
    with fake_canvas(number):
        right.click().run()
    assert stored(drawings_dir) == [(1, False), (7, False)]
    assert any(c.value.startswith("Saved as **17**, 2 digits each on its own") for c in at.caption)
    db = store.connect(drawings_dir / "drawings.sqlite")
    rows = store.page(db, "strong").rows[::-1]
    canvases = store.canvases(db, [r.id for r in rows])
    # Each digit's own ink, on a canvas of the drawing's size: the 1 on the left half, the 7 on the right.
    assert [c.shape for c in canvases] == [number.shape] * 2
    assert canvases[0][:, 160:, 3].max() == 0 and canvases[0][:, :120, 3].max() == 255
    assert canvases[1][:, :120, 3].max() == 0 and canvases[1][:, 160:, 3].max() == 255
    np.testing.assert_array_equal(np.maximum(canvases[0], canvases[1])[..., 3] > 0, number[..., 3] > 0)


def test_a_number_typed_with_the_wrong_count_of_digits_is_refused_and_nothing_is_lost(drawings_dir):
    number = one_beside_seven()
    at = run_draw_page(number)
    box = next(t for t in at.text_input if t.key.startswith("number-"))
    assert box.label == "No, it's…"
    with fake_canvas(number):
        box.input("127").run()
    assert stored(drawings_dir) == []
    assert any("split your drawing into 2 digits, and you typed 3" in w.value for w in at.warning)
    assert prediction(at) == "17"  # the drawing is still read, still there
    with fake_canvas(number):
        next(t for t in at.text_input if t.key.startswith("number-")).input("1 4").run()
    assert stored(drawings_dir) == [(1, False), (4, False)]
    assert any(c.value.startswith("Saved as **14**") for c in at.caption)
    with fake_canvas(number):
        next(t for t in at.text_input if t.key.startswith("number-")).input("71").run()  # a slip, mended
    assert stored(drawings_dir) == [(7, False), (1, False)]  # the same two drawings, relabelled


def test_a_number_with_a_part_flagged_offers_only_the_number_typed_and_keeps_the_flag(drawings_dir):
    one = stroke_canvas([(80, 60), (240, 60)])
    square = stroke_canvas([(100, 170), (100, 290), (220, 290), (220, 170), (100, 170)])
    rgba = np.maximum(one, square)
    at = run_draw_page(rgba)
    assert not [b for b in at.button if b.key.startswith("right-")]  # no number was read: nothing to agree with
    box = next(t for t in at.text_input if t.key.startswith("number-"))
    assert box.label == "It's the number…"
    parts = int(next(e.value for e in at.error if "That's not a number" in e.value).split(" of its ")[1].split()[0])
    with fake_canvas(rgba):
        box.input("1" * parts).run()  # whatever the person says it was, each part keeps whether it was flagged
    saved = stored(drawings_dir)
    assert [label for label, _ in saved] == [1] * parts
    assert saved[0][1] is False and any(flagged for _, flagged in saved)


@pytest.mark.parametrize("typed, message", [("", "Type the number"), ("2O26", "digits only"),
                                            ("٢٠٢٦", "digits only"), ("20266", "you typed 5")])
def test_number_labels_say_what_is_wrong(typed, message):
    from digits.draw_state import number_labels

    with pytest.raises(ValueError, match=message):
        number_labels(typed, 4)
    assert number_labels(" 20 26 ", 4) == [2, 0, 2, 6]


@pytest.mark.skipif(not pairs.PAIR_READER_FILE.exists(), reason="the pair reader has not been trained")
def test_a_touching_pair_read_together_is_not_stored_and_the_page_says_why(drawings_dir):
    from tests.conftest import stroke_canvas as line

    rgba = np.maximum(touching_zeros(), line([(80, 290), (240, 290)]))  # "00" touching, then a 1 apart
    at = run_draw_page(rgba)
    assert prediction(at) == "001"
    with fake_canvas(rgba):
        next(b for b in at.button if b.key.startswith("right-")).click().run()
    assert stored(drawings_dir) == [(1, False)]  # the lone 1 only
    assert any("The 2 touching digits read together are not kept" in c.value for c in at.caption)


def test_a_number_read_as_one_line_shows_the_line_once_and_stores_each_digit(drawings_dir, monkeypatch):
    from types import SimpleNamespace

    from digits import inference, sequence

    class LineReader:  # reads any line as "42"
        def read(self, frame):
            return sequence.Line("42", 1.0, np.eye(10, dtype=np.float32)[[4, 2]])

    real = inference._as_a_line
    monkeypatch.setattr(inference, "_as_a_line",
                        lambda classifier, ink, each: real(SimpleNamespace(line_reader=LineReader()), ink, each))
    number = one_beside_seven()
    at = run_draw_page(number)
    assert not at.exception
    assert prediction(at) == "42"
    assert any("read whole, by a second network that reads a line at once" in s.value for s in at.success)
    assert next(i.proto.imgs[0].caption for i in at.get("image")) == (
        "Read as one line, 42: the line reader's input, 32 × 160 pixels")
    assert len([h for h in at.get("html") if "<figure" in h.proto.body]) == 2  # each digit's probabilities
    assert at.session_state["drawing"].shape == (2, 28, 28)  # each digit's own input, for the Inside page
    at.session_state["steps"] = True
    at = run_draw_page(number, at)
    assert [i.proto.imgs[0].caption for i in at.expander[0].get("image")][1:4] == [
        "2. The whole line, 28 px tall in 32 × 160, for the line reader",
        "Digit 1, a 4 to the line reader", "Digit 2, a 2 to the line reader"]
    right = next(b for b in at.button if b.key.startswith("right-"))
    assert right.label == "Right, it's 42"
    with fake_canvas(number):
        right.click().run()
    assert stored(drawings_dir) == [(4, False), (2, False)]  # each digit's own piece, labelled as the line reads
