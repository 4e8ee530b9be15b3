"""The store's running totals stay what counting the rows gives, through every write, on SQLite and PostgreSQL."""

import threading

import numpy as np
import pytest
import sqlalchemy as sa

from digits import config, store
from digits.store import Scope
from support.fill import fill
from tests.store_helpers import EYE, drawing, vm_steps

MODELS = ("strong", "m")


def answers(db, scope: Scope | None = None) -> dict:
    """Each model's summary of ``scope`` (None: the whole store) and unread count, as plain values."""
    scope, out = scope or Scope(), {}
    for model in MODELS:
        s = store.summary(db, model, scope)
        out[model] = (s.drawings, s.read, s.not_digits, s.naive_read, s.naive_right, s.ours_right_where_naive,
                      s.confusion.tolist(), store.count_unread(db, model) if scope == Scope() else None)
    return out


def by_sessions(db, sessions: list[str]) -> dict:
    """The whole store's answers added up from each session's, which are counted from the rows."""
    total = {m: [0] * 6 + [np.zeros((10, 10), int), None] for m in MODELS}
    for session in sessions:
        for model, values in answers(db, Scope(session=session)).items():
            for k in range(7):
                total[model][k] = total[model][k] + (np.array(values[k]) if k == 6 else values[k])
    return {m: (*v[:6], v[6].tolist()) for m, v in total.items()}


def cell_ids(db, model: str, label: int, predicted: int) -> list[int]:
    ids, before = [], None
    while True:
        page = store.page(db, model, label=label, predicted=predicted, before_id=before, limit=3)
        ids += [row.id for row in page.rows]
        if (before := page.next_before_id) is None:
            return ids


def check(db, sessions: list[str]) -> None:
    # Each reading carries its drawing's label, and a confusion cell's page (walked by that copy)
    # lists what the whole list, walked from the drawings, holds in that cell.
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.readings.join(
            store.drawings, store.drawings.c.id == store.readings.c.drawing_id))
            .where(sa.or_(store.readings.c.label.is_(None), store.readings.c.label != store.drawings.c.label))
        ).scalar_one() == 0
    for model in MODELS:
        every = store.page(db, model, limit=10**6).rows
        for label, predicted in {(row.label, row.predicted) for row in every}:
            assert cell_ids(db, model, label, predicted) == [
                row.id for row in every if (row.label, row.predicted) == (label, predicted)]
    kept = answers(db)
    assert {m: v[:7] for m, v in kept.items()} == by_sessions(db, sessions)
    # The whole store's fingerprint, taken from the totals' sums of ids, is what the rows give.
    rows = store.since(db, 0, limit=10**6)
    # Each session's drawings and newest id (the Class page's students) too: a session with none has no row.
    assert session_counts(db) == {s: (sum(row[1] == s for row in rows), max(row[0] for row in rows if row[1] == s))
                                  for s in {row[1] for row in rows}}
    newest = rows[-1][0] if rows else 0
    assert store.fingerprint(db, 0, newest) == (len(rows), sum(i * (label + 1) for i, _, label, *_ in rows))
    store.recount(db)
    assert answers(db) == kept  # the unread counts too
    assert store.fingerprint(db, 0, newest) == (len(rows), sum(i * (label + 1) for i, _, label, *_ in rows))


def session_counts(db) -> dict[str, tuple[int, int]]:
    with db.engine.connect() as conn:
        return {s: (n, last) for s, n, last in conn.execute(sa.select(store.session_counts))}


def test_every_kind_of_write_keeps_the_totals_exact(db):
    rng = np.random.default_rng(0)
    sessions = ["s0", "s1", "s2", "pair"]
    ids = []
    for i in range(60):
        naive = bool(rng.random() < 0.5)
        label = config.NOT_A_DIGIT if rng.random() < 0.2 else int(rng.integers(10))
        ids.append(store.add(db, **drawing(i, label=label, probs=EYE[rng.integers(10)], session=sessions[i % 3],
                                           squeezed=np.zeros((28, 28)) if naive else None,
                                           naive_probs=EYE[rng.integers(10)] if naive else None)))
    ids += store.add_many(db, [drawing(100 + k, session="pair") for k in range(3)])
    check(db, sessions)
    # Another model reads some, with and without a squeezed canvas; a second server sends the same batch again.
    store.save_readings(db, "m", ids[:30], EYE[rng.integers(10, size=30)],
                        [EYE[k % 10] if k % 2 else None for k in range(30)])
    store.save_readings(db, "m", ids[20:40], EYE[rng.integers(10, size=20)])
    assert store.count_unread(db, "m") == len(ids) - 40
    check(db, sessions)
    # Relabels: to and from "not a digit", to the same label, a student's own and not, a gone drawing.
    for drawing_id in rng.choice(ids, 25):
        store.relabel(db, int(drawing_id), int(rng.integers(11)), session=str(rng.choice(sessions + [None])))
    store.relabel(db, ids[0], store.page(db, "strong", before_id=ids[0] + 1, limit=1).rows[0].label, session=None)
    assert not store.relabel(db, 10**6, 3, session=None)
    check(db, sessions)
    # Deletes: a student's own only, anyone's, a session's all.
    assert store.delete(db, ids[:12], session="s1") == 4
    assert store.delete(db, [ids[57]], session="s0") == 1  # s0's newest: its newest is an older one now
    assert store.delete(db, ids[30:35] + [10**6], session=None) == 5
    assert store.delete_all(db, session="s2") > 0
    check(db, sessions)
    store.add(db, **drawing(7, session="s0", naive_probs=EYE[7], squeezed=np.zeros((28, 28))))
    check(db, sessions)
    assert store.delete_all(db, session=None) > 0
    assert answers(db)["strong"][0] == 0 and store.count_unread(db, "m") == 0
    check(db, sessions)


def _work(server: store.Store, worker: int, errors: list) -> None:
    rng = np.random.default_rng(worker)
    try:
        for i in range(40):
            drawing_id = store.add(server, **drawing(worker * 100 + i, session=f"w{worker}"))
            store.relabel(server, int(rng.integers(1, drawing_id + 1)), int(rng.integers(11)), session=None)
            if i % 5 == 4:
                store.delete(server, [int(k) for k in rng.integers(1, drawing_id + 1, 3)], session=None)
            if i % 10 == 9:
                store.read_all(server, "m", lambda images: EYE[np.arange(len(images)) % 10], batch=7)
    except Exception as error:  # collected: an assert in a thread would not fail the test
        errors.append(repr(error))


def test_servers_writing_at_once_keep_the_totals_exact(database_url):
    """Two servers, two threads each, add, relabel, delete and read the same rows at once: no error, no drift."""
    servers = [store.connect(database_url), store.connect(database_url)]
    errors: list[str] = []
    threads = [threading.Thread(target=_work, args=(servers[w % 2], w, errors)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db = servers[0]
    assert 0 < answers(db)["strong"][0] < 160
    check(db, [f"w{w}" for w in range(4)])
    for server in servers:
        server.close()


def test_the_load_benchmark_s_check_finds_totals_that_drifted(database_url):
    from support.classroom import totals_drift

    db = store.connect(database_url)
    for i in range(5):
        store.add(db, **drawing(i))
    assert totals_drift(database_url) == []
    with db.engine.begin() as conn:  # a write that bypassed the store, as an older server's would
        conn.execute(sa.update(store.reading_counts).where(store.reading_counts.c.label == 3)
                     .values(n=store.reading_counts.c.n + 1))
    assert [line.split(":")[0] for line in totals_drift(database_url)] == ["running totals for strong"]
    assert totals_drift(database_url) == []  # counted again
    counts = store.drawing_counts.c
    with db.engine.begin() as conn:  # an older server's add: a drawing counted, its id not summed
        conn.execute(sa.update(store.drawing_counts).where(counts.label == 2).values(id_sum=counts.id_sum - 7))
    assert [line.split(":")[0] for line in totals_drift(database_url)] == [
        "running totals for every drawing's fingerprint", "running totals for the Class page's whole term"]
    assert totals_drift(database_url) == []
    with db.engine.begin() as conn:  # a drawing counted under another answer: the fingerprint cannot tell
        conn.execute(sa.update(store.drawing_counts).where(counts.label == 2)
                     .values(predicted=(counts.predicted + 1) % 10))
    assert [line.split(":")[0] for line in totals_drift(database_url)] == [
        "running totals for the Class page's whole term"]
    assert totals_drift(database_url) == []
    with db.engine.begin() as conn:  # a version 6 server's add after the upgrade: its session not counted
        conn.execute(sa.update(store.session_counts).values(n=store.session_counts.c.n - 1,
                                                            last_id=store.session_counts.c.last_id - 1))
    assert [line.split(":")[0] for line in totals_drift(database_url)] == ["running totals for each session's drawings"]
    assert totals_drift(database_url) == []
    db.close()


@pytest.mark.parametrize("whole, grows", [(True, False), (False, True)], ids=["whole store", "a lesson of all"])
def test_the_whole_class_summary_costs_the_same_at_any_size(tmp_path, whole, grows):
    """Ten times the drawings: the same work for the whole store's summary and unread count (a scan grows tenfold)."""
    work = []
    for n in (500, 5000):
        db = store.connect(tmp_path / f"{n}.sqlite")
        fill(db, n)
        scope = Scope() if whole else Scope(after_id=1)  # the same rows, less one, counted from the rows
        work.append(vm_steps(db, lambda db=db, scope=scope: (store.summary(db, "strong", scope),
                                                             store.count_unread(db, "strong"))))
        db.close()
    assert (work[1] > 5 * work[0]) == grows, work
