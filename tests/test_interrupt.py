"""Killing train.py at any moment never damages the model already in place."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from digits import artifacts, config
from tests.conftest import ROOT

# Runs train.py with the fake MNIST's checksums (the fixture patches them in this process only).
HARNESS = """
import json, sys
from digits import config
config.MNIST_MD5.update(json.loads(sys.argv[1]))
import train
train.main(sys.argv[2:])
"""


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize("after", [1.0, 4.0, 6.5, 7.8], ids=["starting", "loading", "training", "saving"])
def test_killing_train_leaves_the_shipped_model_intact(fake_mnist, tmp_path, sig, after):
    folder, _ = fake_mnist
    target = tmp_path / "model" / "seed"
    shutil.copytree(artifacts.model_dir("seed"), target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    command = [sys.executable, "-c", HARNESS, json.dumps(dict(config.MNIST_MD5)), "--arch", "seed", "--name", "seed",
               "--dry-run", "--data-dir", str(folder), "--out", str(target.parent), "--verbose", "0"]
    # Its own data folder: the fake MNIST must never land in the project's cache.
    env = {**os.environ, "DIGITS_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(after)
    was_running = process.poll() is None
    process.send_signal(sig)
    process.wait(timeout=120)

    # Temporary files are dot-files (a SIGKILL can leave one); the artifacts are the same four.
    after_files = {p.name: p.read_bytes() for p in target.iterdir() if not p.name.startswith(".")}
    assert set(after_files) == set(before)
    if after_files != before:
        # Only a run that got as far as renaming its files into place may change them,
        # and then they form one consistent set: the report describes the model beside it.
        report = artifacts.load_report(target)
        assert report["model_sha256"] == artifacts.sha256(target / config.MODEL_FILE)
        assert report["name"] == "seed" and report["args"]["dry_run"] is True
    else:
        assert was_running, "the run ended before the signal, yet changed nothing"
