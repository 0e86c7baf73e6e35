"""A letter sent through the organisation, in a real headless Chromium: the writer chooses
the mailroom, a volunteer sends it back, the writer edits and resubmits, the volunteer
approves; both pages fit a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.models import Role
from tests.factories import make_facility, make_prisoner, make_user
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_mailroom_writer import open_mailroom

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_letter_through_the_mailroom_sent_back_resubmitted_and_approved(
    app,
    live_server,  # noqa: F811 - the fixture imported above
    browser,  # noqa: F811
):
    open_mailroom()
    prisoner = make_prisoner(make_facility(), notes_for_writers="Любит письма о природе.")
    make_user(email="volunteer@example.org", role=Role.MAILROOM, password="a long volunteer pass")

    writer = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
    writer.goto(f"{live_server}/prisoners/{prisoner.id}/write")
    writer.get_by_label("Sign with").fill("Аня")
    writer.get_by_label("Your letter").fill("Дорогой Алексей!\n\nКак прошёл суд?\n\nАня")
    writer.get_by_label("Send it through Письма свободы").check()
    fits_a_phone(writer)
    writer.get_by_role("button", name="Save and get my tracking link").click()
    expect(writer.locator("#mailroom-state")).to_have_text("Waiting for review")
    reference = writer.locator("#reference-code").inner_text()
    assert len(reference) == 9 and reference[4] == "-"
    fits_a_phone(writer)

    volunteer = browser.new_context(locale="en-GB").new_page()
    volunteer.goto(f"{live_server}/login")
    volunteer.get_by_label("Email").fill("volunteer@example.org")
    volunteer.get_by_label("Password").fill("a long volunteer pass")
    volunteer.get_by_role("button", name="Log in").click()
    volunteer.goto(f"{live_server}/mailroom")
    item = volunteer.locator(".review-item", has_text=reference)
    expect(item).to_contain_text("Любит письма о природе.")
    item.get_by_text("Send back to the writer…").click()
    item.get_by_label("What should the writer change?").fill("Пожалуйста, не пишите о суде.")
    item.get_by_role("button", name="Send back").click()
    expect(volunteer.locator(".flash")).to_contain_text(f"Letter {reference} sent back")

    writer.reload()
    expect(writer.locator("#writer-reason")).to_have_text("Пожалуйста, не пишите о суде.")
    writer.locator(".resubmit-form textarea").fill("Дорогой Алексей!\n\nУ нас весна.\n\nАня")
    writer.get_by_role("button", name="Send it for review again").click()
    expect(writer.locator(".flash")).to_contain_text("waiting for review again")
    expect(writer.locator("#mailroom-state")).to_have_text("Waiting for review")

    volunteer.goto(f"{live_server}/mailroom")
    item = volunteer.locator(".review-item", has_text=reference)
    expect(item).to_contain_text("У нас весна.")
    item.get_by_role("button", name="Approve").click()
    expect(volunteer.locator(".flash")).to_contain_text(f"Letter {reference} approved.")
    volunteer.set_viewport_size(PHONE)
    fits_a_phone(volunteer)

    writer.reload()
    expect(writer.locator("#mailroom-state")).to_have_text("Approved")
