"""The "What Konvert keeps" page (/privacy): in both languages, linked from every footer, and
generated from the settings that enforce what it says."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.appeals.services import whole_months
from app.privacy.kept import duration, kept_time, longest_window
from tests.conftest import page_text
from tests.factories import make_facility, make_prisoner

ENGLISH = {"Accept-Language": "en"}
RUSSIAN = {"Accept-Language": "ru"}


def test_the_page_lists_what_is_kept_with_the_values_in_force(client):
    response = client.get("/privacy", headers=ENGLISH)
    assert response.status_code == 200
    text = page_text(response)
    assert "What Konvert keeps" in text
    for thing in (
        "Your letter or appeal",
        "Letters written at a letter-writing evening",
        "An email address for reminders to report back",
        "An email address to hear when a prisoner is moved",
        "Emails waiting to be sent",
        "Statistics and open data",
        "Counters against abuse",
        "Server logs",
        "Backups",
        "Organizers' and administrators' accounts",
    ):
        assert thing in text, thing
    assert "A lost link means a lost letter" in text
    # The defaults of config.Config, as the code that enforces them reads them.
    assert "at the latest 7 days after they were made" in text  # PACK_KEEP_DAYS
    assert "Not confirmed: deleted after 48 hours" in text  # OPTIN_CONFIRM_HOURS
    assert "45 days after you report the letter sent" in text  # REMINDER_DAYS
    assert "reminders go 14 and 45 days after it" in text
    assert "keeps its content 7 days" in text  # OUTBOX_DEAD_KEEP_DAYS
    assert "after 30 days; a login link works 15 minutes, a password reset 2 hours" in text
    assert "an invitation 7 days; an uploaded file is deleted after 1 hour" in text
    assert "A network address's counts at most 1 hour, an email address's at most 1 day" in text
    assert "14:37 is kept as 14:00" in text
    assert "month_sent" in text and "days_to_delivery" in text and "is_demo" not in text
    assert "replaced by [token]" in text
    assert "secret_key, master_key" in text


def test_changing_a_setting_changes_the_page(app, client):
    app.config.update(
        PACK_KEEP_DAYS=3,
        OPTIN_CONFIRM_HOURS=12,
        REMINDER_DAYS=(10, 30),
        OUTBOX_DEAD_KEEP_DAYS=2,
        SESSION_DAYS=14,
        LOGIN_LINK_MINUTES=5,
        RATELIMIT_PUBLIC_WRITES="10 per minute; 100 per day",
        RATELIMIT_OPTIN_ADDRESS="3 per hour",
    )
    text = page_text(client.get("/privacy", headers=ENGLISH))
    assert "at the latest 3 days after they were made" in text
    assert "Not confirmed: deleted after 12 hours" in text
    assert "30 days after you report the letter sent (reminders go 10 and 30 days" in text
    assert "keeps its content 2 days" in text
    assert "after 14 days; a login link works 5 minutes" in text
    assert "A network address's counts at most 1 day, an email address's at most 1 hour" in text
    assert "7 days after they were made" not in text and "48 hours" not in text


def test_the_page_in_russian(app, client):
    response = client.get("/privacy", headers=RUSSIAN)
    text = page_text(response)
    assert '<html lang="ru">' in response.get_data(as_text=True)
    assert "Что хранит Konvert" in text
    assert "Потерянная ссылка — потерянное письмо" in text
    assert "не позже чем через 7 дней" in text
    assert "через 48 часов" in text
    assert "ссылка для входа действует 15 минут" in text
    app.config.update(PACK_KEEP_DAYS=1, LOGIN_LINK_MINUTES=21)
    text = page_text(client.get("/privacy", headers=RUSSIAN))
    assert "не позже чем через 1 день" in text
    assert "ссылка для входа действует 21 минуту" in text


@pytest.mark.parametrize("path", ["/", "/prisoners", "/stats", "/appeals/overdue", "/privacy"])
def test_every_footer_links_the_page(client, path):
    html = client.get(path, headers=ENGLISH).get_data(as_text=True)
    footer = html[html.index('<footer class="site-footer">') :]
    assert '<a href="/privacy">What Konvert keeps</a>' in footer


def test_the_footer_of_a_facility_page_links_it_in_russian(app, client):
    facility = make_facility()
    make_prisoner(facility=facility)
    html = client.get(f"/facilities/{facility.id}", headers=RUSSIAN).get_data(as_text=True)
    assert '<a href="/privacy">Что хранит Konvert</a>' in html


def test_durations_and_windows():
    assert kept_time(datetime(2026, 3, 14, 14, 37, 59, 12)) == datetime(2026, 3, 14, 14)
    assert whole_months(date(2026, 1, 31), date(2026, 2, 28)) == 0
    assert whole_months(date(2026, 1, 15), date(2026, 3, 15)) == 2
    assert whole_months(date(2026, 3, 1), date(2026, 1, 1)) == 0


def test_durations_need_a_request_for_their_language(app):
    with app.test_request_context("/", headers=ENGLISH):
        assert duration(datetime(2026, 1, 2) - datetime(2026, 1, 1)) == "1 day"
        config = {"A": "5 per minute; 20 per day", "B": "1/second"}
        assert longest_window(config, ("A", "B")).days == 1
