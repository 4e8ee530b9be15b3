"""Accuracy and calibration (ECE) of every shipped model on MNIST test and three families of drawn digits.

    python -m bench.families [--count 2000] [--models strong seed] [--save out.npz] [--write-calibration]

Families (all drawn on the 320x320 transparent canvas, read through
digits.preprocess.canvas_to_mnist as the draw page reads them):

  MNIST test   all 10,000 test digits as they are (not drawn)
  redrawn      MNIST test digits re-stroked by support.drawings, whose renderer is digits.redraw's:
               it SHARES THE TRAINING RENDERER of models trained with --redraw (strong)
  pen          MNIST test digits re-stroked by support.pens, an independent pen: width and pressure
               varying along each stroke, tremor, overshoot, pen lifts, slant
  fonts        digits typed in Debian's handwriting fonts (support.fonts), never used for training

The drawn families use the same --count MNIST test digits (the fonts family their labels).
ECE uses 15 equal-width confidence bins. --write-calibration writes model/<name>/calibration.json,
the reliability bins the Mistakes page shows.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, calibration, data
from digits.inference import load_classifier
from support.families import families

# Which families share the renderer that makes the default model's training digits.
SHARES_TRAINING_RENDERER = {"MNIST test": False, "redrawn": True, "pen": False, "fonts": False}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=None, help="model folders to test (default: all shipped)")
    parser.add_argument("--count", type=int, default=2000, help="digits per drawn family (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for picking and drawing digits (default: 0)")
    parser.add_argument("--save", default=None, help="write every family's confidences and correctness to this .npz")
    parser.add_argument("--write-calibration", action="store_true",
                        help=f"write model/<name>/{calibration.CALIBRATION_FILE} for each model (default: off)")
    args = parser.parse_args()

    start = time.perf_counter()
    _, (x_test, y_test) = data.load_mnist()
    sets = families(x_test, y_test, args.count, args.seed)
    names = args.models or artifacts.list_models()

    rows, saved = [], {}
    for name in names:
        classifier = load_classifier(artifacts.model_dir(name))
        records = {}
        for family, (images, labels) in sets.items():
            probs = classifier.predict_proba(images)
            confidence, correct = probs.max(1), probs.argmax(1) == labels
            saved[f"{name}/{family}/confidence"], saved[f"{name}/{family}/correct"] = confidence, correct
            records[family] = calibration.family_record(
                confidence, correct, shares_training_renderer=SHARES_TRAINING_RENDERER[family])
        rows.append((name, records))
        if args.write_calibration:
            path = calibration.save(artifacts.model_dir(name), records, model=name, seed=args.seed,
                                    made_by=f"python -m bench.families --count {args.count} --write-calibration")
            print(f"wrote {path}")

    print("\nAccuracy (ECE), 15 bins; * shares the training renderer of --redraw models\n")
    header = " | ".join(f"{f}{' *' if SHARES_TRAINING_RENDERER[f] else ''} (n={len(sets[f][1])})" for f in sets)
    print(f"| model | {header} |\n|---|" + "---|" * len(sets))
    for name, records in rows:
        cells = " | ".join(f"{r['accuracy']:.2%} ({r['ece']:.4f})" for r in records.values())
        print(f"| {name} | {cells} |")
    print(f"\nelapsed {time.perf_counter() - start:.0f} s")
    if args.save:
        np.savez_compressed(args.save, **saved)
        print(f"saved {args.save}")


if __name__ == "__main__":
    main()
