"""The classroom tally, for the projector: everyone's labelled drawings, live."""

import time

import numpy as np
import streamlit as st

from digits import address, charts, evaluate, ui

st.title("Class")
where, problem = address.student_address(st.context.url, "classroom", st.get_option("server.address"))
if where:
    st.markdown(f"## :material/draw: Draw at `{where}`")
if problem:
    st.warning(problem, icon=":material/wifi_off:")
st.caption("Everyone drawing on this server, live. Students draw on their own devices at that address "
           "and tell the network whether it was right: each labelled drawing counts here.")
since = st.session_state.setdefault("lesson_start", 0.0)
if st.button("Start a new lesson", key="new_lesson", icon=":material/restart_alt:",
             help="Count only the drawings labelled from now on (nothing is deleted)."):
    st.session_state["lesson_start"] = since = time.time()


@st.fragment(run_every="3s")
def tally(since: float) -> None:
    drawings = ui.stored_drawings(since)
    if drawings is None:
        return
    if not len(drawings):
        st.info("No labelled drawings yet: they appear here within seconds.", icon=":material/hourglass_empty:")
        return
    right = drawings.predicted == drawings.labels
    cards = st.columns(3)
    cards[0].metric("Drawings", len(drawings))
    cards[1].metric("Read right", f"{right.mean():.0%}")
    cards[2].metric("Students", len(set(drawings.sessions)))
    left, middle = st.columns([3, 2])
    left.plotly_chart(charts.digit_counts(np.bincount(drawings.labels, minlength=10), "Drawings of each digit"),
                      key="class_counts")
    with middle:
        st.subheader("Most confused")
        confusion = evaluate.classification_metrics(drawings.labels, drawings.probs)["confusion"]
        pairs = evaluate.most_confused(confusion, k=5)
        if pairs:
            st.dataframe([{"drawn": t, "read as": p, "times": n} for t, p, n in pairs], hide_index=True,
                         key="class_pairs")
        else:
            st.success("No mistakes yet.")
    latest = np.flatnonzero(~right)[::-1][:12]
    if len(latest):
        st.subheader("Latest mistakes")
        st.image([charts.pixelated(drawings.images[i], 3) for i in latest],
                 caption=[f"drawn {drawings.labels[i]}, read {drawings.predicted[i]}" for i in latest], width=84)


tally(since)
