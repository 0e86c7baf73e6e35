"""Nothing typed is lost, and the composers work with a keyboard and a screen reader, in a real
headless Chromium, in English and Russian: a letter, an appeal and a drive letter are kept as
drafts in the browser only, restored after a reload with a notice, forgotten on request and
once saved; leaving with unsaved text asks first; the template picker waits for its button;
the skip link is the first Tab stop; the preview takes the focus; a field with an error points
at its message. Every page state passes axe-core and fits a phone."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Dialog, Page, expect

from app.drives import services as drives
from app.extensions import db
from tests.factories import make_facility, make_official, make_prisoner
from tests.test_browser import browser, live_server  # noqa: F401 - the fixtures
from tests.test_browser_mailroom_evening import check_page
from tests.test_drives import new_drive

pytestmark = pytest.mark.browser

WORDS = {
    "en-GB": {
        "restored": "Your draft from this browser was restored. It is kept only in this browser.",
        "forget": "Forget this draft",
        "skip": "Skip to content",
        "other": "Русский",
    },
    "ru-RU": {
        "restored": (
            "Восстановлен ваш черновик из этого браузера. Он хранится только в этом браузере."
        ),
        "forget": "Удалить черновик",
        "skip": "Перейти к содержанию",
        "other": "English",
    },
}
BODY = "Здравствуйте!\n\nУ нас выпал первый снег, и я подумала о вас."


def stored(page: Page, key: str) -> dict[str, str] | None:
    """The fields of the draft this browser keeps under ``key``, as drafts.js wrote them."""
    value = page.evaluate("key => localStorage.getItem(key)", key)
    return None if value is None else dict(json.loads(value)["fields"])


def type_letter(page: Page, signature: str, body: str) -> None:
    """Type as a person does (key presses give the page the user activation that
    beforeunload needs to ask)."""
    page.locator("#signature").press_sequentially(signature)
    page.locator("#body").press_sequentially(body)


def restored_after_reload(page: Page, words: dict[str, str], signature: str, body: str) -> None:
    page.reload()
    expect(page.locator("#draft-notice")).to_contain_text(words["restored"])
    expect(page.locator("#signature")).to_have_value(signature)
    expect(page.locator("#body")).to_have_value(body)
    check_page(page)


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_a_letter_draft_is_kept_in_the_browser_until_it_is_saved(
    app,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    locale,
):
    words = WORDS[locale]
    prisoner = make_prisoner(make_facility(), last_name="Горинов", first_name="Алексей")
    key = f"konvert-draft:letter:{prisoner.id}"
    url = f"{live_server}/prisoners/{prisoner.id}/write"
    page = browser.new_context(locale=locale).new_page()
    posts: list[str] = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/write" in r.url else None,
    )
    page.goto(url)
    check_page(page)

    # The skip link is the first Tab stop, and leads to the page's content.
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    expect(skip).to_have_text(words["skip"])
    expect(skip).to_have_attribute("href", "#content")
    page.keyboard.press("Enter")
    expect(page.locator("main#content")).to_be_focused()

    # Going through the templates with the arrow keys chooses, and applies nothing.
    picker = page.locator("#template_id")
    picker.focus()
    page.keyboard.press("ArrowDown")
    assert picker.evaluate("select => select.value") != "None"
    page.keyboard.press("ArrowDown")
    expect(page.locator("#body")).to_have_value("")
    assert posts == []
    assert page.url == f"{url}#content"
    picker.select_option("None")

    # Typed, reloaded: restored with the notice; forgotten: gone, fields empty.
    type_letter(page, "Аня", BODY)
    assert (stored(page, key) or {}).get("body") == BODY
    restored_after_reload(page, words, "Аня", BODY)
    page.get_by_role("button", name=words["forget"]).click()
    expect(page.locator("#draft-notice")).to_have_count(0)
    expect(page.locator("#body")).to_have_value("")
    expect(page.locator("#signature")).to_have_value("")
    assert stored(page, key) is None
    check_page(page)
    page.goto(url)
    expect(page.locator("#draft-notice")).to_have_count(0)
    expect(page.locator("#body")).to_have_value("")

    # Leaving with unsaved text asks first: staying keeps the text; leaving (here to the
    # other language) finds the draft restored there.
    dialogs: list[str] = []

    def answer(dialog: Dialog, stay: bool) -> None:
        dialogs.append(dialog.type)
        if stay:
            dialog.dismiss()
        else:
            dialog.accept()

    type_letter(page, "Аня", BODY)
    page.once("dialog", lambda dialog: answer(dialog, stay=True))
    page.get_by_role("link", name=words["other"]).click()
    expect(page.locator("#body")).to_have_value(BODY)
    assert dialogs == ["beforeunload"] and page.url == url
    page.locator("#body").press("End")  # a key press: the page has the user's activation
    page.once("dialog", lambda dialog: answer(dialog, stay=False))
    page.get_by_role("link", name=words["other"]).click()
    expect(page.locator("#draft-notice")).to_be_visible()
    assert dialogs == ["beforeunload", "beforeunload"]
    expect(page.locator("#body")).to_have_value(BODY)
    other_words = WORDS["ru-RU" if locale == "en-GB" else "en-GB"]
    expect(page.locator("#draft-notice")).to_contain_text(other_words["restored"])
    check_page(page)
    page.on("dialog", lambda dialog: answer(dialog, stay=False))  # back to this language
    page.locator("#body").press("End")
    page.get_by_role("link", name=other_words["other"]).click()
    expect(page.locator("#draft-notice")).to_contain_text(words["restored"])
    assert len(dialogs) == 3

    # "Preview" sends the form: no warning; and the preview takes the focus.
    page.locator("#body").press("End")
    page.locator("[name=preview]").click()
    expect(page.locator("#letter-preview")).to_be_focused()
    assert len(dialogs) == 3
    check_page(page)

    # A field with an error points at its message; the draft is still kept.
    page.locator("#signature").fill("")
    page.locator("[name=save]").click()
    signature = page.locator("#signature")
    expect(signature).to_have_attribute("aria-invalid", "true")
    described = (signature.get_attribute("aria-describedby") or "").split()
    assert "signature-error" in described
    expect(page.locator("#signature-error")).not_to_be_empty()
    expect(page.locator("#body")).not_to_have_attribute("aria-invalid", "true")
    assert (stored(page, key) or {}).get("body") == BODY
    check_page(page)

    # Saved: the draft is gone from the browser.
    page.locator("#signature").fill("Аня")
    page.locator("[name=save]").click()
    expect(page).to_have_url(re.compile(r"/t/[^/?]+\?saved=1$"))
    assert stored(page, key) is None and len(dialogs) == 3
    page.goto(url)
    expect(page.locator("#draft-notice")).to_have_count(0)
    expect(page.locator("#body")).to_have_value("")


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_an_appeal_draft_is_kept_until_it_is_saved(app, live_server, browser, locale):  # noqa: F811
    words = WORDS[locale]
    facility = make_facility()
    prisoner = make_prisoner(facility, last_name="Горинов", first_name="Алексей")
    official = make_official(facility)
    key = f"konvert-draft:appeal:{prisoner.id}:{official.id}"
    url = f"{live_server}/prisoners/{prisoner.id}/appeal/{official.id}"
    page = browser.new_context(locale=locale).new_page()
    page.goto(url)
    check_page(page)
    appeal = "Прошу сообщить, где содержится Горинов Алексей."
    type_letter(page, "Смирнова Анна Петровна", appeal)
    restored_after_reload(page, words, "Смирнова Анна Петровна", appeal)
    # The letter's draft is another draft: it is not offered here, nor this one there.
    assert stored(page, f"konvert-draft:letter:{prisoner.id}") is None

    page.locator("[name=preview]").click()
    expect(page.locator("#letter-preview")).to_be_focused()
    check_page(page)
    page.locator("[name=save]").click()
    expect(page).to_have_url(re.compile(r"/t/[^/?]+\?saved=1$"))
    assert stored(page, key) is None


@pytest.mark.parametrize("locale", ["en-GB", "ru-RU"])
def test_a_drive_letter_draft_is_kept_until_it_is_saved(
    app,
    live_server,  # noqa: F811
    browser,  # noqa: F811
    organizer,
    locale,
):
    words = WORDS[locale]
    facility = make_facility()
    pool = [
        make_prisoner(facility, last_name=last, first_name=first, patronymic=None)
        for last, first in [("Абрамов", "Пётр"), ("Борисова", "Анна")]
    ]
    drive = new_drive(organizer, pool)
    participant = drives.join(drive, "Аня", ["ru"])
    db.session.commit()
    assignment = participant.assignments[0]
    key = f"konvert-draft:drive:{assignment.id}"
    home = f"{live_server}/drives/p/{participant.token}"
    page = browser.new_context(locale=locale).new_page()
    page.goto(home)
    page.locator(f"a[href$='/write/{assignment.id}']").click()
    check_page(page)
    page.locator("#signature").fill("")
    type_letter(page, "Аня", BODY)
    restored_after_reload(page, words, "Аня", BODY)

    page.locator("[name=save]").click()
    expect(page).to_have_url(home)
    expect(page.locator("#assignments")).to_contain_text("✓")
    assert stored(page, key) is None
    check_page(page)
