"""Several app servers for one class: nginx in front of them, as docs/nginx.conf sets it up.

Used by tests/test_servers.py and ``bench.load --servers``. Needs Debian's
nginx. The configuration nginx runs is docs/nginx.conf itself, with only its
ports and log folder swapped for the test's, so a test through it tests the
documented setup.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from digits.config import ROOT
from support import browser

NGINX_CONF = ROOT / "docs" / "nginx.conf"

# The parts of docs/nginx.conf that name this machine: swapped for the test's own.
_UPSTREAM_SERVERS = re.compile(r"^(?P<indent>[ \t]*)server 127\.0\.0\.1:\d+;\n", re.MULTILINE)
_LISTEN = re.compile(r"^(?P<indent>[ \t]*)listen 80;$", re.MULTILINE)
_LOG_FOLDER = "/var/log/nginx/"

# What wraps a conf.d file: nginx reads those inside `http`. Temporary files stay in the prefix,
# so nginx needs no system folder (and runs without root too).
_MAIN = """\
{user}worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include site.conf;
}}
"""


def nginx_available() -> bool:
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


def _nginx() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def render(template: str, upstream_ports: list[int], listen_port: int, log_folder: Path) -> str:
    """docs/nginx.conf's text for these upstream ports, listening on 127.0.0.1:``listen_port``.

    Raises ValueError when the template no longer has the lines this swaps: a
    changed doc must change this too, not be tested half.
    """
    servers = list(_UPSTREAM_SERVERS.finditer(template))
    if not servers or len(_LISTEN.findall(template)) != 1 or _LOG_FOLDER not in template:
        raise ValueError("docs/nginx.conf no longer has the `server 127.0.0.1:PORT;` upstream lines, "
                         f"one `listen 80;` and a log under {_LOG_FOLDER}: update support/servers.py")
    indent = servers[0]["indent"]
    upstream = "".join(f"{indent}server 127.0.0.1:{port};\n" for port in upstream_ports)
    text = template[:servers[0].start()] + upstream + _UPSTREAM_SERVERS.sub("", template[servers[0].start():])
    text = _LISTEN.sub(rf"\g<indent>listen 127.0.0.1:{listen_port};", text)
    return text.replace(_LOG_FOLDER, f"{log_folder}/")


@dataclass(frozen=True)
class Logged:
    """One line of the access log docs/nginx.conf writes."""

    request: str  # "GET /_stcore/stream HTTP/1.1"
    status: int
    upstreams: tuple[str, ...]  # host:port of the app servers tried, the one that answered last
    key: str  # the browser's sticky key (its digits_server cookie, or the id it was given)


_LINE = re.compile(r'"(?P<request>[^"]*)" (?P<status>\d+) upstream=(?P<upstreams>.*) key=(?P<key>\S+) rt=')


@dataclass(frozen=True)
class Nginx:
    """A running nginx in front of the app servers."""

    url: str
    access_log: Path

    def logged(self) -> list[Logged]:
        """The requests answered so far (a websocket is logged when it closes)."""
        found = (_LINE.search(line) for line in self.access_log.read_text().splitlines())
        return [Logged(m["request"], int(m["status"]), tuple(u.strip() for u in m["upstreams"].split(",")), m["key"])
                for m in found if m]

    def upstreams_by_key(self) -> dict[str, set[str]]:
        """For each browser (its sticky key), the app servers that answered it so far."""
        seen: dict[str, set[str]] = {}
        for entry in self.logged():
            seen.setdefault(entry.key, set()).update(entry.upstreams)
        return seen


@contextlib.contextmanager
def nginx_in_front(upstream_ports: list[int], config_template: Path = NGINX_CONF) -> Iterator[Nginx]:
    """Run nginx with ``config_template`` (a conf.d file) on a free loopback port before ``upstream_ports``."""
    if not nginx_available():
        raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx)")
    prefix = Path(tempfile.mkdtemp(prefix="digits-nginx-"))
    port = browser.free_port()
    user = ""
    if os.geteuid() == 0:  # as root, nginx's workers drop to an unprivileged user: let them into the prefix
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};\n"
        prefix.chmod(0o755)
    (prefix / "tmp").mkdir()
    (prefix / "logs").mkdir()
    (prefix / "site.conf").write_text(render(config_template.read_text(), upstream_ports, port, prefix / "logs"))
    (prefix / "nginx.conf").write_text(_MAIN.format(user=user))
    process = subprocess.Popen(
        [_nginx(), "-p", f"{prefix}/", "-c", "nginx.conf", "-e", "logs/error.log",
         "-g", f"daemon off; pid {prefix}/nginx.pid;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_it_answers(url, process, prefix / "logs" / "error.log")
        yield Nginx(url, prefix / "logs" / "digits.access.log")
    finally:
        process.terminate()  # SIGTERM: fast shutdown, open websockets closed
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(prefix, ignore_errors=True)


def _wait_until_it_answers(url: str, process: subprocess.Popen, error_log: Path, timeout: float = 20) -> None:
    """Return once nginx passes a health check through to an app server."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:  # not listening yet, or a 502 while no app server answers
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            said = process.stderr.read().decode() if process.poll() is not None else ""
            log = error_log.read_text() if error_log.exists() else ""
            raise RuntimeError(f"nginx did not answer on {url} within {timeout:.0f} s "
                               f"(exit status {process.poll()}): {(said + log)[-2000:]}")
        time.sleep(0.2)


@contextlib.contextmanager
def app_servers(count: int, env: dict | None = None) -> Iterator[list[browser.Server]]:
    """``count`` app servers, each ``streamlit run app.py`` on a free port with the same ``env``."""
    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(browser.streamlit_server(env=env)) for _ in range(count)]


def port_of(server: browser.Server) -> int:
    return int(server.url.rsplit(":", 1)[1])
