"""Every page, on a phone, in English and in Russian, in a real headless Chromium: no page is
wider than a 390 px screen (nothing to scroll sideways) and axe-core finds nothing wrong.

One test per role (the public, an organizer with an admin, the mailroom with a translator),
each in both languages; a test walks through all its pages and reports every problem at once.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from app.drives import services as drives
from app.extensions import db
from app.models import Channel, EventKind, Prisoner, Role
from app.russian.names import Gender
from tests.factories import (
    add_event,
    make_facility,
    make_letter,
    make_official,
    make_posted_mailroom_letter,
    make_prisoner,
    make_user,
)
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_browser_mailroom_evening import AXE, PHONE, scan_png
from tests.test_mailroom_writer import open_mailroom

pytestmark = pytest.mark.browser

LANGUAGES = ["en-GB", "ru-RU"]
PASSWORD = "a long enough password"
IMPORTS = Path(__file__).resolve().parent / "data" / "imports"
# A word nobody breaks: a tracking token, a URL or a long surname must wrap, not widen the page.
LONG_WORD = "Константинопольский-Длинноименный"


def problems_on(page: Page, what: str) -> list[str]:
    """What is wrong with the page as shown: it is wider than the phone, or axe-core objects."""
    found = []
    # What a person unfolds counts too: the forms behind "Report…", "Send back…" and the like.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                    || (e.scrollWidth > e.clientWidth + 1
                        && getComputedStyle(e).overflowX === 'visible'))
                .slice(-4).map(e => e.tagName + '.' + e.className + ' ' +
                    Math.round(e.getBoundingClientRect().right) + '/' + e.scrollWidth)"""
        )
        found.append(f"{what} ({page.url}): {width[0]} px wide at {width[1]}: {wide}")
    results = AXE.run(page)
    if results.violations_count:
        rules = sorted(
            f"{violation['id']} {[node['target'] for node in violation['nodes']][:3]}"
            for violation in results.response["violations"]
        )
        found.append(f"{what} ({page.url}): axe-core: {rules}")
    return found


class Tour:
    """One person's walk through pages on a phone, collecting what is wrong on each."""

    def __init__(self, browser: Browser, base: str, locale: str) -> None:  # noqa: F811
        self.base = base
        self.page = browser.new_context(locale=locale, viewport=PHONE).new_page()
        self.language = locale[:2]
        self.problems: list[str] = []
        self.seen = 0

    def check(self, what: str) -> None:
        """Check the page as it is now."""
        self.seen += 1
        self.page.wait_for_load_state()
        assert self.page.locator("html").get_attribute("lang") == self.language, self.page.url
        if self.language == "ru":  # the interface really in Russian (its catalog compiled)
            skip = self.page.locator(".skip-link").inner_text()
            assert re.search("[а-я]", skip), (self.page.url, skip)
        self.problems += problems_on(self.page, what)

    def visit(self, what: str, path: str) -> None:
        """Open a page and check it."""
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, (path, response and response.status)
        self.check(what)

    def log_in(self, email: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.locator("input[type=email], input[name=email]").first.fill(email)
        self.page.locator("input[type=password]").first.fill(PASSWORD)
        self.page.locator("main [name=submit]").first.click()
        expect(self.page).not_to_have_url(re.compile(r"/login"))

    def done(self) -> None:
        self.page.context.close()
        assert self.problems == [], "\n".join(self.problems)


def directory(app: Flask) -> dict[str, int]:
    """A small directory: prisoners (one with a very long name, one in transit), a facility
    and its head, letters in every state a tracking page shows."""
    facility = make_facility()
    prisoner = make_prisoner(facility, notes_for_writers="Любит письма о природе.", languages="ru")
    make_prisoner(
        facility, last_name=LONG_WORD, first_name="Александра", patronymic="Юрьевна",
        gender=Gender.FEMALE, birth_year=1990,
    )  # fmt: skip
    make_prisoner(None, last_name="Скочиленко", first_name="Александра", gender=Gender.FEMALE)
    official = make_official(facility)
    sent = make_letter(prisoner, written=date.today() - timedelta(days=30))
    add_event(
        sent, EventKind.SENT, date.today() - timedelta(days=29), channel=Channel.POST,
        note=f"Отправила заказным, см. https://www.pochta.ru/tracking#{LONG_WORD}{LONG_WORD}",
    )  # fmt: skip
    replied = make_letter(prisoner, written=date.today() - timedelta(days=60))
    add_event(replied, EventKind.SENT, date.today() - timedelta(days=59), channel=Channel.POST)
    add_event(replied, EventKind.ARRIVED, date.today() - timedelta(days=50))
    add_event(replied, EventKind.REPLY, date.today() - timedelta(days=20), note="Ответ пришёл")
    open_mailroom()
    _letter, through, _item = make_posted_mailroom_letter(prisoner)
    return {
        "facility": facility.id,
        "prisoner": prisoner.id,
        "official": official.id,
        "sent": sent.token,  # type: ignore[dict-item]
        "replied": replied.token,  # type: ignore[dict-item]
        "through": through,  # type: ignore[dict-item]
    }


def new_drive(organizer, prisoner_ids: list[int]):
    drive = drives.create_drive(
        organizer,
        drives.DriveInput(
            title="Вечер писем в Тбилиси", held_on=date.today(), place="Тбилиси, ул. Руставели, 1",
            prisoner_ids=prisoner_ids, template_ids=[], target_per_prisoner=2,
        ),
    )  # fmt: skip
    db.session.commit()
    return drive


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_public_page_fits_a_phone_and_passes_axe(app, live_server, browser, locale):  # noqa: F811
    ids = directory(app)
    organizer = make_user(password=PASSWORD)
    drive = new_drive(organizer, [ids["prisoner"]])
    prisoner, facility = ids["prisoner"], ids["facility"]
    tour = Tour(browser, live_server, locale)
    page = tour.page

    tour.visit("home", "/")
    tour.visit("prisoners", "/prisoners")
    tour.visit("search", "/prisoners?q=gorinov")
    tour.visit("prisoner", f"/prisoners/{prisoner}")
    tour.visit("facility", f"/facilities/{facility}")
    tour.visit("in transit", "/prisoners/in-transit")
    tour.visit("suggestions", "/suggest")
    tour.visit("overdue appeals", "/appeals/overdue")
    tour.visit("statistics", "/stats")
    tour.visit("privacy", "/privacy")
    tour.visit("API reference", "/api/v1/reference")
    tour.visit("login", "/login")
    tour.visit("forgotten password", "/password/forgot")
    tour.visit("follow a prisoner", f"/prisoners/{prisoner}/follow")

    # Joining a drive, and the participant's page.
    tour.visit("join a drive", "/join")
    page.locator("main [name=code]").fill(drive.code)
    page.locator("main [name=submit]").click()
    tour.check("join a drive: the form")
    page.locator("main [name=name]").fill("Аня")
    page.locator("main [name=submit]").click()
    expect(page).to_have_url(re.compile(r"/drives/p/"))
    tour.check("a drive participant")

    # The letter composer with the censor-risk findings after Preview, then saved.
    tour.visit("letter composer", f"/prisoners/{prisoner}/write")
    page.locator("textarea[name=body]").fill(
        "Дорогой Алексей!\n\nКак прошёл суд? Адвокат сказал, что голодовка закончилась. "
        f"Вот ссылка: https://example.org/{LONG_WORD}/{LONG_WORD}?a=1\n\nАня"
    )
    page.locator("input[name=signature]").fill("Аня")
    page.locator("main [name=preview]").click()
    expect(page.locator("#findings, .findings").first).to_be_visible()
    tour.check("letter composer with findings")
    page.locator("main [name=save]").click()
    expect(page).to_have_url(re.compile(r"/t/"))
    tour.check("tracking: just saved")
    # Reported sent by post, with a tracking number: the Russian Post link next to it.
    page.locator("main [name=kind]").select_option("sent")
    page.locator("main [name=happened_on]").fill(date.today().isoformat())
    page.locator("main [name=channel]").select_option("post")
    page.locator("main [name=tracking_number]").fill("80085172614223")
    page.locator("main [name=note]").fill(f"https://www.pochta.ru/tracking#{LONG_WORD}")
    page.locator("main form:has([name=tracking_number]) [name=submit]").click()
    tour.check("tracking: reported sent, with a tracking number")

    # The appeal composer: choosing an official, writing, the preview.
    tour.visit("appeal: choose an official", f"/prisoners/{prisoner}/appeal")
    tour.visit("appeal composer", f"/prisoners/{prisoner}/appeal/{ids['official']}")
    page.locator("main [name=signature]").fill("Иванова Анна Сергеевна")
    page.locator("textarea[name=body]").fill("Прошу проверить условия содержания.")
    page.locator("main [name=preview]").click()
    tour.check("appeal composer with its preview")
    page.locator("main [name=save]").click()
    expect(page).to_have_url(re.compile(r"/t/"))
    tour.check("tracking: an appeal just saved")

    tour.visit("tracking: sent", f"/t/{ids['sent']}")
    tour.visit("tracking: with a reply", f"/t/{ids['replied']}")
    tour.visit("tracking: through the organisation", f"/t/{ids['through']}")
    tour.visit("tracking: delete", f"/t/{ids['sent']}/delete")
    assert tour.seen >= 25
    tour.done()


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_organizer_page_fits_a_phone_and_passes_axe(app, live_server, browser, locale):  # noqa: F811
    ids = directory(app)
    make_user(password=PASSWORD)
    make_user(email="admin@example.org", role=Role.ADMIN, password=PASSWORD)
    runner = app.test_cli_runner()  # an import before: the history and the audit trail
    for kind, name in (
        ("facilities", "facilities_utf8_bom_semicolon.csv"),
        ("prisoners", "prisoners.json"),
    ):
        result = runner.invoke(args=["import", kind, str(IMPORTS / name)])
        assert result.exit_code == 0, result.output
    imported = db.session.scalar(select(Prisoner.id).where(Prisoner.external_id.is_not(None)))
    tour = Tour(browser, live_server, locale)
    page = tour.page
    tour.log_in("organizer@example.org")
    prisoner, facility = ids["prisoner"], ids["facility"]

    tour.visit("manage", "/manage")
    tour.visit("manage prisoners", "/manage/prisoners")
    tour.visit("new prisoner", "/manage/prisoners/new")
    tour.visit("edit a prisoner", f"/manage/prisoners/{prisoner}/edit")
    tour.visit("an imported prisoner and its history", f"/manage/prisoners/{imported}/edit")
    tour.visit("transfer a prisoner", f"/manage/prisoners/{prisoner}/transfer")
    tour.visit("manage facilities", "/manage/facilities")
    tour.visit("new facility", "/manage/facilities/new")
    tour.visit("edit a facility", f"/manage/facilities/{facility}/edit")
    tour.visit("manage officials", "/manage/officials")
    tour.visit("new official", "/manage/officials/new")
    tour.visit("edit an official", f"/manage/officials/{ids['official']}/edit")
    tour.visit("audit trail", "/manage/audit")
    tour.visit("imports", "/manage/import/")
    # The preview of an upload: its rows in a table.
    page.locator("main [name=kind][value=facilities]").check()
    page.locator("main input[type=file]").set_input_files(
        str(IMPORTS / "facilities_utf8_bom_semicolon.csv")
    )
    page.locator("main [name=submit]").first.click()
    tour.check("import preview")

    tour.visit("drives", "/drives")
    tour.visit("new drive", "/drives/new")
    page.locator("main [name=title]").fill("Вечер писем в Тбилиси")
    page.locator("main [name=held_on]").fill(date.today().isoformat())
    page.locator("main [name=held_on]").fill(date.today().isoformat())
    page.locator("main [name=submit]").click()
    expect(page).to_have_url(re.compile(r"/drives/\d+$"))
    tour.check("a drive")
    tour.visit("account", "/account")

    admin = Tour(browser, live_server, locale)
    admin.log_in("admin@example.org")
    admin.visit("accounts", "/admin/users")
    admin.visit("organisation", "/admin/organisation")
    admin.visit("outbox", "/admin/outbox")
    admin.visit("audit trail, for an admin", "/manage/audit")
    admin.problems += tour.problems
    tour.page.context.close()
    admin.done()


@pytest.mark.parametrize("locale", LANGUAGES)
def test_every_mailroom_and_translator_page(app, live_server, browser, locale):  # noqa: F811
    ids = directory(app)
    open_mailroom(translation_review=True)
    make_user(email="post@example.org", role=Role.MAILROOM, password=PASSWORD)
    make_user(
        email="translator@example.org", role=Role.TRANSLATOR, password=PASSWORD,
        translates_from="en", translates_into="ru",
    )  # fmt: skip
    tour = Tour(browser, live_server, locale)
    page = tour.page

    # A letter in English to translate, sent through the organisation.
    page.goto(f"{live_server}/prisoners/{ids['prisoner']}/write")
    page.locator("main [name=language]").select_option("en")
    page.locator("main [name=signature]").fill("Anna")
    page.locator("textarea[name=body]").fill("Dear Alexei,\n\nIt snowed here today.\n\nAnna")
    page.locator("main [name=preview]").click()
    page.locator("main [name=translate]").check()
    page.locator("main [name=delivery][value=organisation]").check()
    tour.check("letter composer: translation and delivery")
    page.locator("main [name=save]").click()
    expect(page).to_have_url(re.compile(r"/t/"))
    tour.check("tracking: waiting for a translator")

    tour.log_in("translator@example.org")
    tour.visit("translation desk", "/translate")
    page.locator("main button").first.click()
    tour.check("translating a letter")
    tour.visit("account", "/account")
    page.context.clear_cookies()

    tour.log_in("post@example.org")
    tour.visit("mailroom review", "/mailroom")
    tour.visit("runs", "/mailroom/runs")
    tour.visit("a new reply", "/mailroom/replies/new")
    page.locator("main input[type=file]").set_input_files(
        [{"name": "reply.png", "mimeType": "image/png", "buffer": scan_png()}]
    )
    page.locator("main input[type=date]").first.fill(date.today().isoformat())
    page.locator("main [name=submit]").first.click()
    tour.visit("held replies", "/mailroom/held")
    tour.visit("a returned envelope", "/mailroom/returns/new")
    tour.visit("tracking: through the organisation", f"/t/{ids['through']}")
    tour.done()
