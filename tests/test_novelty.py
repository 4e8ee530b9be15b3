"""The not-a-digit scorer: known distances, a threshold from held-out digits, and the saved file."""

import numpy as np
import pytest

from digits import config, novelty


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    labels = np.arange(2000) % 10
    means = np.eye(10, 4 + 10)[:, :12] * 10  # ten well-separated classes in 12 dimensions
    digits = means[labels] + rng.normal(0, 1, (2000, 12))
    others = rng.normal(0, 1, (300, 12)) + 30  # far from every class
    held = means[labels[:500]] + rng.normal(0, 1, (500, 12))
    return novelty.fit(digits, labels, others, held, rate=0.01), means, held


def test_distance_to_a_class_mean_is_zero_and_grows_away_from_it(fitted):
    scorer, means, _ = fitted
    d = scorer.distance(means)
    assert d.max() < 0.5
    assert scorer.distance(means[:1] + 5)[0] > 20


def test_threshold_leaves_the_asked_share_of_held_out_digits_flagged(fitted):
    scorer, _, held = fitted
    assert scorer.flags(held).mean() == pytest.approx(0.01, abs=0.004)


def test_far_points_are_flagged(fitted):
    scorer, means, _ = fitted
    assert scorer.flags(np.full((5, 12), 30.0)).all()
    assert not scorer.flags(means).any()


def test_saved_and_loaded_scorer_scores_the_same(fitted, tmp_path):
    scorer, means, _ = fitted
    novelty.save(scorer, tmp_path / "n.npz")
    again = novelty.load(tmp_path / "n.npz")
    np.testing.assert_allclose(again.score(means), scorer.score(means), rtol=1e-5)
    assert novelty.load(tmp_path / "missing.npz") is None


@pytest.mark.parametrize("name", ["strong", "seed", "simple", "deep", "regularized"])
def test_every_shipped_model_has_a_small_scorer(name):
    path = config.MODEL_DIR / name / novelty.NOVELTY_FILE
    assert path.exists() and path.stat().st_size < 200_000
