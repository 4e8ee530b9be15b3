"""Stroke released -> answer shown, and the browser's own work per drawing: the app against bare canvas apps.

    python -m bench.browser_latency [--rounds 15]

Three apps, one after another in the same run, each drawn on with the mouse
``--rounds`` times (after one warm-up drawing):

- ``bare``: bench/bare_canvas_minimal.py, the canvas and one number, nothing else
  (reloaded between drawings, as it has no Clear);
- ``bare+clear``: bench/bare_canvas_app.py, the same with the draw page's Clear handling;
- ``draw page``: the app itself.

For each drawing it times the release of the mouse button to the moment the
"Prediction" metric appears, and reads Chromium's main-thread busy time
(``Performance.getMetrics`` TaskDuration, through CDP) from just before the
first stroke until the page has settled after the answer. Prints medians and
the ratios to ``bare`` (the draw page's targets: 1.15x for the answer, 2x for
the browser's work).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from digits.config import ROOT
from support import browser

ANSWER = '[data-testid="stMetricValue"]'
SETTLE = 0.5  # seconds for the page to finish what came before (the answer's drawing, a Clear)


def task_seconds(cdp) -> float:
    """Seconds the page's main thread has been busy so far (Chromium's TaskDuration)."""
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def one_drawing(page, cdp, strokes) -> tuple[float, float]:
    """(stroke released -> answer shown, main-thread seconds for the whole drawing) for one drawing."""
    busy = task_seconds(cdp)
    browser.draw(page, strokes)  # returns right after the last mouse-up
    start = time.perf_counter()
    page.wait_for_selector(ANSWER, timeout=20_000, state="visible")
    answered = time.perf_counter() - start
    time.sleep(SETTLE)
    return answered, task_seconds(cdp) - busy


def measure(script: Path, rounds: int, chromium, reload: bool) -> tuple[list[float], list[float]]:
    answers, work = [], []
    with browser.streamlit_server(script) as server:
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(server.url)
        browser.canvas_box(page)
        digits = list(browser.DIGIT_STROKES)
        for i in range(rounds + 1):
            if reload:
                page.goto(server.url)
                browser.canvas_box(page)
            else:
                browser.clear(page)
            # Clear reruns the page and the canvas reloads in place and reports its empty drawing:
            # a hand takes longer than this to start the next digit, a script would overtake them.
            time.sleep(SETTLE)
            answered, busy = one_drawing(page, cdp, browser.DIGIT_STROKES[digits[i % len(digits)]])
            if i:  # the first round warms the model and the page
                answers.append(answered)
                work.append(busy)
        page.close()
    return answers, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15, help="timed drawings per app (default: 15)")
    args = parser.parse_args()
    apps = {"bare": (ROOT / "bench" / "bare_canvas_minimal.py", True),
            "bare+clear": (ROOT / "bench" / "bare_canvas_app.py", False),
            "draw page": (ROOT / "app.py", False)}
    results = {}
    with browser.browser() as chromium:
        for name, (script, reload) in apps.items():
            answers, work = measure(script, args.rounds, chromium, reload)
            results[name] = (statistics.median(answers) * 1000, statistics.median(work) * 1000)
    base_answer, base_work = results["bare"]
    print(f"medians of {args.rounds} drawings per app; main-thread time from the first stroke to "
          f"{SETTLE:.1f} s after the answer")
    print(f"  {'app':<12} {'answer':>9} {'ratio':>7} {'main thread':>12} {'ratio':>7}")
    for name, (answer, work) in results.items():
        print(f"  {name:<12} {answer:7.0f} ms {answer / base_answer:6.2f}x {work:9.0f} ms {work / base_work:6.2f}x")
    print("  targets: draw page answer <= 1.15x bare, main thread <= 2x bare")


if __name__ == "__main__":
    main()
