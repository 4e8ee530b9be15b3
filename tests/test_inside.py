"""Inside the CNN: feature-map shapes, filters, saliency, dense activations."""

import numpy as np
import pytest

from digits import inside, network
from digits.inference import load_classifier
from digits.preprocess import canvas_to_mnist
from tests.conftest import stroke_canvas

# Expected (H, W, C) of every convolution's output, from each architecture's definition.
SHAPES = {
    "seed": [(26, 26, 32), (11, 11, 64), (3, 3, 64)],
    "simple": [(26, 26, 32)],
    "deep": [(26, 26, 32), (11, 11, 64), (3, 3, 128)],
    "regularized": [(24, 24, 32), (10, 10, 64)],
    "strong": [(26, 26, 32), (24, 24, 32), (12, 12, 32), (10, 10, 64), (8, 8, 64), (4, 4, 64)],
}


@pytest.mark.parametrize("arch", list(network.ARCHITECTURES))
def test_feature_map_shapes_for_every_architecture(arch):
    maps = inside.feature_maps(network.build(arch), np.zeros((28, 28), np.float32))
    assert [m.shape for _, m in maps] == SHAPES[arch]


def test_strong_shows_maps_after_the_relu():
    maps = inside.feature_maps(network.build("strong"), np.random.default_rng(0).random((28, 28), np.float32))
    assert [name for name, _ in maps][0] == "conv1_relu"
    assert all(m.min() >= 0 for _, m in maps)


def test_first_filters_are_one_per_channel():
    assert inside.first_filters(network.build("seed")).shape == (32, 3, 3)
    assert inside.first_filters(network.build("regularized")).shape == (32, 5, 5)


@pytest.fixture(scope="module")
def drawn_seven():
    return canvas_to_mnist(stroke_canvas([(60, 70), (60, 250), (270, 130)], width=22))


def test_occlusion_is_on_the_ink_not_the_background(drawn_seven):
    classifier = load_classifier()
    target = int(classifier.predict_proba(drawn_seven[None]).argmax())
    heat = inside.occlusion(classifier.predict_proba, drawn_seven, target)
    assert heat.shape == (28, 28) and np.isfinite(heat).all() and heat.max() == pytest.approx(1.0)
    ink, background = drawn_seven > 0.5, drawn_seven == 0
    assert heat[ink].mean() > 2 * heat[background].mean()


def test_occlusion_scores_the_fall_for_the_answer_and_the_rise_for_another_class():
    # A stand-in "network": P(0) is the ink in the left half, P(1) the rest.
    def predict_proba(images):
        left = images[:, :, :14].sum(axis=(1, 2))
        total = images.sum(axis=(1, 2)) + 1e-9
        probs = np.zeros((len(images), 10), np.float32)
        probs[:, 0], probs[:, 1] = left / total, 1 - left / total
        return probs

    image = np.zeros((28, 28), np.float32)
    image[4:24, 4:8] = 1.0  # most ink on the left: the answer is 0
    image[4:24, 20:22] = 1.0
    for_zero = inside.occlusion(predict_proba, image, target=0)
    against_one = inside.occlusion(predict_proba, image, target=1)
    assert for_zero[10, 5] > 0.5 and for_zero[10, 21] == 0  # the left stroke made the 0
    assert against_one[10, 5] > 0.5 and against_one[10, 21] == 0  # ...and is what rules out a 1


def test_dense_activations_match_the_hidden_layer_width():
    name, acts = inside.dense_activations(network.build("seed"), np.zeros((28, 28), np.float32))
    assert name == "dense" and acts.shape == (64,) and (acts >= 0).all()
    with pytest.raises(ValueError, match="no hidden dense layer"):
        inside.dense_activations(network.build("simple"), np.zeros((28, 28), np.float32))
