"""What the network learnt from: MNIST's digits, their counts and their average shapes."""

import streamlit as st

from digits import charts, pixels, ui

st.title("Dataset")
name = ui.model_picker()
report = ui.load_or_explain(ui.report, name)
examples = ui.load_or_explain(ui.examples, name)

st.caption("MNIST: 70,000 handwritten digits, 28 × 28 grey pixels, written by American Census Bureau "
           "employees and high-school students. 60,000 train the network (5,000 of them held out to "
           "decide when to stop); 10,000 test it.")
left, right = st.columns([3, 2])
with left:
    st.subheader("Samples of each digit")
    per_class = len(examples["sample_labels"]) // 10
    grid = pixels.image_grid(examples["sample_images"], columns=per_class)
    st.image(pixels.pixelated(grid, 2), caption="One row per digit, 0 to 9, picked at random")
with right:
    st.plotly_chart(charts.class_counts(report["class_counts"]["train"], report["class_counts"]["test"]),
                    key="counts")
    st.subheader("The average of each digit")
    st.image(pixels.pixelated(pixels.image_grid(examples["mean_images"], columns=5), 3),
             caption="Mean of all training images of each digit: what a typical one looks like")
