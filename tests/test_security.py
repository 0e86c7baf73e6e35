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
        assert response.headers["X-XSS-Protection"] == "1; mode=block"
        assert response.headers["Referrer-Policy"] == "same-origin"


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


def test_numbers_too_large_for_an_id_are_not_found_rather_than_server_errors(app, client, admin):
    """Every route with a number in its path, and the lists' page and filter parameters,
    given a number no id can be (SQLite and psycopg would overflow): 404 or 400, never 500."""
    from tests.conftest import log_in

    log_in(client, admin)  # so that the organizers' and admins' routes reach their lookups
    huge = str(10**20)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or "int" not in rule.rule:
            continue
        url = re.sub(r"<int[^>]*>", huge, rule.rule)
        url = re.sub(r"<[^>]+>", "x", url)
        response = client.get(url)
        assert response.status_code == 404, (url, response.status_code)
        checked += 1
    assert checked >= 10  # the routes with ids were all found
    for url in (f"/prisoners?facility={huge}", f"/prisoners?page={huge}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "is out of range" in response.get_data(as_text=True), url
    for url in ("/prisoners/in-transit", "/manage/prisoners", "/manage/audit", "/admin/outbox"):
        response = client.get(f"{url}?page={huge}")
        assert response.status_code == 400, url
        assert "could not be understood" in response.get_data(as_text=True), url
    # Where a number only chooses what a form starts with, a number no id can be chooses none.
    prisoner = make_prisoner(make_facility())
    page = client.get(f"/prisoners/{prisoner.id}/write?template={huge}")
    assert page.status_code == 200
    assert "Blank letter" in page.get_data(as_text=True)
    assert client.get(f"/drives/new?facility={huge}").status_code == 200


def test_forms_work_over_https_in_production_with_the_referer_browsers_send(
    migrated_database, tmp_path
):
    """Over HTTPS, Flask-WTF requires a same-site Referer on every form post. The pages ask
    browsers to send it within the site only (Referrer-Policy: same-origin): with
    "no-referrer" every form failed in production (found by `make audit`)."""
    import shutil

    from app import create_app
    from tests.conftest import csrf_token, page_text

    shutil.copy(migrated_database, tmp_path / "konvert.db")
    production = create_app(
        "production",
        {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32,
         "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'konvert.db'}",
         "PUBLIC_URL": "https://konvert.example.org"},
    )  # fmt: skip
    client = production.test_client()
    https = {"base_url": "https://konvert.example.org"}
    page = client.get("/login", **https)
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.get_data(as_text=True)
    form = {"csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": "nobody@example.org", "password": "not the password at all"}  # fmt: skip
    # What a browser sends under that policy: the page's own address as the Referer.
    sent = client.post(
        "/login", data=form, headers={"Referer": "https://konvert.example.org/login"}, **https
    )
    assert sent.status_code == 422
    assert "Wrong email or password." in page_text(sent)
    # Without it (what "no-referrer" made browsers do), the form is refused.
    refused = client.post("/login", data=form, **https)
    assert refused.status_code == 400
    assert "This form has expired or was sent from somewhere else" in page_text(refused)
