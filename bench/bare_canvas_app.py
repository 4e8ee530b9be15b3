"""The reference for the browser benchmark: only the canvas and one number.

It shows how much ink was drawn, so its stroke-to-answer time is the canvas
round trip alone (browser -> server -> browser) with no model behind it.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digits import config

# Cleared the way the draw page clears it: a new empty drawing, the last one ignored until a stroke.
version = st.session_state.setdefault("canvas_version", 0)
canvas = st_canvas(
    stroke_width=config.DEFAULT_BRUSH, background_color="", height=config.CANVAS_SIZE, width=config.CANVAS_SIZE,
    drawing_mode="freedraw", return_image_data=True, initial_drawing={"objects": [], "cleared": version},
    key="canvas",
)
if st.button("Clear", key="clear"):
    st.session_state["canvas_version"] = version + 1
    st.session_state["stale_drawing"] = canvas.json_data
    st.rerun()
fresh = canvas.image_data is not None and canvas.json_data != st.session_state.get("stale_drawing")
if fresh and canvas.image_data[..., 3].any():
    st.metric("Prediction", int(canvas.image_data[..., 3].sum() // 255))
