"""The splitter's piece verifier: composed numbers, labelled candidates, contexts, and the traced call."""

import numpy as np
import pytest

from digits import network, segment, verifier
from digits.inference import Classifier


def blocky_digit(width: int) -> np.ndarray:
    """A (28, 28) uint8 'digit': an upright bar ``width`` pixels wide, 20 tall, as MNIST's white on black."""
    image = np.zeros((28, 28), np.uint8)
    image[4:24, 14 - width // 2 : 14 - width // 2 + width] = 255
    return image


@pytest.mark.parametrize("seed", range(4))
def test_compose_number_writes_each_digit_left_of_the_next_and_owns_every_pixel(seed, monkeypatch):
    monkeypatch.setattr(verifier, "TOUCH_CHANCE", 0.0)
    monkeypatch.setattr(verifier, "SLANTS", (0.0, 0.0))
    digits = np.stack([blocky_digit(6), blocky_digit(10), blocky_digit(6)])
    ink, owner = verifier.compose_number(digits, np.random.default_rng(seed))
    assert ink.shape == owner.shape and ink.dtype == np.float32 and 0 <= ink.min() and ink.max() <= 1
    np.testing.assert_array_equal(owner >= 0, ink > 0)
    spans = [np.flatnonzero((owner == k).any(axis=0)) for k in range(3)]
    assert all(len(s) for s in spans)
    assert spans[0][-1] < spans[1][0] and spans[1][-1] < spans[2][0]  # apart, left to right


def test_compose_number_makes_a_touching_pair_touch(monkeypatch):
    monkeypatch.setattr(verifier, "TOUCH_CHANCE", 1.0)
    monkeypatch.setattr(verifier, "TOUCHING", (-0.05, -0.05))
    monkeypatch.setattr(verifier, "SLANTS", (0.0, 0.0))
    ink, owner = verifier.compose_number(np.stack([blocky_digit(8), blocky_digit(8)]), np.random.default_rng(0))
    from scipy import ndimage

    assert ndimage.label(ink > 0.5)[1] == 1  # one piece of ink
    assert set(np.unique(owner)) == {-1, 0, 1}


def two_bars():
    """Ink of two strokes 2 px apart, and which stroke owns each pixel."""
    ink = np.zeros((100, 200), np.float32)
    ink[20:80, 40:52] = 1.0
    ink[20:80, 54:66] = 1.0
    owner = np.full(ink.shape, -1, np.int8)
    owner[:, :53][ink[:, :53] > 0] = 0
    owner[:, 53:][ink[:, 53:] > 0] = 1
    return ink, owner


def test_label_candidates_names_whole_digits_and_calls_the_two_together_not_one():
    ink, owner = two_bars()
    box, lattice = segment.lattice_of(ink)
    classes = verifier.label_candidates(lattice, owner[box], np.array([1, 7]))
    assert dict(zip(lattice.runs, classes)) == {(0, 1): 1, (1, 2): 7, (0, 2): verifier.NOT_ONE}


def test_label_candidates_leaves_out_what_is_too_close_to_call():
    ink, owner = two_bars()
    owner[20:26, 40:52] = 1  # a tenth of the left stroke belongs to the right digit: 90 % whole, 90 % pure
    box, lattice = segment.lattice_of(ink)
    classes = verifier.label_candidates(lattice, owner[box], np.array([1, 7]))
    assert dict(zip(lattice.runs, classes)) == {(0, 1): -1, (1, 2): -1, (0, 2): verifier.NOT_ONE}


def test_contexts_show_the_candidate_at_full_strength_and_its_neighbours_fainter():
    ink = np.zeros((100, 200), np.float32)
    ink[20:80, 40:52] = 1.0
    ink[20:80, 70:82] = 1.0  # a second bar beside the first, apart
    _, lattice = segment.lattice_of(ink)
    contexts = lattice.contexts()
    assert contexts.shape == (len(lattice.runs), 28, 28) and contexts.dtype == np.float32
    first = lattice.runs.index((0, 1))
    window = contexts[first]
    # The window is as tall as the ink (60 px), centred on the first stroke (columns 40-52): the second
    # stroke's first 6 columns (70-76) are its last tenth, frame columns 25-28.
    centre, right = window[:, 12:16].max(), window[:, 25:].max()
    assert centre == pytest.approx(1.0, abs=0.05)  # the candidate, centred
    assert right == pytest.approx(segment.CONTEXT_OTHERS, abs=0.05)  # its neighbour, fainter


def test_classifier_doubt_pieces_reads_each_candidate_and_is_zero_without_a_verifier():
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    bare = Classifier(network.build("seed"), "seed")
    np.testing.assert_array_equal(bare.doubt_pieces(images, images), np.zeros(5))
    checked = Classifier(network.build("seed"), "seed", piece_verifier=verifier.build())
    doubt = checked.doubt_pieces(images, images[::-1])
    assert doubt.shape == (5,) and ((0 <= doubt) & (doubt <= 1)).all()
    with pytest.raises(ValueError, match="contexts of shape"):
        checked.doubt_pieces(images, images[:, :20])


def test_a_dry_run_of_number_candidates_gives_inputs_and_classes():
    rng = np.random.default_rng(3)
    digits = np.stack([blocky_digit(6), blocky_digit(12)])
    made = verifier.number_candidates(digits, np.array([1, 0]), rng)
    assert made is not None
    images, contexts, classes = made
    assert images.shape == contexts.shape == (len(classes), 28, 28)
    assert set(classes) <= set(range(verifier.NOT_ONE + 1))


@pytest.mark.skipif(not verifier.VERIFIER_FILE.exists(), reason="the verifier has not been trained")
def test_the_shipped_verifier_is_small_and_lets_the_splitter_cut_a_touching_10_beside_a_1():
    from digits.inference import load_classifier, read_canvas
    from tests.conftest import stroke_canvas, touching_ten

    assert verifier.VERIFIER_FILE.stat().st_size < 2_000_000
    assert verifier.load().output_shape == (None, verifier.NOT_ONE + 1)
    reading = read_canvas(load_classifier(), np.maximum(touching_ten(), stroke_canvas([(80, 280), (240, 280)])))
    assert reading.number == "101" and not any(d.paired for d in reading.digits)  # cut apart, each read alone
