"""A mailroom volunteer's whole evening, in a real headless Chromium: two writers send letters
through the organisation; one is sent back and resubmitted; a run is built, its three files
downloaded and read back, and posted; a reply with its code is matched at once, one without a
code from the holding pen; both writers open their reply through their links. Every page of
the evening passes axe-core and fits a phone."""

from __future__ import annotations

import io
import re
from datetime import date
from urllib.parse import urljoin

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from app.models import Role
from app.russian.names import Gender
from tests.factories import make_facility, make_prisoner, make_user
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_mailroom_writer import open_mailroom

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AXE = Axe()


def check_page(page: Page) -> None:
    """What every page of the evening must be: no axe-core violation, no sideways scrolling
    at a phone's width."""
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()
    width = page.viewport_size["width"] if page.viewport_size else PHONE["width"]
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    page.set_viewport_size({"width": width, "height": PHONE["height"]})


def write_through_the_organisation(page: Page, base: str, prisoner_id: int, body: str) -> str:
    """Write a letter, send it through the organisation; its reference code."""
    page.goto(f"{base}/prisoners/{prisoner_id}/write")
    page.get_by_label("Sign with").fill("Аня")
    page.get_by_label("Your letter").fill(body)
    page.get_by_label("Send it through Письма свободы").check()
    page.get_by_role("button", name="Save and get my tracking link").click()
    expect(page.locator("#mailroom-state")).to_have_text("Waiting for review")
    return page.locator("#reference-code").inner_text()


def scan_png() -> bytes:
    """A page of a reply as a phone photographs it (with the phone's EXIF)."""
    image = Image.new("RGB", (600, 800), "white")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


def download(page: Page, link: str) -> bytes:
    """The file a link on the page leads to, fetched with the browser's cookies (Chromium
    shows a PDF instead of downloading it)."""
    href = page.get_by_role("link", name=link).first.get_attribute("href")
    assert href is not None
    response = page.context.request.get(urljoin(page.url, href))
    assert response.ok, (href, response.status)
    assert response.headers["cache-control"] == "no-store"
    return response.body()


def test_a_mailroom_volunteers_evening(app, live_server, browser):  # noqa: F811
    open_mailroom()
    first = make_prisoner(make_facility(), last_name="Горинов", first_name="Алексей")
    second = make_prisoner(
        make_facility(code="ИК-6", name="ФКУ ИК-6 УФСИН России по Владимирской области"),
        last_name="Скочиленко",
        first_name="Александра",
        gender=Gender.FEMALE,
        patronymic="Юрьевна",
    )
    make_user(email="volunteer@example.org", role=Role.MAILROOM, password="a long volunteer pass")

    # Two writers, on phones, in English and in Russian.
    anna = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
    first_code = write_through_the_organisation(
        anna, live_server, first.id, "Дорогой Алексей!\n\nКак прошёл суд?\n\nАня"
    )
    anna_link = anna.url.split("?")[0]
    check_page(anna)
    boris = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
    second_code = write_through_the_organisation(
        boris, live_server, second.id, "Дорогая Саша!\n\nУ нас выпал снег.\n\nБорис"
    )
    boris_link = boris.url.split("?")[0]
    assert first_code != second_code

    # The volunteer logs in and lands in the mailroom.
    volunteer = browser.new_context(locale="en-GB", accept_downloads=True).new_page()
    volunteer.goto(f"{live_server}/login")
    volunteer.get_by_label("Email").fill("volunteer@example.org")
    volunteer.get_by_label("Password").fill("a long volunteer pass")
    volunteer.get_by_role("button", name="Log in").click()
    expect(volunteer).to_have_url(re.compile(r"/mailroom/?$"))
    check_page(volunteer)

    # Review: one letter is sent back, the other approved.
    item = volunteer.locator(".review-item", has_text=first_code)
    item.get_by_text("Send back to the writer…").click()
    item.get_by_label("What should the writer change?").fill("Пожалуйста, не пишите о суде.")
    item.get_by_role("button", name="Send back").click()
    expect(volunteer.locator(".flash")).to_contain_text(f"Letter {first_code} sent back")
    volunteer.locator(".review-item", has_text=second_code).get_by_role(
        "button", name="Approve"
    ).click()
    expect(volunteer.locator(".flash")).to_contain_text(f"Letter {second_code} approved.")

    # The first writer reads why, edits and resubmits; the volunteer approves it.
    anna.reload()
    expect(anna.locator("#writer-reason")).to_have_text("Пожалуйста, не пишите о суде.")
    check_page(anna)
    anna.locator(".resubmit-form textarea").fill("Дорогой Алексей!\n\nУ нас весна.\n\nАня")
    anna.get_by_role("button", name="Send it for review again").click()
    expect(anna.locator("#mailroom-state")).to_have_text("Waiting for review")
    volunteer.goto(f"{live_server}/mailroom")
    volunteer.locator(".review-item", has_text=first_code).get_by_role(
        "button", name="Approve"
    ).click()
    expect(volunteer.locator(".flash")).to_contain_text(f"Letter {first_code} approved.")

    # A run of both letters: built (at once here: jobs run in the request in tests).
    volunteer.goto(f"{live_server}/mailroom/runs")
    check_page(volunteer)
    volunteer.get_by_role("button", name="Start a run with every approved letter").click()
    expect(volunteer.locator("#run-status")).to_have_text("Built")
    check_page(volunteer)
    letters = PdfReader(io.BytesIO(download(volunteer, "Download the letters")))
    envelopes = PdfReader(io.BytesIO(download(volunteer, "Download the envelopes")))
    cover = PdfReader(io.BytesIO(download(volunteer, "Download the list for the post office")))
    letters_text = " ".join(page.extract_text() for page in letters.pages)
    assert f"Пожалуйста, укажите в ответе код {first_code}" in letters_text
    assert f"Пожалуйста, укажите в ответе код {second_code}" in letters_text
    assert "У нас весна." in letters_text and "Как прошёл суд?" not in letters_text
    assert len(envelopes.pages) == 2
    envelope_text = " ".join(page.extract_text() for page in envelopes.pages)
    assert "Письма свободы" in envelope_text and "101000" in envelope_text
    assert "Горинову Алексею" in envelope_text
    cover_text = " ".join(page.extract_text() for page in cover.pages)
    # In the volunteer's language: two destinations, one light letter each.
    assert "Total 2 20 up to 20 g × 2" in cover_text

    volunteer.get_by_label("Posted on").fill(date.today().isoformat())
    volunteer.get_by_role("button", name="Mark the run posted").click()
    expect(volunteer.locator("body")).to_contain_text("Posted on")
    anna.reload()
    expect(anna.locator("#mailroom-state")).to_contain_text("Posted")

    # The post comes back: a reply with its code is matched at once.
    volunteer.goto(f"{live_server}/mailroom/replies/new")
    check_page(volunteer)
    volunteer.get_by_label("Scanned pages").set_input_files(
        [{"name": "page1.png", "mimeType": "image/png", "buffer": scan_png()}]
    )
    volunteer.get_by_label("Reference code").fill(first_code)
    volunteer.get_by_label("Received on").fill(date.today().isoformat())
    volunteer.get_by_role("button", name="Upload the reply").click()
    expect(volunteer.locator(".flash")).to_contain_text(first_code)

    # One without a code waits in the holding pen, and is matched there by hand.
    volunteer.goto(f"{live_server}/mailroom/replies/new")
    volunteer.get_by_label("Scanned pages").set_input_files(
        [{"name": "reply.png", "mimeType": "image/png", "buffer": scan_png()}]
    )
    volunteer.get_by_label("Received on").fill(date.today().isoformat())
    volunteer.get_by_role("button", name="Upload the reply").click()
    volunteer.goto(f"{live_server}/mailroom/held")
    check_page(volunteer)
    volunteer.get_by_label("From").select_option(str(second.id))
    volunteer.get_by_role("button", name="Show their letters").click()
    volunteer.get_by_role("button", name=f"Match to {second_code}").click()
    expect(volunteer.locator(".flash")).to_contain_text("Matched")

    # Both writers see their reply through their links, and open it.
    for writer, link in ((anna, anna_link), (boris, boris_link)):
        writer.goto(link)
        expect(writer.locator("#replies")).to_contain_text("Reply received on")
        check_page(writer)
        raw = download(writer, "Reply received on")
        assert len(PdfReader(io.BytesIO(raw)).pages) == 1
        assert b"PhoneMaker" not in raw  # the phone's EXIF did not survive the scan
    assert b"PhoneMaker" in scan_png()  # (it was there to begin with)
