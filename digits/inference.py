"""Fast class probabilities for one drawing at a time."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf
from scipy import ndimage

from digits import config, detector, pairs, sequence, verifier
from digits.artifacts import load_model, model_dir
from digits.preprocess import (
    INK_THRESHOLD,
    Steps,
    bounding_box,
    ink_steps,
    naive_resize,
    preprocess_steps,
)
from digits.segment import read_digits


class Classifier:
    """A trained model behind a traced graph function.

    ``model.predict`` builds a data pipeline on every call (~50 ms here); a
    `tf.function` traced once for any batch size answers in about a millisecond.
    """

    def __init__(self, model, name: str = "", not_a_digit: detector.Detector | None = None,
                 pair_reader=None, piece_verifier=None, line_reader: sequence.SequenceReader | None = None):
        self.model = model
        self.name = name
        self.detector = not_a_digit  # None reads every drawing as a digit
        self.pair_reader = pair_reader  # `digits.pairs`: None reads no two touching digits as a pair
        self.verifier = piece_verifier  # `digits.verifier`: None leaves the splitter to the reader alone
        self.line_reader = line_reader  # `digits.sequence`: None gives no second opinion on a whole line

        def forward(x):  # probabilities, and the detector's "not a digit" logit, in one call
            odd = not_a_digit.model(x, training=False)[:, 0] if not_a_digit else tf.zeros(tf.shape(x)[:1])
            return model(x, training=False), odd

        # The concrete function of the one signature: calling it skips tf.function's argument binding and
        # cache lookup, a third of a one-image call here (1.0 ms against 1.3-1.5 ms).
        self._forward = tf.function(
            forward, input_signature=[tf.TensorSpec([None, config.IMAGE_SIZE, config.IMAGE_SIZE, 1], tf.float32)]
        ).get_concrete_function()
        self.predict_proba(np.zeros((1, config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32))  # warm up now
        if pair_reader is not None:
            self._pairs = tf.function(
                lambda x: tf.nn.softmax(pair_reader(x, training=False)),
                input_signature=[tf.TensorSpec([None, pairs.HEIGHT, pairs.WIDTH, 1], tf.float32)],
            ).get_concrete_function()
            self.read_pairs(np.zeros((1, pairs.HEIGHT, pairs.WIDTH), np.float32))
        if piece_verifier is not None:
            self._verify = tf.function(
                lambda x: tf.nn.softmax(piece_verifier(x, training=False))[:, verifier.NOT_ONE],
                input_signature=[tf.TensorSpec([None, config.IMAGE_SIZE, config.IMAGE_SIZE, 2], tf.float32)],
            ).get_concrete_function()
            blank = np.zeros((1, config.IMAGE_SIZE, config.IMAGE_SIZE), np.float32)
            self.doubt_pieces(blank, blank)

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities, and which images are not digits at all.

        Parameters
        ----------
        images : (N, 28, 28) float32 ndarray in [0, 1]

        Returns
        -------
        probs : (N, 10) float32 ndarray
        not_digit : (N,) bool ndarray
            All False when the classifier has no not-a-digit detector.
        """
        probs, margins = self.read_margins(images)
        return probs, margins > 0

    def read_margins(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities, and how far each image is past the not-a-digit threshold.

        Parameters
        ----------
        images : (N, 28, 28) float32 ndarray in [0, 1]

        Returns
        -------
        probs : (N, 10) float32 ndarray
        margins : (N,) float32 ndarray
            The detector's logit less its threshold (positive: not a digit); -inf
            when the classifier has no detector. A `digits.segment.Read`.
        """
        probs, odd = (out.numpy() for out in self._probs_and_oddness(images))
        if self.detector is None:
            return probs, np.full(len(images), -np.inf, np.float32)
        return probs, odd - np.float32(self.detector.threshold)

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        images : (N, 28, 28) float32 ndarray in [0, 1]

        Returns
        -------
        (N, 10) float32 ndarray
            Each row sums to 1.
        """
        return self._probs_and_oddness(images)[0].numpy()

    def read_pairs(self, frames: np.ndarray) -> np.ndarray:
        """What the pair reader reads in pieces of ink fitted into its frame (`digits.pairs.fit_pair`).

        Parameters
        ----------
        frames : (N, 28, 56) float32 ndarray in [0, 1]

        Returns
        -------
        (N, 101) float32 ndarray
            Probabilities of the pairs "00" to "99", then of no pair (`digits.pairs.NOT_A_PAIR`).
            Without a pair reader: no pair, surely.
        """
        frames = _batch(frames, (pairs.HEIGHT, pairs.WIDTH), "frames")
        if self.pair_reader is None:
            return np.eye(pairs.NOT_A_PAIR + 1, dtype=np.float32)[np.full(len(frames), pairs.NOT_A_PAIR)]
        return self._pairs(frames).numpy()

    def doubt_pieces(self, images: np.ndarray, contexts: np.ndarray) -> np.ndarray:
        """The verifier's chance that each candidate piece of a number is not one whole digit.

        Parameters
        ----------
        images : (N, 28, 28) float32 ndarray in [0, 1]
            The candidates as the reader reads them.
        contexts : (N, 28, 28) float32 ndarray in [0, 1]
            Each among its neighbours (`digits.segment.Lattice.contexts`).

        Returns
        -------
        (N,) float32 ndarray
            Zeros without a verifier. A `digits.segment.Verify`.
        """
        images = _batch(images, (config.IMAGE_SIZE, config.IMAGE_SIZE), "images")
        contexts = _batch(contexts, (config.IMAGE_SIZE, config.IMAGE_SIZE), "contexts")
        if self.verifier is None:
            return np.zeros(len(images), np.float32)
        return self._verify(tf.concat([images, contexts], axis=-1)).numpy()

    def _probs_and_oddness(self, images):
        """The traced forward pass on (N, 28, 28) images: (probabilities, not-a-digit logits) tensors."""
        return self._forward(_batch(images, (config.IMAGE_SIZE, config.IMAGE_SIZE), "images"))


def _batch(images, shape: tuple[int, int], what: str) -> tf.Tensor:
    """(N, H, W) images of ``shape`` (H, W) as the (N, H, W, 1) float32 tensor a traced reader takes.

    Raises ValueError naming ``what`` for any other shape.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1:] != shape:
        raise ValueError(f"expected {what} of shape (N, {shape[0]}, {shape[1]}), got {images.shape}")
    return tf.constant(images[..., None])


def one_thread_per_op() -> bool:
    """Run each TensorFlow op on one thread, as the app's server does; False when it is too late.

    One drawing's forward pass is too small to share out: splitting each op
    over both cores here made a one-image ``predict_proba`` take 2.1-2.8 ms
    instead of 1.0-1.2 ms, and a batch of 64 took the same time either way. A
    server's sessions still run side by side, each op on a thread of its own.
    Training keeps TensorFlow's default. Must be called before TensorFlow runs
    its first op in the process.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow is running already: its thread pools are fixed
        return tf.config.threading.get_intra_op_parallelism_threads() == 1
    return True


def load_classifier(path: str | Path | None = None) -> Classifier:
    """Load a classifier from a ``.keras`` file or a model folder (default: the shipped default)."""
    path = Path(path) if path is not None else model_dir(config.DEFAULT_MODEL)
    if path.is_dir():
        path = path / config.MODEL_FILE
    return Classifier(load_model(path), name=path.parent.name, not_a_digit=_shared_detector(),
                      pair_reader=_shared_pair_reader(), piece_verifier=_shared_verifier(),
                      line_reader=_shared_line_reader())


@functools.cache
def _shared_detector() -> detector.Detector | None:
    """The not-a-digit detector (`python -m digits.detector` writes it), loaded once for every model."""
    return detector.load()


@functools.cache
def _shared_pair_reader():
    """The touching-pair reader (`python -m digits.pairs` writes it), loaded once for every model."""
    return pairs.load()


@functools.cache
def _shared_verifier():
    """The splitter's piece verifier (`python -m digits.verifier` writes it), loaded once for every model."""
    return verifier.load()


@functools.cache
def _shared_line_reader() -> sequence.SequenceReader | None:
    """The line reader (`python -m digits.sequence` writes it), loaded once for every model."""
    return sequence.load()


# The network is "unsure" below this top probability, or when the runner-up
# is within this margin of the top class.
UNSURE_BELOW = 0.6
CLOSE_MARGIN = 0.3
# A digit among several is "not a digit" only this far past the detector's threshold (a lone drawing: at
# it). With the detector before round zeros, bench.numbers (seed 0) read 82.0 % exactly with 2, 80.3 %
# with 0, as the flags on well-read numbers (a narrow 0 in "7041") went; bench.not_a_digit flagged
# 95.4 % against 95.9 %.
IN_A_ROW = 2.0
# A piece of ink at least this many times wider than tall, and two neighbouring pieces whose ink touches, are
# also shown to the pair reader (`digits.pairs`), which reads them as two touching digits when it gives a pair
# at least this probability. 0.95 rather than 0.9: bench.not_a_digit flagged 95.1 % against 94.9 % (two
# zigzags more read as "14"), while bench.numbers read 89.0 / 87.0 % against 89.3 / 87.3 % (seeds 0 / 1).
PAIR_WIDE = 0.8
PAIR_SURE = 0.95
# A drawing the reader reads whole at least this surely, and the detector calls a digit at least this far
# below its threshold, is one digit: it is not split. Each of the 12 single digits bench.numbers split
# (seed 0, both pens) was read whole right, 5 so surely (two flat 0s cut through their loop; a 2, a 5 and
# a 7 each with a blot of ink apart); of its 600 numbers (seeds 0, 1) one was read so whole ("24").
# Singles split 0.70 / 0.50 -> 0.30 / 0.40 %, 0.00 / 0.30 -> 0.00 / 0.10 %, 0.50 / 0.50 -> 0.20 / 0.40 %
# (seeds 0-2); numbers and non-digits unchanged. At 2 below, two more singles stayed whole, and 3 numbers.
WHOLE_SURE = 0.99
WHOLE_DIGIT = 4.0
# Among several pieces, one at least this many times wider than tall: a touching pair slanted or squeezed
# is often narrower than PAIR_WIDE ("71" at 0.67), and its neighbours say how wide one digit is. Every
# piece (0) measured the same as 0.5 and 0.6 (bench.numbers seed 1: 87.7 -> 88.3 %; seed 0, the
# non-digits and single digits unchanged); a piece narrower than half its height is rarely two digits.
PAIR_WIDE_AMONG = 0.5
# One piece at least this many times wider than tall is taken as the pair reader's pair from PAIR_SURE_WIDE
# rather than PAIR_SURE: one digit is rarely so wide, and two touching digits read as one are often flagged,
# or read as an 8 or a 0, with the pair reader sure of the pair only at 0.7-0.95 ("98" at 0.77, "22" at
# 0.94). bench.numbers seeds 0 / 1 / 2: 90.7 / 88.3 / 85.3 -> 91.0 / 90.0 / 85.7 % (seed 2 run once, at
# the end); single digits split and bench.not_a_digit unchanged. 1.1 and 0.6 read the same; 1.0 lost one
# number on seed 0 (a piece 1.0-1.1 wide read as a wrong pair).
PAIR_VERY_WIDE = 1.1
PAIR_SURE_WIDE = 0.7
# The line reader's number replaces the pieces' when it is at least LINE_SURE sure of it (the product of
# its columns' top probabilities).
LINE_SURE = 0.95


def read_answer(probs: np.ndarray) -> tuple[int, float, int | None]:
    """The predicted digit, its probability, and a close runner-up when the call is unsure.

    Parameters
    ----------
    probs : (10,) float ndarray

    Returns
    -------
    (digit, confidence, runner_up)
        ``runner_up`` is None when the network is sure of ``digit``.
    """
    order = np.argsort(probs)[::-1]
    top, second = int(order[0]), int(order[1])
    unsure = probs[top] < UNSURE_BELOW or probs[top] - probs[second] < CLOSE_MARGIN
    return top, float(probs[top]), second if unsure else None


@dataclass(frozen=True)
class DigitReading:
    """One digit of a drawing, read on its own."""

    steps: Steps  # its preprocessing; steps.centred is the model's input
    probs: np.ndarray  # (10,) float32, sums to 1
    digit: int
    confidence: float
    runner_up: int | None  # a close second when the network is unsure
    not_a_digit: bool  # the detector says it is no digit at all
    paired: bool = False  # read together with its neighbour, the two touching (`digits.pairs`)
    lined: bool = False  # its digit and probabilities are the line reader's (`digits.sequence`)


@dataclass(frozen=True)
class Reading:
    """What the draw page shows for one drawing.

    ``steps``, ``probs``, ``digit``, ``confidence`` and ``runner_up`` read the
    whole drawing as one digit (for a single digit, that digit's reading).
    ``digits`` reads each digit written side by side, left to right; for a
    single digit it holds that one reading.
    """

    steps: Steps  # the preprocessing, step by step; steps.centred is the model's input
    probs: np.ndarray  # (10,) float32, sums to 1
    digit: int
    confidence: float
    runner_up: int | None  # a close second when the network is unsure
    not_a_digit: bool  # some part of the drawing is not a digit: then there is no number
    number: str  # the digits read left to right ("7", "2026"); "" when not a digit
    digits: tuple[DigitReading, ...]  # each digit's own reading, left to right


def read_canvas(classifier: Classifier, rgba: np.ndarray) -> Reading | None:
    """The draw page's whole path: canvas -> digits -> 28x28 inputs -> probabilities -> answer.

    The whole drawing is read first. Read at least ``WHOLE_SURE`` and called a digit
    ``WHOLE_DIGIT`` below the detector's threshold, it is one digit; otherwise the
    splitter (`digits.segment.read_digits`) weighs its split against that reading, and
    when the drawing holds several digits side by side, they are read in one batch.
    A drawing is not a digit when any part of it
    is not a digit (`digits.detector`), unless the whole drawing is one digit:
    then the split was wrong, and the whole is read instead. When every part and
    the whole are doubted, the drawing is shown whole too: one drawing that is no
    digit (an arrow), not a row of parts that are none. A part among
    several is doubted only ``IN_A_ROW`` past the detector's threshold: beside
    other digits, it is likelier a digit than a drawing alone is. Unless the whole
    is surely one digit, the line reader (`digits.sequence`) reads the ink whole
    too, and its number is taken where it reads another one surely (`_as_a_line`).

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
        The canvas; ink is the alpha channel. Not modified.

    Returns
    -------
    Reading, or None when there is nothing to read (a blank canvas or a speck).
    """
    steps = preprocess_steps(rgba)
    if steps is None:
        return None
    probs, margins = classifier.read_margins(steps.centred[None])  # the whole, read once: the splitter uses it too
    surely_one = bool(probs[0].max() >= WHOLE_SURE and margins[0] < -WHOLE_DIGIT)
    if surely_one:
        pieces = [steps.ink]  # surely one digit, to both networks: not split
    else:
        pieces = read_digits(steps.ink, classifier.read_margins, whole=(probs[0], float(margins[0])),
                             verify=classifier.doubt_pieces if classifier.verifier is not None else None)
    parts = [s for s in map(ink_steps, pieces) if s is not None] if len(pieces) > 1 else []
    parts = parts if len(parts) > 1 else []  # one digit: it is the whole drawing, prepared and read once
    if parts:
        more, odd = classifier.read_margins(np.stack([p.centred for p in parts]))
        probs, margins = np.concatenate([probs, more]), np.concatenate([margins, odd])
    if parts and (margins[1:] > 0).any() and not margins[0] > 0:
        parts = []  # a piece is doubted while the whole drawing is a digit: the split cut a digit apart
    if parts and (margins[1:] > IN_A_ROW).all() and margins[0] > 0:
        parts = []  # every piece and the whole are doubted: one drawing that is no digit, not a row of them
    if not parts:
        each = [DigitReading(steps, probs[0], *read_answer(probs[0]), bool(margins[0] > 0))]
    else:
        each = [DigitReading(p, pr, *read_answer(pr), bool(m > IN_A_ROW))
                for p, pr, m in zip(parts, probs[1:], margins[1:])]
    each = _touching_pairs(classifier, each)
    if not (surely_one and len(each) == 1):  # surely one digit, still one after the pair reader: no line to read
        each = _as_a_line(classifier, steps.ink, each)
    not_digit = any(d.not_a_digit for d in each)
    number = "" if not_digit else "".join(str(d.digit) for d in each)
    whole = each[0].probs if len(each) == 1 and each[0].lined else probs[0]  # one digit, read by the line reader
    return Reading(steps, whole, *read_answer(whole), not_a_digit=not_digit, number=number, digits=tuple(each))


# A doubted piece at least this many times wider than tall may be digits written touching: the draw page
# says to leave room between them. Of the 12 numbers with a touching pair that bench.numbers (seeds 0, 1)
# flags, 9 have a doubted piece wider than tall (1.05-1.33), 3 not (0.68-0.96). Half of 44 benchmark shapes
# are wider than tall too (0.38-3.1 in all): to them the line reads "Wrote a number?", an aside.
MAYBE_TOUCHING = 1.0


def maybe_touching(digit: DigitReading) -> bool:
    """Whether a piece flagged as no digit is wide enough to be two or more digits that touch."""
    height, width = digit.steps.crop.shape
    return digit.not_a_digit and width >= MAYBE_TOUCHING * height


def pair_groups(digits: Sequence[DigitReading]) -> list[tuple[DigitReading, ...]]:
    """The digits left to right, grouped as the draw page shows them: a touching pair (one frame) together,
    and a line read whole (`digits.sequence`) all together."""
    if digits and all(d.lined for d in digits):
        return [tuple(digits)]
    groups, k = [], 0
    while k < len(digits):
        two = tuple(digits[k : k + 2])
        together = len(two) == 2 and all(d.paired for d in two) and two[0].steps.fitted is two[1].steps.fitted
        groups.append(two if together else two[:1])
        k += len(groups[-1])
    return groups


def _touching_pairs(classifier: Classifier, each: list[DigitReading]) -> list[DigitReading]:
    """``each``, with touching digits the pair reader reads surely read as that pair (`digits.pairs`).

    Two kinds of span are shown to the pair reader: one piece at least ``PAIR_WIDE``
    times wider than tall (two digits the splitter left whole, or one wide digit; among
    several pieces, ``PAIR_WIDE_AMONG``; its pair is taken from ``PAIR_SURE_WIDE`` rather
    than ``PAIR_SURE`` when it is ``PAIR_VERY_WIDE``),
    and two neighbouring pieces whose ink touches (one piece the splitter cut). The
    second is read anew only when the pair differs from the two digits read and is
    surer than they are together, or one of them is doubted.
    The pair's frame (`digits.pairs.fit_pair`) is what the pair reader sees: both
    digits keep it as ``steps.fitted`` (the draw page shows it whole, `pair_groups`),
    its left and right halves as ``steps.centred``, each with its own probabilities
    (`digits.pairs.halves`).
    """
    if classifier.pair_reader is None:
        return each
    wide = PAIR_WIDE if len(each) == 1 else PAIR_WIDE_AMONG
    spans = [(k, k + 1, d.steps.ink, d.steps.crop) for k, d in enumerate(each)
             if d.steps.crop.shape[1] >= wide * d.steps.crop.shape[0]]
    for k, (a, b) in enumerate(itertools.pairwise(each)):
        if _touch(a.steps.ink, b.steps.ink):
            ink = np.maximum(a.steps.ink, b.steps.ink)
            spans.append((k, k + 2, ink, ink[bounding_box(ink)]))
    if not spans:
        return each
    frames = np.stack([pairs.fit_pair(crop) for *_, crop in spans])
    chosen = []
    for (start, stop, ink, crop), frame, probs in zip(spans, frames, classifier.read_pairs(frames)):
        top = int(probs.argmax())
        very_wide = stop - start == 1 and crop.shape[1] >= PAIR_VERY_WIDE * crop.shape[0]
        if top == pairs.NOT_A_PAIR or probs[top] < (PAIR_SURE_WIDE if very_wide else PAIR_SURE):
            continue
        if stop - start == 2:
            a, b = each[start], each[start + 1]
            if (a.digit, b.digit) == divmod(top, 10) or not (a.not_a_digit or b.not_a_digit
                                                            or probs[top] > a.confidence * b.confidence):
                continue
        halves = (frame[:, : config.IMAGE_SIZE], frame[:, config.IMAGE_SIZE :])
        two = [DigitReading(Steps(ink=ink, crop=crop, fitted=frame, centred=half), p, *read_answer(p),
                            not_a_digit=False, paired=True) for half, p in zip(halves, pairs.halves(probs))]
        chosen.append((float(probs[top]), start, stop, two))
    replaced, taken = {}, set()
    for _, start, stop, two in sorted(chosen, key=lambda c: -c[0]):  # the surest first, never overlapping
        if not taken & set(range(start, stop)):
            taken |= set(range(start, stop))
            replaced[start] = stop, two
    out, k = [], 0
    while k < len(each):
        stop, two = replaced.get(k, (k + 1, [each[k]]))
        out += two
        k = stop
    return out


def _as_a_line(classifier: Classifier, ink: np.ndarray, each: list[DigitReading]) -> list[DigitReading]:
    """``each``, or the line reader's digits (`digits.sequence`) where it reads the whole ink otherwise.

    The line reader's number is taken when it has as many digits as ``each`` (the reader names digits,
    not where they are: its columns need not lie over their ink), differs from it, and the reader is at
    least ``LINE_SURE`` sure of it. A drawing with a part flagged as no digit is left as it is. Each digit
    keeps its piece of ink, the line's frame as ``steps.fitted`` (the draw page shows it once) and the
    probabilities of the reader's column surest of it.
    """
    if classifier.line_reader is None or any(d.not_a_digit for d in each):
        return each
    frame = sequence.fit_line(ink)
    line = classifier.line_reader.read(frame)
    if len(line.number) != len(each) or line.number == "".join(str(d.digit) for d in each) or line.sure < LINE_SURE:
        return each
    return [DigitReading(dataclasses.replace(d.steps, fitted=frame), p, *read_answer(p), not_a_digit=False,
                         paired=d.paired, lined=True) for d, p in zip(each, line.probs)]


def _touch(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether the ink of ``a`` and of ``b`` (H, W float) meets, pixels side by side or corner to corner.

    Only the box of ``a``'s ink, a pixel wider on each side, is looked at: not the whole canvas.
    """
    box = bounding_box(a)
    if box is None:
        return False
    near = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in box)
    return bool((ndimage.binary_dilation(a[near] > INK_THRESHOLD, np.ones((3, 3), bool))
                 & (b[near] > INK_THRESHOLD)).any())


def read_naively(classifier: Classifier, rgba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The baseline the draw page teaches with: the whole canvas squeezed to 28x28, and its reading.

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
        The canvas; ink is the alpha channel. Not modified.

    Returns
    -------
    image : (28, 28) float32 ndarray in [0, 1]
    probs : (10,) float32 ndarray
    """
    image = naive_resize(rgba)
    return image, classifier.predict_proba(image[None])[0]
