"""Fill a drawings database with simulated labelled drawings, a stand-in for a class's.

    python -m bench.simulate_drawings --db /tmp/drawings.sqlite [--count 800]

Each is an MNIST *training* digit (never a test digit: MNIST test accuracy is
reported next to the drawings') redrawn as canvas strokes at a random size,
brush and position (support.drawings, with the pen of digits.redraw), prepared as the draw page prepares drawings,
labelled with its true digit, with the probabilities the chosen model gives it,
and stored with its canvas as the draw page stores it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from digits import artifacts, config, data, store
from support.drawings import random_drawings
from digits.inference import load_classifier
from digits.preprocess import canvas_to_mnist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="the database to fill (created if missing)")
    parser.add_argument("--count", type=int, default=800, help="drawings to add (default: 800)")
    parser.add_argument("--model", default=config.DEFAULT_MODEL, help="model that 'reads' them (default: strong)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    args = parser.parse_args()

    (x_train, y_train), _ = data.load_mnist()
    pick = np.random.default_rng(args.seed).choice(len(y_train), size=args.count, replace=False)
    classifier = load_classifier(artifacts.model_dir(args.model))
    conn = store.connect(args.db)
    for rgba, label in zip(random_drawings(x_train[pick], seed=args.seed), y_train[pick]):
        image = canvas_to_mnist(rgba)
        probs = classifier.predict_proba(image[None])[0]
        store.add(conn, image=image, canvas_png=store.encode_canvas(rgba), probs=probs, label=int(label), model=args.model,
                  session=f"simulated-{args.seed}")
    drawings = store.load(conn)
    print(f"{args.db}: {len(drawings)} drawings; {args.model} reads "
          f"{(drawings.predicted == drawings.labels).mean():.1%} of them right")


if __name__ == "__main__":
    main()
