"""Streamlit glue shared by the pages: cached loaders and the model picker."""

from __future__ import annotations

import gc
import ipaddress
import json
import socket
import sqlite3
from contextlib import nullcontext
from urllib.parse import urlsplit

import numpy as np
import streamlit as st

from digits import artifacts, charts, config, evaluate, preprocess, store
from digits.atomic import storage_advice


@st.cache_resource(show_spinner="Loading the model…")
def classifier(name: str):
    """One classifier per model for the whole server, shared by every session."""
    from digits.inference import load_classifier, one_thread_per_op  # TensorFlow loads only where a page predicts

    one_thread_per_op()
    loaded = load_classifier(artifacts.model_dir(name))
    freeze_long_lived()
    return loaded


def freeze_long_lived() -> None:
    """Hide everything alive now (TensorFlow, the models) from Python's garbage collector.

    Streamlit runs a full collection after every rerun of every session, and a
    second one through ``keras.backend.clear_session`` once Keras is imported.
    With TensorFlow's 400,000 objects each took 230 ms here: half a second of
    server CPU per click. Frozen objects are never scanned again, so each
    collection takes under a millisecond; what sessions create later is still
    collected as usual.
    """
    gc.collect()
    gc.freeze()


@st.cache_data
def report(name: str) -> dict:
    return artifacts.load_report(artifacts.model_dir(name))


@st.cache_data
def history(name: str) -> dict:
    return artifacts.load_history(artifacts.model_dir(name))


@st.cache_data
def examples(name: str) -> dict[str, np.ndarray]:
    return artifacts.load_examples(artifacts.model_dir(name))


# streamlit-drawable-canvas 0.13 hides its toolbar (undo, redo, download, reset) by fading it
# out 1 rem above the canvas's top-right corner, where it still takes the pointer: a stroke
# started in the top 30 px of the canvas's right half, before the pointer has hovered the canvas
# (a finger never does), drew nothing. The toolbar lives in the component's shadow root, which
# the page's CSS cannot reach, so this script adds a style there that keeps the toolbar above the
# canvas and lets the pointer through it unless it is showing.
_TOOLBAR_CSS = """
.dc-toolbar { top: -2.65rem !important; pointer-events: none; }
.dc-root:hover > .dc-toolbar .dc-toolbar-card,
.dc-toolbar[data-pinned="true"] .dc-toolbar-card,
.dc-toolbar:focus-within .dc-toolbar-card { pointer-events: auto; }
"""
_TOOLBAR_JS = """
export default function () {
  const css = %s;
  const patch = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (root && !root.querySelector("style[data-digits-toolbar]")) {
        const style = document.createElement("style");
        style.setAttribute("data-digits-toolbar", "");
        style.textContent = css;
        root.appendChild(style);
      }
    }
  };
  patch();
  const observer = new MutationObserver(patch);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
""" % json.dumps(_TOOLBAR_CSS)
_toolbar_fix = st.components.v2.component("digits.canvas_toolbar_fix", js=_TOOLBAR_JS)


def keep_canvas_toolbar_off_the_drawing() -> None:
    """Mount the script above (an empty element) once per page run."""
    _toolbar_fix(key="canvas_toolbar_fix")


def route_through_app() -> None:
    """Serve a deep link through the router even when it is the server's first visit.

    With a ``pages/`` folder beside app.py, Streamlit starts in its legacy
    multipage mode, and a first visit to, say, /class runs pages/classroom.py
    alone: no st.navigation, file names in the sidebar, for every session
    until one runs app.py (streamlit/runtime/pages_manager.py). Leaving that
    mode and rerunning sends this session through app.py, to the same page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def model_picker() -> str:
    """A sidebar select box of the trained models; the choice follows the user across pages.

    When no model is installed, the page says how to train one and stops there.
    """
    route_through_app()
    names = artifacts.list_models()
    if not names:
        st.error(
            f"No trained model found in `{config.MODEL_DIR}`. Train one with "
            "`python train.py` (about 20 minutes) or `python train.py --quick` (about a minute)."
        )
        st.stop()
    # Widget state is dropped when a page without the widget runs, so the
    # choice lives under a plain key that every page's picker starts from.
    chosen = st.session_state.get("model_choice", config.DEFAULT_MODEL)
    index = names.index(chosen) if chosen in names else 0
    name = st.sidebar.selectbox("Model", names, index=index, key="model_picker",
                                help="Every page shows this model; `strong` is the default.")
    st.session_state["model_choice"] = name
    return name


def load_or_explain(loader, name: str):
    """``loader(name)``, or, when the model's files are missing or broken, say so and stop the page."""
    try:
        return loader(name)
    except artifacts.ArtifactError as error:
        arch = name.split("-")[0]
        st.error(
            f"The files of model **{name}** could not be read: {error}\n\n"
            f"Retrain it with `python train.py --arch {arch}`; the other models and pages still work."
        )
        st.stop()


def readable_reports() -> dict[str, dict]:
    """The report of every model whose files can be read (broken ones are left out)."""
    reports = {}
    for name in artifacts.list_models():
        try:
            reports[name] = report(name)
        except artifacts.ArtifactError:
            continue
    return reports


def probability_caption(probs: np.ndarray, top: int = 2) -> str:
    """'9: 87% · 4: 12%': the network's top answers for one image."""
    order = np.argsort(probs)[::-1][:top]
    return " · ".join(f"{c}: {probs[c]:.0%}" for c in order)


def per_class_rows(per_class: dict[str, list]) -> list[dict]:
    return [
        {"digit": c, "precision": round(p, 4), "recall": round(r, 4), "F1": round(f, 4), "support": s}
        for c, (p, r, f, s) in enumerate(
            zip(per_class["precision"], per_class["recall"], per_class["f1"], per_class["support"])
        )
    ]


def large_prediction() -> None:
    """Make the draw page's answer readable from the back of a classroom."""
    st.html(
        "<style>.st-key-answer [data-testid='stMetricValue'] {font-size: 5rem; line-height: 1.1;}</style>"
    )


@st.cache_resource
def drawings_db():
    """One connection to the drawings database for the whole server (store.Connection's lock takes turns)."""
    return store.connect()


def session_id() -> str:
    """An anonymous id for this browser session: it groups drawings, it names no one."""
    import uuid

    return st.session_state.setdefault("session_id", uuid.uuid4().hex)


def save_label(label: int) -> None:
    """Store the current drawing with ``label``, or relabel it if it was stored already.

    Called only from a widget's callback, so nothing is stored without a click.
    """
    current = st.session_state.get("current")
    if current is None:
        return
    saved = st.session_state.get("saved")
    try:
        conn = drawings_db()
        if saved and saved["key"] == current["key"]:
            store.relabel(conn, saved["id"], label)
        else:
            saved = {"key": current["key"], "id": store.add(
                conn, image=current["image"], canvas_png=current["png"], probs=current["probs"], label=label,
                model=current["model"], session=session_id())}
        st.session_state["saved"] = {**saved, "label": label}
    except (store.StoreError, OSError, sqlite3.Error) as error:
        st.session_state["save_error"] = storage_message(error)


def storage_message(error: BaseException) -> str:
    """A failed read or write of data/, said with what to do about it."""
    advice = storage_advice(error) or "check that the folder exists and is writable"
    return (f"{error}. In short, {advice}. The drawings folder is `{config.DATA_DIR}`; "
            f"to use another, start the app with `DIGITS_DATA_DIR=/a/writable/folder make run`.")


def save_picked(widget_key: str) -> None:
    """Callback of the "No, it's a…" choice: store the digit picked, if any."""
    label = st.session_state.get(widget_key)
    if label is not None:
        save_label(label)


def stored_drawings(since: float = 0.0):
    """Every labelled drawing in the database, or None (after saying why) when it cannot be opened."""
    try:
        return store.load(drawings_db(), since)
    except (store.StoreError, OSError, sqlite3.Error) as error:
        st.error(f"The drawings database could not be read: {storage_message(error)}")
        return None


@st.cache_resource
def _squeezed_by_id() -> dict[int, np.ndarray | None]:
    return {}  # drawing id -> its canvas naively resized; ids are never reused, canvases never change


def squeezed_drawings(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stored canvases of drawings ``ids`` squeezed whole to 28x28, as a naive app would read them.

    Each canvas is decoded and resized once per server (about 4 ms each here).

    Parameters
    ----------
    ids : (N,) int ndarray

    Returns
    -------
    where : (n,) int ndarray
        Positions in ``ids`` of the drawings whose canvas could be read.
    images : (n, 28, 28) float32 ndarray in [0, 1]
    """
    cache = _squeezed_by_id()
    missing = [int(i) for i in ids if int(i) not in cache]
    if missing:
        try:
            found = store.canvases(drawings_db(), missing)
        except (store.StoreError, OSError, sqlite3.Error):
            found = []  # left out this time (the caller says how many are shown), tried again next time
        with st.spinner(f"Squeezing {len(found)} canvases…", show_time=True) if len(found) > 100 else nullcontext():
            for drawing_id, rgba in zip(missing, found):
                cache[drawing_id] = None if rgba is None else preprocess.naive_resize(rgba)
    where = np.array([k for k, i in enumerate(ids) if cache.get(int(i)) is not None], np.int64)
    images = np.array([cache[int(ids[k])] for k in where], np.float32).reshape(-1, config.IMAGE_SIZE, config.IMAGE_SIZE)
    return where, images


def clicked_cell(event) -> tuple[int, int] | None:
    """(true, predicted) of the confusion-matrix cell just clicked, or None."""
    points = event.selection.points if event and event.selection else []
    return (int(points[0]["y"]), int(points[0]["x"])) if points else None


def show_cell(cell: tuple[int, int], labels: np.ndarray, probs: np.ndarray, images: np.ndarray,
              first: str, what: str) -> None:
    """The images in one confusion-matrix cell, most confident mistakes first, with their probabilities.

    The heading reads "{first} 4, read as 9: 3 {what}s"; the container is keyed
    "cell" so a browser test can find exactly these images.
    """
    true, predicted = cell
    chosen = evaluate.select_mistakes(labels, probs, [true], [predicted])
    with st.container(key="cell"):
        st.subheader(f"{first} {true}, read as {predicted}: {len(chosen)} {what}{'s' * (len(chosen) != 1)}")
        if len(chosen):
            st.image([charts.pixelated(images[i], 4) for i in chosen],
                     caption=[probability_caption(probs[i]) for i in chosen], width=112)


def join_address(page_url: str | None, page_path: str) -> str | None:
    """The app's address for students: this page's URL without the page; None when unknown.

    >>> join_address("http://10.0.0.5:8501/classroom", "classroom")
    'http://10.0.0.5:8501'
    """
    if not page_url:
        return None
    parts = urlsplit(page_url)
    path = parts.path.rstrip("/")
    if path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(address: str) -> bool:
    """Whether *address* names this machine only (localhost, 127.x, ::1): other devices cannot open it."""
    host = urlsplit(address).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_host(address: str, host: str) -> str:
    """*address* with its host replaced, keeping scheme, port and path."""
    parts = urlsplit(address)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def network_ip() -> str | None:
    """This machine's address on its network (a UDP connect sends no packet); None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            ip = probe.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(ip).is_loopback or ip == "0.0.0.0" else ip


def student_address(page_url: str | None, page_path: str) -> tuple[str | None, str | None]:
    """Where students open the app, and a warning when they cannot.

    Opened as localhost on the projector's machine, the page's own URL is no use
    to students: the machine's network address is, unless the server listens on
    loopback only.
    """
    address = join_address(page_url, page_path)
    if address is None or not is_loopback(address):
        return address, None
    listening = st.get_option("server.address")
    if listening and is_loopback(f"http://{listening}"):
        return address, (f"The server listens on {listening} only, so other devices cannot reach it. "
                         "Start it with `make run` to serve the whole network.")
    ip = network_ip()
    if ip is None:
        return address, ("This machine has no network address: students' devices cannot reach it. "
                         "Connect it to the class's network and reload.")
    return with_host(address, ip), None
