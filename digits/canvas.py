"""The drawing canvas (streamlit-drawable-canvas): mounted with its toolbar out of the way, its value read safely.

The canvas reports a PNG of itself, sent by the browser. A browser can send
anything instead, so the PNG is checked from its header (signature, size in
bytes, width and height) before a single pixel is decoded: a decompression
bomb or an oversized upload costs the server nothing.
"""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from digits import config

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 320 x 320 RGBA canvas is 410 KB of raw pixels; its PNG (zlib-compressed, with chunk
# overhead) cannot honestly be much larger, whatever is drawn.
MAX_PNG_BYTES = 2 * 1024 * 1024


class CanvasRefused(ValueError):
    """What the browser sent is not a PNG of the canvas; the message says what it was."""


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, read from its header alone (the first 24 bytes).

    >>> png_size(PNG_SIGNATURE + struct.pack(">I4sII", 13, b"IHDR", 320, 200))
    (320, 200)
    """
    if len(png) < 24 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise CanvasRefused("the canvas sent something that is not a PNG image")
    return struct.unpack(">II", png[16:24])


def decode_canvas_png(png: bytes, size: tuple[int, int] = (config.CANVAS_SIZE, config.CANVAS_SIZE)) -> np.ndarray:
    """The canvas's pixels, once its PNG has proved from its header to be the canvas's own size.

    Parameters
    ----------
    png : bytes
        What the browser sent.
    size : (width, height) of the canvas, in CSS pixels (the component exports at that size).

    Returns
    -------
    (height, width, 4) uint8 ndarray
        RGBA; the alpha channel is the ink.

    Raises
    ------
    CanvasRefused
        Too many bytes, not a PNG, or a PNG of another size; nothing was decoded.
    """
    if len(png) > MAX_PNG_BYTES:
        raise CanvasRefused(f"the canvas sent {len(png) / 1e6:.1f} MB, more than a {size[0]} × {size[1]} "
                            f"drawing can be ({MAX_PNG_BYTES / 1e6:.1f} MB at most)")
    width, height = png_size(png)
    if (width, height) != tuple(size):
        raise CanvasRefused(f"the canvas sent a {width} × {height} image; it is {size[0]} × {size[1]}")
    try:
        with Image.open(io.BytesIO(png)) as image:
            rgba = np.asarray(image.convert("RGBA"))
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise CanvasRefused(f"the canvas sent a PNG that could not be read ({error})") from error
    if rgba.shape != (height, width, 4):  # a header that lied about the pixels that follow
        raise CanvasRefused(f"the canvas sent {rgba.shape[1]} × {rgba.shape[0]} pixels under a {width} × {height} header")
    return rgba


@dataclass(frozen=True)
class CanvasReport:
    """What the canvas reported on this run."""

    rgba: np.ndarray | None  # (H, W, 4) uint8; None before the first stroke or when refused
    png: bytes | None  # the PNG as sent, kept with a labelled drawing
    json_data: dict | None  # the component's own description of the strokes; changes with each one
    refused: str | None = None  # why the browser's PNG was not read, for the page to say


def draw_canvas(brush: int, version: int, dark: bool, width: int = config.CANVAS_SIZE,
                key: str = "canvas") -> CanvasReport:
    """Mount the drawing canvas, ``CANVAS_SIZE`` tall and ``width`` wide, and read what it reports.

    ``version`` changes to clear it: the component is handed a new empty
    drawing and reloads in place, so strokes drawn right after are kept.
    """
    from streamlit_drawable_canvas import st_canvas  # imported here, so tests can stand in for it

    result = st_canvas(
        stroke_width=brush,
        stroke_color="#ffffff" if dark else "#000000",  # only the alpha channel is read
        background_color="",  # transparent: the ink is the alpha channel
        height=config.CANVAS_SIZE,
        width=width,
        drawing_mode="freedraw",
        return_image_data=True,
        initial_drawing={"objects": [], "cleared": version},
        key=key,
    )
    png = result.image_bytes  # never result.image_data: it decodes whatever was sent, unchecked
    if png is None:
        return CanvasReport(None, None, result.json_data)
    try:
        return CanvasReport(decode_canvas_png(png, (width, config.CANVAS_SIZE)), png, result.json_data)
    except CanvasRefused as refused:
        return CanvasReport(None, None, result.json_data, refused=str(refused))


# streamlit-drawable-canvas 0.13 hides its toolbar (upload, undo, redo, pen, bin) by fading it
# out 1 rem above the canvas's top-right corner, where it still takes the pointer: a stroke
# started in the top 30 px of the canvas's right half, before the pointer has hovered the canvas
# (a finger never does), drew nothing. The toolbar lives in the component's shadow root, which
# the page's CSS cannot reach, so this script adds a style there that keeps the toolbar in a
# strip of its own above the canvas and lets the pointer through it unless it is showing.
_TOOLBAR_CSS = """
.dc-toolbar { top: -2.65rem !important; pointer-events: none; }
.dc-root:hover > .dc-toolbar .dc-toolbar-card,
.dc-toolbar[data-pinned="true"] .dc-toolbar-card,
.dc-toolbar:focus-within .dc-toolbar-card { pointer-events: auto; }
"""
_TOOLBAR_JS = """
export default function () {
  const css = %s;
  const patch = () => {
    for (const host of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
      const root = host.shadowRoot;
      if (root && !root.querySelector("style[data-digits-toolbar]")) {
        const style = document.createElement("style");
        style.setAttribute("data-digits-toolbar", "");
        style.textContent = css;
        root.appendChild(style);
      }
    }
  };
  patch();
  const observer = new MutationObserver(patch);
  observer.observe(document.body, { childList: true, subtree: true });
  return () => observer.disconnect();
}
""" % json.dumps(_TOOLBAR_CSS)
_toolbar_fix = st.components.v2.component("digits.canvas_toolbar_fix", js=_TOOLBAR_JS)


def keep_toolbar_off_the_drawing() -> None:
    """Mount the script above (an empty element) once per page run."""
    _toolbar_fix(key="canvas_toolbar_fix")
