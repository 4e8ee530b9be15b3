"""The SQLite store of labelled drawings."""

import multiprocessing
import sqlite3

import numpy as np
import pytest

from digits import store


def drawing(seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    probs = rng.random(10, dtype=np.float32)
    return dict(image=rng.random((28, 28), dtype=np.float32), canvas_png=b"\x89PNG fake " + bytes([seed % 256]),
                probs=probs / probs.sum(), label=seed % 10, model="strong", session=f"s{seed}")


def test_a_drawing_round_trips_exactly(tmp_path):
    conn = store.connect(tmp_path / "d.sqlite")
    original = drawing(3)
    drawing_id = store.add(conn, **original)
    loaded = store.load(conn)
    assert len(loaded) == 1 and loaded.ids[0] == drawing_id
    np.testing.assert_array_equal(loaded.images[0], original["image"])  # bit for bit
    np.testing.assert_array_equal(loaded.probs[0], original["probs"])
    assert loaded.labels[0] == 3 and loaded.predicted[0] == original["probs"].argmax()
    assert loaded.models == ["strong"] and loaded.sessions == ["s3"]
    assert store.canvas_png(conn, drawing_id) == original["canvas_png"]


def test_database_is_created_in_wal_mode_with_a_schema_version(tmp_path):
    conn = store.connect(tmp_path / "new" / "d.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION


def test_a_database_from_another_version_is_refused(tmp_path):
    path = tmp_path / "d.sqlite"
    sqlite3.connect(path).execute("PRAGMA user_version=99").connection.commit()
    with pytest.raises(store.StoreError, match="schema version 99"):
        store.connect(path)


@pytest.mark.parametrize("label", [-1, 10, 3.0, "7", None, True])
def test_bad_labels_are_refused_with_a_clear_error(tmp_path, label):
    conn = store.connect(tmp_path / "d.sqlite")
    with pytest.raises(ValueError, match="a label must be a digit from 0 to 9"):
        store.add(conn, **{**drawing(), "label": label})
    assert store.count(conn) == 0


def test_relabel_delete_and_delete_all(tmp_path):
    conn = store.connect(tmp_path / "d.sqlite")
    ids = [store.add(conn, **drawing(i)) for i in range(3)]
    store.relabel(conn, ids[0], 8)
    assert store.load(conn).labels[0] == 8
    with pytest.raises(ValueError):
        store.relabel(conn, ids[0], 12)
    store.delete(conn, ids[1])
    assert list(store.load(conn).ids) == [ids[0], ids[2]]
    store.delete_all(conn)
    assert store.count(conn) == 0


def test_export_npz_holds_mnist_style_images_and_labels(tmp_path):
    conn = store.connect(tmp_path / "d.sqlite")
    for i in range(4):
        store.add(conn, **drawing(i))
    import io

    with np.load(io.BytesIO(store.export_npz(store.load(conn))), allow_pickle=False) as npz:
        assert npz["images"].shape == (4, 28, 28) and npz["images"].dtype == np.uint8
        np.testing.assert_array_equal(npz["labels"], [0, 1, 2, 3])


def _writer(path: str, worker: int, n: int) -> None:
    conn = store.connect(path)
    for i in range(n):
        store.add(conn, **{**drawing(i), "session": f"worker{worker}-{i}"})


@pytest.mark.slow
def test_concurrent_writers_lose_no_row(tmp_path):
    path = tmp_path / "d.sqlite"
    store.connect(path)
    workers = [multiprocessing.Process(target=_writer, args=(str(path), w, 200)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(timeout=120)
        assert p.exitcode == 0
    sessions = set(store.load(store.connect(path)).sessions)
    assert sessions == {f"worker{w}-{i}" for w in range(4) for i in range(200)}


def test_threads_sharing_the_server_connection_get_their_own_ids(tmp_path):
    """The app shares one connection among its sessions' threads: every add must stay whole."""
    import threading

    conn = store.connect(tmp_path / "d.sqlite")
    ids: dict[int, list[int]] = {t: [] for t in range(8)}
    errors = []

    def write(thread: int) -> None:
        for i in range(200):
            try:
                ids[thread].append(store.add(conn, **drawing(thread * 1000 + i)))
                if i % 20 == 0:
                    store.load(conn)  # the Class page reads while others write
            except Exception as error:  # collected: an assert in a thread would not fail the test
                errors.append(repr(error))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = store.load(conn)
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


def test_canvases_come_back_in_the_order_asked_none_where_unreadable_or_missing(tmp_path):
    conn = store.connect(tmp_path / "d.sqlite")
    fake = store.add(conn, **drawing(0))  # its canvas_png is not a PNG
    ids = [store.add(conn, **{**drawing(i), "canvas_png": store.encode_canvas(canvas(i))}) for i in range(1, 1201)]
    asked = ids[::-1] + [fake, 99_999]  # more than one chunk of the query (500 ids)
    got = store.canvases(conn, asked)
    assert len(got) == len(asked) and got[-2] is None and got[-1] is None
    for drawing_id, rgba in zip(ids[::-1], got):
        np.testing.assert_array_equal(rgba, canvas(drawing_id - fake))
    assert store.canvases(conn, []) == []
