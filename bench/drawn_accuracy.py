"""Accuracy on canvas-like drawings next to MNIST test accuracy, and a naive baseline.

    python -m bench.drawn_accuracy [--models strong seed] [--count 2000]

The drawings re-draw MNIST *test* digits (never trained on) as brush strokes on
a 320x320 transparent canvas, at a random size (20-90 % of the canvas), brush
width (4-20 % of the digit's size, within the slider's 6-48 px) and position,
corners included (support.drawings, with the pen of digits.redraw). Two ways of turning a drawing into the
network's input are compared:

  ours       digits.preprocess.canvas_to_mnist (crop, 20 px box, centre of mass)
  naive      the whole canvas resized to 28x28 with anti-aliasing (the kindest naive resize)
  naive-raw  the same without anti-aliasing (bilinear, as cv2.resize does by default),
             which is what many canvas demos do
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, data
from digits.inference import load_classifier
from digits.preprocess import naive_resize
from support.drawings import random_drawings
from support.families import prepared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=None, help="model folders to test (default: all shipped)")
    parser.add_argument("--count", type=int, default=2000, help="drawings to render (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for picking and placing digits (default: 0)")
    args = parser.parse_args()

    _, (x_test, y_test) = data.load_mnist()
    pick = np.random.default_rng(args.seed).choice(len(y_test), size=args.count, replace=False)
    start = time.perf_counter()
    drawings = random_drawings(x_test[pick], seed=args.seed)
    labels = y_test[pick]
    inputs = {
        "ours": prepared(drawings),
        "naive": np.stack([naive_resize(d) for d in drawings]),
        "naive-raw": np.stack([naive_resize(d, anti_aliasing=False) for d in drawings]),
    }
    print(f"{args.count} drawings rendered and prepared in {time.perf_counter() - start:.0f} s\n")

    header = f"{'model':16s} {'MNIST test':>10s} " + " ".join(f"{k:>10s}" for k in inputs) + "   ours - MNIST   ours - naive   ours - naive-raw"
    print(header)
    for name in args.models or artifacts.list_models():
        classifier = load_classifier(artifacts.model_dir(name))
        mnist = (classifier.predict_proba(x_test.astype(np.float32) / 255).argmax(1) == y_test).mean()
        acc = {k: (classifier.predict_proba(v).argmax(1) == labels).mean() for k, v in inputs.items()}
        print(
            f"{name:16s} {mnist:10.2%} " + " ".join(f"{a:10.2%}" for a in acc.values())
            + f"   {100 * (acc['ours'] - mnist):+8.2f} pts   {100 * (acc['ours'] - acc['naive']):+8.1f} pts   "
            f"{100 * (acc['ours'] - acc['naive-raw']):+10.1f} pts"
        )


if __name__ == "__main__":
    main()
