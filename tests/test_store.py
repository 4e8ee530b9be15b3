"""The store of labelled drawings, on SQLite and on PostgreSQL (the `database_url` fixture runs each test on both)."""

import multiprocessing
import sqlite3
import threading

import numpy as np
import pytest
import sqlalchemy as sa

from digits import config, store
from tests.store_helpers import EYE, drawing, table_rows

def test_a_drawing_round_trips_exactly(db):
    original = drawing(3, squeezed=np.full((28, 28), 0.25, np.float32), naive_probs=EYE[5])
    drawing_id = store.add(db, **original)
    loaded = store.load(db)
    assert len(loaded) == 1 and loaded.ids[0] == drawing_id
    np.testing.assert_array_equal(loaded.images[0], original["image"])  # bit for bit
    assert loaded.labels[0] == 3 and loaded.predicted[0] == original["probs"].argmax()
    assert loaded.models == ["strong"] and loaded.sessions == ["s3"]
    [row] = store.page(db, "strong").rows
    np.testing.assert_array_equal(row.probs, original["probs"])
    np.testing.assert_array_equal(row.squeezed, original["squeezed"])
    assert (row.id, row.label, row.predicted, row.session) == (drawing_id, 3, original["probs"].argmax(), "s3")
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(store.drawings.c.canvas_png)).scalar_one() == original["canvas_png"]
        assert conn.execute(sa.select(store.readings.c.naive_predicted)).scalar_one() == 5


def test_connect_takes_a_path_a_url_or_the_configured_default(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DATA_DIR", tmp_path / "data")
    monkeypatch.delenv("DIGITS_DATABASE_URL", raising=False)
    store.connect().close()
    assert (tmp_path / "data" / "drawings.sqlite").exists()
    monkeypatch.setenv("DIGITS_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    store.connect().close()
    assert (tmp_path / "elsewhere.sqlite").exists()
    assert "postgresql+psycopg://" in str(store.base._engine("postgres://u@h:1/d").url)  # psycopg 3 unless named


def test_sqlite_is_created_in_wal_mode_with_foreign_keys_and_a_schema_version(tmp_path):
    db = store.connect(tmp_path / "new" / "d.sqlite")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == store.SCHEMA_VERSION


def test_a_database_from_another_version_is_refused(database_url):
    store.connect(database_url).close()
    if "://" in database_url:
        with sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://")).begin() as conn:
            conn.execute(sa.text("COMMENT ON TABLE drawings IS 'digits schema version 99'"))
    else:
        sqlite3.connect(database_url).execute("PRAGMA user_version=99").connection.commit()
    with pytest.raises(store.StoreError, match=f"schema version 99; this app reads version {store.SCHEMA_VERSION}"):
        store.connect(database_url)


@pytest.mark.parametrize("label", [-1, 11, 3.0, "7", "10", None, True])
def test_bad_labels_are_refused_with_a_clear_error(tmp_path, label):
    db = store.connect(tmp_path / "d.sqlite")
    with pytest.raises(ValueError, match="a label must be a digit from 0 to 9, or 10 .* for not a digit"):
        store.add(db, **drawing(label=label))
    assert len(store.load(db)) == 0


def test_a_drawing_labelled_not_a_digit_keeps_that_label_and_the_flag(db):
    flagged = store.add(db, **drawing(1, label=config.NOT_A_DIGIT, flagged=True))
    missed = store.add(db, **drawing(2, label=config.NOT_A_DIGIT, flagged=False))
    unknown = store.add(db, **drawing(3, label=config.NOT_A_DIGIT))  # a caller that does not say
    digit = store.add(db, **drawing(4, flagged=np.bool_(True)))  # a digit the reader took for none
    assert config.NOT_A_DIGIT == 10 and store.load(db).labels.tolist() == [10, 10, 10, 4]
    by_id = {row.id: row.flagged for row in store.page(db, "strong").rows}
    assert by_id == {flagged: True, missed: False, unknown: None, digit: True}
    assert [row.id for row in store.page(db, "strong", label=config.NOT_A_DIGIT).rows] == [unknown, missed, flagged]


def test_relabelling_goes_to_and_from_not_a_digit_and_keeps_the_flag(db):
    drawing_id = store.add(db, **drawing(7, flagged=True))
    assert store.relabel(db, drawing_id, config.NOT_A_DIGIT, session="s7") is True
    assert store.load(db).labels.tolist() == [config.NOT_A_DIGIT]
    assert store.relabel(db, drawing_id, 1, session=None) is True
    [row] = store.page(db, "strong").rows
    assert (row.label, row.flagged) == (1, True)  # what the reader said when it was labelled stays
    with pytest.raises(ValueError, match="for not a digit; got 11"):
        store.relabel(db, drawing_id, config.NOT_A_DIGIT + 1, session=None)


def test_the_database_itself_refuses_a_label_past_not_a_digit(db):
    drawing_id = store.add(db, **drawing(0))
    with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:  # past _check_label, the CHECK holds
        conn.execute(sa.update(store.drawings).where(store.drawings.c.id == drawing_id).values(label=11))
    with db.engine.begin() as conn:
        conn.execute(sa.update(store.drawings).values(label=config.NOT_A_DIGIT))
    assert store.load(db).labels.tolist() == [config.NOT_A_DIGIT]


@pytest.mark.parametrize("field, value, message", [
    ("image", np.zeros((28, 27)), r"an image of shape \(28, 28\), got \(28, 27\)"),
    ("probs", np.zeros(9), r"probs of shape \(10,\), got \(9,\)"),
    ("squeezed", np.zeros((14, 14)), r"a squeezed image of shape \(28, 28\)"),
])
def test_bad_shapes_are_refused_with_a_clear_error(tmp_path, field, value, message):
    with pytest.raises(ValueError, match=message):
        store.add(store.connect(tmp_path / "d.sqlite"), **drawing(**{field: value}))


def test_a_student_relabels_only_their_own_drawing_and_the_teacher_any(db):
    mine, theirs = store.add(db, **drawing(1, session="me")), store.add(db, **drawing(2, session="them"))
    assert store.relabel(db, mine, 8, session="me") is True
    assert store.relabel(db, theirs, 8, session="me") is False  # a crafted id of another session
    assert store.relabel(db, 12345, 8, session=None) is False
    assert store.load(db).labels.tolist() == [8, 2]
    assert store.relabel(db, theirs, 0, session=None) is True
    assert store.load(db).labels.tolist() == [8, 0]
    with pytest.raises(ValueError, match="a label must be a digit"):
        store.relabel(db, mine, 12, session="me")


def test_a_student_deletes_only_their_own_drawings_whatever_ids_they_send(db):
    ids = [store.add(db, **drawing(i, session="me" if i % 2 else "them")) for i in range(6)]
    assert store.delete(db, ids, session="me") == 3  # every id sent, only the three of "me" go
    assert store.load(db).ids.tolist() == ids[0::2]
    assert store.delete(db, ids[0:1], session="me") == 0
    assert store.delete(db, ids[0:1], session=None) == 1
    assert store.delete(db, [], session=None) == 0
    assert store.load(db).ids.tolist() == ids[2::2]


def test_delete_all_by_session_or_everything(db):
    for i in range(5):
        store.add(db, **drawing(i, session="me" if i < 2 else "them"))
    assert store.delete_all(db, session="me") == 2
    assert store.load(db).sessions == ["them"] * 3
    assert store.delete_all(db, session=None) == 3
    assert len(store.load(db)) == 0


def test_deleting_a_drawing_deletes_its_readings(db):
    ids = [store.add(db, **drawing(i)) for i in range(3)]
    store.read_all(db, "other", lambda x: np.tile(EYE[1], (len(x), 1)))
    assert table_rows(db, "readings") == 6  # one from each add, one from read_all
    store.delete(db, ids[:2], session=None)
    assert table_rows(db, "readings") == 2


def test_a_database_fault_is_a_store_error_that_keeps_the_database_words(db):
    store.add(db, **drawing(0))
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE reading_counts"))
    with pytest.raises(store.StoreError, match=r"could not read the drawings: .*(no such table|does not exist)"):
        store.summary(db, "strong")


def _writer(url: str, worker: int, n: int) -> None:
    db = store.connect(url)
    for i in range(n):
        store.add(db, **drawing(i, session=f"worker{worker}-{i}"))


@pytest.mark.slow
def test_concurrent_writers_lose_no_row(database_url):
    store.connect(database_url).close()
    workers = [multiprocessing.Process(target=_writer, args=(database_url, w, 200)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
    db = store.connect(database_url)
    assert set(store.load(db).sessions) == {f"worker{w}-{i}" for w in range(4) for i in range(200)}
    db.close()


def test_threads_sharing_the_server_store_get_their_own_ids(db):
    """The app shares one Store among its sessions' threads: every add must stay whole."""
    ids: dict[int, list[int]] = {t: [] for t in range(8)}
    errors = []

    def write(thread: int) -> None:
        for i in range(200):
            try:
                ids[thread].append(store.add(db, **drawing(thread * 1000 + i)))
                if i % 20 == 0:
                    store.summary(db, "strong")  # the Class page reads while others write
            except Exception as error:  # collected: an assert in a thread would not fail the test
                errors.append(repr(error))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = store.load(db)
    assert len(rows) == 1600
    by_id = dict(zip(rows.ids.tolist(), rows.sessions))
    for thread, added in ids.items():  # each id returned to a thread is that thread's drawing
        assert [by_id[i] for i in added] == [f"s{thread * 1000 + i}" for i in range(200)]


def canvas(seed: int) -> np.ndarray:
    rgba = np.zeros((6, 5, 4), np.uint8)
    rgba[..., 3] = np.random.default_rng(seed).integers(0, 256, (6, 5), dtype=np.uint8)
    rgba[..., 0] = 17
    return rgba


def test_a_canvas_round_trips_through_png_exactly():
    rgba = canvas(1)
    png = store.encode_canvas(rgba)
    assert png.startswith(b"\x89PNG")
    np.testing.assert_array_equal(store.decode_canvas(png), rgba)
    with pytest.raises(ValueError, match=r"\(H, W, 4\) uint8"):
        store.encode_canvas(rgba[..., :3])
    assert store.decode_canvas(b"\x89PNG fake") is None and store.decode_canvas(b"") is None


def test_canvases_come_back_in_the_order_asked_none_where_unreadable_or_missing(db):
    fake = store.add(db, **drawing(0))  # its canvas_png is not a PNG
    ids = [store.add(db, **drawing(i, canvas_png=store.encode_canvas(canvas(i)))) for i in range(1, 1201)]
    asked = ids[::-1] + [fake, 99_999]  # more than one chunk of the query (500 ids)
    got = store.canvases(db, asked)
    assert len(got) == len(asked) and got[-2] is None and got[-1] is None
    for drawing_id, rgba in zip(ids[::-1], got):
        np.testing.assert_array_equal(rgba, canvas(drawing_id - fake))
    assert store.canvases(db, []) == []


def test_add_many_stores_all_or_none(db):
    row = dict(image=np.zeros((28, 28)), canvas_png=b"png", probs=np.eye(10)[3], label=3, model="strong",
               session="s")
    with pytest.raises(ValueError, match="a label must be"):
        store.add_many(db, [row, {**row, "label": 12}])  # the second is bad: the first is not stored either
    assert store.summary(db, "strong").drawings == 0
    ids = store.add_many(db, [row, {**row, "label": 5}])
    assert len(ids) == 2 and ids[0] < ids[1]
    assert sorted(r.label for r in store.page(db, "strong").rows) == [3, 5]
