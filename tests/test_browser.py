"""The whole supporter's path in a real headless Chromium (Debian's package)."""

from __future__ import annotations

import gc
import io
import re
import socket
import struct
import threading
import time
import warnings
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect, sync_playwright
from pypdf import PdfReader
from werkzeug.serving import WSGIRequestHandler, make_server

from app.extensions import db
from app.library.services import sync_templates
from tests.factories import make_facility, make_prisoner

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LETTERS = Path(__file__).resolve().parent.parent / "letters"

pytestmark = pytest.mark.browser


class QuietHandler(WSGIRequestHandler):
    """Konvert logs no client addresses; neither does the test server."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def closed_when_dropped(app: Flask) -> WSGIApplication:
    """The app, with every response closed even when the client drops the connection.

    Werkzeug's development server calls the response's close() only after draining the
    socket, and a reset during the draining (Chromium cancelling a favicon request) skips
    it: the static file is then left for the garbage collector, whose ResourceWarning our
    warnings-as-errors turn into a failed test. A generator is closed when collected, so
    wrapping the response in one closes the file in every case. Gunicorn closes it anyway.
    """

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = app(environ, start_response)

        def body() -> Iterator[bytes]:
            try:
                yield from response
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()

        return body()

    return serve


@pytest.fixture
def live_server(app) -> Iterator[str]:
    sync_templates(LETTERS)
    db.session.commit()
    server = make_server(
        "127.0.0.1", 0, closed_when_dropped(app), threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_the_test_server_closes_files_when_the_browser_drops_the_connection(live_server):
    host, port = live_server.removeprefix("http://").split(":")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(50):
            with socket.create_connection((host, int(port))) as client:
                client.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: konvert\r\n\r\n")
                client.recv(65536)
                # Closing with a zero linger sends a reset, as a cancelled request does.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        time.sleep(0.5)
        gc.collect()
    assert [str(warning.message) for warning in caught] == []


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_search_write_print_and_report(app, live_server, browser):
    facility = make_facility()
    make_prisoner(facility, last_name="Фёдорова", first_name="Алёна", patronymic="Игоревна",
                  birth_year=1990)  # fmt: skip
    make_prisoner(facility)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(live_server + "/")
    page.get_by_label("Find a prisoner by name").fill("fedorova")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Фёдорова Алёна Игоревна").click()
    expect(page.locator(".address-block")).to_contain_text("Фёдоровой Алёне Игоревне, 1990 г.р.")

    page.get_by_role("link", name="Write a letter").click()
    page.get_by_label("Sign with").fill("Лиса")
    # Choosing a template does nothing until its button is pressed (WCAG 3.2.2).
    page.get_by_label("Template").select_option(label="Первое письмо")
    page.get_by_role("button", name="Use this template").click()
    body = page.get_by_label("Your letter")
    expect(body).to_contain_text("Здравствуйте, Алёна Игоревна!")
    expect(body).to_contain_text("Лиса")
    body.press("End")
    postscript = "P.S. У нас выпал первый снег."
    body.type("\n" + postscript)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview")).to_contain_text(postscript)
    page.get_by_role("button", name="Save and get my tracking link").click()

    expect(page.get_by_role("heading", name="Your letter is saved")).to_be_visible()
    private_link = page.locator("#private-link").input_value()
    assert "/t/" in private_link and page.url.startswith(private_link)
    expect(page.locator("#letter-status")).to_have_text("Written, not sent yet")

    pdf_href = page.get_by_role("link", name="Download PDF with a DL envelope").get_attribute(
        "href"
    )
    pdf = context.request.get(live_server + pdf_href)
    assert pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.body()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Здравствуйте, Алёна Игоревна!" in text and postscript in text
    assert "Фёдоровой Алёне Игоревне, 1990 г.р." in text and "601120" in text

    page.goto(private_link)
    page.get_by_label("What happened").select_option("sent")
    page.get_by_label("When").fill(date.today().isoformat())
    page.get_by_label("How it was sent").select_option("post")
    page.get_by_role("button", name="Report").click()
    expect(page.locator("#letter-status")).to_have_text("Sent")
    expect(page.locator(".timeline")).to_contain_text("Ordinary post")

    assert requested and all(url.startswith(live_server) for url in requested), requested
    context.close()


def test_live_risk_highlights_then_an_appeal_to_a_suggested_official(app, live_server, browser):
    from app.appeals.federal import sync_federal_officials
    from tests.factories import make_official

    facility = make_facility()
    prisoner = make_prisoner(facility, last_name="Соколова", first_name="Ирина",
                             patronymic="Олеговна", birth_year=1985)  # fmt: skip
    make_official(facility)
    sync_federal_officials()
    db.session.commit()
    context = browser.new_context(locale="en-GB")
    page = context.new_page()

    # The censor-risk check runs while the writer types, and never blocks them.
    page.goto(f"{live_server}/prisoners/{prisoner.id}/write")
    body = page.get_by_label("Your letter")
    body.fill("Дорогая Ирина!\n\nКак продвигается уголовное дело? У нас весна.")
    mark = page.locator("#live-highlight mark")
    expect(mark).to_have_text("уголовное дело")
    expect(mark).to_have_attribute("title", re.compile(r"\w+"))
    expect(page.locator("#findings .finding")).to_contain_text("High risk")
    body.fill("Дорогая Ирина!\n\nУ нас весна, цветут яблони.")
    expect(page.locator("#findings")).to_contain_text("No censor risks found")

    # An appeal to the first suggested addressee, the head of her facility.
    page.goto(f"{live_server}/prisoners/{prisoner.id}")
    page.get_by_role("link", name="Write an appeal").click()
    cards = page.locator(".official-card")
    expect(cards.first).to_contain_text("Начальнику ФКУ ИК-3")
    expect(cards.last).to_contain_text("Уполномоченному по правам человека")
    cards.first.get_by_role("link", name="Write to this addressee").click()
    page.get_by_label("Your full name").fill("Смирнова Анна Петровна")
    page.get_by_label("Template").select_option(
        label="О восстановлении свиданий и телефонных разговоров"
    )
    page.get_by_role("button", name="Use this template").click()
    expect(page.get_by_label("Your appeal")).to_contain_text("Соколовой Ирины Олеговны")
    page.get_by_role("button", name="Save and get my tracking link").click()
    expect(page.get_by_role("heading", name="Your appeal is saved")).to_be_visible()

    pdf_href = page.get_by_role("link", name="Download PDF with a DL envelope").get_attribute(
        "href"
    )
    reader = PdfReader(io.BytesIO(context.request.get(live_server + pdf_href).body()))
    first = " ".join(reader.pages[0].extract_text().split())
    assert "Начальнику ФКУ ИК-3 УФСИН России по Владимирской области" in first
    assert "Обращение" in first and "Заявитель: Смирнова Анна Петровна" in first
    assert "59-ФЗ" in " ".join(p.extract_text() for p in reader.pages)
    assert "601120" in reader.pages[-1].extract_text()
    context.close()


def test_an_evening_from_drive_to_print_pack_to_posting(app, live_server, browser):
    from tests.factories import make_user

    facility = make_facility()
    make_prisoner(facility, last_name="Морозова", first_name="Вера", patronymic="Ильинична",
                  birth_year=1979)  # fmt: skip
    make_user(email="org@example.org", password="a long organizer password")

    organizer = browser.new_context(locale="en-GB").new_page()
    organizer.goto(live_server + "/login")
    organizer.get_by_label("Email").fill("org@example.org")
    organizer.get_by_label("Password").fill("a long organizer password")
    organizer.get_by_role("button", name="Log in").click()
    organizer.goto(live_server + "/drives/new")
    organizer.get_by_label("Title").fill("Вечер писем в Тбилиси")
    organizer.get_by_label("Date").fill(date.today().isoformat())
    organizer.get_by_role("button", name="Create the drive").click()
    code = organizer.locator("#drive-code").inner_text()
    assert len(code) == 6

    writer = browser.new_context(locale="en-GB").new_page()
    writer.goto(live_server + "/join")
    writer.get_by_label("Code of the evening").fill(code.lower())
    writer.get_by_role("button", name="Continue").click()
    writer.get_by_label("Your name for this evening").fill("Лиса")
    writer.get_by_role("button", name="Join").click()
    expect(writer.locator("#assignments")).to_contain_text("Морозова Вера Ильинична")
    writer.get_by_role("link", name="Write", exact=True).click()
    writer.get_by_label("Sign with").fill("Лиса")
    writer.get_by_label("Your letter").fill("Дорогая Вера!\n\nУ нас весна, цветут яблони.\n\nЛиса")
    writer.get_by_role("button", name="Save and get my tracking link").click()
    expect(writer.locator("#assignments")).to_contain_text("Written.")

    # The drive page follows the evening live, without reloading.
    expect(organizer.locator('[data-stat="written"]')).to_have_text("1", timeout=10000)
    organizer.get_by_role("button", name="Build the print pack").click()
    expect(organizer.locator("#job-progress")).to_be_visible()
    expect(organizer.locator("#job-count")).to_have_text("1 / 1", timeout=60000)
    expect(organizer.locator("#job-status")).to_have_text("Ready", timeout=60000)
    href = organizer.get_by_role("link", name="Download the print pack").get_attribute("href")
    pack = PdfReader(io.BytesIO(organizer.context.request.get(live_server + href).body()))
    text = "\n".join(page.extract_text() for page in pack.pages)
    assert "У нас весна, цветут яблони." in text
    assert "Морозовой Вере Ильиничне, 1979 г.р." in text  # the envelope

    organizer.get_by_role("button", name="Mark the printed letters sent").click()
    expect(organizer.locator(".flash")).to_contain_text("1 letter marked sent.")
    expect(organizer.locator('[data-stat="sent"]')).to_have_text("1")


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_what_konvert_keeps_fits_a_phone(app, live_server, browser, locale):
    # 390 px wide (a phone): every part of /privacy is reachable without scrolling sideways.
    context = browser.new_context(locale=locale, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server + "/")
    footer_link = page.locator("footer").get_by_role("link", name=re.compile("Konvert"))
    footer_link.click()
    expect(page.locator("h1")).to_have_text(
        "What Konvert keeps" if locale == "en-GB" else "Что хранит Konvert"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The contents lead to each section, whose definitions stack in one column.
    page.locator(".kept-contents a").last.click()
    expect(page.locator("#kept-accounts")).to_be_in_viewport()
    columns = page.locator("#kept-accounts dl").evaluate(
        "dl => getComputedStyle(dl).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1
    context.close()
