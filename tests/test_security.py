"""Security headers, no third-party requests, no addresses in logs, safe redirects, languages."""

from __future__ import annotations

import logging
import re

import pytest

from app.security import safe_next_url
from tests.factories import make_facility, make_letter, make_prisoner


@pytest.fixture
def pages(app) -> list[str]:
    facility = make_facility()
    prisoner = make_prisoner(facility)
    letter = make_letter(prisoner)
    return [
        "/",
        "/prisoners",
        f"/prisoners/{prisoner.id}",
        f"/prisoners/{prisoner.id}/write",
        f"/facilities/{facility.id}",
        f"/t/{letter.token}",
        "/missing-page",
    ]


def test_every_page_sends_security_headers(client, pages):
    for url in pages:
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "object-src 'none'" in csp, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_no_page_loads_anything_from_another_site(client, pages):
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        for attribute in re.findall(r'(?:src|href|action)="([^"]*)"', html):
            assert not re.match(r"^(https?:)?//", attribute), f"{url} loads {attribute}"


@pytest.mark.parametrize(
    ("path", "starts_with"),
    [
        ("/static/css/konvert.css", b"/* Konvert"),
        ("/static/fonts/PTS55F.ttf", b"\x00\x01\x00\x00"),  # a TrueType font
        ("/static/js/composer.js", b"// Progressive enhancement"),
    ],
)
def test_static_assets_are_served_locally(client, app, path, starts_with):
    with client.get(path) as response:
        assert response.status_code == 200
        assert response.data.startswith(starts_with)


def test_no_ip_address_reaches_the_logs(client, pages, caplog):
    caplog.set_level(logging.DEBUG)
    for url in pages:
        client.get(url, environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert "203.0.113.77" not in caplog.text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/prisoners?q=a", "/prisoners?q=a"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_next_redirects_stay_on_this_site(target, expected):
    assert safe_next_url(target, "/") == expected


def test_language_follows_the_browser_and_can_be_switched(client, app):
    russian = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert 'lang="ru"' in russian.get_data(as_text=True)
    assert "Написать политзаключённому" in russian.get_data(as_text=True)
    response = client.get("/language/en?next=/prisoners")
    assert response.headers["Location"] == "/prisoners"
    english = client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Write to a political prisoner" in english.get_data(as_text=True)
    evil = client.get("/language/ru?next=https://evil.example/")
    assert evil.headers["Location"] == "/"
