"""Reliability bins, expected calibration error and the reliability diagram, on hand-built readings."""

import numpy as np
import pytest

from digits import calibration


def readings(*groups: tuple[float, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Readings from (confidence, how many, how many right) groups."""
    confidences = np.concatenate([np.full(n, c) for c, n, _ in groups])
    correct = np.concatenate([np.arange(n) < right for _, n, right in groups])
    return confidences, correct


def test_perfectly_calibrated_readings_have_no_error():
    confidences, correct = readings((0.95, 20, 19), (0.55, 20, 11), (1.0, 10, 10))
    assert calibration.ece(confidences, correct, bins=10) == pytest.approx(0.0, abs=1e-12)


def test_a_known_miscalibration_has_the_hand_computed_error():
    # 10 readings at 0.9 with 6 right (gap 0.3) and 10 at 0.35 with 5 right (gap 0.15):
    # (10 * 0.3 + 10 * 0.15) / 20 = 0.225.
    confidences, correct = readings((0.9, 10, 6), (0.35, 10, 5))
    assert calibration.ece(confidences, correct, bins=10) == pytest.approx(0.225)


def test_overconfidence_inside_one_bin_counts_as_the_bin_mean():
    # One bin holds 0.92 and 0.98 (mean 0.95), one right of two: gap 0.45.
    assert calibration.ece(np.array([0.92, 0.98]), np.array([True, False]), bins=10) == pytest.approx(0.45)


def test_bins_hold_their_counts_means_and_accuracies_and_a_confidence_of_one_falls_in_the_last():
    bins = calibration.reliability(np.array([0.0, 0.1, 0.45, 0.5, 1.0, 0.99]),
                                   np.array([False, True, True, False, True, True]), bins=4)
    np.testing.assert_allclose(bins["edges"], [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(bins["counts"], [2, 1, 1, 2])
    np.testing.assert_allclose(bins["confidence"], [0.05, 0.45, 0.5, 0.995])
    np.testing.assert_allclose(bins["accuracy"], [0.5, 1, 0, 1])


def test_empty_bins_are_nan_and_count_for_nothing():
    bins = calibration.reliability(np.array([0.95]), np.array([True]), bins=5)
    assert np.isnan(bins["accuracy"][:4]).all() and np.isnan(bins["confidence"][:4]).all()
    assert calibration.ece_of_bins(bins) == pytest.approx(0.05)
    assert calibration.ece(np.zeros(0), np.zeros(0, bool)) == 0.0


@pytest.mark.parametrize("confidences, correct, message", [
    (np.array([0.5, 1.2]), np.array([True, True]), "lie in"),
    (np.array([0.5, 0.6]), np.array([True]), "two"),
])
def test_bad_readings_are_refused_with_advice(confidences, correct, message):
    with pytest.raises(ValueError, match=message):
        calibration.reliability(confidences, correct)


def test_a_family_record_is_json_ready_and_round_trips_through_the_file(tmp_path):
    record = calibration.family_record(*readings((0.9, 10, 6), (0.35, 10, 5)), bins=10, shares_training_renderer=False)
    assert record["count"] == 20 and record["accuracy"] == 0.55 and record["ece"] == pytest.approx(0.225)
    assert record["bin_accuracy"][0] is None and record["bin_accuracy"][9] == 0.6 and record["counts"][3] == 10
    assert calibration.load(tmp_path) is None
    path = calibration.save(tmp_path, {"toy": record}, model="toy")
    assert path.name == calibration.CALIBRATION_FILE
    assert calibration.load(tmp_path) == {"model": "toy", "families": {"toy": record}}


def test_the_reliability_diagram_has_a_bar_trace_per_family_the_diagonal_and_the_eces_in_its_title():
    a = calibration.family_record(*readings((0.9, 10, 6), (0.35, 10, 5)), bins=10)
    b = calibration.family_record(*readings((0.95, 20, 19)), bins=10)
    fig = calibration.reliability_figure({"MNIST test": a, "pen": b})
    assert [t.type for t in fig.data] == ["bar", "bar", "scatter"]
    assert [t.name for t in fig.data] == ["MNIST test", "pen", "perfectly calibrated"]
    assert list(fig.data[2].x) == [0, 1] and list(fig.data[2].y) == [0, 1]
    np.testing.assert_allclose(fig.data[0].x, np.arange(0.05, 1, 0.1))
    assert fig.data[0].y[9] == 0.6 and np.isnan(fig.data[0].y[0])
    assert fig.data[1].customdata[9][3] == 20  # the count, for the hover
    assert fig.layout.title.text == "ECE: MNIST test 0.2250 · pen 0.0000"
