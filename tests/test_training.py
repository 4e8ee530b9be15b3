"""Training pieces and train.py end to end (on tiny fake data: never a full training)."""

import json

import numpy as np
import pytest
import tensorflow as tf

import train
from digits import artifacts, config, training
from digits.inference import load_classifier


def test_validation_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(10), [100, 200, 100, 100, 100, 100, 100, 100, 100, 100]).astype(np.uint8)
    x = np.arange(len(y), dtype=np.int64)  # each "image" is its own index
    (x_fit, y_fit), (x_val, y_val) = training.split_validation(x, y, size=110, seed=0)
    assert len(x_val) == 110 and len(x_fit) == len(y) - 110
    assert not set(x_fit) & set(x_val)
    np.testing.assert_array_equal(np.bincount(y_val), [10, 20, 10, 10, 10, 10, 10, 10, 10, 10])


def test_stroke_width_jitter_keeps_range_and_can_thicken():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 10:18, 14, 0] = 1.0  # a one-pixel vertical stroke
    out = training.jitter_stroke_width(tf.constant(image), seed=0, thinnest=1.0, thickest=1.0).numpy()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out[0, 10:18, 13:16, 0] == 1.0).all()  # t = 1: one pixel wider on each side


def test_bilinear_sampling_reads_pixels_between_pixels_and_black_outside():
    image = tf.constant(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    y = tf.constant([[[0.0, 1.0, 1.5, 3.0, -1.0, 2.0]]])
    x = tf.constant([[[0.0, 2.0, 2.0, 3.5, 1.0, 4.5]]])
    # (0,0)=0; (1,2)=6; halfway between 6 and 10; (3,3.5) is half outside: half of 15; outside; outside
    np.testing.assert_allclose(training._bilinear(image, y, x).numpy(), [[[0.0, 6.0, 8.0, 7.5, 0.0, 0.0]]])


def test_warp_bends_within_its_bound_and_is_seeded():
    image = np.zeros((4, 28, 28, 1), np.float32)
    image[:, 13:15, 13:15, 0] = 1.0  # a dot at the centre, centre of mass (13.5, 13.5)
    images = tf.constant(image)
    np.testing.assert_array_equal(training.warp(images, 5, most=0.0, slant=0.0).numpy(), image)
    bent = training.warp(images, 5, most=2.0, slant=0.0).numpy()[..., 0]
    rows, cols = np.mgrid[:28, :28]
    for one in bent:
        mass = one.sum()
        assert mass > 0.5
        centre = np.array([(one * rows).sum(), (one * cols).sum()]) / mass
        assert np.abs(centre - 13.5).max() <= 2.0 + 1e-4  # no point moves further than `most`
    assert not np.allclose(bent[0], bent[1])  # each image its own field
    np.testing.assert_array_equal(training.warp(images, 5, most=2.0, slant=0.0).numpy()[..., 0], bent)
    assert not np.allclose(training.warp(images, 6, most=2.0, slant=0.0).numpy()[..., 0], bent)


def test_warp_slants_a_vertical_stroke_about_the_middle():
    image = np.zeros((1, 28, 28, 1), np.float32)
    image[0, 2:26, 14, 0] = 1.0  # a vertical stroke through the middle row
    out = training.warp(tf.constant(image), 3, most=0.0, slant=0.3).numpy()[0, ..., 0]
    cols = np.arange(28)
    top, middle, bottom = ((out[r] * cols).sum() / out[r].sum() for r in (3, 13, 24))
    # x_source = x + s (y - 13.5): the top row moves one way, the bottom the other, the middle stays
    assert abs(middle - 14) < 0.2 and (top - 14) * (bottom - 14) < 0
    assert abs(top - 14) <= 0.3 * 10.5 + 1e-4 and abs(bottom - 14) <= 0.3 * 10.5 + 1e-4


def test_dataset_scales_and_adds_the_channel_axis():
    x = np.full((5, 28, 28), 255, np.uint8)
    images, labels = next(iter(training.make_dataset(x, np.arange(5), batch_size=4)))
    assert images.shape == (4, 28, 28, 1) and images.dtype == tf.float32
    assert float(tf.reduce_max(images)) == pytest.approx(1.0)


@pytest.mark.parametrize("warp_px", [0.0, 2.0])
def test_augmentation_changes_images_but_not_labels(warp_px):
    x = np.zeros((8, 28, 28), np.uint8)
    x[:, 8:20, 12:16] = 255
    images, labels = next(iter(training.make_dataset(x, np.arange(8), 8, augment=True, seed=3, warp_px=warp_px)))
    assert images.shape == (8, 28, 28, 1) and 0.0 <= float(tf.reduce_min(images)) <= float(tf.reduce_max(images)) <= 1.0
    np.testing.assert_array_equal(labels, np.arange(8))
    assert not np.allclose(images[0], images[1])  # each image gets its own transform


def test_quick_recipe_overrides_and_flags_win():
    recipe = training.recipe_for("strong", quick=True, epochs=5)
    assert recipe.augment is False and recipe.epochs == 5
    assert training.recipe_for("strong").warp == 0.0 and training.recipe_for("strong", warp=2.0).warp == 2.0
    assert train.parse_args(["--warp", "1.5"]).warp == 1.5


@pytest.mark.slow
def test_train_dry_run_end_to_end(fake_mnist, tmp_path):
    folder, _ = fake_mnist
    report = train.main(["--arch", "seed", "--dry-run", "--data-dir", str(folder), "--out", str(tmp_path / "m"),
                         "--verbose", "0"])
    out = tmp_path / "m" / "seed-dry-run"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [config.MODEL_FILE, config.HISTORY_FILE, config.REPORT_FILE, config.EXAMPLES_FILE]
    )
    history = json.loads((out / config.HISTORY_FILE).read_text())
    assert set(history) >= {"loss", "val_loss", "accuracy", "val_accuracy", "learning_rate", "seconds"}
    saved = artifacts.load_report(out)
    assert saved["params"] == 93_322 and saved["test_size"] == report["test_size"]
    assert np.array(saved["test"]["confusion"]).sum() == saved["test_size"]
    assert saved["model_sha256"] == artifacts.sha256(out / config.MODEL_FILE)
    examples = artifacts.load_examples(out)
    assert examples["mistake_images"].shape[1:] == (28, 28)
    assert examples["mean_images"].shape == (10, 28, 28)
    probs = load_classifier(out).predict_proba(np.zeros((2, 28, 28), np.float32))
    assert probs.shape == (2, 10)


def test_every_flag_help_ends_with_its_default():
    actions = [a for a in train.build_parser()._actions if "--help" not in a.option_strings]
    assert {"--arch", "--epochs", "--batch-size", "--seed", "--data-dir", "--out", "--quick", "--dry-run"} <= {
        a.option_strings[0] for a in actions
    }
    for action in actions:
        assert action.help.endswith(")") and "(default: " in action.help, action.option_strings


@pytest.mark.slow
def test_with_drawings_dry_run_fine_tunes_on_a_temporary_database(fake_mnist, tmp_path):
    import shutil

    from digits import store

    folder, ((x_train, y_train), _) = fake_mnist
    out = tmp_path / "m"
    shutil.copytree(artifacts.model_dir("seed"), out / "seed")  # the trained model to start from
    db = tmp_path / "drawings.sqlite"
    conn = store.connect(db)
    for i in range(12):
        store.add(conn, image=x_train[i] / 255, canvas_png=b"png", probs=np.full(10, 0.1, np.float32),
                  label=int(y_train[i]), model="seed", session="s")
    report = train.main(["--arch", "seed", "--with-drawings", "--drawings-db", str(db), "--dry-run",
                         "--data-dir", str(folder), "--out", str(out), "--verbose", "0"])
    saved = artifacts.load_report(out / "seed-drawings-dry-run")
    assert saved["drawings"]["trained_on"] == 9 and saved["drawings"]["held_out"] == 3
    for when in ("before", "after"):
        assert 0.0 <= saved["drawings"][when]["held_out_drawings"] <= 1.0
    assert report["recipe"]["learning_rate"] == training.FINETUNE["learning_rate"]
    # The model it started from is untouched.
    assert (out / "seed" / config.MODEL_FILE).read_bytes() == (artifacts.model_dir("seed") / config.MODEL_FILE).read_bytes()


def test_drawings_are_split_and_mixed_in_as_a_small_share():
    from digits import finetune
    from digits.store import Drawings

    n = 20
    drawings = Drawings(ids=np.arange(n), sessions=["s"] * n, models=["m"] * n, labels=np.arange(n) % 10,
                        predicted=np.zeros(n, int), images=np.full((n, 28, 28), 0.5, np.float32))
    split = finetune.split_drawings(drawings, held_out=0.25, seed=0)
    assert len(split.y_held) == 5 and len(split.y_train) == 15 and split.x_train.dtype == np.uint8
    x, y = finetune.mix_in(np.zeros((1900, 28, 28), np.uint8), np.zeros(1900, np.uint8), split.x_train, split.y_train)
    share = (len(x) - 1900) / len(x)
    assert 0.05 <= share < 0.06 and len(x) == len(y)
    with pytest.raises(ValueError, match="at least 2 drawings labelled as digits"):
        finetune.split_drawings(Drawings(ids=np.arange(1), sessions=["s"], models=["m"], labels=np.zeros(1, int),
                                         predicted=np.zeros(1, int), images=np.zeros((1, 28, 28))))


def test_drawings_labelled_not_a_digit_are_left_out_of_fine_tuning():
    from digits import finetune
    from digits.store import Drawings

    labels = np.array([3, config.NOT_A_DIGIT, 5, config.NOT_A_DIGIT, 7, 1])
    n = len(labels)
    images = np.arange(n, dtype=np.float32)[:, None, None] / 255 * np.ones((n, 28, 28), np.float32)  # image k is all k
    split = finetune.split_drawings(Drawings(ids=np.arange(n), sessions=["s"] * n, models=["m"] * n, labels=labels,
                                             predicted=np.zeros(n, int), images=images), held_out=0.25, seed=0)
    assert sorted(split.y_train.tolist() + split.y_held.tolist()) == [1, 3, 5, 7]
    assert len(split.y_held) == 1  # a quarter of the 4 digits, not of all 6 drawings
    for x, y in ((split.x_train, split.y_train), (split.x_held, split.y_held)):
        np.testing.assert_array_equal(labels[x[:, 0, 0]], y)  # each image still carries its own label
    with pytest.raises(ValueError, match="at least 2 drawings labelled as digits"):
        finetune.split_drawings(Drawings(ids=np.arange(3), sessions=["s"] * 3, models=["m"] * 3,
                                         labels=np.array([config.NOT_A_DIGIT, config.NOT_A_DIGIT, 4]),
                                         predicted=np.zeros(3, int), images=np.zeros((3, 28, 28))))


@pytest.mark.parametrize("redraw, expected", [(0.0, 0.0), (1.0, 1.0)])
def test_redraw_share_picks_the_redrawn_copy(redraw, expected):
    x, redrawn = np.zeros((6, 28, 28), np.uint8), np.full((6, 28, 28), 255, np.uint8)
    images, labels = next(iter(training.make_dataset(x, np.arange(6), 6, redrawn=redrawn, redraw=redraw)))
    np.testing.assert_allclose(images.numpy(), expected)
    np.testing.assert_array_equal(labels, np.arange(6))
