"""Where the network goes wrong: the confusion matrix, its cells' digits, per-class scores, calibration."""

import numpy as np
import streamlit as st

from digits import artifacts, calibration, charts, evaluate, pixels, ui

st.title("Mistakes")
name = ui.model_picker()
report = ui.load_or_explain(ui.report, name)
examples = ui.load_or_explain(ui.examples, name)
confusion = np.array(report["test"]["confusion"])
labels, probs = examples["mistake_labels"], examples["mistake_probs"]
images = examples["mistake_images"]

st.caption(f"Model **{name}** got {len(labels)} of the {report['test_size']:,} test digits wrong. "
           "Rows are the true digit, columns the network's answer.")
rates = st.toggle("Show rates (each row sums to 100 %)", key="rates")
figure = charts.confusion_heatmap(confusion, evaluate.normalise_rows(confusion) if rates else None)
event = st.plotly_chart(figure, on_select="rerun", selection_mode="points", key="confusion")

cell = ui.clicked_cell(event)
if cell:
    ui.show_cell(cell, labels, probs, images, first="True", what="test digit")
else:
    st.info("Click a red cell to see the test digits in it, most confident mistakes first.",
            icon=":material/touch_app:")

left, right = st.columns(2)
with left:
    st.subheader("Most confused pairs")
    pairs = evaluate.most_confused(confusion, k=10)
    st.dataframe([{"true": t, "read as": p, "count": n} for t, p, n in pairs], hide_index=True, key="pairs")
with right:
    st.subheader("Per-class scores")
    score = st.column_config.NumberColumn(format="%.4f")
    st.dataframe(ui.per_class_rows(report["test"]["per_class"]), hide_index=True, key="per_class",
                 column_config={"precision": score, "recall": score, "F1": score})

st.subheader("Every misclassified test digit")
f1, f2 = st.columns(2)
true_filter = f1.multiselect("True digit", list(range(10)), key="gallery_true", placeholder="any")
pred_filter = f2.multiselect("Read as", list(range(10)), key="gallery_pred", placeholder="any")
chosen = evaluate.select_mistakes(labels, probs, true_filter, pred_filter)
st.caption(f"{len(chosen)} digit{'s' * (len(chosen) != 1)}, most confident mistakes first.")
if len(chosen):
    st.image([pixels.pixelated(images[i] / 255, 3) for i in chosen],
             caption=[f"true {labels[i]} · {ui.probability_caption(probs[i])}" for i in chosen], width=84)

st.subheader("How sure, how right")
calibrated = calibration.load(artifacts.model_dir(name))
if calibrated is None:
    st.info(f"No calibration measured for **{name}** yet: make it with `{calibration.MAKE_COMMAND}`.",
            icon=":material/info:")
else:
    families = calibrated["families"]
    shown = st.multiselect("Digits", list(families), default=list(families), key="calibration_families")
    st.plotly_chart(calibration.reliability_figure({f: families[f] for f in shown}), key="reliability")
    st.dataframe([{"digits": f, "count": r["count"], "accuracy": r["accuracy"], "ECE": r["ece"],
                   "shares the training renderer": r["shares_training_renderer"]} for f, r in families.items()],
                 hide_index=True, key="calibration_table",
                 column_config={"accuracy": st.column_config.NumberColumn(format="%.4f"),
                                "ECE": st.column_config.NumberColumn(format="%.4f")})
    st.caption("Bars: of the digits read with about that confidence, the share read right; on the dashed line "
               "the network is exactly as sure as it is right. ECE: the average gap, weighted by digits per bar.")
