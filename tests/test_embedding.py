"""The map of the last hidden layer: features, the saved sample, placing a drawing, the figure."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from digits import artifacts, config, embedding, inside, map_chart, network
from tests.conftest import fake_split


def tiny_model() -> keras.Model:
    """Flatten -> 6 ReLU units -> dropout -> softmax: a known last hidden layer, in milliseconds."""
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(6, activation="relu", name="hidden"),
        keras.layers.Dropout(0.5, name="dropout"),
        keras.layers.Dense(10, activation="softmax", name="probabilities"),
    ])


@pytest.fixture(scope="module")
def tiny_map():
    _, (x, y) = fake_split(n_train=10, n_test=300)
    # Each image's ink, band by band, scaled at random: distinct hidden features, not six dead units.
    bands = np.random.default_rng(2).random((len(x), 28, 1))
    x = np.round(x * bands).astype(np.uint8)
    model = tiny_model()
    kernel = np.kron(np.eye(6), np.ones((131, 1)))[:784] / 131  # unit j: the mean of band j of rows
    model.get_layer("hidden").set_weights([kernel.astype(np.float32), np.zeros(6, np.float32)])
    probs = np.asarray(model(x[..., None].astype(np.float32) / 255))
    return model, x, y, probs, embedding.build_map(model, x, y, probs, seed=3, per_class=20)


def hand_map(features: np.ndarray, xy: np.ndarray) -> dict[str, np.ndarray]:
    """A map whose reducer is the identity: its feature space is the layer's own."""
    d = features.shape[1]
    return {"features": features.astype(np.float16), "xy": xy.astype(np.float32), "mean": np.zeros(d, np.float32),
            "components": np.eye(d, dtype=np.int8), "component_scale": np.ones(d, np.float32)}


@pytest.mark.parametrize("arch, layer", [("strong", "dense_relu"), ("seed", "dense"), ("deep", "dense2"),
                                         ("regularized", "dense"), ("simple", "flatten")])
def test_the_feature_layer_is_what_the_classifier_reads(arch, layer):
    model = network.build(arch)
    assert embedding.feature_layer(model).name == layer
    if arch != "simple":  # the Inside page's dense bars show the same layer
        assert inside.dense_activations(model, np.zeros((28, 28), np.float32))[0] == layer


def test_features_are_the_hidden_relu_activations():
    model = tiny_model()
    images = np.random.default_rng(1).random((5, 28, 28), dtype=np.float32)
    kernel, bias = (np.asarray(w) for w in model.get_layer("hidden").weights)
    expected = np.maximum(images.reshape(5, -1) @ kernel + bias, 0)  # (5, 6)
    np.testing.assert_allclose(embedding.features(model, images), expected, rtol=1e-5, atol=1e-5)
    # uint8 images are read as 0..255, as MNIST is stored
    as_bytes = np.round(images * 255).astype(np.uint8)
    np.testing.assert_allclose(embedding.features(model, as_bytes),
                               embedding.features(model, as_bytes.astype(np.float32) / 255), atol=1e-6)


def test_features_refuse_a_single_image_without_its_batch_axis():
    with pytest.raises(ValueError, match=r"expected images of shape \(N, 28, 28\)"):
        embedding.features(tiny_model(), np.zeros((28, 28), np.float32))


def test_the_sample_is_stratified_and_carries_what_the_page_shows(tiny_map):
    model, x, y, probs, map_ = tiny_map
    index = map_["index"]
    assert np.bincount(y[index], minlength=10).tolist() == [20] * 10
    assert len(set(index.tolist())) == 200
    np.testing.assert_array_equal(map_["images"], x[index])
    np.testing.assert_array_equal(map_["labels"], y[index])
    np.testing.assert_array_equal(map_["predictions"], probs[index].argmax(axis=1))
    shapes = {key: (map_[key].shape, map_[key].dtype) for key in ("images", "features", "components", "xy")}
    assert shapes == {"images": ((200, 28, 28), np.uint8), "features": ((200, 6), np.float16),
                      "components": ((6, 6), np.int8), "xy": ((200, 2), np.float32)}
    assert str(map_["layer"]) == "hidden" and int(map_["test_size"]) == 300


def test_the_sample_is_the_same_for_the_same_seed(tiny_map):
    model, x, y, probs, map_ = tiny_map
    again = embedding.build_map(model, x, y, probs, seed=3, per_class=20)
    np.testing.assert_array_equal(again["index"], map_["index"])
    np.testing.assert_array_equal(again["xy"], map_["xy"])


def test_without_probabilities_the_predictions_come_from_the_model(tiny_map):
    model, x, y, probs, map_ = tiny_map
    np.testing.assert_array_equal(embedding.build_map(model, x, y, seed=3, per_class=20)["predictions"],
                                  map_["predictions"])


def test_each_sample_digit_is_its_own_nearest(tiny_map):
    model, _, _, _, map_ = tiny_map
    feats = embedding.features(model, map_["images"])
    assert [embedding.nearest(map_, f, k=1)[0] for f in feats] == list(range(len(feats)))


def test_a_point_halfway_between_two_digits_lands_halfway_between_them():
    map_ = hand_map(np.array([[0.0, 0], [2, 0], [10, 10]]), np.array([[0.0, 0], [4, 2], [50, 50]]))
    xy, neighbours = embedding.place(map_, np.array([1.0, 0]), k=2)
    assert sorted(neighbours.tolist()) == [0, 1]
    np.testing.assert_allclose(xy, [2, 1], atol=1e-6)
    # A point nearer the first digit is pulled towards it: weights are 1 / distance squared.
    xy, _ = embedding.place(map_, np.array([0.5, 0]), k=2)  # distances 0.5 and 1.5: weights 9 to 1
    np.testing.assert_allclose(xy, [0.4, 0.2], atol=1e-6)
    assert embedding.nearest(map_, np.array([9.0, 9]), k=3).tolist() == [2, 1, 0]


def test_place_refuses_features_of_another_layer():
    map_ = hand_map(np.zeros((3, 2)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(2,\), got \(3,\)"):
        embedding.place(map_, np.zeros(3))


def test_the_map_file_round_trips_and_leaves_no_temporary(tiny_map, tmp_path):
    map_ = tiny_map[-1]
    path = embedding.save_map(tmp_path, map_)
    assert [p.name for p in tmp_path.iterdir()] == [embedding.MAP_FILE] == [path.name]
    loaded = embedding.load_map(tmp_path)
    assert set(loaded) == set(map_)
    for key, value in map_.items():
        assert loaded[key].dtype == value.dtype, key
        np.testing.assert_array_equal(loaded[key], value)


def test_a_missing_or_incomplete_map_is_an_artifact_error(tiny_map, tmp_path):
    with pytest.raises(artifacts.ArtifactError, match="no map at"):
        embedding.load_map(tmp_path)
    embedding.save_map(tmp_path, {k: v for k, v in tiny_map[-1].items() if k != "xy"})
    with pytest.raises(artifacts.ArtifactError, match="lacks xy"):
        embedding.load_map(tmp_path)


# --- The shipped maps --------------------------------------------------------------------------------

SHIPPED = [name for name in artifacts.list_models() if (artifacts.model_dir(name) / embedding.MAP_FILE).is_file()]


def test_every_shipped_model_has_a_small_current_map():
    assert SHIPPED == artifacts.list_models()
    for name in SHIPPED:
        folder = artifacts.model_dir(name)
        assert (folder / embedding.MAP_FILE).stat().st_size < 900_000, name
        map_ = embedding.load_map(folder)
        assert embedding.matches_model(map_, folder), f"{name}: rebuild with python -m digits.embedding --model {name}"
        assert len(map_["index"]) == 10 * embedding.PER_CLASS and int(map_["test_size"]) == 10_000


@pytest.mark.parametrize("name", [config.DEFAULT_MODEL, "simple"])
def test_a_shipped_test_digit_is_its_own_nearest_neighbour_and_lands_on_its_point(name):
    folder = artifacts.model_dir(name)
    map_ = embedding.load_map(folder)
    model = artifacts.load_model(folder / config.MODEL_FILE)
    feats = embedding.features(model, map_["images"])  # every one of the 2,500
    found = np.array([embedding.nearest(map_, f, k=1)[0] for f in feats])
    np.testing.assert_array_equal(found, np.arange(len(feats)))
    spread = np.ptp(map_["xy"], axis=0).max()
    for i in range(0, len(feats), 50):
        xy, neighbours = embedding.place(map_, feats[i])
        assert neighbours[0] == i
        np.testing.assert_allclose(xy, map_["xy"][i], atol=1e-4 * spread)


# --- The figure -------------------------------------------------------------------------------------

def test_the_figure_has_a_trace_per_digit_the_mistakes_and_the_star(tiny_map):
    map_ = tiny_map[-1]
    fig = map_chart.map_figure(map_, drawing_xy=np.array([1.0, 2.0]), neighbours=np.array([3, 4]))
    names = [trace.name for trace in fig.data]
    assert names == [str(d) for d in range(10)] + ["mistakes", "nearest", "your drawing"]
    # Every sample digit is in exactly one of the digit or mistake traces, by its position.
    shown = np.concatenate([np.asarray(trace.customdata) for trace in fig.data[:11]])
    assert sorted(shown.tolist()) == list(range(len(map_["xy"])))
    mistakes = fig.data[10]
    wrong = np.flatnonzero(map_["labels"] != map_["predictions"])
    np.testing.assert_array_equal(mistakes.customdata, wrong)
    assert mistakes.marker.symbol == "x"
    star = fig.data[-1]
    assert star.marker.symbol == "star" and (star.x, star.y) == ((1.0,), (2.0,)) and star.customdata is None


@pytest.mark.parametrize("selection, expected", [
    (None, None),
    ({"points": []}, None),
    ({"points": [{"customdata": 17}]}, 17),
    ({"points": [{"customdata": [42]}]}, 42),
    ({"points": [{"x": 1.0, "y": 2.0}, {"customdata": [5]}]}, 5),  # the star first: it has no customdata
])
def test_a_click_chooses_the_sample_digit_under_it(selection, expected):
    assert map_chart.clicked_point(selection) == expected
