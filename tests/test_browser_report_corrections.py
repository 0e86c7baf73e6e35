"""Undoing a report in a real headless Chromium, in English and Russian: a same-day arrival by
post asks for confirmation, the report is corrected, then withdrawn; every page passes axe-core
and fits a phone."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from app.models import Channel, EventKind
from tests.factories import add_event, make_facility, make_letter, make_prisoner
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_browser_mailroom_evening import AXE, check_page

pytestmark = pytest.mark.browser

TODAY = date.today()
SENT_ON = TODAY - timedelta(days=20)

WORDS = {
    "en": {
        "what": "What happened", "when": "When", "report": "Report", "same_day": "Yes, it "
        "really was the same day", "correct": "Correct", "save": "Save the correction",
        "withdraw": "Withdraw", "withdraw_button": "Withdraw this report",
        "corrected": "Your report was corrected.", "withdrawn": "Your report was withdrawn.",
        "took": "It took 9 days to arrive.",
    },
    "ru": {
        "what": "Что произошло", "when": "Когда", "report": "Сообщить",
        "same_day": "Да, это действительно было в тот же день", "correct": "Исправить",
        "save": "Сохранить исправление", "withdraw": "Отозвать",
        "withdraw_button": "Отозвать это сообщение", "corrected": "Ваше сообщение исправлено.",
        "withdrawn": "Ваше сообщение отозвано.", "took": "9",
    },
}  # fmt: skip


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_report_is_confirmed_corrected_and_withdrawn(
    app,
    live_server,  # noqa: F811 - the fixture imported above
    browser,  # noqa: F811
    language,
):
    words = WORDS[language]
    letter = make_letter(make_prisoner(make_facility()), written=TODAY - timedelta(days=30))
    add_event(letter, EventKind.SENT, SENT_ON, Channel.POST)
    page = browser.new_context(locale=language).new_page()
    page.goto(f"{live_server}/t/{letter.token}")

    page.get_by_label(words["what"], exact=True).select_option("arrived")
    page.get_by_label(words["when"], exact=True).fill(SENT_ON.isoformat())
    page.get_by_role("button", name=words["report"], exact=True).click()
    confirm = page.get_by_label(words["same_day"])
    expect(confirm).to_be_visible()
    # axe-core only: the tracking page's print section is still too wide in Russian at 390 px
    # (issue 18, "Phones"); the pages of this change are checked in full below.
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()
    confirm.check()
    page.get_by_role("button", name=words["report"], exact=True).click()
    expect(page.locator(".timeline .event-arrived")).to_be_visible()

    page.locator(".event-arrived").get_by_role("link", name=words["correct"]).click()
    check_page(page)
    page.get_by_label(words["when"], exact=True).fill((SENT_ON + timedelta(days=9)).isoformat())
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".flash")).to_have_text(words["corrected"])
    expect(page.locator("#timeline ~ p").first).to_contain_text(words["took"])
    results = AXE.run(page)
    assert results.violations_count == 0, results.generate_report()

    page.locator(".event-arrived").get_by_role("link", name=words["withdraw"]).click()
    check_page(page)
    page.get_by_role("button", name=words["withdraw_button"]).click()
    expect(page.locator(".flash")).to_have_text(words["withdrawn"])
    expect(page.locator(".timeline .event-arrived")).to_have_count(0)
