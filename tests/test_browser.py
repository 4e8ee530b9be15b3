"""End to end in a real browser: Debian chromium, driven by Playwright, draws on the canvas."""

from __future__ import annotations

import os

import pytest

from support import browser
from support.browser import wait_for

pytestmark = [
    pytest.mark.browser,
    # On a developer machine without chromium the test is skipped; in CI it must run.
    pytest.mark.skipif(
        not browser.chromium_available() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium); .ci/run installs it",
    ),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app server (with an empty data folder of its own) and one browser for the whole module."""
    data_dir = tmp_path_factory.mktemp("data")
    with browser.streamlit_server(env={"DIGITS_DATA_DIR": str(data_dir)}) as server, browser.browser() as chromium:
        url = server.url
        yield url, chromium


@pytest.fixture(scope="module")
def page(app):
    url, chromium = app
    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    browser.canvas_box(page)  # waits for the canvas to be on screen
    yield page
    page.close()


def prompt_visible(page) -> bool:
    return page.get_by_text("Draw a digit from 0 to 9").count() > 0


def test_blank_canvas_shows_the_prompt(page):
    assert wait_for(lambda: prompt_visible(page))
    assert browser.prediction(page) is None


@pytest.mark.parametrize("digit", [1, 7, 0, 4])
def test_drawn_digit_is_read_and_clear_brings_back_the_prompt(page, digit):
    browser.draw(page, browser.DIGIT_STROKES[digit])
    shown = wait_for(lambda: browser.prediction(page) == str(digit) and str(digit))
    assert shown == str(digit), f"drew {digit}, the page shows {browser.prediction(page)!r}"
    browser.clear(page)
    assert wait_for(lambda: prompt_visible(page) and browser.prediction(page) is None)


def test_the_same_digit_drawn_again_after_clear_is_read(page):
    """The mouse retraces the exact path, so the canvas reports the very drawing it reported before Clear."""
    for _ in range(2):
        browser.draw(page, browser.DIGIT_STROKES[7])
        assert wait_for(lambda: browser.prediction(page) == "7"), f"the page shows {browser.prediction(page)!r}"
        browser.clear(page)
        assert wait_for(lambda: prompt_visible(page))


def squeezed(strokes, left: float, right: float):
    """``strokes`` (fractions of the canvas) moved into the columns from ``left`` to ``right``."""
    return [[(left + x * (right - left), y) for x, y in stroke] for stroke in strokes]


def test_a_number_drawn_side_by_side_is_read_left_to_right(page):
    browser.draw(page, squeezed(browser.DIGIT_STROKES[1], 0.0, 0.45) + squeezed(browser.DIGIT_STROKES[7], 0.45, 1.0))
    shown = wait_for(lambda: browser.prediction(page) == "17" and "17")
    assert shown == "17", f"drew 17, the page shows {browser.prediction(page)!r}"
    browser.clear(page)
    assert wait_for(lambda: prompt_visible(page))


def canvas_width(page) -> float:
    """The drawing surface's on-screen width (0 while it is being swapped for another)."""
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    return box["width"] if box else 0.0


def the_one(locator):
    """``locator`` once it finds a single element. While a rerun is under way Streamlit still shows the
    elements of the run before, faded, beside the new ones: on a loaded machine, two of the same field."""
    assert wait_for(lambda: locator.count() == 1), f"{locator.count()} elements, not one"
    return locator


def test_the_wide_canvas_reads_a_number_across_it_and_switching_back_gives_the_square(page):
    page.get_by_text("Wide canvas, for numbers").click()
    assert wait_for(lambda: canvas_width(page) > 600), "the canvas did not widen"
    assert wait_for(lambda: page.get_by_text("Write a number").count() > 0)
    digits = [squeezed(browser.DIGIT_STROKES[d], k / 3 + 0.05, (k + 1) / 3 - 0.05) for k, d in enumerate((1, 7, 4))]
    browser.draw(page, [stroke for digit in digits for stroke in digit])
    shown = wait_for(lambda: browser.prediction(page) == "174" and "174")
    assert shown == "174", f"drew 174 on the wide canvas, the page shows {browser.prediction(page)!r}"
    assert page.get_by_text("could not be read").count() == 0
    # Labelled as typed: a count of digits other than the split's is refused, the right one saved digit by digit.
    typed = the_one(page.get_by_label("No, it's…"))
    typed.fill("17")
    typed.press("Enter")
    assert wait_for(lambda: page.get_by_text("and you typed 2").count() > 0)
    typed = the_one(page.get_by_label("No, it's…"))
    typed.fill("174")
    typed.press("Enter")
    assert wait_for(lambda: page.get_by_text("Saved as 174, 3 digits each on its own").count() > 0)
    page.get_by_text("Wide canvas, for numbers").click()
    assert wait_for(lambda: canvas_width(page) < 400 and prompt_visible(page)), "the canvas did not narrow"
    assert browser.prediction(page) is None  # switching mounted an empty canvas


def test_a_hash_sign_is_not_a_digit(page):
    hash_sign = [[(0.2, 0.38), (0.8, 0.34)], [(0.2, 0.66), (0.8, 0.62)], [(0.4, 0.15), (0.36, 0.85)],
                 [(0.66, 0.15), (0.62, 0.85)]]
    browser.draw(page, hash_sign)
    assert wait_for(lambda: page.get_by_text("That's not a digit").count() > 0), \
        f"drew #, the page shows {browser.prediction(page)!r} and no not-a-digit message"
    assert browser.prediction(page) == "?"
    browser.clear(page)
    assert wait_for(lambda: prompt_visible(page))


def test_a_finger_draws_on_a_phone(app):
    """Touch events on a phone-sized page draw, and the page reads them; the drawing surface
    takes the touches (CSS touch-action: none), so a finger draws instead of scrolling the page."""
    url, chromium = app
    context = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(url)
    surface = page.locator("canvas.upper-canvas").first
    browser.canvas_box(page)
    assert surface.evaluate("canvas => getComputedStyle(canvas).touchAction") == "none"
    browser.draw(page, browser.DIGIT_STROKES[7], touch=True)
    assert wait_for(lambda: browser.prediction(page) == "7"), f"the page shows {browser.prediction(page)!r}"
    context.close()


@pytest.mark.parametrize("touch", [False, True], ids=["mouse", "finger"])
def test_a_stroke_started_in_the_top_right_corner_draws(app, touch):
    """The canvas component's hidden toolbar sat over the canvas's top-right corner until the
    pointer hovered the canvas (a finger never does) and swallowed strokes started there: a 7
    or a 5 begun at the top right lost its first stroke. On a fresh page, a 1 drawn from the
    corner must be on the canvas and read."""
    url, chromium = app
    context = chromium.new_context(viewport={"width": 1400, "height": 1100}, has_touch=touch)
    page = context.new_page()
    page.goto(url)
    browser.canvas_box(page)
    browser.draw(page, [[(0.8, 0.06), (0.72, 0.9)]], touch=touch)
    assert wait_for(lambda: browser.prediction(page) == "1"), f"the page shows {browser.prediction(page)!r}"
    assert (browser.canvas_ink(page) > 127).mean() > 0.01
    context.close()


def test_clicking_a_confusion_cell_shows_its_digits(app):
    from digits import artifacts, config, evaluate

    url, chromium = app
    confusion = artifacts.load_report(artifacts.model_dir(config.DEFAULT_MODEL))["test"]["confusion"]
    true, predicted, count = evaluate.most_confused(confusion, k=1)[0]
    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{url}/mistakes")
    page.wait_for_selector(".js-plotly-plot .scatterlayer .trace", timeout=30_000)
    # The clickable markers are the first scatter trace, one per off-diagonal cell, row by row.
    nth = true * 9 + (predicted if predicted < true else predicted - 1)
    marker = page.locator(".js-plotly-plot .scatterlayer .trace").first.locator("path.point").nth(nth)
    box = marker.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    heading = page.get_by_text(f"True {true}, read as {predicted}:")
    heading.wait_for(timeout=20_000)
    assert f"{count} test digit" in heading.inner_text()
    images = page.locator(".st-key-cell img")
    assert wait_for(lambda: images.count() == count), f"{images.count()} images shown, the cell holds {count}"
    page.close()


def test_label_wrong_then_right_and_see_it_on_my_drawings_and_the_class_tally(app):
    import re

    url, chromium = app
    page = chromium.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(url)
    browser.draw(page, browser.DIGIT_STROKES[7])
    assert wait_for(lambda: browser.prediction(page) == "7")
    choices = page.locator('[data-testid="stButtonGroup"] button')
    choices.filter(has_text=re.compile(r"^3$")).click()  # wrong...
    assert wait_for(lambda: page.get_by_text("Saved as a 3").count() > 0)
    page.get_by_role("button", name="Right, it's a 7").click()  # ...then right (7 is not among the others)
    assert wait_for(lambda: page.get_by_text("Saved as a 7").count() > 0)

    page.get_by_role("link", name="My drawings", exact=True).click()
    page.get_by_text("Only this browser session's drawings").click()  # other tests of this module label too
    drawings = page.locator('[data-testid="stMetric"]').filter(has_text="Drawings")
    assert wait_for(lambda: drawings.count() and drawings.locator('[data-testid="stMetricValue"]').inner_text() == "1")

    page.get_by_role("link", name="Class", exact=True).click()
    # By its exact label: while the page changes, My drawings' "Read right by …" metrics may still show.
    label = page.get_by_test_id("stMetricLabel").filter(has_text=re.compile(r"^\s*Read right\s*$"))
    tally = page.locator('[data-testid="stMetric"]').filter(has=label)
    assert wait_for(lambda: tally.count() and tally.locator('[data-testid="stMetricValue"]').inner_text() == "100%")
    # The address students draw at, from the browser's own URL; this test server listens on
    # loopback only, and the page says that other devices cannot reach it.
    assert page.locator("h2").filter(has_text=f"Draw at {url}").count() == 1
    assert page.get_by_text("listens on 127.0.0.1 only").count() == 1
    page.close()


def test_a_deep_link_as_the_first_visit_still_goes_through_the_router(app):
    _, chromium = app
    # A fresh server, so that this is the first visit it ever gets.
    with browser.streamlit_server() as server:
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{server.url}/mistakes")
        page.locator("h1").filter(has_text="Mistakes").wait_for(timeout=30_000)
        assert wait_for(lambda: page.get_by_role("link", name="Training", exact=True).count() == 1)
        assert page.get_by_role("link", name="app", exact=True).count() == 0  # no file names
