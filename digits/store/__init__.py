"""People's labelled drawings, and what each model reads from them, kept in a database.

One job: store the drawings people label and answer what the pages show about
them at a cost that follows the page, not the store. The whole store's counts and
matrices are running totals that every write keeps (``totals``), a session's or a
lesson's are SQL aggregates over its rows, lists are pages of rows (keyset by id,
newest first), and the one step that touches every row, reading the drawings
with a model not seen before, runs once per model in bounded batches and keeps
its answers (``readings``).

The database is SQLite (a file under data/, the default) or PostgreSQL (a URL in
``DIGITS_DATABASE_URL``: several app servers then share one class); the tables
are the same on both. A ``Store`` is one per server and safe to share between
threads: each call takes a pooled connection for one short transaction. Every
database fault surfaces as ``StoreError`` with the database's own words kept.

The package is split by job: ``base`` (the tables, connecting, what every query
shares), ``writes`` (what changes the class's data), ``totals`` (the running
totals those writes keep), ``queries`` (what pages show) and ``files`` (the
export, training's load, canvas PNGs); callers use the names below.
"""

from digits.store.base import (  # noqa: F401
    IMAGE_SHAPE,
    SCHEMA_VERSION,
    Scope,
    Store,
    StoreError,
    connect,
    drawing_counts,
    drawings,
    lessons,
    metadata,
    reading_counts,
    readings,
    session_counts,
)
from digits.store.files import (  # noqa: F401
    Drawings,
    decode_canvas,
    encode_canvas,
    export_npz,
    load,
)
from digits.store.queries import (  # noqa: F401
    Answers,
    Batch,
    Page,
    Row,
    Summary,
    answers_since,
    canvases,
    count_unread,
    fingerprint,
    images,
    page,
    read_all,
    save_readings,
    since,
    summary,
    unread,
)
from digits.store.writes import (  # noqa: F401
    Lesson,
    add,
    add_many,
    current_lesson,
    delete,
    delete_all,
    recount,
    relabel,
    start_lesson,
)
