"""digits: draw a digit and watch a CNN trained on MNIST read it.

Run with `make run` (or `streamlit run app.py`). This file only routes: each
page is a short script in pages/ over the `digits` package.
"""

import streamlit as st

st.set_page_config(page_title="digits", page_icon="✏️", layout="wide")

pages = [
    st.Page("pages/draw.py", title="Draw", icon="✏️", default=True),
]
st.navigation(pages).run()
