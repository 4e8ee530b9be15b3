"""Is this candidate one whole digit? A small CNN that checks the splitter's pieces.

`digits.segment.read_digits` splits a row of digits by how surely the reader
reads each candidate piece of ink. But the reader learnt from whole, centred
digits only: fitted alone into 20 px, a 5's top bar reads as a sure 1, half of
a 0 as a sure 1, and a 4 with a sliver of its neighbour as a sure 4. This
network sees each candidate twice, as the reader does and among its
neighbours at the scale of the whole ink (`digits.segment.Lattice.contexts`),
and answers which digit it is or that it is not one whole digit (a piece of
one, two merged, a digit with a piece of its neighbour); the splitter weighs
its doubt (`digits.segment.VERIFY_WEIGHT`).

It learns from the splitter's own candidates on numbers written here: 1-4
MNIST *training* digits stroked by `digits.redraw`'s canvas pen (half of them
by its uneven hand, which lifts the pen and blots), sized and placed as people
write them, one pair touching in some, every number slanted. Each candidate's
label comes from which digit owns its ink. `bench.numbers` writes its numbers
another way: MNIST *test* digits by the independent pen of `support.pens`.

    python -m digits.verifier            # make the data, train, write model/verifier.keras (~15 min, 2 cores)
    python -m digits.verifier --dry-run  # seconds: a tiny run that writes nothing
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import keras
import numpy as np
from skimage.transform import AffineTransform, warp

from digits import artifacts, config, network, segment
from digits.atomic import write_bytes_atomic
from digits.redraw import UNEVEN, digit_plan, draw_pen, uneven_ink
from digits.training import fit_decaying, in_parallel

VERIFIER_FILE = config.MODEL_DIR / "verifier.keras"
FACTS_FILE = config.MODEL_DIR / "verifier.json"
NOT_ONE = 10  # the class of a candidate that is not one whole digit
# A candidate is a digit when it holds at least WHOLE of one digit's ink and that digit is at least WHOLE of
# its own; neither at least PART: not one digit; in between: too close to call, left out of training.
WHOLE = 0.92
PART = 0.8
# compose_number: digits per number and their chances; the mean digit height in pixels; each digit's height
# around it; baselines; the pen in pixels of the 20 px box (as `digits.redraw.redraw_many`); the gap between
# neighbours' strokes, in mean heights, and that of a touching pair; the chance of one; the slant.
COUNTS, COUNT_CHANCES = (1, 2, 3, 4), (0.1, 0.3, 0.3, 0.3)
HEIGHTS = (50, 140)
SIZES = (0.8, 1.2)
BASELINE = 0.1
PENS = (0.8, 4.0)
GAPS = (0.02, 0.5)
TOUCHING = (-0.06, 0.0)
TOUCH_CHANCE = 0.4
SLANTS = (-0.3, 0.3)


def _digit_ink(digit: np.ndarray, height: int, brush: float, slant: float, uneven: bool,
               rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit stroked by the canvas pen ``height`` pixels tall and slanted: (h, w) float32 ink."""
    margin = int(brush * 2) + 4
    size = height + 2 * margin
    centre, solid = digit_plan(digit, height, brush, margin, margin, size)
    ink = uneven_ink(centre, brush, rng, UNEVEN, size=height) if uneven else draw_pen(centre, brush)
    ink = np.maximum(ink, solid)
    pad = int(abs(slant) * size / 2) + 2
    ink = np.pad(ink, ((0, 0), (pad, pad)))
    shear = AffineTransform(matrix=np.array([[1, slant, -slant * size / 2], [0, 1, 0], [0, 0, 1]]))
    ink = warp(ink, shear, order=1, preserve_range=True).astype(np.float32)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def compose_number(digits: np.ndarray, rng: np.random.Generator,
                   touching: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST digits written side by side with the canvas pen, and which digit owns each pixel.

    Parameters
    ----------
    digits : (n, 28, 28) uint8 ndarray
        MNIST images, left to right.
    touching : bool, optional
        Whether one neighbouring pair's strokes touch (`TOUCHING`); by default, with chance `TOUCH_CHANCE`.

    Returns
    -------
    ink : (H, W) float32 ndarray in [0, 1]
    owner : (H, W) int8 ndarray
        The index of the digit whose ink is strongest at each pixel; -1 where there is none.
    """
    mean = rng.uniform(*HEIGHTS)
    brush = max(2.0, rng.uniform(*PENS) * mean / config.DIGIT_BOX)
    slant, uneven = rng.uniform(*SLANTS), rng.random() < 0.5
    touches = len(digits) > 1 and (rng.random() < TOUCH_CHANCE if touching is None else touching)
    touching = int(rng.integers(len(digits) - 1)) if touches else -1
    inks = [_digit_ink(d, max(12, round(mean * rng.uniform(*SIZES))), brush, slant, uneven, rng) for d in digits]
    # Each digit's bottom near a common baseline; each placed by the gap between its strokes and the ink so far.
    tops = [round(mean * (1 + BASELINE * rng.uniform(-1, 1))) - ink.shape[0] for ink in inks]
    base = min(tops)
    tops = [t - base for t in tops]
    height = max(t + ink.shape[0] for t, ink in zip(tops, inks))
    right = np.full(height, -np.inf)  # the rightmost ink so far in each row
    lefts = []
    for k, (top, ink) in enumerate(zip(tops, inks)):
        rows = np.arange(top, top + ink.shape[0])
        inked = ink > 0.5
        first = np.where(inked.any(axis=1), np.argmax(inked, axis=1), np.inf)  # leftmost ink per row
        gap = rng.uniform(*(TOUCHING if k - 1 == touching else GAPS)) * mean
        shared = np.isfinite(first) & np.isfinite(right[rows])
        if k == 0:
            left = 0
        elif shared.any():
            left = int(np.ceil(np.max(right[rows][shared] - first[shared]) + gap))
        else:
            left = int(np.ceil(np.max(right[np.isfinite(right)]) + gap))
        left = max(left, 0)
        lefts.append(left)
        last = np.where(inked.any(axis=1), ink.shape[1] - 1 - np.argmax(inked[:, ::-1], axis=1), -np.inf)
        right[rows] = np.maximum(right[rows], left + last)
    width = max(left + ink.shape[1] for left, ink in zip(lefts, inks))
    pad = 8
    stack = np.zeros((len(inks), height + 2 * pad, width + 2 * pad), np.float32)
    for k, (top, left, ink) in enumerate(zip(tops, lefts, inks)):
        stack[k, pad + top : pad + top + ink.shape[0], pad + left : pad + left + ink.shape[1]] = ink
    ink = stack.max(axis=0)
    owner = np.where(ink > 0, stack.argmax(axis=0), -1).astype(np.int8)
    return ink, owner


def label_candidates(lattice: segment.Lattice, owner: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each candidate's class: the digit it is, `NOT_ONE`, or -1 when too close to call.

    Parameters
    ----------
    lattice : segment.Lattice
    owner : (H, W) int ndarray
        The owner of each pixel of the lattice's crop (`compose_number`'s, cut to its box).
    labels : (n,) int ndarray
        Each digit's label.

    Returns
    -------
    (N,) int64 ndarray
    """
    inked = np.where(lattice.mask, owner, -1)
    totals = np.bincount(inked[inked >= 0], minlength=len(labels))
    out = np.empty(len(lattice.runs), np.int64)
    for k in range(len(lattice.runs)):
        mine = inked[lattice.pixels(k) & lattice.mask]
        counts = np.bincount(mine[mine >= 0], minlength=len(labels))
        best = int(counts.argmax())
        of_digit, purity = counts[best] / max(totals[best], 1), counts[best] / max(mine.size, 1)
        if of_digit >= WHOLE and purity >= WHOLE:
            out[k] = labels[best]
        elif of_digit < PART or purity < PART:
            out[k] = NOT_ONE
        else:
            out[k] = -1
    return out


def number_candidates(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """The splitter's candidates on one composed number: (images, contexts, classes), the unclear left out."""
    ink, owner = compose_number(digits, rng)
    found = segment.lattice_of(ink)
    if found is None:
        return None
    box, lattice = found
    classes = label_candidates(lattice, owner[box], labels)
    keep = classes >= 0
    return lattice.images[keep], lattice.contexts()[keep], classes[keep]


def _chunk(numbers: list[tuple[np.ndarray, np.ndarray]], seed: int):
    """`number_candidates` of each (digits, labels) in ``numbers``, concatenated."""
    rng = np.random.default_rng(seed)
    made = [m for m in (number_candidates(d, y, rng) for d, y in numbers) if m is not None]
    return tuple(np.concatenate(part) for part in zip(*made))


def training_data(digits: np.ndarray, labels: np.ndarray, numbers: int, seed: int, progress=None):
    """Candidates of ``numbers`` composed numbers, on every CPU core.

    Parameters
    ----------
    digits : (N, 28, 28) uint8 ndarray
        MNIST training images; ``labels`` (N,) their digits.

    Returns
    -------
    inputs : (M, 28, 28, 2) float32 ndarray
        Each candidate as the reader reads it, and its context.
    classes : (M,) int64 ndarray
        Its digit, or `NOT_ONE`.
    """
    rng = np.random.default_rng(seed)
    picks = [rng.integers(len(digits), size=n) for n in rng.choice(COUNTS, size=numbers, p=COUNT_CHANCES)]
    size = 250
    jobs = [([(digits[p], labels[p]) for p in picks[i : i + size]], seed * 1_000_003 + i) for i in range(0, numbers, size)]
    images, contexts, classes = in_parallel(_chunk, jobs, None if progress is None else
                                            lambda k: progress(min(k * size, numbers)))
    return np.stack([images, contexts], axis=-1), classes


def build(name: str = "verifier") -> keras.Model:
    """The verifier: (N, 28, 28, 2) candidate and context -> (N, 11) logits (ten digits, then `NOT_ONE`)."""
    return network.small_cnn((config.IMAGE_SIZE, config.IMAGE_SIZE, 2), (32, 64, 96), 128, 0.3, NOT_ONE + 1, name)


def load(path: Path = VERIFIER_FILE) -> keras.Model | None:
    """The shipped verifier, or None when it has not been trained."""
    return artifacts.load_if_trained(path)


def save(model: keras.Model) -> None:
    """Write ``model``'s weights into a fresh, uncompiled verifier at `VERIFIER_FILE`, atomically."""
    artifacts.save_weights_into(build(), model, VERIFIER_FILE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--numbers", type=int, default=30_000, help="numbers to compose (default: 30000)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs (default: 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--dry-run", action="store_true", help="a seconds-long run on a few numbers; writes nothing")
    args = parser.parse_args()
    if args.dry_run:
        args.numbers, args.epochs = 100, 1

    from digits import data

    start = time.perf_counter()
    (x_train, y_train), _ = data.load_mnist()
    x, y = training_data(x_train, y_train, args.numbers, args.seed,
                         progress=lambda n: print(f"  {n:,} numbers", flush=True) if n % 4000 == 0 else None)
    print(f"{len(x):,} candidates from {args.numbers:,} numbers, {(y == NOT_ONE).mean():.0%} not one digit; "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    order = np.random.default_rng(args.seed).permutation(len(x))
    x, y = x[order], y[order]  # shuffled: the validation split is the last 3 %
    keras.utils.set_random_seed(args.seed)
    model = build()
    history = fit_decaying(model, x, y, args.epochs)
    print(f"trained in {time.perf_counter() - start:.0f} s in all", flush=True)
    if args.dry_run:
        return
    save(model)
    facts = {"numbers": args.numbers, "candidates": len(x), "not_one": int((y == NOT_ONE).sum()),
             "epochs": args.epochs, "seed": args.seed,
             "validation_accuracy": round(float(history.history["val_accuracy"][-1]), 4)}
    write_bytes_atomic(FACTS_FILE, (json.dumps(facts, indent=2) + "\n").encode())
    print(f"wrote {VERIFIER_FILE} ({VERIFIER_FILE.stat().st_size / 1024:.0f} kB) and {FACTS_FILE}")


if __name__ == "__main__":
    main()
