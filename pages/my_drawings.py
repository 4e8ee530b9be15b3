"""The drawings people labelled: how the chosen model reads them, where it goes wrong, export and delete."""

import streamlit as st

from digits import charts, config, store, teacher, ui

st.title("My drawings")
name = ui.model_picker()
is_teacher = teacher.sign_in()
db = ui.drawings_db_or_explain()
mine = st.toggle("Only this browser session's drawings", key="only_mine")
scope = store.Scope(session=ui.session_id() if mine else None)

# Each drawing is read once per model and the reading kept: only drawings no one has
# read with this model yet cost anything, in batches, with a bar (the one step that grows with them).
if unread := ui.or_explain(store.count_unread, db, name):
    classifier = ui.load_or_explain(ui.classifier, name)
    bar = st.progress(0.0, text=f"Reading {unread:,} drawings with {name} (once)…")
    ui.or_explain(store.read_all, db, name, classifier.predict_proba,
                  progress=lambda done, total: bar.progress(done / total, text=f"Read {done:,} of {total:,}…"))
    bar.empty()
summary = ui.or_explain(store.summary, db, name, scope)
if not summary.drawings:
    st.info("No labelled drawings yet. On the Draw page, tell the network whether it was right: "
            "each drawing you label is kept here (and only those)." if not mine else
            "You have labelled no drawing in this session yet.", icon=":material/draw:")
    st.stop()

right = int(summary.confusion.trace())
cards = st.columns(4)
cards[0].metric("Drawings", f"{summary.drawings:,}")
cards[1].metric(f"Read right by {name}", f"{right / max(summary.read, 1):.1%}", help="of the digits")
cards[2].metric("Mistakes", f"{summary.read - right:,}")
cards[3].metric("Not a digit", f"{summary.not_digits:,}", help="labelled not a digit: not in the matrix below")

event = st.plotly_chart(charts.confusion_heatmap(summary.confusion, title="Confusion matrix (these drawings)"),
                        on_select="rerun", selection_mode="points", key="my_confusion")
if cell := ui.clicked_cell(event):
    drawn, read = cell
    st.subheader(f"Drawn as {drawn}, read as {read}: {summary.confusion[drawn, read]:,}")
    ui.gallery(f"cell_{name}_{mine}_{drawn}_{read}",
               lambda before, n: store.page(db, name, scope, label=drawn, predicted=read, before_id=before, limit=n),
               lambda row: f"#{row.id} · {ui.probability_caption(row.probs)}")

if summary.not_digits:
    st.subheader(f"Not a digit: {summary.not_digits:,}")
    ui.gallery(f"not_digits_{name}_{mine}",
               lambda before, n: store.page(db, name, scope, label=config.NOT_A_DIGIT, before_id=before, limit=n),
               lambda row: f"#{row.id}: " + ("flagged when drawn" if row.flagged else f"read as {row.predicted}"))

st.subheader("Drawings the model gets wrong")
if right < summary.read:
    ui.gallery(f"wrong_{name}_{mine}",
               lambda before, n: store.page(db, name, scope, wrong=True, before_id=before, limit=n),
               lambda row: f"#{row.id}: drawn {row.label} · {ui.probability_caption(row.probs)}")
else:
    st.success("It reads every one of them right.")

st.subheader("What the preparation is worth")
if summary.naive_read:
    cards = st.columns(2)
    ours, naive = summary.ours_right_where_naive / summary.naive_read, summary.naive_right / summary.naive_read
    cards[0].metric("Read right as this app prepares them", f"{ours:.1%}")
    cards[1].metric("Read right with the whole canvas squeezed to 28 × 28", f"{naive:.1%}",
                    delta=f"{100 * (naive - ours):+.1f} points", delta_color="normal")
    left_out = summary.drawings - summary.not_digits - summary.naive_read
    st.caption(f"The same {summary.naive_read:,} drawings{f' ({left_out:,} stored without a canvas are left out)' if left_out else ''}, "
               "read by the same model, prepared two ways: as MNIST's digits were (cropped, fitted to a 20-pixel box, "
               "centred), or as many drawing apps do it, by shrinking the whole canvas. Small and off-centre "
               "drawings lose the most. Below, what the network sees of those this app reads right and a plain resize reads wrong:")
    ui.gallery(f"lost_{name}_{mine}",
               lambda before, n: store.page(db, name, scope, naive_lost=True, before_id=before, limit=n),
               lambda row: f"#{row.id}: {row.label}", squeezed=True)
else:
    st.info("None of these drawings has a stored canvas to compare with.")

st.subheader("Keep, relabel, export or delete")
st.download_button(f"Download {'yours' if mine else 'all'} as .npz (images, labels)",
                   lambda: ui.export_npz(db, scope), "drawings.npz", on_click="ignore",
                   icon=":material/download:", key="export")
if not is_teacher:
    st.caption("You can delete the drawings of this browser session. "
               + ("Only the teacher can delete other people's (sign in under Teacher in the sidebar)."
                  if teacher.configured_key() else "Nobody can delete other people's from the app. " + teacher.HOW_TO_SET))
# A student's deletions are limited to their own session by the store itself, whatever ids a browser sends.
owner = None if is_teacher else ui.session_id()
listed = store.Scope(session=owner or scope.session)
page = ui.paged(f"delete_{listed.session}", lambda before, n: store.page(db, name, listed, before_id=before, limit=n), 50)
table = st.dataframe([{"#": r.id, "drawn": config.label_name(r.label), f"read by {name}": r.predicted,
                       "yours": r.session == ui.session_id()}
                      for r in page.rows], hide_index=True, key="delete_table", on_select="rerun",
                     selection_mode="multi-row")
picked = [page.rows[i].id for i in table.selection.rows if 0 <= i < len(page.rows)]  # rows shown, nothing else
ui.page_buttons(f"delete_{listed.session}", page)
relabel_to = st.pills("Relabel the selected as", config.LABELS, format_func=config.label_name, key="relabel_to")
if st.button(f"Relabel the {len(picked)} selected", key="relabel", disabled=not picked or relabel_to is None,
             icon=":material/edit:"):
    for drawing_id in picked:  # a student's own only, as for delete
        ui.or_explain(store.relabel, db, drawing_id, relabel_to, session=owner)
    st.rerun()
if st.button(f"Delete the {len(picked)} selected", key="delete", disabled=not picked, icon=":material/delete:"):
    ui.or_explain(store.delete, db, picked, session=owner)
    st.rerun()
everything = "every stored drawing" if is_teacher else "every drawing of this session"
if st.checkbox(f"Yes, delete {everything}", key="sure"):
    if st.button("Delete all", key="delete_all", type="primary"):
        ui.or_explain(store.delete_all, db, session=owner)
        st.rerun()
