"""A line of ink read whole: a second opinion on numbers, trained with CTC.

The number reader of `digits.segment` splits the ink into pieces and reads
each one. Where it cannot split (two digits crossing deeply) or its detector
doubts a piece, it flags the drawing. This small convolutional-recurrent
network reads the whole line at once instead, as handwriting recognisers do:
the ink is fitted 28 px tall into a 32 x 160 frame, six convolution blocks
turn it into 40 columns of features, a bidirectional GRU reads them left to
right and back, and each column names a digit or "blank". Connectionist
temporal classification (CTC) trains it on the string alone, with no
segmentation; a drawing of no digits at all is the empty string.

It learns from 1 to 4 MNIST *training* digits written side by side by the
canvas pen (`digits.verifier.compose_number`: uneven heights and baselines,
gaps down to touching strokes); with ``--non-digits``, also from non-digits drawn
at canvas size from `digits.doodles`' makers and glyphs, alone and side by side,
read as the empty string (tried, not shipped: docs/accuracy.md). `bench.numbers`
writes its numbers with MNIST *test* digits and the independent pen of
`support.pens`; `bench.not_a_digit` draws its non-digits with `support.nondigits`.

    python -m digits.sequence            # make the data, train, write model/sequence_reader.keras (~50 min, 2 cores)
    python -m digits.sequence --dry-run  # seconds: a tiny run that writes nothing
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops
from skimage.transform import resize

from digits import artifacts, config
from digits.atomic import write_bytes_atomic
from digits.training import in_parallel
from digits.verifier import compose_number

SEQUENCE_READER_FILE = config.MODEL_DIR / "sequence_reader.keras"
FACTS_FILE = config.MODEL_DIR / "sequence_reader.json"
# The frame a line is read in; its ink is fitted INK_HEIGHT tall (or narrower when very wide), MARGIN from the left.
HEIGHT, WIDTH = 32, 160
INK_HEIGHT, MARGIN = 28, 2
STEPS = WIDTH // 4  # the columns the network names, one per 4 px of the frame
MAX_DIGITS = 4
# How often a training line holds 1, 2, 3 or 4 digits.
COUNTS = (0.1, 0.3, 0.3, 0.3)
BLANK = 0  # CTC's blank; digit d is class d + 1
# Pixels fainter than this (out of 1) are not ink when the line is cropped.
INK = 0.05


def fit_line(ink: np.ndarray) -> np.ndarray:
    """A line of ink in the reader's frame.

    Parameters
    ----------
    ink : (h, w) float ndarray
        Ink in [0, 1] (a canvas's alpha / 255), any size.

    Returns
    -------
    (HEIGHT, WIDTH) float32 ndarray in [0, 1]
        The ink cropped, scaled to `INK_HEIGHT` px tall (less when it would not fit the width), centred
        vertically, `MARGIN` px from the left, brightest pixel 1. All zeros when there is no ink.
    """
    out = np.zeros((HEIGHT, WIDTH), np.float32)
    rows, cols = np.flatnonzero(ink.max(1) > INK), np.flatnonzero(ink.max(0) > INK)
    if len(rows) == 0:
        return out
    ink = np.asarray(ink, np.float32)[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(INK_HEIGHT / ink.shape[0], (WIDTH - 2 * MARGIN) / ink.shape[1])
    h, w = max(1, round(ink.shape[0] * scale)), max(1, round(ink.shape[1] * scale))
    small = resize(ink, (h, w), anti_aliasing=True, preserve_range=True)
    top = (HEIGHT - h) // 2
    out[top : top + h, MARGIN : MARGIN + w] = small
    return np.clip(out / max(float(small.max()), 1e-6), 0, 1)


def build(name: str = "sequence_reader") -> keras.Model:
    """The reader: (N, 32, 160, 1) lines in [0, 1] -> (N, 40, 11) logits per column (blank, then 0-9)."""

    def block(x, filters: int, pool):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        return layers.MaxPooling2D(pool)(x) if pool else x

    line = keras.Input((HEIGHT, WIDTH, 1))
    x = block(line, 32, (2, 2))
    x = block(x, 64, (2, 2))
    x = block(x, 96, None)
    x = block(x, 96, (2, 1))
    x = block(x, 128, None)
    x = block(x, 128, (4, 1))  # (1, 40, 128)
    x = layers.Dropout(0.25)(layers.Reshape((STEPS, 128))(x))
    x = layers.Bidirectional(layers.GRU(96, return_sequences=True))(x)
    return keras.Model(line, layers.Dense(11)(x), name=name)


def ctc_loss(y_true, y_pred):
    """CTC loss of (N, MAX_DIGITS) labels (digit + 1, padded with `BLANK`) against (N, STEPS, 11) logits."""
    y_true = ops.cast(y_true, "int32")
    label_length = ops.sum(ops.cast(y_true > BLANK, "int32"), axis=1)
    logit_length = ops.full((ops.shape(y_pred)[0],), STEPS, dtype="int32")
    return ops.ctc_loss(y_true, y_pred, label_length, logit_length, mask_index=BLANK)


def _softmax(logits: np.ndarray) -> np.ndarray:
    p = np.exp(logits - logits.max(-1, keepdims=True))
    return p / p.sum(-1, keepdims=True)


def decode(logits: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Greedy CTC decoding: each line's string and the probability of its best path.

    Parameters
    ----------
    logits : (N, STEPS, 11) float ndarray

    Returns
    -------
    strings : list of N str
        The digits read left to right; "" for no digit.
    sure : (N,) float ndarray
        The product over the columns of each column's top probability.
    """
    lines = [read_logits(one) for one in logits]
    return [line.number for line in lines], np.array([line.sure for line in lines])


@dataclass(frozen=True)
class Line:
    """One line read whole: its digits, how sure the reader is, and how surely it read each digit.

    Where each digit lies is not kept: trained on strings alone, the reader may name a digit in any
    column (often all of them at the right end of the ink).
    """

    number: str  # the digits left to right; "" for no digit
    sure: float  # the probability of the best path through the columns
    probs: np.ndarray  # (len(number), 10) float32: each digit's probabilities at the column surest of it


def read_logits(logits: np.ndarray) -> Line:
    """The `Line` of one line's (STEPS, 11) logits, greedy CTC decoding."""
    p = _softmax(np.asarray(logits, np.float64))
    best = p.argmax(-1)
    runs = []  # (class, first column, last column) of each run of one class, blanks left out
    for t, c in enumerate(best):
        if c != BLANK and runs and runs[-1][0] == c and runs[-1][2] == t - 1:
            runs[-1][2] = t
        elif c != BLANK:
            runs.append([c, t, t])
    probs = np.array([p[a + np.argmax(p[a : b + 1, c]), 1:] for c, a, b in runs], np.float32).reshape(-1, 10)
    probs /= np.maximum(probs.sum(1, keepdims=True), 1e-12)
    return Line("".join(str(c - 1) for c, _, _ in runs), float(p.max(-1).prod()), probs)


def _numbers_chunk(digits: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines of 1 to `MAX_DIGITS` of the uint8 ``digits`` by the canvas pen, and their padded labels."""
    rng = np.random.default_rng(seed)
    count = len(digits) // MAX_DIGITS
    images, targets = np.empty((count, HEIGHT, WIDTH), np.float32), np.zeros((count, MAX_DIGITS), np.int32)
    for k in range(count):
        n = int(rng.choice(MAX_DIGITS, p=COUNTS)) + 1
        picked = slice(k * MAX_DIGITS, k * MAX_DIGITS + n)
        images[k] = fit_line(compose_number(digits[picked], rng)[0])
        targets[k, :n] = labels[picked] + 1
    return images, targets


def number_lines(digits: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` lines of 1 to 4 random ``digits`` (uint8, (N, 28, 28)) with ``labels``, on every CPU core.

    Returns
    -------
    images : (count, HEIGHT, WIDTH) float32 ndarray
    targets : (count, MAX_DIGITS) int32 ndarray
        Each digit + 1, left to right, padded with `BLANK`.
    """
    picks = np.random.default_rng(seed).integers(len(digits), size=(count, MAX_DIGITS))
    size = 500
    return in_parallel(_numbers_chunk, [(digits[picks[i : i + size]].reshape(-1, 28, 28),
                                         labels[picks[i : i + size]].ravel(), seed * 1_000_003 + i)
                                        for i in range(0, count, size)])


def _doodle_ink(rng: np.random.Generator, glyphs: list[np.ndarray]) -> np.ndarray:
    """One non-digit drawn at canvas size (a glyph a third of the time): (h, w) ink cropped, in [0, 1]."""
    from digits import doodles
    from digits.redraw import stroke_rgba

    while True:
        if glyphs and rng.random() < 1 / 3:
            alpha = doodles.glyph_drawing(glyphs[rng.integers(len(glyphs))], rng)[..., 3]
        else:
            strokes = list(doodles.MAKERS.values())[rng.integers(len(doodles.MAKERS))](rng)
            if doodles.is_oval(strokes):  # a 0
                continue
            alpha = stroke_rgba(*doodles._pen_lines(strokes, rng, doodles.CANVAS))[..., 3]
        ink = alpha.astype(np.float32) / 255
        rows, cols = np.flatnonzero(ink.max(1) > INK), np.flatnonzero(ink.max(0) > INK)
        if len(rows) and doodles._elongation(ink) <= doodles.MAX_ASPECT:  # not a bar, which reads as a 1
            return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _doodle_chunk(first: int, count: int) -> np.ndarray:
    """`non_digit_lines` ``first`` to ``first + count``: one doodle, or two or three side by side a third of the time."""
    from digits import doodles

    out = np.empty((count, HEIGHT, WIDTH), np.float32)
    for k in range(count):
        rng = np.random.default_rng(first + k)
        if rng.random() < 1 / 3:
            parts = [_doodle_ink(rng, doodles._GLYPHS) for _ in range(int(rng.integers(2, 4)))]
            height, gap = max(p.shape[0] for p in parts), int(rng.integers(0, 30))
            row = np.zeros((height, sum(p.shape[1] for p in parts) + gap * (len(parts) - 1)), np.float32)
            left = 0
            for p in parts:
                top = int(rng.integers(0, height - p.shape[0] + 1))
                row[top : top + p.shape[0], left : left + p.shape[1]] = p
                left += p.shape[1] + gap
            out[k] = fit_line(row)
        else:
            out[k] = fit_line(_doodle_ink(rng, doodles._GLYPHS))
    return out


def non_digit_lines(count: int, seed: int = 0, workers: int | None = None) -> np.ndarray:
    """``count`` non-digits in the reader's frame, on every CPU core: (count, HEIGHT, WIDTH) float32 ndarray."""
    from digits import doodles

    return doodles.in_pool(_doodle_chunk, count, seed, (HEIGHT, WIDTH), workers)


class SequenceReader:
    """The trained reader behind a traced graph function: `read` a canvas's ink in a few milliseconds."""

    def __init__(self, model: keras.Model):
        import tensorflow as tf

        self.model = model
        self._logits = tf.function(
            lambda x: model(x, training=False), input_signature=[tf.TensorSpec([None, HEIGHT, WIDTH, 1], tf.float32)]
        ).get_concrete_function()
        self.read_lines(np.zeros((1, HEIGHT, WIDTH), np.float32))  # warm up now

    def logits(self, lines: np.ndarray) -> np.ndarray:
        """(N, STEPS, 11) logits of (N, HEIGHT, WIDTH) lines from `fit_line`."""
        return self._logits(np.asarray(lines, np.float32)[..., None]).numpy()

    def read_lines(self, lines: np.ndarray) -> tuple[list[str], np.ndarray]:
        """`decode` of (N, HEIGHT, WIDTH) lines from `fit_line`."""
        return decode(self.logits(lines))

    def read(self, frame: np.ndarray) -> Line:
        """One line, (HEIGHT, WIDTH) from `fit_line`, read whole."""
        return read_logits(self.logits(frame[None])[0])


def load(path: Path = SEQUENCE_READER_FILE) -> SequenceReader | None:
    """The shipped sequence reader, or None when it has not been trained."""
    model = artifacts.load_if_trained(path)
    return None if model is None else SequenceReader(model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=40_000, help="lines of digits to train on (default: 40000)")
    parser.add_argument("--non-digits", type=int, default=0, help="non-digits to train on, read as no digit "
                        "(default: 0; see docs/accuracy.md)")
    parser.add_argument("--epochs", type=int, default=12, help="epochs (default: 12)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--dry-run", action="store_true", help="a seconds-long run on a few hundred lines; "
                        "writes nothing")
    args = parser.parse_args()
    if args.dry_run:
        args.lines, args.non_digits, args.epochs = 500, 200, 1

    from digits import data

    start = time.perf_counter()
    (x_train, y_train), _ = data.load_mnist()
    x_lines, y_lines = number_lines(x_train, y_train, args.lines, args.seed)
    print(f"{len(x_lines):,} lines of digits made in {time.perf_counter() - start:.0f} s", flush=True)
    others = non_digit_lines(args.non_digits, args.seed + 1) if args.non_digits else np.zeros((0, HEIGHT, WIDTH))
    print(f"{len(others):,} non-digits made; {time.perf_counter() - start:.0f} s", flush=True)
    order = np.random.default_rng(args.seed).permutation(len(x_lines) + len(others))
    x = np.concatenate([x_lines, others])[order][..., None]  # shuffled: the validation split is the last 3 %
    y = np.concatenate([y_lines, np.zeros((len(others), MAX_DIGITS), np.int32)])[order]
    keras.utils.set_random_seed(args.seed)
    model = build()
    steps = args.epochs * -(-int(len(x) * 0.97) // 128)
    model.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)), loss=ctc_loss)
    history = model.fit(x, y, batch_size=128, epochs=args.epochs, validation_split=0.03, verbose=2)
    held = slice(int(len(x) * 0.97), None)
    strings, _ = SequenceReader(model).read_lines(x[held, ..., 0])
    truth = ["".join(str(c - 1) for c in row if c) for row in y[held]]
    exact = float(np.mean([s == t for s, t in zip(strings, truth)]))
    print(f"trained in {time.perf_counter() - start:.0f} s in all; held-out lines read exactly: {exact:.1%}", flush=True)
    if args.dry_run:
        return
    artifacts.save_weights_into(build(), model, SEQUENCE_READER_FILE)
    facts = {"lines": args.lines, "non_digits": args.non_digits, "epochs": args.epochs, "seed": args.seed,
             "validation_loss": round(float(history.history["val_loss"][-1]), 4), "validation_exact": round(exact, 4)}
    write_bytes_atomic(FACTS_FILE, (json.dumps(facts, indent=2) + "\n").encode())
    print(f"wrote {SEQUENCE_READER_FILE} ({SEQUENCE_READER_FILE.stat().st_size / 1024:.0f} kB) and {FACTS_FILE}")


if __name__ == "__main__":
    main()
