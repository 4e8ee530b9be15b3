"""CNN architectures by name; each builder returns an uncompiled `keras.Model`."""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import layers

from digits.config import IMAGE_SIZE, NUM_CLASSES

INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def seed() -> keras.Model:
    """The original project's CNN: 93,322 parameters."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # (26, 26, 32)
            layers.MaxPooling2D(2, name="pool1"),  # (13, 13, 32)
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (11, 11, 64)
            layers.MaxPooling2D(2, name="pool2"),  # (5, 5, 64)
            layers.Conv2D(64, 3, activation="relu", name="conv3"),  # (3, 3, 64)
            layers.Flatten(name="flatten"),  # (576,)
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dropout(0.5, name="dropout"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="seed",
    )


def simple() -> keras.Model:
    """One convolution and a softmax: the baseline of the three-CNN comparison."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # (26, 26, 32)
            layers.MaxPooling2D(2, name="pool1"),  # (13, 13, 32)
            layers.Flatten(name="flatten"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="simple",
    )


def deep() -> keras.Model:
    """Three convolutions (32/64/128) and two dense layers (64, 32)."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 3, activation="relu", name="conv1"),  # (26, 26, 32)
            layers.MaxPooling2D(2, name="pool1"),  # (13, 13, 32)
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (11, 11, 64)
            layers.MaxPooling2D(2, name="pool2"),  # (5, 5, 64)
            layers.Conv2D(128, 3, activation="relu", name="conv3"),  # (3, 3, 128)
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense1"),
            layers.Dense(32, activation="relu", name="dense2"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="deep",
    )


def regularized() -> keras.Model:
    """A 5x5 then a 3x3 convolution, with dropout after every stage."""
    return keras.Sequential(
        [
            keras.Input(INPUT_SHAPE),
            layers.Conv2D(32, 5, activation="relu", name="conv1"),  # (24, 24, 32)
            layers.MaxPooling2D(2, name="pool1"),  # (12, 12, 32)
            layers.Dropout(0.25, name="dropout1"),
            layers.Conv2D(64, 3, activation="relu", name="conv2"),  # (10, 10, 64)
            layers.MaxPooling2D(2, name="pool2"),  # (5, 5, 64)
            layers.Dropout(0.25, name="dropout2"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dropout(0.5, name="dropout3"),
            layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities"),
        ],
        name="regularized",
    )


def _conv_bn(x, filters: int, kernel: int, name: str, strides: int = 1, padding: str = "valid"):
    # Batch norm makes the bias redundant, and the ReLU comes after the normalisation.
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def strong() -> keras.Model:
    """The default: two stages of three batch-normalised convolutions.

    Each stage is two 3x3 convolutions and a strided 5x5 one that replaces
    max-pooling with a learnt downsampling (the design of the best-known
    single-CNN Kaggle MNIST recipes, ~99.7 % with augmentation).
    """
    inputs = keras.Input(INPUT_SHAPE, name="image")
    x = _conv_bn(inputs, 32, 3, "conv1")  # (26, 26, 32)
    x = _conv_bn(x, 32, 3, "conv2")  # (24, 24, 32)
    x = _conv_bn(x, 32, 5, "conv3", strides=2, padding="same")  # (12, 12, 32)
    x = layers.Dropout(0.4, name="dropout1")(x)
    x = _conv_bn(x, 64, 3, "conv4")  # (10, 10, 64)
    x = _conv_bn(x, 64, 3, "conv5")  # (8, 8, 64)
    x = _conv_bn(x, 64, 5, "conv6", strides=2, padding="same")  # (4, 4, 64)
    x = layers.Dropout(0.4, name="dropout2")(x)
    x = layers.Flatten(name="flatten")(x)  # (1024,)
    x = layers.Dense(128, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="dense_bn")(x)
    x = layers.Activation("relu", name="dense_relu")(x)
    x = layers.Dropout(0.4, name="dropout3")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="strong")


ARCHITECTURES: dict[str, Callable[[], keras.Model]] = {
    "strong": strong,
    "seed": seed,
    "simple": simple,
    "deep": deep,
    "regularized": regularized,
}


def build(arch: str) -> keras.Model:
    """Build the named architecture (uncompiled)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch]()


def small_cnn(shape: tuple[int, ...], filters: tuple[int, ...], dense: int, dropout: float, outputs: int,
              name: str) -> keras.Model:
    """A helper network of the number reader (`digits.pairs`, `digits.verifier`): (N, *shape) -> (N, outputs) logits.

    Each of ``filters`` is a 3 x 3 same-padded ReLU convolution and a 2 x 2 max-pool; then one ReLU dense layer
    of ``dense`` units, dropout, and the logits.
    """
    inputs = keras.Input(shape)
    x = inputs
    for width in filters:
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, layers.Dense(outputs)(x), name=name)
