"""The Class page's running totals: updated from the drawings added since the last refresh.

A tally starts from the store's counts (`from_answers`, `digits.store.answers_since`)
and is counted again from them only when a drawing already counted was relabelled or
deleted, which `Tally.fingerprint` against `digits.store.fingerprint` tells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from digits.config import NOT_A_DIGIT, NUM_CLASSES

LATEST = 12  # mistakes kept for the projector, newest first


@dataclass
class Tally:
    """Everything the Class page shows about one lesson, as running totals."""

    lesson: int | None  # the lesson counted (None: all drawings, no lesson started yet)
    last_id: int  # the newest drawing counted; the next refresh reads only those after it
    # Drawings labelled as digits: rows the label, columns the network's answer.
    confusion: np.ndarray = field(default_factory=lambda: np.zeros((NUM_CLASSES, NUM_CLASSES), np.int64))
    not_digits: int = 0  # drawings labelled not a digit (never in the confusion matrix)
    caught: int = 0  # of those, flagged as not a digit by the network
    false_alarms: int = 0  # drawings labelled as digits that the network flagged as not one
    sessions: set[str] = field(default_factory=set)  # anonymous ids of the students who labelled
    mistakes: list[tuple[int, int, int]] = field(default_factory=list)  # (id, drawn, read) of digits, newest first
    check: int = 0  # the sum of id x (label + 1) over the drawings counted (`digits.store.fingerprint`)

    @property
    def digits(self) -> int:
        return int(self.confusion.sum())

    @property
    def drawings(self) -> int:
        return self.digits + self.not_digits

    @property
    def right(self) -> int:
        return int(np.trace(self.confusion))

    def fingerprint(self) -> tuple[int, int]:
        """(drawings counted, sum of id x (label + 1)): what `digits.store.fingerprint` finds while none changed."""
        return self.drawings, self.check


def add_rows(tally: Tally, rows: list[tuple[int, str, int, int, bool | None]]) -> Tally:
    """Count newly stored drawings into ``tally`` (changed in place, and returned).

    Parameters
    ----------
    rows : list of (id, session, label, predicted, flagged), oldest first
        Only drawings newer than ``tally.last_id``; older ones are ignored, so
        a row read twice is counted once. ``label`` is a digit or NOT_A_DIGIT;
        ``flagged`` (as not a digit) None when not known, counted as not flagged.

    >>> t = add_rows(Tally(lesson=None, last_id=0), [(1, "a", 7, 7, False), (2, "b", 4, 9, True), (2, "b", 4, 9, True)])
    >>> t.drawings, t.right, len(t.sessions), t.mistakes, t.last_id, t.false_alarms
    (2, 1, 2, [(2, 4, 9)], 2, 1)
    >>> t = add_rows(t, [(3, "a", NOT_A_DIGIT, 0, True), (4, "c", NOT_A_DIGIT, 8, None), (5, "c", 1, 1, None)])
    >>> t.drawings, t.digits, t.right, t.not_digits, t.caught, t.false_alarms, len(t.sessions), t.last_id
    (5, 3, 2, 2, 1, 1, 3, 5)
    >>> t.fingerprint()  # 1 x 8 + 2 x 5 + 3 x 11 + 4 x 11 + 5 x 2
    (5, 105)
    """
    for drawing_id, session, label, predicted, flagged in rows:
        if drawing_id <= tally.last_id:
            continue
        tally.sessions.add(session)
        _count(tally, label, predicted, flagged, 1, drawing_id)
        if label != NOT_A_DIGIT and label != predicted:
            tally.mistakes.insert(0, (drawing_id, label, predicted))
        tally.last_id = drawing_id
    del tally.mistakes[LATEST:]
    return tally


def from_answers(lesson: int | None, answers) -> Tally:
    """A tally of everything `digits.store.answers_since` counted (a `digits.store.Answers`).

    >>> from types import SimpleNamespace
    >>> counted = SimpleNamespace(last_id=5, counts=[(4, 9, True, 1, 2), (7, 7, False, 1, 1), (NOT_A_DIGIT, 0, True, 1, 3),
    ...                                              (NOT_A_DIGIT, 8, False, 1, 4), (1, 1, False, 1, 5)],
    ...                           sessions=["a", "b", "c"], mistakes=[(2, 4, 9)])
    >>> t = from_answers(None, counted)
    >>> t.drawings, t.digits, t.right, t.not_digits, t.caught, t.false_alarms, len(t.sessions), t.last_id
    (5, 3, 2, 2, 1, 1, 3, 5)
    >>> t.fingerprint(), t.mistakes  # as add_rows counts the same five drawings (its doctest)
    ((5, 105), [(2, 4, 9)])
    """
    tally = Tally(lesson=lesson, last_id=answers.last_id, sessions=set(answers.sessions),
                  mistakes=list(answers.mistakes[:LATEST]))
    for label, predicted, flagged, n, id_sum in answers.counts:
        _count(tally, label, predicted, flagged, n, id_sum)
    return tally


def _count(tally: Tally, label: int, predicted: int, flagged: bool | None, n: int, id_sum: int) -> None:
    """Count ``n`` drawings so labelled, read and flagged, whose ids sum to ``id_sum``, into ``tally``."""
    tally.check += id_sum * (label + 1)
    if label == NOT_A_DIGIT:
        tally.not_digits += n
        tally.caught += n * bool(flagged)
    else:
        tally.confusion[label, predicted] += n
        tally.false_alarms += n * bool(flagged)
