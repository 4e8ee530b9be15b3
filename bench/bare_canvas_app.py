"""The reference for the browser benchmark: only the canvas and one number.

It shows how much ink was drawn, so its stroke-to-answer time is the canvas
round trip alone (browser -> server -> browser) with no model behind it. The
canvas is mounted, read and cleared exactly as the draw page does it.
"""

import streamlit as st

from digits import canvas, config, draw_state

report = canvas.draw_canvas(config.DEFAULT_BRUSH, draw_state.canvas_version(), dark=False)
if st.button("Clear", key="clear"):
    draw_state.clear(report.json_data)
    st.rerun()
if draw_state.is_fresh(report.json_data) and report.rgba is not None and report.rgba[..., 3].any():
    st.metric("Prediction", int(report.rgba[..., 3].sum() // 255))
