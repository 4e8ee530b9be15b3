"""The Mistakes page's "How sure, how right" section (AppTest), from the shipped calibration.json files."""

import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from digits import artifacts, calibration, config
from tests.conftest import ROOT, TIMEOUT


@pytest.fixture(autouse=True)
def fresh_caches():
    import streamlit as st

    st.cache_data.clear()
    yield


def mistakes_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "mistakes.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def reliability_spec(at: AppTest) -> dict:
    return json.loads(next(c for c in at.get("plotly_chart") if "perfectly calibrated" in c.proto.spec).proto.spec)


def test_the_section_shows_the_diagram_and_each_familys_ece_from_calibration_json():
    saved = calibration.load(artifacts.model_dir(config.DEFAULT_MODEL))["families"]
    at = mistakes_page()
    spec = reliability_spec(at)
    assert [t["name"] for t in spec["data"]] == list(saved) + ["perfectly calibrated"]
    assert spec["layout"]["title"]["text"].startswith("ECE: ")
    table = at.dataframe[-1].value  # the ECE table closes the section
    assert list(table["digits"]) == list(saved)
    assert list(table["ECE"]) == [record["ece"] for record in saved.values()]


def test_the_diagram_shows_only_the_chosen_families():
    at = mistakes_page()
    at.multiselect(key="calibration_families").set_value(["pen"]).run()
    assert [t["name"] for t in reliability_spec(at)["data"]] == ["pen", "perfectly calibrated"]


def test_a_model_without_calibration_says_how_to_make_it(tmp_path, monkeypatch):
    shutil.copytree(artifacts.model_dir(config.DEFAULT_MODEL), tmp_path / config.DEFAULT_MODEL,
                    ignore=shutil.ignore_patterns(calibration.CALIBRATION_FILE))
    monkeypatch.setattr(config, "MODEL_DIR", tmp_path)
    at = mistakes_page()
    assert any(calibration.MAKE_COMMAND in info.value for info in at.info)
