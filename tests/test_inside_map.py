"""The Inside page's "Where does your drawing land?" section, under streamlit.testing (AppTest)."""

from __future__ import annotations

import shutil

import pytest
from streamlit.testing.v1 import AppTest

from digits import artifacts, config, embedding
from tests.conftest import ROOT, TIMEOUT, stroke_canvas


@pytest.fixture(autouse=True)
def fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield


def run_inside(drawing=None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "inside.py"), default_timeout=TIMEOUT)
    if drawing is not None:
        at.session_state["drawing"] = drawing
    at.run()
    return at


def neighbour_captions(at: AppTest) -> list[str]:
    """The captions of the last row of images: the drawing's nearest sample digits."""
    return [img.caption for img in at.get("image")[-1].proto.imgs]


def test_the_map_shows_the_sample_digit_and_its_neighbours():
    at = run_inside()
    assert not at.exception, at.exception
    assert at.subheader[-1].value == "Where does your drawing land?"
    assert any("2,500 of the 10,000 test digits" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 2  # the dense bars and the map
    assert len(neighbour_captions(at)) == embedding.NEIGHBOURS


def test_a_drawn_one_lands_among_ones():
    from digits.preprocess import canvas_to_mnist

    at = run_inside(canvas_to_mnist(stroke_canvas([(40, 160), (280, 160)], width=22)))
    assert not at.exception
    captions = neighbour_captions(at)
    assert sum(c == "a 1" for c in captions) >= 6, captions


def test_clicking_a_point_shows_that_digit():
    at = run_inside()
    map_ = embedding.load_map(artifacts.model_dir(config.DEFAULT_MODEL))
    # What the browser sends when a point of the map is clicked: its customdata is its position.
    at.session_state["map"] = {"selection": {"points": [{"customdata": 7, "x": 0, "y": 0}], "point_indices": [7],
                                             "box": [], "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    shown = at.get("image")[-1].proto.imgs[0].caption
    label, said = map_["labels"][7], map_["predictions"][7]
    assert shown == f"Test digit #{map_['index'][7]}: a {label}, read as {said}"


def test_a_model_without_a_map_says_how_to_make_one(tmp_path, monkeypatch):
    shutil.copytree(artifacts.model_dir(config.DEFAULT_MODEL), tmp_path / config.DEFAULT_MODEL,
                    ignore=shutil.ignore_patterns(embedding.MAP_FILE))
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path)
    at = run_inside()
    assert not at.exception
    assert f"python -m digits.embedding --model {config.DEFAULT_MODEL}" in at.info[-1].value
