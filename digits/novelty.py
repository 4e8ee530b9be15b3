"""Is it a digit at all? A distance on the network's own features.

Softmax must pick one of ten classes, so a star or a scribble still gets a
confident digit. The network's last hidden layer says more: digits of one
class sit in one cluster there, and drawings that are not digits land away
from every cluster. We fit one Gaussian per class with a shared covariance
(linear discriminant analysis) on MNIST *training* features and score a
drawing by its smallest Mahalanobis distance to a class mean, squared. The
threshold is a high quantile of the scores of held-out training digits drawn
on the canvas, so it is chosen without any non-digit. Saved per model as
``model/<name>/novelty.npz`` (a few tens of kB).

    python -m digits.novelty --all      # fit and write novelty.npz for every shipped model
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from digits import artifacts, config
from digits.atomic import write_bytes_atomic

NOVELTY_FILE = "novelty.npz"
# Share of held-out drawn training digits allowed above the threshold.
FALSE_FLAG_RATE = 0.002
# Where the last hidden layer is wider than this (the `simple` model feeds its flattened
# feature maps straight to the output), the ten logits are the features instead.
MAX_FEATURES = 256
# Added to the covariance's diagonal, relative to its mean variance: dead ReLU units have none.
RIDGE = 1e-3


def feature_model(model: keras.Model) -> keras.Model:
    """A model giving (features, probabilities) in one pass; the features are the last layer's input.

    Where the last hidden layer is wider than `MAX_FEATURES`, the features are the logits.
    """
    last = model.layers[-1]
    features = last.input
    if features.shape[-1] > MAX_FEATURES:
        features = keras.ops.matmul(features, last.kernel) + last.bias
    return keras.Model(model.inputs[0], [features, model.outputs[0]])


@dataclass(frozen=True)
class Novelty:
    """A not-a-digit score on a model's features: Mahalanobis distance and a linear rejection class."""

    means: np.ndarray  # (10, D) float32: each class's mean feature vector
    whiten: np.ndarray  # (D, D) float32: W with W W^T = inverse shared covariance
    centre: np.ndarray  # (D + 1,) float32: mean of the rejection class's inputs
    scale: np.ndarray  # (D + 1,) float32: their standard deviation
    weights: np.ndarray  # (D + 1,) float32: the rejection class's weights
    bias: float
    threshold: float  # scores above this are not digits

    def distance(self, features: np.ndarray) -> np.ndarray:
        """(N,) float32 squared Mahalanobis distance of (N, D) features to the nearest class mean."""
        z = np.asarray(features, np.float32) @ self.whiten  # (N, D)
        m = self.means @ self.whiten  # (10, D)
        d2 = (z**2).sum(1)[:, None] - 2 * z @ m.T + (m**2).sum(1)[None, :]  # (N, 10)
        return np.maximum(d2.min(axis=1), 0.0).astype(np.float32)

    def score(self, features: np.ndarray) -> np.ndarray:
        """How much (N, D) features look like a non-digit: (N,) float32 log-odds, higher is less digit-like."""
        inputs = _inputs(features, self.distance(features))
        return ((inputs - self.centre) / self.scale @ self.weights + self.bias).astype(np.float32)

    def flags(self, features: np.ndarray) -> np.ndarray:
        """(N,) bool ndarray: True where the features are too far from every class to be a digit."""
        return self.score(features) > self.threshold


def _inputs(features: np.ndarray, distance: np.ndarray) -> np.ndarray:
    # The features themselves, and the log of the distance (its tail is long).
    return np.concatenate([np.asarray(features, np.float32), np.log1p(distance)[:, None]], axis=1)


def fit(digits: np.ndarray, labels: np.ndarray, non_digits: np.ndarray, held_out: np.ndarray,
        rate: float = FALSE_FLAG_RATE) -> Novelty:
    """Fit the class Gaussians and the rejection class, and set the threshold on held-out digits.

    Parameters
    ----------
    digits : (N, D) float ndarray
        Features of training digits (MNIST's, and drawn ones).
    labels : (N,) int ndarray
        Their classes, 0 to 9.
    non_digits : (K, D) float ndarray
        Features of generated non-digits for the rejection class.
    held_out : (M, D) float ndarray
        Features of digits in neither set (held-out training digits drawn on the canvas);
        the threshold leaves ``rate`` of them above it.

    Returns
    -------
    Novelty
    """
    from sklearn.linear_model import LogisticRegression

    digits = np.asarray(digits, np.float64)
    means = np.stack([digits[labels == k].mean(0) for k in range(config.NUM_CLASSES)])  # (10, D)
    centred = digits - means[labels]
    cov = centred.T @ centred / len(digits)
    cov += RIDGE * np.trace(cov) / len(cov) * np.eye(len(cov))
    whiten = np.linalg.cholesky(np.linalg.inv(cov)).astype(np.float32)  # W W^T = cov^-1
    gauss = Novelty(means.astype(np.float32), whiten, np.zeros(1), np.ones(1), np.zeros(1), 0.0, 0.0)
    x = np.concatenate([_inputs(f, gauss.distance(f)) for f in (digits, non_digits)])
    y = np.r_[np.zeros(len(digits)), np.ones(len(non_digits))]
    centre, scale = x.mean(0), x.std(0) + 1e-6
    # Balanced: the few thousand non-digits weigh as much as the tens of thousands of digits.
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit((x - centre) / scale, y)
    scorer = Novelty(gauss.means, whiten, centre.astype(np.float32), scale.astype(np.float32),
                     clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), 0.0)
    threshold = float(np.quantile(scorer.score(held_out), 1 - rate))
    return Novelty(**{**scorer.__dict__, "threshold": threshold})


def save(novelty: Novelty, path: Path) -> None:
    """Write ``novelty`` to ``path`` (an .npz), atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v, np.float32) for k, v in novelty.__dict__.items()})
    write_bytes_atomic(Path(path), buffer.getvalue())


def load(path: Path) -> Novelty | None:
    """The scorer saved at ``path``, or None when there is none."""
    if not Path(path).exists():
        return None
    with np.load(path) as saved:
        fields = {k: saved[k] for k in saved.files}
    return Novelty(**{k: float(v) if v.ndim == 0 else v for k, v in fields.items()})


def features_of(model: keras.Model, images: np.ndarray, batch: int = 1000) -> np.ndarray:
    """(N, D) float32 features of (N, 28, 28) float32 images in [0, 1], in batches."""
    probe = feature_model(model)
    parts = [np.asarray(probe(images[i : i + batch, ..., None], training=False)[0]) for i in range(0, len(images), batch)]
    return np.concatenate(parts)


@dataclass(frozen=True)
class FittingImages:
    """Prepared 28x28 inputs a scorer is fitted on: all from MNIST *training* digits or generated non-digits."""

    digits: np.ndarray  # (N, 28, 28) float32: MNIST training digits, and some drawn on the canvas
    labels: np.ndarray  # (N,) their classes
    non_digits: np.ndarray  # (K, 28, 28) float32: support.nondigits.fitting_set, prepared
    held_out: np.ndarray  # (M, 28, 28) float32: held-out training digits drawn on the canvas, prepared


def fitting_images(x_train: np.ndarray, y_train: np.ndarray, held: int = 3000, drawn: int = 3000,
                   per_kind: int = 300, seed: int = 11) -> FittingImages:
    """Render and prepare everything `fit` needs from MNIST's training split (a few minutes on 2 cores)."""
    from digits.preprocess import canvas_to_mnist
    from digits.training import split_validation
    from support.drawings import random_drawings
    from support.nondigits import fitting_set

    def prepared(canvases):
        return np.stack([canvas_to_mnist(c) for c in canvases])

    (x_fit, y_fit), (x_held, _) = split_validation(x_train, y_train, held, seed)
    pick = np.random.default_rng(seed).choice(len(y_fit), drawn, replace=False)
    others = fitting_set(x_fit, per_kind=per_kind)
    return FittingImages(
        digits=np.concatenate([x_fit.astype(np.float32) / 255, prepared(random_drawings(x_fit[pick], seed=seed + 1))]),
        labels=np.concatenate([y_fit, y_fit[pick]]),
        non_digits=prepared(np.concatenate(list(others.values()))),
        held_out=prepared(random_drawings(x_held, seed=seed)),
    )


def fit_model(name: str, images: FittingImages) -> tuple[Novelty, Path]:
    """Fit model ``name``'s scorer on ``images`` and write it beside the model, as novelty.npz."""
    folder = artifacts.model_dir(name)
    model = artifacts.load_model(folder / config.MODEL_FILE)
    novelty = fit(features_of(model, images.digits), images.labels, features_of(model, images.non_digits),
                  features_of(model, images.held_out))
    save(novelty, folder / NOVELTY_FILE)
    return novelty, folder / NOVELTY_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="model folders to fit (default: the default model)")
    parser.add_argument("--all", action="store_true", help="fit every shipped model")
    parser.add_argument("--seed", type=int, default=11, help="seed for the held-out split and drawing (default: 11)")
    args = parser.parse_args()

    from digits import data

    names = artifacts.list_models() if args.all else (args.models or [config.DEFAULT_MODEL])
    (x_train, y_train), _ = data.load_mnist()
    start = time.perf_counter()
    images = fitting_images(x_train, y_train, seed=args.seed)
    print(f"{len(images.labels)} digits, {len(images.non_digits)} non-digits and {len(images.held_out)} held-out "
          f"drawn digits prepared in {time.perf_counter() - start:.0f} s")
    for name in names:
        start = time.perf_counter()
        novelty, path = fit_model(name, images)
        print(f"{name:12s} {novelty.means.shape[1]:4d} features  threshold {novelty.threshold:6.2f}  "
              f"{path.stat().st_size / 1024:6.1f} kB  {time.perf_counter() - start:5.1f} s")


if __name__ == "__main__":
    main()
