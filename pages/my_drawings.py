"""The drawings people labelled: how the model does on them, where it goes wrong, export."""

import numpy as np
import streamlit as st

from digits import charts, evaluate, store, ui

st.title("My drawings")
name = ui.model_picker()
drawings = ui.stored_drawings()
if drawings is None:
    st.stop()
if not len(drawings):
    st.info("No labelled drawings yet. On the Draw page, tell the network whether it was right: "
            "each drawing you label is kept here (and only those).", icon=":material/draw:")
    st.stop()

mine = st.toggle("Only this browser session's drawings", key="only_mine")
if mine:
    keep = np.array([s == ui.session_id() for s in drawings.sessions])
    if not keep.any():
        st.info("You have labelled no drawing in this session yet.")
        st.stop()
else:
    keep = np.ones(len(drawings), bool)
ids, labels, images = drawings.ids[keep], drawings.labels[keep], drawings.images[keep]

# Read them again with the chosen model: it may not be the one they were drawn for.
classifier = ui.load_or_explain(ui.classifier, name)
probs = classifier.predict_proba(images)
metrics = evaluate.classification_metrics(labels, probs)
cards = st.columns(3)
cards[0].metric("Drawings", len(ids))
cards[1].metric(f"Read right by {name}", f"{metrics['accuracy']:.1%}")
cards[2].metric("Mistakes", int(round((1 - metrics["accuracy"]) * len(ids))))

confusion = np.array(metrics["confusion"])
event = st.plotly_chart(charts.confusion_heatmap(confusion, title="Confusion matrix (your drawings)"),
                        on_select="rerun", selection_mode="points", key="my_confusion")
cell = ui.clicked_cell(event)
if cell:
    ui.show_cell(cell, labels, probs, images, first="Drawn as", what="drawing")

st.subheader("Drawings the model gets wrong")
wrong = evaluate.misclassified(labels, probs)
if len(wrong):
    st.image([charts.pixelated(images[i], 3) for i in wrong],
             caption=[f"#{ids[i]}: drawn {labels[i]} · {ui.probability_caption(probs[i])}" for i in wrong], width=84)
else:
    st.success("It reads every one of them right.")

st.subheader("What the preparation is worth")
where, squeezed = ui.squeezed_drawings(ids)
if len(where):
    naive = classifier.predict_proba(squeezed)
    ours_right = probs[where].argmax(axis=1) == labels[where]
    naive_right = naive.argmax(axis=1) == labels[where]
    cards = st.columns(2)
    cards[0].metric("Read right as this app prepares them", f"{ours_right.mean():.1%}")
    cards[1].metric("Read right with the whole canvas squeezed to 28 × 28", f"{naive_right.mean():.1%}",
                    delta=f"{100 * (naive_right.mean() - ours_right.mean()):+.1f} points", delta_color="normal")
    st.caption(f"The same {len(where)} drawings{'' if len(where) == len(ids) else f' (of {len(ids)}: the others have no stored canvas)'}, "
               "read by the same model, prepared two ways: as MNIST's digits were (cropped, fitted to a 20-pixel box, "
               "centred), or as many drawing apps do it, by shrinking the whole canvas. Small and off-centre "
               "drawings lose the most.")
    lost = np.flatnonzero(ours_right & ~naive_right)
    if len(lost):
        st.markdown(f"**What the network sees of them squeezed**: {min(len(lost), 24)} of the {len(lost)} drawings "
                    "this app reads right and a plain resize reads wrong.")
        st.image([charts.pixelated(squeezed[i], 3) for i in lost[:24]],
                 caption=[f"{labels[where[i]]}, read as {naive[i].argmax()}" for i in lost[:24]], width=84)
else:
    st.info("None of these drawings has a stored canvas to compare with.")

st.subheader("Keep, export or delete")
st.download_button("Download all as .npz (images, labels)", store.export_npz(drawings), "drawings.npz",
                   icon=":material/download:", key="export")
left, right = st.columns(2)
chosen = left.multiselect("Drawings to delete (by #)", list(ids), key="to_delete")
if left.button("Delete these", key="delete", disabled=not chosen):
    for drawing_id in chosen:
        store.delete(ui.drawings_db(), drawing_id)
    st.rerun()
sure = right.checkbox("Yes, delete every stored drawing", key="sure")
if right.button("Delete all", key="delete_all", disabled=not sure, type="primary"):
    store.delete_all(ui.drawings_db())
    st.rerun()
