"""Time to place a new drawing on the Inside page's map, against one prediction, in the same run.

    python -m bench.map_latency [--model strong] [--drawings 50]

A drawing's placement is what the page computes on every rerun: the last hidden
layer's features, the weighted position among the 2,500 sample digits, and the
nearest ones. Each drawing is a training sample re-drawn as canvas strokes.
TensorFlow runs each op on one thread, as in the app. Acceptance: a median of
at most 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digits import artifacts, config, embedding, redraw
from digits.inference import load_classifier, one_thread_per_op
from digits.preprocess import canvas_to_mnist


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=config.DEFAULT_MODEL, help="model folder name (default: strong)")
    parser.add_argument("--drawings", type=int, default=50, help="drawings placed (default: 50)")
    args = parser.parse_args()

    one_thread_per_op()
    folder = artifacts.model_dir(args.model)
    classifier = load_classifier(folder)
    map_ = embedding.load_map(folder)
    samples = artifacts.load_examples(folder)["sample_images"][: args.drawings]
    images = [canvas_to_mnist(redraw.render_digit(d, height=220, brush=config.DEFAULT_BRUSH, top=50, left=50))
              for d in samples]

    def place(image):
        return embedding.place(map_, embedding.features(classifier.model, image[None])[0])

    place(images[0])  # warm
    placing = [seconds(lambda im=im: place(im)) for im in images]
    predicting = [seconds(lambda im=im: classifier.predict_proba(im[None])) for im in images]
    ms = 1000 * statistics.median(placing)
    print(f"model {args.model!r}, map of {len(map_['index']):,} digits ({map_['features'].shape[1]} dims), "
          f"{len(images)} drawings, one thread per op")
    print(f"  place a drawing (features + position + neighbours)  median {ms:8.1f} ms, max {1000 * max(placing):.1f} ms")
    print(f"  predict_proba (1 image)                             median {1000 * statistics.median(predicting):8.2f} ms")
    print(f"  acceptance (<= 1000 ms): {'met' if ms <= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
