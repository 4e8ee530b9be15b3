"""Drawn-digit accuracy through the real canvas: Chromium draws, the running app reads.

    python -m bench.canvas_accuracy [--count 300] [--seed 0]

`bench/drawn_accuracy.py` renders its drawings with our own brush model
(support.drawings, with the pen of digits.redraw). This benchmark checks that model against the real thing: the
same kind of drawings (MNIST *test* digits at a random size, brush width and
position) are drawn with the mouse on the draw page's canvas in headless
Chromium, stroke by stroke along each digit's centre lines, solid parts coloured
in. For each drawing it records the app's **Prediction**, then takes the canvas's
own pixels and reads them offline, our way and naively. The same digits, at the
same size, brush and place, are also rendered by digits.redraw, to compare.

Brush widths are set with the page's slider, five widths in turn (a slider per
drawing would take a rerun per step); each drawing's size is drawn so that its
brush is 4-20 % of it, as in drawn_accuracy.py. The app reads with its default
model, `strong`.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from PIL import Image

from digits import artifacts, config, data, redraw
from digits.inference import load_classifier
from digits.preprocess import naive_resize
from support import browser
from support.drawings import pen_paths
from support.families import prepared

BRUSHES = (8, 14, 22, 32, 44)  # px, within the slider's 6-48
SIZES = (0.2, 0.9)  # the digit's longest side, as a share of the canvas
RELATIVE_BRUSH = (0.04, 0.2)  # brush width as a share of the digit's size


def plan(digits: np.ndarray, seed: int) -> list[tuple[int, int, int, int]]:
    """(height, brush, top, left) for each digit, brushes in turn, sizes to suit the brush."""
    rng = np.random.default_rng(seed)
    canvas = config.CANVAS_SIZE
    out = []
    for i in range(len(digits)):
        brush = BRUSHES[i * len(BRUSHES) // len(digits)]
        low = max(SIZES[0] * canvas, brush / RELATIVE_BRUSH[1])
        high = min(SIZES[1] * canvas, brush / RELATIVE_BRUSH[0])
        height = int(rng.uniform(low, high))
        margin = int(brush / 2) + 1  # keep the whole stroke on the canvas
        top, left = rng.integers(margin, max(margin + 1, canvas - height - margin), size=2)
        out.append((height, brush, int(top), int(left)))
    return out


def set_brush(page, width: int) -> None:
    """Move the brush slider to ``width`` with the keyboard and wait for the page to take it."""
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    current = int(slider.input_value())
    slider.focus()
    for _ in range(abs(width - current)):
        page.keyboard.press("ArrowRight" if width > current else "ArrowLeft")
    shown = page.locator('[data-testid="stSliderThumbValue"]').first
    page.wait_for_function("([e, w]) => e.innerText.trim() == w", arg=[shown.element_handle(), str(width)])
    page.wait_for_timeout(1500)  # the rerun that hands the canvas its new width


def canvas_pixels(page) -> np.ndarray:
    """The drawing as the canvas holds it, as (320, 320, 4) uint8 RGBA with the ink in alpha."""
    ink = browser.canvas_ink(page)
    if ink.shape != (config.CANVAS_SIZE,) * 2:  # a high-density screen's backing store
        ink = np.asarray(Image.fromarray(ink).resize((config.CANVAS_SIZE,) * 2, Image.Resampling.BOX))
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink
    return rgba


def draw_on_page(page, paths: list[np.ndarray]) -> None:
    """Draw pixel paths (row, column) with the mouse, one event per point kept."""
    strokes = []
    for path in paths:
        points = path[:: 3] if len(path) > 3 else path  # every third pixel: Fabric smooths between
        points = np.vstack([points, path[-1:]])
        strokes.append([((c + 0.5) / config.CANVAS_SIZE, (r + 0.5) / config.CANVAS_SIZE) for r, c in points])
    browser.draw(page, strokes, steps=1)


def settled_prediction(page) -> str | None:
    """The Prediction once the page has read the whole drawing, not just its first strokes."""
    page.locator('[data-testid="stMetric"]').filter(has_text="Prediction").wait_for(timeout=30_000)
    running = page.locator('[data-testid="stStatusWidget"]')
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 1.0:  # a second with no script running
        if running.count():
            quiet_since = time.monotonic()
        page.wait_for_timeout(100)
    return browser.prediction(page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300, help="drawings (default: 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed for picking and placing digits (default: 0)")
    parser.add_argument("--save", type=Path, default=None,
                        help="write the drawings (both renderings), labels and answers to this .npz")
    args = parser.parse_args()

    _, (x_test, y_test) = data.load_mnist()
    pick = np.random.default_rng(args.seed).choice(len(y_test), size=args.count, replace=False)
    digits, labels = x_test[pick], y_test[pick]
    plans = plan(digits, args.seed)

    shown, real = [], np.empty((args.count, config.CANVAS_SIZE, config.CANVAS_SIZE, 4), np.uint8)
    synthetic = np.empty_like(real)
    start = time.perf_counter()
    with browser.streamlit_server(env={"DIGITS_DATA_DIR": "/tmp/digits-canvas-bench"}) as server, \
            browser.browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(server.url)
        browser.canvas_box(page)
        brush = None
        for i, (digit, (height, width, top, left)) in enumerate(zip(digits, plans)):
            if width != brush:
                set_brush(page, width)
                brush = width
            centre, solid = redraw.digit_plan(digit, height, width, top, left)
            synthetic[i] = redraw.stroke_rgba(centre, width, solid)
            draw_on_page(page, pen_paths(centre, solid, width))
            shown.append(settled_prediction(page))
            real[i] = canvas_pixels(page)
            browser.clear(page)
            if (i + 1) % 50 == 0:
                print(f"  {i + 1} drawn, {time.perf_counter() - start:.0f} s")
    print(f"{args.count} drawings drawn in Chromium in {time.perf_counter() - start:.0f} s\n")

    classifier = load_classifier(artifacts.model_dir(config.DEFAULT_MODEL))

    def accuracy(images: np.ndarray) -> float:
        return float((classifier.predict_proba(images).argmax(1) == labels).mean())

    page_answers = np.array([int(s) if s is not None else -1 for s in shown])
    if args.save:
        np.savez_compressed(args.save, canvas=real, synth=synthetic, labels=labels, page=page_answers,
                            plans=np.array(plans), index=pick)
    offline = classifier.predict_proba(prepared(real)).argmax(1)
    ink_real, ink_synth = real[..., 3] > 127, synthetic[..., 3] > 127
    iou = (ink_real & ink_synth).sum((1, 2)) / np.maximum(1, (ink_real | ink_synth).sum((1, 2)))
    print(f"model {config.DEFAULT_MODEL}, {args.count} drawings of MNIST test digits, brushes {BRUSHES} px\n")
    print(f"{'drawn by':22s} {'ours':>8s} {'naive':>8s} {'naive-raw':>9s}   ours - naive")
    rows = {
        "Chromium's canvas": real,
        "digits.redraw": synthetic,
    }
    for name, drawings in rows.items():
        ours, flat = accuracy(prepared(drawings)), accuracy(np.stack([naive_resize(d) for d in drawings]))
        raw = accuracy(np.stack([naive_resize(d, anti_aliasing=False) for d in drawings]))
        print(f"{name:22s} {ours:8.2%} {flat:8.2%} {raw:9.2%}   {100 * (ours - flat):+8.1f} pts")
    print(f"\nthe app's Prediction on the page: {(page_answers == labels).mean():.2%} right; "
          f"it matches the offline reading of the canvas's pixels for {(page_answers == offline).mean():.2%}")
    print(f"ink overlap of the canvas's and digits.redraw's rendering (intersection over union): "
          f"median {np.median(iou):.3f}, 5th percentile {np.percentile(iou, 5):.3f}")


if __name__ == "__main__":
    main()
