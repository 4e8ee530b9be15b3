"""How long each page takes to render in a real browser, after the first load.

    python -m bench.page_times [--rounds 5]

Clicks each page's link in the sidebar (as a user would), and times from the
click to the moment the page's last chart or image is on screen. The first
visit of each page (model load, cold caches) is reported apart; the figure
that matters is the median of the later visits.
"""

from __future__ import annotations

import argparse
import statistics
import time


from support import browser

# Each page's title, then what is on screen when it is done: (selector, how many).
TITLES = {"Training": "Training", "Mistakes": "Mistakes", "Dataset": "Dataset", "Inside": "Inside the network",
          "Draw": "Draw a digit or a number"}
DONE = {
    "Training": [(".js-plotly-plot", 3)],  # loss, accuracy, learning rate and seconds
    "Mistakes": [(".js-plotly-plot", 1), ("img", 35)],  # the matrix and the gallery (strong: 35)
    "Dataset": [(".js-plotly-plot", 1), ("img", 2)],
    "Inside": [(".js-plotly-plot", 1), ("img", 9)],  # input, overlay, 6 feature-map grids, filters
    "Draw": [("canvas.upper-canvas", 1)],  # inside the canvas component's shadow root
}


def visit(page, title: str) -> float:
    start = time.perf_counter()
    page.get_by_role("link", name=title, exact=True).click()
    page.locator("h1").filter(has_text=TITLES[title]).wait_for(timeout=60_000)
    for selector, count in DONE[title]:
        # Playwright's locators see into shadow roots, where the canvas lives.
        page.locator(selector).nth(count - 1).wait_for(state="attached", timeout=60_000)
    # While a page runs, the previous page's elements stay on screen marked stale.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=60_000)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="visits of each page after the first (default: 5)")
    args = parser.parse_args()
    with browser.streamlit_server() as server, browser.browser() as chromium:
        url = server.url
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        browser.canvas_box(page)
        times: dict[str, list[float]] = {title: [] for title in DONE}
        for _ in range(args.rounds + 1):
            for title in DONE:
                times[title].append(visit(page, title))
    print(f"page render time after a click in the sidebar, median of {args.rounds} visits (first visit apart)")
    for title, seconds in times.items():
        print(f"  {title:9s} {statistics.median(seconds[1:]) * 1000:6.0f} ms   first visit {seconds[0] * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
