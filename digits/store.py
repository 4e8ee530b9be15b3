"""People's labelled drawings, and what each model reads from them, kept in a database.

One job: store the drawings people label and answer what the pages show about
them at a cost that follows the page, not the store. Counts and matrices are SQL
aggregates, lists are pages of rows (keyset by id, newest first), and the one
step that touches every row, reading the drawings with a model not seen before,
runs once per model in bounded batches and keeps its answers (``readings``).

The database is SQLite (a file under data/, the default) or PostgreSQL (a URL in
``DIGITS_DATABASE_URL``: several app servers then share one class); the tables
are the same on both. A ``Store`` is one per server and safe to share between
threads: each call takes a pooled connection for one short transaction. Every
database fault surfaces as ``StoreError`` with the database's own words kept.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import sqlalchemy as sa
from PIL import Image, UnidentifiedImageError
from sqlalchemy.dialects import postgresql, sqlite

from digits import config

SCHEMA_VERSION = 2  # 1: drawings only (predicted as read when labelled); 2: + squeezed, readings, lessons
IMAGE_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite's rowid alias must be spelled INTEGER
_CHUNK = 500  # ids per IN (...) list: SQLite caps the parameters of one statement

metadata = sa.MetaData()
drawings = sa.Table(
    "drawings", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),  # Unix time, seconds
    sa.Column("session", sa.Text, nullable=False),  # anonymous, one per browser session
    sa.Column("model", sa.Text, nullable=False),  # the model that read it when it was labelled
    sa.Column("label", sa.Integer, sa.CheckConstraint("label BETWEEN 0 AND 9"), nullable=False),
    sa.Column("predicted", sa.Integer, sa.CheckConstraint("predicted BETWEEN 0 AND 9"), nullable=False),
    sa.Column("probs", sa.LargeBinary, nullable=False),  # 10 float32, as read when labelled
    sa.Column("image", sa.LargeBinary, nullable=False),  # 28 x 28 float32, the model's input
    sa.Column("canvas_png", sa.LargeBinary, nullable=False),  # the canvas as drawn
    sa.Column("squeezed", sa.LargeBinary),  # 28 x 28 float32: the whole canvas resized, as a naive app reads it
    # (session, id): one student's rows and their keyset pages; (label, id): a confusion cell's rows,
    # newest first. Both carry what summary() counts, so its scans never touch the image blobs.
    sa.Index("drawings_session", "session", "id", "label"),
    sa.Index("drawings_label", "label", "id", "session"),
    sqlite_autoincrement=True,  # ids are never reused: pages cache what they show by id
    comment=f"digits schema version {SCHEMA_VERSION}",  # PostgreSQL's stand-in for SQLite's user_version
)
readings = sa.Table(
    "readings", metadata,
    # The key (drawing_id, model), drawing first: every query walks drawings (newest first, or a
    # scope's index) and looks up each one's reading, the unread ones included. Keyed model first,
    # SQLite's planner drove from a model's readings instead and sorted every row to show 24.
    sa.Column("drawing_id", _ID, sa.ForeignKey("drawings.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("predicted", sa.Integer, nullable=False),
    sa.Column("probs", sa.LargeBinary, nullable=False),  # 10 float32
    sa.Column("naive_predicted", sa.Integer),  # the model's answer on `squeezed`, NULL without one
    sqlite_with_rowid=False,  # small rows found by their key: store them in the key's b-tree
)
lessons = sa.Table(
    "lessons", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("started", sa.Float, nullable=False),  # Unix time, seconds
    sa.Column("after_id", _ID, nullable=False),  # the lesson holds the drawings with id > after_id
)
_DB_ERRORS = (sa.exc.SQLAlchemyError, OSError, sqlite3.Error)


class StoreError(RuntimeError):
    """The database cannot be opened, read or written (the database's own words are in the message)."""


def _guarded(what: str):
    """Raise every database fault of the decorated function as StoreError(f"{what}: {the fault}")."""
    def wrap(function):
        @functools.wraps(function)
        def guarded(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except _DB_ERRORS as error:
                # The driver's own message, without SQLAlchemy's statement dump: storage_advice()
                # reads words like "disk is full" in it.
                raise StoreError(f"{what}: {getattr(error, 'orig', None) or error}") from error
        return guarded
    return wrap


class Store:
    """One database for a whole server, shared by its threads (SQLAlchemy engine and pool)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Scope:
    """Which drawings a query counts: everyone's or one session's, all time or since a lesson began."""

    session: str | None = None  # only this browser session's drawings
    after_id: int = 0  # only drawings with id > after_id (a lesson's)


def _where(scope: Scope) -> list:
    clauses = [drawings.c.id > scope.after_id] if scope.after_id else []
    return clauses + ([drawings.c.session == scope.session] if scope.session is not None else [])


def _with_reading(db: Store, model: str) -> sa.Join:
    """drawings JOIN their readings by ``model``, walked from drawings.

    On SQLite, ``id + 0`` hides drawings' key from the join so that its planner,
    which keeps no statistics, cannot start from readings and look drawings up:
    it did, reading every row to sort out the newest 24 (817 ms at 100,000 rows;
    0.4 ms this way). PostgreSQL's planner, with statistics, needs no help.
    """
    drawing_id = drawings.c.id + 0 if db.engine.dialect.name == "sqlite" else drawings.c.id
    return drawings.join(readings, sa.and_(readings.c.drawing_id == drawing_id, readings.c.model == model))


def _before(before_id: int | None) -> list:
    return [] if before_id is None else [drawings.c.id < before_id]


def _sqlite_engine(path: Path) -> sa.Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(sa.URL.create("sqlite", database=str(path)), pool_size=8, max_overflow=16,
                              connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def configure(dbapi_connection, record) -> None:
        dbapi_connection.isolation_level = None  # transactions begin below, not by the driver's guesswork
        for pragma in ("busy_timeout=30000",  # writers queue instead of failing
                       "foreign_keys=ON",  # deleting a drawing deletes its readings
                       "journal_mode=WAL"):  # readers never wait for writers
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @sa.event.listens_for(engine, "begin")
    def begin(connection: sa.Connection) -> None:
        # A writer takes the write lock first: a read-then-write transaction could otherwise find
        # its snapshot stale and fail at once instead of queueing behind busy_timeout.
        writes = connection.get_execution_options().get("writes")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _engine(url: str | Path) -> sa.Engine:
    if isinstance(url, Path) or "://" not in url:
        return _sqlite_engine(Path(url))
    if url.startswith("sqlite"):  # sqlite:///path: the same file store, configured the same way
        return _sqlite_engine(Path(sa.make_url(url).database))
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres"):
        url = f"postgresql+psycopg://{rest}"  # psycopg 3, the driver requirements.txt installs
    return sa.create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)


def _version(conn: sa.Connection) -> int:
    """The schema version of the database behind ``conn``: 0 when it holds no drawings table yet."""
    if conn.dialect.name == "sqlite":
        version = conn.exec_driver_sql("PRAGMA user_version").scalar_one()
        # A v1 file written by another app version has user_version 1; a fresh file, 0 and no table.
        return version if version or not sa.inspect(conn).has_table("drawings") else -1
    if not sa.inspect(conn).has_table("drawings"):
        return 0
    comment = conn.execute(sa.text("SELECT obj_description('drawings'::regclass, 'pg_class')")).scalar()
    return int(comment.rsplit(" ", 1)[-1]) if comment and comment.startswith("digits schema version") else -1


def _migrate(conn: sa.Connection, version: int) -> None:
    """Create the tables (version 0) or bring a version-1 SQLite file to this version, in one transaction."""
    if version == 1:  # today's drawings keep their rows; what version 2 adds is added around them
        conn.exec_driver_sql("ALTER TABLE drawings ADD COLUMN squeezed BLOB")
        conn.exec_driver_sql("DROP INDEX IF EXISTS drawings_created")  # nothing queries by time any more
        for index in drawings.indexes:
            index.create(conn, checkfirst=True)
    metadata.create_all(conn)
    if version == 1:  # each drawing was read when it was labelled: that reading is kept, not recomputed
        conn.execute(sa.insert(readings).from_select(
            ["model", "drawing_id", "predicted", "probs"],
            sa.select(drawings.c.model, drawings.c.id, drawings.c.predicted, drawings.c.probs)))
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")


def connect(url: str | Path | None = None) -> Store:
    """Open (and on first use create, or bring up to date) the drawings database.

    ``url``: a SQLite file path, or a database URL such as
    ``postgresql://user@host:5432/digits``. None: ``DIGITS_DATABASE_URL`` when
    set, else ``data/drawings.sqlite``.
    """
    url = url if url is not None else config.database_url() or config.DATA_DIR / "drawings.sqlite"
    where = url if isinstance(url, Path) else sa.make_url(url).render_as_string() if "://" in url else url
    engine = None
    try:
        engine = _engine(url)
        with engine.connect() as conn:
            version = _version(conn)
            conn.rollback()
            if version != SCHEMA_VERSION:
                with conn.execution_options(writes=True).begin():
                    if conn.dialect.name == "postgresql":  # servers starting together create the tables once
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(6461676974)"))
                    version = _version(conn)  # again, now that no one else can be migrating
                    if version not in (0, 1, SCHEMA_VERSION):
                        raise StoreError(f"{where} has schema version {version}; "
                                         f"this app reads version {SCHEMA_VERSION}")
                    if version != SCHEMA_VERSION:
                        _migrate(conn, version)
    except (*_DB_ERRORS, StoreError) as error:
        if engine is not None:
            engine.dispose()  # no pooled connection left open to a database this app does not use
        if isinstance(error, StoreError):
            raise
        raise StoreError(f"cannot open the drawings database at {where}: "
                         f"{getattr(error, 'orig', None) or error}") from error
    return Store(engine)


@contextlib.contextmanager
def _transaction(db: Store, *, writes: bool = False, snapshot: bool = False) -> Iterator[sa.Connection]:
    """One short transaction; ``snapshot``: every statement in it sees the same rows (on PostgreSQL too)."""
    with db.engine.connect() as conn:
        if snapshot and conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.execution_options(writes=writes).begin():
            yield conn


def _check_label(label) -> int:
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
        raise ValueError(f"a label must be a digit from 0 to 9, got {label!r}")
    return int(label)


def _array(values, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(values, np.float32)
    if array.shape != shape:
        raise ValueError(f"expected {name} of shape {shape}, got {array.shape}")
    return array


def _image(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, np.float32).reshape(IMAGE_SHAPE)


def _insert(db: Store, table: sa.Table):
    """INSERT that skips rows already there, in the database's own dialect."""
    return (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(table)


@_guarded("could not store the drawing")
def add(db: Store, *, image: np.ndarray, canvas_png: bytes, probs: np.ndarray, label: int, model: str,
        session: str, squeezed: np.ndarray | None = None, naive_probs: np.ndarray | None = None,
        created: float | None = None) -> int:
    """Store one labelled drawing and what ``model`` read from it; return its id.

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
    label = _check_label(label)
    image, probs = _array(image, IMAGE_SHAPE, "an image"), _array(probs, (config.NUM_CLASSES,), "probs")
    squeezed = None if squeezed is None else _array(squeezed, IMAGE_SHAPE, "a squeezed image").tobytes()
    naive = None if naive_probs is None else int(_array(naive_probs, (config.NUM_CLASSES,), "naive_probs").argmax())
    predicted = int(probs.argmax())
    with _transaction(db, writes=True) as conn:
        drawing_id = conn.execute(drawings.insert().values(
            created=time.time() if created is None else created, session=session, model=model, label=label,
            predicted=predicted, probs=probs.tobytes(), image=image.tobytes(), canvas_png=bytes(canvas_png),
            squeezed=squeezed)).inserted_primary_key[0]
        conn.execute(readings.insert().values(model=model, drawing_id=drawing_id, predicted=predicted,
                                              probs=probs.tobytes(), naive_predicted=naive))
    return int(drawing_id)


@_guarded("could not relabel the drawing")
def relabel(db: Store, drawing_id: int, label: int, *, session: str | None) -> bool:
    """Change a drawing's label; with ``session``, only that session's drawing. True when one changed.

    ``session=None`` is the teacher's call: the page checks the rights first.
    """
    label = _check_label(label)
    with _transaction(db, writes=True) as conn:
        mine = _where(Scope(session=session)) + [drawings.c.id == int(drawing_id)]
        return conn.execute(sa.update(drawings).where(*mine).values(label=label)).rowcount == 1


@_guarded("could not delete the drawings")
def delete(db: Store, ids: Sequence[int], *, session: str | None) -> int:
    """Delete drawings ``ids`` (of ``session`` only, whatever ids are asked); return how many went."""
    ids = [int(i) for i in ids]
    with _transaction(db, writes=True) as conn:
        return sum(conn.execute(sa.delete(drawings).where(
            drawings.c.id.in_(ids[start:start + _CHUNK]), *_where(Scope(session=session)))).rowcount
            for start in range(0, len(ids), _CHUNK))


@_guarded("could not delete the drawings")
def delete_all(db: Store, *, session: str | None) -> int:
    """Delete every drawing of ``session``, or every drawing at all when None; return how many went."""
    with _transaction(db, writes=True) as conn:
        return conn.execute(sa.delete(drawings).where(*_where(Scope(session=session)))).rowcount


@dataclass(frozen=True)
class Summary:
    """What a page's cards and matrix show about the drawings in a scope, as read by one model."""

    drawings: int  # in the scope
    read: int  # of them with a reading by the model (the others await read_all)
    sessions: int  # distinct browser sessions
    confusion: np.ndarray  # (10, 10) int64: rows the label, columns the model's reading
    naive_read: int  # read drawings that also have a squeezed canvas read
    naive_right: int  # of those, read right squeezed
    ours_right_where_naive: int  # of those, read right as this app prepares them


@_guarded("could not read the drawings")
def summary(db: Store, model: str, scope: Scope = Scope()) -> Summary:
    """Counts and the confusion matrix of ``model``'s readings in ``scope``, all aggregated in SQL."""
    d, r = drawings.c, readings.c
    naive_right = sa.func.sum(sa.case((r.naive_predicted == d.label, 1), else_=0))
    with _transaction(db, snapshot=True) as conn:
        count, sessions = conn.execute(
            sa.select(sa.func.count(), sa.func.count(sa.distinct(d.session))).where(*_where(scope))).one()
        cells = conn.execute(
            sa.select(d.label, r.predicted, sa.func.count(), sa.func.count(r.naive_predicted), naive_right)
            .select_from(_with_reading(db, model))
            .where(*_where(scope)).group_by(d.label, r.predicted)).all()
    confusion = np.zeros((config.NUM_CLASSES, config.NUM_CLASSES), np.int64)
    naive = np.zeros_like(confusion)
    naive_hits = 0
    for label, predicted, n, n_naive, n_naive_right in cells:
        confusion[label, predicted], naive[label, predicted] = n, n_naive
        naive_hits += int(n_naive_right or 0)
    return Summary(drawings=count, read=int(confusion.sum()), sessions=sessions, confusion=confusion,
                   naive_read=int(naive.sum()), naive_right=naive_hits,
                   ours_right_where_naive=int(np.trace(naive)))


@dataclass(frozen=True)
class Row:
    """One drawing as a page shows it, with one model's reading."""

    id: int
    created: float  # Unix time, seconds
    session: str
    label: int
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

    ``label``/``predicted`` pick a confusion cell (or row, or column); ``wrong``:
    read wrong; ``naive_lost``: read right, but wrong from the squeezed canvas.
    Drawings not read yet by ``model`` (see ``read_all``) are not listed.
    """
    d, r = drawings.c, readings.c
    where = _where(scope) + _before(before_id)
    if label is not None:
        where.append(d.label == label)
    if predicted is not None:
        where.append(r.predicted == predicted)
    if wrong:
        where.append(r.predicted != d.label)
    if naive_lost:  # a NULL naive reading (no squeezed canvas) is never "!=": those drawings stay out
        where += [r.predicted == d.label, r.naive_predicted != d.label]
    query = (sa.select(d.id, d.created, d.session, d.label, r.predicted, r.probs, d.image, d.squeezed)
             .select_from(_with_reading(db, model))
             .where(*where).order_by(d.id.desc()).limit(limit + 1))  # one more says whether a next page exists
    with _transaction(db) as conn:
        found = conn.execute(query).all()
    rows = [Row(id=i, created=c, session=s, label=lab, predicted=p, probs=np.frombuffer(pr, np.float32),
                image=_image(im), squeezed=_image(sq)) for i, c, s, lab, p, pr, im, sq in found[:limit]]
    return Page(rows, rows[-1].id if len(found) > limit else None)


@_guarded("could not read the drawings")
def listing(db: Store, scope: Scope = Scope(), *, before_id: int | None = None,
            limit: int = 50) -> tuple[list[tuple[int, float, str, int]], int | None]:
    """A page of (id, created, session, label), newest first, without images; and the next before_id."""
    d = drawings.c
    where = _where(scope) + _before(before_id)
    with _transaction(db) as conn:
        found = [tuple(row) for row in conn.execute(sa.select(d.id, d.created, d.session, d.label)
                                                    .where(*where).order_by(d.id.desc()).limit(limit + 1))]
    return found[:limit], found[limit - 1][0] if len(found) > limit else None


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
    with _transaction(db) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(drawings).where(_unread(model))).scalar_one()


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
        # Only drawings still there: one deleted meanwhile would break the foreign key.
        present = {i for start in range(0, len(rows), _CHUNK) for i in conn.execute(
            sa.select(drawings.c.id).where(drawings.c.id.in_(ids[start:start + _CHUNK]))).scalars()}
        rows = [row for row in rows if row["drawing_id"] in present]
        if rows:
            conn.execute(_insert(db, readings).on_conflict_do_nothing(), rows)


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
def since(db: Store, after_id: int, *, limit: int = 5000) -> list[tuple[int, str, int, int]]:
    """(id, session, label, predicted as read when labelled) of up to ``limit`` drawings with id > ``after_id``, by id."""
    d = drawings.c
    with _transaction(db) as conn:
        return [tuple(row) for row in conn.execute(
            sa.select(d.id, d.session, d.label, d.predicted).where(d.id > after_id).order_by(d.id).limit(limit))]


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


@dataclass(frozen=True)
class Lesson:
    id: int
    started: float  # Unix time, seconds
    after_id: int  # the lesson holds the drawings with id > after_id


@_guarded("could not start a lesson")
def start_lesson(db: Store) -> Lesson:
    """Begin a new lesson now: the drawings labelled from here on are its own (nothing is deleted)."""
    with _transaction(db, writes=True) as conn:
        after_id = conn.execute(sa.select(sa.func.coalesce(sa.func.max(drawings.c.id), 0))).scalar_one()
        started = time.time()
        lesson_id = conn.execute(lessons.insert().values(started=started, after_id=after_id)).inserted_primary_key[0]
    return Lesson(int(lesson_id), started, int(after_id))


@_guarded("could not read the lesson")
def current_lesson(db: Store) -> Lesson | None:
    """The lesson started last, on any server sharing this database; None before the first."""
    with _transaction(db) as conn:
        row = conn.execute(sa.select(lessons).order_by(lessons.c.id.desc()).limit(1)).first()
    return None if row is None else Lesson(int(row.id), row.started, int(row.after_id))


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
    return n


@dataclass(frozen=True)
class Drawings:
    """Every drawing in a scope, as arrays (oldest first): for fine-tuning and benchmarks, not pages."""

    ids: np.ndarray  # (N,) int64
    sessions: list[str]
    models: list[str]  # the model that read each when it was labelled
    labels: np.ndarray  # (N,) int64
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
