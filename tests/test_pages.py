"""Every page renders under streamlit.testing (AppTest), with the canvas stubbed."""


import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, TIMEOUT, fake_canvas, run_draw_page, stroke_canvas

@pytest.fixture(autouse=True)
def fresh_caches():
    """Cached reports are keyed by model name: a test that moves MODEL_DIR must not see another's."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def test_app_starts_on_the_draw_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert at.title[0].value == "Draw a digit or a number"


def test_blank_canvas_shows_the_prompt_and_no_prediction():
    at = run_draw_page(np.zeros((320, 320, 4), np.uint8))
    assert not at.exception
    assert "Draw a digit from 0 to 9" in at.info[0].value
    assert len(at.metric) == 0


def test_canvas_before_first_stroke_shows_the_prompt():
    at = run_draw_page(None)
    assert not at.exception and len(at.metric) == 0 and at.info


def test_a_drawn_one_shows_the_prediction_and_the_chart():
    at = run_draw_page(stroke_canvas([(40, 160), (280, 160)], width=22))
    assert not at.exception
    prediction = at.metric[0]
    assert prediction.label == "Prediction" and prediction.value == "1"
    assert any("How sure the network is of each digit" in h.proto.body for h in at.get("html"))  # the bars
    assert at.session_state["drawing"].shape == (1, 28, 28)  # one digit's input, for the Inside page


def test_the_closed_steps_cost_nothing():
    at = run_draw_page(stroke_canvas([(40, 160), (280, 160)], width=22))
    assert at.metric[0].value == "1" and len(at.expander[0].get("image")) == 0


def test_the_steps_show_what_a_plain_resize_would_read():
    from digits.inference import load_classifier, read_naively

    small = stroke_canvas([(8, 296), (56, 296)], width=6)  # a small 1 in the top-right corner
    at = run_draw_page(small)
    at.session_state["steps"] = True  # the person opens the expander
    at = run_draw_page(small, at)
    assert not at.exception and at.metric[0].value == "1"
    probs = read_naively(load_classifier(), small)[1]
    expander = at.expander[0]
    assert expander.get("image")[-1].proto.imgs[0].caption == "Steps 2–4 skipped"
    said = expander.markdown[-1].value
    assert f"the same network reads **{probs.argmax()}** ({probs.max():.0%} sure), against **1**" in said


def test_clear_button_empties_the_canvas_and_the_drawing():
    drawn = stroke_canvas([(40, 160), (280, 160)], width=22)
    at = run_draw_page(drawn)
    version = at.session_state["canvas_version"]
    # Until the next stroke the component still reports the old drawing: it must be ignored.
    with fake_canvas(drawn):
        at.button(key="clear").click().run()
    assert at.session_state["canvas_version"] == version + 1
    assert "drawing" not in at.session_state
    assert not at.exception and len(at.metric) == 0 and at.info
    with fake_canvas(stroke_canvas([(60, 70), (60, 250), (270, 130)], width=22)):  # the next drawing
        at.run()
    assert at.metric[0].value == "7"


def test_the_same_drawing_reported_again_after_clear_is_read():
    drawn = stroke_canvas([(40, 160), (280, 160)], width=22)
    at = run_draw_page(drawn)
    with fake_canvas(drawn):
        at.button(key="clear").click().run()  # the canvas still reports the old drawing: stale
    assert len(at.metric) == 0
    run_draw_page(np.zeros((320, 320, 4), np.uint8), at)  # the canvas's own report of its empty drawing
    assert len(at.metric) == 0 and at.info
    run_draw_page(drawn, at)  # the very same drawing again, the same JSON
    assert not at.exception and at.metric[0].value == "1"


from digits import artifacts, config  # noqa: E402

SHIPPED = artifacts.list_models()
DASHBOARDS = ["training", "mistakes", "dataset"]


def run_page(page: str, model: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
    if model:
        at.session_state["model_choice"] = model
    at.run()
    return at


@pytest.mark.parametrize("model", SHIPPED)
@pytest.mark.parametrize("page", DASHBOARDS)
def test_dashboards_render_for_every_shipped_model(page, model):
    at = run_page(page, model)
    assert not at.exception, at.exception
    assert not at.error
    assert at.sidebar.selectbox(key="model_picker").value == model


def test_training_page_shows_cards_curves_and_comparison():
    at = run_page("training")
    labels = [m.label for m in at.metric]
    assert {"Test accuracy", "Macro F1", "Parameters", "Training time", "Epochs"} <= set(labels)
    assert len(at.get("plotly_chart")) == 3  # loss, accuracy, learning rate and seconds
    at.segmented_control(key="view").set_value("All models compared").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2 and len(at.dataframe) == 1  # table and two overlays
    assert len(at.dataframe[0].value) == len(SHIPPED)


def test_switching_the_model_changes_the_numbers():
    at = run_page("training")
    before = at.metric[0].value
    other = next(m for m in SHIPPED if m != config.DEFAULT_MODEL)
    at.sidebar.selectbox(key="model_picker").set_value(other).run()
    assert not at.exception
    assert at.metric[0].value != before
    assert at.session_state["model_choice"] == other


def test_mistakes_page_shows_matrix_pairs_per_class_and_gallery():
    at = run_page("mistakes")
    assert len(at.get("plotly_chart")) == 2  # the confusion matrix, the reliability diagram
    assert len(at.dataframe) == 3  # most-confused pairs, per-class scores, calibration per family
    report = artifacts.load_report(artifacts.model_dir(config.DEFAULT_MODEL))
    mistakes = report["test_size"] - round(report["test"]["accuracy"] * report["test_size"])
    assert any(f"{mistakes} digits, most confident mistakes first" in c.value for c in at.caption)
    at.multiselect(key="gallery_true").set_value([9]).run()
    assert not at.exception


def test_dataset_page_shows_samples_counts_and_means():
    at = run_page("dataset")
    assert len(at.get("plotly_chart")) == 1 and len(at.get("image")) == 2


def test_pages_explain_a_missing_model(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path)
    for page in ["draw"] + DASHBOARDS:
        at = run_page(page)
        assert not at.exception
        assert "python train.py" in at.error[0].value


def test_a_broken_report_is_explained_and_other_pages_work(tmp_path, monkeypatch):
    import shutil

    for name in (config.DEFAULT_MODEL, "seed"):
        shutil.copytree(artifacts.model_dir(name), tmp_path / name)
    (tmp_path / "seed" / config.REPORT_FILE).write_text("{ truncated")
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path)
    at = run_page("training", "seed")
    assert not at.exception
    assert "python train.py --arch seed" in at.error[0].value
    at = run_page("training", config.DEFAULT_MODEL)
    assert not at.exception and not at.error


def test_inside_page_with_a_sample_digit():
    at = run_page("inside")
    assert not at.exception, at.exception
    assert "pick a sample digit" in at.slider(key="sample").label
    assert len(at.get("image")) >= 4  # input, saliency, feature maps, filters


def test_inside_page_explains_the_drawing_and_why_not_another_class():
    at = AppTest.from_file(str(ROOT / "pages" / "inside.py"), default_timeout=TIMEOUT)
    from digits.preprocess import canvas_to_mnist

    at.session_state["drawing"] = canvas_to_mnist(stroke_canvas([(40, 160), (280, 160)], width=22))
    at.run()
    assert not at.exception
    assert "read as 1" in at.get("image")[0].proto.imgs[0].caption
    at.selectbox(key="target").set_value(7).run()
    assert not at.exception


def test_inside_page_looks_inside_each_digit_of_a_number_one_at_a_time():
    from digits.preprocess import canvas_to_mnist

    at = AppTest.from_file(str(ROOT / "pages" / "inside.py"), default_timeout=TIMEOUT)
    one = canvas_to_mnist(stroke_canvas([(40, 160), (280, 160)], width=22))
    seven = canvas_to_mnist(stroke_canvas([(60, 60), (60, 260), (280, 140)], width=22))
    at.session_state["drawing"] = np.stack([one, seven])  # as the draw page keeps "17"
    at.run()
    assert not at.exception
    assert at.radio(key="which").label == "Your number has 2 digits: look inside…"
    assert "read as 1" in at.get("image")[0].proto.imgs[0].caption  # the 1st digit, not the two squeezed together
    at.selectbox(key="target").set_value(4).run()  # "why not 4?" of the 1
    at.radio(key="which").set_value(1).run()
    assert not at.exception
    assert "read as 7" in at.get("image")[0].proto.imgs[0].caption
    assert at.selectbox(key="target").value == 7  # another digit: its own answer explained, not the 1's question
    assert "made the network say 7" in at.get("image")[1].proto.imgs[0].caption
    assert not any("not a digit" in c.value for c in at.caption)


def test_inside_page_says_when_the_drawing_was_flagged_as_not_a_digit():
    from digits.preprocess import canvas_to_mnist
    from support.nondigits import shape

    at = AppTest.from_file(str(ROOT / "pages" / "inside.py"), default_timeout=TIMEOUT)
    at.session_state["drawing"] = canvas_to_mnist(shape("star", 0))[None]
    at.session_state["drawing_doubted"] = np.array([True])  # as the draw page keeps a flagged star
    at.run()
    assert not at.exception
    assert any(c.value.startswith("Flagged on the Draw page as not a digit") for c in at.caption)


def test_a_truncated_model_file_is_explained_on_the_draw_page(tmp_path, monkeypatch):
    import shutil

    shutil.copytree(artifacts.model_dir(config.DEFAULT_MODEL), tmp_path / config.DEFAULT_MODEL)
    model_file = tmp_path / config.DEFAULT_MODEL / config.MODEL_FILE
    model_file.write_bytes(model_file.read_bytes()[:1000])  # cut short, as by a full disk
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path)
    at = run_draw_page(stroke_canvas([(40, 160), (280, 160)], width=22))
    assert not at.exception
    assert "could not be loaded" in at.error[0].value and "python train.py --arch strong" in at.error[0].value


# --- Labelled drawings: the draw page's buttons, My drawings, Class ---------------------------------

@pytest.fixture
def drawings_dir(tmp_path, monkeypatch):
    """An empty data/ folder of its own, so no test sees another's drawings."""
    monkeypatch.setattr(config, "DATA_DIR", tmp_path)
    return tmp_path


def stored(drawings_dir):
    from digits import store

    return store.load(store.connect(drawings_dir / "drawings.sqlite"))


ONE = stroke_canvas([(40, 160), (280, 160)], width=22)


def test_nothing_is_stored_without_a_click(drawings_dir):
    at = run_draw_page(ONE)
    assert not at.exception and at.metric[0].value == "1"
    assert len(stored(drawings_dir)) == 0


def test_right_stores_the_drawing_with_the_answer_as_label(drawings_dir):
    at = run_draw_page(ONE)
    with fake_canvas(ONE):
        next(b for b in at.button if b.key.startswith("right-")).click().run()
    rows = stored(drawings_dir)
    assert list(rows.labels) == [1] and rows.models == ["strong"]
    from digits import store

    np.testing.assert_array_equal(store.canvases(store.connect(drawings_dir / "drawings.sqlite"), rows.ids)[0], ONE)
    assert any("Saved as a **1**" in c.value for c in at.caption)


def test_picking_another_digit_relabels_the_same_drawing(drawings_dir):
    at = run_draw_page(ONE)
    with fake_canvas(ONE):
        at.get("button_group")[0].set_value(7).run()  # wrong first...
        at.get("button_group")[0].set_value(4).run()  # ...then another digit...
    rows = stored(drawings_dir)
    assert list(rows.labels) == [4]  # one drawing, relabelled
    with fake_canvas(ONE):
        next(b for b in at.button if b.key.startswith("right-")).click().run()  # ...then right
    rows = stored(drawings_dir)
    assert list(rows.labels) == [1]  # one drawing, relabelled
