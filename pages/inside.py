"""Inside the network: what each layer makes of the digit, and which pixels decided."""

import numpy as np
import streamlit as st

from digits import artifacts, charts, draw_state, embedding, inside, map_chart, pixels, ui

st.title("Inside the network")
name = ui.model_picker()
classifier = ui.load_or_explain(ui.classifier, name)
network = classifier.model
examples = ui.load_or_explain(ui.examples, name)

if (last := draw_state.last_drawings()) is None:
    pick = st.slider("No drawing yet: pick a sample digit", 0, len(examples["sample_images"]) - 1, 0, key="sample")
    image, flagged = examples["sample_images"][pick].astype(np.float32) / 255, False
    st.caption("Draw on the Draw page and come back to look inside your own digit.")
else:
    drawn, doubted = last
    which = 0
    if len(drawn) > 1:  # a number: the network reads its digits one at a time, so it is looked inside one at a time
        which = min(st.radio(f"Your number has {len(drawn)} digits: look inside…", range(len(drawn)), horizontal=True,
                             format_func=lambda k: f"the {ui.ordinal(k + 1)}", key="which"), len(drawn) - 1)
    image, flagged = drawn[which], doubted[which]
probs = classifier.predict_proba(image[None])[0]
answer = int(probs.argmax())

left, right = st.columns([1, 2])
with left:
    st.image(pixels.pixelated(image, 8), caption=f"The input: read as {answer} ({probs[answer]:.0%})", width=224)
    if flagged:  # the softmax still names a digit: this page shows why that one
        st.caption("Flagged on the Draw page as not a digit, by a second network. This one must still pick one "
                   "of ten: below, what made it pick this one.")
with right:
    st.subheader("Which pixels decided?")
    if st.session_state.get("explained") != (seen := hash(image.tobytes())):  # another digit: explain its answer
        st.session_state["explained"], st.session_state["target"] = seen, answer
    target = st.selectbox("Explain the answer…", list(range(10)), key="target",
                          format_func=lambda c: f"{c} (the answer)" if c == answer else f"why not {c}?")
    heat = inside.occlusion(classifier.predict_proba, image, target)
    overlay = pixels.saliency_overlay(image, heat)
    st.image(pixels.pixelated(overlay, 8), width=224,
             caption=(f"Orange: the ink that made the network say {target}: erase it and it is less sure."
                      if target == answer else
                      f"Orange: the ink that rules out {target}: erase it and {target} becomes more likely."))

st.subheader("Feature maps: what each convolution responds to")
st.caption("Each small square is one filter's response, brightest where it found its pattern. "
           "Early layers find edges and strokes; later ones, parts of digits at lower resolution.")
for layer, maps in inside.feature_maps(network, image):
    h, w, c = maps.shape
    grid = pixels.image_grid(pixels.normalise_each(np.moveaxis(maps, -1, 0)), columns=min(c, 16))
    st.image(pixels.fit_to(grid, 900), caption=f"{layer}: {c} maps of {h} × {w}")

left, right = st.columns([1, 2])
with left:
    filters = inside.first_filters(network)
    st.subheader("First-layer filters")
    st.image(pixels.fit_to(pixels.image_grid(pixels.normalise_each(filters), columns=8, gap=1), 300),
             caption=f"{len(filters)} learnt {filters.shape[1]} × {filters.shape[2]} patterns; bright = positive weight")
with right:
    try:
        layer, acts = inside.dense_activations(network, image)
        st.plotly_chart(charts.activation_bars(acts, layer), key="dense")
        st.caption("The last hidden layer: the summary the final layer turns into ten probabilities.")
    except ValueError:
        st.info("This model has no hidden dense layer: its convolutions feed the answer directly.")

st.subheader("Where does your drawing land?")
try:
    sample_map = ui.sample_map(name)
except artifacts.ArtifactError:
    st.info(f"Model **{name}** has no map yet: make one with `python -m digits.embedding --model {name}` "
            "(a minute or two), then reload this page.")
    st.stop()
if not embedding.matches_model(sample_map, artifacts.model_dir(name)):
    st.warning(f"This map was made for an earlier training of **{name}**: "
               f"rebuild it with `python -m digits.embedding --model {name}`.")
xy, near = embedding.place(sample_map, embedding.features(network, image[None])[0])
images, labels, said = sample_map["images"], sample_map["labels"], sample_map["predictions"]
st.caption(f"Each dot is one of {len(images):,} of the {int(sample_map['test_size']):,} test digits, placed (by t-SNE) "
           f"so that digits the network's last hidden layer (`{sample_map['layer']}`) finds alike sit together. "
           f"Crosses are its mistakes. t-SNE cannot place a new digit, so your drawing, the star, sits at the "
           f"distance-weighted mean of its {len(near)} nearest digits' places (circled). Click a dot to see it.")
left, right = st.columns([3, 1])
with left:
    event = st.plotly_chart(map_chart.map_figure(sample_map, xy, near), key="map", on_select="rerun",
                            selection_mode="points")
with right:
    st.markdown("**To the network it looks like these**")
    st.image([pixels.pixelated(images[i], 2) for i in near], caption=[f"a {labels[i]}" for i in near], width=56)
    picked = map_chart.clicked_point(event["selection"])
    if picked is not None:
        st.image(pixels.pixelated(images[picked], 4), width=112,
                 caption=f"Test digit #{sample_map['index'][picked]}: a {labels[picked]}, read as {said[picked]}")
