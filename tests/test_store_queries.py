"""What the pages ask the store, on SQLite and on PostgreSQL: aggregates, pages of rows, readings, lessons, export."""

import io
import itertools
import threading

import numpy as np
import pytest
import sqlalchemy as sa

from digits import config, store
from digits.store import Scope
from support.fill import fill
from tests.store_helpers import EYE, drawing, table_rows, vm_steps


def random_class(db, n: int = 60, seed: int = 0) -> list[dict]:
    """``n`` drawings by 3 sessions, labels (1 in 5 not a digit) and readings at random, half with a squeezed one."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        with_naive = bool(rng.random() < 0.5)
        label = config.NOT_A_DIGIT if rng.random() < 0.2 else int(rng.integers(10))
        row = drawing(i, label=label, probs=EYE[rng.integers(10)], session=f"s{i % 3}",
                      flagged=bool(rng.random() < 0.2),
                      squeezed=np.zeros((28, 28)) if with_naive else None,
                      naive_probs=EYE[rng.integers(10)] if with_naive else None)
        rows.append({**row, "id": store.add(db, **row)})
    return rows


def expected_summary(rows: list[dict]) -> dict:
    not_digits = sum(r["label"] == config.NOT_A_DIGIT for r in rows)
    rows = [r for r in rows if r["label"] != config.NOT_A_DIGIT]  # the rest are digits: the matrix's
    labels = np.array([r["label"] for r in rows], int)
    predicted = np.array([r["probs"].argmax() for r in rows], int)
    naive = np.array([-1 if r["naive_probs"] is None else r["naive_probs"].argmax() for r in rows], int)
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    has = naive >= 0
    return dict(drawings=len(rows) + not_digits, read=len(rows), not_digits=not_digits, confusion=confusion,
                naive_read=int(has.sum()), naive_right=int((naive == labels).sum()),
                ours_right_where_naive=int((has & (predicted == labels)).sum()))


@pytest.mark.parametrize("scope", [Scope(), Scope(session="s1"), Scope(after_id=40), Scope(session="s2", after_id=25)])
def test_summary_counts_what_numpy_counts_of_the_same_rows(db, scope):
    rows = random_class(db)
    chosen = [r for r in rows if r["id"] > scope.after_id and scope.session in (None, r["session"])]
    got = store.summary(db, "strong", scope)
    expected = expected_summary(chosen)
    assert expected["not_digits"] and expected["read"]  # both kinds in every scope: the test can fail
    np.testing.assert_array_equal(got.confusion, expected.pop("confusion"))
    assert {k: getattr(got, k) for k in expected} == expected


def test_summary_counts_only_what_the_model_has_read(db):
    for i in range(4):
        store.add(db, **drawing(i))
    got = store.summary(db, "new model")
    assert (got.drawings, got.read, got.naive_read) == (4, 0, 0)
    assert not got.confusion.any()
    empty = store.summary(db, "strong", Scope(session="nobody"))
    assert (empty.drawings, empty.read) == (0, 0)


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
    ({"wrong": True}, lambda r: r["probs"].argmax() != r["label"] != config.NOT_A_DIGIT),
    ({"label": config.NOT_A_DIGIT}, lambda r: r["label"] == config.NOT_A_DIGIT),
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
    ids = [store.add(db, **drawing(i, probs=EYE[(i + 1) % 10], flagged=i == 3)) for i in range(5)]
    store.relabel(db, ids[3], config.NOT_A_DIGIT, session=None)
    assert store.since(db, ids[2]) == [(ids[3], "s3", 10, 4, True), (ids[4], "s4", 4, 5, False)]
    assert store.since(db, 0, limit=2) == [(ids[0], "s0", 0, 1, False), (ids[1], "s1", 1, 2, False)]
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


def test_export_npz_matches_a_naive_export_of_the_same_rows(db, tmp_path):
    for i in range(23):
        label = config.NOT_A_DIGIT if i % 5 == 0 else i % 10
        store.add(db, **drawing(i, session="me" if i % 4 else "them", label=label))
    buffer = io.BytesIO()
    n = store.export_npz(db, buffer, Scope(session="me"), chunk=4)  # several chunks, the last one short
    reference = store.load(db, Scope(session="me"))
    assert n == len(reference) == 17
    with np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False) as npz:
        assert npz["images"].dtype == np.uint8 and npz["labels"].dtype == np.uint8
        np.testing.assert_array_equal(npz["images"], np.round(reference.images * 255).astype(np.uint8))
        np.testing.assert_array_equal(npz["labels"], reference.labels)
        assert 10 in npz["labels"] and npz["label_names"][10] == "not a digit"  # the file says what 10 means
        assert npz["label_names"].tolist() == [str(d) for d in range(10)] + ["not a digit"]
    assert store.export_npz(db, tmp_path / "none.npz", Scope(session="nobody")) == 0
    with np.load(tmp_path / "none.npz") as npz:
        assert npz["images"].shape == (0, 28, 28) and npz["labels"].shape == (0,)


@pytest.mark.parametrize("wide", [False, True], ids=["key range", "index scan"])
@pytest.mark.parametrize("first", [4, 20], ids=["totals less the rows outside", "rows inside"])
def test_the_fingerprint_of_a_range_matches_its_tally_until_a_drawing_in_it_changes(db, wide, first, monkeypatch):
    from digits import tally
    from digits.store import queries

    if wide:  # every range counts as wide: SQLite scans an index of id and label instead of the rows
        monkeypatch.setattr(queries, "_WIDE_RANGE", 0)
    rows = random_class(db, n=30)
    ids = [r["id"] for r in rows]
    before, inside = rows[first - 2]["id"], rows[first + 2]["id"]  # a drawing before the range, one in it
    counted = tally.add_rows(tally.Tally(lesson=None, last_id=ids[first]), store.since(db, ids[first]))
    assert store.fingerprint(db, ids[first], counted.last_id) == counted.fingerprint() == (
        29 - first, sum(i * (r["label"] + 1) for i, r in zip(ids[first + 1:], rows[first + 1:])))
    assert store.fingerprint(db, ids[-1], ids[-1]) == (0, 0)
    new = store.add(db, **drawing(1, label=3))  # after the range: no change
    store.relabel(db, before, (rows[first - 2]["label"] + 1) % 11, session=None)
    store.delete(db, [ids[first - 1]], session=None)
    assert store.fingerprint(db, ids[first], counted.last_id) == counted.fingerprint()
    store.relabel(db, inside, (rows[first + 2]["label"] + 1) % 11, session=None)
    assert store.fingerprint(db, ids[first], counted.last_id) != counted.fingerprint()
    recounted = tally.add_rows(tally.Tally(lesson=None, last_id=ids[first]), store.since(db, ids[first]))
    assert recounted.last_id == new
    assert store.fingerprint(db, ids[first], recounted.last_id) == recounted.fingerprint()
    store.delete(db, [ids[first + 3]], session=None)
    assert store.fingerprint(db, ids[first], recounted.last_id)[0] == 29 - first != recounted.fingerprint()[0]
    store.delete(db, [new], session=None)
    assert store.fingerprint(db, 0, new) == (28, sum(i * (label + 1) for i, _, label, *_ in store.since(db, 0)))


def tally_fields(counted) -> tuple:
    return (counted.last_id, counted.confusion.tolist(), counted.not_digits, counted.caught, counted.false_alarms,
            sorted(counted.sessions), counted.mistakes, counted.fingerprint())


@pytest.mark.parametrize("first", [0, 6, 24], ids=["no lesson", "a lesson of most", "a lesson of a few"])
def test_the_class_page_s_count_is_the_tally_of_its_rows_after_relabels_and_deletes(db, first):
    """`answers_since` (the running totals less the rows before, or the rows after) tallies as the rows one by one."""
    from digits import tally

    rows = random_class(db, n=30)
    store.add(db, **drawing(3, label=5, probs=EYE[2], flagged=None, session="s9"))  # not known if flagged: not
    ids = [r["id"] for r in rows]
    after = ids[first - 1] if first else 0

    def by_rows() -> tally.Tally:
        return tally.add_rows(tally.Tally(lesson=7, last_id=after), store.since(db, after))

    def from_store() -> tally.Tally:
        return tally.from_answers(7, store.answers_since(db, after))

    assert tally_fields(from_store()) == tally_fields(by_rows())
    assert from_store().drawings == 31 - first and from_store().mistakes  # the counts were not all empty
    store.relabel(db, ids[first + 2], (rows[first + 2]["label"] + 1) % 11, session=None)  # inside the range
    store.relabel(db, ids[max(first - 2, 0)], (rows[max(first - 2, 0)]["label"] + 3) % 11, session=None)
    store.delete(db, [ids[first + 4], ids[max(first - 3, 1)]], session=None)
    store.delete_all(db, session="s2")
    assert tally_fields(from_store()) == tally_fields(by_rows())
    assert from_store().fingerprint() == store.fingerprint(db, after, from_store().last_id)
    assert tally.from_answers(None, store.answers_since(db, ids[-1] + 5)).drawings == 0


def test_a_student_whose_drawings_in_a_lesson_are_deleted_is_no_longer_one_of_its_students(db):
    old = store.add(db, **drawing(1, session="early"))
    store.add(db, **drawing(2, session="other"))
    lesson = store.start_lesson(db)
    late = store.add(db, **drawing(3, session="early"))
    store.add(db, **drawing(4, session="other"))
    assert sorted(store.answers_since(db, lesson.after_id).sessions) == ["early", "other"]
    assert store.delete(db, [late], session="early") == 1
    assert store.answers_since(db, lesson.after_id).sessions == ["other"]
    assert sorted(store.answers_since(db, 0).sessions) == ["early", "other"]  # its drawing before the lesson stays
    assert store.delete(db, [old], session="early") == 1
    assert store.answers_since(db, 0).sessions == ["other"]


def test_the_class_page_s_count_of_a_term_costs_what_it_shows_not_what_is_stored(tmp_path):
    """A whole term's students come from one row per session, its counts from the totals: not from every drawing."""
    steps = []
    for n in (2000, 20000):  # the same 50 students, ten times the drawings
        db = store.connect(tmp_path / f"{n}.sqlite")
        fill(db, n, per_session=n // 50)
        steps.append(vm_steps(db, lambda db=db: store.answers_since(db, 0)))
        assert sorted(store.answers_since(db, 0).sessions) == sorted(f"s{k}" for k in range(50))
        db.close()
    assert steps[1] < 1.5 * steps[0], steps  # reading the sessions from the drawings' index: 10 times the work


def every_answer(db: store.Store) -> None:
    """One drawing for each (label, answer, flag) the running totals can count: every one of their rows there."""
    store.add_many(db, [drawing(k, label=label, probs=EYE[predicted], flagged=flagged)
                        for k, (label, predicted, flagged) in enumerate(itertools.product(
                            config.LABELS, range(config.NUM_CLASSES), (False, True)))])


def test_the_whole_store_s_fingerprint_costs_the_same_at_any_size(tmp_path):
    """With no lesson the Class page fingerprints every drawing but the newest every few seconds: from the totals."""
    steps = []
    for n in (500, 5000):
        db = store.connect(tmp_path / f"{n}.sqlite")
        fill(db, n)
        every_answer(db)  # both stores hold every row the totals can have: only their drawings differ
        rows = store.since(db, 0, limit=n + 1000)
        upto = rows[-1][0] - 5
        steps.append(vm_steps(db, lambda db=db, upto=upto: store.fingerprint(db, 0, upto)))
        assert store.fingerprint(db, 0, upto) == (
            len(rows) - 5, sum(i * (label + 1) for i, _, label, *_ in rows if i <= upto))
        db.close()
    assert steps[1] < 1.5 * steps[0], steps  # a scan of the range would be 10 times the work


def test_sqlite_fingerprints_a_wide_range_from_an_index_without_reading_the_rows(tmp_path):
    from digits.store import queries

    db = store.connect(tmp_path / "drawings.sqlite")
    plans = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT COUNT"):
            plans.append(" ".join(row[-1] for row in cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)))

    wide = queries._WIDE_RANGE  # ranges far from the first drawing: the rows inside are read
    store.fingerprint(db, wide + 1, 2 * wide + 2)
    store.fingerprint(db, wide, 2 * wide)
    db.close()
    assert "COVERING INDEX" in plans[0] and "PRIMARY KEY" not in plans[0]
    assert "INTEGER PRIMARY KEY" in plans[1]


@pytest.mark.parametrize("filters, grows", [
    ({"label": 3, "predicted": 5}, False),
    ({}, False),
    ({"naive_lost": True}, False),
    ({"label": 3, "predicted": 3, "scope": Scope(session="s3")}, False),  # a big cell, one student's rows
    ({"label": 3, "wrong": True}, True),
], ids=["a rare cell", "the newest", "lost to the naive resize", "one student's in a big cell",
        "a row's rare mistakes"])
def test_a_page_costs_the_same_at_any_size(tmp_path, filters, grows):
    """Ten times the drawings: the same work for the newest page, and for a rare confusion cell's (its
    own index walked), where a page of a label's rare mistakes grows tenfold (every such drawing walked).

    SQLite's planner picks its plan from the schema alone: an index on readings led by the model
    once made it join the naive-lost page from a model's readings, each looking its drawing up
    without the key (427 ms at 8,000 drawings against 30 ms at 2,000).
    """

    work = []
    for n in (500, 5000):
        db = store.connect(tmp_path / f"{n}.sqlite")
        fill(db, n)
        work.append(vm_steps(db, lambda db=db: store.page(db, "strong", **filters)))
        db.close()
    assert (work[1] > 5 * work[0]) == grows, work
