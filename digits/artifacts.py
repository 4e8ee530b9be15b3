"""Save and load one trained model's artifacts: model/<name>/{model.keras, history, report, examples}."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from digits import config
from digits.atomic import atomic_path

# Bumped when the report's layout changes, so pages can say "retrain" rather than crash.
REPORT_FORMAT = 1


class ArtifactError(RuntimeError):
    """A model's artifacts are missing, unreadable or from another version."""


def model_dir(name: str, root: Path | None = None) -> Path:
    return Path(root if root is not None else config.MODEL_DIR) / name


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_run(out: Path, model, history: dict, report: dict, examples: dict[str, np.ndarray]) -> None:
    """Write the four artifacts of a run into folder ``out``, atomically.

    Everything is first written to temporary files beside the targets; only
    when all four are complete are they renamed into place, one after the
    other. Interrupting the run before that leaves the previous artifacts
    byte-identical.
    """
    out = Path(out)
    with contextlib.ExitStack() as stack:
        model_tmp = stack.enter_context(atomic_path(out / config.MODEL_FILE))
        model.save(model_tmp)
        report = {**report, "format": REPORT_FORMAT, "model_sha256": sha256(model_tmp)}
        history_tmp = stack.enter_context(atomic_path(out / config.HISTORY_FILE))
        history_tmp.write_text(json.dumps(history, indent=1) + "\n")
        report_tmp = stack.enter_context(atomic_path(out / config.REPORT_FILE))
        report_tmp.write_text(json.dumps(report, indent=1) + "\n")
        examples_tmp = stack.enter_context(atomic_path(out / config.EXAMPLES_FILE))
        with open(examples_tmp, "wb") as f:
            np.savez_compressed(f, **examples)
    # Leaving the ExitStack renames the temporary files into place, last opened first.


def list_models(root: Path | None = None) -> list[str]:
    """Names of the model folders under ``root`` that hold a model and a report, default first."""
    root = Path(root if root is not None else config.MODEL_DIR)
    if not root.is_dir():
        return []
    names = sorted(
        p.name for p in root.iterdir() if (p / config.MODEL_FILE).is_file() and (p / config.REPORT_FILE).is_file()
    )
    return sorted(names, key=lambda n: n != config.DEFAULT_MODEL)


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise ArtifactError(f"no {what} at {path}") from error
    except (OSError, ValueError) as error:
        raise ArtifactError(f"the {what} at {path} is unreadable: {error}") from error


def load_report(folder: Path) -> dict:
    report = _read_json(Path(folder) / config.REPORT_FILE, "report")
    if report.get("format") != REPORT_FORMAT:
        raise ArtifactError(
            f"the report in {folder} has format {report.get('format')!r}, this app reads {REPORT_FORMAT}"
        )
    return report


def load_history(folder: Path) -> dict[str, list[float]]:
    return _read_json(Path(folder) / config.HISTORY_FILE, "training history")


def load_examples(folder: Path) -> dict[str, np.ndarray]:
    path = Path(folder) / config.EXAMPLES_FILE
    try:
        with np.load(path, allow_pickle=False) as npz:  # never unpickle: a file is data, not code
            return {key: npz[key] for key in npz.files}
    except FileNotFoundError as error:
        raise ArtifactError(f"no examples file at {path}") from error
    except (OSError, ValueError) as error:
        raise ArtifactError(f"the examples file at {path} is unreadable: {error}") from error


def load_model(path: Path):
    """Load a ``.keras`` model in safe mode (a model file cannot run code)."""
    import keras  # imported here: the dashboards never need TensorFlow

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"no model at {path}")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged zip
        raise ArtifactError(f"the model at {path} could not be loaded: {error}") from error


def load_if_trained(path: Path):
    """`load_model` of ``path``, or None when nothing has been trained there (a helper network not yet made)."""
    return load_model(path) if Path(path).exists() else None


def save_weights_into(fresh, model, path: Path) -> None:
    """Write ``model``'s weights into ``fresh`` (the same architecture, uncompiled) and save it at ``path``,
    atomically: without the optimiser's state, a third of the size."""
    fresh.set_weights(model.get_weights())
    with atomic_path(path) as staged:
        fresh.save(staged)


def versions() -> dict[str, str]:
    """Versions of the libraries a run used, for its report."""
    import platform

    import keras
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "cpu_count": str(os.cpu_count()),
    }
