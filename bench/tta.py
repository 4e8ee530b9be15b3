"""Test-time augmentation (TTA) and ensembles of the shipped models, on MNIST test and the drawn families.

    python -m bench.tta [--count 1000] [--seeds 0 1] [--only "strong x2" ...] [--cache DIR] [--repeats 200]

Every reader is measured on the families of bench.families (MNIST test, redrawn, pen, fonts),
the drawn ones pooled over --seeds (so n = count x seeds per drawn family):

  strong           the default model alone, the reference (its seed-0 figures are bench.families')
  TTA              strong's softmax averaged over small views of the 28x28 input: shifts of 1 px,
                   rotations, scales about the frame centre (where preprocessing puts the centre
                   of mass), made by keras.ops.image.affine_transform (bilinear) as shipped code would
  ensembles        shipped models' softmax averaged (mean) or their log-probabilities averaged
                   (geo, then renormalised); "strong x2" weighs strong twice
  TTA + ensemble   the best TTA (mean drawn accuracy) on the best ensemble

Accuracy carries one standard error, sqrt(p (1 - p) / n); the gains table gives each reader's
change against strong on the same digits with the paired standard error (from the digits the
two readers disagree on). ECE uses digits.calibration's 15 bins. Each model's softmax in each view
is computed once and shared by the readers that use it: the same numbers as one batched pass.

Latency: the reader as one traced tf.function on one drawing (all its views in one batch), one
thread per op as in the app; median of --repeats calls, called in turn with strong alone on one
image, as a ratio to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from digits import artifacts, calibration, config, data
from digits.inference import one_thread_per_op
from digits.preprocess import CENTRE
from support.families import families
from support.timing import median_ms

# Elementary views of the input: (rows down, columns right, degrees anticlockwise, scale).
VIEWS = {
    "id": (0, 0, 0, 1.0),
    "up": (-1, 0, 0, 1.0), "down": (1, 0, 0, 1.0), "left": (0, -1, 0, 1.0), "right": (0, 1, 0, 1.0),
    "rot+8": (0, 0, 8, 1.0), "rot-8": (0, 0, -8, 1.0), "rot+4": (0, 0, 4, 1.0), "rot-4": (0, 0, -4, 1.0),
    "x0.9": (0, 0, 0, 0.9), "x1.1": (0, 0, 0, 1.1), "x0.95": (0, 0, 0, 0.95), "x1.05": (0, 0, 0, 1.05),
    "rot+8 x1.1": (0, 0, 8, 1.1), "rot-8 x0.9": (0, 0, -8, 0.9),
}
SHIFTS = ["up", "down", "left", "right"]
# TTA variants: which views each drawing is read in (the batch per drawing is their number).
TTA = {
    "shift 1px": ["id", *SHIFTS],
    "rot 8": ["id", "rot+8", "rot-8"],
    "rot 4": ["id", "rot+4", "rot-4"],
    "scale 0.9/1.1": ["id", "x0.9", "x1.1"],
    "scale 0.95/1.05": ["id", "x0.95", "x1.05"],
    "rot 8 + scale 0.9/1.1": ["id", "rot+8", "rot-8", "x0.9", "x1.1"],
    "rot 4 + scale 0.95/1.05": ["id", "rot+4", "rot-4", "x0.95", "x1.05"],
    "rot 8 + scale, combined": ["id", "rot+8", "rot-8", "x0.9", "x1.1", "rot+8 x1.1", "rot-8 x0.9"],
    "shift + rot 8 + scale": ["id", *SHIFTS, "rot+8", "rot-8", "x0.9", "x1.1"],
}
OTHERS = ["seed", "deep", "regularized", "simple"]
# What every traced reader takes: a batch of prepared images.
IMAGES = tf.TensorSpec([None, config.IMAGE_SIZE, config.IMAGE_SIZE, 1], tf.float32)


@dataclass(frozen=True)
class Reader:
    """One way of reading a drawing: which models (with weights), how combined, and in which views."""

    name: str
    models: dict[str, float]  # model name -> weight
    views: tuple[str, ...] = ("id",)  # each model's softmax is averaged over these
    geometric: bool = False  # combine models by mean log-probability instead of mean probability


def view_transform(view: tuple[float, float, float, float], centre=CENTRE) -> np.ndarray:
    """keras.ops.image.affine_transform's 8 numbers (output pixel -> input pixel) for one view.

    The view moves the digit by (rows, columns) pixels, turns it anticlockwise by degrees and
    scales it, both about ``centre`` (row, column).
    """
    rows, cols, degrees, scale = view
    cy, cx = centre
    a = np.deg2rad(degrees)
    # Screen rows grow downwards, so an anticlockwise turn is a clockwise one in (x, y): input = R(a) (out - c - d) / s + c.
    cos, sin = np.cos(a) / scale, np.sin(a) / scale
    ox, oy = cx + cols, cy + rows
    return np.array([cos, -sin, cx - cos * ox + sin * oy,
                     sin, cos, cy - sin * ox - cos * oy, 0, 0], np.float32)


def views_of(images: tf.Tensor, names: list[str] | tuple[str, ...]) -> tf.Tensor:
    """Each image in each view, view-major: (N, 28, 28, 1) -> (V * N, 28, 28, 1)."""
    n = tf.shape(images)[0]
    transforms = tf.repeat(tf.constant(np.stack([view_transform(VIEWS[v]) for v in names])), n, axis=0)
    tiled = tf.tile(images, [len(names), 1, 1, 1])
    return keras.ops.image.affine_transform(tiled, transforms, interpolation="bilinear", fill_mode="constant")


def combine(per_model: list[np.ndarray], weights: list[float], geometric: bool) -> np.ndarray:
    """Weighted mean of (N, 10) probabilities, or of their logs renormalised to sum to 1."""
    w = np.asarray(weights, np.float64)[:, None, None] / sum(weights)
    stack = np.stack(per_model).astype(np.float64)  # (M, N, 10)
    if not geometric:
        return (w * stack).sum(0)
    logs = (w * np.log(np.clip(stack, 1e-12, 1))).sum(0)
    probs = np.exp(logs - logs.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True)


class Probabilities:
    """Each model's softmax on each family in each view, computed once on first use."""

    def __init__(self, sets: dict[str, tuple[np.ndarray, np.ndarray]], models: dict[str, keras.Model]):
        self.sets, self.models, self.cache = sets, models, {}
        self.forward = {name: tf.function(lambda x, m=m: m(x, training=False), input_signature=[IMAGES])
                        for name, m in models.items()}

    def of(self, model: str, family: str, view: str) -> np.ndarray:
        key = (model, family, view)
        if key not in self.cache:
            images = tf.constant(self.sets[family][0][..., None])  # (N, 28, 28, 1)
            batches = [views_of(images[i:i + 2000], [view]) for i in range(0, len(images), 2000)]
            self.cache[key] = np.concatenate([self.forward[model](b).numpy() for b in batches])
        return self.cache[key]

    def read(self, reader: Reader, family: str) -> np.ndarray:
        per_model = [np.mean([self.of(m, family, v) for v in reader.views], axis=0) for m in reader.models]
        return combine(per_model, list(reader.models.values()), reader.geometric)


def traced(reader: Reader, models: dict[str, keras.Model]):
    """The reader as the app would run it: one traced function, every view and model in one call."""
    names, weights = list(reader.models), tf.constant(list(reader.models.values()), tf.float32)

    def forward(x):  # (N, 28, 28, 1) -> (N, 10)
        n, v = tf.shape(x)[0], len(reader.views)
        batch = views_of(x, reader.views) if reader.views != ("id",) else x
        per_model = [tf.reduce_mean(tf.reshape(models[m](batch, training=False), [v, n, 10]), 0) for m in names]
        stack, w = tf.stack(per_model), weights[:, None, None] / tf.reduce_sum(weights)
        if reader.geometric:
            return tf.nn.softmax(tf.reduce_sum(w * tf.math.log(stack + 1e-12), 0))
        return tf.reduce_sum(w * stack, 0)

    return tf.function(forward, input_signature=[IMAGES])


def time_ratio(fn, base, repeats: int) -> float:
    """Median time of fn() over median time of base(), the two called in turn so both see the same load."""
    fn(), fn(), base(), base()
    times = {fn: [], base: []}
    for _ in range(repeats):
        for f in (base, fn):
            start = time.perf_counter()
            f()
            times[f].append(time.perf_counter() - start)
    return statistics.median(times[fn]) / statistics.median(times[base])


def load_families(count: int, seeds: list[int], cache: Path | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST test once and each drawn family pooled over seeds: images (N, 28, 28) float32, labels (N,)."""
    _, (x_test, y_test) = data.load_mnist()
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for seed in seeds:
        path = cache / f"families_{count}_{seed}.npz" if cache else None
        if path and path.exists():
            with np.load(path) as f:
                drawn = {name: (f[f"{name}/images"], f[f"{name}/labels"])
                         for name in sorted({k.split("/")[0] for k in f.files})}
        else:
            drawn = {k: v for k, v in families(x_test, y_test, count, seed).items() if k != "MNIST test"}
            if path:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(path, **{f"{k}/images": v[0] for k, v in drawn.items()},
                                    **{f"{k}/labels": v[1] for k, v in drawn.items()})
        for name, pair in drawn.items():
            pooled.setdefault(name, []).append(pair)
    order = ["redrawn", "pen", "fonts"]  # bench.families' order
    return {"MNIST test": (x_test.astype(np.float32) / 255, y_test),
            **{k: tuple(np.concatenate(part) for part in zip(*pooled[k])) for k in order if k in pooled}}


def scores(probs: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    """Which digits are read right (N,) bool, and the ECE."""
    correct = probs.argmax(1) == labels
    return correct, calibration.ece(probs.max(1).clip(0, 1), correct)


def cell(correct: np.ndarray, ece: float) -> str:
    """Accuracy ±1 standard error (ECE)."""
    p, n = correct.mean(), len(correct)
    return f"{p:.2%} ±{np.sqrt(p * (1 - p) / n):.2%} ({ece:.4f})"


def gain(correct: np.ndarray, reference: np.ndarray) -> str:
    """Accuracy change in points ±1 paired standard error."""
    d = correct.astype(float) - reference.astype(float)
    return f"{d.mean() * 100:+.2f} ±{d.std(ddof=1) / np.sqrt(len(d)) * 100:.2f}"


STRONG = Reader("strong", {"strong": 1})


def readers() -> list[Reader]:
    """strong alone, then each TTA of strong, then each ensemble."""
    out = [STRONG] + [Reader(f"strong, TTA {name} [{len(views)}]", {"strong": 1}, tuple(views))
                      for name, views in TTA.items()]
    four = {"strong": 1, "deep": 1, "regularized": 1, "seed": 1}
    for geometric, how in [(False, "mean"), (True, "geo")]:
        out += [Reader(f"strong + {other} ({how})", {"strong": 1, other: 1}, geometric=geometric) for other in OTHERS]
        out += [Reader(f"strong + deep + regularized + seed ({how})", four, geometric=geometric),
                Reader(f"strong x2 + deep + regularized + seed ({how})", {**four, "strong": 2}, geometric=geometric),
                Reader(f"strong x2 + seed ({how})", {"strong": 2, "seed": 1}, geometric=geometric)]
    return out


def print_tables(rows: dict, sets: dict, drawn: list[str]) -> None:
    """The accuracy table, then each reader's change against strong alone."""
    def mean_drawn(results: dict) -> float:
        return float(np.mean([results[f][0].mean() for f in drawn]))

    header = " | ".join(f"{f} (n={len(sets[f][1])})" for f in sets)
    print(f"| reader | time | {header} |\n|---|---|" + "---|" * len(sets))
    for name, (_, results, ratio) in rows.items():
        print(f"| {name} | {ratio:.2f}x | " + " | ".join(cell(*results[f]) for f in sets) + " |")
    print("\nChange against strong alone on the same digits, points ±1 paired s.e.\n")
    print(f"| reader | {' | '.join(sets)} | mean drawn |\n|---|" + "---|" * (len(sets) + 1))
    reference = rows[STRONG.name][1]
    for name, (_, results, _) in list(rows.items())[1:]:
        cells = " | ".join(gain(results[f][0], reference[f][0]) for f in sets)
        print(f"| {name} | {cells} | {(mean_drawn(results) - mean_drawn(reference)) * 100:+.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="digits per drawn family and seed (default: 1000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="drawing seeds, pooled (default: 0 1)")
    parser.add_argument("--only", nargs="+", default=None,
                        help="measure only strong and the readers whose names start with these (default: all)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="folder to keep the rendered families in between runs (default: render every run)")
    parser.add_argument("--repeats", type=int, default=200, help="timed calls per latency figure (default: 200)")
    args = parser.parse_args()

    one_thread_per_op()  # as the app runs, so the latency ratios are the app's
    start = time.perf_counter()
    sets = load_families(args.count, args.seeds, args.cache)
    drawn = [f for f in sets if f != "MNIST test"]
    models = {name: artifacts.load_model(artifacts.model_dir(name) / config.MODEL_FILE) for name in ["strong", *OTHERS]}
    probs = Probabilities(sets, models)
    one = tf.constant(sets["pen"][0][:1, ..., None])  # one drawing, as the draw page reads it
    base = traced(STRONG, models)

    rows = {}  # reader name -> (reader, {family: (correct (N,) bool, ece)}, time ratio to strong)

    def measure(reader: Reader) -> None:
        results = {f: scores(probs.read(reader, f), labels) for f, (_, labels) in sets.items()}
        fn = traced(reader, models)
        rows[reader.name] = (reader, results, time_ratio(lambda: fn(one).numpy(), lambda: base(one).numpy(),
                                                         args.repeats))
        print(f"  {reader.name}: {time.perf_counter() - start:.0f} s", flush=True)

    for reader in readers():
        if args.only is None or reader is STRONG or reader.name.startswith(tuple(args.only)):
            measure(reader)

    def mean_drawn(row) -> float:
        return float(np.mean([row[1][f][0].mean() for f in drawn]))

    tta = [row[0] for row in rows.values() if len(row[0].models) == 1 and row[0] is not STRONG]
    ensembles = [row[0] for row in rows.values() if len(row[0].models) > 1]
    if tta and ensembles:  # the best TTA on the best ensemble, by mean accuracy on the drawn families
        views = max(tta, key=lambda r: mean_drawn(rows[r.name])).views
        best = max(ensembles, key=lambda r: mean_drawn(rows[r.name]))
        name = next(name for name, v in TTA.items() if tuple(v) == views)
        measure(Reader(f"{best.name} + TTA {name} [{len(views)}]", best.models, views, best.geometric))

    base_ms = median_ms(lambda: base(one).numpy(), args.repeats)
    print(f"\nstrong alone on one drawing: {base_ms:.2f} ms (median of {args.repeats}, one thread per op)")
    alone = probs.forward["strong"]  # the model on k copies of the drawing: a batch's cost without making views
    batches = {k: tf.repeat(one, k, axis=0) for k in (3, 5, 7, 9)}
    print("strong on a batch of k images, no views made, time / batch of 1: " + ", ".join(
        f"k={k} {time_ratio(lambda b=b: alone(b).numpy(), lambda: alone(one).numpy(), args.repeats):.2f}x"
        for k, b in batches.items()))
    if args.seeds[0] == 0:
        first = {f: scores(probs.read(STRONG, f)[:args.count], sets[f][1][:args.count]) for f in drawn}
        print(f"strong, seed 0 only (as bench.families --count {args.count}): "
              + ", ".join(f"{f} {c.mean():.2%} ({e:.4f})" for f, (c, e) in first.items()))
    print(f"\nAccuracy ±1 s.e. (ECE, 15 bins); drawn families pooled over seeds {'+'.join(map(str, args.seeds))}; "
          "[k] = views per drawing; time = one drawing's forward pass / strong's\n")
    print_tables(rows, sets, drawn)
    print(f"\nelapsed {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
