"""The server's one training run (digits.runs), driven with a fake short-lived command: no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from digits import config, runs

# Stands in for train.py: "begin", an epoch every `pause` seconds, "finished"; Ctrl-C writes "stopped".
# With a fourth argument it ignores Ctrl-C, as a process stuck in native code would.
FAKE = """
import signal, sys, time
from digits.runs import Progress
progress, epochs, pause = Progress(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
# As train.py does: Ctrl-C interrupts even if this was started from a shell that ignores it.
signal.signal(signal.SIGINT, signal.SIG_IGN if len(sys.argv) > 4 else signal.default_int_handler)
try:
    progress.write("begin", planned=epochs)
    for epoch in range(1, epochs + 1):
        time.sleep(pause)
        progress.write("epoch", epoch=epoch, epochs=epochs, loss=1 / epoch, accuracy=1 - 1 / (epoch + 1),
                       val_loss=2 / epoch, val_accuracy=1 - 2 / (epoch + 2), seconds=pause)
    progress.write("finished", name="fake", test_accuracy=0.5)
except KeyboardInterrupt:
    progress.write("stopped")
"""


def fake_run(folder, epochs: int = 3, pause: float = 0.05, ignore_ctrl_c: bool = False,
             name: str = "fake") -> runs.Status:
    command = [sys.executable, "-c", FAKE, str(folder / runs.PROGRESS_FILE), str(epochs), str(pause)]
    return runs.launch(command + ["ignore"] * ignore_ctrl_c, "seed", "quick", name, folder)


def wait_for_state(folder, state: str, timeout: float = 20.0) -> runs.Status:
    deadline = time.monotonic() + timeout
    while (status := runs.status(folder)).state != state and time.monotonic() < deadline:
        time.sleep(0.05)
    return status


def wait_for_begin(folder, timeout: float = 20.0) -> None:
    """Until the fake has written its first line: past its imports, its Ctrl-C handling in place."""
    deadline = time.monotonic() + timeout
    while runs.status(folder).planned is None and time.monotonic() < deadline:
        time.sleep(0.05)


def write_run(folder, record: dict, lines: list[dict]) -> None:
    """A run's files as a server left them: its record and its progress lines."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / runs.RECORD_FILE).write_text(json.dumps(record))
    (folder / runs.PROGRESS_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))


@pytest.fixture
def folder(tmp_path):
    yield tmp_path / "runs"
    runs.stop(tmp_path / "runs", grace=1)  # a test that fails midway leaves no process behind


def test_the_command_is_train_py_niced_on_one_thread(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path / "model")
    command = runs.train_command("seed", "quick", "seed-quick-1", tmp_path / "p.jsonl")
    assert command == ["nice", "-n", "10", sys.executable, str(config.ROOT / "train.py"), "--arch", "seed",
                       "--name", "seed-quick-1", "--out", str(tmp_path / "model"), "--progress-file",
                       str(tmp_path / "p.jsonl"), "--threads", "1", "--verbose", "2", "--quick"]
    assert "--quick" not in runs.train_command("strong", "full", "strong-full-1", tmp_path / "p.jsonl")


def test_a_run_reports_each_epoch_then_finishes(folder):
    started = fake_run(folder, epochs=3)
    assert started.state == "running" and started.name == "fake"
    status = wait_for_state(folder, "finished")
    assert status.state == "finished" and status.planned == 3
    assert [e["epoch"] for e in status.epochs] == [1, 2, 3]
    assert status.history["loss"] == [1.0, 0.5, 1 / 3] and status.ending["test_accuracy"] == 0.5


def test_a_second_start_is_refused_saying_when_the_first_began(folder):
    first = fake_run(folder, epochs=1, pause=30)
    began = time.strftime("%H:%M", time.localtime(first.started))
    with pytest.raises(runs.RunInProgress, match=f"fake .*started at {began}"):
        runs.start("simple", "quick", "simple-quick-1", folder)
    with pytest.raises(runs.RunInProgress):
        fake_run(folder)
    assert runs.status(folder).started == first.started  # the first run's record is untouched


def test_a_start_after_the_run_ended_replaces_its_files(folder):
    fake_run(folder, epochs=2)
    wait_for_state(folder, "finished")
    second = fake_run(folder, epochs=1, pause=30, name="second")
    assert second.name == "second" and second.state == "running" and second.epochs == []


def test_status_from_a_progress_file(folder):
    write_run(folder, dict(pid=None, name="seed-quick-1", arch="seed", length="quick", started=1000.0), [
        {"event": "begin", "time": 1010.0, "planned": 5},
        {"event": "epoch", "time": 1030.0, "epoch": 1, "seconds": 10.0, "loss": 0.5, "accuracy": 0.8,
         "val_loss": 0.4, "val_accuracy": 0.85},
        {"event": "epoch", "time": 1050.0, "epoch": 2, "seconds": 20.0, "loss": 0.3, "accuracy": 0.9,
         "val_loss": 0.2, "val_accuracy": 0.95},
    ])
    status = runs.status(folder, now=1055.0)  # the record is 55 s old: still starting, by its missing pid
    assert status.state == "running" and status.planned == 5 and len(status.epochs) == 2
    assert status.seconds_per_epoch == 15.0
    assert status.time_left == 3 * 15.0 - 5.0  # three epochs to go, five seconds into the next
    assert status.history == {"loss": [0.5, 0.3], "accuracy": [0.8, 0.9], "val_loss": [0.4, 0.2],
                              "val_accuracy": [0.85, 0.95], "seconds": [10.0, 20.0]}


def test_a_half_written_last_line_waits_for_the_next_read(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"event": "begin", "planned": 2}\n{"event": "epo')
    assert runs.read_progress(path) == [{"event": "begin", "planned": 2}]


@pytest.mark.parametrize("whose", ["gone", "another program's"])
def test_a_run_whose_process_is_gone_without_a_last_line_is_interrupted(folder, whose):
    if whose == "gone":
        ended = subprocess.Popen(["true"])
        ended.wait()
        pid = ended.pid
    else:
        pid = os.getpid()  # alive, but not a run: the pid was reused
    write_run(folder, dict(pid=pid, name="seed-quick-1", arch="seed", length="quick", started=time.time()),
              [{"event": "begin", "time": time.time(), "planned": 2}])
    assert runs.status(folder).state == "interrupted"


def test_stop_ends_the_run_with_ctrl_c(folder):
    fake_run(folder, epochs=2, pause=30)
    pid = json.loads((folder / runs.RECORD_FILE).read_text())["pid"]
    wait_for_begin(folder)
    start = time.monotonic()
    status = runs.stop(folder)
    assert status.state == "stopped" and time.monotonic() - start < 5
    assert status.ending["event"] == "stopped"  # the run itself wrote it: it ended cleanly
    assert not os.path.exists(f"/proc/{pid}")


def test_stop_kills_a_run_that_ignores_ctrl_c(folder):
    fake_run(folder, epochs=1, pause=30, ignore_ctrl_c=True)
    wait_for_begin(folder)
    status = runs.stop(folder, grace=0.5)
    assert status.state == "stopped" and status.ending is None  # killed: only the record says so


def test_stop_without_a_run_does_nothing(folder):
    assert runs.stop(folder) is None


def test_start_refuses_a_name_a_model_has_and_an_unknown_architecture(folder):
    with pytest.raises(ValueError, match="no trained model has"):
        runs.start("seed", "quick", "seed", folder)  # the shipped model is never overwritten
    with pytest.raises(ValueError, match="choose one of strong, seed"):
        runs.start("huge", "quick", "huge-1", folder)
    assert runs.status(folder) is None


def test_free_name_skips_the_names_of_trained_models(tmp_path):
    for taken in ("seed-quick-1", "seed-quick-2"):
        (tmp_path / taken).mkdir()
        (tmp_path / taken / config.MODEL_FILE).write_bytes(b"m")
        (tmp_path / taken / config.REPORT_FILE).write_text("{}")
    (tmp_path / "seed-quick-3").mkdir()  # a stopped run's empty folder holds no model
    assert runs.free_name("seed", "quick", tmp_path) == "seed-quick-3"


def test_the_teacher_s_default_model_outlives_the_session(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    assert runs.default_model() == config.DEFAULT_MODEL
    runs.set_default_model("seed")
    assert runs.default_model() == "seed" and (tmp_path / "default_model").read_text() == "seed\n"
    with pytest.raises(ValueError, match="no trained model named 'nope'"):
        runs.set_default_model("nope")
    (tmp_path / "default_model").write_text("deleted-since\n")
    assert runs.default_model() == config.DEFAULT_MODEL


def test_the_architectures_are_the_network_s():
    from digits import network

    assert runs.ARCHITECTURES == tuple(network.ARCHITECTURES)


@pytest.mark.slow
def test_train_py_writes_each_epoch_and_its_outcome_to_the_progress_file(fake_mnist, tmp_path):
    import train

    folder, _ = fake_mnist
    progress = tmp_path / "progress.jsonl"
    report = train.main(["--arch", "seed", "--dry-run", "--data-dir", str(folder),
                         "--out", str(tmp_path / "m"), "--progress-file", str(progress), "--verbose", "0"])
    lines = runs.read_progress(progress)
    assert [line["event"] for line in lines] == ["begin", "epoch", "finished"]  # a dry run is one epoch
    assert lines[0]["planned"] == 1 and lines[1]["epoch"] == 1
    assert lines[1]["val_loss"] == pytest.approx(min(json.loads((tmp_path / "m" / "seed-dry-run" /
                                                                  config.HISTORY_FILE).read_text())["val_loss"]))
    assert lines[2]["name"] == "seed-dry-run" and lines[2]["test_accuracy"] == report["test"]["accuracy"]
