"""The store's running totals: drawings per (label, answer, flag) with the sum of their ids, readings per
(model, label, reading), and drawings per session with the newest one's id.

Every write changes them in its own transaction, from the rows it changed, so
that the whole class's summary and a model's unread count read at most 121 rows
at any size, and the Class page's count of a whole term at most 220, with one
row per student who drew since the lesson began. `recount`
rebuilds them from the rows themselves (schema migration, bulk loads that bypass
the writes).

Kept exact under several app servers: a write locks the drawings it counts
before it counts them (PostgreSQL ``FOR UPDATE``/``FOR SHARE``; SQLite lets one
writer in at a time anyway), and updates totals rows in key order, so two
writes never wait on each other in a circle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa

from digits.store.base import (
    _CHUNK,
    _insert,
    drawing_counts,
    drawings,
    reading_counts,
    readings,
    session_counts,
)


class Deltas:
    """What one write adds to (sign +1) or takes from (sign -1) the totals, applied at the end of its transaction."""

    def __init__(self) -> None:
        # (label, predicted, flagged) -> [drawings, sum of ids]
        self.answers: defaultdict[tuple[int, int, bool], list[int]] = defaultdict(lambda: [0, 0])
        self.cells: defaultdict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        # session -> [drawings added less removed, the newest id added (0: none)]
        self.sessions: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.emptier: set[str] = set()  # sessions that lost drawings: their newest is looked up again

    def session(self, session: str, drawing_id: int, sign: int = 1) -> None:
        """Count drawing ``drawing_id`` in (sign +1) or out of (-1) ``session``'s."""
        counts = self.sessions[session]
        counts[0] += sign
        if sign > 0:
            counts[1] = max(counts[1], int(drawing_id))
        else:
            self.emptier.add(session)

    def drawing(self, label: int, drawing_id: int, answer: Answer, sign: int = 1) -> None:
        """Count drawing ``drawing_id`` under ``label``, with what the reader answered when it was labelled."""
        counts = self.answers[int(label), int(answer.predicted), bool(answer.flagged)]
        counts[0] += sign
        counts[1] += sign * int(drawing_id)

    def reading(self, model: str, label: int, predicted: int, naive_predicted: int | None, sign: int = 1) -> None:
        cell = self.cells[model, int(label), int(predicted)]
        cell[0] += sign
        cell[1] += sign * (naive_predicted is not None)
        cell[2] += sign * (naive_predicted is not None and int(naive_predicted) == int(label))

    def readings_of(self, conn: sa.Connection, label_of: dict[int, int], sign: int = 1,
                    moved_to: int | None = None) -> None:
        """Count every model's readings of the drawings ``label_of`` holds, as labelled there.

        ``moved_to``: a relabel's new label, under which each reading counts
        again with the opposite sign.
        """
        ids = sorted(label_of)
        for start in range(0, len(ids), _CHUNK):
            for drawing_id, model, predicted, naive in conn.execute(
                    sa.select(readings.c.drawing_id, readings.c.model, readings.c.predicted, readings.c.naive_predicted)
                    .where(readings.c.drawing_id.in_(ids[start:start + _CHUNK]))):
                self.reading(model, label_of[drawing_id], predicted, naive, sign)
                if moved_to is not None:
                    self.reading(model, moved_to, predicted, naive, -sign)

    def apply(self, conn: sa.Connection) -> None:
        answers = [dict(label=k, predicted=p, flagged=f, n=n, id_sum=ids)
                   for (k, p, f), (n, ids) in sorted(self.answers.items()) if n or ids]
        if answers:
            statement = _insert(conn, drawing_counts).values(answers)
            conn.execute(statement.on_conflict_do_update(
                index_elements=["label", "predicted", "flagged"],
                set_={c: drawing_counts.c[c] + statement.excluded[c] for c in ("n", "id_sum")}))
        cells = [dict(model=m, label=lab, predicted=p, n=n, naive_read=nr, naive_right=nh)
                 for (m, lab, p), (n, nr, nh) in sorted(self.cells.items()) if n or nr or nh]
        for start in range(0, len(cells), _CHUNK // 6):  # six parameters a row, under SQLite's cap
            statement = _insert(conn, reading_counts).values(cells[start:start + _CHUNK // 6])
            conn.execute(statement.on_conflict_do_update(
                index_elements=["model", "label", "predicted"],
                set_={c: reading_counts.c[c] + statement.excluded[c] for c in ("n", "naive_read", "naive_right")}))
        self._apply_sessions(conn)

    def _apply_sessions(self, conn: sa.Connection) -> None:
        """Sessions' counts, last as every write takes them and in key order, so two writes never wait in a circle."""
        s = session_counts.c
        newer = sa.func.greatest if conn.dialect.name == "postgresql" else sa.func.max  # SQLite's max(a, b)
        for session, (n, newest) in sorted(self.sessions.items()):
            if session not in self.emptier:
                statement = _insert(conn, session_counts).values(session=session, n=n, last_id=newest)
                conn.execute(statement.on_conflict_do_update(
                    index_elements=["session"],
                    set_={"n": s.n + statement.excluded.n, "last_id": newer(s.last_id, statement.excluded.last_id)}))
                continue
            # Locked first, in a statement of its own: on PostgreSQL the lookup of its newest drawing, a statement
            # after the lock, then sees an add of this session's that committed while this one waited for it;
            # inside the UPDATE that waited, it would not.
            conn.execute(sa.select(s.session).where(s.session == session).with_for_update())
            newest = sa.select(sa.func.max(drawings.c.id)).where(drawings.c.session == session).scalar_subquery()
            conn.execute(sa.update(session_counts).where(s.session == session)
                         .values(n=s.n + n, last_id=sa.func.coalesce(newest, 0)))
            conn.execute(sa.delete(session_counts).where(s.session == session, s.n <= 0))


class Answer(NamedTuple):
    """What the reader answered for a drawing when it was labelled (drawings.predicted, drawings.flagged)."""

    predicted: int
    flagged: bool | None  # as not a digit; None: not known, counted as not flagged


class Locked(NamedTuple):
    """A drawing as the totals count it: its label, the reader's `Answer`, its session."""

    label: int
    answer: Answer
    session: str


def locked_drawings(conn: sa.Connection, ids: Iterable[int] | None, where: list | None = None, *,
                    share: bool = False) -> dict[int, Locked]:
    """Drawings ``ids`` still stored (and matching ``where``), as the totals count them, each row locked until the
    transaction ends.

    ``ids`` None: every drawing matching ``where``. ``share``: a lock that lets
    other readers lock too, and keeps out only a relabel or delete of those rows
    (PostgreSQL; SQLite's writer holds the whole file).
    """
    if ids is None:
        chunks = [[]]
    else:
        ids = sorted(int(i) for i in ids)
        chunks = [[drawings.c.id.in_(ids[start:start + _CHUNK])] for start in range(0, len(ids), _CHUNK)]
    found: dict[int, Locked] = {}
    d = drawings.c
    for chunk in chunks:
        query = (sa.select(d.id, d.label, d.predicted, d.flagged, d.session).where(*chunk, *(where or []))
                 .order_by(d.id).with_for_update(read=share))
        found.update((int(i), Locked(int(label), Answer(int(p), f), session))
                     for i, label, p, f, session in conn.execute(query))
    return found


def locked_labels(conn: sa.Connection, ids: Iterable[int] | None, where: list | None = None, *,
                  share: bool = False) -> dict[int, int]:
    """The labels of drawings ``ids`` still stored (and matching ``where``), locked as `locked_drawings` locks them."""
    return {i: found.label for i, found in locked_drawings(conn, ids, where, share=share).items()}


def recount(conn: sa.Connection) -> None:
    """Rebuild the totals, and each reading's copy of its drawing's label, from the rows.

    In the open write transaction ``conn``.
    """
    if conn.dialect.name == "postgresql":  # no write may land between the count and its use
        conn.exec_driver_sql("LOCK TABLE drawings, readings IN SHARE ROW EXCLUSIVE MODE")
    label = sa.select(drawings.c.label).where(drawings.c.id == readings.c.drawing_id).scalar_subquery()
    conn.execute(sa.update(readings).where(sa.or_(readings.c.label.is_(None), readings.c.label != label))
                 .values(label=label))
    conn.execute(sa.delete(drawing_counts))
    conn.execute(sa.delete(reading_counts))
    conn.execute(sa.delete(session_counts))
    d, r = drawings.c, readings.c
    flagged = sa.func.coalesce(d.flagged, False)
    conn.execute(sa.insert(drawing_counts).from_select(
        ["label", "predicted", "flagged", "n", "id_sum"],
        sa.select(d.label, d.predicted, flagged, sa.func.count(), sa.func.sum(d.id)).group_by(d.label, d.predicted, flagged)))
    conn.execute(sa.insert(reading_counts).from_select(
        ["model", "label", "predicted", "n", "naive_read", "naive_right"],
        sa.select(r.model, d.label, r.predicted, sa.func.count(), sa.func.count(r.naive_predicted),
                  sa.func.coalesce(sa.func.sum(sa.case((r.naive_predicted == d.label, 1), else_=0)), 0))
        .select_from(readings.join(drawings, d.id == r.drawing_id))
        .group_by(r.model, d.label, r.predicted)))
    conn.execute(sa.insert(session_counts).from_select(
        ["session", "n", "last_id"], sa.select(d.session, sa.func.count(), sa.func.max(d.id)).group_by(d.session)))


# How many drawings are stored, and the sum of id x (label + 1) over them (`digits.store.fingerprint`).
STORED = sa.select(sa.func.coalesce(sa.func.sum(drawing_counts.c.n), 0))
STORED_CHECK = sa.select(sa.func.coalesce(sa.func.sum(drawing_counts.c.id_sum * (drawing_counts.c.label + 1)), 0))


def stored(conn: sa.Connection) -> int:
    """How many drawings are stored."""
    return int(conn.execute(STORED).scalar_one())


def cells(conn: sa.Connection, model: str) -> list[tuple[int, int, int, int, int]]:
    """``model``'s (label, predicted, readings, naive readings, naive right) where any is counted."""
    c = reading_counts.c
    return [tuple(row) for row in conn.execute(
        sa.select(c.label, c.predicted, c.n, c.naive_read, c.naive_right).where(c.model == model, c.n > 0))]


def answers(conn: sa.Connection) -> list[tuple[int, int, bool, int, int]]:
    """The whole store's (label, predicted, flagged, drawings, sum of their ids) where any is counted."""
    c = drawing_counts.c
    return [(int(label), int(p), bool(f), int(n), int(ids)) for label, p, f, n, ids in conn.execute(
        sa.select(c.label, c.predicted, c.flagged, c.n, c.id_sum).where(c.n > 0))]


def sessions_since(conn: sa.Connection, after_id: int) -> list[str]:
    """Every session with a drawing stored after ``after_id``: from its newest drawing's id, one row per session."""
    return list(conn.execute(sa.select(session_counts.c.session).where(session_counts.c.last_id > after_id)).scalars())
