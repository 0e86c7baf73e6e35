"""The private link after saving, in a real headless Chromium: "Copy link" puts it on the
clipboard and says so; without JavaScript the button is not shown (the link can be copied by
hand)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_facility, make_prisoner
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_browser_mailroom_evening import check_page

pytestmark = pytest.mark.browser


def test_copy_link_puts_the_private_link_on_the_clipboard(app, live_server, browser):  # noqa: F811
    prisoner = make_prisoner(make_facility())
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    page.goto(f"{live_server}/prisoners/{prisoner.id}/write")
    page.get_by_label("Sign with").fill("Anna")
    page.get_by_label("Your letter").fill("Дорогой Алексей!\n\nУ нас весна.\n\nАня")
    page.get_by_role("button", name="Save and get my tracking link").click()
    link = page.locator("#private-link").input_value()
    assert "/t/" in link
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).to_have_text("Copied. Keep it somewhere safe.")
    assert page.evaluate("navigator.clipboard.readText()") == link
    check_page(page)

    without_js = browser.new_context(java_script_enabled=False).new_page()
    without_js.goto(page.url)
    expect(without_js.get_by_role("button", name="Copy link")).to_be_hidden()
    assert without_js.locator("#private-link").input_value() == link
