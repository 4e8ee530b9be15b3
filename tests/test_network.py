"""Architectures: parameter counts and output shapes."""

import numpy as np
import pytest

from digits import network


def test_seed_has_the_original_projects_93322_parameters():
    assert network.build("seed").count_params() == 93_322


@pytest.mark.parametrize("arch", list(network.ARCHITECTURES))
def test_every_architecture_outputs_ten_probabilities(arch):
    model = network.build(arch)
    probs = np.asarray(model(np.zeros((3, 28, 28, 1), np.float32), training=False))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert not model.compiled  # builders return uncompiled models


def test_unknown_architecture_names_the_choices():
    with pytest.raises(ValueError, match="choose one of strong, seed"):
        network.build("resnet")
