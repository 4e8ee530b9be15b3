"""The fast classifier: contract of predict_proba, and reading an answer."""

import numpy as np
import pytest

from digits import config, network
from digits.inference import Classifier, load_classifier, read_answer, read_naively


@pytest.fixture(scope="module")
def untrained():
    return Classifier(network.build("seed"), name="seed")


@pytest.mark.parametrize("n", [1, 3, 64])
def test_predict_proba_shape_dtype_and_rows_sum_to_one(untrained, n):
    images = np.random.default_rng(n).random((n, 28, 28), dtype=np.float32)
    probs = untrained.predict_proba(images)
    assert probs.shape == (n, 10) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_predict_proba_matches_keras_predict(untrained):
    images = np.random.default_rng(0).random((5, 28, 28), dtype=np.float32)
    expected = untrained.model.predict(images[..., None], verbose=0)
    np.testing.assert_allclose(untrained.predict_proba(images), expected, atol=1e-6)


def test_predict_proba_rejects_the_wrong_shape(untrained):
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\), got \(28, 28\)"):
        untrained.predict_proba(np.zeros((28, 28), np.float32))


def test_shipped_default_model_reads_mnist_style_digits():
    classifier = load_classifier()  # the shipped model/strong
    assert classifier.name == config.DEFAULT_MODEL
    means = np.load(config.MODEL_DIR / config.DEFAULT_MODEL / config.EXAMPLES_FILE)["mean_images"]
    # The mean image of each class is a blurry but recognisable digit.
    assert (classifier.predict_proba(means).argmax(axis=1) == np.arange(10)).sum() >= 8


@pytest.mark.parametrize(
    "probs, expected",
    [
        ([0.01] * 9 + [0.91], (9, 0.91, None)),
        ([0, 0, 0, 0, 0.45, 0, 0, 0, 0, 0.55], (9, 0.55, 4)),  # close call: "9 or 4?"
        ([0, 0, 0, 0, 0.35, 0, 0, 0.03, 0, 0.62], (9, 0.62, 4)),  # above 60 %, but the runner-up is near
        ([0, 0, 0, 0, 0.2, 0, 0, 0.1, 0, 0.7], (9, 0.7, None)),  # 70 % against 20 %: sure
        ([0.05, 0, 0, 0, 0, 0, 0, 0.9, 0, 0.05], (7, 0.9, None)),
    ],
)
def test_read_answer_flags_unsure_calls(probs, expected):
    digit, confidence, runner_up = read_answer(np.array(probs))
    assert (digit, runner_up) == (expected[0], expected[2])
    assert confidence == pytest.approx(expected[1])


def test_read_naively_squeezes_the_whole_canvas_and_reads_that(untrained):
    from digits.preprocess import naive_resize

    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[:40, :40, 3] = 255
    before = rgba.copy()
    image, probs = read_naively(untrained, rgba)
    np.testing.assert_array_equal(image, naive_resize(rgba))
    np.testing.assert_allclose(probs, untrained.predict_proba(image[None])[0])
    np.testing.assert_array_equal(rgba, before)


@pytest.mark.parametrize("op_first, expected", [(False, "True 1"), (True, "False 0")])
def test_one_thread_per_op_only_before_tensorflow_runs(op_first, expected):
    import os
    import subprocess
    import sys

    script = (
        "import tensorflow as tf\n"
        "from digits.inference import one_thread_per_op\n"
        + ("tf.constant(1.0) + 1\n" if op_first else "")
        + "print(one_thread_per_op(), tf.config.threading.get_intra_op_parallelism_threads())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                         cwd=config.ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert out.stdout.split()[-2:] == expected.split(), out.stderr[-2000:]


def test_read_canvas_reads_two_digits_side_by_side_left_to_right():
    from digits.inference import read_canvas
    from tests.conftest import stroke_canvas

    rgba = np.maximum(stroke_canvas([(80, 70), (240, 70)]), stroke_canvas([(80, 150), (80, 260), (240, 190)]))
    reading = read_canvas(load_classifier(), rgba)
    assert reading.number == "17" and not reading.not_a_digit
    assert [d.digit for d in reading.digits] == [1, 7]
    assert reading.digits[0].steps.centred.shape == (28, 28)


def test_read_canvas_flags_a_square_and_gives_no_number():
    from digits.inference import read_canvas
    from support.nondigits import shape

    reading = read_canvas(load_classifier(), shape("square", 3))
    assert reading.not_a_digit and reading.number == ""
    assert reading.probs.shape == (10,)


def test_a_drawing_whose_every_part_and_whole_are_doubted_is_one_non_digit_not_a_row_of_them():
    from digits.inference import read_canvas
    from support.nondigits import shape

    reading = read_canvas(load_classifier(), shape("arrow", 2))  # the splitter cuts it in two, both doubted
    assert reading.not_a_digit and reading.number == ""
    assert len(reading.digits) == 1 and reading.digits[0].steps is reading.steps  # the whole drawing, once


@pytest.mark.parametrize(("below", "parts"), [(1.0, 1), (-1.0, 2)])
def test_a_drawing_both_networks_call_surely_one_digit_is_not_split(below, parts):
    from digits import detector
    from digits.inference import WHOLE_DIGIT, WHOLE_SURE, read_canvas
    from tests.conftest import constant_model, stroke_canvas

    assert WHOLE_SURE <= 0.999
    image = (config.IMAGE_SIZE, config.IMAGE_SIZE, 1)
    sure = constant_model(image, np.log(np.eye(10)[7] * 0.999 + 0.0001), "softmax")  # a 7, 99.9 %, whatever it sees
    # The detector's logit, ``below`` past WHOLE_DIGIT under its threshold (1: surely a digit; -1: not so sure).
    digit = detector.Detector(constant_model(image, [-WHOLE_DIGIT - below]), threshold=0.0)
    rgba = np.maximum(stroke_canvas([(60, 60), (260, 60)]), stroke_canvas([(60, 200), (260, 200)]))  # 2 bars
    reading = read_canvas(Classifier(sure, "sure", not_a_digit=digit), rgba)
    assert len(reading.digits) == parts and reading.number == "7" * parts


def test_read_margins_are_the_detectors_logit_less_its_threshold_and_flag_above_zero():
    from digits import detector

    images = np.random.default_rng(0).random((4, 28, 28)).astype(np.float32)
    bare = Classifier(network.build("seed"), name="seed")
    probs, margins = bare.read_margins(images)
    assert probs.shape == (4, 10) and np.isneginf(margins).all()
    assert not bare.read(images)[1].any()
    odd = detector.Detector(detector.build(), threshold=0.25)
    judged = Classifier(bare.model, name="seed", not_a_digit=odd)
    probs, margins = judged.read_margins(images)
    np.testing.assert_allclose(margins, odd.scores(images) - 0.25, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(judged.read(images)[1], margins > 0)
