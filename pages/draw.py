"""Draw a digit; the network reads it as you draw."""

import hashlib

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from digits import charts, config, ui
from digits.inference import read_canvas, read_naively

st.title("Draw a digit")
name = ui.model_picker()
with st.sidebar:  # an empty element: at the sidebar's foot it moves nothing on the page
    ui.keep_canvas_toolbar_off_the_drawing()

left, right = st.columns([1, 1], gap="large")
with left:
    brush = st.slider("Brush width", 6, 48, config.DEFAULT_BRUSH, key="brush",
                      help="Any width works: the drawing is rescaled to MNIST's 20-pixel box.")
    # Clear hands the canvas a new empty drawing (it reloads in place, so strokes drawn
    # right after are kept); until the canvas reports again, the drawing it last reported is stale.
    version = st.session_state.setdefault("canvas_version", 0)
    dark = st.context.theme.type == "dark"
    canvas = st_canvas(
        stroke_width=brush,
        stroke_color="#ffffff" if dark else "#000000",  # only the alpha channel is read
        background_color="",  # transparent: the ink is the alpha channel
        height=config.CANVAS_SIZE,
        width=config.CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        initial_drawing={"objects": [], "cleared": version},
        key="canvas",
    )
    if st.button("Clear", key="clear", icon=":material/ink_eraser:"):
        st.session_state["canvas_version"] = version + 1
        st.session_state["stale_drawing"] = canvas.json_data
        st.session_state.pop("drawing", None)
        st.rerun()

if "stale_drawing" in st.session_state and canvas.json_data != st.session_state["stale_drawing"]:
    del st.session_state["stale_drawing"]  # reported since Clear (its empty drawing, or a stroke)
fresh = canvas.image_data is not None and "stale_drawing" not in st.session_state
model = ui.load_or_explain(ui.classifier, name) if fresh else None  # loaded at the first stroke
reading = read_canvas(model, canvas.image_data) if fresh else None
with right:
    if reading is None:
        st.session_state.pop("drawing", None)
        st.info("Draw a digit from 0 to 9 in the box, as large as you like. "
                "The network's answer appears here as you draw.", icon=":material/draw:")
        st.stop()
    steps, probs, digit, runner_up = reading.steps, reading.probs, reading.digit, reading.runner_up
    st.session_state["drawing"] = steps.centred  # the Inside page explains this same input
    ui.large_prediction()
    with st.container(key="answer"):
        st.metric("Prediction", digit, help=f"{reading.confidence:.1%} sure")
    if runner_up is None:
        st.success(f"**{digit}**, {reading.confidence:.0%} sure.")
    else:
        st.warning(f"Not sure: **{digit} or {runner_up}?** ({probs[digit]:.0%} vs {probs[runner_up]:.0%})")
    st.plotly_chart(charts.probability_bars(probs), key="probabilities", config={"displayModeBar": False})

    # Labelling: kept only when the person clicks, to teach the network later (My drawings page).
    key = hashlib.sha1(steps.centred.tobytes()).hexdigest()[:16]
    st.session_state["current"] = dict(key=key, image=steps.centred, probs=probs, png=canvas.image_bytes, model=name)
    saved = st.session_state.get("saved", {})
    st.button(f"Right, it's a {digit}", key=f"right-{key}", icon=":material/check:", on_click=ui.save_label,
              args=(digit,))
    st.pills("No, it's a…", list(range(10)), key=f"label-{key}", on_change=ui.save_picked, args=(f"label-{key}",))
    if "save_error" in st.session_state:
        st.error(f"Could not save the drawing: {st.session_state.pop('save_error')} "
                 "Your drawing is still here: click again once that is fixed.", icon=":material/error:")
    elif saved.get("key") == key:
        st.caption(f"Saved as a **{saved['label']}**: thank you. See it on the My drawings page.")

st.subheader("What the network sees")
st.image(charts.pixelated(steps.centred, 8), caption="28 × 28 pixels, enlarged 8×", width=224)
with st.expander("How a drawing becomes a 28 × 28 input", expanded=False):
    cols = st.columns(4)
    shown = [
        (steps.ink, "1. Your ink (the canvas's alpha channel)"),
        (steps.crop, "2. Cropped to the ink"),
        (steps.fitted, "3. Longest side fitted to 20 px, smoothed"),
        (steps.centred, "4. Centre of mass placed at the centre of 28 × 28"),
    ]
    for col, (image, caption) in zip(cols, shown):
        col.image(charts.fit_to(image, 200, square=True), caption=caption, width=200)
    st.caption("MNIST's own digits were made this way, so a drawing prepared like this looks "
               "like the images the network learnt from, wherever and however large you draw.")
    squeezed, naive_probs = read_naively(model, canvas.image_data)
    naive_digit = int(naive_probs.argmax())
    picture, words = st.columns([1, 3], vertical_alignment="center")
    picture.image(charts.fit_to(squeezed, 200, square=True), caption="Steps 2–4 skipped", width=200)
    words.markdown(f"Many drawing apps skip steps 2 to 4 and squeeze the whole canvas to 28 × 28. From "
                   f"that image the same network reads **{naive_digit}** ({naive_probs[naive_digit]:.0%} sure), "
                   f"against **{digit}** from the prepared one. Draw small, or in a corner, to see the difference.")
