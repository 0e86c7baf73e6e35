"""The writer's side of the mailroom: "How will it travel?", handing the letter over, its
limits, the tracking page through every mailroom state, resubmission and the news email."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.mail.services import confirm_address, subscribe_to_reminders
from app.mailroom import services as mailroom
from app.mailroom.organisation import organisation_for_update
from app.mailroom.reference import format_reference, is_valid_reference
from app.models import (
    Letter,
    MailroomItem,
    MailroomState,
    OutboxMessage,
    ReminderSubscription,
    Role,
)
from app.models.mailroom import ReturnReason
from app.privacy.crypto import CannotDecrypt, letter_keys, open_sealed
from app.tokens import new_tracking_token
from tests.conftest import flashed, follow, page_text, submit
from tests.factories import make_facility, make_letter, make_official, make_prisoner, make_user
from tests.mailbox import sent_mail

pytestmark = pytest.mark.both_databases

BODY = "Дорогой Алексей!\n\nПишу Вам из Тбилиси. У нас тепло, цветут абрикосы.\n"
NEXT_RUN = date.today() + timedelta(days=5)


def open_mailroom(**settings: object) -> None:
    organisation = organisation_for_update()
    organisation.name = "Письма свободы"
    organisation.return_address = "а/я 15\nг. Москва"
    organisation.postcode = "101000"
    organisation.mailroom_open = True
    organisation.next_run_on = NEXT_RUN
    for name, value in settings.items():
        setattr(organisation, name, value)
    db.session.commit()


@pytest.fixture
def prisoner(app):
    return make_prisoner(make_facility(), notes_for_writers="Любит письма о природе.")


@pytest.fixture
def reviewer(app):
    return make_user(email="volunteer@example.org", role=Role.MAILROOM)


def write(client, prisoner, delivery: str | None = "organisation", body: str = BODY):
    data = {"template_id": "None", "language": "ru", "signature": "Аня", "body": body}
    if delivery is not None:
        data["delivery"] = delivery
    data["save"] = "1"
    return submit(client, f"/prisoners/{prisoner.id}/write", data)


def token_of(response) -> str:
    location = response.headers["Location"]
    return location.split("/t/", 1)[1].split("?", 1)[0]


def item_of(token: str) -> MailroomItem:
    from app.models.letter import letter_link_hash

    letter = db.session.scalar(select(Letter).where(Letter.token_hash == letter_link_hash(token)))
    assert letter is not None
    item = mailroom.item_for(letter)
    assert item is not None
    return item


def handed_letter(prisoner, body: str = BODY, language: str = "ru") -> Letter:
    """A letter sent through the organisation, as the write page hands it over."""
    letter = make_letter(prisoner, body=body, language=language)
    letter.unlock(letter.token)
    mailroom.hand_to_organisation(letter)
    db.session.commit()
    return letter


def test_the_write_page_offers_the_mailroom_only_when_it_is_open(client, prisoner):
    closed = page_text(client.get(f"/prisoners/{prisoner.id}/write"))
    assert "How will it travel?" not in closed
    open_mailroom()
    page = page_text(client.get(f"/prisoners/{prisoner.id}/write"))
    assert "How will it travel?" in page
    assert "I print and post it" in page
    assert "Send it through Письма свободы" in page
    # What happens next, what it costs, and who reads it.
    assert "waits for a volunteer of Письма свободы" in page
    assert "pays for the paper, the envelope and the stamp" in page
    assert "the organisation's volunteers, until it is posted; then the prison censor" in page
    html = client.get(f"/prisoners/{prisoner.id}/write").get_data(as_text=True)
    radio = re.search(r'<input[^>]*value="self"[^>]*>', html)
    assert radio and "checked" in radio.group(0)  # printing it yourself is the default


def test_no_mailroom_for_appeals_nor_without_an_address(client, prisoner):
    open_mailroom()
    official = make_official(prisoner.current_facility)
    appeal = page_text(client.get(f"/prisoners/{prisoner.id}/appeal/{official.id}"))
    assert "How will it travel?" not in appeal
    in_transit = make_prisoner(None, last_name="Иванов", first_name="Пётр", patronymic=None)
    page = page_text(client.get(f"/prisoners/{in_transit.id}/write"))
    assert "How will it travel?" not in page


def test_a_letter_sent_through_the_organisation_waits_for_review(client, prisoner):
    open_mailroom()
    response = write(client, prisoner)
    assert response.status_code == 302
    token = token_of(response)
    with db.session.no_autoflush:
        item = item_of(token)
        assert item.state is MailroomState.REVIEW
        assert is_valid_reference(item.reference)
        assert item.letter.organisers_key is not None  # the volunteers can read it
        assert item.letter.unlock_for_organisers() and "абрикосы" in item.letter.body
        reference = format_reference(item.reference)
    page = page_text(client.get(f"/t/{token}"))
    assert f"Reference code: {reference}" in page
    assert "Waiting for review" in page
    assert "Your letter is next in the queue for review." in page
    assert "The next print run is planned for" in page
    # No "print it yourself" controls, and no "report sent" while the mailroom has it.
    assert "Download PDF with a DL envelope" not in page
    assert "Report what happened" not in page
    assert "Until it is posted, the organisation's volunteers can read your letter" in page


def test_the_default_is_to_print_and_post_it_yourself(client, prisoner):
    open_mailroom()
    response = write(client, prisoner, delivery=None)
    token = token_of(response)
    assert db.session.scalar(select(func.count(MailroomItem.id))) == 0
    page = page_text(client.get(f"/t/{token}"))
    assert "Download PDF with a DL envelope" in page
    assert "Reference code" not in page


def test_the_queue_position_counts_the_letters_waiting_before(app, prisoner):
    open_mailroom()
    first, second = handed_letter(prisoner), handed_letter(prisoner)
    one, two = mailroom.item_for(first), mailroom.item_for(second)
    assert mailroom.queue_position(one) == 1
    assert mailroom.queue_position(two) == 2


def test_the_pdf_carries_the_reference_and_the_organisations_return_address(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner))
    reference = format_reference(item_of(token).reference)
    response = client.get(f"/t/{token}/pdf")
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert reference in text
    assert "укажите в ответе код" in text
    assert "Письма свободы" in text and "а/я 15" in text and "101000" in text


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("daily_intake_cap", "The organisation has taken all the letters it can handle today"),
        ("prisoner_daily_cap", "This person has already been sent as many letters"),
    ],
)
def test_the_daily_caps_refuse_with_a_clear_message_and_keep_the_text(
    client, prisoner, setting, message
):
    open_mailroom(**{setting: 1})
    assert write(client, prisoner).status_code == 302
    refused = write(client, prisoner, body=BODY + "\nВторое письмо.")
    assert refused.status_code == 422
    page = page_text(refused)
    assert message in page
    assert "Второе письмо." in refused.get_data(as_text=True)  # nothing typed is lost
    assert db.session.scalar(select(func.count(Letter.id))) == 1  # nor saved half-way
    # Printing it yourself is still possible at once.
    assert write(client, prisoner, delivery="self", body=BODY + "\nВторое.").status_code == 302


def test_the_intake_cap_counts_every_prisoner_and_the_prisoner_cap_only_theirs(app, prisoner):
    open_mailroom(prisoner_daily_cap=1, daily_intake_cap=2)
    handed_letter(prisoner)
    other = make_prisoner(prisoner.current_facility, last_name="Скочиленко", first_name="Саша")
    handed_letter(other)  # another prisoner: their own cap
    third = make_prisoner(prisoner.current_facility, last_name="Петров", first_name="Иван")
    letter = make_letter(third)
    letter.unlock(letter.token)
    with pytest.raises(Exception, match="all the letters it can handle today"):
        mailroom.hand_to_organisation(letter)


def test_a_closed_mailroom_refuses_a_letter_sent_from_a_page_opened_before(client, prisoner):
    open_mailroom()
    page = client.get(f"/prisoners/{prisoner.id}/write")
    organisation_for_update().mailroom_open = False
    db.session.commit()
    data = {"template_id": "None", "language": "ru", "signature": "Аня", "body": BODY}
    refused = submit(
        client, page, {**data, "delivery": "organisation", "save": "1"},
        action=f"/prisoners/{prisoner.id}/write",
    )  # fmt: skip
    assert refused.status_code == 422
    assert "The organisation is not taking letters now" in page_text(refused)
    assert db.session.scalar(select(func.count(Letter.id))) == 0


def test_a_sent_back_letter_shows_the_reason_and_can_be_resubmitted(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    item = item_of(token)
    mailroom.decide(reviewer, item, mailroom.Decision.SEND_BACK, "Уберите, пожалуйста, про суд.")
    db.session.commit()
    db.session.expire_all()
    # Back with its writer, the letter is not the organisation's to read.
    assert item_of(token).letter.organisers_key is None
    page = client.get(f"/t/{token}")
    assert "Sent back to the writer" in page_text(page)
    assert "Уберите, пожалуйста, про суд." in page_text(page)
    assert "You can send it for review again 3 more times." in page_text(page)
    response = submit(
        client, page, {"body": "Дорогой Алексей!\n\nУ нас цветут абрикосы."},
        action=f"/t/{token}/resubmit",
    )  # fmt: skip
    assert response.status_code == 302
    assert "waiting for review again" in flashed(follow(client, response))[0]
    with db.session.no_autoflush:
        db.session.expire_all()
        item = item_of(token)
        assert item.state is MailroomState.REVIEW
        assert item.resubmissions == 1
        assert item.writer_reason_sealed is None
        letter = item.letter
        assert letter.unlock_for_organisers()  # the organisers' copy was renewed
        assert letter.body == "Дорогой Алексей!\n\nУ нас цветут абрикосы.\n"
    assert "Waiting for review" in page_text(client.get(f"/t/{token}"))


def test_at_most_three_resubmissions(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    for number in range(3):
        mailroom.decide(reviewer, item_of(token), mailroom.Decision.SEND_BACK, "Короче.")
        db.session.commit()
        page = client.get(f"/t/{token}")
        response = submit(client, page, {"body": f"Текст {number}"}, action=f"/t/{token}/resubmit")
        assert response.status_code == 302
        db.session.expire_all()
    mailroom.decide(reviewer, item_of(token), mailroom.Decision.SEND_BACK, "Ещё раз.")
    db.session.commit()
    page = client.get(f"/t/{token}")
    assert "This letter cannot be sent for review again" in page_text(page)
    refused = submit(client, page, {"body": "Текст 4"}, action=f"/t/{token}/resubmit")
    assert refused.status_code == 422
    assert "at most 3 times" in page_text(refused)
    db.session.expire_all()
    assert item_of(token).state is MailroomState.SENT_BACK


def test_an_empty_resubmission_is_refused(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    mailroom.decide(reviewer, item_of(token), mailroom.Decision.SEND_BACK, "Короче.")
    db.session.commit()
    refused = submit(client, f"/t/{token}", {"body": "  "}, action=f"/t/{token}/resubmit")
    assert refused.status_code == 422
    assert "The letter is empty." in page_text(refused)


def test_the_sent_back_reason_is_readable_only_with_the_link(app, prisoner, reviewer):
    open_mailroom()
    letter = handed_letter(prisoner)
    token = letter.token
    item = mailroom.item_for(letter)
    mailroom.decide(reviewer, item, mailroom.Decision.SEND_BACK, "Не пишите про войну.")
    db.session.commit()
    blob = bytes(item.writer_reason_sealed)
    assert "войну".encode() not in blob
    assert mailroom.writer_reason(item, token) == "Не пишите про войну."
    assert mailroom.writer_reason(item, new_tracking_token()) is None
    with pytest.raises(CannotDecrypt):
        open_sealed(letter_keys(new_tracking_token()).private_key, blob, context="x")


def test_every_later_state_is_shown_to_the_writer(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    item = item_of(token)
    mailroom.decide(reviewer, item, mailroom.Decision.APPROVE)
    db.session.commit()
    assert "Approved: it goes into the next print run." in page_text(client.get(f"/t/{token}"))
    mailroom.set_state(item, MailroomState.PRINTED)
    db.session.commit()
    assert "it will be posted soon" in page_text(client.get(f"/t/{token}"))
    item.posted_on = date(2026, 11, 30)
    mailroom.set_state(item, MailroomState.POSTED)
    db.session.commit()
    posted = page_text(client.get(f"/t/{token}"))
    assert "Posted on Nov 30, 2026." in posted
    assert "Download PDF with a DL envelope" not in posted
    item.returned_on = date(2026, 12, 5)
    item.return_reason = ReturnReason.MOVED
    mailroom.set_state(item, MailroomState.RETURNED)
    db.session.commit()
    returned = page_text(client.get(f"/t/{token}"))
    assert "The envelope came back to the organisation on Dec 5, 2026." in returned
    assert "The addressee has moved" in returned


def test_a_rejected_letter_is_told_kindly_without_the_reason(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    mailroom.decide(reviewer, item_of(token), mailroom.Decision.REJECT, "Оскорбления, спам.")
    db.session.commit()
    page = page_text(client.get(f"/t/{token}"))
    assert "We are sorry: the organisation cannot send this letter." in page
    assert "Оскорбления" not in page
    # Back to printing it yourself, without the organisation's code or address.
    assert "Download PDF with a DL envelope" in page
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(client.get(f"/t/{token}/pdf").data)).pages
    )
    assert "укажите в ответе код" not in text and "Письма свободы" not in text


def subscribe(
    token: str, email: str = "writer@example.org", confirmed: bool = True, language: str = "ru"
) -> None:
    """Leave an address for the letter's news, as a writer using the interface in
    ``language`` does (its emails come in that language)."""
    from app.tracking.services import get_letter

    letter = get_letter(token)
    subscription = subscribe_to_reminders(letter, email, language)
    if confirmed:
        confirm_address(subscription)
    db.session.commit()


def test_one_content_neutral_email_for_each_change(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    subscribe(token)
    item = item_of(token)
    mailroom.decide(reviewer, item, mailroom.Decision.APPROVE)
    db.session.commit()
    mailroom.set_state(item, MailroomState.PRINTED)
    db.session.commit()
    mailroom.set_state(item, MailroomState.PRINTED)  # no change, no news
    db.session.commit()
    news = sent_mail("letter_news", language="ru")  # in the language the writer used
    assert len(news) == 2
    for mail in news:
        assert mail.recipient == "writer@example.org"
        assert mail.subject == "Есть новости о вашем письме"
        assert f"/t/{token}" in mail.body_text
        assert "Горинов" not in mail.body_text and "Письма свободы" not in mail.body_text
        assert "абрикосы" not in mail.body_text
    assert db.session.scalar(select(func.count(ReminderSubscription.id))) == 1


def test_no_news_to_an_address_not_confirmed(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    subscribe(token, confirmed=False)
    mailroom.decide(reviewer, item_of(token), mailroom.Decision.APPROVE)
    db.session.commit()
    assert sent_mail("letter_news", language="ru") == []


def test_the_email_is_deleted_when_the_story_ends(client, prisoner, reviewer):
    open_mailroom()
    token = token_of(write(client, prisoner))
    subscribe(token)
    mailroom.decide(reviewer, item_of(token), mailroom.Decision.REJECT, "Спам.")
    db.session.commit()
    assert len(sent_mail("letter_news", language="ru")) == 1
    assert db.session.scalar(select(func.count(ReminderSubscription.id))) == 0
    assert db.session.scalar(
        select(func.count(OutboxMessage.id)).where(OutboxMessage.reminder_id.is_not(None))
    ) == 0  # fmt: skip


def test_the_tracking_page_offers_news_by_email(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner))
    page = page_text(client.get(f"/t/{token}"))
    assert "Email me when there is news" in page
    assert "There is news about your letter. Open your link." in page
    response = submit(
        client, f"/t/{token}", {"email": "writer@example.org"}, action=f"/t/{token}/reminders"
    )
    shown = follow(client, response)
    assert "Check your mailbox" in flashed(shown)[0]
    assert "Waiting for confirmation" in page_text(shown)
    assert "Email me when there is news" in page_text(shown)


def test_deleting_a_letter_in_review_withdraws_it_from_the_mailroom(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner))
    response = submit(client, f"/t/{token}/delete", {})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(MailroomItem.id))) == 0


def test_the_api_shows_how_a_letter_travels(client, prisoner):
    open_mailroom()
    token = token_of(write(client, prisoner))
    mine = client.get(f"/api/v1/letters/{token}").get_json()
    assert mine["delivery"] == "organisation"
    assert mine["mailroom_state"] == "review"
    assert mine["reference"] == format_reference(item_of(token).reference)
    assert mine["replies"] == []
    self_token = token_of(write(client, prisoner, delivery="self"))
    theirs = client.get(f"/api/v1/letters/{self_token}").get_json()
    assert theirs["delivery"] == "self"
    assert theirs["mailroom_state"] is None and theirs["reference"] is None
    assert theirs["replies"] == []
