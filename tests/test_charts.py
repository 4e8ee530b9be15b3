"""Figure builders: the right traces, titles and marks."""

import numpy as np
import plotly.graph_objects as go
import pytest

from digits import charts, pixels

HISTORY = {"loss": [1.0, 0.5, 0.4], "val_loss": [0.9, 0.3, 0.35], "accuracy": [0.7, 0.9, 0.95],
           "val_accuracy": [0.8, 0.95, 0.94], "learning_rate": [1e-3, 1e-3, 5e-4], "seconds": [30, 31, 29]}


def test_training_curves_mark_best_epoch_and_early_stop():
    fig = charts.training_curves(HISTORY, "loss", best_epoch=2, planned_epochs=10)
    assert [t.name for t in fig.data] == ["training", "validation"]
    marks = [a.text for a in fig.layout.annotations]
    assert "best epoch 2" in marks and "early stop" in marks
    full = charts.training_curves(HISTORY, "accuracy", best_epoch=2, planned_epochs=3)
    assert "early stop" not in [a.text for a in full.layout.annotations]


def test_compare_curves_has_one_trace_per_model():
    fig = charts.compare_curves({"a": HISTORY, "b": HISTORY}, "val_accuracy")
    assert [t.name for t in fig.data] == ["a", "b"]


def test_confusion_heatmap_greys_the_diagonal_and_labels_every_cell():
    confusion = np.diag([10] * 10)
    confusion[4, 9] = 3
    fig = charts.confusion_heatmap(confusion)
    errors = np.array(fig.data[0].z, dtype=float)
    assert np.isnan(np.diag(errors)).all() and errors[4, 9] == 3
    assert np.isnan(errors[0, 1])  # an empty cell gets no colour either
    cells = fig.data[2]  # the clickable markers
    assert len(cells.x) == 90 and isinstance(cells, go.Scatter)
    assert "3" in cells.text and fig.layout.yaxis.title.text == "true digit"


def test_confusion_heatmap_rates_are_labelled_as_percentages():
    confusion = np.array([[3, 1], [0, 4]])
    fig = charts.confusion_heatmap(confusion, rates=np.array([[0.75, 0.25], [0.0, 1.0]]))
    assert "25.0%" in fig.data[2].text
    assert fig.data[0].colorbar.tickformat == ".2~%"  # 0.25 % reads "0.25%", not "0%"


@pytest.mark.parametrize("top, dtick", [(1, 1), (3, 1), (5, 1), (6, 2), (23, 5)])
def test_confusion_colour_scale_ticks_whole_counts(top, dtick):
    confusion = np.diag([100] * 3)
    confusion[0, 1] = top
    bar = charts.confusion_heatmap(confusion).data[0].colorbar
    assert bar.dtick == dtick and bar.tick0 == 0


def test_fit_to_square_centres_the_image_on_background():
    image = np.full((10, 4), 255, np.uint8)  # a tall crop
    assert pixels.fit_to(image, 100).shape == (100, 40)
    out = pixels.fit_to(image, 100, square=True)
    assert out.shape == (100, 100)
    assert (out[:, 30:70] == 255).all() and (out[:, :30] == 0).all() and (out[:, 70:] == 0).all()


def test_image_grid_tiles_row_by_row():
    images = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 20, 30)])
    grid = pixels.image_grid(images, columns=2, gap=1)
    assert grid.shape == (5, 5)
    assert grid[0, 0] == 10 and grid[0, 3] == 20 and grid[3, 0] == 30 and grid[2, 2] == 96


def test_pixelated_repeats_pixels():
    out = pixels.pixelated(np.array([[0.0, 1.0]]), scale=3)
    assert out.shape == (3, 6) and out[0, 2] == 0 and out[2, 3] == 255


def test_normalise_each_scales_maps_independently():
    maps = np.stack([np.array([[0.0, 2.0]]), np.array([[5.0, 6.0]]), np.array([[3.0, 3.0]])])
    out = pixels.normalise_each(maps)
    np.testing.assert_allclose(out[:, 0], [[0, 1], [0, 1], [0, 0]])


def test_saliency_overlay_is_grey_where_nothing_matters_and_accent_where_all_does():
    image = np.array([[1.0, 1.0]])
    out = pixels.saliency_overlay(image, np.array([[0.0, 1.0]]))
    assert out.shape == (1, 2, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] == out[0, 0, 1] == out[0, 0, 2]  # grey
    assert tuple(out[0, 1]) == (0xE4, 0x57, 0x2E)


def test_pixelated_keeps_uint8_grey_levels():
    out = pixels.pixelated(np.array([[0, 128, 255]], np.uint8), scale=2)
    np.testing.assert_array_equal(out[0], [0, 0, 128, 128, 255, 255])


def test_log_ticks_are_one_two_five_labelled_in_full():
    ticks = charts.log_ticks([0.012, 0.9, float("nan"), 0.0])
    assert ticks == pytest.approx([0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2])
    assert charts.log_ticks([]) == []
    fig = charts.training_curves({"loss": [0.9, 0.1], "val_loss": [0.5, 0.012], "accuracy": [0.7, 0.9],
                                  "val_accuracy": [0.8, 0.95]}, "loss", best_epoch=2, planned_epochs=2)
    assert fig.layout.yaxis.type == "log" and "0.05" in fig.layout.yaxis.ticktext


def test_html_probability_bars_are_as_tall_as_their_probability_and_mark_the_top_class():
    import re

    probs = np.zeros(10)
    probs[[3, 8]] = [0.75, 0.25]
    html = charts.probability_bars_html(probs, height=200)
    heights = [float(h) for h in re.findall(r"height:([0-9.]+)px;background", html)]
    assert heights == [1.0] * 3 + [150.0] + [1.0] * 4 + [50.0, 1.0]  # an empty class keeps a 1 px stub
    assert html.count(charts.ACCENT) == 1 and "75%" in html and "3: 75%, 4: 0%" in html
    assert "<figcaption" in html and "<figcaption" not in charts.probability_bars_html(probs, title="")


def test_digit_counts_label_each_bar_with_its_count_in_thousands():
    fig = charts.digit_counts(np.array([9607, 3, 0, 12, 1000, 5, 6, 7, 8, 10_250]), "Drawings of each digit")
    assert list(fig.data[0].y) == [9607, 3, 0, 12, 1000, 5, 6, 7, 8, 10250]
    assert list(fig.data[0].text) == ["9,607", "3", "0", "12", "1,000", "5", "6", "7", "8", "10,250"]


def test_confusion_heatmap_counts_read_in_thousands():
    confusion = np.diag([9417] * 10)
    confusion[2, 6] = 1032
    texts = [t for trace in charts.confusion_heatmap(confusion).data if trace.text is not None
             for t in np.ravel(np.asarray(trace.text, dtype=object))]
    assert "9,417" in texts and "1,032" in texts and "9417" not in texts
