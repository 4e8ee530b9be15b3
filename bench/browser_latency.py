"""Stroke released -> answer shown, in a real browser: the app against a bare canvas app.

    python -m bench.browser_latency [--rounds 15]

For each app, in the same run: clear the canvas, draw a digit with the mouse,
and time from the release of the mouse button to the moment the "Prediction"
metric appears. The bare app (bench/bare_canvas_app.py) shows only the canvas
and a number, so its time is the canvas round trip alone. Prints medians and
the ratio (the draw page's target: within 1.3x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from support import browser
from digits.config import ROOT

def stroke_to_answer(page, strokes) -> float:
    """Seconds from the last mouse-up to the metric's appearance."""
    browser.draw(page, strokes)  # returns right after the last mouse-up
    start = time.perf_counter()
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=20_000, state="visible")
    return time.perf_counter() - start


def measure(script: Path, rounds: int, chromium) -> list[float]:
    times = []
    with browser.streamlit_server(script) as server:
        url = server.url
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        browser.canvas_box(page)
        digits = list(browser.DIGIT_STROKES)
        for i in range(rounds + 1):
            browser.clear(page)
            elapsed = stroke_to_answer(page, browser.DIGIT_STROKES[digits[i % len(digits)]])
            if i:  # the first round warms the model and the page
                times.append(elapsed)
        page.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="timed drawings per app (default: 15)")
    args = parser.parse_args()
    with browser.browser() as chromium:
        bare = measure(ROOT / "bench" / "bare_canvas_app.py", args.rounds, chromium)
        app = measure(ROOT / "app.py", args.rounds, chromium)
    bare_ms, app_ms = statistics.median(bare) * 1000, statistics.median(app) * 1000
    print(f"stroke released -> answer shown, median of {args.rounds} drawings each")
    print(f"  bare canvas app   {bare_ms:7.0f} ms")
    print(f"  digits draw page  {app_ms:7.0f} ms")
    print(f"  ratio             {app_ms / bare_ms:7.2f}x  (target <= 1.3x)")


if __name__ == "__main__":
    main()
