"""Draw a digit, or a number of several; the network reads it as you draw."""

import streamlit as st

from digits import canvas, charts, config, draw_state, pixels, ui
from digits.inference import maybe_touching, pair_groups, read_canvas, read_naively

st.title("Draw a digit or a number")
name = ui.model_picker()
with st.sidebar:  # an empty element: at the sidebar's foot it moves nothing on the page
    canvas.keep_toolbar_off_the_drawing()


@st.fragment
def draw_and_read() -> None:
    """The canvas and everything that follows from it: a stroke reruns this, and nothing else on the page."""
    wide = st.session_state.get("wide", False)
    # The wide canvas takes the page's width, and the answer goes below it.
    left, right = (st.container(), st.container()) if wide else st.columns([1, 1], gap="large")
    with left:
        st.space("medium")  # a strip of its own for the canvas's toolbar (upload, undo, redo, pen, bin)
        surface = st.container()
        width_control, clear_control = st.columns([3, 1], vertical_alignment="bottom")
        brush = width_control.slider("Brush width", 6, 48, config.DEFAULT_BRUSH, key="brush",
                                     help="Any width works: the drawing is rescaled to MNIST's 20-pixel box.")
        st.toggle("Wide canvas, for numbers", key="wide",
                  help="A canvas twice as wide, to write a number of several digits. Switching clears it.")
        with surface:  # each width its own component: switching mounts an empty canvas of the other size
            width = config.WIDE_CANVAS_WIDTH if wide else config.CANVAS_SIZE
            report = canvas.draw_canvas(brush, draw_state.canvas_version(), dark=st.context.theme.type == "dark",
                                        width=width, key="canvas-wide" if wide else "canvas")
        if clear_control.button("Clear", key="clear", icon=":material/ink_eraser:", width="stretch"):
            draw_state.clear(report.json_data)
            st.rerun()

    fresh = draw_state.is_fresh(report.json_data) and report.rgba is not None
    classifier = ui.load_or_explain(ui.classifier, name) if fresh else None  # loaded at the first stroke
    reading = read_canvas(classifier, report.rgba) if fresh else None
    with right:
        if report.refused:
            st.error(f"This drawing could not be read: {report.refused}. Clear the canvas and draw again.",
                     icon=":material/block:")
        if reading is None:
            draw_state.forget()
            st.info("Write a number, its digits side by side, as large as you like. The network reads each digit "
                    "as you draw." if wide else "Draw a digit from 0 to 9 in the box, as large as you like. "
                    "The network's answer appears here as you draw.", icon=":material/draw:")
            return
        steps, probs, digit, runner_up = reading.steps, reading.probs, reading.digit, reading.runner_up
        draw_state.show([part.steps.centred for part in reading.digits],  # each digit, for the Inside page
                        [part.not_a_digit for part in reading.digits])
        # Large enough to read from the back of a classroom.
        st.html("<style>.st-key-answer [data-testid='stMetricValue'] {font-size: 5rem; line-height: 1.1;}</style>")
        with st.container(key="answer"):
            several = len(reading.digits) > 1
            st.metric("Prediction", reading.number or "?",
                      help="each digit read on its own, below" if several else f"{reading.confidence:.1%} sure")
        if reading.not_a_digit and several:
            doubted = [k + 1 for k, part in enumerate(reading.digits) if part.not_a_digit]
            which = " and ".join(f"the {ui.ordinal(k)}" for k in doubted)
            st.error(f"**That's not a number.** A second network, trained to tell digits from letters, shapes and "
                     f"scribbles, says {which} of its {len(reading.digits)} parts "
                     f"{'is no digit' if len(doubted) == 1 else 'are no digits'} (below)."
                     + touching_hint(reading), icon=":material/block:")
        elif reading.not_a_digit:
            st.error("**That's not a digit.** A second network, trained to tell digits from letters, shapes and "
                     "scribbles, says so. The reader's softmax must still pick one of ten, so below it says "
                     f"**{digit}** ({reading.confidence:.0%})." + touching_hint(reading),
                     icon=":material/block:")
        elif len(reading.digits) > 1:
            how = ("whole, by a second network that reads a line at once" if reading.digits[0].lined
                   else "one by one, two that touch as a pair" if any(d.paired for d in reading.digits)
                   else "one by one")
            st.success(f"**{reading.number}**: {len(reading.digits)} digits, read {how} (below).")
        elif reading.digits[0].lined:
            st.success(f"**{digit}**, {reading.confidence:.0%} sure, read by a second network that reads "
                       f"the whole line: the first, reading the 28 × 28 input below, was less sure.")
        elif runner_up is None:
            st.success(f"**{digit}**, {reading.confidence:.0%} sure.")
        else:
            st.warning(f"Not sure: **{digit} or {runner_up}?** ({probs[digit]:.0%} vs {probs[runner_up]:.0%})")
        if not several:  # a number's digits each show their own, below
            st.html(charts.probability_bars_html(probs))
            offer_labels(reading, report, name)
        else:
            offer_number_labels(reading, name)

    st.subheader("What the network sees")
    if len(reading.digits) > 1:  # each digit's own input and probabilities; a touching pair's one frame
        st.caption("Each digit as the network sees it, 28 × 28 pixels, and under it how sure the network is "
                   "of each digit from 0 to 9.")
        groups = pair_groups(reading.digits)
        for col, group in zip(st.columns([len(g) for g in groups]), groups):
            if group[0].lined:
                col.image(pixels.pixelated(group[0].steps.fitted, 4), width=640,
                          caption=f"Read as one line, {reading.number}: the line reader's input, 32 × 160 pixels")
                for sub, part in zip(col.columns(len(group)), group):
                    sub.html(charts.probability_bars_html(part.probs, height=80, title=""))
                continue
            if len(group) == 2:
                col.image(pixels.pixelated(group[0].steps.fitted, 4), width=224,
                          caption=f"Read together as {group[0].digit}{group[1].digit}: the two touch")
                for sub, part in zip(col.columns(2), group):
                    sub.html(charts.probability_bars_html(part.probs, height=80, title=""))
                continue
            part = group[0]
            caption = f"Not a digit? (read as {part.digit})" if part.not_a_digit else f"Read as {part.digit}"
            col.image(pixels.pixelated(part.steps.centred, 4), caption=caption, width=112)
            col.html(charts.probability_bars_html(part.probs, height=80, title=""))
    else:
        st.image(pixels.pixelated(steps.centred, 8), caption="28 × 28 pixels, enlarged 8×", width=224)
    steps_box = st.expander("How a drawing becomes a 28 × 28 input", key="steps", on_change="rerun")
    if steps_box.open:  # its images and the second reading cost nothing until someone opens it
        with steps_box:
            teach_the_steps(classifier, report.rgba, reading)


def touching_hint(reading) -> str:
    """A line for a flagged drawing whose doubted part is wide: it may be a number whose digits touch."""
    if not any(maybe_touching(d) for d in reading.digits):
        return ""
    return ("\n\nWrote a number? Digits that touch can read as no digit at all: leave a little room "
            "between them.")


def offer_labels(reading, report, name) -> None:
    """Labelling: kept only when the person clicks, to teach the network later (My drawings page)."""
    steps, probs, flagged = reading.steps, reading.probs, reading.not_a_digit
    key = draw_state.offer(steps.centred, probs, report.rgba, report.png, name, flagged)
    answer = config.NOT_A_DIGIT if flagged else reading.digit  # what "Right" agrees with
    st.button("Right, it's not a digit" if flagged else f"Right, it's a {answer}", key=f"right-{key}",
              icon=":material/check:", on_click=draw_state.save_label, args=(answer,))
    others = [label for label in config.LABELS if label != answer]  # the answer shown has its own button
    st.pills("No, it's a…", others, format_func=config.label_name, key=f"label-{key}", wrap=True,
             on_change=draw_state.save_picked, args=(f"label-{key}",))  # wrapped: no option scrolls out of sight
    if error := draw_state.pop_save_error():
        st.error(f"Could not save the drawing: {error} "
                 "Your drawing is still here: click again once that is fixed.", icon=":material/error:")
    elif (label := draw_state.saved_label(key)) is not None:
        saved = "not a digit" if label == config.NOT_A_DIGIT else f"a **{label}**"
        st.caption(f"Saved as {saved}: thank you. See it on the My drawings page.")


def offer_number_labels(reading, name) -> None:
    """Labelling a number: each of its digits kept on its own, when the person says what they wrote."""
    if all(d.paired for d in reading.digits):
        st.caption("Two digits read together as a pair cannot be labelled: the store keeps single digits. "
                   "Write them with a little room between them to label them.")
        return
    key = draw_state.offer_number(reading.digits, name)
    if not reading.not_a_digit:
        st.button(f"Right, it's {reading.number}", key=f"right-{key}", icon=":material/check:",
                  on_click=draw_state.save_number, args=(reading.number,))
    st.text_input("It's the number…" if reading.not_a_digit else "No, it's…", key=f"number-{key}",
                  placeholder="the digits you wrote, then Enter", on_change=draw_state.save_typed,
                  args=(f"number-{key}",), width=320)
    if error := draw_state.pop_number_error():
        st.warning(error, icon=":material/edit:")
    elif error := draw_state.pop_save_error():
        st.error(f"Could not save the drawing: {error} "
                 "Your drawing is still here: try again once that is fixed.", icon=":material/error:")
    elif (label := draw_state.saved_label(key)) is not None:
        paired = sum(d.paired for d in reading.digits)
        kept = len(reading.digits) - paired
        left_out = (f" The {paired} touching digits read together are not kept: the pair reader saw them as one "
                    "frame, not as two digits prepared one by one." if paired else "")
        st.caption(f"Saved as **{label}**, {kept} digit{'s' * (kept != 1)} each on its own: thank you. "
                   f"See them on the My drawings page.{left_out}")


def steps_row(shown: list, size: int) -> None:
    """Images of preparation steps side by side, ``size`` px each: ``shown`` holds (image, caption) pairs."""
    for col, (image, caption) in zip(st.columns(4), shown):
        col.image(pixels.fit_to(image, size, square=True), caption=caption, width=size)


def teach_the_steps(classifier, rgba, reading) -> None:
    """Each preparation step (a number's: the split, then each digit's), and what the same network reads from the
    canvas squeezed whole."""
    steps = reading.steps
    if len(reading.digits) == 1:
        shown = [
            (steps.ink, "1. Your ink (the canvas's alpha channel)"),
            (steps.crop, "2. Cropped to the ink"),
            (steps.fitted, "3. Longest side fitted to 20 px, smoothed"),
            (steps.centred, "4. Centre of mass placed at the centre of 28 × 28"),
        ]
        steps_row(shown, 200)
    else:  # a number: the split first, then each digit prepared on its own (a touching pair in one frame)
        groups = pair_groups(reading.digits)
        st.image(pixels.fit_to(steps.ink, 400), width=400,
                 caption=f"1. Your ink, split into {len(reading.digits)} digits where the ink parts, "
                         "or cut where little ink runs between them")
        first = 1  # the number of the group's first digit, counted from the left
        for group in groups:
            part = group[0]
            if part.lined:
                shown = [(part.steps.fitted, "2. The whole line, 28 px tall in 32 × 160, for the line reader")]
                shown += [(d.steps.centred, f"Digit {first + k}, a {d.digit} to the line reader")
                          for k, d in enumerate(group)]
            elif len(group) == 2:
                shown = [(part.steps.crop, f"2. Digits {first}–{first + 1}, touching, cropped"),
                         (part.steps.fitted, "3. Fitted together in 28 × 56, for the pair reader")]
            else:
                shown = [(part.steps.crop, f"2. Digit {first}, cropped"),
                         (part.steps.fitted, "3. Fitted to 20 px"),
                         (part.steps.centred, "4. Centred in 28 × 28")]
            for k in range(0, len(shown), 4):  # a line of four digits shows its frame and four digits: two rows
                steps_row(shown[k : k + 4], 160)
            first += len(group)
    st.caption("MNIST's own digits were made this way, so a drawing prepared like this looks "
               "like the images the network learnt from, wherever and however large you draw.")
    squeezed, naive_probs = read_naively(classifier, rgba)
    naive_digit = int(naive_probs.argmax())
    picture, words = st.columns([1, 3], vertical_alignment="center")
    picture.image(pixels.fit_to(squeezed, 200, square=True), caption="Steps 2–4 skipped", width=200)
    if len(reading.digits) == 1:
        ours = f"**{reading.digit}** from the prepared one"
    else:
        ours = f"**{reading.number}** read digit by digit" if reading.number else "parts read one by one"
    words.markdown(f"Many drawing apps skip steps 2 to 4 and squeeze the whole canvas to 28 × 28. From "
                   f"that image the same network reads **{naive_digit}** ({naive_probs[naive_digit]:.0%} sure), "
                   f"against {ours}. Draw small, or in a corner, to see the difference.")


draw_and_read()
