"""A classroom on one server: N browser sessions draw, read and label digits at once.

    python bench/load.py [--sessions 30] [--seconds 60]

Each session is its own Playwright browser context (its own cookies and
Streamlit session) in one headless Chromium, on loopback only. In a loop until
the time is up, each draws a digit with the mouse, waits for the answer, labels
it with the digit it drew, and clears the canvas. Prints the errors (timeouts,
page errors, exceptions shown on a page), the stroke-to-answer times, and the
server's memory before and after. The drawings go to a temporary database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digits import browser  # noqa: E402

DIGITS = [1, 7, 0, 4]
TIMEOUT_MS = 60_000


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    drawings: int = 0
    misread: int = 0
    errors: list[str] = field(default_factory=list)
    memory: list[tuple[int, float]] = field(default_factory=list)  # (drawings so far, server MiB)


async def draw(page, strokes) -> None:
    canvas = page.locator("canvas.upper-canvas").first
    box = await canvas.bounding_box()
    for stroke in strokes:
        points = browser.canvas_points(box, stroke)
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for point in points[1:]:
            await page.mouse.move(*point, steps=6)
        await page.mouse.up()


async def student(chromium, url: str, number: int, deadline: float, results: Results) -> None:
    context = await chromium.new_context(viewport={"width": 1280, "height": 1000})
    page = await context.new_page()
    page.on("pageerror", lambda error: results.errors.append(f"session {number}: page error {error}"))
    try:
        try:
            await page.goto(url, timeout=TIMEOUT_MS)
            await page.locator("canvas.upper-canvas").first.wait_for(timeout=TIMEOUT_MS)
        except Exception as error:  # the page never came up: one error, and this student gives up
            results.errors.append(f"session {number}: page did not load: {type(error).__name__}")
            return
        turn = number
        while time.monotonic() < deadline:
            digit = DIGITS[turn % len(DIGITS)]
            turn += 1
            try:
                await draw(page, browser.DIGIT_STROKES[digit])
                start = time.perf_counter()
                answer = page.locator('[data-testid="stMetricValue"]').first
                await answer.wait_for(timeout=TIMEOUT_MS)
                results.latencies.append(time.perf_counter() - start)
                results.drawings += 1
                if (await answer.inner_text()).strip() != str(digit):
                    results.misread += 1
                choice = page.locator('[data-testid="stButtonGroup"] button').filter(has_text=re.compile(f"^{digit}$"))
                await choice.click(timeout=TIMEOUT_MS)
                await page.get_by_text(f"Saved as a {digit}").wait_for(timeout=TIMEOUT_MS)
                await page.get_by_role("button", name="Clear").click(timeout=TIMEOUT_MS)
                await answer.wait_for(state="detached", timeout=TIMEOUT_MS)
                if await page.locator('[data-testid="stException"]').count():
                    results.errors.append(f"session {number}: an exception is shown on the page")
            except Exception as error:  # a timeout or a missing element: count it, carry on drawing
                results.errors.append(f"session {number}: {type(error).__name__}: {str(error)[:160]}")
    finally:
        await context.close()


async def watch_memory(server, results: Results, deadline: float) -> None:
    """Sample the server's memory every 5 s, with the number of drawings done by then."""
    while time.monotonic() < deadline:
        results.memory.append((results.drawings, server.memory_mb()))
        await asyncio.sleep(5)


async def classroom(server, sessions: int, seconds: float) -> Results:
    from playwright.async_api import async_playwright

    url = server.url
    results = Results()
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        deadline = time.monotonic() + seconds
        tasks = [asyncio.create_task(watch_memory(server, results, deadline))]
        for number in range(sessions):
            tasks.append(asyncio.create_task(student(chromium, url, number, deadline, results)))
            await asyncio.sleep(0.2)  # students do not all press Enter in the same millisecond
        await asyncio.gather(*tasks)
        await chromium.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="browser sessions at once (default: 30)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they keep drawing (default: 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, \
            browser.streamlit_server(env={"DIGITS_DATA_DIR": data_dir}) as server:
        # Warm the server (model load) with one visit, then take the baseline.
        asyncio.run(classroom(server, 1, 1))
        before, cpu_before = server.memory_mb(), server.cpu_seconds()
        started = time.monotonic()
        results = asyncio.run(classroom(server, args.sessions, args.seconds))
        elapsed = time.monotonic() - started
        after, server_cpu = server.memory_mb(), server.cpu_seconds() - cpu_before
    latencies = sorted(results.latencies)
    print(f"{args.sessions} sessions for {args.seconds:.0f} s ({elapsed:.0f} s with start-up and the last round)")
    print(f"  drawings read and labelled  {results.drawings}   ({results.misread} read as another digit)")
    print(f"  errors                      {len(results.errors)}")
    for error in results.errors[:10]:
        print(f"    {error}")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"  stroke -> answer            median {statistics.median(latencies) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"  server CPU                  {server_cpu:.0f} s of the {(os.cpu_count() or 1) * elapsed:.0f} core-seconds available "
          f"(the browsers had the rest)")
    print(f"  server memory               {before:.0f} MiB before, {after:.0f} MiB after")
    # Sessions cost memory when they connect; drawings should not. Compare from the
    # sample taken once every session was drawing to the end.
    settled = [m for m in results.memory[2:]] or results.memory
    if settled and results.drawings > settled[0][0]:
        per = (after - settled[0][1]) / (results.drawings - settled[0][0]) * 1024
        print(f"  once all sessions were in   {settled[0][1]:.0f} MiB after {settled[0][0]} drawings -> {after:.0f} MiB "
              f"after {results.drawings}: {per:+.0f} KiB per drawing")
    print("  samples (drawings, MiB)     " + ", ".join(f"({d}, {m:.0f})" for d, m in results.memory))


if __name__ == "__main__":
    main()
