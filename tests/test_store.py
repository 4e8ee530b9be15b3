"""The store of labelled drawings, on SQLite and on PostgreSQL (the `database_url` fixture runs each test on both)."""

import io
import multiprocessing
import sqlite3
import threading

import numpy as np
import pytest
import sqlalchemy as sa

from digits import config, store
from digits.store import Scope

EYE = np.eye(10, dtype=np.float32)


def drawing(seed: int = 0, **changes) -> dict:
    rng = np.random.default_rng(seed)
    probs = rng.random(10, dtype=np.float32)
    return {**dict(image=rng.random((28, 28), dtype=np.float32), canvas_png=b"\x89PNG fake " + bytes([seed % 256]),
                   probs=probs / probs.sum(), label=seed % 10, model="strong", session=f"s{seed}"), **changes}


@pytest.fixture
def db(database_url):
    db = store.connect(database_url)
    yield db
    db.close()  # PostgreSQL drops a test's database only once its connections are gone


def table_rows(db: store.Store, table: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


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
    with pytest.raises(store.StoreError, match="schema version 99; this app reads version 2"):
        store.connect(database_url)


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
    assert [row.squeezed for row in store.page(db, "strong").rows] == [None] * 6
    new_id = store.add(db, **drawing(9, squeezed=np.zeros((28, 28)), naive_probs=EYE[9]))
    assert new_id == 7 and store.summary(db, "strong").naive_read == 1
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA user_version").scalar() == store.SCHEMA_VERSION
        assert "drawings_created" not in {i["name"] for i in sa.inspect(conn).get_indexes("drawings")}
    db.close()
    assert store.load(store.connect(path)).ids.tolist() == [1, 2, 3, 4, 5, 6, 7]  # opening again changes nothing


@pytest.mark.parametrize("label", [-1, 10, 3.0, "7", None, True])
def test_bad_labels_are_refused_with_a_clear_error(tmp_path, label):
    db = store.connect(tmp_path / "d.sqlite")
    with pytest.raises(ValueError, match="a label must be a digit from 0 to 9"):
        store.add(db, **drawing(label=label))
    assert len(store.load(db)) == 0


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


def random_class(db, n: int = 60, seed: int = 0) -> list[dict]:
    """``n`` drawings by 3 sessions, labels and readings at random, about half with a squeezed reading."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        with_naive = bool(rng.random() < 0.5)
        row = drawing(i, label=int(rng.integers(10)), probs=EYE[rng.integers(10)], session=f"s{i % 3}",
                      squeezed=np.zeros((28, 28)) if with_naive else None,
                      naive_probs=EYE[rng.integers(10)] if with_naive else None)
        rows.append({**row, "id": store.add(db, **row)})
    return rows


def expected_summary(rows: list[dict]) -> dict:
    labels = np.array([r["label"] for r in rows], int)
    predicted = np.array([r["probs"].argmax() for r in rows], int)
    naive = np.array([-1 if r["naive_probs"] is None else r["naive_probs"].argmax() for r in rows], int)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    has = naive >= 0
    return dict(drawings=len(rows), read=len(rows), sessions=len({r["session"] for r in rows}), confusion=confusion,
                naive_read=int(has.sum()), naive_right=int((naive == labels).sum()),
                ours_right_where_naive=int((has & (predicted == labels)).sum()))


@pytest.mark.parametrize("scope", [Scope(), Scope(session="s1"), Scope(after_id=40), Scope(session="s2", after_id=25)])
def test_summary_counts_what_numpy_counts_of_the_same_rows(db, scope):
    rows = random_class(db)
    chosen = [r for r in rows if r["id"] > scope.after_id and scope.session in (None, r["session"])]
    got = store.summary(db, "strong", scope)
    expected = expected_summary(chosen)
    np.testing.assert_array_equal(got.confusion, expected.pop("confusion"))
    assert {k: getattr(got, k) for k in expected} == expected


def test_summary_counts_only_what_the_model_has_read(db):
    for i in range(4):
        store.add(db, **drawing(i))
    got = store.summary(db, "new model")
    assert (got.drawings, got.read, got.sessions, got.naive_read) == (4, 0, 4, 0)
    assert not got.confusion.any()
    empty = store.summary(db, "strong", Scope(session="nobody"))
    assert (empty.drawings, empty.read, empty.sessions) == (0, 0, 0)


def walk(db, **filters) -> list[int]:
    ids, before, pages = [], None, 0
    while True:
        page = store.page(db, "strong", before_id=before, limit=7, **filters)
        ids += [row.id for row in page.rows]
        pages += 1
        assert len(page.rows) == 7 or page.next_before_id is None  # only the last page is short
        if (before := page.next_before_id) is None:
            return ids
        assert pages < 100


@pytest.mark.parametrize("filters, keep", [
    ({}, lambda r: True),
    ({"label": 3}, lambda r: r["label"] == 3),
    ({"predicted": 4}, lambda r: r["probs"].argmax() == 4),
    ({"label": 3, "predicted": 3}, lambda r: r["label"] == 3 and r["probs"].argmax() == 3),
    ({"wrong": True}, lambda r: r["probs"].argmax() != r["label"]),
    ({"naive_lost": True}, lambda r: r["probs"].argmax() == r["label"] and r["naive_probs"] is not None
     and r["naive_probs"].argmax() != r["label"]),
    ({"scope": Scope(session="s1", after_id=30)}, lambda r: r["session"] == "s1" and r["id"] > 30),
])
def test_pages_walk_every_matching_row_once_newest_first(db, filters, keep):
    rows = random_class(db, n=80, seed=1)
    # Tilt the draw so each filter has a few pages: many 3s, a few right with a lost naive reading.
    for i in range(20):
        rows.append({**(row := drawing(100 + i, label=3, probs=EYE[3], squeezed=np.zeros((28, 28)),
                                       naive_probs=EYE[5])), "id": store.add(db, **row)})
    expected = [r["id"] for r in reversed(rows) if keep(r)]
    assert expected  # a filter that matches nothing would pass with any answer
    assert walk(db, **filters) == expected


def test_a_page_fetches_images_and_readings_of_its_own_rows(db):
    ids = [store.add(db, **drawing(i, probs=EYE[i % 10])) for i in range(30)]
    page = store.page(db, "strong", before_id=ids[20], limit=5)
    assert [row.id for row in page.rows] == ids[15:20][::-1] and page.next_before_id == ids[15]
    for row in page.rows:
        np.testing.assert_array_equal(row.image, drawing(row.id - ids[0])["image"])
        assert row.predicted == (row.id - ids[0]) % 10
    assert store.page(db, "no such model").rows == []


def pixel_model(calls: list[int]):
    """A fake classifier with known answers: the flat index of the brightest pixel, modulo 10."""
    def predict_proba(images: np.ndarray) -> np.ndarray:
        calls.append(len(images))
        assert images.dtype == np.float32 and images.shape[1:] == (28, 28)
        return EYE[images.reshape(len(images), -1).argmax(axis=1) % 10]
    return predict_proba


def bright(pixel: int) -> np.ndarray:
    image = np.zeros((28, 28), np.float32)
    image.flat[pixel] = 1.0
    return image


def test_read_all_reads_every_drawing_once_in_batches_with_known_answers(db):
    for i in range(23):  # model input reads as i % 10; the squeezed canvas (every third) as (i + 1) % 10
        store.add(db, **drawing(i, image=bright(i), label=i % 10,
                                squeezed=bright(i + 1) if i % 3 == 0 else None,
                                naive_probs=EYE[0] if i % 3 == 0 else None))
    calls, seen = [], []
    assert store.count_unread(db, "pixel") == 23
    done = store.read_all(db, "pixel", pixel_model(calls), batch=5, progress=lambda *p: seen.append(p))
    assert done == 23 and seen == [(5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
    assert max(calls) <= 5  # never more than one batch at a time
    summary = store.summary(db, "pixel")
    np.testing.assert_array_equal(summary.confusion, np.diag(np.bincount(np.arange(23) % 10, minlength=10)))
    assert (summary.naive_read, summary.naive_right, summary.ours_right_where_naive) == (8, 0, 8)
    assert store.count_unread(db, "pixel") == 0 and store.read_all(db, "pixel", pixel_model(calls)) == 0


def test_unread_gives_images_and_zeros_where_no_squeezed_canvas(db):
    ids = [store.add(db, **drawing(i, squeezed=np.full((28, 28), 0.5) if i == 1 else None)) for i in range(3)]
    batch = store.unread(db, "new", limit=2)
    assert batch.ids.tolist() == ids[:2] and batch.has_squeezed.tolist() == [False, True]
    np.testing.assert_array_equal(batch.images[1], drawing(1)["image"])
    assert not batch.squeezed[0].any() and (batch.squeezed[1] == 0.5).all()
    assert store.unread(db, "new", after_id=ids[1]).ids.tolist() == ids[2:]


def test_save_readings_keeps_the_first_and_skips_deleted_drawings(db):
    ids = [store.add(db, **drawing(i)) for i in range(3)]
    store.save_readings(db, "m", ids[:2], EYE[[1, 2]], [EYE[7], None])
    store.delete(db, ids[2:], session=None)
    store.save_readings(db, "m", ids, EYE[[9, 9, 9]])  # another server's copy of the same batch, plus a gone one
    np.testing.assert_array_equal(store.summary(db, "m").confusion.nonzero(), ([0, 1], [1, 2]))
    assert store.summary(db, "m").naive_read == 1


def test_servers_racing_to_read_store_each_reading_once(database_url):
    """Two threads of one server and a second server read the same drawings at once: no error, no double."""
    db = store.connect(database_url)
    for i in range(300):
        store.add(db, **drawing(i, image=bright(i)))
    other = store.connect(database_url)
    done, errors = [], []

    def read(server: store.Store) -> None:
        try:
            done.append(store.read_all(server, "pixel", pixel_model([]), batch=16))
        except Exception as error:  # collected: an assert in a thread would not fail the test
            errors.append(repr(error))

    threads = [threading.Thread(target=read, args=(server,)) for server in (db, db, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sum(done) >= 300
    summary = store.summary(db, "pixel")
    assert summary.read == 300 and table_rows(db, "readings") == 600  # one for "strong", one for "pixel"
    np.testing.assert_array_equal(summary.confusion.sum(axis=0), np.bincount(np.arange(300) % 10, minlength=10))
    other.close()
    db.close()


def test_since_lists_what_came_after_an_id_oldest_first(db):
    ids = [store.add(db, **drawing(i, probs=EYE[(i + 1) % 10])) for i in range(5)]
    assert store.since(db, ids[2]) == [(ids[3], "s3", 3, 4), (ids[4], "s4", 4, 5)]
    assert store.since(db, 0, limit=2) == [(ids[0], "s0", 0, 1), (ids[1], "s1", 1, 2)]
    assert store.since(db, ids[4]) == []


def test_images_and_canvases_come_back_by_id(db):
    ids = [store.add(db, **drawing(i)) for i in range(3)]
    got = store.images(db, [ids[2], ids[0], 999])
    assert sorted(got) == [ids[0], ids[2]]
    np.testing.assert_array_equal(got[ids[2]], drawing(2)["image"])


def test_a_lesson_counts_only_the_drawings_after_it_started(db):
    assert store.current_lesson(db) is None
    ids = [store.add(db, **drawing(i)) for i in range(3)]
    first = store.start_lesson(db)
    assert first.after_id == ids[-1] and store.current_lesson(db) == first
    for i in range(2):
        store.add(db, **drawing(10 + i))
    assert store.summary(db, "strong", Scope(after_id=first.after_id)).drawings == 2
    second = store.start_lesson(db)
    assert second.id > first.id and store.current_lesson(db) == second
    assert store.summary(db, "strong", Scope(after_id=second.after_id)).drawings == 0


def test_listing_pages_through_ids_without_images(db):
    ids = [store.add(db, **drawing(i, created=1000.0 + i)) for i in range(5)]
    rows, after = store.listing(db, limit=3)
    assert rows == [(ids[4], 1004.0, "s4", 4), (ids[3], 1003.0, "s3", 3), (ids[2], 1002.0, "s2", 2)]
    assert store.listing(db, before_id=after, limit=3) == ([(ids[1], 1001.0, "s1", 1), (ids[0], 1000.0, "s0", 0)],
                                                          None)


def test_export_npz_matches_a_naive_export_of_the_same_rows(db, tmp_path):
    for i in range(23):
        store.add(db, **drawing(i, session="me" if i % 4 else "them"))
    buffer = io.BytesIO()
    n = store.export_npz(db, buffer, Scope(session="me"), chunk=4)  # several chunks, the last one short
    reference = store.load(db, Scope(session="me"))
    assert n == len(reference) == 17
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as npz:
        assert npz["images"].dtype == np.uint8 and npz["labels"].dtype == np.uint8
        np.testing.assert_array_equal(npz["images"], np.round(reference.images * 255).astype(np.uint8))
        np.testing.assert_array_equal(npz["labels"], reference.labels)
    assert store.export_npz(db, tmp_path / "none.npz", Scope(session="nobody")) == 0
    with np.load(tmp_path / "none.npz") as npz:
        assert npz["images"].shape == (0, 28, 28) and npz["labels"].shape == (0,)


def test_a_database_fault_is_a_store_error_that_keeps_the_database_words(db):
    store.add(db, **drawing(0))
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE readings"))
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
