"""The Class page's running totals: updated from the drawings added since the last refresh, never recounted."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digits.config import NUM_CLASSES

LATEST = 12  # mistakes kept for the projector, newest first


@dataclass
class Tally:
    """Everything the Class page shows about one lesson, as running totals."""

    lesson: int | None  # the lesson counted (None: all drawings, no lesson started yet)
    last_id: int  # the newest drawing counted; the next refresh reads only those after it
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64))
    sessions: set[str] = field(default_factory=set)  # anonymous ids of the students who labelled
    mistakes: list[tuple[int, int, int]] = field(default_factory=list)  # (id, drawn, read), newest first

    @property
    def drawings(self) -> int:
        return int(self.confusion.sum())

    @property
    def right(self) -> int:
        return int(np.trace(self.confusion))


def add_rows(tally: Tally, rows: list[tuple[int, str, int, int]]) -> Tally:
    """Count newly stored drawings into ``tally`` (changed in place, and returned).

    Parameters
    ----------
    rows : list of (id, session, label, predicted), oldest first
        Only drawings newer than ``tally.last_id``; older ones are ignored, so
        a row read twice is counted once.

    >>> t = add_rows(Tally(lesson=None, last_id=0), [(1, "a", 7, 7), (2, "b", 4, 9), (2, "b", 4, 9)])
    >>> t.drawings, t.right, len(t.sessions), t.mistakes, t.last_id
    (2, 1, 2, [(2, 4, 9)], 2)
    """
    for drawing_id, session, label, predicted in rows:
        if drawing_id <= tally.last_id:
            continue
        tally.confusion[label, predicted] += 1
        tally.sessions.add(session)
        if label != predicted:
            tally.mistakes.insert(0, (drawing_id, label, predicted))
        tally.last_id = drawing_id
    del tally.mistakes[LATEST:]
    return tally
