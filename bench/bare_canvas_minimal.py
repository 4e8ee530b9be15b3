"""The barest reference for the browser benchmark: the canvas and one number, nothing else.

No Clear button, no state: the benchmark reloads the page between drawings.
"""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

canvas = st_canvas(stroke_width=22, background_color="", height=320, width=320, drawing_mode="freedraw",
                   return_image_data=True, key="canvas")
if canvas.image_data is not None and canvas.image_data[..., 3].any():
    st.metric("Prediction", int(canvas.image_data[..., 3].sum() // 255))
