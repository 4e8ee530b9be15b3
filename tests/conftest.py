"""Shared fixtures: a tiny fake MNIST, the app's model folder, a canvas with a drawn digit."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from digits import config, data

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60  # an AppTest's first run loads TensorFlow and the model


def fake_split(n_train: int = 1000, n_test: int = 200, seed: int = 0):
    """Random uint8 images with every class present in both parts (not MNIST: for plumbing only)."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8)
    y_train = (np.arange(n_train) % 10).astype(np.uint8)
    y_test = (np.arange(n_test) % 10).astype(np.uint8)
    return (x_train, y_train), (x_test, y_test)


@pytest.fixture
def fake_mnist(tmp_path, monkeypatch):
    """A directory of IDX files for a fake split, with the checksum table patched to accept them.

    Returns (directory, split). The cache is redirected to a temporary folder.
    """
    split = fake_split()
    (x_train, y_train), (x_test, y_test) = split
    arrays = dict(zip(config.MNIST_MD5, (x_train, y_train, x_test, y_test)))
    folder = tmp_path / "idx"
    folder.mkdir()
    for name, array in arrays.items():
        raw = data.encode_idx(array)
        (folder / name).write_bytes(raw)
        monkeypatch.setitem(config.MNIST_MD5, name, hashlib.md5(raw).hexdigest())
    monkeypatch.setattr(config, "MNIST_CACHE_DIR", tmp_path / "cache")
    return folder, split


def touching_ten(size=(320, 320)) -> np.ndarray:
    """A "10" in one piece of ink: a 1, and a 0 whose left side runs into it."""
    t = np.linspace(0, 2 * np.pi, 41)
    zero = np.stack([160 + 80 * np.sin(t), 185 - 65 * np.cos(t)], 1)
    return np.maximum(stroke_canvas([(80, 100), (240, 100)], size), stroke_canvas(zero, size))


def touching_zeros(size=(320, 320)) -> np.ndarray:
    """A "00" in one piece of ink: two upright rings whose sides touch (the splitter keeps them whole)."""
    t = np.linspace(0, 2 * np.pi, 41)
    return np.maximum(*(stroke_canvas(np.stack([160 + 70 * np.sin(t), centre - 35 * np.cos(t)], 1), size)
                        for centre in (120, 190)))


def constant_model(shape: tuple[int, ...], outputs: np.ndarray, activation: str | None = None):
    """A Keras model that answers ``outputs`` (through ``activation``) for any input of ``shape``: a stand-in
    for a trained network whose answer a test chooses."""
    import keras

    inputs = keras.Input(shape)
    dense = keras.layers.Dense(len(outputs), kernel_initializer="zeros", activation=activation,
                               bias_initializer=keras.initializers.Constant(np.asarray(outputs, np.float32)))
    return keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))


def stroke_canvas(points, size=(320, 320), width=22) -> np.ndarray:
    """An RGBA canvas with a polyline drawn in opaque ink along ``points`` (row, col) pairs."""
    from skimage.draw import disk, line

    alpha = np.zeros(size, np.uint8)
    for (r0, c0), (r1, c1) in zip(points, points[1:]):
        rr, cc = line(int(r0), int(c0), int(r1), int(c1))
        for r, c in zip(rr, cc):
            dr, dc = disk((r, c), width / 2, shape=size)
            alpha[dr, dc] = 255
    rgba = np.zeros(size + (4,), np.uint8)
    rgba[..., 3] = alpha
    return rgba


class FakeCanvas:
    """What st_canvas returns: image_data is None until something is drawn."""

    def __init__(self, image_data):
        from digits import store

        self.image_data = image_data
        self.image_bytes = None if image_data is None else store.encode_canvas(image_data)  # a PNG, as drawn
        # The component's JSON changes with every stroke; the ink sum stands in for it.
        self.json_data = None if image_data is None else {"objects": [int(image_data[..., 3].sum())]}


@contextlib.contextmanager
def canvas_reporting(result):
    """Stand in for the canvas component's module, so the page gets ``result`` from ``st_canvas``.

    The real module is not imported: it registers a browser component, which
    outside a running server depends on what was imported before. Only this
    one entry of sys.modules is swapped and restored: restoring all of it would
    drop TensorFlow, which cannot be loaded twice in one process.
    """
    import sys
    import types

    module = types.ModuleType("streamlit_drawable_canvas")
    module.st_canvas = lambda **kwargs: result
    previous = sys.modules.get("streamlit_drawable_canvas")
    sys.modules["streamlit_drawable_canvas"] = module
    try:
        yield
    finally:
        if previous is None:
            del sys.modules["streamlit_drawable_canvas"]
        else:
            sys.modules["streamlit_drawable_canvas"] = previous


def fake_canvas(image_data):
    """The canvas reporting ``image_data`` as drawn (None: nothing drawn yet)."""
    return canvas_reporting(FakeCanvas(image_data))


def run_draw_page(image_data, at=None):
    """Run (or rerun) the draw page with the canvas reporting ``image_data``."""
    from streamlit.testing.v1 import AppTest

    with fake_canvas(image_data):
        at = at or AppTest.from_file(str(ROOT / "pages" / "draw.py"), default_timeout=TIMEOUT)
        at.run()
    return at


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole run (skipped only where its binaries are not installed)."""
    from tests.postgres import Cluster, bindir

    if bindir() is None:
        pytest.skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql; CI installs it)")
    with Cluster() as cluster:
        yield cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A new empty drawings database on each kind the store runs on: a SQLite path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        yield str(tmp_path / "drawings.sqlite")
        return
    cluster = request.getfixturevalue("postgres")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture
def db(database_url):
    """An empty drawings store on each kind of database (see ``database_url``)."""
    from digits import store

    db = store.connect(database_url)
    yield db
    db.close()  # PostgreSQL drops a test's database only once its connections are gone
