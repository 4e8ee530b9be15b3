"""Two digits that touch, read together: a second reader for ink the splitter cannot cut.

Where two digits touch or cross ("10" in one stroke, a 4's bar running into
the 8 beside it), every cut `digits.segment` can make leaves a piece of one
digit on the other's side, and the reader names neither half. This small CNN
reads a wide piece of ink whole, fitted into 28 x 56 as MNIST fitted digits
into 28 x 28, as one of the 100 pairs "00" to "99" or as no pair at all
(class `NOT_A_PAIR`: a wide single digit, a zigzag, a letter).

It learns from pairs of MNIST *training* digits, as scanned and redrawn by the
canvas pen of `digits.redraw`, whose boxes `compose` overlaps by a random
share of the narrower one, and pairs stroked anew whose strokes touch
(`touching_pairs`), against single digits stretched wide, rows of three
or four digits composed alike, and wide doodles (`digits.doodles`' makers and
glyphs). `bench.numbers` writes its
numbers another way: MNIST *test* digits by the independent pen of
`support.pens` (its code shares nothing with these), placed, as `touching_pairs`
places its pairs, by the gap between their strokes.

    python -m digits.pairs            # make the data, train, write model/pair_reader.keras (~40 min, 2 cores)
    python -m digits.pairs --dry-run  # seconds: a tiny run that writes nothing
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
from scipy import ndimage
from skimage.transform import AffineTransform, resize, warp

from digits import artifacts, config, network
from digits.atomic import write_bytes_atomic
from digits.preprocess import INK_THRESHOLD, bounding_box
from digits.training import fit_decaying, in_parallel
from digits.verifier import compose_number

PAIR_READER_FILE = config.MODEL_DIR / "pair_reader.keras"
FACTS_FILE = config.MODEL_DIR / "pair_reader.json"
# The frame a pair is read in, and the box its ink is fitted into (MNIST's 20 px digit height).
HEIGHT, WIDTH = config.IMAGE_SIZE, 2 * config.IMAGE_SIZE
BOX_HEIGHT, BOX_WIDTH = config.DIGIT_BOX, 2 * config.IMAGE_SIZE - 4
NOT_A_PAIR = 100
# compose: each digit scaled by a factor in SCALES; the second digit's box overlaps the first's by a share of
# the narrower box in OVERLAPS (negative: a gap); rows apart by up to DROP of the box; the pair sheared by SHEARS.
SCALES = (0.85, 1.15)
OVERLAPS = (-0.15, 0.4)
DROP = 0.15
SHEARS = (-0.3, 0.3)


def crop(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> np.ndarray | None:
    """``ink`` (H, W float) cut to the box of its pixels above ``threshold``; None when there are none."""
    box = bounding_box(ink, threshold)
    return None if box is None else ink[box]


def fit_pair(ink: np.ndarray) -> np.ndarray:
    """A crop of ink fitted into the pair's frame, as MNIST fitted digits into theirs.

    Parameters
    ----------
    ink : (h, w) float ndarray in [0, 1]
        Cropped to the ink.

    Returns
    -------
    (28, 56) float32 ndarray in [0, 1]
        Scaled to 20 px high (or 52 px wide, when wider than that would allow),
        its centre of mass moved towards the frame's centre.
    """
    h, w = ink.shape
    scale = min(BOX_HEIGHT / h, BOX_WIDTH / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = resize(ink.astype(np.float32), (nh, nw), order=1, anti_aliasing=scale < 1, preserve_range=True)
    out = np.zeros((HEIGHT, WIDTH), np.float32)
    top, left = (HEIGHT - nh) // 2, (WIDTH - nw) // 2
    out[top : top + nh, left : left + nw] = small
    if out.sum() > 0:
        row, col = ndimage.center_of_mass(out)
        room_r, room_c = (HEIGHT - nh) // 2, (WIDTH - nw) // 2  # never off the frame
        out = ndimage.shift(out, (np.clip(HEIGHT / 2 - row, -room_r, room_r), np.clip(WIDTH / 2 - col, -room_c, room_c)),
                            order=1)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def halves(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each digit's own probabilities from a pair's: the left's and the right's, over the 100 pairs.

    Parameters
    ----------
    probs : (101,) float ndarray
        The pair reader's output.

    Returns
    -------
    left, right : (10,) float32 ndarray
        Each sums to 1.
    """
    pairs = np.asarray(probs[:NOT_A_PAIR], np.float64).reshape(10, 10) / max(probs[:NOT_A_PAIR].sum(), 1e-12)
    return pairs.sum(1).astype(np.float32), pairs.sum(0).astype(np.float32)


def compose(first: np.ndarray, second: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two prepared digits written as one touching pair: the crop of their ink.

    Parameters
    ----------
    first, second : (28, 28) float ndarray in [0, 1]

    Returns
    -------
    (h, w) float32 ndarray in [0, 1]
    """
    a, b = (resize(c, (max(2, round(c.shape[0] * s)), max(1, round(c.shape[1] * s))), order=1)
            for c, s in zip((crop(first), crop(second)), rng.uniform(*SCALES, 2)))
    overlap = round(rng.uniform(*OVERLAPS) * min(a.shape[1], b.shape[1]))
    drop = round(rng.uniform(-DROP, DROP) * config.DIGIT_BOX)
    top_a, top_b, left_b = max(0, -drop), max(0, drop), max(0, a.shape[1] - overlap)
    out = np.zeros((max(top_a + a.shape[0], top_b + b.shape[0]), max(a.shape[1], left_b + b.shape[1])), np.float32)
    out[top_a : top_a + a.shape[0], : a.shape[1]] = a
    window = out[top_b : top_b + b.shape[0], left_b : left_b + b.shape[1]]
    np.maximum(window, b, out=window)
    shear = rng.uniform(*SHEARS)
    pad = int(abs(shear) * len(out)) + 2
    out = np.pad(out, ((2, 2), (pad, pad)))
    slanted = warp(out, AffineTransform(matrix=np.array([[1, shear, -shear * len(out) / 2], [0, 1, 0], [0, 0, 1]])),
                   order=1, preserve_range=True)
    return crop(slanted.astype(np.float32), 0.1)


def pair_images(digits: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random pairs of ``digits`` (N, 28, 28 float in [0, 1]): (count, 28, 56) images, labels 10a + b."""
    rng = np.random.default_rng(seed)
    images, pair_labels = np.empty((count, HEIGHT, WIDTH), np.float32), np.empty(count, np.int64)
    for k in range(count):
        i, j = rng.integers(len(digits), size=2)
        images[k], pair_labels[k] = fit_pair(compose(digits[i], digits[j], rng)), 10 * labels[i] + labels[j]
    return images, pair_labels


def _touching_chunk(digits: np.ndarray, labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`touching_pairs` of the (n, 2, 28, 28) ``digits`` and their (n, 2) ``labels``."""
    rng = np.random.default_rng(seed)
    images = np.stack([fit_pair(crop(compose_number(two, rng, touching=True)[0], 0.1)) for two in digits])
    return images, labels[:, 0] * 10 + labels[:, 1]


def touching_pairs(digits: np.ndarray, labels: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` pairs whose strokes touch, as people write them: (count, 28, 56) images, labels 10a + b.

    Where `compose` overlaps two prepared digits' boxes, these are two MNIST digits (uint8 ``digits``,
    (N, 28, 28)) stroked anew by the canvas pen at uneven heights and baselines, slanted, the second moved
    up to its neighbour until their strokes meet or overlap a little (`digits.verifier.compose_number`):
    a 1 tucked against a 7, a 0 under a 9's tail. On every CPU core.
    """
    picks = np.random.default_rng(seed).integers(len(digits), size=(count, 2))
    size = 500
    return in_parallel(_touching_chunk, [(digits[picks[i : i + size]], labels[picks[i : i + size]], seed * 1_000_003 + i)
                                         for i in range(0, count, size)])


def wide_singles(digits: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` single digits, half of them stretched up to twice as wide, in the pair's frame: not pairs."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, HEIGHT, WIDTH), np.float32)
    for k in range(count):
        ink = crop(digits[rng.integers(len(digits))])
        if rng.random() < 0.5:
            ink = resize(ink, (ink.shape[0], max(1, round(ink.shape[1] * rng.uniform(1.0, 2.0)))), order=1)
        out[k] = fit_pair(ink)
    return out


def rows_of_digits(digits: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` rows of three or four digits, composed as the pairs are, in the pair's frame: not pairs."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, HEIGHT, WIDTH), np.float32)
    for k in range(count):
        row = digits[rng.integers(len(digits))]
        for _ in range(int(rng.integers(2, 4))):
            row = compose(row, digits[rng.integers(len(digits))], rng)
        out[k] = fit_pair(row)
    return out


def wide_doodle(seed: int, glyphs: list[np.ndarray]) -> np.ndarray:
    """One wide non-digit in the pair's frame: a doodle stretched 1.2-2.8 times, or a glyph up to 2.2 times."""
    from digits import doodles
    from digits.redraw import stroke_rgba

    rng = np.random.default_rng(seed)
    while True:
        if glyphs and rng.random() < 1 / 3:
            ink = crop(doodles.glyph_drawing(glyphs[rng.integers(len(glyphs))], rng)[..., 3] / 255.0)
            if ink is not None:
                ink = resize(ink, (ink.shape[0], max(1, round(ink.shape[1] * rng.uniform(1.0, 2.2)))), order=1)
        else:
            strokes = list(doodles.MAKERS.values())[rng.integers(len(doodles.MAKERS))](rng)
            stretch = np.array([1.0, rng.uniform(1.2, 2.8)])  # (row, column)
            ink = crop(stroke_rgba(*doodles._pen_lines([s * stretch for s in strokes], rng, 160))[..., 3] / 255.0)
        if ink is not None:
            return fit_pair(ink)


def _doodle_chunk(first: int, count: int) -> np.ndarray:
    from digits import doodles

    return np.stack([wide_doodle(first + i, doodles._GLYPHS) for i in range(count)])


def wide_doodles(count: int, seed: int = 0, workers: int | None = None) -> np.ndarray:
    """`wide_doodle` ``count`` times on every CPU core: (count, 28, 56) float32 ndarray."""
    from digits import doodles

    return doodles.in_pool(_doodle_chunk, count, seed, (HEIGHT, WIDTH), workers)


def build(name: str = "pair_reader") -> keras.Model:
    """The pair reader: (N, 28, 56, 1) images in [0, 1] -> (N, 101) logits (100 pairs, then not a pair)."""
    return network.small_cnn((HEIGHT, WIDTH, 1), (32, 64, 128), 256, 0.4, NOT_A_PAIR + 1, name)  # to (3, 7)


def load(path: Path = PAIR_READER_FILE) -> keras.Model | None:
    """The shipped pair reader, or None when it has not been trained."""
    return artifacts.load_if_trained(path)


def save(model: keras.Model) -> None:
    """Write ``model``'s weights into a fresh, uncompiled pair reader at `PAIR_READER_FILE`, atomically
    (3.2 MB against 9.7 MB with the optimiser's state)."""
    artifacts.save_weights_into(build(), model, PAIR_READER_FILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=120_000, help="pairs to train on (default: 120000)")
    parser.add_argument("--epochs", type=int, default=14, help="epochs (default: 14)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--touching", type=float, default=1 / 3, help="share of the pairs written touching "
                        "stroke to stroke (touching_pairs) rather than by overlapping boxes (compose) (default: 1/3)")
    parser.add_argument("--uneven", type=float, default=0.0, help="share of the redrawn digits drawn by an "
                        "uneven hand (digits.redraw.Hand) (default: 0)")
    parser.add_argument("--dry-run", action="store_true", help="a seconds-long run on a few hundred images; "
                        "writes nothing")
    args = parser.parse_args()
    if args.dry_run:
        args.pairs, args.epochs = 600, 1

    from digits import data
    from digits.redraw import redraw_many

    start = time.perf_counter()
    (x_train, y_train), _ = data.load_mnist()
    if args.dry_run:
        x_train, y_train = x_train[:1000], y_train[:1000]
    redrawn = redraw_many(x_train, seed=args.seed + 1, uneven=args.uneven)
    digits = np.concatenate([x_train, redrawn]).astype(np.float32) / 255
    labels = np.r_[y_train, y_train]
    print(f"{len(x_train):,} training digits redrawn in {time.perf_counter() - start:.0f} s", flush=True)
    touching = round(args.pairs * args.touching)
    x_pairs, y_pairs = (np.concatenate(p) for p in zip(pair_images(digits, labels, args.pairs - touching, args.seed),
                                                       touching_pairs(x_train, y_train, touching, args.seed + 4)))
    others = np.concatenate([wide_singles(digits, args.pairs // 6, args.seed + 1),
                             rows_of_digits(digits, args.pairs // 6, args.seed + 2),
                             wide_doodles(args.pairs // 3, args.seed + 3)])
    order = np.random.default_rng(args.seed).permutation(len(x_pairs) + len(others))
    x = np.concatenate([x_pairs, others])[order]  # shuffled: the validation split is the last 3 %
    y = np.r_[y_pairs, np.full(len(others), NOT_A_PAIR)][order]
    print(f"{len(x_pairs):,} pairs and {len(x) - len(x_pairs):,} non-pairs made; "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    keras.utils.set_random_seed(args.seed)
    model = build()
    history = fit_decaying(model, x[..., None], y, args.epochs)  # the last 3 % of the shuffled images held out
    print(f"trained in {time.perf_counter() - start:.0f} s in all", flush=True)
    if args.dry_run:
        return
    save(model)
    facts = {"pairs": args.pairs, "not_pairs": int(len(x) - len(x_pairs)), "epochs": args.epochs, "seed": args.seed,
             "touching": round(args.touching, 4), "uneven": args.uneven,
             "validation_accuracy": round(float(history.history["val_accuracy"][-1]), 4)}
    write_bytes_atomic(FACTS_FILE, (json.dumps(facts, indent=2) + "\n").encode())
    print(f"wrote {PAIR_READER_FILE} ({PAIR_READER_FILE.stat().st_size / 1024:.0f} kB) and {FACTS_FILE}")


if __name__ == "__main__":
    main()
