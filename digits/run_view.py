"""The Training page's "Train a model" section: the server's one run, live for everyone; the teacher's controls."""

from __future__ import annotations

import time

import streamlit as st

from digits import run_charts, runs, teacher

LENGTH_LABELS = {"quick": "Quick: 2 epochs, no augmentation", "full": "Full recipe: the architecture's own epochs and augmentation"}
REFRESH = "2s"  # how often every open Training page reads the run's progress file


def section(is_teacher: bool) -> None:
    """The run under way or the last one's outcome, refreshed every few seconds; Start and Stop for the teacher."""
    st.header("Train a model")
    st.caption("A network trained here, live: the server trains one model at a time, in the background at low "
               "priority, so drawing stays fast. Everyone on this page watches the same run.")
    if teacher.configured_key() is None:
        st.caption("Only the teacher can start a run. " + teacher.HOW_TO_SET)
    elif not is_teacher:
        st.caption("The teacher starts a run (sign in under Teacher in the sidebar).")
    else:
        start_form()
    live(is_teacher)


@st.fragment(run_every=REFRESH)
def live(is_teacher: bool) -> None:
    status = runs.status()
    follow(status)
    if status is None:
        st.info("No model has been trained from the app on this server yet.", icon=":material/model_training:")
    elif status.state == "running":
        progress(status)
        if is_teacher:
            st.button("Stop", key="run_stop", icon=":material/stop:", on_click=runs.stop,
                      help="Ends the run now (within seconds); the model being trained is not saved.")
    else:
        outcome(status, is_teacher)
    if status is not None and status.epochs:
        left, right = st.columns(2)
        planned = status.planned or len(status.epochs)
        left.plotly_chart(run_charts.growing_curves(status.history, "loss", planned), key="run_loss")
        right.plotly_chart(run_charts.growing_curves(status.history, "accuracy", planned), key="run_accuracy")


def follow(status: runs.Status | None) -> None:
    """Rerun the whole page when the run this session watched finishes, or a new default was made, so the
    sidebar's picker lists and shows the model."""
    seen = st.session_state.get("run_seen")
    now = status and (status.started, status.state)
    st.session_state["run_seen"] = now
    finished = seen and now and seen == (status.started, "running") and status.state == "finished"
    if finished or st.session_state.pop("run_new_default", False):
        st.rerun()


def progress(status: runs.Status) -> None:
    done, planned = len(status.epochs), status.planned
    title = f"Training **{status.name}** ({status.arch}, {status.length})"
    if not done:
        st.progress(0.0, text=f"{title}: preparing (loading MNIST, building the network), "
                              f"started {runs.minutes(status.now - status.started)} ago")
        return
    left = f", about {runs.minutes(status.time_left)} left" if status.time_left is not None else ""
    st.progress(min(1.0, done / planned) if planned else 0.0,
                text=f"{title}: epoch {done} of {planned or '?'} done{left}")


def outcome(status: runs.Status, is_teacher: bool) -> None:
    ran = f"**{status.name}** ({status.arch}, {status.length}, started {started_at(status.started)})"
    if status.state == "finished":
        st.success(f"Model {ran} is in the model picker: test accuracy {status.ending['test_accuracy']:.2%}.",
                   icon=":material/check_circle:")
        if is_teacher and runs.default_model() != status.name:
            st.button(f"Make {status.name} the default", key="run_make_default", icon=":material/star:",
                      on_click=make_default, args=(status.name,),
                      help="Every page, in every browser, starts on this model.")
    elif status.state == "stopped":
        done = len(status.epochs)
        st.warning(f"The run of {ran} was stopped after {done} epoch{'s' * (done != 1)}. Nothing was saved; the "
                   "models already in the picker are unchanged.", icon=":material/stop_circle:")
    elif status.state == "failed":
        st.error(f"The run of {ran} failed: {status.ending.get('error')}. Nothing was saved.",
                 icon=":material/error:")
        with st.expander("The run's last output"):
            st.code(runs.log_tail() or "(no output)")
    else:
        st.warning(f"The run of {ran} was interrupted: its process ended without finishing (the server machine "
                   "restarted, or the process was killed). Nothing was saved.", icon=":material/warning:")


def start_form() -> None:
    """The teacher's choice of architecture and length, and Start (refused while a run goes on)."""
    with st.form("run_form", border=False):
        arch_col, length_col = st.columns(2)
        arch = arch_col.selectbox("Architecture", runs.ARCHITECTURES, index=1, key="run_arch")
        length = length_col.radio("Length", runs.LENGTHS, format_func=LENGTH_LABELS.get, key="run_length")
        if st.form_submit_button("Start", key="run_start", icon=":material/play_arrow:"):
            try:
                runs.start(arch, length, runs.free_name(arch, length))
            except (runs.RunInProgress, ValueError) as error:
                st.error(f"Not started: {error}", icon=":material/block:")


def make_default(name: str) -> None:
    """The button's callback: it runs before the page, so the picker can still be moved to ``name``."""
    runs.set_default_model(name)
    st.session_state["model_choice"] = st.session_state["model_picker"] = name
    st.session_state["run_new_default"] = True  # the sidebar is outside the fragment: rerun the whole page


def started_at(when: float) -> str:
    return time.strftime("%H:%M", time.localtime(when))
