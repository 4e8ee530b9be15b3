"""How many numbers of 2-4 digits the draw page reads exactly.

    python -m bench.numbers [--model strong] [--count 300]

support.numbers.benchmark writes 2-4 MNIST test digits side by side on the
canvas, uneven in height and baseline, with gaps, a third with one touching
pair; read_canvas reads each. Exact: every digit right, none missing or extra,
and not flagged as a non-digit.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, data
from digits.inference import load_classifier, read_canvas
from support import numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped default)")
    parser.add_argument("--count", type=int, default=300, help="numbers to write (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    args = parser.parse_args()

    start = time.perf_counter()
    classifier = load_classifier(artifacts.model_dir(args.model) if args.model else None)
    _, (x_test, y_test) = data.load_mnist()
    canvases, answers = numbers.benchmark(x_test, y_test, args.count, args.seed)
    readings = [read_canvas(classifier, c) for c in canvases]
    read = np.array([r.number for r in readings])
    answers = np.array(answers)
    right = read == answers
    touching = np.arange(args.count) % 3 == 2
    lengths = np.array([len(a) for a in answers])
    print(f"model {classifier.name}: {args.count} numbers")
    for k in (2, 3, 4):
        print(f"  {k} digits: {right[lengths == k].mean():6.1%} read exactly ({(lengths == k).sum()})")
    print(f"  with gaps {right[~touching].mean():6.1%}, with a touching pair {right[touching].mean():6.1%}")
    print(f"  all      {right.mean():6.1%} read exactly   target >= 95 %")
    print(f"  wrong count of digits {np.mean([len(r) != len(a) for r, a in zip(read, answers)]):.1%}, "
          f"flagged not a digit {np.mean([r.not_a_digit for r in readings]):.1%}")
    print(f"\nelapsed {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
