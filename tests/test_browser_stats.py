"""Public statistics in a real headless Chromium: read them, follow a facility, change them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from app.models import Channel, EventKind
from tests.factories import add_event, make_facility, make_letter, make_prisoner
from tests.test_browser import browser, live_server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

RANKING = "Facilities ranked by median delay"
SLOW_CHART = "Median days from sending to arrival"


def figure(page: Page, label: str) -> Locator:
    """The value beside a label in a page's figures list (templates/macros.html)."""
    return (
        page.locator("dl.summary > div")
        .filter(has=page.get_by_text(label, exact=True))
        .locator("dd")
    )


def row_cells(row: Locator) -> Locator:
    return row.locator("th, td")


def test_read_the_stats_follow_a_facility_then_a_report_changes_them(
    app,
    live_server,  # noqa: F811 - the fixture imported above
    browser,  # noqa: F811
):
    today = date.today()
    # Five letters posted together at a letter-writing evening, 120 days ago, that arrived
    # after 10, 14, 20, 25 and 31 days: median 20, 90% within 25 + 0.6 × (31 − 25) = 28.6.
    posted = today - timedelta(days=120)
    pokrov = make_facility()
    prisoner = make_prisoner(pokrov)
    for days in (10, 14, 20, 25, 31):
        letter = make_letter(prisoner, written=posted)
        add_event(letter, EventKind.SENT, posted, Channel.POST)
        add_event(letter, EventKind.ARRIVED, posted + timedelta(days=days))
    # The sixth letter there: sent 10 days ago, nothing else heard yet.
    waiting = make_letter(prisoner, written=today - timedelta(days=11))
    add_event(waiting, EventKind.SENT, today - timedelta(days=10), Channel.POST)
    # Another facility with too few reports to be ranked: two arrivals (40 and 50 days), one
    # letter returned.
    mordovia = make_facility(code="ИК-2", name="ФКУ ИК-2 УФСИН России по Республике Мордовия",
                             region="Республика Мордовия", postcode="431130",
                             locality="п. Явас", street_address="ул. Школьная, д. 1")  # fmt: skip
    other = make_prisoner(mordovia, last_name="Иванова", first_name="Мария", patronymic="Петровна")
    sent_there = today - timedelta(days=100)
    for days in (40, 50):
        letter = make_letter(other, written=sent_there)
        add_event(letter, EventKind.SENT, sent_there, Channel.ELECTRONIC)
        add_event(letter, EventKind.ARRIVED, sent_there + timedelta(days=days))
    returned = make_letter(other, written=sent_there)
    add_event(returned, EventKind.SENT, sent_there, Channel.POST)
    add_event(returned, EventKind.RETURNED, today - timedelta(days=30), note="Адресат выбыл")
    stats_url = f"{live_server}/stats"
    facility_url = f"{live_server}/facilities/{pokrov.id}"
    tracking_url = f"{live_server}/t/{waiting.token}"
    posted_month, waiting_month = (
        posted.strftime("%Y-%m"),
        (today - timedelta(days=10)).strftime("%Y-%m"),
    )

    # A reader without JavaScript: everything is on the page as HTML and SVG.
    reader = browser.new_context(locale="en-GB", java_script_enabled=False)
    page = reader.new_page()
    page.goto(stats_url)
    expect(page.get_by_role("heading", name="Where letters get stuck", level=1)).to_be_visible()
    expect(
        page.get_by_role("heading", name="Where letters take longest to arrive")
    ).to_be_visible()
    ranking = page.get_by_role("table", name=RANKING)
    expect(ranking.locator("tbody tr")).to_have_count(1)  # ИК-2 has only 2 reports of arrival
    expect(row_cells(ranking.locator("tbody tr"))).to_have_text(
        ["ИК-3", "Владимирская область", "20", "28.6", "5"]
    )
    chart = page.locator("figure.chart").filter(has_text=SLOW_CHART)
    expect(chart.locator("svg rect.chart-bar")).to_have_count(1)
    expect(chart.locator("svg text.chart-label")).to_have_text(["ИК-3"])
    expect(chart.locator("svg text.chart-value")).to_have_text(["20"])
    # Nine letters in all, seven arrived; delays 10 14 20 25 31 40 50: median 25.
    expect(figure(page, "Reported sent")).to_have_text("9")
    expect(figure(page, "Known to have arrived")).to_have_text("7")
    expect(figure(page, "Median days to arrive")).to_have_text("25 (7 reports)")
    # The facility too small to rank is still listed, saying it has not enough reports.
    page.get_by_text("Show all 2 facilities with letters").click()
    every = page.get_by_role("row").filter(has=page.get_by_role("link", name="ИК-2"))
    expect(row_cells(every)).to_have_text(
        ["ИК-2", "Республика Мордовия", "3", "not enough reports (2)", "not enough reports (3)"]
    )

    ranking.get_by_role("link", name="ИК-3").click()
    expect(page).to_have_url(facility_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(pokrov.name)
    expect(figure(page, "Reported sent")).to_have_text("6")
    expect(figure(page, "Known to have arrived")).to_have_text("5")
    expect(figure(page, "Median days to arrive")).to_have_text("20 (5 reports)")
    expect(figure(page, "90% arrived within (days)")).to_have_text("28.6 (5 reports)")
    by_channel = page.locator("section").filter(has=page.get_by_role("heading", name="By channel"))
    expect(row_cells(by_channel.locator("tbody tr"))).to_have_text(
        ["Ordinary post", "6", "5", "20 (5 reports)", "0.0% (of 6 letters)"]
    )
    by_month = page.locator("section").filter(
        has=page.get_by_role("heading", name="Month by month")
    )
    expect(by_month.locator("tbody tr")).to_have_count(2)
    expect(row_cells(by_month.locator("tbody tr").first)).to_have_text(
        [posted_month, "5", "5", "0.0% (of 5 letters)", "20 (5 reports)"]
    )
    expect(row_cells(by_month.locator("tbody tr").last)).to_have_text(
        [waiting_month, "1", "0", "not enough reports (1)", "not enough reports (0)"]
    )

    # The writer of the sixth letter learns it arrived today and reports it.
    writer = browser.new_context(locale="en-GB").new_page()
    writer.goto(tracking_url)
    expect(writer.locator("#letter-status")).to_have_text("Sent")
    writer.get_by_label("What happened").select_option(label="Arrived at the facility")
    writer.get_by_label("When").fill(today.isoformat())
    writer.get_by_role("button", name="Report").click()
    expect(writer.locator(".flash")).to_have_text("Thank you. Your report was recorded.")
    expect(writer.locator("#letter-status")).to_have_text("Arrived at the facility")
    expect(writer.get_by_text("It took 10 days to arrive.")).to_be_visible()
    writer.context.close()

    # Six arrivals now, delays 10 10 14 20 25 31: median (14 + 20) / 2 = 17, 90% within
    # 25 + 0.5 × (31 − 25) = 28.
    page.reload()
    expect(figure(page, "Reported sent")).to_have_text("6")
    expect(figure(page, "Known to have arrived")).to_have_text("6")
    expect(figure(page, "Median days to arrive")).to_have_text("17 (6 reports)")
    expect(figure(page, "90% arrived within (days)")).to_have_text("28 (6 reports)")
    expect(row_cells(by_channel.locator("tbody tr"))).to_have_text(
        ["Ordinary post", "6", "6", "17 (6 reports)", "0.0% (of 6 letters)"]
    )
    expect(row_cells(by_month.locator("tbody tr").last)).to_have_text(
        [waiting_month, "1", "1", "not enough reports (1)", "not enough reports (1)"]
    )

    page.go_back()
    # Following the menu link, not reloading: the browser revalidates /stats every time.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statistics").click()
    expect(row_cells(ranking.locator("tbody tr"))).to_have_text(
        ["ИК-3", "Владимирская область", "17", "28", "6"]
    )
    expect(chart.locator("svg text.chart-value")).to_have_text(["17"])
    # Delays 10 10 14 20 25 31 40 50: median (20 + 25) / 2 = 22.5.
    expect(figure(page, "Reported sent")).to_have_text("9")
    expect(figure(page, "Known to have arrived")).to_have_text("8")
    expect(figure(page, "Median days to arrive")).to_have_text("22.5 (8 reports)")

    # The same page in Russian, through the switch in the header.
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Русский").click()
    expect(page).to_have_url(stats_url)
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_role("heading", name="Где задерживаются письма")).to_be_visible()
    expect(page.get_by_role("navigation", name="Основное меню")).to_contain_text(
        "Политзаключённые"
    )
    expect(figure(page, "Известно, что дошло")).to_have_text("8")
    expect(figure(page, "Дней в пути (медиана)")).to_contain_text(
        "22,5"
    )  # as a Russian reader writes it
    ranked_ru = page.locator("section[aria-labelledby=slowest] table")
    expect(ranked_ru.get_by_role("columnheader", name="Учреждение")).to_be_visible()
    ranked_ru.get_by_role("link", name="ИК-3").click()
    expect(page.get_by_role("heading", name="Как доходят письма в это учреждение")).to_be_visible()
    reader.close()
