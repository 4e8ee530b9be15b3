"""Take the README's screenshots in headless chromium: the draw page, Training, Mistakes.

    python -m bench.screenshots [--out docs]
"""

from __future__ import annotations

import argparse
from pathlib import Path


from support import browser
from digits.config import ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs (default: docs)")
    args = parser.parse_args()
    args.out.mkdir(exist_ok=True)
    with browser.streamlit_server() as server, browser.browser() as chromium:
        url = server.url
        page = chromium.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        browser.draw(page, browser.DIGIT_STROKES[4])
        page.wait_for_selector('[data-testid="stMetricValue"]')
        page.wait_for_timeout(1500)
        page.screenshot(path=args.out / "draw.png")
        for name in ("training", "mistakes"):
            page.goto(f"{url}/{name}")
            page.wait_for_selector(".js-plotly-plot", timeout=30_000)
            page.wait_for_timeout(2500)
            page.screenshot(path=args.out / f"{name}.png")
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
