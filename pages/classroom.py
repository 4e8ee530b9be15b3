"""The classroom tally, for the projector: everyone's labelled drawings in this lesson, live."""

import streamlit as st

from digits import address, charts, evaluate, pixels, store, tally, teacher, ui

st.title("Class")
where, problem = address.student_address(st.context.url, "classroom", st.get_option("server.address"))
if where:
    st.markdown(f"## :material/draw: Draw at `{where}`")
if problem:
    st.warning(problem, icon=":material/wifi_off:")
st.caption("Everyone drawing on this server, live. Students draw on their own devices at that address "
           "and tell the network whether it was right: each labelled drawing counts here.")
db = ui.drawings_db_or_explain()
if teacher.sign_in():
    if st.button("Start a new lesson", key="new_lesson", icon=":material/restart_alt:",
                 help="Every projector counts only the drawings labelled from now on (nothing is deleted)."):
        ui.or_explain(store.start_lesson, db)
else:
    st.caption("The teacher starts a new lesson (sign in under Teacher in the sidebar); every projector follows.")


@st.fragment(run_every="3s")
def live() -> None:
    lesson = ui.or_explain(store.current_lesson, db)  # read each time: the teacher may start one anywhere
    after = lesson.after_id if lesson else 0
    counted = st.session_state.get("tally")
    if counted is None or counted.lesson != (lesson and lesson.id) or (  # a counted drawing relabelled or deleted
            ui.or_explain(store.fingerprint, db, after, counted.last_id) != counted.fingerprint()):
        counted = tally.from_answers(lesson and lesson.id, ui.or_explain(store.answers_since, db, after))
    while True:  # only the drawings added since the last refresh (or since the count above)
        rows = ui.or_explain(store.since, db, counted.last_id, limit=5000)
        tally.add_rows(counted, rows)
        if len(rows) < 5000:
            break
    st.session_state["tally"] = counted
    if not counted.drawings:
        st.info("No labelled drawings yet: they appear here within seconds.", icon=":material/hourglass_empty:")
        return
    # Large enough to read from the back of a classroom.
    st.html("<style>.st-key-class_cards [data-testid='stMetricValue'] {font-size: 3.5rem; line-height: 1.1;}</style>")
    with st.container(key="class_cards"):
        cards = st.columns(3)
        cards[0].metric("Drawings", f"{counted.drawings:,}")
        cards[1].metric("Read right", f"{counted.right / counted.digits:.0%}" if counted.digits else "–",
                        help="of the drawings labelled as digits")
        cards[2].metric("Students", f"{len(counted.sessions):,}")
        cards = st.columns(3)  # drawings that are not digits, apart from the digits' score
        cards[0].metric("Not a digit", f"{counted.not_digits:,}", help="drawings the students labelled not a digit")
        # A share in large type, the counts under it: "2,676 of 2,959" in large type overflows its third of the page.
        cards[1].metric("Caught by the network", f"{counted.caught / counted.not_digits:.0%}" if counted.not_digits
                        else "–", f"{counted.caught:,} of {counted.not_digits:,}", delta_color="off", delta_arrow="off",
                        help="of those, how many the network itself flagged as not a digit")
        cards[2].metric("Digits it took for none", f"{counted.false_alarms:,}",
                        help="drawings labelled as digits that the network flagged as not a digit")
    left, middle = st.columns([3, 2])
    left.plotly_chart(charts.digit_counts(counted.confusion.sum(axis=1), "Drawings of each digit"),
                      key="class_counts")
    with middle:
        st.subheader("Most confused")
        pairs = evaluate.most_confused(counted.confusion, k=5)
        if pairs:
            st.dataframe([{"drawn": t, "read as": p, "times": n} for t, p, n in pairs], hide_index=True,
                         key="class_pairs")
        else:
            st.success("No mistakes yet.")
    if counted.mistakes:
        images = ui.or_explain(store.images, db, [i for i, _, _ in counted.mistakes])
        shown = [(i, t, p) for i, t, p in counted.mistakes if i in images]  # a deleted one is left out
        st.subheader("Latest mistakes")
        st.image([pixels.pixelated(images[i], 4) for i, _, _ in shown],
                 caption=[f"{t} read as {p}" for _, t, p in shown], width=112)


live()
