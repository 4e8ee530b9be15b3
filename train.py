"""Build, train, evaluate and save a CNN on MNIST.

    python train.py                      # the default `strong` model (~20 min on 2 cores)
    python train.py --arch seed          # the original project's 93,322-parameter CNN
    python train.py --quick              # a classroom-speed run (about a minute)
    python train.py --dry-run --out /tmp/m   # seconds, on a tiny subset: a smoke test
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of the way

import keras
import numpy as np
import tensorflow as tf

from digits import artifacts, config, data, evaluate, network, redraw, runs, training
from digits.atomic import reserve, storage_advice

# A smoke run's subset sizes: enough for every class, small enough for seconds.
DRY_RUN = dict(fit=512, val=256, test=500, epochs=1)
# Room checked for in the output folder before training: a run's four files take at most 1.5 MB.
RESERVE_BYTES = 8 << 20


class SaveError(RuntimeError):
    """The output folder cannot take the run's artifacts."""


def cannot_save(out: Path, error: OSError, when: str) -> SaveError:
    advice = storage_advice(error) or "check the folder"
    return SaveError(f"cannot write the model to {out}: {error}. In short, {advice} (or pass --out). "
                     f"{when}; the artifacts already in {out} are unchanged.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=list(network.ARCHITECTURES), default=config.DEFAULT_MODEL,
                        help=f"architecture to train (default: {config.DEFAULT_MODEL})")
    parser.add_argument("--epochs", type=int, default=None,
                        help="most epochs to run; early stopping may end sooner (default: the architecture's recipe)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="examples per training step (default: the architecture's recipe, 128)")
    parser.add_argument("--val-size", type=int, default=5000,
                        help="training images held out for validation and early stopping (default: 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for reproducibility (default: 1)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="a folder with the MNIST IDX files or mnist.npz (default: the cache, then download)")
    parser.add_argument("--out", type=Path, default=config.MODEL_DIR,
                        help=f"folder that receives <name>/ with the artifacts (default: {config.MODEL_DIR})")
    parser.add_argument("--name", default=None,
                        help="name of the saved model folder (default: the architecture, plus -quick or -dry-run)")
    parser.add_argument("--redraw", type=float, default=None,
                        help="share of training digits shown redrawn with a canvas pen, 0 to 1: reads drawings "
                             "better (default: the architecture's recipe: 0.5 for strong, 0 for the others)")
    parser.add_argument("--warp", type=float, default=None,
                        help="bend strokes elastically by up to this many pixels, and slant them, as augmentation; "
                             "0 turns it off. Measured on strong: no family of drawn digits gained "
                             "(docs/accuracy.md) (default: 0)")
    parser.add_argument("--uneven", type=float, default=None,
                        help="share of the redrawn digits drawn by an uneven hand instead of the round pen: width "
                             "drifting along the strokes, blots at stroke ends, a gap where the pen lifted "
                             "(digits.redraw.Hand) (default: the architecture's recipe: 0)")
    parser.add_argument("--with-drawings", action="store_true",
                        help="fine-tune the trained --arch model with the labelled drawings, holding a quarter "
                             "out, and save it as <arch>-drawings (default: off)")
    parser.add_argument("--drawings-db", type=Path, default=config.DATA_DIR / "drawings.sqlite",
                        help=f"the labelled drawings for --with-drawings (default: {config.DATA_DIR / 'drawings.sqlite'})")
    parser.add_argument("--quick", action="store_true",
                        help="classroom-speed run: 2 epochs, no augmentation (default: off)")
    parser.add_argument("--dry-run", action="store_true",
                        help="seconds-long smoke run on a tiny subset, for tests (default: off)")
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=1,
                        help="0 silent, 1 progress bar, 2 one line per epoch (default: 1)")
    parser.add_argument("--progress-file", type=Path, default=None,
                        help="append one JSON line per epoch to this file, and a last one when the run "
                             "finishes, fails or is stopped, for the app to follow (default: none)")
    parser.add_argument("--threads", type=int, default=0,
                        help="TensorFlow threads in each of its two pools, to leave cores to others; "
                             "0 lets TensorFlow use them all (default: 0)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def run_name(args: argparse.Namespace) -> str:
    if args.name:
        return args.name
    suffix = "-drawings" if args.with_drawings else "-quick" if args.quick else ""
    return args.arch + suffix + ("-dry-run" if args.dry_run else "")


class ReportEpochs(keras.callbacks.Callback):
    """Writes each epoch's metrics to the run's progress file the moment the epoch ends."""

    def __init__(self, progress: runs.Progress, planned: int):
        super().__init__()
        self.progress, self.planned = progress, planned

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.progress.write("epoch", epoch=epoch + 1, epochs=self.planned, seconds=time.perf_counter() - self._start,
                            **{key: float(logs[key]) for key in ("loss", "accuracy", "val_loss", "val_accuracy")})


def train_from_scratch(args, recipe, fit, val, callback):
    """Build ``args.arch`` and train it, reporting each epoch to ``callback``; return the model and its history."""
    (x_fit, y_fit), (x_val, y_val) = fit, val
    # Canvas drawings have a uniform round pen; show the network some digits drawn that way.
    redrawn = None
    if recipe.redraw > 0:
        print(f"Redrawing {len(x_fit):,} training digits with a canvas pen (about 20 s on 2 cores)")
        bar = keras.utils.Progbar(len(x_fit), verbose=min(args.verbose, 1))
        redrawn = redraw.redraw_many(x_fit, seed=args.seed, progress=bar.update, uneven=recipe.uneven)
    model = network.build(args.arch)
    fit_ds = training.make_dataset(x_fit, y_fit, recipe.batch_size, augment=recipe.augment, shuffle=True,
                                   seed=args.seed, redrawn=redrawn, redraw=recipe.redraw, warp_px=recipe.warp)
    history = training.fit(model, fit_ds, training.make_dataset(x_val, y_val, 1000), recipe, verbose=args.verbose,
                           callbacks=(callback,))
    return model, history


def finetune_with_drawings(args, recipe, fit, val, test, callback):
    """Continue training the saved ``args.arch`` model with the labelled drawings mixed in.

    Returns the model, its history, and the before/after accuracies for the report.
    """
    from digits import finetune, store
    from digits.inference import Classifier

    (x_fit, y_fit), (x_val, y_val), (x_test, y_test) = fit, val, test
    drawings = finetune.split_drawings(store.load(store.connect(args.drawings_db)), seed=args.seed)
    model = artifacts.load_model(artifacts.model_dir(args.arch, args.out) / config.MODEL_FILE)

    def judge() -> dict[str, float]:
        predict = Classifier(model).predict_proba
        return {"held_out_drawings": finetune.accuracy(predict, drawings.x_held, drawings.y_held),
                "mnist_test": finetune.accuracy(predict, x_test, y_test)}

    scores = {"before": judge()}
    print(f"Fine-tuning {args.arch!r} with {len(drawings.y_train)} drawings ({len(drawings.y_held)} held out); "
          f"before: {scores['before']['held_out_drawings']:.2%} of held-out drawings, "
          f"{scores['before']['mnist_test']:.2%} of MNIST test")
    x_mix, y_mix = finetune.mix_in(x_fit, y_fit, drawings.x_train, drawings.y_train)
    fit_ds = training.make_dataset(x_mix, y_mix, recipe.batch_size, augment=recipe.augment, shuffle=True,
                                   seed=args.seed, warp_px=recipe.warp)
    history = training.fit(model, fit_ds, training.make_dataset(x_val, y_val, 1000), recipe,
                           verbose=args.verbose, callbacks=(callback,))
    scores["after"] = judge()
    scores.update(trained_on=len(drawings.y_train), held_out=len(drawings.y_held))
    return model, history, scores


def summarise(name, args, recipe, model, history, probs, train, test, fit_size: int, val_size: int):
    """The run's report (JSON-ready) and examples (arrays) for the dashboards."""
    (x_train, y_train), (x_test, y_test) = train, test
    wrong = evaluate.misclassified(y_test, probs)
    samples = evaluate.class_samples(y_train, per_class=12, seed=args.seed)
    report = {
        "name": name,
        "arch": args.arch,
        "recipe": vars(recipe),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "params": int(model.count_params()),
        "epochs_run": len(history["loss"]),
        "best_epoch": evaluate.best_epoch(history),
        "fit_size": fit_size,
        "val_size": val_size,
        "test_size": len(x_test),
        "test": evaluate.classification_metrics(y_test, probs),
        "class_counts": {"train": evaluate.class_counts(y_train), "test": evaluate.class_counts(y_test)},
        "data_md5": dict(config.MNIST_MD5),
        "versions": artifacts.versions(),
    }
    examples = {
        "mistake_index": wrong,  # position in the test set
        "mistake_images": x_test[wrong],  # (M, 28, 28) uint8
        "mistake_labels": y_test[wrong],
        "mistake_probs": probs[wrong].astype(np.float32),  # (M, 10)
        "sample_images": x_train[samples],  # (120, 28, 28) uint8, 12 per class
        "sample_labels": y_train[samples],
        "mean_images": evaluate.class_means(x_train, y_train),  # (10, 28, 28) float32
    }
    return report, examples


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.threads:  # before TensorFlow runs its first op, which fixes its thread pools
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    progress = runs.Progress(args.progress_file)
    try:
        report = train(args, progress)
    except KeyboardInterrupt:
        progress.write("stopped")
        raise
    except Exception as error:
        progress.write("failed", error=str(error) or type(error).__name__)
        raise
    progress.write("finished", name=report["name"], test_accuracy=report["test"]["accuracy"],
                   seconds=report["wall_seconds"])
    return report


def train(args: argparse.Namespace, progress: runs.Progress) -> dict:
    """Load MNIST, train, evaluate once on the test set, save; return the run's report."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    keras.utils.set_random_seed(args.seed)
    started = time.perf_counter()
    name = run_name(args)
    out = artifacts.model_dir(name, args.out)
    try:  # a read-only or full disk is found now, not after training
        reserve(out, RESERVE_BYTES)
    except OSError as error:
        raise cannot_save(out, error, "Nothing was trained") from error

    # Prepare the data: the official split, a stratified validation set held out of training.
    (x_train, y_train), (x_test, y_test) = data.load_mnist(args.data_dir)
    val_size = DRY_RUN["val"] if args.dry_run else args.val_size
    (x_fit, y_fit), (x_val, y_val) = training.split_validation(x_train, y_train, val_size, args.seed)
    if args.dry_run:
        x_fit, y_fit = x_fit[: DRY_RUN["fit"]], y_fit[: DRY_RUN["fit"]]
        x_test, y_test = x_test[: DRY_RUN["test"]], y_test[: DRY_RUN["test"]]
    recipe = training.recipe_for(
        args.arch, quick=args.quick, finetune=args.with_drawings,
        epochs=DRY_RUN["epochs"] if args.dry_run else args.epochs, batch_size=args.batch_size, redraw=args.redraw,
        warp=args.warp, uneven=args.uneven,
    )
    print(f"Training {args.arch!r} on {len(x_fit)} images, validating on {len(x_val)}: {recipe}")
    progress.write("begin", name=name, arch=args.arch, planned=recipe.epochs, fit_size=len(x_fit))
    callback = ReportEpochs(progress, recipe.epochs)

    # Train from scratch, or fine-tune the saved model with people's drawings.
    drawing_scores = None
    if args.with_drawings:
        model, history, drawing_scores = finetune_with_drawings(
            args, recipe, (x_fit, y_fit), (x_val, y_val), (x_test, y_test), callback)
    else:
        model, history = train_from_scratch(args, recipe, (x_fit, y_fit), (x_val, y_val), callback)

    # Evaluate once, on the test set that chose nothing.
    probs = model.predict(training.make_dataset(x_test, y_test, 1000), verbose=0)
    report, examples = summarise(
        name, args, recipe, model, history, probs, (x_train, y_train), (x_test, y_test), len(x_fit), len(x_val)
    )
    report["wall_seconds"] = time.perf_counter() - started
    if drawing_scores is not None:
        report["drawings"] = drawing_scores
    metrics, wall, wrong = report["test"], report["wall_seconds"], examples["mistake_index"]

    # Save an uncompiled copy: the optimizer's state would triple the file for nothing.
    export = network.build(args.arch)
    export.set_weights(model.get_weights())
    try:
        artifacts.save_run(out, export, history, report, examples)
    except OSError as error:
        raise cannot_save(out, error, "The trained model could not be saved") from error
    if not args.dry_run:  # the Inside page's map of 2,500 test digits (t-SNE: about 30 s)
        from digits import embedding

        try:
            embedding.build_for_model(out, (x_test, y_test), seed=args.seed, model=export, probs=probs)
        except OSError as error:
            print(f"The map could not be saved ({error}); make it with python -m digits.embedding --model {name}")
        except KeyboardInterrupt:  # the model is saved already: say so, not "nothing was saved"
            print(f"Interrupted while making the map: {name} is saved without it; "
                  f"make it with python -m digits.embedding --model {name}")

    print(
        f"\n{name}: test accuracy {metrics['accuracy']:.2%}, loss {metrics['loss']:.4f}, "
        f"macro precision {metrics['precision_macro']:.4f}, recall {metrics['recall_macro']:.4f}, "
        f"F1 {metrics['f1_macro']:.4f}\n"
        f"  {report['params']:,} parameters; {report['epochs_run']} epochs run, best epoch {report['best_epoch']} "
        f"(val loss {min(history['val_loss']):.4f}); {len(wrong)} test mistakes; wall time {wall:.0f} s\n"
        f"  saved to {out}"
    )
    if drawing_scores is not None:
        b, a = drawing_scores["before"], drawing_scores["after"]
        drop = 100 * (b["mnist_test"] - a["mnist_test"])
        print(f"  held-out drawings: {b['held_out_drawings']:.2%} -> {a['held_out_drawings']:.2%}; "
              f"MNIST test: {b['mnist_test']:.2%} -> {a['mnist_test']:.2%}"
              + (f"  WARNING: MNIST fell {drop:.2f} points (more than 0.1)" if drop > 0.1 else ""))
    return report


if __name__ == "__main__":
    # Ctrl-C, and the Training page's Stop, end a run cleanly even when it was started from a shell
    # that ignores SIGINT (a background job inherits that, and Python then raises no KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        main()
    except (data.MnistError, SaveError) as error:
        sys.exit(f"error: {error}")
    except KeyboardInterrupt:
        sys.exit("interrupted: nothing was saved; the artifacts already in model/ are unchanged")
