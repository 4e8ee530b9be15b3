"""How often the draw page says "That's not a digit": on non-digits, and on digits.

    python -m bench.not_a_digit [--model strong] [--per-kind 200] [--count 2000]

Non-digits: support.nondigits.benchmark (shapes, scribbles, letters in fonts kept
out of fitting, crossed-out MNIST test digits), read through read_canvas as the
draw page reads them. Digits: MNIST test digits drawn on the canvas
(support.drawings.random_drawings, and support.pens when it exists), and MNIST
test itself. The scorer's threshold was set on held-out *training* digits
(digits.novelty), never on these.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, data
from digits.inference import load_classifier, read_canvas
from support import nondigits
from support.drawings import random_drawings


def flagged(classifier, canvases) -> tuple[float, float]:
    """Share of canvases flagged not a digit, and share read as a number of several digits."""
    readings = [read_canvas(classifier, c) for c in canvases]
    return (np.mean([r is not None and r.not_a_digit for r in readings]),
            np.mean([r is not None and len(r.number) > 1 for r in readings]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped default)")
    parser.add_argument("--per-kind", type=int, default=200, help="non-digits of each kind (default: 200)")
    parser.add_argument("--count", type=int, default=2000, help="drawn MNIST test digits (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    args = parser.parse_args()

    start = time.perf_counter()
    classifier = load_classifier(artifacts.model_dir(args.model) if args.model else None)
    _, (x_test, y_test) = data.load_mnist()
    print(f"model {classifier.name}; threshold {classifier.novelty.threshold:.2f}\n")
    print(f"{'non-digits':24s} {'flagged':>8s}  (fitted on this kind, other seeds?)")
    rates = []
    for kind, canvases in nondigits.benchmark(x_test[5000:], args.per_kind, args.seed).items():
        rate, _ = flagged(classifier, canvases)
        rates.append(rate)
        seen = kind in nondigits.FIT_KINDS or kind in ("letter", "crossed-out digit")
        print(f"  {kind:22s} {rate:8.1%}  {'yes' if seen else 'no: never seen'}")
    print(f"  {'all':22s} {np.mean(rates):8.1%}   target >= 95 %\n")

    pick = np.random.default_rng(args.seed).choice(len(y_test), args.count, replace=False)
    rate, split = flagged(classifier, random_drawings(x_test[pick], seed=args.seed))
    print(f"digits drawn (support.drawings, {args.count}): flagged {rate:.2%} (target <= 0.5 %), "
          f"read as several digits {split:.2%}")
    try:
        from support import pens
        rate, split = flagged(classifier, pens.random_drawings(x_test[pick], seed=args.seed))
        print(f"digits drawn (support.pens, {args.count}): flagged {rate:.2%}, read as several digits {split:.2%}")
    except (ImportError, AttributeError) as error:
        print(f"support.pens: not measured ({error})")
    _, flags = classifier.read(x_test.astype(np.float32) / 255)
    print(f"MNIST test (10,000, as the network sees them): flagged {flags.mean():.2%}")
    print(f"\nelapsed {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
