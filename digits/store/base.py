"""The drawings database: its tables, opening it (SQLite or PostgreSQL), and what every query shares."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from digits import config

SCHEMA_VERSION = 7  # 1: drawings only (predicted as read when labelled); 2: + squeezed, readings, lessons;
#                    3: + the label NOT_A_DIGIT, and flagged; 4: + running totals (label_counts,
#                    reading_counts), and each reading's copy of its drawing's label; 5: + label_counts.id_sum;
#                    6: drawing_counts (per label, answer and flag) in place of label_counts; 7: + session_counts
IMAGE_SHAPE = (config.IMAGE_SIZE, config.IMAGE_SIZE)
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite's rowid alias must be spelled INTEGER
_CHUNK = 500  # ids per IN (...) list: SQLite caps the parameters of one statement

# Named as PostgreSQL named version 2's CHECK on the column, so that migrating replaces it by name.
_LABEL_CHECK = sa.CheckConstraint(f"label BETWEEN 0 AND {config.NOT_A_DIGIT}", name="drawings_label_check")

metadata = sa.MetaData()
drawings = sa.Table(
    "drawings", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("created", sa.Float, nullable=False),  # Unix time, seconds
    sa.Column("session", sa.Text, nullable=False),  # anonymous, one per browser session
    sa.Column("model", sa.Text, nullable=False),  # the model that read it when it was labelled
    sa.Column("label", sa.Integer, nullable=False),  # a digit, or config.NOT_A_DIGIT (see _LABEL_CHECK)
    sa.Column("predicted", sa.Integer, sa.CheckConstraint("predicted BETWEEN 0 AND 9"), nullable=False),
    # Whether the reader flagged the drawing as not a digit when it was labelled; NULL: not known (stored
    # before version 3, or by a caller that did not say). Before the blobs: SQLite reads it without them.
    sa.Column("flagged", sa.Boolean),
    sa.Column("probs", sa.LargeBinary, nullable=False),  # 10 float32, as read when labelled
    sa.Column("image", sa.LargeBinary, nullable=False),  # 28 x 28 float32, the model's input
    sa.Column("canvas_png", sa.LargeBinary, nullable=False),  # the canvas as drawn
    sa.Column("squeezed", sa.LargeBinary),  # 28 x 28 float32: the whole canvas resized, as a naive app reads it
    # (session, id): one student's rows and their keyset pages; (label, id): a confusion cell's rows,
    # newest first. Both carry what summary() counts, so its scans never touch the image blobs.
    sa.Index("drawings_session", "session", "id", "label"),
    sa.Index("drawings_label", "label", "id", "session"),
    _LABEL_CHECK,
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
    # The drawing's label, kept equal to it by every write (version 4), for the index below: a
    # confusion cell's page walks that cell's readings only, newest first, however rare the cell.
    # The label leads: led by the model, the index let SQLite's planner start every other page's
    # join from a model's readings, and look each drawing up without its key (`_with_reading`).
    sa.Column("label", sa.Integer),
    sa.Index("readings_cell", "label", "predicted", "model", "drawing_id"),
    sqlite_with_rowid=False,  # small rows found by their key: store them in the key's b-tree
)
lessons = sa.Table(
    "lessons", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("started", sa.Float, nullable=False),  # Unix time, seconds
    sa.Column("after_id", _ID, nullable=False),  # the lesson holds the drawings with id > after_id
)
# Running totals of the whole store, changed by every write in its own transaction (`digits.store.totals`):
# the whole class's summary and a model's unread count then read at most 121 rows, not every drawing.
# Drawings per label and what the reader answered when they were labelled (version 6; versions 4 and 5 kept
# label_counts, per label only): the Class page's whole-term tally, not only its fingerprint, without a scan.
drawing_counts = sa.Table(
    "drawing_counts", metadata,
    sa.Column("label", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("predicted", sa.Integer, primary_key=True, autoincrement=False),  # drawings.predicted
    sa.Column("flagged", sa.Boolean, primary_key=True),  # drawings.flagged; not known (NULL) counts as False
    sa.Column("n", sa.BigInteger, nullable=False),  # drawings stored so labelled, so read
    # The sum of their ids: with n, the whole store's `digits.store.fingerprint` without a scan.
    sa.Column("id_sum", sa.BigInteger, nullable=False),
)
reading_counts = sa.Table(
    "reading_counts", metadata,
    sa.Column("model", sa.Text, primary_key=True),
    sa.Column("label", sa.Integer, primary_key=True, autoincrement=False),  # the drawing's label now
    sa.Column("predicted", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("n", sa.BigInteger, nullable=False),  # readings by `model` of drawings so labelled, so read
    sa.Column("naive_read", sa.BigInteger, nullable=False),  # of them, with a naive reading
    sa.Column("naive_right", sa.BigInteger, nullable=False),  # of them, read as the label from the squeezed canvas
)
# Each session's drawings (version 7): the students of a term or a lesson, the Class page's count, from the
# sessions with a drawing after the lesson began, not from every drawing of the term.
session_counts = sa.Table(
    "session_counts", metadata,
    sa.Column("session", sa.Text, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),  # drawings stored; a session with none has no row
    sa.Column("last_id", _ID, nullable=False),  # the id of its newest drawing
    sa.Index("session_counts_last", "last_id"),
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


def _rebuild_drawings(conn: sa.Connection) -> None:
    """SQLite: remake drawings with this version's columns and CHECKs, keeping every row, id and the id counter.

    SQLite cannot change a CHECK in place; this is its documented table rebuild
    (sqlite.org/lang_altertable.html, "other kinds of table schema changes"),
    run with foreign keys off (``_foreign_keys_off``): dropping the old table
    would otherwise delete every reading with it. Every id is kept, so each
    reading finds its drawing again in the new table.
    """
    old = {column["name"] for column in sa.inspect(conn).get_columns("drawings")}
    kept = ", ".join(column.name for column in drawings.columns if column.name in old)  # a new column starts NULL
    counter = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'drawings'").scalar() or 0
    conn.execute(sa.schema.CreateTable(drawings.to_metadata(sa.MetaData(), name="drawings_new")))
    conn.exec_driver_sql(f"INSERT INTO drawings_new ({kept}) SELECT {kept} FROM drawings")
    conn.exec_driver_sql("DROP TABLE drawings")  # its indexes (version 1's drawings_created too) go with it
    conn.exec_driver_sql("ALTER TABLE drawings_new RENAME TO drawings")
    # Ids are never reused, those of deleted drawings included: the old counter carries over.
    conn.exec_driver_sql("DELETE FROM sqlite_sequence WHERE name = 'drawings'")
    conn.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) SELECT 'drawings', max(?, coalesce(max(id), 0)) "
                         "FROM drawings", (counter,))
    for index in drawings.indexes:
        index.create(conn)


def _migrate(conn: sa.Connection, version: int) -> bool:
    """Create the tables (version 0) or bring a version 1 to 6 database to this version, in one transaction.

    Drawings stored before version 3 keep ``flagged`` NULL: whether the reader
    flagged them was not kept, and false would claim it said "a digit". The
    running totals and the readings' labels (versions 4 to 7) are taken from the rows. Returns whether the
    drawings table was rebuilt (SQLite): then the old table's pages are free,
    for a VACUUM once the transaction is committed.
    """
    from digits.store import totals  # it builds on this module's tables

    rebuilt = version in (1, 2) and conn.dialect.name == "sqlite"
    if rebuilt:
        _rebuild_drawings(conn)
    elif version == 2:  # PostgreSQL alters in place: a wider CHECK, a column that starts NULL, the version
        # Written out, not as sa.schema.Add/DropConstraint(_LABEL_CHECK): those mark the shared constraint
        # as made by ALTER, and every CREATE TABLE drawings after them in this process would leave it out.
        conn.exec_driver_sql(f"ALTER TABLE drawings DROP CONSTRAINT {_LABEL_CHECK.name}")
        conn.exec_driver_sql(f"ALTER TABLE drawings ADD CONSTRAINT {_LABEL_CHECK.name} CHECK ({_LABEL_CHECK.sqltext})")
        conn.exec_driver_sql("ALTER TABLE drawings ADD COLUMN flagged BOOLEAN")
    if version and conn.dialect.name == "postgresql":
        conn.execute(sa.schema.SetTableComment(drawings))
    if version in (4, 5):  # their totals per label only: drawing_counts replaces them, counted below
        conn.exec_driver_sql("DROP TABLE label_counts")
    if version in (2, 3):  # readings came in version 2, without their drawing's label
        conn.exec_driver_sql("ALTER TABLE readings ADD COLUMN label INTEGER")
    metadata.create_all(conn)  # the tables a version lacks, not new indexes on tables it has
    for index in readings.indexes:
        index.create(conn, checkfirst=True)
    if version == 1:  # each drawing was read when it was labelled: that reading is kept, not recomputed
        conn.execute(sa.insert(readings).from_select(
            ["model", "drawing_id", "predicted", "probs", "label"],
            sa.select(drawings.c.model, drawings.c.id, drawings.c.predicted, drawings.c.probs, drawings.c.label)))
    totals.recount(conn)  # the readings' labels too
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
    return rebuilt


@contextlib.contextmanager
def _foreign_keys_off(conn: sa.Connection) -> Iterator[None]:
    """On SQLite, foreign keys off around the transaction ``conn`` begins next (the pragma is a no-op inside one)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection  # the driver's own: SQLAlchemy would begin a transaction first
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


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
                with _foreign_keys_off(conn), conn.execution_options(writes=True).begin():
                    if conn.dialect.name == "postgresql":  # servers starting together create the tables once
                        conn.execute(sa.text("SELECT pg_advisory_xact_lock(6461676974)"))
                    version = _version(conn)  # again, now that no one else can be migrating
                    if version not in (0, 1, 2, 3, 4, 5, 6, SCHEMA_VERSION):
                        raise StoreError(f"{where} has schema version {version}; "
                                         f"this app reads version {SCHEMA_VERSION}")
                    rebuilt = version != SCHEMA_VERSION and _migrate(conn, version)
                if rebuilt:  # the old table's pages are free now: give them back, or the file stays twice its size
                    conn.connection.driver_connection.execute("VACUUM")
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
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or label not in config.LABELS:
        raise ValueError(f"a label must be a digit from 0 to 9, or {config.NOT_A_DIGIT} "
                         f"(config.NOT_A_DIGIT) for not a digit; got {label!r}")
    return int(label)


def _array(values, shape: tuple[int, ...], name: str) -> np.ndarray:
    array = np.asarray(values, np.float32)
    if array.shape != shape:
        raise ValueError(f"expected {name} of shape {shape}, got {array.shape}")
    return array


def _image(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, np.float32).reshape(IMAGE_SHAPE)


def _newest_id(conn: sa.Connection) -> int:
    """The id of the newest drawing stored (0 when none is)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(drawings.c.id), 0))).scalar_one())


def _insert(db: Store | sa.Connection, table: sa.Table):
    """INSERT in the database's own dialect, for its ON CONFLICT clauses (rows already there)."""
    return (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(table)
