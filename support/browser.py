"""Drive the app in a real browser: start a server, draw strokes on the canvas.

Used by the browser tests and the browser benchmarks. Needs the test
requirements (playwright) and Debian's chromium; Playwright cannot download a
browser on a machine without internet, so it is pointed at the system one.
"""

from __future__ import annotations

import base64
import contextlib
import io
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from digits.config import ROOT

CHROMIUM = os.environ.get("DIGITS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

# Strokes for a few digits, as polylines in fractions of the canvas (x, y).
# A digit is a list of strokes; each stroke is drawn with one press of the mouse.
DIGIT_STROKES: dict[int, list[list[tuple[float, float]]]] = {
    0: [[(0.5 + 0.22 * math.sin(a / 20 * math.tau), 0.5 - 0.32 * math.cos(a / 20 * math.tau)) for a in range(21)]],
    1: [[(0.45, 0.22), (0.55, 0.15), (0.55, 0.85)]],
    4: [[(0.58, 0.15), (0.25, 0.6), (0.78, 0.6)], [(0.6, 0.35), (0.6, 0.88)]],
    7: [[(0.25, 0.18), (0.75, 0.18), (0.42, 0.86)]],
}


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running app server."""

    url: str
    pid: int

    def memory_mb(self) -> float:
        """The server process's resident memory (Linux), in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS line: memory can only be read on Linux")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (Linux), user plus system."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def streamlit_server(script: str | Path = ROOT / "app.py", env: dict | None = None) -> Iterator[Server]:
    """Run ``streamlit run script`` on a free loopback port."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", str(script),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited: {process.stderr.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"streamlit did not answer on {url} within 60 s")
                time.sleep(0.3)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def browser() -> Iterator:
    """A headless Debian chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def wait_for(predicate, timeout: float = 20.0, every: float = 0.1):
    """Call ``predicate`` until it returns something true, for at most ``timeout`` seconds; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return predicate()


def canvas_box(page) -> dict:
    """The on-screen box of the drawing surface (Fabric's upper canvas), once it is there."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for(state="visible", timeout=30_000)
    return canvas.bounding_box()


def canvas_points(box: dict, stroke: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Screen coordinates of a stroke given in fractions (x, y) of the canvas's on-screen ``box``."""
    return [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]


def draw(page, strokes: list[list[tuple[float, float]]], steps: int = 6, touch: bool = False) -> None:
    """Draw ``strokes`` (fractions of the canvas) with the mouse, one press per stroke.

    With ``touch``, a finger draws them instead: touch events, as a tablet or phone
    sends (the page's context needs ``has_touch=True``). Returns right after the
    last stroke ends.
    """
    box = canvas_box(page)
    finger = page.context.new_cdp_session(page) if touch else None
    for stroke in strokes:
        points = canvas_points(box, stroke)
        if finger is None:
            page.mouse.move(*points[0])
            page.mouse.down()
            for point in points[1:]:
                page.mouse.move(*point, steps=steps)
            page.mouse.up()
        else:
            _touch_stroke(finger, points, steps)
    if finger is not None:
        finger.detach()


def _touch_stroke(finger, points: list[tuple[float, float]], steps: int) -> None:
    """One finger stroke through ``points`` (screen pixels), ``steps`` moves per segment."""
    path = [points[0]] + [
        (x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
        for (x0, y0), (x1, y1) in zip(points, points[1:]) for i in range(1, steps + 1)
    ]
    for kind, (x, y) in [("touchStart", path[0])] + [("touchMove", point) for point in path[1:]]:
        finger.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y, "id": 1}]})
    finger.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def canvas_ink(page) -> np.ndarray:
    """The drawing as the canvas holds it: the alpha channel of Fabric's drawing layer, (H, W) uint8.

    Its size is the canvas's backing store: the canvas's CSS size times the screen's pixel ratio.
    """
    url = page.locator("canvas.dc-canvas.lower-canvas").first.evaluate("c => c.toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))[..., 3]


def prediction(page) -> str | None:
    """The value shown under the "Prediction" metric, or None when there is none."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Prediction")
    # Read what is there now: counting, then reading, waits 30 s for a metric a rerun removed in between.
    values = metric.locator('[data-testid="stMetricValue"]').all_inner_texts()
    return values[0].strip() if values else None


def clear(page) -> None:
    """Click Clear and wait until no answer is shown."""
    page.get_by_role("button", name="Clear").click()
    page.locator('[data-testid="stMetricValue"]').first.wait_for(state="detached", timeout=20_000)
