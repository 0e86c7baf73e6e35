"""Transfers: the placement timeline, prisoners in transit, letters caught by a move."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from babel.dates import format_date

from app.directory.transfers import (
    Span,
    build_timeline,
    calendar_span,
    find_move_away,
    prisoners_in_transit,
)
from app.extensions import db
from app.models import (
    Channel,
    EventKind,
    FacilityKind,
    Placement,
    PrisonerStatus,
    TemplateKind,
)
from tests.conftest import count_queries, log_in, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_official, make_prisoner

TODAY = date.today()


def text_of(response) -> str:
    """The text of a page that opened (200), as a person reads it."""
    assert response.status_code == 200
    return page_text(response)


def shown(day: date) -> str:
    """A date as the English pages print it."""
    return format_date(day, "medium", locale="en")


@pytest.fixture
def colony(app):
    return make_facility()


@pytest.fixture
def sizo(app):
    return make_facility(
        code="СИЗО-1",
        name="ФКУ СИЗО-1 УФСИН России по г. Москве",
        kind=FacilityKind.PRETRIAL,
        region="Москва",
        postcode="107076",
        locality="г. Москва",
        street_address="ул. Матросская Тишина, д. 18",
    )


def record_transfer(client, organizer, prisoner, destination: str, on: date) -> None:
    """Record a transfer as an organizer does, through the transfer form."""
    log_in(client, organizer)
    response = submit(
        client,
        f"/manage/prisoners/{prisoner.id}/transfer",
        {"destination": destination, "moved_on": on.isoformat(), "status": "", "note": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    # Back to an anonymous visitor: a supporter's tracking link works without an account.
    with client.session_transaction() as session:
        session.clear()


def report_sent(client, letter, on: date) -> None:
    """Report "sent" through the tracking page, as the writer does."""
    response = submit(
        client,
        f"/t/{letter.token}",
        {"kind": "sent", "happened_on": on.isoformat(), "channel": "post",
         "tracking_number": "", "note": ""},
        action=f"/t/{letter.token}/events",
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)


def sent_letter(prisoner, sent_on: date, *later: tuple[EventKind, date]):
    letter = make_letter(prisoner, written=sent_on - timedelta(days=1))
    add_event(letter, EventKind.SENT, sent_on, Channel.POST)
    for kind, on in later:
        add_event(letter, kind, on, note="Вернули" if kind is EventKind.RETURNED else "")
    return letter


def notice_on(client, letter) -> str | None:
    """The transfer notice on the letter's tracking page, as read, or None."""
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    match = re.search(r'<section class="notice transfer-notice".*?</section>', html, re.S)
    if match is None:
        return None
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(0)))).strip()


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2022, 4, 26), date(2022, 9, 1), Span(0, 4, 6)),
        (date(2022, 1, 31), date(2022, 2, 27), Span(0, 0, 27)),
        (date(2022, 1, 31), date(2022, 2, 28), Span(0, 1, 0)),
        (date(2022, 1, 31), date(2022, 3, 1), Span(0, 1, 1)),
        (date(2020, 2, 29), date(2021, 2, 28), Span(1, 0, 0)),
        (date(2020, 2, 29), date(2024, 3, 1), Span(4, 0, 1)),
        (date(2022, 9, 20), date(2022, 9, 20), Span(0, 0, 0)),
        (date(2022, 9, 20), date(2022, 9, 1), Span(0, 0, 0)),
    ],
)
def test_calendar_span(start, end, expected):
    assert calendar_span(start, end) == expected


# --- the timeline ---------------------------------------------------------------------------


def test_timeline_is_newest_first_with_durations(app, colony, sizo):
    prisoner = make_prisoner(colony, since=date(2022, 9, 20))
    prisoner.placements.extend(
        [
            Placement(facility=sizo, started_on=date(2022, 4, 26), ended_on=date(2022, 9, 1)),
            Placement(facility=None, started_on=date(2022, 9, 1), ended_on=date(2022, 9, 20)),
        ]
    )
    db.session.commit()
    entries = build_timeline(prisoner.placements, today=date(2024, 12, 25))
    assert [(e.facility, e.started_on, e.ended_on) for e in entries] == [
        (colony, date(2022, 9, 20), None),
        (None, date(2022, 9, 1), date(2022, 9, 20)),
        (sizo, date(2022, 4, 26), date(2022, 9, 1)),
    ]
    assert [e.current for e in entries] == [True, False, False]
    assert [e.in_transit for e in entries] == [False, True, False]
    assert entries[0].span == Span(2, 3, 5)
    assert entries[1].days == 19
    assert entries[2].span == Span(0, 4, 6)


def test_same_day_moves_keep_the_open_placement_first(app, colony, sizo):
    prisoner = make_prisoner(colony, since=date(2024, 5, 1))
    prisoner.placements[0].ended_on = date(2024, 5, 1)  # moved on the day it was recorded
    prisoner.placements.append(Placement(facility=sizo, started_on=date(2024, 5, 1)))
    db.session.commit()
    entries = build_timeline(prisoner.placements, today=date(2024, 5, 3))
    assert [e.facility for e in entries] == [sizo, colony]
    assert entries[1].days == 0


def test_prisoner_page_shows_the_timeline(client, colony, sizo):
    moved_on = TODAY - timedelta(days=40)  # a month and some days, whatever the months
    left_on = TODAY - timedelta(days=55)
    prisoner = make_prisoner(colony, since=moved_on)
    prisoner.placements.extend(
        [
            Placement(facility=sizo, started_on=date(2022, 4, 26), ended_on=left_on),
            Placement(facility=None, started_on=left_on, ended_on=moved_on),
        ]
    )
    db.session.commit()
    html = client.get(f"/prisoners/{prisoner.id}").get_data(as_text=True)
    timeline = re.search(r'<ol class="timeline placement-timeline".*?</ol>', html, re.S).group(0)
    # Newest first: the colony now, the transit, the detention centre.
    assert (
        timeline.index(colony.name)
        < timeline.index("In transit, whereabouts unknown")
        < timeline.index(sizo.name)
    )
    assert f'href="/facilities/{colony.id}"' in timeline
    assert f'href="/facilities/{sizo.id}"' in timeline
    assert 'aria-current="true"' in timeline
    assert f'<time datetime="{left_on.isoformat()}">' in timeline
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", timeline)))
    assert f"since {shown(moved_on)} · now" in text
    assert "1 month so far" in text
    assert "in transit for 15 days" in text
    assert f"{shown(date(2022, 4, 26))} – {shown(left_on)}" in text


def test_prisoner_page_with_no_placements(client):
    prisoner = make_prisoner(status=PrisonerStatus.RELEASED)
    assert "No placements recorded." in text_of(client.get(f"/prisoners/{prisoner.id}"))


# --- prisoners in transit -------------------------------------------------------------------


@pytest.fixture
def travellers(app, colony, sizo):
    """Two people in transit (20 and 5 days), one in a colony, one released mid-transit."""
    long_gone = make_prisoner(
        colony, since=TODAY - timedelta(days=300), last_name="Петров", first_name="Пётр"
    )
    recent = make_prisoner(sizo, since=TODAY - timedelta(days=90), last_name="Иванова")
    make_prisoner(colony, last_name="Сидоров", first_name="Иван")
    released = make_prisoner(colony, last_name="Кузнецов", status=PrisonerStatus.RELEASED)
    for prisoner, days in ((long_gone, 20), (recent, 5), (released, 50)):
        prisoner.placements[0].ended_on = TODAY - timedelta(days=days)
        prisoner.placements.append(
            Placement(facility=None, started_on=TODAY - timedelta(days=days))
        )
        if prisoner is not released:
            prisoner.status = PrisonerStatus.IN_TRANSIT
    db.session.commit()
    return long_gone, recent


def test_in_transit_service_counts_days_from_the_given_day(travellers, colony, sizo):
    long_gone, recent = travellers
    page = prisoners_in_transit(today=TODAY + timedelta(days=10))
    assert [(row.prisoner, row.days) for row in page.rows] == [(long_gone, 30), (recent, 15)]
    assert [row.last_facility for row in page.rows] == [colony, sizo]
    assert page.rows[0].left_on == TODAY - timedelta(days=20)
    assert page.total == 2


def test_in_transit_page_lists_the_longest_unknown_first(client, travellers, colony, sizo):
    text = text_of(client.get("/prisoners/in-transit"))
    assert "2 prisoners" in text
    assert text.index("Петров Пётр") < text.index("Иванова Алексей")
    assert "whereabouts unknown for 20 days" in text
    assert "whereabouts unknown for 5 days" in text
    assert colony.name in text and sizo.name in text
    assert f"left on {shown(TODAY - timedelta(days=20))}" in text
    assert "Сидоров" not in text  # in a colony
    assert "Кузнецов" not in text  # released: not "in transit" any more
    assert 'href="/prisoners/in-transit"' in client.get("/prisoners").get_data(as_text=True)


def test_in_transit_page_without_anyone(client, colony):
    make_prisoner(colony)
    assert "Nobody is recorded as in transit." in text_of(client.get("/prisoners/in-transit"))


def test_in_transit_page_is_paginated(app, client, travellers):
    app.config["PRISONERS_PER_PAGE"] = 1
    first = text_of(client.get("/prisoners/in-transit"))
    second = text_of(client.get("/prisoners/in-transit?page=2"))
    assert "Петров Пётр" in first and "Иванова" not in first
    assert "Иванова Алексей" in second and "Page 2 of 2" in second
    beyond = client.get("/prisoners/in-transit?page=3")
    assert beyond.status_code == 404
    assert "There is nothing here." in page_text(beyond)
    nonsense = client.get("/prisoners/in-transit?page=x")
    assert nonsense.status_code == 400
    assert "The request could not be understood." in page_text(nonsense)


def test_in_transit_page_issues_a_constant_number_of_queries(client, travellers, colony):
    few = count_queries(client, "/prisoners/in-transit")
    for index in range(10):
        facility = make_facility(code=f"ИК-{index + 10}", name=f"ФКУ ИК-{index + 10}")
        prisoner = make_prisoner(facility, last_name=f"Иванов{index}")
        prisoner.placements[0].ended_on = TODAY - timedelta(days=index)
        prisoner.placements.append(Placement(facility=None, started_on=TODAY - timedelta(index)))
        prisoner.status = PrisonerStatus.IN_TRANSIT
    db.session.commit()
    assert count_queries(client, "/prisoners/in-transit") == few
    assert "12 prisoners" in text_of(client.get("/prisoners/in-transit"))


# --- letters caught by a transfer -----------------------------------------------------------


def test_letter_in_flight_is_flagged_once_the_transfer_is_recorded(
    client, organizer, colony, sizo
):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = sent_letter(prisoner, TODAY - timedelta(days=12))
    assert notice_on(client, letter) is None  # not before the transfer

    moved_on = TODAY - timedelta(days=10)
    record_transfer(client, organizer, prisoner, str(sizo.id), moved_on)

    notice = notice_on(client, letter)
    assert notice is not None
    assert "The prisoner was moved after your letter was sent" in notice
    assert (
        f"On {shown(moved_on)} this person was moved from {colony.name}, "
        f"where your letter was sent on {shown(TODAY - timedelta(days=12))}." in notice
    )
    assert f"The new address is {sizo.name}." in notice
    assert "Facilities usually forward letters" in notice
    check_by = moved_on + timedelta(weeks=6)
    assert f"If there is none by {shown(check_by)}, send the letter again" in notice
    assert "write a new letter from the prisoner's page" in notice


@pytest.mark.parametrize(
    "ending", [EventKind.ARRIVED, EventKind.REPLY, EventKind.RETURNED, EventKind.WITHHELD]
)
def test_letter_whose_journey_ended_is_not_flagged(client, organizer, colony, sizo, ending):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = sent_letter(
        prisoner, TODAY - timedelta(days=30), (ending, TODAY - timedelta(days=15))
    )
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    assert notice_on(client, letter) is None


def test_no_news_does_not_end_the_journey(client, organizer, colony, sizo):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = sent_letter(
        prisoner, TODAY - timedelta(days=30), (EventKind.NO_NEWS, TODAY - timedelta(days=2))
    )
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    assert notice_on(client, letter) is not None


def test_letter_not_sent_yet_is_not_flagged(client, organizer, colony, sizo):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=20))
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    assert notice_on(client, letter) is None


def test_letter_reported_sent_after_the_transfer_goes_to_the_new_address(
    client, organizer, colony, sizo
):
    """Written before the move, reported sent once the move was recorded: not flagged.

    The tracking page prints the envelope for the current facility and records the letter as
    sent there, so nothing went to the old address.
    """
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=20))
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    report_sent(client, letter, TODAY - timedelta(days=2))
    db.session.refresh(letter)
    assert letter.facility == sizo
    assert notice_on(client, letter) is None


def test_letter_sent_after_the_move_to_the_old_address_is_flagged(client, organizer, colony, sizo):
    """The move became known late: the letter went to a facility the person had already left."""
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=6))
    report_sent(client, letter, TODAY - timedelta(days=5))
    moved_on = TODAY - timedelta(days=10)
    record_transfer(client, organizer, prisoner, str(sizo.id), moved_on)

    notice = notice_on(client, letter)
    assert notice is not None
    assert "Sent to an address the prisoner had already left" in notice
    assert (
        f"Your letter was sent on {shown(TODAY - timedelta(days=5))} to {colony.name}, "
        f"but this person had been moved from there on {shown(moved_on)}." in notice
    )
    check_by = TODAY - timedelta(days=5) + timedelta(weeks=6)  # counted from the sending
    assert f"If there is none by {shown(check_by)}" in notice


def test_move_into_transit_advises_to_follow_the_prisoner(client, organizer, colony):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    letter = sent_letter(prisoner, TODAY - timedelta(days=12))
    record_transfer(client, organizer, prisoner, "transit", TODAY - timedelta(days=3))
    notice = notice_on(client, letter)
    assert "They are in transit now: the new address is not known yet." in notice
    assert "Follow the prisoner's page" in notice
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert f'href="/prisoners/{prisoner.id}#follow"' in html


def test_long_wait_without_news_says_send_again(client, organizer, colony, sizo):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=400))
    letter = sent_letter(prisoner, TODAY - timedelta(days=118))
    moved_on = TODAY - timedelta(days=100)
    record_transfer(client, organizer, prisoner, str(sizo.id), moved_on)
    notice = notice_on(client, letter)
    assert (
        f"It is past {shown(moved_on + timedelta(weeks=6))} and there is no news: "
        "send the letter again to the new address." in notice
    )


def test_appeals_are_not_flagged(client, organizer, colony, sizo):
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200))
    appeal = make_letter(
        prisoner,
        written=TODAY - timedelta(days=13),
        kind=TemplateKind.APPEAL,
        official=make_official(colony),
    )
    add_event(appeal, EventKind.SENT, TODAY - timedelta(days=12), Channel.REGISTERED)
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    assert notice_on(client, appeal) is None


def test_back_in_the_same_facility_is_not_a_move_away(app, colony, sizo):
    prisoner = make_prisoner(colony, since=date(2024, 1, 1))
    prisoner.placements[0].ended_on = date(2024, 3, 1)
    prisoner.placements.extend(
        [
            Placement(facility=sizo, started_on=date(2024, 3, 1), ended_on=date(2024, 4, 1)),
            Placement(facility=colony, started_on=date(2024, 4, 1)),
        ]
    )
    db.session.commit()
    assert find_move_away(colony.id, prisoner.placements) is None
    left, current = find_move_away(sizo.id, prisoner.placements)
    assert left.facility == sizo and current.facility == colony


def test_history_that_stops_is_not_a_transfer(app, colony):
    prisoner = make_prisoner(colony, since=date(2024, 1, 1), status=PrisonerStatus.RELEASED)
    prisoner.placements[0].ended_on = date(2024, 3, 1)  # released: no next placement
    db.session.commit()
    assert find_move_away(colony.id, prisoner.placements) is None


# --- languages ------------------------------------------------------------------------------


def test_pages_render_in_english_and_russian(client, organizer, travellers, colony, sizo):
    long_gone, _recent = travellers
    prisoner = make_prisoner(colony, since=TODAY - timedelta(days=200), last_name="Смирнов")
    letters = [sent_letter(prisoner, TODAY - timedelta(days=days)) for days in (12, 118)]
    record_transfer(client, organizer, prisoner, str(sizo.id), TODAY - timedelta(days=10))
    urls = [
        f"/prisoners/{prisoner.id}",
        f"/prisoners/{long_gone.id}",
        "/prisoners/in-transit",
        *(f"/t/{letter.token}" for letter in letters),
    ]
    for language in ("en", "ru"):
        for url in urls:
            response = client.get(url, headers={"Accept-Language": language})
            assert response.status_code == 200, (language, url)
            html = response.get_data(as_text=True)
            assert f'<html lang="{language}">' in html
    russian = client.get("/prisoners/in-transit", headers={"Accept-Language": "ru"})
    assert "Политзаключённые" in russian.get_data(as_text=True)  # the catalog is in use
