"""Changing the class's drawings: add, relabel, delete (a student's own only), lessons."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from digits import config
from digits.store import totals
from digits.store.base import (
    _CHUNK,
    IMAGE_SHAPE,
    Scope,
    Store,
    _array,
    _check_label,
    _guarded,
    _newest_id,
    _transaction,
    _where,
    drawing_counts,
    drawings,
    lessons,
    reading_counts,
    readings,
    session_counts,
)


@_guarded("could not store the drawing")
def add(db: Store, *, image: np.ndarray, canvas_png: bytes, probs: np.ndarray, label: int, model: str,
        session: str, flagged: bool | None = None, squeezed: np.ndarray | None = None,
        naive_probs: np.ndarray | None = None, created: float | None = None) -> int:
    """Store one labelled drawing and what ``model`` read from it; return its id.

    ``label`` is a digit, or ``config.NOT_A_DIGIT``; ``flagged``: whether
    ``model`` flagged the drawing as not a digit (None: not known).

    Parameters
    ----------
    image : (28, 28) float ndarray in [0, 1]
        The model's input.
    probs : (10,) float ndarray
        What the model answered.
    squeezed : (28, 28) float ndarray in [0, 1], optional
        The whole canvas resized, as a naive app would read it.
    naive_probs : (10,) float ndarray, optional
        What the model answered on ``squeezed``.
    """
    row = _row(image=image, canvas_png=canvas_png, probs=probs, label=label, model=model, session=session,
               flagged=flagged, squeezed=squeezed, naive_probs=naive_probs, created=created)
    with _transaction(db, writes=True) as conn:
        drawing_id = _insert(conn, *row)
        _count_new(conn, [row], [drawing_id])
        return drawing_id


@_guarded("could not store the drawings")
def add_many(db: Store, rows: Sequence[dict]) -> list[int]:
    """Store several labelled drawings at once, all or none (the digits of one number); return their ids.

    Each row holds `add`'s keyword arguments.
    """
    checked = [_row(**row) for row in rows]  # every row checked before any is written
    with _transaction(db, writes=True) as conn:
        ids = [_insert(conn, *row) for row in checked]
        _count_new(conn, checked, ids)
        return ids


def _row(*, image, canvas_png, probs, label, model, session, flagged=None, squeezed=None, naive_probs=None,
         created=None) -> tuple[dict, dict]:
    """`add`'s arguments checked: the drawing's columns and its reading's."""
    label = _check_label(label)
    flagged = None if flagged is None else bool(flagged)
    image, probs = _array(image, IMAGE_SHAPE, "an image"), _array(probs, (config.NUM_CLASSES,), "probs")
    squeezed = None if squeezed is None else _array(squeezed, IMAGE_SHAPE, "a squeezed image").tobytes()
    naive = None if naive_probs is None else int(_array(naive_probs, (config.NUM_CLASSES,), "naive_probs").argmax())
    predicted = int(probs.argmax())
    drawing = dict(created=time.time() if created is None else created, session=session, model=model, label=label,
                   predicted=predicted, flagged=flagged, probs=probs.tobytes(), image=image.tobytes(),
                   canvas_png=bytes(canvas_png), squeezed=squeezed)
    return drawing, dict(model=model, predicted=predicted, probs=probs.tobytes(), naive_predicted=naive, label=label)


def _insert(conn, drawing: dict, reading: dict) -> int:
    """Insert one drawing and its reading in the open transaction ``conn``; return its id."""
    drawing_id = conn.execute(drawings.insert().values(**drawing)).inserted_primary_key[0]
    conn.execute(readings.insert().values(drawing_id=drawing_id, **reading))
    return int(drawing_id)


def _count_new(conn, rows: list[tuple[dict, dict]], ids: list[int]) -> None:
    """Add newly inserted drawings ``ids`` and their readings (`_row`'s pairs) to the running totals."""
    deltas = totals.Deltas()
    for (drawing, reading), drawing_id in zip(rows, ids, strict=True):
        deltas.drawing(drawing["label"], drawing_id, totals.Answer(drawing["predicted"], drawing["flagged"]))
        deltas.session(drawing["session"], drawing_id)
        deltas.reading(reading["model"], drawing["label"], reading["predicted"], reading["naive_predicted"])
    deltas.apply(conn)


@_guarded("could not relabel the drawing")
def relabel(db: Store, drawing_id: int, label: int, *, session: str | None) -> bool:
    """Change a drawing's label (a digit or ``config.NOT_A_DIGIT``); with ``session``, only that session's drawing.

    True when one changed. ``flagged`` stays what the reader said when it was
    labelled. ``session=None`` is the teacher's call: the page checks the rights first.
    """
    label = _check_label(label)
    with _transaction(db, writes=True) as conn:
        found = totals.locked_drawings(conn, [drawing_id], _where(Scope(session=session)))
        if not found:
            return False
        old, answer, _ = found[int(drawing_id)]
        if old != label:
            conn.execute(sa.update(drawings).where(drawings.c.id == int(drawing_id)).values(label=label))
            conn.execute(sa.update(readings).where(readings.c.drawing_id == int(drawing_id)).values(label=label))
            deltas = totals.Deltas()
            deltas.drawing(old, drawing_id, answer, -1)
            deltas.drawing(label, drawing_id, answer)
            deltas.readings_of(conn, {int(drawing_id): old}, -1, moved_to=label)
            deltas.apply(conn)
        return True


@_guarded("could not delete the drawings")
def delete(db: Store, ids: Sequence[int], *, session: str | None) -> int:
    """Delete drawings ``ids`` (of ``session`` only, whatever ids are asked); return how many went."""
    with _transaction(db, writes=True) as conn:
        return _delete(conn, totals.locked_drawings(conn, ids, _where(Scope(session=session))))


def _delete(conn, found: dict[int, totals.Locked]) -> int:
    """Delete the drawings ``found`` holds (`totals.locked_drawings`), their readings with them; return how many."""
    deltas = totals.Deltas()
    deltas.readings_of(conn, {i: row.label for i, row in found.items()}, -1)  # before the foreign key deletes them
    for drawing_id, (label, answer, session) in found.items():
        deltas.drawing(label, drawing_id, answer, -1)
        deltas.session(session, drawing_id, -1)
    ids = sorted(found)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(sa.delete(drawings).where(drawings.c.id.in_(ids[start:start + _CHUNK])))
    deltas.apply(conn)
    return len(ids)


@_guarded("could not delete the drawings")
def delete_all(db: Store, *, session: str | None) -> int:
    """Delete every drawing of ``session``, or every drawing at all when None; return how many went."""
    with _transaction(db, writes=True) as conn:
        if session is not None:  # one student's: counted out row by row, as `delete`
            return _delete(conn, totals.locked_drawings(conn, None, _where(Scope(session=session))))
        if conn.dialect.name == "postgresql":  # no drawing may be added between the delete and the zeroing
            conn.exec_driver_sql("LOCK TABLE drawings IN SHARE ROW EXCLUSIVE MODE")
        gone = conn.execute(sa.delete(drawings)).rowcount
        conn.execute(sa.delete(drawing_counts))
        conn.execute(sa.delete(reading_counts))
        conn.execute(sa.delete(session_counts))
        return gone


@_guarded("could not recount the drawings")
def recount(db: Store) -> None:
    """Count the running totals again from the rows: after rows were written other than through this package."""
    with _transaction(db, writes=True) as conn:
        totals.recount(conn)


@dataclass(frozen=True)
class Lesson:
    id: int
    started: float  # Unix time, seconds
    after_id: int  # the lesson holds the drawings with id > after_id


@_guarded("could not start a lesson")
def start_lesson(db: Store) -> Lesson:
    """Begin a new lesson now: the drawings labelled from here on are its own (nothing is deleted)."""
    with _transaction(db, writes=True) as conn:
        after_id = _newest_id(conn)
        started = time.time()
        lesson_id = conn.execute(lessons.insert().values(started=started, after_id=after_id)).inserted_primary_key[0]
    return Lesson(int(lesson_id), started, int(after_id))


@_guarded("could not read the lesson")
def current_lesson(db: Store) -> Lesson | None:
    """The lesson started last, on any server sharing this database; None before the first."""
    with _transaction(db) as conn:
        row = conn.execute(sa.select(lessons).order_by(lessons.c.id.desc()).limit(1)).first()
    return None if row is None else Lesson(int(row.id), row.started, int(row.after_id))
