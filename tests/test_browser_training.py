"""End to end in a real browser: the teacher trains a model from the Training page and everyone watches it.

The app server gets a data folder of its own with a fake MNIST in its cache (random images: this
is plumbing, not learning), and a copy of model/. The fake files do not have the official
checksums; a ``sitecustomize.py`` on the server's PYTHONPATH adds theirs in every Python process
it starts, the server and the train.py it runs alike, so the product needs no test switch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest

from digits import config, data, runs
from support import browser
from tests.conftest import ROOT, fake_split

pytestmark = [
    pytest.mark.browser,
    # On a developer machine without chromium the test is skipped; in CI it must run.
    pytest.mark.skipif(
        not browser.chromium_available() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it",
    ),
]

# 13,000 training images, 5,000 of them held out: a quick run's epoch takes several seconds here.
FAKE_SIZES = dict(n_train=13_000, n_test=1_000)
SITECUSTOMIZE = """
import json, os
if os.environ.get("DIGITS_FAKE_MNIST_MD5"):  # accept this test's fake MNIST files
    from digits import config
    config.MNIST_MD5.update(json.loads(os.environ["DIGITS_FAKE_MNIST_MD5"]))
"""
PASSPHRASE = "owl"


def shipped_models(paths: list[str] | None = None) -> dict[str, str]:
    """SHA-256 of each of ``paths``, by default every file of the models that ship with the repository."""
    if paths is None:
        tracked = subprocess.run(["git", "ls-files", "model"], cwd=ROOT, capture_output=True, text=True, check=True)
        paths = tracked.stdout.split()
    return {path: hashlib.sha256((ROOT / path).read_bytes()).hexdigest() for path in paths}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """An app server with a fake MNIST, a copy of model/ and a teacher passphrase; a browser."""
    root = tmp_path_factory.mktemp("training")
    cache = root / "data" / "mnist"
    cache.mkdir(parents=True)
    checksums = {}
    for name, array in zip(config.MNIST_MD5, (a for part in fake_split(**FAKE_SIZES) for a in part)):
        raw = data.encode_idx(array)
        (cache / name).write_bytes(raw)
        checksums[name] = hashlib.md5(raw).hexdigest()
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    shutil.copytree(config.MODEL_DIR, root / "model")
    env = {"DIGITS_DATA_DIR": str(root / "data"), "DIGITS_MODEL_DIR": str(root / "model"),
           "DIGITS_TEACHER_KEY": PASSPHRASE, "PYTHONPATH": str(root / "site"),
           "DIGITS_FAKE_MNIST_MD5": json.dumps(checksums)}
    before = shipped_models()
    try:
        with browser.streamlit_server(env=env) as server, browser.browser() as chromium:
            yield server.url, chromium, root
    finally:
        runs.stop(root / "data" / "runs", grace=5)  # a failed test leaves no run behind
    assert shipped_models(list(before)) == before, "a run changed the shipped models"


@pytest.fixture(scope="module")
def page(app):
    url, chromium, _ = app
    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{url}/training")
    page.get_by_text("Train a model").wait_for(timeout=60_000)
    yield page
    page.close()


def sign_in(page) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Teacher").click()
    sidebar.get_by_label("Passphrase").fill(PASSPHRASE)
    sidebar.get_by_role("button", name="Sign in").click()
    sidebar.get_by_text("Signed in as the teacher").wait_for(timeout=20_000)


def progress_text(page) -> str:
    """The first progress bar's text, or "" while there is none.

    ``all_inner_texts`` reads what is there now; counting first and then reading waits up to 30 s
    for a bar that a rerun removed in between.
    """
    texts = page.get_by_test_id("stProgress").all_inner_texts()
    return texts[0] if texts else ""


def run_loss_points(page) -> int:
    """How many epochs the live loss chart draws (its training line's points)."""
    return page.evaluate("""() => {
        const plot = document.querySelector('.st-key-run_loss .js-plotly-plot');
        return plot && plot.data ? plot.data[0].x.length : 0;
    }""")


def watch(page, until, timeout: float) -> list[tuple[str, int]]:
    """(progress text, epochs charted) every few tenths of a second, until ``until(page)`` or ``timeout``."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append((progress_text(page), run_loss_points(page)))
        if until(page):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"gave up after {timeout:.0f} s; the page showed {seen[-5:]}")


def finished(page) -> bool:
    return page.get_by_text("is in the model picker").count() > 0


def test_a_quick_run_streams_its_epochs_and_its_model_joins_the_picker(page, app):
    sign_in(page)
    page.get_by_role("button", name="Start").click()
    seen = watch(page, finished, timeout=300)
    texts = [text for text, _ in seen]
    first = next(i for i, t in enumerate(texts) if "epoch 1 of 2 done" in t)  # arrived while the page was open
    assert texts[first].startswith("Training seed-quick-1 (seed, quick): epoch 1 of 2 done, about")
    assert any(points == 1 for _, points in seen[first:]), "the curves did not show epoch 1"
    page.get_by_text("is in the model picker").wait_for()
    assert watch(page, lambda p: run_loss_points(p) == 2, timeout=20)  # both epochs drawn, without a reload
    _, _, root = app
    assert (root / "model" / "seed-quick-1" / config.MODEL_FILE).is_file()


def test_a_second_run_stopped_midway_saves_nothing(page, app):
    _, _, root = app
    page.get_by_role("button", name="Start").click()
    watch(page, lambda p: "Training seed-quick-2" in progress_text(p) and "epoch 1 of 2 done" in progress_text(p),
          timeout=300)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("was stopped after 1 epoch.").wait_for(timeout=30_000)
    status = runs.status(root / "data" / "runs")
    assert status.state == "stopped" and status.name == "seed-quick-2" and len(status.epochs) == 1
    assert not (root / "model" / "seed-quick-2" / config.MODEL_FILE).exists()


def test_the_first_run_s_model_is_in_the_picker_and_its_page_shows_it(page):
    page.reload()
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").click()
    page.get_by_role("option").first.wait_for()
    options = page.get_by_role("option").all_inner_texts()
    assert "seed-quick-1" in options and "seed-quick-2" not in options  # the stopped run saved nothing
    page.get_by_role("option", name="seed-quick-1").click()
    page.get_by_text("Model seed-quick-1:").wait_for(timeout=30_000)  # its report and curves load
