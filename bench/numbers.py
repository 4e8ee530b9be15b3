"""How many numbers of 2-4 digits the draw page reads exactly, and how few single digits it splits.

    python -m bench.numbers [--model strong] [--count 300] [--seed 0] [--singles 1000]

support.numbers.benchmark writes 2-4 MNIST test digits side by side on the
canvas with the independent pen of support.pens (never the training's
renderer), uneven in height and baseline, with gaps from nearly touching to
half a digit, every third number with one touching pair; read_canvas reads
each (the splitter of digits.segment, then the touching-pair reader of
digits.pairs, which learnt from pairs made another way: see its docstring). Exact: every digit right, none missing or extra, and not flagged as a
non-digit. Then single MNIST test digits drawn by both pens
(support.drawings.random_drawings, support.pens.pen_drawings): the share
read_canvas wrongly splits into several digits.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, data, inference
from digits.inference import load_classifier, read_canvas
from support import drawings, numbers, pens

DRAW_NAMES = ("redraw pen (support.drawings)", "independent pen (support.pens)")
draws = (drawings.random_drawings, pens.pen_drawings)


def _times_ms(fn, items) -> np.ndarray:
    """Milliseconds of ``fn(item)`` for each item."""
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def timings(classifier, canvases: np.ndarray, singles: list[np.ndarray]) -> None:
    """read_canvas's time on single digits (150 per pen) and on the numbers, against one predict_proba; and with
    the piece verifier (`digits.verifier`) against without it, the two called in turn on each drawing."""
    one = _times_ms(classifier.predict_proba, [np.zeros((1, 28, 28), np.float32)] * 200)
    print(f"  timing: predict_proba (1 image) median {np.median(one):.2f} ms")
    checker = classifier.verifier
    for name, items in (("single digits, both pens", np.concatenate(singles)), ("numbers", canvases)):
        times = {True: [], False: []}
        for k, canvas in enumerate(items):
            for verified in ((True, False) if k % 2 else (False, True)):
                classifier.verifier = checker if verified else None
                times[verified].extend(_times_ms(lambda c: read_canvas(classifier, c), [canvas]))
        classifier.verifier = checker
        shown = times[checker is not None]
        line = (f"  timing: read_canvas on {name}: median {np.median(shown):.2f} ms "
                f"({np.median(shown) / np.median(one):.2f}x predict_proba), p95 {np.percentile(shown, 95):.2f} ms")
        if checker is not None:
            off = np.median(times[False])
            line += f"; without the verifier {off:.2f} ms (with / without: {np.median(shown) / off:.2f}x)"
        print(line)


def miss_kind(reading, answer: str) -> str | None:
    """Why a number was not read exactly: None when it was; else the first of "flagged" (some part called
    no digit), "wrong count" (digits missing or extra) and "misread" (the right count, a digit wrong)."""
    if reading.number == answer:
        return None
    if reading.not_a_digit:
        return "flagged"
    return "wrong count" if len(reading.number) != len(answer) else "misread"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped default)")
    parser.add_argument("--count", type=int, default=300, help="numbers to write (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    parser.add_argument("--width", type=int, default=None,
                        help="canvas width in pixels (default: the draw page's square canvas)")
    parser.add_argument("--timings", action="store_true",
                        help="also time read_canvas on single digits and on the numbers, with and without the verifier")
    parser.add_argument("--singles", type=int, default=1000,
                        help="single digits per pen checked for wrong splits; 0 skips them (default: 1000)")
    args = parser.parse_args()

    start = time.perf_counter()
    inference.one_thread_per_op()  # as the app's server runs it, for the timings
    classifier = load_classifier(artifacts.model_dir(args.model) if args.model else None)
    _, (x_test, y_test) = data.load_mnist()
    canvases, answers = numbers.benchmark(x_test, y_test, args.count, args.seed, args.width)
    readings = [read_canvas(classifier, c) for c in canvases]
    read = np.array([r.number for r in readings])
    answers = np.array(answers)
    right = read == answers
    touching = np.arange(args.count) % 3 == 2
    lengths = np.array([len(a) for a in answers])
    print(f"model {classifier.name}: {args.count} numbers, seed {args.seed}, split by read_canvas (segment.read_digits)")
    for k in (2, 3, 4):
        print(f"  {k} digits: {right[lengths == k].mean():6.1%} read exactly ({(lengths == k).sum()})")
    print(f"  with gaps {right[~touching].mean():6.1%}, with a touching pair {right[touching].mean():6.1%}")
    print(f"  all      {right.mean():6.1%} read exactly   target >= 95 %")
    digits_read = np.array(["".join(str(d.digit) for d in r.digits) for r in readings])
    print(f"  all digits read right, not-a-digit flag aside {np.mean(digits_read == answers):6.1%}")
    print(f"  wrong count of digits {np.mean([len(r) != len(a) for r, a in zip(digits_read, answers)]):.1%}, "
          f"flagged not a digit {np.mean([r.not_a_digit for r in readings]):.1%}, "
          f"read with a touching pair {np.mean([any(d.paired for d in r.digits) for r in readings]):.1%}, "
          f"read whole by the line reader {np.mean([any(d.lined for d in r.digits) for r in readings]):.1%}")
    kinds = np.array([miss_kind(r, a) or "" for r, a in zip(readings, answers)])
    for where, among in (("with gaps", ~touching), ("with a touching pair", touching)):
        print(f"  missed, {where}: " + ", ".join(f"{kind} {np.sum(kinds[among] == kind)}"
                                                 for kind in ("flagged", "wrong count", "misread")))
    if args.singles:
        pick = np.random.default_rng(args.seed).choice(len(y_test), args.singles, replace=False)
        for name, draw in zip(DRAW_NAMES, draws):
            split = [len(r.digits) > 1 or len(r.number) > 1
                     for r in (read_canvas(classifier, c) for c in draw(x_test[pick], seed=args.seed)) if r]
            print(f"  single digits split in several, {name}: {np.mean(split):.2%} of {len(split)}   target <= 0.5 %")
    if args.timings and args.singles:
        timings(classifier, canvases, [d(x_test[pick[:150]], seed=args.seed) for d in draws])
    print(f"\nelapsed {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
