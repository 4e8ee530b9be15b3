"""Drawings in and out as files: the .npz export in bounded memory, training's load, canvas PNGs."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError

from digits import config
from digits.store.base import (
    IMAGE_SHAPE,
    Scope,
    Store,
    StoreError,
    _guarded,
    _image,
    _transaction,
    _where,
    drawings,
)


def _chunks(conn: sa.Connection, column: sa.Column, scope: Scope, last_id: int, chunk: int) -> Iterator[list]:
    """The values of ``column`` for the drawings in ``scope`` with id <= ``last_id``, by id, ``chunk`` at a time."""
    after = scope.after_id
    while found := conn.execute(sa.select(drawings.c.id, column).where(
            *_where(Scope(scope.session, after)), drawings.c.id <= last_id)
            .order_by(drawings.c.id).limit(chunk)).all():
        yield [value for _, value in found]
        after = found[-1][0]


def _write_npy(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], parts: Iterator[np.ndarray]) -> None:
    """Write an uint8 array of known ``shape`` into ``archive`` as ``name``, part by part."""
    header = {**np.lib.format.header_data_from_array_1_0(np.empty((0,), np.uint8)), "shape": shape}
    written = 0
    with archive.open(name, "w", force_zip64=True) as f:  # zip64: the size is not known to zipfile up front
        np.lib.format.write_array_header_1_0(f, header)
        for part in parts:
            f.write(np.ascontiguousarray(part, np.uint8).tobytes())
            written += part.size
    if written != int(np.prod(shape)):  # cannot happen inside one snapshot; a torn file must not pass silently
        raise StoreError(f"{name}: expected {np.prod(shape)} values, wrote {written}")


def _as_uint8(blobs: list[bytes]) -> np.ndarray:
    """Model inputs (float32 in [0, 1]) as MNIST's uint8 pixels, with one float copy of the chunk at most."""
    pixels = np.clip(np.frombuffer(b"".join(blobs), np.float32), 0, 1)
    pixels *= 255
    return np.rint(pixels, out=pixels).astype(np.uint8)


@_guarded("could not export the drawings")
def export_npz(db: Store, out: BinaryIO | Path, scope: Scope = Scope(), *, chunk: int = 5000) -> int:
    """Write the drawings in ``scope`` as an ``.npz`` in bounded memory; return how many.

    The archive holds ``images.npy``, (N, 28, 28) uint8 like MNIST's, and
    ``labels.npy``, (N,) uint8, oldest drawing first; ``np.load`` reads it.
    A label is a digit, or 10 (``config.NOT_A_DIGIT``) for a drawing that is
    not one; ``label_names.npy`` says so in the file: (11,) str, the name of
    each label by its value ("0" ... "9", "not a digit").
    """
    with _transaction(db, snapshot=True) as conn:  # one snapshot: the count and the rows agree
        n, last_id = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.max(drawings.c.id), 0))
                                  .where(*_where(scope))).one()
        # Level 1: at 100,000 drawings, 2.6 s instead of level 6's 10.3 s, for a file 11 % larger.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            _write_npy(archive, "images.npy", (n,) + IMAGE_SHAPE, (
                _as_uint8(blobs) for blobs in _chunks(conn, drawings.c.image, scope, last_id, chunk)))
            _write_npy(archive, "labels.npy", (n,), (
                np.array(labels, np.uint8) for labels in _chunks(conn, drawings.c.label, scope, last_id, chunk)))
            with archive.open("label_names.npy", "w") as f:
                np.lib.format.write_array(f, np.array([config.label_name(label) for label in config.LABELS]))
    return n


@dataclass(frozen=True)
class Drawings:
    """Every drawing in a scope, as arrays (oldest first): for fine-tuning and benchmarks, not pages."""

    ids: np.ndarray  # (N,) int64
    sessions: list[str]
    models: list[str]  # the model that read each when it was labelled
    labels: np.ndarray  # (N,) int64: a digit, or config.NOT_A_DIGIT
    predicted: np.ndarray  # (N,) int64, as read when it was labelled
    images: np.ndarray  # (N, 28, 28) float32 in [0, 1]

    def __len__(self) -> int:
        return len(self.ids)


@_guarded("could not read the drawings")
def load(db: Store, scope: Scope = Scope()) -> Drawings:
    """Every drawing in ``scope`` with its model input (never its canvas), oldest first."""
    d = drawings.c
    with _transaction(db) as conn:
        found = conn.execute(sa.select(d.id, d.session, d.model, d.label, d.predicted, d.image)
                             .where(*_where(scope)).order_by(d.id)).all()
    return Drawings(ids=np.array([r[0] for r in found], np.int64), sessions=[r[1] for r in found],
                    models=[r[2] for r in found], labels=np.array([r[3] for r in found], np.int64),
                    predicted=np.array([r[4] for r in found], np.int64),
                    images=np.array([_image(r[5]) for r in found], np.float32).reshape((-1,) + IMAGE_SHAPE))


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
