"""The draw page's state in ``st.session_state``: each key defined once, and the callbacks that change it.

The Inside page reads the last drawing from here too, and the browser
benchmark's bare canvas app clears its canvas the same way.
"""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from digits import store, ui
from digits.preprocess import ink_rgba

CANVAS_VERSION = "canvas_version"  # bumped by Clear: the canvas is handed a new empty drawing
STALE = "stale_drawing"  # the canvas's report from before Clear, ignored until it reports again
DRAWING = "drawing"  # (n, 28, 28) float32: the model's input for each digit of the drawing on screen
DOUBTED = "drawing_doubted"  # (n,) bool: which of them the detector called no digit
CURRENT = "current"  # what a label click stores: the drawing on screen, as read
NUMBER = "current_number"  # what a number's label stores: each digit on screen, as read
SAVED = "saved"  # {"key", "id" or "ids", "label"} of the drawing (or number) last stored from this session
SAVE_ERROR = "save_error"  # why the last label click could not be stored
NUMBER_ERROR = "number_error"  # why the number typed could not be saved


def canvas_version() -> int:
    return st.session_state.setdefault(CANVAS_VERSION, 0)


def clear(reported_json: dict | None) -> None:
    """Clear the canvas: a new empty drawing, and the one it reported until now marked stale."""
    st.session_state[CANVAS_VERSION] = canvas_version() + 1
    st.session_state[STALE] = reported_json
    forget()


def is_fresh(reported_json: dict | None) -> bool:
    """Whether the canvas's report is a drawing made since the last Clear.

    The canvas keeps reporting the cleared drawing until it reloads; its first
    different report (its empty drawing, or a stroke) ends that, so the very
    same drawing drawn again afterwards is read.
    """
    if STALE in st.session_state and reported_json != st.session_state[STALE]:
        del st.session_state[STALE]
    return STALE not in st.session_state


def show(images, doubted) -> None:
    """Keep the drawing on screen, for the Inside page to explain.

    Parameters
    ----------
    images : n (28, 28) float ndarrays
        Each digit's input (one for a single digit).
    doubted : n bool
        Which of them the not-a-digit detector flagged.
    """
    st.session_state[DRAWING] = np.asarray(images, np.float32)
    st.session_state[DOUBTED] = np.asarray(doubted, bool)


def forget() -> None:
    st.session_state.pop(DRAWING, None)
    st.session_state.pop(DOUBTED, None)


def last_drawings() -> tuple[np.ndarray, np.ndarray] | None:
    """The drawing last read on the draw page, or None: each digit's input, (n, 28, 28) float32, and which of them
    the not-a-digit detector flagged, (n,) bool (none, where that was not kept with them)."""
    drawn = st.session_state.get(DRAWING)
    if drawn is None:
        return None
    drawn = np.reshape(drawn, (-1,) + np.shape(drawn)[-2:])  # a lone (28, 28): one digit
    doubted = st.session_state.get(DOUBTED)
    return drawn, (np.asarray(doubted, bool) if doubted is not None and len(doubted) == len(drawn)
                   else np.zeros(len(drawn), bool))


def offer(image: np.ndarray, probs: np.ndarray, rgba: np.ndarray, png: bytes, model: str, flagged: bool) -> str:
    """Make the drawing on screen the one a label click stores; return its key (the same drawing, the same key).

    ``flagged``: the network took it for not a digit (stored with it, whatever label it is given).
    """
    key = hashlib.sha1(image.tobytes()).hexdigest()[:16]
    st.session_state[CURRENT] = dict(key=key, image=image, probs=probs, rgba=rgba, png=png, model=model,
                                     flagged=flagged)
    return key


def saved_label(key: str) -> int | str | None:
    """The label stored for drawing ``key`` from this session, or None.

    A digit or config.NOT_A_DIGIT for one drawing; for a number, its digits as typed ("2026").
    """
    saved = st.session_state.get(SAVED, {})
    return saved.get("label") if saved.get("key") == key else None


def pop_save_error() -> str | None:
    return st.session_state.pop(SAVE_ERROR, None)


def save_label(label: int) -> None:
    """Store the drawing on screen with ``label`` (a digit or config.NOT_A_DIGIT), or relabel it if stored already.

    Called only from a widget's callback, so nothing is stored without a click.
    """
    current = st.session_state.get(CURRENT)
    if current is None:
        return
    saved = st.session_state.get(SAVED)
    try:
        db = ui.drawings_db()
        if saved and saved["key"] == current["key"]:
            store.relabel(db, saved["id"], label, session=ui.session_id())
        else:
            # What a plain resize of the whole canvas reads, kept with the drawing so that the
            # My drawings page compares both preparations without decoding a canvas again.
            from digits.inference import read_naively  # TensorFlow loads only where a page predicts

            squeezed, naive_probs = read_naively(ui.classifier(current["model"]), current["rgba"])
            saved = {"key": current["key"], "id": store.add(
                db, image=current["image"], canvas_png=current["png"], probs=current["probs"], label=label,
                model=current["model"], session=ui.session_id(), flagged=current["flagged"], squeezed=squeezed,
                naive_probs=naive_probs)}
        st.session_state[SAVED] = {**saved, "label": label}
    except (store.StoreError, OSError) as error:
        st.session_state[SAVE_ERROR] = ui.storage_message(error)


def save_picked(widget_key: str) -> None:
    """Callback of the "No, it's a…" choice: store the label picked (a digit or "not a digit"), if any."""
    label = st.session_state.get(widget_key)
    if label is not None:
        save_label(label)


def offer_number(digits, model: str) -> str:
    """Make the number on screen the one a number label stores; return its key.

    ``digits``: the reading's `digits.inference.DigitReading` of each digit, left
    to right. Each digit is stored on its own, as a drawing of one digit: its
    model input, what was read, and a PNG of the canvas holding its ink alone.
    Two touching digits read together as a pair are not stored: their inputs
    are halves of the pair's frame, not digits prepared as MNIST's were.
    """
    key = hashlib.sha1(b"".join(d.steps.centred.tobytes() for d in digits)).hexdigest()[:16]
    parts = [None if d.paired else dict(image=d.steps.centred, probs=d.probs, flagged=d.not_a_digit,
                                        ink=d.steps.ink) for d in digits]  # encoded as a PNG only when saved
    st.session_state[NUMBER] = dict(key=key, parts=parts, model=model)
    return key


def number_labels(text: str, count: int) -> list[int]:
    """The digits typed for a number read as ``count`` digits; ValueError says what is wrong, plainly.

    Spaces are ignored.

    >>> number_labels(" 20 26", 4)
    [2, 0, 2, 6]
    """
    typed = "".join(text.split())
    if not typed:
        raise ValueError("Type the number you wrote, such as 2026.")
    if not (typed.isascii() and typed.isdigit()):
        raise ValueError(f"Type digits only, such as 2026 (not “{typed}”).")
    if len(typed) != count:
        raise ValueError(f"The network split your drawing into {count} digits, and you typed {len(typed)}. "
                         f"A number is kept digit by digit, so only one split right can be saved: clear the "
                         f"canvas and write it again with a little more room between the digits.")
    return [int(c) for c in typed]


def pop_number_error() -> str | None:
    return st.session_state.pop(NUMBER_ERROR, None)


def save_number(text: str) -> None:
    """Store each digit of the number on screen with its digit of ``text``, or relabel them if stored already.

    Called only from a widget's callback. Digits read as a touching pair are left out (`offer_number`).
    """
    current = st.session_state.get(NUMBER)
    if current is None:
        return
    try:
        labels = number_labels(text, len(current["parts"]))
    except ValueError as error:
        st.session_state[NUMBER_ERROR] = str(error)
        return
    kept = [(part, label) for part, label in zip(current["parts"], labels) if part is not None]
    saved = st.session_state.get(SAVED)
    try:
        db = ui.drawings_db()
        if saved and saved["key"] == current["key"]:
            for drawing_id, (_, label) in zip(saved["ids"], kept):
                store.relabel(db, drawing_id, label, session=ui.session_id())
        else:
            ids = store.add_many(db, [dict(image=part["image"], canvas_png=store.encode_canvas(ink_rgba(part["ink"])),
                                           probs=part["probs"], label=label, model=current["model"],
                                           session=ui.session_id(), flagged=part["flagged"]) for part, label in kept])
            saved = {"key": current["key"], "ids": ids}
        st.session_state[SAVED] = {**saved, "label": "".join(map(str, labels))}
    except (store.StoreError, OSError) as error:
        st.session_state[SAVE_ERROR] = ui.storage_message(error)


def save_typed(widget_key: str) -> None:
    """Callback of the number typed in "No, it's…": store the number's digits with it, if any was typed."""
    text = st.session_state.get(widget_key)
    if text:
        save_number(text)
