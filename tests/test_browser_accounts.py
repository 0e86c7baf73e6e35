"""An admin sets up the organisation and a mailroom volunteer makes a token, in a real
headless Chromium, on a phone's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.mailroom.organisation import current_organisation
from app.models import Role
from tests.factories import make_user
from tests.test_browser import browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def log_in(page: Page, server: str, email: str, password: str) -> None:
    page.goto(server + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def fits(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_an_admin_opens_the_mailroom_and_a_volunteer_makes_a_token(
    app,
    live_server,  # noqa: F811 - the fixture imported above
    browser,  # noqa: F811
):
    make_user(email="chief@example.org", role=Role.ADMIN, password="a long admin password")
    make_user(email="vol@example.org", role=Role.MAILROOM, password="a long volunteer password")

    admin = browser.new_context(locale="en-GB", viewport=PHONE).new_page()
    log_in(admin, live_server, "chief@example.org", "a long admin password")
    admin.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Organisation"
    ).click()
    expect(admin.locator("h1")).to_have_text("The organisation")
    assert fits(admin)

    # Opening the mailroom without a return address is refused; what was typed stays.
    admin.get_by_label("Name of the organisation").fill("Письма свободы")
    admin.get_by_label("Postcode").fill("101000")
    admin.get_by_label(re.compile("The mailroom is open")).check()
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator("#return_address-error")).to_have_text(
        "Give the return address: the mailroom cannot open without it."
    )
    expect(admin.get_by_label("Name of the organisation")).to_have_value("Письма свободы")
    assert fits(admin)

    admin.get_by_label("Return address").fill("а/я 12\nг. Москва")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator(".flash")).to_have_text("Saved.")
    expect(admin.locator("#mailroom-state")).to_contain_text("The mailroom is open.")
    assert current_organisation().can_take_letters

    volunteer = browser.new_context(locale="ru-RU", viewport=PHONE).new_page()
    volunteer.goto(live_server + "/login?next=/account")
    volunteer.get_by_label("Электронная почта").fill("vol@example.org")
    volunteer.get_by_label("Пароль").fill("a long volunteer password")
    volunteer.get_by_role("button", name="Войти").click()
    navigation = volunteer.get_by_role("navigation", name="Ваша учётная запись")
    expect(navigation.get_by_role("link")).to_have_text(["Почтовая служба", "Учётная запись"])
    volunteer.get_by_label("Название").fill("Станция сканирования")
    volunteer.get_by_role("button", name="Создать токен").click()
    token = volunteer.locator("#new-token-value").input_value()
    assert re.fullmatch(r"kvt_[A-Za-z0-9_-]{43}", token)
    assert fits(volunteer)
    volunteer.goto(live_server + "/account")
    expect(volunteer.locator("#new-token-value")).to_have_count(0)
    expect(volunteer.locator("#token-list")).to_contain_text("Станция сканирования")
