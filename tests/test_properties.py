"""Property-based tests: the draw page's whole path on thousands of generated canvases, good and bad.

Each canvas goes through what the draw page does with it: preprocessing
(`read_canvas`: crop, fit, centre), the shipped model's probabilities, the
answer and its "unsure" rule, and every image and chart the page builds.
"""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digits import charts, pixels
from digits.inference import load_classifier, read_canvas
from digits.preprocess import canvas_to_mnist

KINDS = ["empty", "pixel", "full", "noise", "strokes", "border", "faint", "speckle"]


def make_canvas(height: int, width: int, kind: str, seed: int) -> np.ndarray:
    """A canvas of one kind, built from a seed (fast, whatever its size)."""
    rng = np.random.default_rng(seed)
    rgba = np.zeros((height, width, 4), np.uint8)
    alpha = rgba[..., 3]
    if kind == "pixel":
        alpha[rng.integers(height), rng.integers(width)] = 255
    elif kind == "full":
        alpha[:] = 255
    elif kind == "noise":
        alpha[:] = rng.integers(0, 256, (height, width))
    elif kind == "strokes":  # one to four digits' worth of thick random lines
        for _ in range(rng.integers(1, 12)):
            r0, r1 = sorted(rng.integers(0, height, 2))
            c0, c1 = sorted(rng.integers(0, width, 2))
            alpha[r0 : r1 + 1, c0 : c0 + max(1, width // 30)] = 255
            alpha[r0 : r0 + max(1, height // 30), c0 : c1 + 1] = 255
    elif kind == "border":
        alpha[0, :] = alpha[-1, :] = 255
        alpha[:, 0] = alpha[:, -1] = 255
    elif kind == "faint":
        alpha[:] = rng.integers(0, 50)
    elif kind == "speckle":
        alpha[rng.random((height, width)) < 0.01] = 255
    rgba[..., :3] = rng.integers(0, 256, 3)  # ink colour never matters
    return rgba


sizes = st.integers(1, 600)
canvases = st.builds(make_canvas, sizes, sizes, st.sampled_from(KINDS), st.integers(0, 2**32 - 1))
# Extreme aspect ratios: one side tiny, the other huge.
thin = st.builds(make_canvas, st.integers(1, 4), st.integers(300, 2000), st.sampled_from(KINDS),
                 st.integers(0, 2**32 - 1))


@functools.cache
def classifier():
    return load_classifier()  # the shipped default model, loaded once for all examples


def check(rgba: np.ndarray) -> None:
    before = rgba.copy()
    reading = read_canvas(classifier(), rgba)
    np.testing.assert_array_equal(rgba, before)  # never modifies its input
    out = canvas_to_mnist(rgba)
    if reading is None:
        assert out is None
        return
    np.testing.assert_array_equal(out, reading.steps.centred)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    probs = reading.probs
    assert probs.shape == (10,) and np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-4
    assert reading.digit == probs.argmax() and reading.confidence == probs.max()
    assert reading.runner_up is None or reading.runner_up != reading.digit
    # Everything the page draws from it.
    assert pixels.pixelated(out, 8).shape == (224, 224)
    for image in (reading.steps.ink, reading.steps.crop, reading.steps.fitted, out):
        shown = pixels.fit_to(image, 200, square=True)
        assert shown.dtype == np.uint8 and shown.size > 0 and shown.shape[0] == shown.shape[1]
    assert charts.probability_bars_html(probs).count(charts.ACCENT) == 1


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canvases)
def test_any_canvas_gives_the_prompt_or_a_valid_answer(rgba):
    check(rgba)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(thin)
def test_extreme_aspect_ratios(rgba):
    check(rgba.transpose(1, 0, 2) if rgba[0, 0, 0] % 2 else rgba)  # tall or wide


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.builds(lambda h, w, c: np.zeros((h, w, c), np.uint8), sizes, sizes, st.sampled_from([1, 2, 3, 5])),
    st.builds(lambda h, w: np.zeros((h, w), np.uint8), sizes, sizes),
    st.builds(lambda h, w, d: np.zeros((h, w, 4), d), sizes, sizes,
              st.sampled_from([np.float32, np.float64, np.int32, np.uint16, np.bool_])),
    st.builds(lambda w: np.zeros((0, w, 4), np.uint8), sizes),
))
def test_wrong_shapes_and_dtypes_are_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="expected"):
        canvas_to_mnist(bad)
