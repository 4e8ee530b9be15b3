"""A hostile browser gets nothing: what the canvas sends is refused from its header, before decoding."""

import io
import resource
import struct
import zlib

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from digits import canvas
from tests.conftest import ROOT, TIMEOUT, canvas_reporting


def png_bytes(width: int, height: int, mode: str = "RGBA") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A valid 1-bit PNG of ``width`` x ``height`` blank pixels: 112 MB of pixels in about 110 KB."""
    row = b"\x00" + bytes((width + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return canvas.PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def test_png_size_reads_the_header_only():
    assert canvas.png_size(png_bytes(320, 200)) == (320, 200)
    assert canvas.png_size(bomb()[:24]) == (30_000, 30_000)


@pytest.mark.parametrize("sent, said", [
    (b"", "not a PNG"),
    (b"GIF89a" + bytes(100), "not a PNG"),
    (png_bytes(640, 640), "640 × 640 image; it is 320 × 320"),
    (png_bytes(320, 321), "320 × 321"),
    (bytes(20_000_000), "20.0 MB"),
    (canvas.PNG_SIGNATURE + struct.pack(">I4sII", 13, b"IHDR", 320, 320) + b"broken", "could not be read"),
])
def test_what_is_not_a_png_of_the_canvas_is_refused_with_a_message(sent, said):
    with pytest.raises(canvas.CanvasRefused, match=said):
        canvas.decode_canvas_png(sent)


def test_the_canvas_own_png_is_decoded():
    rgba = np.zeros((320, 320, 4), np.uint8)
    rgba[100:200, 150:170, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    np.testing.assert_array_equal(canvas.decode_canvas_png(buffer.getvalue()), rgba)


class HostileCanvas:
    """What a tampered browser could make the component report: any bytes at all."""

    def __init__(self, sent: bytes):
        self.image_bytes = sent
        self.json_data = {"objects": [len(sent)]}

    @property
    def image_data(self):
        raise AssertionError("the page decoded the browser's image without checking it")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


@pytest.mark.parametrize("sent, said", [
    (bomb(), "30000 × 30000 image"),
    (b"data:text/html,<script>alert(1)</script>" * 500_000, "MB, more than"),  # about 20 MB
    (b"not an image at all", "not a PNG"),
])
def test_the_draw_page_refuses_a_hostile_canvas_and_memory_stays_flat(sent, said):
    at = AppTest.from_file(str(ROOT / "pages" / "draw.py"), default_timeout=TIMEOUT)
    with canvas_reporting(HostileCanvas(png_bytes(320, 320))):
        at.run()  # the page, the model and their memory, before the hostile report
    before = peak_rss_mb()
    with canvas_reporting(HostileCanvas(sent)):
        at.run()
    assert not at.exception
    assert len(at.metric) == 0  # no answer
    assert any(said in e.value and "Clear the canvas and draw again" in e.value for e in at.error), \
        [e.value for e in at.error]
    # Decoded, the bomb alone would take 900 MB as bits and 3.6 GB as RGBA.
    assert peak_rss_mb() - before < 100
