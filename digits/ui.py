"""What every page shares: the model picker, cached loaders, the drawings database, and one routing fix."""

from __future__ import annotations

import gc
import uuid

import numpy as np
import streamlit as st

from digits import artifacts, config, evaluate, pixels, runs, store
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


@st.cache_data(show_spinner=False)
def sample_map(name: str) -> dict[str, np.ndarray]:
    """The model's map of 2,500 test digits (digits.embedding), read once per server."""
    from digits import embedding

    return embedding.load_map(artifacts.model_dir(name))


def model_picker() -> str:
    """A sidebar select box of the trained models; the choice follows the user across pages.

    When no model is installed, the page says how to train one and stops there.
    """
    names = artifacts.list_models()
    if not names:
        st.error(
            f"No trained model found in `{config.MODEL_DIR}`. Train one with "
            "`python train.py` (about 20 minutes) or `python train.py --quick` (about a minute)."
        )
        st.stop()
    # Widget state is dropped when a page without the widget runs, so the
    # choice lives under a plain key that every page's picker starts from.
    default = runs.default_model()  # the teacher may have made a model trained in the app the default
    chosen = st.session_state.get("model_choice", default)
    index = names.index(chosen) if chosen in names else names.index(default) if default in names else 0
    name = st.sidebar.selectbox("Model", names, index=index, key="model_picker",
                                help=f"Every page shows this model; `{default}` is the default.")
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


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 3 -> "3rd", 4 -> "4th"."""
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n if n < 20 else n % 10, 'th')}"


def per_class_rows(per_class: dict[str, list]) -> list[dict]:
    return [
        {"digit": c, "precision": round(p, 4), "recall": round(r, 4), "F1": round(f, 4), "support": s}
        for c, (p, r, f, s) in enumerate(
            zip(per_class["precision"], per_class["recall"], per_class["f1"], per_class["support"])
        )
    ]


def database_url() -> str | None:
    """Where the class's drawings live when not in the embedded SQLite file: a PostgreSQL URL, or None.

    ``DIGITS_DATABASE_URL`` in the environment, else Streamlit's convention for
    ``st.connection("drawings", type="sql")``: a ``[connections.drawings]``
    section in ``.streamlit/secrets.toml``, with ``url =`` or the
    ``dialect``/``host``/``port``/``database``/``username``/``password`` fields.
    """
    url = config.database_url()
    if url:
        return url
    try:
        section = st.secrets.get("connections", {}).get("drawings")
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        return None
    return config.url_from_settings(section) if section else None


@st.cache_resource(show_spinner=False)
def drawings_db() -> store.Store:
    """One store of drawings for the whole server, shared by every session (its pool takes turns)."""
    return store.connect(database_url())


def or_explain(function, *args, **kwargs):
    """``function(*args, **kwargs)`` on the drawings database, or, when the database fails, say why and stop."""
    try:
        return function(*args, **kwargs)
    except (store.StoreError, OSError) as error:
        st.error(f"The drawings database could not be used: {storage_message(error)}", icon=":material/error:")
        st.stop()


def drawings_db_or_explain() -> store.Store:
    return or_explain(drawings_db)


def session_id() -> str:
    """An anonymous id for this browser session: it groups drawings, it names no one."""
    return st.session_state.setdefault("session_id", uuid.uuid4().hex)


def storage_message(error: BaseException) -> str:
    """A failed read or write of data/, said with what to do about it."""
    advice = storage_advice(error) or "check that the folder exists and is writable"
    return (f"{error}. In short, {advice}. The drawings folder is `{config.DATA_DIR}`; "
            f"to use another, start the app with `DIGITS_DATA_DIR=/a/writable/folder make run`.")


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
            st.image([pixels.pixelated(images[i], 4) for i in chosen],
                     caption=[probability_caption(probs[i]) for i in chosen], width=112)


def _route_deep_links_through_app() -> None:
    """Serve a deep link through the router even when it is the server's first visit.

    The one use of a private Streamlit API in the project, run once per server
    process when a page first imports this module, so no page has to remember
    it. With a ``pages/`` folder beside app.py, Streamlit starts in its legacy
    multipage mode (``PagesManager.uses_pages_directory``), and a first visit
    to, say, /classroom runs pages/classroom.py alone: no st.navigation, file
    names in the sidebar, for every session until one runs app.py. Streamlit
    offers no public switch; its advice is to rename ``pages/`` (see
    streamlit/streamlit#9624, #8860 and the MPA v2 default, #10276). Leaving
    that mode and rerunning sends this session through app.py, to the same
    page. Tested by test_browser.py's first visit to /classroom.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and st.runtime.exists():
        PagesManager.uses_pages_directory = False
        st.rerun()  # the import that ran this fails; the rerun imports the module again


_route_deep_links_through_app()


def paged(key: str, fetch, per_page: int):
    """The page of stored rows now shown under ``key``: ``fetch(before_id, limit)`` -> `store.Page`.

    Only that page's rows are read. The pages walked (see `page_buttons`) are
    remembered under ``key``, so a key should name the filter too: another
    filter starts at the newest again.
    """
    visited = st.session_state.setdefault(f"{key}_pages", [None])  # before_id of each page walked
    return or_explain(fetch, visited[-1], per_page)


def page_buttons(key: str, page) -> None:
    """Newer / Older, to walk the pages of `paged` under ``key``."""
    visited = st.session_state[f"{key}_pages"]
    newer, older, _ = st.columns([1, 1, 4])
    if len(visited) > 1 and newer.button("Newer", key=f"{key}_newer", icon=":material/chevron_left:"):
        visited.pop()
        st.rerun()
    if page.next_before_id is not None and older.button("Older", key=f"{key}_older",
                                                         icon=":material/chevron_right:"):
        visited.append(page.next_before_id)
        st.rerun()


def gallery(key: str, fetch, caption, per_page: int = 24, squeezed: bool = False) -> None:
    """One page of stored drawings, newest first, with Newer / Older to walk the rest (see `paged`).

    With ``squeezed``, each drawing's whole canvas squeezed to 28 x 28 is shown.
    """
    page = paged(key, fetch, per_page)
    if page.rows:
        # 112 px, as the other galleries: at 84 a caption such as "#99336: drawn 2 · 6 81%" ran to three lines.
        st.image([pixels.pixelated(row.squeezed if squeezed else row.image, 4) for row in page.rows],
                 caption=[caption(row) for row in page.rows], width=112)
    page_buttons(key, page)


def export_npz(db: store.Store, scope: store.Scope):
    """The drawings in ``scope`` as an .npz file, built in chunks into a temporary file (run on click only)."""
    import tempfile

    out = tempfile.TemporaryFile()  # on disk, gone when closed: memory holds one chunk, not every drawing
    or_explain(store.export_npz, db, out, scope)
    out.seek(0)
    return out
