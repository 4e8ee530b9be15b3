"""Where students reach the app: the address the Class page shows, from the page's own URL."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def join_address(page_url: str | None, page_path: str) -> str | None:
    """The app's address for students: this page's URL without the page; None when unknown.

    >>> join_address("http://10.0.0.5:8501/classroom", "classroom")
    'http://10.0.0.5:8501'
    """
    if not page_url:
        return None
    parts = urlsplit(page_url)
    path = parts.path.rstrip("/")
    if path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    return f"{parts.scheme}://{parts.netloc}{path}"


def is_loopback(address: str) -> bool:
    """Whether *address* names this machine only (localhost, 127.x, ::1): other devices cannot open it.

    >>> is_loopback("http://127.0.0.1:8501"), is_loopback("http://10.0.0.5:8501")
    (True, False)
    """
    host = urlsplit(address).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_host(address: str, host: str) -> str:
    """*address* with its host replaced, keeping scheme, port and path.

    >>> with_host("http://localhost:8501/digits", "10.0.0.5")
    'http://10.0.0.5:8501/digits'
    """
    parts = urlsplit(address)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def network_ip() -> str | None:
    """This machine's address on its network (a UDP connect sends no packet); None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            ip = probe.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(ip).is_loopback or ip == "0.0.0.0" else ip


def student_address(page_url: str | None, page_path: str, listening: str | None) -> tuple[str | None, str | None]:
    """Where students open the app, and a warning when they cannot.

    Opened as localhost on the projector's machine, the page's own URL is no use
    to students: the machine's network address is, unless the server listens on
    loopback only.

    Parameters
    ----------
    page_url : the URL the page was opened at, or None when unknown.
    page_path : the page's own path, dropped from the URL ("classroom").
    listening : the address the server listens on (Streamlit's ``server.address``; empty for all).
    """
    address = join_address(page_url, page_path)
    if address is None or not is_loopback(address):
        return address, None
    if listening and is_loopback(f"http://{listening}"):
        return address, (f"The server listens on {listening} only, so other devices cannot reach it. "
                         "Start it with `make run` to serve the whole network.")
    ip = network_ip()
    if ip is None:
        return address, ("This machine has no network address: students' devices cannot reach it. "
                         "Connect it to the class's network and reload.")
    return with_host(address, ip), None
