"""A classroom on one server: N browser sessions draw, read and label digits at once.

    python -m bench.load [--sessions 30] [--seconds 60] [--think 1.0] [--arrive 4]

Each student is its own Playwright browser context (its own cookies and
Streamlit session) in one headless Chromium, on loopback only; one more
context shows the Class page, as a projector would. The run has two parts:

  arrival   students open the draw page, at most ``--arrive`` at a time (a
            room typing in the address), until all have the canvas;
  drawing   then all of them, at once, for ``--seconds``: draw a digit with
            the mouse, wait for the answer, look at it for about ``--think``
            seconds, label it with the digit drawn, clear, look again, repeat.

Prints the errors (timeouts, page errors, exceptions shown on a page), page
load and stroke-to-answer times, the server's CPU per drawing and its memory
before, during and after. The drawings go to a temporary database. Exits
with status 1 when there was any error or no drawing was read.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field


from support import browser

DIGITS = [1, 7, 0, 4]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 1000}


@dataclass
class Results:
    loads: list[float] = field(default_factory=list)  # seconds from goto to a usable canvas
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


async def look(think: float) -> None:
    """A person's pause, between half and one and a half times ``think``."""
    await asyncio.sleep(think * random.uniform(0.5, 1.5))


async def arrive(chromium, url: str, number: int, doors: asyncio.Semaphore, results: Results):
    """Open the draw page; return the page, or None (after counting the error) if it never came up."""
    context = await chromium.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.on("pageerror", lambda error: results.errors.append(f"session {number}: page error {error}"))
    async with doors:
        start = time.perf_counter()
        try:
            await page.goto(url, timeout=TIMEOUT_MS)
            await page.locator("canvas.upper-canvas").first.wait_for(timeout=TIMEOUT_MS)
        except Exception as error:
            results.errors.append(f"session {number}: page did not load: {type(error).__name__}")
            await context.close()
            return None
        results.loads.append(time.perf_counter() - start)
    return page


async def student(page, number: int, deadline: float, think: float, results: Results) -> None:
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
            await look(think)
            choice = page.locator('[data-testid="stButtonGroup"] button').filter(has_text=re.compile(f"^{digit}$"))
            await choice.click(timeout=TIMEOUT_MS)
            await page.get_by_text(f"Saved as a {digit}").wait_for(timeout=TIMEOUT_MS)
            await page.get_by_role("button", name="Clear").click(timeout=TIMEOUT_MS)
            await answer.wait_for(state="detached", timeout=TIMEOUT_MS)
            if await page.locator('[data-testid="stException"]').count():
                results.errors.append(f"session {number}: an exception is shown on the page")
            await look(think)
        except Exception as error:  # a timeout or a missing element: count it, carry on drawing
            shown = await page.locator('[data-testid="stAlert"]').all_inner_texts()
            results.errors.append(f"session {number}: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
                                  f" (page shows: {' | '.join(t[:100] for t in shown) or 'no message'})")


async def projector(chromium, url: str, deadline: float, results: Results) -> None:
    """The Class page on the room's screen, refreshing itself for the whole run."""
    context = await chromium.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.on("pageerror", lambda error: results.errors.append(f"projector: page error {error}"))
    try:
        await page.goto(url.rstrip("/") + "/classroom", timeout=TIMEOUT_MS)
        while time.monotonic() < deadline:
            await asyncio.sleep(5)
            if await page.locator('[data-testid="stException"]').count():
                results.errors.append("projector: an exception is shown on the Class page")
                break
    except Exception as error:
        results.errors.append(f"projector: {type(error).__name__}: {str(error)[:160]}")
    finally:
        await context.close()


async def watch_memory(server, results: Results, deadline: float) -> None:
    """Sample the server's memory every 5 s, with the number of drawings done by then."""
    while time.monotonic() < deadline:
        results.memory.append((results.drawings, server.memory_mb()))
        await asyncio.sleep(5)


async def classroom(server, sessions: int, seconds: float, think: float, arrive_at_once: int) -> tuple[Results, dict]:
    from playwright.async_api import async_playwright

    results, marks = Results(), {}
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        doors = asyncio.Semaphore(arrive_at_once)
        marks["arrival"] = time.monotonic()
        pages = await asyncio.gather(*(arrive(chromium, server.url, n, doors, results) for n in range(sessions)))
        marks["drawing"] = (time.monotonic(), server.cpu_seconds(), server.memory_mb())
        deadline = time.monotonic() + seconds
        tasks = [watch_memory(server, results, deadline), projector(chromium, server.url, deadline, results)]
        tasks += [student(page, n, deadline, think, results) for n, page in enumerate(pages) if page is not None]
        await asyncio.gather(*tasks)
        marks["end"] = (time.monotonic(), server.cpu_seconds())
        await chromium.close()
    return results, marks


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="students, each a browser session (default: 30)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they all keep drawing (default: 60)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a student looks at the answer, and at the cleared canvas (default: 1.0)")
    parser.add_argument("--arrive", type=int, default=4, help="students opening the page at once (default: 4)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir, \
            browser.streamlit_server(env={"DIGITS_DATA_DIR": data_dir}) as server:
        asyncio.run(classroom(server, 1, 1, 0, 1))  # warm the server: the model loads on the first drawing
        before = server.memory_mb()
        results, marks = asyncio.run(classroom(server, args.sessions, args.seconds, args.think, args.arrive))
        after = server.memory_mb()
    t0, (t1, cpu1, at_start), (t2, cpu2) = marks["arrival"], marks["drawing"], marks["end"]
    cores = os.cpu_count() or 1
    print(f"{args.sessions} sessions (+1 on the Class page), drawing together for {t2 - t1:.0f} s "
          f"after {t1 - t0:.0f} s of arrivals; think time {args.think:g} s")
    print(f"  pages loaded                {len(results.loads)} of {args.sessions}" + (
        f", median {statistics.median(results.loads):.1f} s, max {max(results.loads):.1f} s" if results.loads else ""))
    print(f"  drawings read and labelled  {results.drawings}   ({results.misread} read as another digit)")
    print(f"  errors                      {len(results.errors)}")
    for error in results.errors[:10]:
        print(f"    {error}")
    if results.latencies:
        print(f"  stroke -> answer            median {statistics.median(results.latencies) * 1000:.0f} ms, "
              f"p95 {quantile(results.latencies, 0.95) * 1000:.0f} ms, max {max(results.latencies) * 1000:.0f} ms")
    print(f"  server CPU while drawing    {cpu2 - cpu1:.0f} s of the {cores * (t2 - t1):.0f} core-seconds "
          f"available (the browsers had the rest)" + (
              f"; {(cpu2 - cpu1) / results.drawings:.2f} core-seconds per drawing read, labelled and cleared"
              if results.drawings else ""))
    print(f"  server memory               {before:.0f} MiB before, {at_start:.0f} MiB with every session in, "
          f"{after:.0f} MiB after")
    drawn = [(d, m) for d, m in results.memory if d > 0]
    if len(drawn) >= 2 and drawn[-1][0] > drawn[0][0]:
        (d0, m0), (d1, m1) = drawn[0], drawn[-1]
        print(f"  while drawing               {m0:.0f} MiB after {d0} drawings -> {m1:.0f} MiB after {d1}: "
              f"{(m1 - m0) / (d1 - d0) * 1024:+.0f} KiB per drawing")
    print("  samples (drawings, MiB)     " + ", ".join(f"({d}, {m:.0f})" for d, m in results.memory))
    if results.errors or not results.drawings:
        sys.exit(f"FAILED: {len(results.errors)} errors, {results.drawings} drawings")


if __name__ == "__main__":
    main()
