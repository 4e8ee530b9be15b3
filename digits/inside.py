"""What happens inside a CNN: feature maps, filters, occlusion maps, dense activations.

Pure functions over a Keras model and one 28x28 input; nothing here draws.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


def conv_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's convolutional layers, input to output."""
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def _shown_output(model: keras.Model, conv: keras.layers.Layer) -> keras.layers.Layer:
    # Where a convolution is followed by batch norm and a separate ReLU
    # (`strong`), the ReLU's output is what the next layer sees.
    names = {layer.name: layer for layer in model.layers}
    return names.get(f"{conv.name}_relu", conv)


def feature_maps(model: keras.Model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The activations of every convolutional layer for one image.

    Parameters
    ----------
    image : (28, 28) float32 ndarray in [0, 1]

    Returns
    -------
    list of (layer name, (H, W, C) float32 ndarray)
    """
    layers = [_shown_output(model, conv) for conv in conv_layers(model)]
    probe = keras.Model(model.inputs[0], [layer.output for layer in layers])
    outputs = probe(image[None, ..., None].astype(np.float32), training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [(layer.name, np.asarray(out)[0]) for layer, out in zip(layers, outputs)]


def first_filters(model: keras.Model) -> np.ndarray:
    """The first convolution's kernels.

    Returns
    -------
    (C, k, k) float32 ndarray
        One k x k filter per output channel (the input has one channel).
    """
    kernel = np.asarray(conv_layers(model)[0].kernel)  # (k, k, 1, C)
    return np.moveaxis(kernel[:, :, 0, :], -1, 0)


def occlusion(
    predict_proba: Callable[[np.ndarray], np.ndarray], image: np.ndarray, target: int, patch: int = 6, stride: int = 2
) -> np.ndarray:
    """Which parts of the image decide for or against class ``target``, found by erasing them.

    Every ``patch`` x ``patch`` square (moved by ``stride``) is blanked in turn
    and the probability of ``target`` measured again, all copies in one batch.
    For the class the network chose, a pixel scores the fall in probability
    when it is erased: the ink that made the answer. For any other class it
    scores the rise: the ink that rules that class out ("why not 9?").

    Parameters
    ----------
    predict_proba : callable
        (N, 28, 28) float32 -> (N, 10) probabilities, e.g. `Classifier.predict_proba`.
    image : (28, 28) float32 ndarray in [0, 1]

    Returns
    -------
    (28, 28) float32 ndarray in [0, 1], largest value 1
        All zeros when erasing nothing changes the probability that way.
    """
    size = image.shape[0]
    corners = [(r, c) for r in range(0, size - patch + 1, stride) for c in range(0, size - patch + 1, stride)]
    batch = np.repeat(image[None], len(corners) + 1, axis=0).astype(np.float32)
    for k, (r, c) in enumerate(corners, start=1):
        batch[k, r : r + patch, c : c + patch] = 0.0
    probs = predict_proba(batch)[:, target]
    chosen = int(predict_proba(image[None].astype(np.float32))[0].argmax()) == target
    change = probs[0] - probs[1:] if chosen else probs[1:] - probs[0]  # (K,)
    total = np.zeros(image.shape, np.float64)
    covered = np.zeros(image.shape, np.float64)
    for (r, c), delta in zip(corners, change):
        total[r : r + patch, c : c + patch] += delta
        covered[r : r + patch, c : c + patch] += 1
    heat = np.maximum(total / np.maximum(covered, 1), 0.0)
    peak = heat.max()
    return (heat / peak if peak > 0 else heat).astype(np.float32)


def dense_activations(model: keras.Model, image: np.ndarray) -> tuple[str, np.ndarray]:
    """The activations of the last hidden dense layer (after its ReLU).

    Returns
    -------
    (layer name, (units,) float32 ndarray)
    """
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)][:-1]
    if not dense:
        raise ValueError(f"model {model.name!r} has no hidden dense layer")
    layer = _shown_output(model, dense[-1])
    probe = keras.Model(model.inputs[0], layer.output)
    return layer.name, np.asarray(probe(image[None, ..., None].astype(np.float32), training=False))[0]
