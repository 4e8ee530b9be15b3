"""Databases written by older versions of the app open at this version, every row and id kept (SQLite, PostgreSQL)."""

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from digits import config, store
from tests.store_helpers import EYE, drawing, table_rows

# Version 1's schema, as the app wrote it before readings and lessons.
V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS drawings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    session TEXT NOT NULL,
    model TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
    probs BLOB NOT NULL,
    image BLOB NOT NULL,
    canvas_png BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS drawings_created ON drawings (created);
"""

# Version 2's schema, as the app wrote it on each database (before the label "not a digit" and `flagged`).
V2_SCHEMA = {
    "sqlite": """
CREATE TABLE drawings (
    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    created FLOAT NOT NULL,
    session TEXT NOT NULL,
    model TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
    probs BLOB NOT NULL,
    image BLOB NOT NULL,
    canvas_png BLOB NOT NULL,
    squeezed BLOB
);
CREATE INDEX drawings_session ON drawings (session, id, label);
CREATE INDEX drawings_label ON drawings (label, id, session);
CREATE TABLE lessons (id INTEGER NOT NULL, started FLOAT NOT NULL, after_id INTEGER NOT NULL, PRIMARY KEY (id));
CREATE TABLE readings (
    drawing_id INTEGER NOT NULL,
    model TEXT NOT NULL,
    predicted INTEGER NOT NULL,
    probs BLOB NOT NULL,
    naive_predicted INTEGER,
    PRIMARY KEY (drawing_id, model),
    FOREIGN KEY(drawing_id) REFERENCES drawings (id) ON DELETE CASCADE
) WITHOUT ROWID;
PRAGMA user_version=2
""",
    "postgresql": """
CREATE TABLE drawings (
    id BIGSERIAL NOT NULL,
    created FLOAT NOT NULL,
    session TEXT NOT NULL,
    model TEXT NOT NULL,
    label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
    predicted INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
    probs BYTEA NOT NULL,
    image BYTEA NOT NULL,
    canvas_png BYTEA NOT NULL,
    squeezed BYTEA,
    PRIMARY KEY (id)
);
COMMENT ON TABLE drawings IS 'digits schema version 2';
CREATE INDEX drawings_session ON drawings (session, id, label);
CREATE INDEX drawings_label ON drawings (label, id, session);
CREATE TABLE lessons (id BIGSERIAL NOT NULL, started FLOAT NOT NULL, after_id BIGINT NOT NULL, PRIMARY KEY (id));
CREATE TABLE readings (
    drawing_id BIGINT NOT NULL,
    model TEXT NOT NULL,
    predicted INTEGER NOT NULL,
    probs BYTEA NOT NULL,
    naive_predicted INTEGER,
    PRIMARY KEY (drawing_id, model),
    FOREIGN KEY(drawing_id) REFERENCES drawings (id) ON DELETE CASCADE
)
""",
}


def raw_engine(database_url: str) -> sa.Engine:
    """An engine that leaves the database as it is (store.connect would migrate it)."""
    if "://" in database_url:
        return sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    return sa.create_engine(f"sqlite:///{database_url}")


def test_a_version_1_sqlite_file_is_migrated_in_place(tmp_path):
    path = tmp_path / "d.sqlite"
    old = sqlite3.connect(path)
    old.executescript(V1_SCHEMA)
    rows = [drawing(i) for i in range(6)]
    for i, row in enumerate(rows):
        old.execute("INSERT INTO drawings (created, session, model, label, predicted, probs, image, canvas_png)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (float(i), row["session"], "strong", row["label"],
                                                         int(row["probs"].argmax()), row["probs"].tobytes(),
                                                         row["image"].tobytes(), row["canvas_png"]))
    old.execute("PRAGMA user_version=1")
    old.commit()
    old.close()

    db = store.connect(path)
    loaded = store.load(db)
    np.testing.assert_array_equal(loaded.images, [row["image"] for row in rows])
    assert list(loaded.labels) == [row["label"] for row in rows]
    # Each drawing keeps the reading it had when labelled, so no model has to read them again.
    summary = store.summary(db, "strong")
    assert summary.read == 6 and store.count_unread(db, "strong") == 0
    expected = np.zeros((10, 10), np.int64)
    np.add.at(expected, ([row["label"] for row in rows], [row["probs"].argmax() for row in rows]), 1)
    np.testing.assert_array_equal(summary.confusion, expected)
    page = store.page(db, "strong").rows
    assert [row.squeezed for row in page] == [None] * 6 and [row.flagged for row in page] == [None] * 6
    new_id = store.add(db, **drawing(9, squeezed=np.zeros((28, 28)), naive_probs=EYE[9]))
    assert new_id == 7 and store.summary(db, "strong").naive_read == 1
    assert store.relabel(db, 1, config.NOT_A_DIGIT, session=None)  # the new label, on a migrated drawing
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == store.SCHEMA_VERSION == 7
        assert {i["name"] for i in sa.inspect(conn).get_indexes("drawings")} == {"drawings_session", "drawings_label"}
    db.close()
    assert store.load(store.connect(path)).ids.tolist() == [1, 2, 3, 4, 5, 6, 7]  # opening again changes nothing


def write_version_2(database_url: str) -> list[dict]:
    """A version-2 database: drawings 1 to 8 less 3 and 8 (deleted), each read by "strong", 3 by "other", a lesson.

    Returns the drawings kept, with their ids.
    """
    engine = raw_engine(database_url)
    rows = [{**drawing(i), "id": i + 1} for i in range(8)]
    with engine.begin() as conn:
        for statement in V2_SCHEMA[engine.dialect.name].split(";"):
            if statement.strip():
                conn.exec_driver_sql(statement)
        for i, row in enumerate(rows):
            conn.execute(sa.text(
                "INSERT INTO drawings (created, session, model, label, predicted, probs, image, canvas_png, squeezed)"
                " VALUES (:created, :session, 'strong', :label, :predicted, :probs, :image, :png, :squeezed)"),
                dict(created=float(i), session=row["session"], label=row["label"], predicted=int(row["probs"].argmax()),
                     probs=row["probs"].tobytes(), image=row["image"].tobytes(), png=row["canvas_png"],
                     squeezed=row["image"].tobytes() if i % 2 else None))
        conn.execute(sa.text("DELETE FROM drawings WHERE id IN (3, 8)"))  # 8, the newest: its id is not reused
        kept = [row for row in rows if row["id"] not in (3, 8)]
        reading = sa.text("INSERT INTO readings (drawing_id, model, predicted, probs) VALUES (:id, :model, :p, :probs)")
        for row in kept:
            conn.execute(reading, dict(id=row["id"], model="strong", p=int(row["probs"].argmax()),
                                       probs=row["probs"].tobytes()))
        for row in kept[:3]:  # another model read the first three
            conn.execute(reading, dict(id=row["id"], model="other", p=1, probs=EYE[1].tobytes()))
        conn.execute(sa.text("INSERT INTO lessons (started, after_id) VALUES (1.7e9, 4)"))
    engine.dispose()
    return kept


def test_a_version_2_database_is_migrated_keeping_every_row_id_reading_and_lesson(database_url):
    kept = write_version_2(database_url)
    db = store.connect(database_url)

    loaded = store.load(db)
    assert loaded.ids.tolist() == [1, 2, 4, 5, 6, 7]
    np.testing.assert_array_equal(loaded.images, [row["image"] for row in kept])
    assert loaded.labels.tolist() == [row["label"] for row in kept]
    page = store.page(db, "strong").rows[::-1]  # oldest first
    assert [row.flagged for row in page] == [None] * 6  # not known: version 2 did not keep the flag
    assert [row.squeezed is not None for row in page] == [i % 2 == 1 for i in (0, 1, 3, 4, 5, 6)]
    assert table_rows(db, "readings") == 6 + 3
    assert store.count_unread(db, "strong") == 0 and store.count_unread(db, "other") == 3
    assert store.summary(db, "other").confusion[:, 1].sum() == 3
    assert store.current_lesson(db).after_id == 4

    assert store.add(db, **drawing(20, label=config.NOT_A_DIGIT, flagged=True)) == 9  # 8 was deleted: never reused
    assert store.relabel(db, 1, config.NOT_A_DIGIT, session=None)
    assert store.summary(db, "strong").not_digits == 2
    store.delete(db, [1], session=None)
    assert table_rows(db, "readings") == 6 + 3 - 2 + 1  # the foreign key still deletes a drawing's readings
    with db.engine.connect() as conn:
        assert {i["name"] for i in sa.inspect(conn).get_indexes("drawings")} == {"drawings_session", "drawings_label"}
        assert store.base._version(conn) == store.SCHEMA_VERSION == 7
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:  # the database's own CHECK: 0 to 10
        conn.execute(sa.update(store.drawings).where(store.drawings.c.id == 2).values(label=config.NOT_A_DIGIT + 1))
    db.close()
    assert store.load(store.connect(database_url)).ids.tolist() == [2, 4, 5, 6, 7, 9]  # opening again changes nothing
    # Migrating leaves the shared table definition whole: a database created next still gets the label CHECK.
    assert "drawings_label_check" in str(sa.schema.CreateTable(store.drawings).compile(dialect=sa.dialects.sqlite.dialect()))


def test_a_migrated_sqlite_file_gives_the_old_table_s_space_back(tmp_path):
    path = str(tmp_path / "d.sqlite")
    write_version_2(path)
    with sqlite3.connect(path) as old:  # a term of drawings: 2,000 more, 10 kB of canvas each
        old.executemany("INSERT INTO drawings (created, session, model, label, predicted, probs, image, canvas_png)"
                        " SELECT created, session, model, label, predicted, probs, image, ? FROM drawings WHERE id = 1",
                        [(np.random.default_rng(i).bytes(10_000),) for i in range(2000)])
    size = Path(path).stat().st_size
    store.connect(path).close()
    free = sqlite3.connect(path).execute("PRAGMA freelist_count").fetchone()[0]
    assert free == 0 and Path(path).stat().st_size < 1.1 * size  # not twice: the rebuilt table is all there is


def test_a_failed_migration_leaves_the_version_2_file_as_it_was(tmp_path, monkeypatch):
    path = str(tmp_path / "d.sqlite")
    write_version_2(path)
    before = sqlite3.connect(path).execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()

    def fail(conn, version):
        store.base._rebuild_drawings(conn)
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk is full"))

    monkeypatch.setattr(store.base, "_migrate", fail)
    with pytest.raises(store.StoreError, match="disk is full"):
        store.connect(path)
    old = sqlite3.connect(path)
    assert old.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert old.execute("PRAGMA user_version").fetchone() == (2,)
    assert [i for (i,) in old.execute("SELECT id FROM drawings ORDER BY id")] == [1, 2, 4, 5, 6, 7]
    assert old.execute("SELECT COUNT(*) FROM readings").fetchone() == (9,)


def back_to(database_url: str, version: int, *statements: str) -> None:
    """Undo what later versions added (``statements``) to a database this version wrote, and mark it ``version``."""
    engine = raw_engine(database_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version={version}")
        else:
            conn.execute(sa.text(f"COMMENT ON TABLE drawings IS 'digits schema version {version}'"))
    engine.dispose()


def test_a_version_3_database_gets_running_totals_counted_from_its_rows(database_url):
    db = store.connect(database_url)
    ids = [store.add(db, **drawing(i, label=config.NOT_A_DIGIT if i == 4 else i % 10, naive_probs=EYE[i % 3],
                                   squeezed=np.zeros((28, 28)))) for i in range(9)]
    store.save_readings(db, "other", ids[:5], EYE[[1] * 5])
    before = store.summary(db, "strong"), store.summary(db, "other")
    db.close()
    back_to(database_url, 3, "DROP TABLE drawing_counts", "DROP TABLE reading_counts", "DROP INDEX readings_cell",
            "ALTER TABLE readings DROP COLUMN label")  # as version 3 left it: no totals, no label in readings

    db = store.connect(database_url)
    for old, new in zip(before, (store.summary(db, "strong"), store.summary(db, "other")), strict=True):
        np.testing.assert_array_equal(new.confusion, old.confusion)
        assert (new.drawings, new.read, new.not_digits, new.naive_read, new.naive_right) == (
            old.drawings, old.read, old.not_digits, old.naive_read, old.naive_right)
    assert before[0].read == 8 and before[0].naive_right == 3  # i % 3 == i % 10 for 0, 1, 2
    assert store.count_unread(db, "strong") == 0 and store.count_unread(db, "other") == 4
    # Each reading got its drawing's label, and a confusion cell's page finds them by it.
    assert [row.id for row in store.page(db, "other", label=config.NOT_A_DIGIT, predicted=1).rows] == [ids[4]]
    assert [row.id for row in store.page(db, "strong", label=3, predicted=3).rows] == (
        [ids[3]] if before[0].confusion[3, 3] else [])
    with db.engine.connect() as conn:
        assert store.base._version(conn) == store.SCHEMA_VERSION
        assert conn.execute(sa.text("SELECT COUNT(*) FROM readings r JOIN drawings d ON d.id = r.drawing_id"
                                    " WHERE r.label = d.label")).scalar_one() == 9 + 5
        assert "readings_cell" in {i["name"] for i in sa.inspect(conn).get_indexes("readings")}
    db.close()


@pytest.mark.parametrize("version, sums", [(4, ""), (5, ", id_sum BIGINT NOT NULL")])
def test_a_version_4_or_5_database_gets_its_totals_per_label_and_answer_counted_from_its_rows(database_url, version,
                                                                                             sums):
    from digits import tally

    db = store.connect(database_url)
    ids = [store.add(db, **drawing(i, label=config.NOT_A_DIGIT if i == 4 else i % 10, probs=EYE[i % 4],
                                   flagged=None if i == 1 else i % 3 == 0)) for i in range(9)]
    store.delete(db, [ids[2]], session=None)
    db.close()
    back_to(database_url, version, "DROP TABLE drawing_counts",  # as that version left it: totals per label only
            f"CREATE TABLE label_counts (label INTEGER PRIMARY KEY, n BIGINT NOT NULL{sums})",
            f"INSERT INTO label_counts SELECT label, COUNT(*){', SUM(id)' if sums else ''} FROM drawings GROUP BY label")

    db = store.connect(database_url)
    kept = [(i, config.NOT_A_DIGIT if k == 4 else k % 10) for k, i in enumerate(ids) if k != 2]
    assert store.fingerprint(db, 0, ids[-2]) == (7, sum(i * (label + 1) for i, label in kept[:-1]))
    store.relabel(db, ids[0], 5, session=None)  # the totals move with every write after the migration too
    assert store.fingerprint(db, 0, ids[-1]) == (8, sum(i * (label + 1) for i, label in kept) + ids[0] * 5)
    counted = tally.from_answers(None, store.answers_since(db, 0))  # from the totals: no lesson
    by_rows = tally.add_rows(tally.Tally(lesson=None, last_id=0), store.since(db, 0))
    assert (counted.confusion.tolist(), counted.caught, counted.false_alarms, counted.fingerprint()) == (
        by_rows.confusion.tolist(), by_rows.caught, by_rows.false_alarms, by_rows.fingerprint())
    assert counted.false_alarms == 3 and counted.caught == 0  # drawings 0, 3, 6 flagged; 1 not known; 4 not
    with db.engine.connect() as conn:
        assert store.base._version(conn) == store.SCHEMA_VERSION == 7
        assert not sa.inspect(conn).has_table("label_counts")
    db.close()


def test_a_version_6_database_gets_each_session_s_drawings_counted_from_its_rows(database_url):
    db = store.connect(database_url)
    ids = [store.add(db, **drawing(i, session=f"s{i % 3}")) for i in range(9)]
    store.delete(db, [ids[8]], session=None)  # s2's newest
    db.close()
    back_to(database_url, 6, "DROP TABLE session_counts")  # as version 6 left it: the sessions read from the rows

    db = store.connect(database_url)
    assert sorted(store.answers_since(db, 0).sessions) == ["s0", "s1", "s2"]
    assert sorted(store.answers_since(db, ids[5]).sessions) == ["s0", "s1"]  # s2's drawings after 6 are gone
    store.add(db, **drawing(9, session="s2"))  # the counts move with every write after the migration too
    assert sorted(store.answers_since(db, ids[7]).sessions) == ["s2"]
    with db.engine.connect() as conn:
        assert store.base._version(conn) == store.SCHEMA_VERSION == 7
        assert sorted(conn.execute(sa.select(store.session_counts)).all()) == [
            ("s0", 3, ids[6]), ("s1", 3, ids[7]), ("s2", 3, ids[8] + 1)]
    db.close()
