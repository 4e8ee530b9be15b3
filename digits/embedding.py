"""Where a drawing lands: a 2-D map of the network's last hidden layer for a sample of test digits.

The map covers a stratified, seeded sample of the test set (250 digits of each
class) and is saved per model as ``model/<name>/map.npz``. It holds the
sample's images, labels and predictions, their last-hidden-layer features
reduced by PCA (mean and components kept, so a new drawing is projected the
same way), and their 2-D t-SNE coordinates. t-SNE cannot place a new point, so
a drawing is placed at the distance-weighted mean of the 2-D coordinates of
its nearest sample digits in feature space.

    python -m digits.embedding --model strong     # build model/strong/map.npz
    python -m digits.embedding --all              # every model in model/
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import keras
import numpy as np

from digits import artifacts, config, evaluate
from digits.atomic import atomic_path

MAP_FILE = config.MAP_FILE
PER_CLASS = 250  # 2,500 of the 10,000 test digits: enough to see the clusters, under 1 MB on disk
FEATURE_DIMS = 32  # PCA keeps this many directions of a wider layer
TSNE_STEPS = 500  # half sklearn's default: the clusters have settled by then, in half the time
NEIGHBOURS = 8  # sample digits whose 2-D positions place a new drawing
# The arrays a map file must hold, so a damaged or older file is refused by name.
MAP_KEYS = ("index", "images", "labels", "predictions", "features", "mean", "components", "component_scale", "xy",
            "layer", "test_size", "model_sha256")


def feature_layer(model: keras.Model) -> keras.layers.Layer:
    """The last hidden layer: what the final (classifier) dense layer reads.

    Dropout is the identity at inference, so it is skipped. Where a dense layer
    is followed by batch norm and a separate ReLU (``strong``), that ReLU is
    found, as in `digits.inside.dense_activations`; a model without a hidden
    dense layer (``simple``) gives its flattened convolution features.
    """
    layers = list(model.layers)
    classifier = [layer for layer in layers if isinstance(layer, keras.layers.Dense)][-1]
    for layer in reversed(layers[: layers.index(classifier)]):
        if not isinstance(layer, (keras.layers.Dropout, keras.layers.InputLayer)):
            return layer
    raise ValueError(f"model {model.name!r} has no layer before its classifier")


def features(model: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The last hidden layer's activations for a batch of images.

    Parameters
    ----------
    images : (N, 28, 28) float32 ndarray in [0, 1], or uint8 in [0, 255]

    Returns
    -------
    (N, D) float32 ndarray
        D is the layer's width (128 for ``strong``, 5408 for ``simple``).
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (config.IMAGE_SIZE, config.IMAGE_SIZE):
        raise ValueError(f"expected images of shape (N, 28, 28), got {images.shape}")
    probe = keras.Model(model.inputs[0], feature_layer(model).output)
    return _in_batches(probe, images, batch_size).reshape(len(images), -1)


def _in_batches(net: keras.Model, images: np.ndarray, batch_size: int = 500) -> np.ndarray:
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    out = [np.asarray(net(images[i : i + batch_size, ..., None].astype(np.float32) / scale, training=False))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32)


def project(map_: dict[str, np.ndarray], feats: np.ndarray) -> np.ndarray:
    """Layer features -> the map's reduced feature space, as the sample was reduced.

    Parameters
    ----------
    feats : (N, D) or (D,) float ndarray

    Returns
    -------
    (N, d) or (d,) float32 ndarray
    """
    centred = np.asarray(feats, np.float32) - map_["mean"]
    return centred @ (map_["components"] * map_["component_scale"][:, None]).T  # int8 -> float32


def nearest(map_: dict[str, np.ndarray], feature_vector: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Positions in the map of the ``k`` sample digits closest to one image's features, closest first.

    Parameters
    ----------
    feature_vector : (D,) float ndarray
        The last hidden layer's activations for one image (`features`).

    Returns
    -------
    (k,) int64 ndarray of positions in the map (not test-set indices: ``map_["index"]`` maps them).
    """
    distances = _distances(map_, feature_vector)
    return np.argsort(distances, kind="stable")[:k]


def place(map_: dict[str, np.ndarray], feature_vector: np.ndarray,
          k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Where a new image lands on the map, and its nearest sample digits.

    The 2-D position is the inverse-square-distance-weighted mean of the
    ``k`` nearest sample digits' coordinates, so a sample digit's own features
    land on its own point.

    Parameters
    ----------
    feature_vector : (D,) float ndarray

    Returns
    -------
    xy : (2,) float64 ndarray
    neighbours : (k,) int64 ndarray of positions in the map, closest first
    """
    distances = _distances(map_, feature_vector)
    neighbours = np.argsort(distances, kind="stable")[:k]
    weights = 1.0 / (distances[neighbours].astype(np.float64) ** 2 + 1e-12)
    xy = (weights[:, None] * map_["xy"][neighbours]).sum(axis=0) / weights.sum()
    return xy, neighbours


def _distances(map_: dict[str, np.ndarray], feature_vector: np.ndarray) -> np.ndarray:
    feature_vector = np.asarray(feature_vector)
    if feature_vector.shape != map_["mean"].shape:
        raise ValueError(f"expected the features of one image, shape {map_['mean'].shape}, got {feature_vector.shape}")
    return np.linalg.norm(map_["features"].astype(np.float32) - project(map_, feature_vector), axis=1)  # (n,)


def build_map(model: keras.Model, images: np.ndarray, labels: np.ndarray, probs: np.ndarray | None = None,
              seed: int = 1, per_class: int = PER_CLASS) -> dict[str, np.ndarray]:
    """The map of a stratified, seeded sample of a test set.

    Parameters
    ----------
    images : (N, 28, 28) uint8 ndarray
        The whole test set; ``per_class`` digits of each class are drawn from it
        (fewer where a class has fewer, as in a dry run's subset).
    labels : (N,) int ndarray
    probs : (N, 10) float ndarray, optional
        The model's probabilities for ``images``; by default computed for the sample only.

    Returns
    -------
    dict of arrays, as saved in ``map.npz``: ``index`` (n,) int32 into the test set,
    ``images`` (n, 28, 28) uint8, ``labels`` and ``predictions`` (n,) uint8,
    ``features`` (n, d) float16, ``mean`` (D,) float32, ``components`` (d, D) int8 and
    ``component_scale`` (d,) float32 (the PCA reducer),
    ``xy`` (n, 2) float32, ``layer`` and ``model_sha256`` str, ``test_size`` int.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    per_class = min(per_class, int(np.bincount(labels, minlength=config.NUM_CLASSES).min()))
    index = np.sort(evaluate.class_samples(labels, per_class, seed=seed))  # (n,)
    feats = features(model, images[index])  # (n, D)
    pca = PCA(n_components=min(FEATURE_DIMS, *feats.shape), svd_solver="randomized", random_state=seed).fit(feats)
    # int8 components keep `simple`'s 32 x 5408 reducer at 170 KB; the sample is projected
    # with the components as stored, so a sample digit read again finds itself.
    scale = np.abs(pca.components_).max(axis=1) / 127  # (d,)
    map_ = {"mean": pca.mean_.astype(np.float32),
            "components": np.round(pca.components_ / scale[:, None]).astype(np.int8),
            "component_scale": scale.astype(np.float32)}
    reduced = project(map_, feats)  # (n, d)
    tsne = TSNE(n_components=2, perplexity=min(30.0, (len(index) - 1) / 3), init="pca", max_iter=TSNE_STEPS,
                random_state=seed)
    xy = tsne.fit_transform(reduced.astype(np.float64))  # (n, 2)
    if probs is None:  # only the sample's answers are needed
        predictions = _in_batches(model, images[index])
    else:
        predictions = np.asarray(probs)[index]
    return {
        **map_,
        "index": index.astype(np.int32),
        "images": images[index].astype(np.uint8),
        "labels": labels[index].astype(np.uint8),
        "predictions": np.asarray(predictions).argmax(axis=1).astype(np.uint8),
        "features": reduced.astype(np.float16),
        "xy": xy.astype(np.float32),
        "layer": np.array(feature_layer(model).name),
        "test_size": np.array(len(images)),
        "model_sha256": np.array(""),
    }


def save_map(folder: Path, map_: dict[str, np.ndarray]) -> Path:
    """Write ``map_`` to ``folder/map.npz`` atomically; return the path."""
    path = Path(folder) / MAP_FILE
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **map_)
    return path


def load_map(folder: Path) -> dict[str, np.ndarray]:
    """Read ``folder/map.npz``; `digits.artifacts.ArtifactError` when it is missing or unreadable."""
    path = Path(folder) / MAP_FILE
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle: a file is data, not code
            map_ = {key: npz[key] for key in npz.files}
    except FileNotFoundError as error:
        raise artifacts.ArtifactError(f"no map at {path}") from error
    except (OSError, ValueError) as error:
        raise artifacts.ArtifactError(f"the map at {path} is unreadable: {error}") from error
    missing = [key for key in MAP_KEYS if key not in map_]
    if missing:
        raise artifacts.ArtifactError(f"the map at {path} lacks {', '.join(missing)}")
    return map_


def matches_model(map_: dict[str, np.ndarray], folder: Path) -> bool:
    """Whether ``map_`` was made from the model file now in ``folder`` (not an earlier training of it)."""
    return str(map_["model_sha256"]) == artifacts.sha256(Path(folder) / config.MODEL_FILE)


def build_for_model(folder: Path, test: tuple[np.ndarray, np.ndarray], seed: int = 1, model: keras.Model | None = None,
                    probs: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Build and save the map of the model saved in ``folder``, from the test set ``(x_test, y_test)``.

    ``model`` and ``probs`` (its test probabilities), when the caller has them,
    save loading the model again and predicting; ``model`` must be the one saved there.
    """
    x_test, y_test = test
    model = model if model is not None else artifacts.load_model(Path(folder) / config.MODEL_FILE)
    map_ = build_map(model, x_test, y_test, probs, seed=seed)
    map_["model_sha256"] = np.array(artifacts.sha256(Path(folder) / config.MODEL_FILE))
    save_map(folder, map_)
    return map_


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=config.DEFAULT_MODEL,
                        help=f"model folder name under {config.MODEL_DIR} (default: {config.DEFAULT_MODEL})")
    parser.add_argument("--all", action="store_true", help="build the map of every model (default: off)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the sample and of t-SNE (default: 1)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a folder with the MNIST IDX files (default: the cache, then download)")
    args = parser.parse_args(argv)

    from digits import data

    _, test = data.load_mnist(args.data_dir)
    for name in artifacts.list_models() if args.all else [args.model]:
        started = time.perf_counter()
        folder = artifacts.model_dir(name)
        map_ = build_for_model(folder, test, seed=args.seed)
        size = (folder / MAP_FILE).stat().st_size
        print(f"{name}: {len(map_['index']):,} test digits, layer {map_['layer']} "
              f"({map_['mean'].shape[0]} -> {map_['features'].shape[1]} dims), "
              f"{size / 1024:.0f} KiB, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
