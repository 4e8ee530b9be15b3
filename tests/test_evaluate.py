"""Metrics and examples against hand-computed answers and scikit-learn."""

import numpy as np
import pytest

from digits import evaluate


def _probs(pred, n_classes=10, confidence=0.91):
    probs = np.full((len(pred), n_classes), (1 - confidence) / (n_classes - 1))
    probs[np.arange(len(pred)), pred] = confidence
    return probs


def test_metrics_match_a_hand_computed_example():
    y_true = np.array([0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 3, 4, 5, 6, 7, 8, 9])
    m = evaluate.classification_metrics(y_true, _probs(y_pred))
    assert m["accuracy"] == pytest.approx(11 / 13)
    # class 0: predicted twice, right once -> precision 1/2; two zeros, one found -> recall 1/2
    assert m["per_class"]["precision"][0] == pytest.approx(0.5)
    assert m["per_class"]["recall"][0] == pytest.approx(0.5)
    # class 1: predicted 3 times, right twice; both ones found
    assert m["per_class"]["precision"][1] == pytest.approx(2 / 3)
    assert m["per_class"]["f1"][1] == pytest.approx(0.8)
    assert m["per_class"]["support"][:3] == [2, 2, 2]
    assert m["confusion"][0][1] == 1 and m["confusion"][2][0] == 1
    assert m["loss"] == pytest.approx(-(11 * np.log(0.91) + 2 * np.log(0.01)) / 13)


def test_macro_scores_match_scikit_learn():
    from sklearn.metrics import f1_score, precision_score, recall_score

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, 500)
    y_pred = np.where(rng.random(500) < 0.8, y_true, rng.integers(0, 10, 500))
    m = evaluate.classification_metrics(y_true, _probs(y_pred))
    assert m["precision_macro"] == pytest.approx(precision_score(y_true, y_pred, average="macro"))
    assert m["recall_macro"] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    assert m["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))


def test_mistakes_come_most_confident_first():
    probs = np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6], [0.05, 0.95]])
    y_true = np.array([0, 0, 0, 1])  # rows 0 and 2 are wrong; row 0 the more confident
    np.testing.assert_array_equal(evaluate.misclassified(y_true, probs), [0, 2])


def test_class_means_and_counts():
    x = np.zeros((4, 28, 28), np.uint8)
    x[0] = 255
    y = np.array([3, 3, 5, 5])
    means = evaluate.class_means(x, y)
    assert means[3, 0, 0] == pytest.approx(0.5) and means[5].max() == 0
    assert evaluate.class_counts(y)[3] == 2


def test_best_epoch_is_the_lowest_validation_loss():
    assert evaluate.best_epoch({"val_loss": [0.5, 0.3, 0.31, 0.4]}) == 2


def test_normalised_rows_sum_to_one_and_empty_rows_stay_zero():
    confusion = np.array([[8, 2, 0], [0, 0, 0], [1, 1, 2]])
    rates = evaluate.normalise_rows(confusion)
    np.testing.assert_allclose(rates.sum(axis=1), [1, 0, 1])
    np.testing.assert_allclose(rates[0], [0.8, 0.2, 0.0])
    np.testing.assert_allclose(rates[2], [0.25, 0.25, 0.5])


def test_most_confused_pairs_of_a_hand_made_matrix():
    confusion = np.diag([50, 50, 50, 50])
    confusion[3, 1] = 7  # 3 read as 1, seven times
    confusion[1, 3] = 2
    confusion[0, 2] = 7  # a tie with (3, 1): the lower true class comes first
    confusion[2, 0] = 1
    assert evaluate.most_confused(confusion, k=3) == [(0, 2, 7), (3, 1, 7), (1, 3, 2)]
    assert len(evaluate.most_confused(confusion, k=10)) == 4  # empty cells are left out


def test_select_mistakes_filters_by_true_and_predicted_class():
    labels = np.array([4, 4, 9, 7])
    probs = np.eye(10)[[9, 6, 4, 9]]  # answers: 9, 6, 4, 9
    np.testing.assert_array_equal(evaluate.select_mistakes(labels, probs, [4], [9]), [0])
    np.testing.assert_array_equal(evaluate.select_mistakes(labels, probs, [4], None), [0, 1])
    np.testing.assert_array_equal(evaluate.select_mistakes(labels, probs, [], [9]), [0, 3])
    np.testing.assert_array_equal(evaluate.select_mistakes(labels, probs, None, None), [0, 1, 2, 3])


def test_comparison_rows_show_each_models_numbers():
    report = {"arch": "seed", "params": 93322, "test": {"accuracy": 0.9912, "f1_macro": 0.99114},
              "test_size": 10000, "epochs_run": 12, "best_epoch": 9, "wall_seconds": 300}
    (row,) = evaluate.comparison_rows({"seed": report})
    assert row["test accuracy"] == "99.12%" and row["mistakes"] == 88 and row["training time"] == "5.0 min"
