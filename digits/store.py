"""People's labelled drawings, in a local SQLite database (data/drawings.sqlite).

One row per drawing the user labelled: the 28x28 input the model saw, the raw
canvas PNG, the model's probabilities, the model's name, the true label, a
timestamp and an anonymous session id. The database is created on first use,
runs in WAL mode so a classroom of writers and the tally page's readers do not
block each other, and carries its schema version in ``PRAGMA user_version``.
"""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from digits import config

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,                                   -- Unix time, seconds
    session TEXT NOT NULL,                                   -- anonymous, one per browser session
    model TEXT NOT NULL,                                     -- the model that read it
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),    -- what the person says it is
    predicted INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
    probs BLOB NOT NULL,                                     -- 10 float32
    image BLOB NOT NULL,                                     -- 28 x 28 float32, the model's input
    canvas_png BLOB NOT NULL                                 -- the canvas as drawn
);
CREATE INDEX IF NOT EXISTS drawings_created ON drawings (created);
"""
IMAGE_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE)


class StoreError(RuntimeError):
    """The database cannot be opened or is of another version."""


@dataclass(frozen=True)
class Drawings:
    """Every stored drawing, as arrays (oldest first)."""

    ids: np.ndarray  # (N,) int64
    created: np.ndarray  # (N,) float64, Unix time
    sessions: list[str]
    models: list[str]
    labels: np.ndarray  # (N,) int64
    predicted: np.ndarray  # (N,) int64, as read when it was labelled
    probs: np.ndarray  # (N, 10) float32
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]

    def __len__(self) -> int:
        return len(self.ids)


class Connection(sqlite3.Connection):
    """A connection that the server's threads can share: this module's functions take turns on it.

    One sqlite3 connection used by two threads at once mixes their
    transactions: measured with 8 threads adding 200 drawings each, about
    100 calls failed ("cannot start a transaction within a transaction") and
    a third of the returned ids belonged to another thread's drawing.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lock = threading.RLock()


def connect(path: Path | None = None) -> Connection:
    """Open (and on first use create) the drawings database."""
    path = Path(path) if path is not None else config.DATA_DIR / "drawings.sqlite"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False, factory=Connection)
        conn.execute("PRAGMA journal_mode=WAL")  # readers never wait for writers
        conn.execute("PRAGMA busy_timeout=30000")  # writers queue instead of failing
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise StoreError(f"{path} has schema version {version}; this app reads version {SCHEMA_VERSION}")
        with conn:
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    except (OSError, sqlite3.Error) as error:
        raise StoreError(f"cannot open the drawings database at {path}: {error}") from error
    return conn


def _check_label(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
        raise ValueError(f"a label must be a digit from 0 to 9, got {label!r}")
    return int(label)


def add(conn: Connection, *, image: np.ndarray, canvas_png: bytes, probs: np.ndarray, label: int,
        model: str, session: str, created: float | None = None) -> int:
    """Store one labelled drawing; return its id.

    Parameters
    ----------
    image : (28, 28) float ndarray in [0, 1]
        The model's input.
    probs : (10,) float ndarray
        What the model answered.
    """
    label = _check_label(label)
    image = np.asarray(image, np.float32)
    probs = np.asarray(probs, np.float32)
    if image.shape != IMAGE_SHAPE or probs.shape != (config.NUM_CLASSES,):
        raise ValueError(f"expected a (28, 28) image and 10 probabilities, got {image.shape} and {probs.shape}")
    with conn.lock, conn:
        cursor = conn.execute(
            "INSERT INTO drawings (created, session, model, label, predicted, probs, image, canvas_png)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (time.time() if created is None else created, session, model, label, int(probs.argmax()),
             probs.tobytes(), image.tobytes(), bytes(canvas_png)),
        )
    return int(cursor.lastrowid)


def relabel(conn: Connection, drawing_id: int, label: int) -> None:
    """Change a stored drawing's label (the person picked again)."""
    with conn.lock, conn:
        conn.execute("UPDATE drawings SET label = ? WHERE id = ?", (_check_label(label), int(drawing_id)))


def delete(conn: Connection, drawing_id: int) -> None:
    with conn.lock, conn:
        conn.execute("DELETE FROM drawings WHERE id = ?", (int(drawing_id),))


def delete_all(conn: Connection) -> None:
    with conn.lock, conn:
        conn.execute("DELETE FROM drawings")


def count(conn: Connection) -> int:
    with conn.lock:
        return conn.execute("SELECT COUNT(*) FROM drawings").fetchone()[0]


def load(conn: Connection, since: float = 0.0) -> Drawings:
    """Every drawing stored at or after ``since`` (Unix time), oldest first."""
    with conn.lock:
        rows = conn.execute(
            "SELECT id, created, session, model, label, predicted, probs, image FROM drawings"
            " WHERE created >= ? ORDER BY created, id",
            (since,),
        ).fetchall()
    return Drawings(
        ids=np.array([r[0] for r in rows], np.int64),
        created=np.array([r[1] for r in rows], np.float64),
        sessions=[r[2] for r in rows],
        models=[r[3] for r in rows],
        labels=np.array([r[4] for r in rows], np.int64),
        predicted=np.array([r[5] for r in rows], np.int64),
        probs=np.array([np.frombuffer(r[6], np.float32) for r in rows], np.float32).reshape(-1, 10),
        images=np.array([np.frombuffer(r[7], np.float32).reshape(IMAGE_SHAPE) for r in rows],
                        np.float32).reshape((-1,) + IMAGE_SHAPE),
    )


def canvas_png(conn: Connection, drawing_id: int) -> bytes:
    with conn.lock:
        row = conn.execute("SELECT canvas_png FROM drawings WHERE id = ?", (int(drawing_id),)).fetchone()
    if row is None:
        raise KeyError(f"no drawing with id {drawing_id}")
    return row[0]


def encode_canvas(rgba: np.ndarray) -> bytes:
    """An RGBA canvas as PNG bytes, as the draw page stores it.

    Parameters
    ----------
    rgba : (H, W, 4) uint8 ndarray
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 4) uint8 canvas, got {rgba.shape} {rgba.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_canvas(png: bytes) -> np.ndarray | None:
    """A stored canvas PNG as the draw page read it, or None when it is not a readable PNG.

    Returns
    -------
    (H, W, 4) uint8 ndarray, or None
        The canvas in RGBA; its alpha channel is the ink.
    """
    try:
        with Image.open(io.BytesIO(png)) as image:
            return np.asarray(image.convert("RGBA"))
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def canvases(conn: Connection, ids) -> list[np.ndarray | None]:
    """The canvases of drawings ``ids``, in that order, decoded (None where unreadable or missing)."""
    ids = [int(i) for i in ids]
    rows = {}
    with conn.lock:
        for start in range(0, len(ids), 500):  # SQLite caps the parameters of one statement
            chunk = ids[start : start + 500]
            query = f"SELECT id, canvas_png FROM drawings WHERE id IN ({','.join('?' * len(chunk))})"
            rows.update(conn.execute(query, chunk).fetchall())
    return [decode_canvas(rows[i]) if i in rows else None for i in ids]


def export_npz(drawings: Drawings) -> bytes:
    """The drawings as a ``.npz`` file: images (N, 28, 28) uint8 like MNIST's, labels (N,) uint8."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        images=np.round(drawings.images * 255).astype(np.uint8),
        labels=drawings.labels.astype(np.uint8),
    )
    return buffer.getvalue()
