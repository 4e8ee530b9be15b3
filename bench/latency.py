"""In-process latency of one drawing: canvas -> probabilities, against model.predict.

    python -m bench.latency [--model strong] [--repeats 300]

Prints medians and ratios measured in this one run (CPU timings are noisy;
ratios within a run are what to compare). TensorFlow runs each op on one thread,
as in the app (digits.inference.one_thread_per_op); --default-threads keeps
TensorFlow's own thread pools, for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digits import artifacts, config, data, redraw
from digits.inference import load_classifier, one_thread_per_op, read_canvas
from digits.preprocess import canvas_to_mnist
from support import pens
from support.drawings import random_drawings
from support.timing import median_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=config.DEFAULT_MODEL, help="model folder name (default: strong)")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per measurement (default: 300)")
    parser.add_argument("--default-threads", action="store_true",
                        help="keep TensorFlow's default thread pools instead of the app's one thread per op")
    args = parser.parse_args()

    if not args.default_threads:
        one_thread_per_op()
    classifier = load_classifier(artifacts.model_dir(args.model))
    # A realistic drawing: a training sample re-drawn as canvas strokes.
    digit = artifacts.load_examples(artifacts.model_dir(args.model))["sample_images"][0]
    canvas = redraw.render_digit(digit, height=220, brush=config.DEFAULT_BRUSH, top=50, left=50)
    image = canvas_to_mnist(canvas)
    batch = image[None]

    keras_predict = median_ms(lambda: classifier.model.predict(batch[..., None], verbose=0), args.repeats // 5)
    predict_proba = median_ms(lambda: classifier.predict_proba(batch), args.repeats)
    preprocess = median_ms(lambda: canvas_to_mnist(canvas), args.repeats)
    end_to_end = median_ms(lambda: classifier.predict_proba(canvas_to_mnist(canvas)[None]), args.repeats)
    # The draw page's whole path: the digits split apart, each read, and the not-a-digit check.
    whole_path = median_ms(lambda: read_canvas(classifier, canvas), args.repeats)

    # Many drawings, not one: a wide digit takes the number reader's slower path (digits.segment.read_digits).
    _, (x_test, _) = data.load_mnist()
    drawn = [*random_drawings(x_test[:150], seed=0), *pens.pen_drawings(x_test[150:300], seed=0)]
    per_drawing = []
    for canvas_i in drawn:
        read_canvas(classifier, canvas_i)  # warm
        start = time.perf_counter()
        read_canvas(classifier, canvas_i)
        per_drawing.append((time.perf_counter() - start) * 1000)
    per_drawing.sort()

    threads = "TensorFlow's default threads" if args.default_threads else "one thread per op, as in the app"
    print(f"model {args.model!r}, canvas {canvas.shape[0]}x{canvas.shape[1]}, {threads}, medians of {args.repeats} calls")
    print(f"  model.predict (1 image)              {keras_predict:8.2f} ms")
    print(f"  predict_proba (1 image)              {predict_proba:8.2f} ms   {keras_predict / predict_proba:6.1f}x faster")
    print(f"  canvas_to_mnist                      {preprocess:8.2f} ms")
    print(f"  canvas -> probabilities (both)       {end_to_end:8.2f} ms   {keras_predict / end_to_end:6.1f}x faster")
    print(f"  read_canvas (the draw page's path)   {whole_path:8.2f} ms   {keras_predict / whole_path:6.1f}x faster")
    print(f"  read_canvas on {len(drawn)} drawn test digits (two pens): median {statistics.median(per_drawing):.2f} ms "
          f"({statistics.median(per_drawing) / predict_proba:.1f}x predict_proba), "
          f"p90 {per_drawing[int(0.9 * len(drawn))]:.2f} ms, p99 {per_drawing[int(0.99 * len(drawn))]:.2f} ms   "
          "target: median <= 5 ms")


if __name__ == "__main__":
    main()
