"""The tracking page: reporting events, status derived from them, printing."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, EventKind, LetterStatus, MailEvent, Placement
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import add_event, make_facility, make_letter, make_prisoner

# Writes that must hold on both databases: each test runs on SQLite, then on PostgreSQL.
pytestmark = pytest.mark.both_databases

TODAY = date.today()
TOMORROW = (TODAY + timedelta(days=1)).isoformat()
BEFORE_WRITING = (TODAY - timedelta(days=40)).isoformat()


@pytest.fixture
def letter(app):
    prisoner = make_prisoner(make_facility())
    return make_letter(prisoner, written=TODAY - timedelta(days=30))


def report(client, letter, **fields):
    data = {"channel": "", "tracking_number": "", "note": "", **fields}
    return submit(client, f"/t/{letter.token}", data, action=f"/t/{letter.token}/events")


def test_tracking_page_shows_letter_status_and_next_step(client, letter):
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert "Пишу Вам из Тбилиси." in html
    assert "Written, not sent yet" in html
    assert "report “Sent” here" in html


def test_unknown_or_malformed_token_is_404(client, letter):
    for url in ("/t/" + "A" * 43, "/t/short", "/t/short/pdf"):
        response = client.get(url)
        assert response.status_code == 404
        assert "There is nothing here." in page_text(response)
        assert "Пишу Вам из Тбилиси." not in page_text(response)


def test_report_sent_then_arrived_then_reply(client, letter):
    sent_on = TODAY - timedelta(days=20)
    response = report(
        client,
        letter,
        kind="sent",
        happened_on=sent_on.isoformat(),
        channel="registered",
        tracking_number="RA 123456785 RU",
    )
    assert response.status_code == 302
    assert flashed(follow(client, response)) == ["Thank you. Your report was recorded."]
    db.session.refresh(letter)
    assert letter.status is LetterStatus.SENT
    assert letter.events[0].tracking_number == "RA123456785RU"
    assert letter.events[0].channel is Channel.REGISTERED
    # A link to follow it at the post office, which sends it no referrer (the page's link).
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert 'href="https://www.pochta.ru/tracking?barcode=RA123456785RU"' in html
    assert 'rel="noopener noreferrer"' in html

    report(client, letter, kind="arrived", happened_on=(sent_on + timedelta(days=9)).isoformat())
    report(client, letter, kind="reply", happened_on=(sent_on + timedelta(days=19)).isoformat())
    db.session.refresh(letter)
    assert letter.status is LetterStatus.ANSWERED
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert "It took 9 days to arrive." in html
    assert "The reply came 19 days after sending." in html
    assert 'id="letter-status">Answered' in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "sent", "happened_on": TOMORROW, "channel": "post"},
         "This date is in the future."),
        ({"kind": "sent", "happened_on": BEFORE_WRITING, "channel": "post"},
         "this cannot have happened before"),
        ({"kind": "reply", "happened_on": TODAY.isoformat()},
         "First report when and how the letter was sent."),
        ({"kind": "sent", "happened_on": TODAY.isoformat()}, "Choose how the letter was sent."),
        ({"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "registered",
          "tracking_number": "RA123456789RU"}, "check digit"),
        ({"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "registered",
          "tracking_number": "12345"}, "14 digits"),
        ({"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "registered",
          "tracking_number": "80085292573411"}, "check digit"),
        ({"kind": "sent", "happened_on": "2026-02-30", "channel": "post"}, "Not a valid date"),
    ],
)  # fmt: skip
def test_impossible_reports_are_refused_with_the_reason(client, letter, fields, message):
    response = report(client, letter, note="мой комментарий", **fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "мой комментарий" in html  # what was typed is kept
    assert db.session.scalars(select(MailEvent)).all() == []


def test_reply_before_sending_is_refused(client, letter):
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=10), Channel.POST)
    response = report(
        client, letter, kind="reply", happened_on=(TODAY - timedelta(days=12)).isoformat()
    )
    assert response.status_code == 422
    assert "This cannot be before the letter was sent" in response.get_data(as_text=True)


def test_returned_needs_a_reason(client, letter):
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=10), Channel.POST)
    response = report(client, letter, kind="returned", happened_on=TODAY.isoformat())
    assert response.status_code == 422
    assert "Say briefly what happened" in response.get_data(as_text=True)
    response = report(
        client, letter, kind="returned", happened_on=TODAY.isoformat(), note="адресат выбыл"
    )
    assert response.status_code == 302
    db.session.refresh(letter)
    assert letter.status is LetterStatus.RETURNED


def test_report_without_csrf_is_refused(client, letter):
    response = client.post(
        f"/t/{letter.token}/events",
        data={"kind": "sent", "happened_on": TODAY.isoformat(), "channel": "post"},
    )
    assert response.status_code == 400
    assert "This form has expired or was sent from somewhere else." in page_text(response)
    assert db.session.scalars(select(MailEvent)).all() == []


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(data))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_pdf_has_letter_and_envelope_with_dative_name(client, letter):
    response = client.get(f"/t/{letter.token}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "konvert-letter.pdf" in response.headers["Content-Disposition"]
    reader, text = pdf_text(response.data)
    assert "Пишу Вам из Тбилиси." in text
    assert "Горинову Алексею Александровичу, 1961 г.р." in text
    assert "ФКУ ИК-3 УФСИН России по Владимирской области" in text
    assert "601120" in text
    assert "РОССИЯ / RUSSIA" not in text
    envelope = reader.pages[-1].mediabox
    assert round(float(envelope.width) / 72 * 25.4) == 220
    assert round(float(envelope.height) / 72 * 25.4) == 110


@pytest.mark.parametrize(("size", "width_mm", "pages"), [("c5", 229, 2), ("none", 210, 1)])
def test_pdf_envelope_choice(client, letter, size, width_mm, pages):
    reader, _ = pdf_text(client.get(f"/t/{letter.token}/pdf?envelope={size}").data)
    assert len(reader.pages) == pages
    assert round(float(reader.pages[-1].mediabox.width) / 72 * 25.4) == width_mm


def test_pdf_unknown_envelope_is_400(client, letter):
    response = client.get(f"/t/{letter.token}/pdf?envelope=a3")
    assert response.status_code == 400
    assert "The request could not be understood." in page_text(response)


def test_pdf_with_return_address_from_abroad_which_is_not_stored(app, client, letter):
    response = submit(
        client,
        f"/t/{letter.token}",
        {
            "envelope": "dl",
            "sender_name": "Анна Смирнова",
            "sender_address": "Hauptstraße 5\n10115 Berlin",
            "sender_country": "Germany",
        },
        action=f"/t/{letter.token}/pdf",
    )
    assert response.status_code == 200
    _, text = pdf_text(response.data)
    assert "Hauptstraße 5" in text
    assert "10115 Berlin\nGermany" in text  # the sender's country ends the return address
    assert "Анна Смирнова" in text
    assert text.rstrip().endswith("РОССИЯ / RUSSIA")
    db.session.remove()
    db.engine.dispose()
    stored = b"".join(path.read_bytes() for path in Path(app.instance_path).glob("konvert.db*"))
    assert "Hauptstraße".encode() not in stored
    assert "Анна Смирнова".encode() not in stored


def test_letter_to_a_prisoner_in_transit_prints_without_envelope(client, app):
    prisoner = make_prisoner(None)
    prisoner.placements.append(Placement(facility=None, started_on=TODAY - timedelta(days=5)))
    db.session.commit()
    letter = make_letter(prisoner, facility=None)
    reader, _ = pdf_text(client.get(f"/t/{letter.token}/pdf").data)
    assert len(reader.pages) == 1
    assert "No address is known" in client.get(f"/t/{letter.token}").get_data(as_text=True)


def transfer(prisoner):
    old = prisoner.current_placement
    old.ended_on = TODAY - timedelta(days=3)
    new = make_facility(code="ИК-6", name="ФКУ ИК-6 УФСИН России по Республике Коми",
                        region="Республика Коми", postcode="169840", locality="г. Инта",
                        street_address="ул. Лесная, д. 1")  # fmt: skip
    prisoner.placements.append(Placement(facility=new, started_on=TODAY - timedelta(days=3)))
    db.session.commit()


def test_sent_letter_keeps_the_facility_it_was_sent_to_after_a_transfer(client, letter):
    add_event(letter, EventKind.SENT, TODAY - timedelta(days=10), Channel.POST)
    transfer(letter.prisoner)
    _, text = pdf_text(client.get(f"/t/{letter.token}/pdf").data)
    assert "ФКУ ИК-3 УФСИН России по Владимирской области" in text
    assert "Республике Коми" not in text


def test_unsent_letter_goes_to_the_new_facility_and_is_counted_there(client, letter):
    transfer(letter.prisoner)
    _, text = pdf_text(client.get(f"/t/{letter.token}/pdf").data)
    assert "ФКУ ИК-6 УФСИН России по Республике Коми" in text
    report(client, letter, kind="sent", happened_on=TODAY.isoformat(), channel="post")
    db.session.refresh(letter)
    assert letter.facility.code == "ИК-6"


@pytest.mark.parametrize(
    ("body", "expected_count"),
    [("Дорогой Алексей!\n\nВсего доброго,\nАня\n", 1), ("Дорогой Алексей!\n\nВсего доброго!", 1)],
)
def test_signature_is_printed_once(client, app, body, expected_count):
    letter = make_letter(make_prisoner(make_facility()), body=body, signature="Аня")
    _, text = pdf_text(client.get(f"/t/{letter.token}/pdf?envelope=none").data)
    assert text.count("Аня") == expected_count
    html = client.get(f"/t/{letter.token}").get_data(as_text=True)
    assert html.count("Аня") == 3  # "signed …", the letter, the name on the print form


def test_print_form_without_csrf_is_refused(client, letter):
    response = client.post(f"/t/{letter.token}/pdf", data={"envelope": "dl"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "This form has expired or was sent from somewhere else." in page_text(response)


def test_print_form_with_bad_input_keeps_what_was_typed(client, letter):
    response = submit(
        client,
        f"/t/{letter.token}",
        {
            "envelope": "a3",
            "sender_name": "Анна",
            "sender_address": "Hauptstraße 5",
            "sender_country": "Germany",
        },
        action=f"/t/{letter.token}/pdf",
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not a valid choice" in html
    assert "Hauptstraße 5" in html
