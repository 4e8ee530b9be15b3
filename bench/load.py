"""A classroom on one server or several: N browser sessions draw, read and label digits at once.

    python -m bench.load [--sessions 30] [--seconds 60] [--think 1.0] [--arrive 4]
    python -m bench.load --sessions 10 --seconds 20 --servers 2 --postgres [--nginx]

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

Several servers (``--servers 2``) share one class: students are dealt to them
in turn, or all go through nginx configured as docs/nginx.conf (``--nginx``),
which keeps each on the server its cookie names. They share a temporary SQLite
file, a throwaway PostgreSQL server (``--postgres``) or ``--database-url``.
With a shared database, the run ends by counting its rows: every drawing a
student saw saved must be stored exactly once, per digit; a mismatch is an error.

With ``--training ARCH`` the class draws twice: once as usual, then again
while a training run goes (started as the Training page starts one: niced,
one TensorFlow thread, ARCH's full recipe, on the MNIST cache in data/mnist),
and the run prints how much the students' stroke -> answer grew.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

from support import browser
from support import servers as fleet
from support.classroom import (
    class_database,
    runs_status_epochs,
    stored_since,
    totals_drift,
    training_run,
)

DIGITS = [1, 7, 0, 4]
TIMEOUT_MS = 60_000
VIEWPORT = {"width": 1280, "height": 1000}


@dataclass
class Results:
    loads: list[float] = field(default_factory=list)  # seconds from goto to a usable canvas
    latencies: list[float] = field(default_factory=list)
    drawings: int = 0
    misread: int = 0
    saved: Counter = field(default_factory=Counter)  # digit -> drawings the page said were saved
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
            # Read right: "Right, it's a 7"; read wrong: the digit among "No, it's a…".
            right = page.get_by_role("button", name=f"Right, it's a {digit}")
            choice = page.locator('[data-testid="stButtonGroup"] button').filter(has_text=re.compile(f"^{digit}$"))
            # Whichever the page shows, waited for: counted once, a rerun under way could hide both.
            await right.or_(choice).first.click(timeout=TIMEOUT_MS)
            await page.get_by_text(f"Saved as a {digit}").wait_for(timeout=TIMEOUT_MS)
            results.saved[digit] += 1
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


def memory_mb(servers) -> float:
    return sum(server.memory_mb() for server in servers)


def cpu_seconds(servers) -> float:
    return sum(server.cpu_seconds() for server in servers)


async def watch_memory(servers, results: Results, deadline: float) -> None:
    """Sample the servers' memory (together) every 5 s, with the number of drawings done by then."""
    while time.monotonic() < deadline:
        results.memory.append((results.drawings, memory_mb(servers)))
        await asyncio.sleep(5)


async def classroom(servers, urls: list[str], sessions: int, seconds: float, think: float,
                    arrive_at_once: int) -> tuple[Results, dict]:
    """Run the class: student n opens ``urls[n % len(urls)]``, the projector ``urls[0]``."""
    from playwright.async_api import async_playwright

    results, marks = Results(), {}
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        doors = asyncio.Semaphore(arrive_at_once)
        marks["arrival"] = time.monotonic()
        pages = await asyncio.gather(*(arrive(chromium, urls[n % len(urls)], n, doors, results)
                                       for n in range(sessions)))
        marks["drawing"] = (time.monotonic(), cpu_seconds(servers), memory_mb(servers))
        deadline = time.monotonic() + seconds
        tasks = [watch_memory(servers, results, deadline), projector(chromium, urls[0], deadline, results)]
        tasks += [student(page, n, deadline, think, results) for n, page in enumerate(pages) if page is not None]
        await asyncio.gather(*tasks)
        marks["end"] = (time.monotonic(), cpu_seconds(servers))
        await chromium.close()
    return results, marks


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_stored(rows: list[tuple[int, str, int, int, bool | None]], results: Results) -> str:
    """Compare the rows the run stored with the drawings students saw saved; count a mismatch as an error."""
    stored = Counter(label for _, _, label, *_ in rows)
    saved = results.saved
    if stored != saved:
        results.errors.append(f"database: {sum(stored.values())} rows for {sum(saved.values())} saved drawings "
                              f"(by digit, stored {dict(sorted(stored.items()))}, saved {dict(sorted(saved.items()))})")
    verdict = "each stored once" if stored == saved else "MISMATCH"
    return (f"{sum(stored.values())} rows for {sum(saved.values())} drawings seen saved: {verdict} "
            f"({', '.join(f'{d}: {stored[d]}/{saved[d]}' for d in sorted(saved | stored))}); "
            f"{len({session for _, session, *_ in rows})} browser sessions")


def check_sticky(nginx, results: Results) -> str:
    """Which app server nginx sent each browser to; a browser answered by two servers is an error."""
    browsers = {e.key for e in nginx.logged() if "/_stcore/stream" in e.request}  # each had a page open
    served = {key: upstreams for key, upstreams in nginx.upstreams_by_key().items() if key in browsers}
    for key, upstreams in served.items():
        if len(upstreams) != 1:
            results.errors.append(f"nginx: browser {key} was answered by {sorted(upstreams)}")
    per_server = Counter(next(iter(upstreams)) for upstreams in served.values() if len(upstreams) == 1)
    return ", ".join(f"{address} {n}" for address, n in sorted(per_server.items()))


def latency_line(results: Results) -> str:
    return (f"median {statistics.median(results.latencies) * 1000:.0f} ms, p95 "
            f"{quantile(results.latencies, 0.95) * 1000:.0f} ms, max {max(results.latencies) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="students, each a browser session (default: 30)")
    parser.add_argument("--seconds", type=float, default=60, help="how long they all keep drawing (default: 60)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a student looks at the answer, and at the cleared canvas (default: 1.0)")
    parser.add_argument("--arrive", type=int, default=4, help="students opening the page at once (default: 4)")
    parser.add_argument("--servers", type=int, default=1,
                        help="app servers sharing the class; students are dealt to them in turn (default: 1)")
    parser.add_argument("--nginx", action="store_true",
                        help="students go through nginx as docs/nginx.conf sets it up, which picks their server")
    shared = parser.add_mutually_exclusive_group()
    shared.add_argument("--database-url", help="the class's database for every server, e.g. postgresql://... "
                                               "(default: a temporary SQLite file)")
    shared.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL server (tests/postgres.py) as the class's database")
    parser.add_argument("--training", metavar="ARCH", default=None,
                        help="draw again while a training run of ARCH's full recipe goes, and compare (default: none)")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory())
        database = class_database(args, stack, data_dir)
        env = {"DIGITS_DATA_DIR": data_dir, **({"DIGITS_DATABASE_URL": database} if database else {})}
        servers = stack.enter_context(fleet.app_servers(args.servers, env=env))
        nginx = stack.enter_context(fleet.nginx_in_front([fleet.port_of(s) for s in servers])) if args.nginx else None
        urls = [nginx.url] if nginx else [server.url for server in servers]
        for server in servers:  # warm each server: the model loads on its first drawing
            asyncio.run(classroom([server], [server.url], 1, 1, 0, 1))
        last_id = stored_since(database, 0)[-1][0] if database else 0  # the warm-up's drawings are not counted
        before = memory_mb(servers)
        results, marks = asyncio.run(classroom(servers, urls, args.sessions, args.seconds, args.think, args.arrive))
        training = None
        if args.training:
            with training_run(args.training, data_dir) as started:
                training = asyncio.run(classroom(servers, urls, args.sessions, args.seconds, args.think,
                                                 args.arrive))[0]
                training_epochs = (len(started.epochs), len(runs_status_epochs()))
            results.errors += [f"while training: {error}" for error in training.errors]
            results.saved += training.saved
            results.drawings += training.drawings
        after = memory_mb(servers)
        stored = check_stored(stored_since(database, last_id), results) if database else None
        if database:  # every server kept the class's running totals as a recount finds them
            results.errors += totals_drift(database)
        spread = check_sticky(nginx, results) if nginx else None
    t0, (t1, cpu1, at_start), (t2, cpu2) = marks["arrival"], marks["drawing"], marks["end"]
    cores = os.cpu_count() or 1
    where = (f" on {args.servers} servers" if args.servers > 1 else "") + (
        " behind nginx" if nginx else ", dealt in turn" if args.servers > 1 else "") + (
        "" if not database else ", sharing PostgreSQL" if database.startswith("postgres") else ", sharing a database")
    server = "server" if args.servers == 1 else "servers'"
    print(f"{args.sessions} sessions (+1 on the Class page){where}, drawing together for {t2 - t1:.0f} s "
          f"after {t1 - t0:.0f} s of arrivals; think time {args.think:g} s")
    print(f"  pages loaded                {len(results.loads)} of {args.sessions}" + (
        f", median {statistics.median(results.loads):.1f} s, max {max(results.loads):.1f} s" if results.loads else ""))
    print(f"  drawings read and labelled  {results.drawings}   ({results.misread} read as another digit)")
    if stored:
        print(f"  stored in the database      {stored}")
    if spread:
        print(f"  browsers per server (nginx) {spread}   (the students and the Class page)")
    print(f"  errors                      {len(results.errors)}")
    for error in results.errors[:10]:
        print(f"    {error}")
    if results.latencies:
        print(f"  stroke -> answer            {latency_line(results)}")
    if training and training.latencies:
        growth = statistics.median(training.latencies) / statistics.median(results.latencies)
        print(f"  ... while {args.training} trained  {latency_line(training)}: {growth:.2f}x the median without "
              f"(target <= 1.5x); {training.drawings} drawings; the run went from epoch {training_epochs[0]} "
              f"to {training_epochs[1]} meanwhile")
    print(f"  {server} CPU while drawing".ljust(30) + f"{cpu2 - cpu1:.0f} s of the {cores * (t2 - t1):.0f} "
          f"core-seconds available (the browsers had the rest)" + (
              f"; {(cpu2 - cpu1) / results.drawings:.2f} core-seconds per drawing read, labelled and cleared"
              if results.drawings else ""))
    print(f"  {server} memory".ljust(30) + f"{before:.0f} MiB before, {at_start:.0f} MiB with every session in, "
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
