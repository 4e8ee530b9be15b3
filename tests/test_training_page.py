"""The Training page's "Train a model" section under AppTest: the live run, its outcome, the teacher's controls."""

from __future__ import annotations

import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from digits import config, runs, teacher
from tests.conftest import ROOT, TIMEOUT
from tests.test_runs import FAKE, write_run

RECORD = dict(name="seed-quick-1", arch="seed", length="quick")
EPOCH = {"event": "epoch", "epoch": 1, "seconds": 12.0, "loss": 0.5, "accuracy": 0.8, "val_loss": 0.4,
         "val_accuracy": 0.85}


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    """The runs and the default model in this test's own data folder; no passphrase set."""
    import streamlit as st

    st.cache_data.clear()
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    monkeypatch.setattr(config, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.delenv(teacher.KEY_ENV, raising=False)
    yield tmp_path / "runs"
    runs.stop(tmp_path / "runs", grace=1)


def run_page(as_teacher: bool = False, monkeypatch=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "training.py"), default_timeout=TIMEOUT)
    at.run()
    if as_teacher:
        at.sidebar.text_input(key="teacher_attempt").input("owl")
        next(b for b in at.sidebar.button if b.label == "Sign in").click()
        at.run()
    return at


def progress_text(at: AppTest) -> str:
    return " ".join(p.proto.text for p in at.get("progress"))


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_without_a_passphrase_nobody_starts_a_run_and_the_page_says_how_to_allow_it():
    at = run_page()
    assert not at.exception
    assert any(teacher.HOW_TO_SET in c.value for c in at.caption)
    assert "No model has been trained from the app" in at.info[0].value
    assert "Start" not in labels(at) and "Stop" not in labels(at)


def test_everyone_sees_the_run_under_way_with_its_curves(folders, monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    now = time.time()
    write_run(folders, dict(pid=None, started=now - 30, **RECORD),  # no pid yet: a start in progress
              [{"event": "begin", "time": now - 20, "planned": 2}, {**EPOCH, "seconds": 600.0, "time": now - 2}])
    at = run_page()
    assert not at.exception  # one 10-minute epoch to go, begun 2 s ago (and the page's own run)
    assert "Training **seed-quick-1** (seed, quick): epoch 1 of 2 done, about 10 min left" in progress_text(at)
    assert {"run_loss", "run_accuracy"} <= {chart.key for chart in at.get("plotly_chart")}
    assert "Start" not in labels(at) and "Stop" not in labels(at)  # a student watches
    assert any("The teacher starts a run" in c.value for c in at.caption)


def test_the_teacher_starts_a_run_a_second_start_says_when_the_first_began_and_stop_ends_it(monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    # A fake run stands in for train.py: two slow epochs.
    monkeypatch.setattr(runs, "train_command",
                        lambda arch, length, name, progress: [sys.executable, "-c", FAKE, str(progress), "2", "30"])
    at = run_page(as_teacher=True)
    at.selectbox(key="run_arch").select("simple")
    at.button(key="run_start").click()
    at.run()
    assert not at.exception
    status = runs.status()
    assert status.state == "running" and status.name == "simple-quick-1" and status.arch == "simple"
    assert "Training **simple-quick-1** (simple, quick)" in progress_text(at)

    at.button(key="run_start").click()
    at.run()
    began = time.strftime("%H:%M", time.localtime(status.started))
    assert any(f"started at {began}" in e.value and e.value.startswith("Not started: a run is already going on")
               for e in at.error)
    assert runs.status().started == status.started

    at.button(key="run_stop").click()
    at.run()
    assert runs.status().state == "stopped"
    assert any("was stopped after 0 epochs. Nothing was saved" in w.value for w in at.warning)


def test_a_finished_run_is_in_the_picker_and_the_teacher_makes_it_the_default(folders, monkeypatch):
    monkeypatch.setenv(teacher.KEY_ENV, "owl")
    now = time.time()
    # "simple" is a model in model/: it stands for the folder a finished run saved.
    write_run(folders, dict(pid=None, started=now - 100, name="simple", arch="simple", length="quick"),
              [{"event": "begin", "time": now - 90, "planned": 2}, {**EPOCH, "time": now - 50},
               {**EPOCH, "epoch": 2, "time": now - 10},
               {"event": "finished", "time": now - 5, "name": "simple", "test_accuracy": 0.9812}])
    student = run_page()
    assert "Model **simple** (simple, quick" in student.success[0].value
    assert "is in the model picker: test accuracy 98.12%" in student.success[0].value
    assert not any(label.startswith("Make") for label in labels(student))

    at = run_page(as_teacher=True)
    at.button(key="run_make_default").click()
    at.run()
    assert not at.exception and runs.default_model() == "simple"
    assert at.sidebar.selectbox(key="model_picker").value == "simple"
    assert not any(label.startswith("Make") for label in labels(at))  # it is the default now
    assert AppTest.from_file(str(ROOT / "pages" / "training.py"), default_timeout=TIMEOUT).run() \
        .sidebar.selectbox(key="model_picker").value == "simple"  # a new browser starts on it


@pytest.mark.parametrize("ending, said", [
    ({"event": "failed", "error": "could not load MNIST"}, "failed: could not load MNIST. Nothing was saved."),
    (None, "was interrupted: its process ended without finishing"),
])
def test_a_run_that_did_not_finish_is_said_plainly(folders, ending, said):
    lines = [{"event": "begin", "time": 1010.0, "planned": 2}] + ([{**ending, "time": 1020.0}] if ending else [])
    write_run(folders, dict(pid=None, started=1000.0, **RECORD), lines)  # long ago, and no process
    at = run_page()
    assert not at.exception
    assert any(said in m.value for m in [*at.error, *at.warning])
