"""Every report can be undone: the link holder corrects or withdraws what they reported, on the
tracking page and through the API, and the statistics follow; a same-day arrival or reply by
post needs confirming first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, EventKind, LetterOutcome, LetterStatus, MailEvent
from app.stats import services as stats
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import (
    add_event,
    make_facility,
    make_letter,
    make_posted_mailroom_letter,
    make_prisoner,
)

pytestmark = pytest.mark.both_databases

TODAY = date.today()
SENT_ON = TODAY - timedelta(days=25)


@pytest.fixture
def facility(app):
    return make_facility()


@pytest.fixture
def letter(facility):
    """A letter sent by post 25 days ago and reported arrived 12 days later, to a facility
    four other letters reached in 10, 10, 20 and 20 days: its median is 12 days."""
    prisoner = make_prisoner(facility)
    for days in (10, 10, 20, 20):
        other = make_letter(prisoner, written=TODAY - timedelta(days=60))
        add_event(other, EventKind.SENT, TODAY - timedelta(days=50), Channel.POST)
        add_event(other, EventKind.ARRIVED, TODAY - timedelta(days=50 - days))
    letter = make_letter(prisoner, written=TODAY - timedelta(days=30))
    add_event(letter, EventKind.SENT, SENT_ON, Channel.POST)
    add_event(letter, EventKind.ARRIVED, SENT_ON + timedelta(days=12), note="по трекингу")
    return letter


def _event(letter, kind: EventKind) -> MailEvent:
    return db.session.scalars(
        select(MailEvent).where(MailEvent.letter_id == letter.id, MailEvent.kind == kind)
    ).one()


def _median(facility) -> float | None:
    db.session.expire_all()
    return stats.facility_figures(facility.id).median_days_to_delivery


def _correct(client, letter, event_id, **fields):
    url = f"/t/{letter.token}/events/{event_id}/correct"
    return submit(client, url, {"tracking_number": "", "note": "", **fields})


def test_correcting_a_date_changes_the_delay_and_the_facility_figures(client, letter, facility):
    assert _median(facility) == 12.0
    arrived = _event(letter, EventKind.ARRIVED)
    page = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert f"/t/{letter.token}/events/{arrived.id}/correct" in page
    assert "It took 12 days to arrive." in page_text(client.get(f"/t/{letter.token}"))

    form = client.get(f"/t/{letter.token}/events/{arrived.id}/correct")
    assert "по трекингу" in form.get_data(as_text=True)  # the note as it is, to edit
    new_date = (SENT_ON + timedelta(days=20)).isoformat()
    response = _correct(client, letter, arrived.id, happened_on=new_date, note="по трекингу")
    assert response.status_code == 302
    shown = follow(client, response)
    assert flashed(shown) == ["Your report was corrected."]
    assert "It took 20 days to arrive." in page_text(shown)
    assert _median(facility) == 20.0  # 10 10 20 20 20
    outcome = db.session.get(LetterOutcome, letter.id)
    assert outcome is not None and outcome.days_to_delivery == 20


def test_withdrawing_a_report_takes_the_status_and_the_figures_back(client, letter, facility):
    arrived_id = _event(letter, EventKind.ARRIVED).id
    confirm = client.get(f"/t/{letter.token}/events/{arrived_id}/withdraw")
    assert "The report is deleted" in page_text(confirm)
    response = submit(client, f"/t/{letter.token}/events/{arrived_id}/withdraw")
    assert flashed(follow(client, response)) == ["Your report was withdrawn."]
    db.session.expire_all()
    assert db.session.get(MailEvent, arrived_id) is None
    assert letter.status is LetterStatus.SENT
    figures = stats.facility_figures(facility.id)
    assert (figures.delivered, figures.delivery_sample) == (4, 4)
    assert figures.median_days_to_delivery is None  # four reports are not enough

    # "Sent" can go now that nothing needs it; the letter is only written again.
    sent = _event(letter, EventKind.SENT)
    response = submit(client, f"/t/{letter.token}/events/{sent.id}/withdraw")
    assert response.status_code == 302
    db.session.expire_all()
    assert letter.status is LetterStatus.WRITTEN
    assert db.session.get(LetterOutcome, letter.id) is None


def test_sent_is_withdrawn_last(client, letter):
    sent = _event(letter, EventKind.SENT)
    page = page_text(client.get(f"/t/{letter.token}/events/{sent.id}/withdraw"))
    assert "Withdraw the later reports first" in page
    response = client.post(f"/t/{letter.token}/events/{sent.id}/withdraw", data={})
    assert response.status_code == 400  # no form, no CSRF token
    db.session.expire_all()
    assert db.session.get(MailEvent, sent.id) is not None


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        (EventKind.ARRIVED, {"happened_on": (TODAY + timedelta(days=1)).isoformat()},
         "This date is in the future."),
        (EventKind.ARRIVED, {"happened_on": (SENT_ON - timedelta(days=1)).isoformat()},
         "This cannot be before the letter was sent"),
        (EventKind.SENT, {"happened_on": (SENT_ON + timedelta(days=13)).isoformat(),
                          "channel": "post"},
         "the letter cannot have been sent after it"),
        (EventKind.ARRIVED, {"happened_on": SENT_ON.isoformat()},
         "cannot usually arrive, or be answered, on the day it was sent"),
        (EventKind.ARRIVED, {"happened_on": SENT_ON.isoformat(), "tracking_number": "12345"},
         "cannot usually arrive"),
    ],
)  # fmt: skip
def test_refused_corrections_keep_what_was_typed(client, letter, kind, fields, message):
    event = _event(letter, kind)
    response = _correct(client, letter, event.id, note="исправленная заметка", **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in page_text(response)
    assert "исправленная заметка" in html
    db.session.expire_all()
    assert _event(letter, kind).happened_on == event.happened_on  # nothing changed


def test_a_same_day_arrival_is_accepted_once_confirmed(client, letter, facility):
    arrived = _event(letter, EventKind.ARRIVED)
    refused = _correct(client, letter, arrived.id, happened_on=SENT_ON.isoformat())
    assert refused.status_code == 422
    assert "Yes, it really was the same day" in page_text(refused)
    assert _median(facility) == 12.0  # no 0-day delay without the confirmation
    accepted = _correct(
        client, letter, arrived.id, happened_on=SENT_ON.isoformat(), confirm_same_day="y"
    )
    assert accepted.status_code == 302
    assert _median(facility) == 10.0  # 0 10 10 20 20, as the writer confirmed


def test_organisation_reports_cannot_be_changed_by_the_writer(client, app):
    letter, token, _item = make_posted_mailroom_letter(make_prisoner(make_facility()))
    sent = letter.events[0]
    page = page_text(client.get(f"/t/{token}"))
    assert "Recorded by the organisation; it cannot be changed here." in page
    assert f"/t/{token}/events/{sent.id}/correct" not in client.get(f"/t/{token}").get_data(
        as_text=True
    )
    form = page_text(client.get(f"/t/{token}/events/{sent.id}/correct"))
    assert "The organisation recorded this report" in form
    response = client.patch(
        f"/api/v1/letters/{token}/events/{sent.id}", json={"date": TODAY.isoformat()}
    )
    assert response.status_code == 422
    assert response.get_json()["field"] == "event"
    assert client.delete(f"/api/v1/letters/{token}/events/{sent.id}").status_code == 422
    db.session.expire_all()
    assert db.session.get(MailEvent, sent.id) is not None


# --- reporting: the same day by post -------------------------------------------------------


def _report(client, letter, **fields):
    data = {"channel": "", "tracking_number": "", "note": "", **fields}
    return submit(client, f"/t/{letter.token}", data, action=f"/t/{letter.token}/events")


def test_a_same_day_reply_by_post_is_refused_until_confirmed(client, facility):
    letter = make_letter(make_prisoner(facility), written=TODAY - timedelta(days=5))
    add_event(letter, EventKind.SENT, TODAY, Channel.POST)
    refused = _report(client, letter, kind="reply", happened_on=TODAY.isoformat(), note="ответ")
    assert refused.status_code == 422
    text = page_text(refused)
    assert "cannot usually arrive, or be answered, on the day it was sent" in text
    assert "Yes, it really was the same day" in text
    assert "ответ" in refused.get_data(as_text=True)
    accepted = _report(
        client, letter, kind="reply", happened_on=TODAY.isoformat(), confirm_same_day="y"
    )
    assert accepted.status_code == 302
    db.session.expire_all()
    assert letter.status is LetterStatus.ANSWERED


def test_electronic_letters_may_be_answered_the_same_day(client, facility):
    letter = make_letter(make_prisoner(facility), written=TODAY - timedelta(days=5))
    add_event(letter, EventKind.SENT, TODAY, Channel.ELECTRONIC)
    response = _report(client, letter, kind="reply", happened_on=TODAY.isoformat())
    assert response.status_code == 302


# --- the API -----------------------------------------------------------------------------


def test_the_api_lists_events_with_ids_and_corrects_one(client, letter, facility):
    arrived = _event(letter, EventKind.ARRIVED)
    events = client.get(f"/api/v1/letters/{letter.token}").get_json()["events"]
    assert [event["id"] for event in events] == [_event(letter, EventKind.SENT).id, arrived.id]

    new_date = (SENT_ON + timedelta(days=20)).isoformat()
    response = client.patch(
        f"/api/v1/letters/{letter.token}/events/{arrived.id}", json={"date": new_date}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "delivered"
    assert body["event"]["date"] == new_date
    assert body["event"]["note"] == "по трекингу"  # what was not sent stays
    assert _median(facility) == 20.0
    delays = client.get(f"/api/v1/letters/{letter.token}").get_json()["delays"]
    assert delays["days_to_delivery"] == 20

    refused = client.patch(
        f"/api/v1/letters/{letter.token}/events/{arrived.id}",
        json={"date": (TODAY + timedelta(days=2)).isoformat()},
    )
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "date"


def test_the_api_withdraws_an_event_and_404s_another_letters(client, letter, facility):
    arrived = _event(letter, EventKind.ARRIVED)
    other = make_letter(letter.prisoner, written=TODAY - timedelta(days=3))
    other_url = f"/api/v1/letters/{other.token}/events/{arrived.id}"
    assert client.delete(other_url).status_code == 404
    assert client.patch(other_url, json={"note": "x"}).status_code == 404
    unknown = f"/api/v1/letters/{letter.token}/events/999999"
    assert client.delete(unknown).status_code == 404

    sent = _event(letter, EventKind.SENT)
    refused = client.delete(f"/api/v1/letters/{letter.token}/events/{sent.id}")
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "event"

    response = client.delete(f"/api/v1/letters/{letter.token}/events/{arrived.id}")
    assert response.status_code == 200
    assert response.get_json() == {"status": "sent"}
    assert stats.facility_figures(facility.id).delivery_sample == 4


def test_the_api_refuses_a_same_day_arrival_until_confirmed(client, facility):
    letter = make_letter(make_prisoner(facility), written=TODAY - timedelta(days=5))
    add_event(letter, EventKind.SENT, TODAY, Channel.REGISTERED)
    url = f"/api/v1/letters/{letter.token}/events"
    report = {"kind": "arrived", "date": TODAY.isoformat()}
    refused = client.post(url, json=report)
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "confirm_same_day"
    accepted = client.post(url, json={**report, "confirm_same_day": True})
    assert accepted.status_code == 201
    assert accepted.get_json()["status"] == "delivered"
