"""One class on two app servers behind nginx, configured by docs/nginx.conf, driven in a real browser."""

from __future__ import annotations

import os
import re
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from digits import store
from support import browser, servers
from tests import postgres

# On a developer machine without chromium or nginx the browser tests are skipped; in CI they must run.
needs_browser_and_nginx = pytest.mark.skipif(
    not (browser.chromium_available() and servers.nginx_available()) and not os.environ.get("CI"),
    reason="needs Debian's chromium and nginx (apt-get install chromium nginx); .ci/run installs them",
)
VIEWPORT = {"width": 1400, "height": 1100}


def test_the_doc_is_rendered_with_only_its_ports_and_log_folder_changed():
    template = servers.NGINX_CONF.read_text()
    as_documented = servers.render(template, [8501, 8502], 80, "/var/log/nginx")
    assert as_documented == template.replace("listen 80;", "listen 127.0.0.1:80;")  # loopback only
    three = servers.render(template, [9001, 9002, 9003], 9000, "/tmp/here")
    assert re.findall(r"server 127\.0\.0\.1:(\d+);", three) == ["9001", "9002", "9003"]
    assert "listen 127.0.0.1:9000;" in three and "/tmp/here/digits.access.log" in three
    assert "127.0.0.1:8501" not in three and "listen 80;" not in three and "/var/log/nginx" not in three


@pytest.fixture(scope="module")
def database_url(request) -> Iterator[str | None]:
    """The class's PostgreSQL database where PostgreSQL is installed; None: the servers share a SQLite file."""
    if postgres.bindir() is None and not os.environ.get("CI"):
        yield None
        return
    cluster = request.getfixturevalue("postgres")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture(scope="module")
def school(database_url, tmp_path_factory):
    """Two app servers sharing one class, nginx in front as docs/nginx.conf says, and one Chromium."""
    env = {"DIGITS_DATA_DIR": str(tmp_path_factory.mktemp("data"))}
    if database_url:
        env["DIGITS_DATABASE_URL"] = database_url
    with servers.app_servers(2, env=env) as apps, \
            servers.nginx_in_front([servers.port_of(app) for app in apps]) as nginx, \
            browser.browser() as chromium:
        yield apps, nginx, chromium


def wait_for(predicate, timeout: float = 30.0):
    return browser.wait_for(predicate, timeout, every=0.2)  # pages behind nginx, on a busy machine


def open_draw_page(chromium, url: str, sticky_key: str | None = None):
    """A new browser (own cookies, own Streamlit session) on the draw page; with a key, as nginx had set it."""
    context = chromium.new_context(viewport=VIEWPORT)
    if sticky_key:
        context.add_cookies([{"name": "digits_server", "value": sticky_key, "url": url}])
    page = context.new_page()
    page.goto(url)
    browser.canvas_box(page)  # waits for the canvas: the websocket is up and the page has run
    return page


def read(page, digit: int) -> str | None:
    browser.draw(page, browser.DIGIT_STROKES[digit])
    return wait_for(lambda: browser.prediction(page), timeout=60)


def sticky_key(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "digits_server")


def key_on(nginx, port: int) -> str:
    """A sticky key that nginx hashes to the app server on ``port`` (tried with plain requests)."""
    for _ in range(64):
        key = uuid.uuid4().hex
        request = urllib.request.Request(f"{nginx.url}/_stcore/health", headers={"Cookie": f"digits_server={key}"})
        urllib.request.urlopen(request, timeout=10).close()
        if wait_for(lambda key=key: nginx.upstreams_by_key().get(key), timeout=5) == {f"127.0.0.1:{port}"}:
            return key
    raise AssertionError(f"no key of 64 went to 127.0.0.1:{port}")


@pytest.mark.browser
@needs_browser_and_nginx
def test_a_drawing_is_read_through_nginx(school):
    _, nginx, chromium = school
    page = open_draw_page(chromium, nginx.url)
    try:
        assert read(page, 7) == "7"  # the answer comes over the websocket, through the proxy
    finally:
        page.context.close()


@pytest.mark.browser
@needs_browser_and_nginx
def test_each_browser_stays_on_one_server_through_reruns(school):
    apps, nginx, chromium = school
    pages = [open_draw_page(chromium, nginx.url) for _ in range(3)]
    try:
        keys = [sticky_key(page) for page in pages]  # nginx set one cookie per browser
        for page, digit in zip(pages, [1, 4, 0]):
            assert read(page, digit) == str(digit)
            browser.clear(page)
            assert read(page, 7) == "7"  # a second drawing in the same Streamlit session
    finally:
        for page in pages:
            page.context.close()  # a websocket's line is written to the access log when it closes
    assert wait_for(lambda: all(websocket_logged(nginx, key) for key in keys)), "a websocket was not logged"
    upstreams, served = {f"127.0.0.1:{servers.port_of(app)}" for app in apps}, nginx.upstreams_by_key()
    for key in keys:
        assert len(served[key]) == 1 and served[key] <= upstreams, f"browser {key} was served by {served[key]}"


def websocket_logged(nginx, key: str) -> bool:
    return any(e.key == key and "/_stcore/stream" in e.request and e.status == 101 for e in nginx.logged())


@pytest.mark.browser
@needs_browser_and_nginx
def test_a_drawing_labelled_on_one_server_is_counted_on_the_other(school, database_url):
    if database_url is None:
        pytest.skip("needs PostgreSQL's server (apt-get install postgresql); .ci/run installs it")
    apps, nginx, chromium = school
    first, second = (servers.port_of(app) for app in apps)
    keys = key_on(nginx, first), key_on(nginx, second)
    student, projector = (open_draw_page(chromium, nginx.url, key) for key in keys)
    db = store.connect(database_url)
    try:
        projector.goto(f"{nginx.url}/classroom")
        projector.get_by_role("heading", name="Class").wait_for()
        before = store.summary(db, "any").drawings
        assert read(student, 1) == "1"
        student.get_by_role("button", name="Right, it's a 1").click()
        student.get_by_text("Saved as a 1").wait_for(timeout=30_000)
        assert wait_for(lambda: class_count(projector) == before + 1), class_count(projector)
        assert store.summary(db, "any").drawings == before + 1  # stored once
    finally:
        db.close()
        student.context.close()
        projector.context.close()
    assert wait_for(lambda: websocket_logged(nginx, keys[0]) and websocket_logged(nginx, keys[1]))
    served = nginx.upstreams_by_key()
    assert served[keys[0]] == {f"127.0.0.1:{first}"} and served[keys[1]] == {f"127.0.0.1:{second}"}


def class_count(page) -> int | None:
    """The "Drawings" card of the Class page, or None while it shows none."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Drawings")
    values = metric.locator('[data-testid="stMetricValue"]').all_inner_texts()  # no wait: it may be rerunning
    return int(values[0]) if values else None
