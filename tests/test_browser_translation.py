"""A letter translated at the desk, in a real headless Chromium: an English writer asks for a
translation and sends the letter through the organisation; a translator claims, translates and
submits; a second translator approves; the mailroom approves and prints it; the run prints the
Russian text with the volunteers' line and never the original; the writer reads the
translation through the link; the run is posted, a reply comes back and is translated back
into English by a translator who reads its scan, and the writer reads both. Every page passes
axe-core and fits a phone."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from app.models import Role
from tests.factories import make_facility, make_prisoner, make_user
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_browser_mailroom_evening import check_page, download, scan_png
from tests.test_mailroom_writer import open_mailroom

pytestmark = pytest.mark.browser

PASSWORD = "a long volunteer pass"
ORIGINAL = "Dear Alexei,\n\nIt snowed here today and I thought of you.\n\nAnna"
RUSSIAN = "Дорогой Алексей!\n\nСегодня у нас выпал снег, и я подумала о вас.\n\nАнна"
REPLY = "Dear Anna,\n\nThank you for the snow. Here it is grey.\n\nAlexei"


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_letter_is_translated_reviewed_printed_and_read_back(app, live_server, browser):  # noqa: F811
    open_mailroom(translation_review=True)
    prisoner = make_prisoner(make_facility(), languages="ru")
    make_user(email="post@example.org", role=Role.MAILROOM, password=PASSWORD)
    for email, languages in (("first@example.org", "en"), ("second@example.org", "en,ru")):
        make_user(
            email=email,
            role=Role.TRANSLATOR,
            password=PASSWORD,
            translates_from=languages,
            translates_into="ru,en" if "," in languages else "ru",
        )
    make_user(
        email="back@example.org",
        role=Role.TRANSLATOR,
        password=PASSWORD,
        translates_from="ru",
        translates_into="en",
    )

    # The writer, in English, asks for a translation and sends it through the organisation.
    writer = browser.new_context(locale="en-GB").new_page()
    writer.goto(f"{live_server}/prisoners/{prisoner.id}/write")
    writer.get_by_label("Language of the letter").select_option("en")
    writer.get_by_label("Sign with").fill("Anna")
    writer.get_by_label("Your letter").fill(ORIGINAL)
    writer.get_by_role("button", name="Preview").click()
    writer.get_by_label("Have it translated").check()
    writer.get_by_label("A note for the translator (optional)").fill("Alexei is a friend.")
    writer.get_by_label("Send it through Письма свободы").check()
    check_page(writer)
    writer.get_by_role("button", name="Save and get my tracking link").click()
    expect(writer.locator("#mailroom-state")).to_have_text("Waiting for a translator")
    link = writer.url.split("?")[0]
    reference = writer.locator("#reference-code").inner_text()
    check_page(writer)

    # A translator lands on the desk, claims the letter, translates and submits it.
    first = browser.new_context(locale="en-GB").new_page()
    log_in(first, live_server, "first@example.org")
    expect(first).to_have_url(re.compile(r"/translate$"))
    check_page(first)
    first.get_by_role("button", name="Claim").first.click()
    expect(first.locator("body")).to_contain_text("Alexei is a friend.")
    # The censor-risk check follows the Russian text as it is typed, before any save.
    first.get_by_label("Translation").fill("Дорогой Алексей!\n\nКак прошёл суд?")
    expect(first.locator("#findings")).to_contain_text("суд")
    first.get_by_label("Translation").fill(RUSSIAN)
    expect(first.locator("#findings")).to_contain_text("No censor risks found.")
    check_page(first)
    first.get_by_role("button", name="Submit").click()

    # A second translator approves it; the mailroom then reviews and prints it.
    second = browser.new_context(locale="en-GB").new_page()
    log_in(second, live_server, "second@example.org")
    expect(second.locator("body")).to_contain_text("Waiting for your review")
    second.get_by_role("link", name=re.compile(r"^Translation \d+$")).first.click()
    check_page(second)
    second.get_by_role("button", name="Approve").click()

    writer.goto(link)
    expect(writer.locator("#mailroom-state")).to_have_text("Waiting for review")
    expect(writer.locator("body")).to_contain_text("Сегодня у нас выпал снег")

    volunteer = browser.new_context(locale="en-GB").new_page()
    log_in(volunteer, live_server, "post@example.org")
    volunteer.goto(f"{live_server}/mailroom")
    volunteer.locator(".review-item").first.get_by_role("button", name="Approve").click()
    volunteer.goto(f"{live_server}/mailroom/runs")
    volunteer.get_by_role("button", name="Start a run with every approved letter").click()
    expect(volunteer.locator("#run-status")).to_have_text("Built")
    letters = PdfReader(io.BytesIO(download(volunteer, "Download the letters")))
    printed = " ".join(page.extract_text() for page in letters.pages)
    assert "Сегодня у нас выпал снег, и я подумала о вас." in printed
    assert "Перевод с английского" in printed
    assert "It snowed here today" not in printed  # the original is never printed

    # Posted; the prisoner answers in Russian, and the reply comes back with its code.
    volunteer.get_by_label("Posted on").fill(date.today().isoformat())
    volunteer.get_by_role("button", name="Mark the run posted").click()
    volunteer.goto(f"{live_server}/mailroom/replies/new")
    volunteer.get_by_label("Scanned pages").set_input_files(
        [{"name": "page1.png", "mimeType": "image/png", "buffer": scan_png()}]
    )
    volunteer.get_by_label("Reference code").fill(reference)
    volunteer.get_by_label("Received on").fill(date.today().isoformat())
    volunteer.get_by_role("button", name="Upload the reply").click()
    expect(volunteer.locator(".flash")).to_contain_text(reference)

    writer.goto(link)
    expect(writer.locator("#replies")).to_contain_text("Waiting for a translator")

    # A translator from Russian into English reads the scan and translates it back.
    back = browser.new_context(locale="en-GB").new_page()
    log_in(back, live_server, "back@example.org")
    expect(back.locator("#open-work")).to_contain_text("a prisoner's reply, for its writer")
    back.get_by_role("button", name="Claim").first.click()
    check_page(back)
    with back.expect_popup() as opened:
        back.get_by_role("link", name="open the scanned reply").click()
    scan = opened.value
    assert scan.url.endswith("/scan")
    scan.close()
    back.get_by_label("Translation").fill(REPLY)
    back.get_by_role("button", name="Submit").click()
    expect(back.locator(".flash")).to_contain_text("Translation submitted for review.")
    writer.goto(link)
    expect(writer.locator("#replies")).to_contain_text("waiting for a second translator")

    # The second translator reviews it too.
    second.goto(f"{live_server}/translate")
    second.get_by_role("link", name=re.compile(r"^Translation \d+$")).first.click()
    expect(second.locator("#reply-scan")).to_be_visible()
    second.get_by_role("button", name="Approve").click()
    expect(second.locator(".flash")).to_contain_text("Translation approved.")

    # The writer reads both: the Russian translation of the letter, and the reply in English.
    writer.goto(link)
    expect(writer.locator("#translation-text")).to_contain_text("Сегодня у нас выпал снег")
    expect(writer.locator("#replies")).to_contain_text("Thank you for the snow. Here it is grey.")
    check_page(writer)
    raw = download(writer, "Reply received on")
    assert len(PdfReader(io.BytesIO(raw)).pages) == 1
