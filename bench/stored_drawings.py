"""Our preprocessing against a naive resize, on the drawings people labelled in the app.

    python -m bench.stored_drawings [--db data/drawings.sqlite] [--models strong seed]

The drawn-digit benchmark (bench/drawn_accuracy.py) renders its drawings at
sizes drawn uniformly from 20-90 % of the canvas, and how far ahead of a naive
resize our preprocessing is depends mostly on how large people draw. This reads
real drawings instead: every labelled drawing in a drawings database (the draw
page's "Right" / "No, it's a..." buttons store them, canvas included), read by
each model from its stored canvas three ways:

  ours       digits.preprocess.canvas_to_mnist, as the draw page reads it
  naive      the whole canvas resized to 28x28 with anti-aliasing
  naive-raw  the same without anti-aliasing, as cv2.resize does by default

It also prints how large the drawings are (the ink's longest side as a share of
the canvas), and accuracy by size. Drawings without a readable canvas are left
out and counted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, config, store
from digits.inference import load_classifier
from digits.preprocess import naive_resize, preprocess_steps

BANDS = ((0.0, 0.4), (0.4, 0.6), (0.6, 1.01))  # extent bands, as in the README's benchmark table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=config.DATA_DIR / "drawings.sqlite",
                        help="the drawings database (default: %(default)s)")
    parser.add_argument("--models", nargs="+", default=None, help="model folders to test (default: all shipped)")
    args = parser.parse_args()
    if not args.db.exists():
        sys.exit(f"No drawings database at {args.db}: label some drawings on the draw page first, "
                 "or pass --db (bench/simulate_drawings.py makes a simulated one).")

    conn = store.connect(args.db)
    drawings = store.load(conn)
    canvases = store.canvases(conn, drawings.ids)
    steps = [None if c is None else preprocess_steps(c) for c in canvases]
    keep = [k for k, s in enumerate(steps) if s is not None]
    print(f"{args.db}: {len(drawings)} labelled drawings, {len(keep)} with a readable canvas")
    if not keep:
        sys.exit(1)
    canvases, steps = [canvases[k] for k in keep], [steps[k] for k in keep]
    labels = drawings.labels[keep]
    extents = np.array([max(s.crop.shape) / min(s.ink.shape) for s in steps])  # as preprocess's speck test
    q = np.percentile(extents, [10, 25, 50, 75, 90])
    print("drawing size (ink's longest side / canvas): "
          + ", ".join(f"p{p} {v:.0%}" for p, v in zip((10, 25, 50, 75, 90), q)))
    inputs = {
        "ours": np.stack([s.centred for s in steps]),
        "naive": np.stack([naive_resize(c) for c in canvases]),
        "naive-raw": np.stack([naive_resize(c, anti_aliasing=False) for c in canvases]),
    }

    names = args.models or artifacts.list_models()
    print(f"\n{'model':16s} " + " ".join(f"{k:>10s}" for k in inputs) + "   ours - naive   ours - naive-raw")
    by_band = {}
    for name in names:
        classifier = load_classifier(artifacts.model_dir(name))
        right = {k: classifier.predict_proba(v).argmax(axis=1) == labels for k, v in inputs.items()}
        acc = {k: v.mean() for k, v in right.items()}
        print(f"{name:16s} " + " ".join(f"{100 * a:9.2f}%" for a in acc.values())
              + f"   {100 * (acc['ours'] - acc['naive']):+8.1f} pts   {100 * (acc['ours'] - acc['naive-raw']):+10.1f} pts")
        by_band[name] = right
    print("\nby drawing size: ours / naive, per model")
    for low, high in BANDS:
        inside = (extents >= low) & (extents < high)
        cells = [f"{name} {right['ours'][inside].mean():.1%} / {right['naive'][inside].mean():.1%}"
                 for name, right in by_band.items()] if inside.any() else ["-"]
        print(f"  {low:.0%}-{min(high, 1.0):.0%} ({int(inside.sum())} drawings): " + "; ".join(cells))


if __name__ == "__main__":
    main()
