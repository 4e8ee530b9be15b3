"""The store's running totals: drawings per label (and the sum of their ids), and readings per (model, label, reading).

Every write changes them in its own transaction, from the rows it changed, so
that the whole class's summary and a model's unread count read at most 121 rows
at any size. `recount` rebuilds them from the rows themselves (schema migration,
bulk loads that bypass the writes).

Kept exact under several app servers: a write locks the drawings it counts
before it counts them (PostgreSQL ``FOR UPDATE``/``FOR SHARE``; SQLite lets one
writer in at a time anyway), and updates totals rows in key order, so two
writes never wait on each other in a circle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from digits.store.base import (
    _CHUNK,
    _insert,
    drawings,
    label_counts,
    reading_counts,
    readings,
)


class Deltas:
    """What one write adds to (sign +1) or takes from (sign -1) the totals, applied at the end of its transaction."""

    def __init__(self) -> None:
        self.labels: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])  # label -> [drawings, sum of ids]
        self.cells: defaultdict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])

    def drawing(self, label: int, drawing_id: int, sign: int = 1) -> None:
        counts = self.labels[int(label)]
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
        labels = [dict(label=k, n=n, id_sum=ids) for k, (n, ids) in sorted(self.labels.items()) if n or ids]
        if labels:
            statement = _insert(conn, label_counts).values(labels)
            conn.execute(statement.on_conflict_do_update(
                index_elements=["label"], set_={c: label_counts.c[c] + statement.excluded[c] for c in ("n", "id_sum")}))
        cells = [dict(model=m, label=lab, predicted=p, n=n, naive_read=nr, naive_right=nh)
                 for (m, lab, p), (n, nr, nh) in sorted(self.cells.items()) if n or nr or nh]
        for start in range(0, len(cells), _CHUNK // 6):  # six parameters a row, under SQLite's cap
            statement = _insert(conn, reading_counts).values(cells[start:start + _CHUNK // 6])
            conn.execute(statement.on_conflict_do_update(
                index_elements=["model", "label", "predicted"],
                set_={c: reading_counts.c[c] + statement.excluded[c] for c in ("n", "naive_read", "naive_right")}))


def locked_labels(conn: sa.Connection, ids: Iterable[int] | None, where: list | None = None, *,
                  share: bool = False) -> dict[int, int]:
    """The labels of drawings ``ids`` still stored (and matching ``where``), each row locked until the transaction ends.

    ``ids`` None: every drawing matching ``where``. ``share``: a lock that lets
    other readers lock too, and keeps out only a relabel or delete of those rows
    (PostgreSQL; SQLite's writer holds the whole file).
    """
    if ids is None:
        chunks = [[]]
    else:
        ids = sorted(int(i) for i in ids)
        chunks = [[drawings.c.id.in_(ids[start:start + _CHUNK])] for start in range(0, len(ids), _CHUNK)]
    found: dict[int, int] = {}
    for chunk in chunks:
        query = (sa.select(drawings.c.id, drawings.c.label).where(*chunk, *(where or []))
                 .order_by(drawings.c.id).with_for_update(read=share))
        found.update((int(i), int(label)) for i, label in conn.execute(query))
    return found


def recount(conn: sa.Connection) -> None:
    """Rebuild the totals, and each reading's copy of its drawing's label, from the rows.

    In the open write transaction ``conn``.
    """
    if conn.dialect.name == "postgresql":  # no write may land between the count and its use
        conn.exec_driver_sql("LOCK TABLE drawings, readings IN SHARE ROW EXCLUSIVE MODE")
    label = sa.select(drawings.c.label).where(drawings.c.id == readings.c.drawing_id).scalar_subquery()
    conn.execute(sa.update(readings).where(sa.or_(readings.c.label.is_(None), readings.c.label != label))
                 .values(label=label))
    conn.execute(sa.delete(label_counts))
    conn.execute(sa.delete(reading_counts))
    conn.execute(sa.insert(label_counts).from_select(
        ["label", "n", "id_sum"],
        sa.select(drawings.c.label, sa.func.count(), sa.func.sum(drawings.c.id)).group_by(drawings.c.label)))
    d, r = drawings.c, readings.c
    conn.execute(sa.insert(reading_counts).from_select(
        ["model", "label", "predicted", "n", "naive_read", "naive_right"],
        sa.select(r.model, d.label, r.predicted, sa.func.count(), sa.func.count(r.naive_predicted),
                  sa.func.coalesce(sa.func.sum(sa.case((r.naive_predicted == d.label, 1), else_=0)), 0))
        .select_from(readings.join(drawings, d.id == r.drawing_id))
        .group_by(r.model, d.label, r.predicted)))


# How many drawings are stored, and the sum of id x (label + 1) over them (`digits.store.fingerprint`).
STORED = sa.select(sa.func.coalesce(sa.func.sum(label_counts.c.n), 0))
STORED_CHECK = sa.select(sa.func.coalesce(sa.func.sum(label_counts.c.id_sum * (label_counts.c.label + 1)), 0))


def stored(conn: sa.Connection) -> int:
    """How many drawings are stored."""
    return int(conn.execute(STORED).scalar_one())


def cells(conn: sa.Connection, model: str) -> list[tuple[int, int, int, int, int]]:
    """``model``'s (label, predicted, readings, naive readings, naive right) where any is counted."""
    c = reading_counts.c
    return [tuple(row) for row in conn.execute(
        sa.select(c.label, c.predicted, c.n, c.naive_read, c.naive_right).where(c.model == model, c.n > 0))]
