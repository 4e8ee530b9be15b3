"""The line reader: its frame, CTC decoding, its training data, and how read_canvas uses it."""

from types import SimpleNamespace

import numpy as np
import pytest

from digits import sequence
from digits.inference import (
    LINE_SURE,
    DigitReading,
    _as_a_line,
    pair_groups,
    read_answer,
)
from digits.preprocess import ink_steps


def test_fit_line_puts_the_ink_28_px_tall_at_the_left_of_a_32_by_160_frame():
    ink = np.zeros((300, 400), np.float32)
    ink[100:200, 50:200] = 1.0  # a block 1.5 times wider than tall
    frame = sequence.fit_line(ink)
    assert frame.shape == (32, 160) and frame.dtype == np.float32 and frame.max() == 1.0
    rows, cols = np.flatnonzero(frame.max(1) > 0.5), np.flatnonzero(frame.max(0) > 0.5)
    assert (rows[0], rows[-1]) == (2, 29)  # 28 px, centred
    assert (cols[0], cols[-1]) == (2, 43)  # from the margin, 42 px wide


def test_fit_line_fits_very_wide_ink_to_the_frame_s_width_and_a_blank_to_zeros():
    frame = sequence.fit_line(np.ones((10, 400), np.float32))
    cols = np.flatnonzero(frame.max(0) > 0.5)
    assert (cols[0], cols[-1]) == (2, 157) and frame[:, -2:].max() == 0
    assert not sequence.fit_line(np.zeros((50, 50), np.float32)).any()


def _logits(path: list[int], sure: float = 0.9) -> np.ndarray:
    """(STEPS, 11) logits whose best class in column t is ``path[t]`` (blank after), with probability ``sure``."""
    path = path + [sequence.BLANK] * (sequence.STEPS - len(path))
    p = np.full((sequence.STEPS, 11), (1 - sure) / 10)
    p[np.arange(sequence.STEPS), path] = sure
    return np.log(p)


def test_read_logits_collapses_repeats_and_drops_blanks():
    b = sequence.BLANK
    line = sequence.read_logits(_logits([b, 4, 4, b, 4, 8, 8, b]))  # digits are classes 1-10: "337"
    assert line.number == "337"
    assert line.sure == pytest.approx(0.9**sequence.STEPS)
    assert line.probs.shape == (3, 10) and [int(p.argmax()) for p in line.probs] == [3, 3, 7]
    np.testing.assert_allclose(line.probs.sum(1), 1, rtol=1e-6)
    assert sequence.decode(_logits([b, 4, 4, b, 4, 8, 8, b])[None])[0] == ["337"]


def test_read_logits_of_all_blanks_is_no_number():
    line = sequence.read_logits(_logits([]))
    assert line.number == "" and line.probs.shape == (0, 10)


def test_the_reader_names_a_digit_or_blank_in_each_of_40_columns():
    model = sequence.build()
    assert model.output_shape == (None, sequence.STEPS, 11)
    assert model(np.zeros((2, 32, 160, 1), np.float32)).shape == (2, 40, 11)


def test_ctc_loss_is_lower_for_the_string_the_columns_spell():
    logits = _logits([0, 2, 0, 0, 3, 0], sure=0.99)[None].astype(np.float32)  # "12"
    right = float(sequence.ctc_loss(np.array([[2, 3, 0, 0]]), logits)[0])
    wrong = float(sequence.ctc_loss(np.array([[3, 2, 0, 0]]), logits)[0])
    assert right < 1.0 < wrong


def test_training_lines_and_non_digits_are_frames_with_padded_labels():
    digits = np.zeros((20, 28, 28), np.uint8)
    digits[:, 4:24, 12:16] = 255  # ones
    images, targets = sequence._numbers_chunk(digits, np.full(20, 1), seed=3)
    assert images.shape == (5, 32, 160) and targets.shape == (5, 4)
    lengths = (targets > 0).sum(1)
    assert set(np.unique(targets[targets > 0])) == {2} and lengths.min() >= 1 and lengths.max() <= 4
    assert (targets[np.arange(4)[None] >= lengths[:, None]] == 0).all()  # padded with blanks after the digits
    for image, n in zip(images, lengths):  # each 1 a bar of its own, left to right, unless two touch
        runs = np.count_nonzero(np.diff((image.max(0) > 0.5).astype(int)) == 1)
        assert runs == n if n == 1 else 1 <= runs <= n


class FakeLineReader:
    """Reads every line as ``line``."""

    def __init__(self, line: sequence.Line):
        self.line = line

    def read(self, frame):
        assert frame.shape == (sequence.HEIGHT, sequence.WIDTH)
        return self.line


def _digit(ink: np.ndarray, digit: int, flagged: bool = False) -> DigitReading:
    probs = np.eye(10, dtype=np.float32)[digit]
    return DigitReading(ink_steps(ink), probs, *read_answer(probs), not_a_digit=flagged)


def _two_blobs() -> np.ndarray:
    ink = np.zeros((100, 200), np.float32)
    ink[20:80, 20:60] = 1.0
    ink[20:80, 120:160] = 1.0
    return ink


def _line(number: str, sure: float) -> sequence.Line:
    return sequence.Line(number, sure, np.eye(10, dtype=np.float32)[[int(c) for c in number]].reshape(-1, 10))


def _reader(line: sequence.Line) -> SimpleNamespace:
    return SimpleNamespace(line_reader=FakeLineReader(line))


def test_a_number_the_line_reader_reads_otherwise_surely_takes_its_digits_on_the_same_pieces():
    ink = _two_blobs()
    two = [_digit(ink[:, :100], 4), _digit(np.pad(ink[:, 100:], ((0, 0), (100, 0))), 7)]
    read = _as_a_line(_reader(_line("42", LINE_SURE)), ink, two)
    assert [d.digit for d in read] == [4, 2] and all(d.lined and not d.not_a_digit for d in read)
    assert [d.steps.centred is e.steps.centred for d, e in zip(read, two)] == [True, True]  # each keeps its piece
    np.testing.assert_array_equal(read[1].probs, np.eye(10)[2])  # the line reader's probabilities
    assert read[0].steps.fitted is read[1].steps.fitted and read[0].steps.fitted.shape == (32, 160)
    assert pair_groups(read) == [tuple(read)]  # the draw page shows the line once


def test_the_line_reader_is_not_taken_unsure_of_another_count_agreeing_or_on_a_flagged_drawing():
    ink = _two_blobs()
    two = [_digit(ink[:, :100], 4), _digit(np.pad(ink[:, 100:], ((0, 0), (100, 0))), 7)]
    for each, line in [(two, _line("42", LINE_SURE * 0.99)),  # unsure of another number
                       (two, _line("421", 1.0)),  # another count: it does not say where its digits lie
                       (two, _line("47", 1.0)),  # the same number
                       ([_digit(ink, 8, flagged=True)], _line("4", 1.0)),  # flagged: left so
                       ([_digit(ink, 8)], _line("", 1.0))]:  # sure there is no digit: not its call
        assert _as_a_line(_reader(line), ink, each) is each
    assert _as_a_line(SimpleNamespace(line_reader=None), ink, two) is two


def test_the_shipped_line_reader_reads_numbers_of_mnist_test_digits():
    reader = sequence.load()
    if reader is None:
        pytest.skip("no line reader trained (python -m digits.sequence)")
    from digits import data
    from support import numbers

    _, (x_test, y_test) = data.load_mnist()
    right = 0
    for k in range(10):
        picks = np.arange(3 * k, 3 * k + 3)
        canvas = numbers.number(x_test[picks], seed=k)
        line = reader.read(sequence.fit_line(canvas[..., 3] / 255.0))
        right += line.number == "".join(map(str, y_test[picks]))
    assert right >= 9

