"""Atomic artifacts: an interrupted save never damages what was there."""

import numpy as np
import pytest

from digits import artifacts, config, network
from digits.atomic import atomic_path, write_bytes_atomic


def test_atomic_write_replaces_the_file(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the ne")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def _save(out, model, marker: float):
    history = {"loss": [marker], "val_loss": [marker]}
    report = {"name": "m", "marker": marker}
    examples = {"mean_images": np.full((10, 28, 28), marker, np.float32)}
    artifacts.save_run(out, model, history, report, examples)


def test_interrupted_save_run_leaves_previous_artifacts_byte_identical(tmp_path, monkeypatch):
    out = tmp_path / "seed"
    model = network.build("seed")
    _save(out, model, 1.0)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def killed(*args, **kwargs):  # Ctrl-C while the last file is being written
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", killed)
    with pytest.raises(KeyboardInterrupt):
        _save(out, network.build("seed"), 2.0)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before  # same files, same bytes, no temporaries left behind


def test_save_run_round_trips(tmp_path):
    out = tmp_path / "seed"
    _save(out, network.build("seed"), 3.0)
    assert artifacts.load_report(out)["marker"] == 3.0
    assert artifacts.load_history(out)["loss"] == [3.0]
    assert artifacts.load_examples(out)["mean_images"][0, 0, 0] == 3.0
    assert artifacts.list_models(tmp_path) == ["seed"]


def test_report_of_another_format_is_refused(tmp_path):
    (tmp_path / config.REPORT_FILE).write_text('{"format": 0}')
    with pytest.raises(artifacts.ArtifactError, match="format 0, this app reads 1"):
        artifacts.load_report(tmp_path)


def test_truncated_model_is_a_clear_error(tmp_path):
    path = tmp_path / config.MODEL_FILE
    write_bytes_atomic(path, b"PK\x03\x04 not really a zip")
    with pytest.raises(artifacts.ArtifactError, match="could not be loaded"):
        artifacts.load_model(path)


def test_examples_holding_pickled_objects_are_refused(tmp_path):
    # An object array can only be stored pickled; loading it could run code.
    np.savez(tmp_path / config.EXAMPLES_FILE, evil=np.array([{"a": 1}], dtype=object))
    with pytest.raises(artifacts.ArtifactError, match="unreadable"):
        artifacts.load_examples(tmp_path)
