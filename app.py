"""digits: draw a digit and watch a CNN trained on MNIST read it.

Run with `make run` (or `streamlit run app.py`). This file only routes: each
page is a short script in pages/ over the `digits` package.
"""

import streamlit as st

st.set_page_config(page_title="digits", page_icon="✏️", layout="wide")

pages = [
    st.Page("pages/draw.py", title="Draw", icon=":material/draw:", default=True),
    st.Page("pages/training.py", title="Training", icon=":material/show_chart:"),
    st.Page("pages/mistakes.py", title="Mistakes", icon=":material/grid_on:"),
    st.Page("pages/dataset.py", title="Dataset", icon=":material/photo_library:"),
    st.Page("pages/inside.py", title="Inside", icon=":material/layers:"),
    st.Page("pages/my_drawings.py", title="My drawings", icon=":material/collections_bookmark:"),
    st.Page("pages/classroom.py", title="Class", icon=":material/groups:"),
]
st.navigation(pages).run()
