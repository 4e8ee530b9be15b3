"""What the pages show, at the cost of what they show: aggregates, pages of rows, readings kept per model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    _before,
    _guarded,
    _image,
    _insert,
    _newest_id,
    _transaction,
    _where,
    _with_reading,
    drawings,
    readings,
)
from digits.store.files import decode_canvas


@dataclass(frozen=True)
class Summary:
    """What a page's cards and matrix show about the drawings in a scope, as read by one model."""

    drawings: int  # in the scope, digits and not
    read: int  # of them labelled a digit, with a reading by the model (the others await read_all)
    not_digits: int  # of them labelled not a digit, with a reading by the model: never in the confusion matrix
    confusion: np.ndarray  # (10, 10) int64: rows the label (digits only), columns the model's reading
    naive_read: int  # read drawings that also have a squeezed canvas read
    naive_right: int  # of those, read right squeezed
    ours_right_where_naive: int  # of those, read right as this app prepares them


@_guarded("could not read the drawings")
def summary(db: Store, model: str, scope: Scope = Scope()) -> Summary:
    """Counts and the confusion matrix of ``model``'s readings in ``scope``.

    The whole store's come from its running totals (`digits.store.totals`), at
    most 121 rows at any size; a session's or a lesson's are aggregated in
    SQL over that scope's rows. Drawings labelled not a digit are counted apart
    (``not_digits``): the matrix and the naive comparison are over digits only.
    """
    with _transaction(db, snapshot=True) as conn:
        if scope == Scope():
            count, cells = totals.stored(conn), totals.cells(conn, model)
        else:
            d, r = drawings.c, readings.c
            naive_right = sa.func.sum(sa.case((r.naive_predicted == d.label, 1), else_=0))
            count = conn.execute(sa.select(sa.func.count()).where(*_where(scope))).scalar_one()
            cells = conn.execute(
                sa.select(d.label, r.predicted, sa.func.count(), sa.func.count(r.naive_predicted), naive_right)
                .select_from(_with_reading(db, model))
                .where(*_where(scope)).group_by(d.label, r.predicted)).all()
    confusion = np.zeros((config.NUM_CLASSES, config.NUM_CLASSES), np.int64)
    naive = np.zeros_like(confusion)
    naive_hits = not_digits = 0
    for label, predicted, n, n_naive, n_naive_right in cells:
        if label == config.NOT_A_DIGIT:
            not_digits += n
            continue
        confusion[label, predicted], naive[label, predicted] = n, n_naive
        naive_hits += int(n_naive_right or 0)
    return Summary(drawings=count, read=int(confusion.sum()), not_digits=not_digits,
                   confusion=confusion, naive_read=int(naive.sum()), naive_right=naive_hits,
                   ours_right_where_naive=int(np.trace(naive)))


@dataclass(frozen=True)
class Row:
    """One drawing as a page shows it, with one model's reading."""

    id: int
    created: float  # Unix time, seconds
    session: str
    label: int  # a digit, or config.NOT_A_DIGIT
    flagged: bool | None  # flagged as not a digit by the reader when labelled (None: not known)
    predicted: int  # the model's reading
    probs: np.ndarray  # (10,) float32, the model's reading
    image: np.ndarray  # (28, 28) float32, the model's input
    squeezed: np.ndarray | None  # (28, 28) float32, the whole canvas resized, when stored


@dataclass(frozen=True)
class Page:
    rows: list[Row]  # newest first
    next_before_id: int | None  # pass as before_id for the next page; None on the last


@_guarded("could not read the drawings")
def page(db: Store, model: str, scope: Scope = Scope(), *, label: int | None = None, predicted: int | None = None,
         wrong: bool = False, naive_lost: bool = False, before_id: int | None = None, limit: int = 24) -> Page:
    """One page of the drawings ``model`` has read, newest first, fetching only that page's images.

    ``label``/``predicted`` pick a confusion cell (or row, or column), or with
    ``label=config.NOT_A_DIGIT`` the drawings labelled not a digit; ``wrong``:
    a digit read wrong; ``naive_lost``: read right, but wrong from the squeezed canvas.
    Drawings not read yet by ``model`` (see ``read_all``) are not listed.
    """
    d, r = drawings.c, readings.c
    where = _where(scope)
    if wrong:  # a drawing that is not a digit has no right digit to miss
        where += [r.predicted != d.label, d.label != config.NOT_A_DIGIT]
    if naive_lost:  # a NULL naive reading (no squeezed canvas) is never "!=": those drawings stay out
        where += [r.predicted == d.label, r.naive_predicted != d.label]
    if label is not None and predicted is not None and scope.session is None:
        # One confusion cell: walked in its own index (readings_cell), newest first, from its
        # newest reading; walked from the drawings, a rare cell read every drawing of its label
        # (79 ms for the 18 of 9,671 drawn 3s read as 5 at 100,000 drawings on PostgreSQL).
        # One session's few drawings are walked from its own index instead, as every other page.
        joined = readings.join(drawings, d.id == r.drawing_id)
        where += [r.model == model, r.label == label, r.predicted == predicted]
        where += [] if before_id is None else [r.drawing_id < before_id]
        newest_first = r.drawing_id.desc()
    else:
        joined = _with_reading(db, model)
        where += _before(before_id)
        # In one session's rows, ``label + 0`` keeps SQLite's planner on the session's index: on the
        # label's, it walked every drawing of that label to find the session's few.
        mine = scope.session is not None and db.engine.dialect.name == "sqlite"
        where += [] if label is None else [(d.label + 0 if mine else d.label) == label]
        where += [] if predicted is None else [r.predicted == predicted]
        newest_first = d.id.desc()
    query = (sa.select(d.id, d.created, d.session, d.label, d.flagged, r.predicted, r.probs, d.image, d.squeezed)
             .select_from(joined)
             .where(*where).order_by(newest_first).limit(limit + 1))  # one more says whether a next page exists
    with _transaction(db) as conn:
        found = conn.execute(query).all()
    rows = [Row(id=i, created=c, session=s, label=lab, flagged=f, predicted=p, probs=np.frombuffer(pr, np.float32),
                image=_image(im), squeezed=_image(sq)) for i, c, s, lab, f, p, pr, im, sq in found[:limit]]
    return Page(rows, rows[-1].id if len(found) > limit else None)


def _unread(model: str, after_id: int = 0) -> sa.ColumnElement[bool]:
    """Not read by ``model`` yet; ``after_id`` bounds the readings looked at as well as the drawings.

    Without that bound PostgreSQL, its statistics taken before a new model's
    first reading, compared each batch with every reading made so far: at
    100,000 drawings, batches grew to 1.4 s each.
    """
    return ~sa.exists().where(readings.c.model == model, readings.c.drawing_id == drawings.c.id,
                              readings.c.drawing_id > after_id)


@dataclass(frozen=True)
class Batch:
    """Drawings a model has not read yet, oldest first."""

    ids: np.ndarray  # (n,) int64
    images: np.ndarray  # (n, 28, 28) float32, the model's inputs
    squeezed: np.ndarray  # (n, 28, 28) float32, zeros where none is stored
    has_squeezed: np.ndarray  # (n,) bool


@_guarded("could not read the drawings")
def unread(db: Store, model: str, *, after_id: int = 0, limit: int = 512) -> Batch:
    """Up to ``limit`` drawings with id > ``after_id`` that ``model`` has not read, oldest first."""
    with _transaction(db) as conn:
        found = conn.execute(sa.select(drawings.c.id, drawings.c.image, drawings.c.squeezed)
                             .where(drawings.c.id > after_id, _unread(model, after_id))
                             .order_by(drawings.c.id).limit(limit)).all()
    squeezed = np.zeros((len(found),) + IMAGE_SHAPE, np.float32)
    for k, (_, _, blob) in enumerate(found):
        if blob is not None:
            squeezed[k] = _image(blob)
    return Batch(ids=np.array([row[0] for row in found], np.int64),
                 images=np.array([_image(row[1]) for row in found], np.float32).reshape((-1,) + IMAGE_SHAPE),
                 squeezed=squeezed, has_squeezed=np.array([row[2] is not None for row in found], bool))


@_guarded("could not count the drawings")
def count_unread(db: Store, model: str) -> int:
    """How many stored drawings ``model`` has not read yet: from the running totals, at any size."""
    with _transaction(db, snapshot=True) as conn:
        return totals.stored(conn) - sum(n for _, _, n, _, _ in totals.cells(conn, model))


@_guarded("could not store the readings")
def save_readings(db: Store, model: str, ids: Sequence[int], probs: np.ndarray,
                  naive_probs: Sequence[np.ndarray | None] | None = None) -> None:
    """Keep what ``model`` read from drawings ``ids``; a reading already there (another server's) stays.

    Parameters
    ----------
    ids : (n,) int
    probs : (n, 10) float ndarray
    naive_probs : n items, each (10,) float ndarray or None (no squeezed canvas); or None for all
    """
    ids = [int(i) for i in ids]
    probs = np.asarray(probs, np.float32).reshape(len(ids), config.NUM_CLASSES)
    naive_probs = [None] * len(ids) if naive_probs is None else naive_probs
    rows = [dict(model=model, drawing_id=i, predicted=int(p.argmax()), probs=p.tobytes(),
                 naive_predicted=None if n is None else int(np.argmax(n)))
            for i, p, n in zip(ids, probs, naive_probs, strict=True)]
    with _transaction(db, writes=True) as conn:
        # Only drawings still there (one deleted meanwhile would break the foreign key), locked so
        # that none is relabelled or deleted before its reading is counted under its label.
        label_of = totals.locked_labels(conn, ids, share=True)
        # In id order, as every server inserts them: two servers saving the same readings at once
        # then meet at the first one they share, and never each wait for a row the other holds.
        rows = [{**row, "label": label_of[row["drawing_id"]]} for row in rows if row["drawing_id"] in label_of]
        rows.sort(key=lambda row: row["drawing_id"])
        if not rows:
            return
        # Only the readings this call added are counted: another server's, already there, were.
        added = set(conn.execute(_insert(db, readings).on_conflict_do_nothing().returning(readings.c.drawing_id),
                                 rows).scalars())
        deltas = totals.Deltas()
        for row in rows:
            if row["drawing_id"] in added:
                deltas.reading(model, row["label"], row["predicted"], row["naive_predicted"])
        deltas.apply(conn)


def read_all(db: Store, model: str, predict_proba: Callable[[np.ndarray], np.ndarray], *, batch: int = 512,
             progress: Callable[[int, int], None] | None = None) -> int:
    """Read every drawing ``model`` has not read yet, one batch in memory at a time; return how many.

    ``predict_proba`` maps (N, 28, 28) float32 images to (N, 10) float32
    probabilities. ``progress(done, total)`` is called after each batch.
    """
    total, done, after = count_unread(db, model), 0, 0
    while len((found := unread(db, model, after_id=after, limit=batch)).ids):
        naive: list[np.ndarray | None] = [None] * len(found.ids)
        if found.has_squeezed.any():
            for k, probs in zip(np.flatnonzero(found.has_squeezed), predict_proba(found.squeezed[found.has_squeezed])):
                naive[k] = probs
        save_readings(db, model, found.ids, predict_proba(found.images), naive)
        done, after = done + len(found.ids), int(found.ids[-1])
        if progress is not None:
            progress(done, max(total, done))  # drawings labelled meanwhile are read too
    return done


@_guarded("could not read the drawings")
def since(db: Store, after_id: int, *, limit: int = 5000) -> list[tuple[int, str, int, int, bool | None]]:
    """Up to ``limit`` drawings with id > ``after_id``, by id.

    Each is (id, session, label, predicted, flagged), the last two as read
    when it was labelled (``flagged``: as not a digit; None: not known).
    """
    d = drawings.c
    with _transaction(db) as conn:
        return [tuple(row) for row in conn.execute(sa.select(d.id, d.session, d.label, d.predicted, d.flagged)
                                                   .where(d.id > after_id).order_by(d.id).limit(limit))]


@dataclass(frozen=True)
class Answers:
    """The drawings after some id, counted by label and by what the reader answered: a tally's start."""

    last_id: int  # the newest drawing counted (0: none stored)
    counts: list[tuple[int, int, bool, int, int]]  # (label, predicted, flagged, drawings, sum of their ids)
    sessions: list[str]  # every session that labelled one of them
    mistakes: list[tuple[int, int, int]]  # (id, label, predicted) of the newest digits read wrong, newest first


@_guarded("could not read the drawings")
def answers_since(db: Store, after_id: int, *, mistakes: int = 12) -> Answers:
    """The drawings with id > ``after_id`` counted as `digits.tally.Tally` counts them, in one snapshot.

    ``predicted`` and ``flagged`` are as read when each drawing was labelled
    (``flagged`` not known counts as False). The counts come from whichever is
    fewer: the rows after ``after_id``, aggregated, or the running totals of the
    whole store (`drawing_counts`) less the rows up to it, so the Class page with
    no lesson started counts a whole term from at most 220 rows of totals. The
    sessions are those whose newest drawing is after ``after_id`` (`session_counts`),
    the mistakes read walking back from the newest drawing.
    """
    d = drawings.c
    # Label as an expression, not a column: grouped by the column, SQLite's planner scans a whole index
    # that holds it (8 ms at 100,000 drawings) rather than the rows in the id range (2 ms for 1,500).
    labelled, flagged = d.label + 0, sa.func.coalesce(d.flagged, False)

    def grouped(*where) -> sa.Select:
        return (sa.select(labelled, d.predicted, flagged, sa.func.count(), sa.func.sum(d.id))
                .where(*where).group_by(labelled, d.predicted, flagged))

    with _transaction(db, snapshot=True) as conn:
        newest = _newest_id(conn)
        counts: dict[tuple[int, int, bool], list[int]] = {}
        if _fewer_outside(after_id, newest, newest):  # fewer drawings up to after_id than after: the totals less them
            for label, predicted, flag, n, id_sum in totals.answers(conn):
                counts[label, predicted, flag] = [n, id_sum]
            for label, predicted, flag, n, id_sum in conn.execute(grouped(d.id <= after_id)):
                count = counts.setdefault((int(label), int(predicted), bool(flag)), [0, 0])
                count[0], count[1] = count[0] - int(n), count[1] - int(id_sum)
        else:
            for label, predicted, flag, n, id_sum in conn.execute(grouped(d.id > after_id)):
                counts[int(label), int(predicted), bool(flag)] = [int(n), int(id_sum)]
        sessions = totals.sessions_since(conn, after_id)
        wrong = conn.execute(sa.select(d.id, d.label, d.predicted)
                             .where(d.id > after_id, d.label != d.predicted, d.label != config.NOT_A_DIGIT)
                             .order_by(d.id.desc()).limit(mistakes)).all()
    return Answers(newest, [(*key, n, ids) for key, (n, ids) in sorted(counts.items()) if n],
                   sessions, [(int(i), int(label), int(p)) for i, label, p in wrong])


def _fewer_outside(after_id: int, upto_id: int, newest: int) -> bool:
    """Whether fewer ids lie outside ``after_id`` < id <= ``upto_id`` than inside it (of ids 1 to ``newest``).

    Then the range is counted from the running totals less the rows outside it.
    """
    return after_id + max(newest - upto_id, 0) < upto_id - after_id


# Ids in a range beyond which SQLite scans an index for `fingerprint` rather than the rows themselves:
# at 100,000 rows the index scan costs 4.5 ms whatever the range, the rows 1.4 ms per 1,000.
_WIDE_RANGE = 4000


@_guarded("could not read the drawings")
def fingerprint(db: Store, after_id: int, upto_id: int) -> tuple[int, int]:
    """How many drawings with ``after_id`` < id <= ``upto_id`` are stored, and the sum of id x (label + 1).

    A running count of those drawings (`digits.tally.Tally`) holds the same two
    numbers; a relabel or a delete among them makes them differ. Whichever is
    fewer is read: the rows in the range (a range scan of the primary key; over
    a wide range on SQLite, of an index that holds id and label, not the rows
    and their blobs: 100,000 rows, 14 ms against 135 ms), or those outside it,
    taken from the running totals of the whole store (`drawing_counts`: drawings
    and the sum of their ids per label and answer) in the same statement. The Class page
    with no lesson started fingerprints every drawing but the newest few every
    few seconds: that costs the same at any size.
    """
    d = drawings.c
    summed = sa.func.coalesce(sa.func.sum(d.id * (d.label + 1)), 0)
    with _transaction(db) as conn:
        if _fewer_outside(after_id, upto_id, _newest_id(conn)):
            outside = sa.or_(d.id <= after_id, d.id > upto_id)
            count, check = conn.execute(sa.select(
                totals.STORED.scalar_subquery() - sa.select(sa.func.count()).where(outside).scalar_subquery(),
                totals.STORED_CHECK.scalar_subquery() - sa.select(summed).where(outside).scalar_subquery(),
            )).one()
        else:
            ident = d.id + 0 if db.engine.dialect.name == "sqlite" and upto_id - after_id > _WIDE_RANGE else d.id
            count, check = conn.execute(sa.select(sa.func.count(), summed).where(ident > after_id, ident <= upto_id)).one()
    return int(count), int(check)


def _by_id(db: Store, column: sa.Column, ids: Sequence[int]) -> dict[int, bytes]:
    ids = [int(i) for i in ids]
    with _transaction(db) as conn:
        return {i: blob for start in range(0, len(ids), _CHUNK) for i, blob in conn.execute(
            sa.select(drawings.c.id, column).where(drawings.c.id.in_(ids[start:start + _CHUNK])))}


@_guarded("could not read the drawings")
def images(db: Store, ids: Sequence[int]) -> dict[int, np.ndarray]:
    """The (28, 28) float32 model inputs of drawings ``ids`` (those still stored), by id."""
    return {i: _image(blob) for i, blob in _by_id(db, drawings.c.image, ids).items()}


@_guarded("could not read the canvases")
def canvases(db: Store, ids: Sequence[int]) -> list[np.ndarray | None]:
    """The canvases of drawings ``ids``, in that order, decoded (None where unreadable or missing)."""
    found = _by_id(db, drawings.c.canvas_png, ids)
    return [decode_canvas(found[int(i)]) if int(i) in found else None for i in ids]
