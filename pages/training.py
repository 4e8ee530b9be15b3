"""How the selected model was trained, how every model compares, and a model trained here, live."""

import streamlit as st

from digits import charts, evaluate, run_view, teacher, ui

st.title("Training")
name = ui.model_picker()
report = ui.load_or_explain(ui.report, name)
history = ui.load_or_explain(ui.history, name)
test = report["test"]

st.caption(f"Model **{name}**: {report['params']:,} parameters, trained on {report['fit_size']:,} images, "
           f"validated on {report['val_size']:,}, tested once on the {report['test_size']:,} test images.")
cards = st.columns(4)
cards[0].metric("Test accuracy", f"{test['accuracy']:.2%}", help=f"{report['test_size'] - round(test['accuracy'] * report['test_size'])} mistakes")
cards[1].metric("Test loss", f"{test['loss']:.4f}")
cards[2].metric("Parameters", f"{report['params']:,}")
cards[3].metric("Training time", f"{report['wall_seconds'] / 60:.1f} min",
                help=f"{report['versions']['cpu_count']} CPU cores, everything included")
cards = st.columns(4)
cards[0].metric("Macro precision", f"{test['precision_macro']:.4f}")
cards[1].metric("Macro recall", f"{test['recall_macro']:.4f}")
cards[2].metric("Macro F1", f"{test['f1_macro']:.4f}")
cards[3].metric("Epochs", f"{report['epochs_run']}", help=f"best epoch {report['best_epoch']} (lowest validation loss)")

# A switch rather than tabs: tabs would draw the hidden view's charts too.
view = st.segmented_control("View", ["This model", "All models compared"], default="This model", key="view",
                            label_visibility="collapsed")
if view != "All models compared":
    planned = report["recipe"]["epochs"]
    left, right = st.columns(2)
    left.plotly_chart(charts.training_curves(history, "loss", report["best_epoch"], planned), key="loss")
    right.plotly_chart(charts.training_curves(history, "accuracy", report["best_epoch"], planned), key="accuracy")
    st.plotly_chart(charts.epoch_profile(history), key="profile")
    st.caption("Early stopping watched the validation loss and kept the weights of the best epoch. "
               "The test set chose nothing: it was used once, at the end.")

else:
    reports = ui.readable_reports()
    st.dataframe(evaluate.comparison_rows(reports), hide_index=True, key="comparison")
    left, right = st.columns(2)
    histories = {n: ui.history(n) for n in reports}
    left.plotly_chart(charts.compare_curves(histories, "val_accuracy"), key="compare_accuracy")
    right.plotly_chart(charts.compare_curves(histories, "val_loss"), key="compare_loss")

st.divider()
run_view.section(teacher.sign_in())
