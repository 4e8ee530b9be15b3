"""The Class page's address for students: known answers for the URL helpers (no Streamlit needed)."""

import pytest

from digits import address


@pytest.mark.parametrize("url, expected", [
    ("http://10.0.0.5:8501/classroom", "http://10.0.0.5:8501"),
    ("http://10.0.0.5:8501/classroom/", "http://10.0.0.5:8501"),
    ("https://school.example/digits/classroom", "https://school.example/digits"),
    ("http://10.0.0.5:8501/", "http://10.0.0.5:8501"),  # the router's default page
    ("http://10.0.0.5:8501/myclassroom", "http://10.0.0.5:8501/myclassroom"),  # not this page's path
    (None, None),
    ("", None),
])
def test_join_address_drops_the_page(url, expected):
    assert address.join_address(url, "classroom") == expected


@pytest.mark.parametrize("url, loopback", [
    ("http://localhost:8501", True),
    ("http://127.0.0.1:8501", True),
    ("http://127.3.2.1", True),
    ("http://[::1]:8501", True),
    ("http://app.localhost", True),
    ("http://10.0.0.5:8501", False),
    ("http://192.168.1.20:8501", False),
    ("https://school.example", False),
])
def test_is_loopback(url, loopback):
    assert address.is_loopback(url) is loopback


def test_with_host_keeps_scheme_port_and_path():
    assert address.with_host("http://localhost:8501/digits", "10.0.0.5") == "http://10.0.0.5:8501/digits"
    assert address.with_host("https://localhost", "10.0.0.5") == "https://10.0.0.5"


def test_student_address(monkeypatch):
    # A real network address is shown as it is.
    assert address.student_address("http://10.0.0.5:8501/classroom", "classroom", "") == ("http://10.0.0.5:8501", None)
    # Opened as localhost: students get the machine's network address instead...
    monkeypatch.setattr(address, "network_ip", lambda: "192.168.1.20")
    assert address.student_address("http://localhost:8501/classroom", "classroom", "") == ("http://192.168.1.20:8501", None)
    # ...unless the machine has none, or the server listens on loopback only: then a warning says so.
    monkeypatch.setattr(address, "network_ip", lambda: None)
    shown, problem = address.student_address("http://localhost:8501/classroom", "classroom", "")
    assert shown == "http://localhost:8501" and "no network address" in problem
    monkeypatch.setattr(address, "network_ip", lambda: "192.168.1.20")
    shown, problem = address.student_address("http://localhost:8501/classroom", "classroom", "127.0.0.1")
    assert shown == "http://localhost:8501" and "listens on 127.0.0.1 only" in problem


def test_network_ip_is_an_address_or_none():
    import ipaddress

    ip = address.network_ip()
    assert ip is None or not ipaddress.ip_address(ip).is_loopback
